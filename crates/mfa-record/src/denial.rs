//! Why an authentication was denied.

use core::fmt;
use core::str::FromStr;

use mfa_oath::UnixTime;

use crate::Error;

macro_rules! kinds {
    ($( $(#[$m:meta])* $kind:ident = $code:literal, $text:literal; )*) => {
        /// The kind of a [`DenialReason`], without its data: what reports
        /// count by and what the CSV `reason` column holds.
        ///
        /// Codes ([`DenialKind::as_str`]) are stable `snake_case` strings and
        /// are never reused for another meaning.
        ///
        /// ```
        /// use mfa_record::DenialKind;
        /// let k: DenialKind = "fraud_code_entered".parse()?;
        /// assert_eq!(k, DenialKind::FraudCodeEntered);
        /// assert_eq!(k.to_string(), "MFA denied, fraud code entered");
        /// # Ok::<(), mfa_record::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[non_exhaustive]
        pub enum DenialKind {
            $( $(#[$m])* $kind, )*
        }

        impl DenialKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [DenialKind] = &[$(DenialKind::$kind,)*];

            /// The stable code of the kind.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( DenialKind::$kind => $code, )*
                }
            }

            /// The administrator-facing text (the reference's wording where it
            /// has one).
            pub const fn description(self) -> &'static str {
                match self {
                    $( DenialKind::$kind => $text, )*
                }
            }
        }

        impl FromStr for DenialKind {
            type Err = Error;
            fn from_str(s: &str) -> Result<DenialKind, Error> {
                match s {
                    $( $code => Ok(DenialKind::$kind), )*
                    _ => Err(Error::invalid_value(s)),
                }
            }
        }
    };
}

kinds! {
    /// See [`DenialReason::NotActivated`].
    NotActivated = "not_activated", "Authentication request is not for an activated account";
    /// See [`DenialReason::UnknownUser`].
    UnknownUser = "unknown_user", "Unknown user";
    /// See [`DenialReason::UnknownToken`].
    UnknownToken = "unknown_token", "Unknown token";
    /// See [`DenialReason::CodeMalformed`].
    CodeMalformed = "code_malformed", "The code does not have the token's number of digits";
    /// See [`DenialReason::CodeWrong`].
    CodeWrong = "code_wrong", "The code is wrong or not valid at this time";
    /// See [`DenialReason::CodeReplayed`].
    CodeReplayed = "code_replayed", "The code was already used";
    /// See [`DenialReason::CodeExpired`].
    CodeExpired = "code_expired", "The one-time code has expired";
    /// See [`DenialReason::TimeBeforeT0`].
    TimeBeforeT0 = "time_before_t0", "The time is before the token's T0";
    /// See [`DenialReason::CounterExhausted`].
    CounterExhausted = "counter_exhausted", "The token's counter is exhausted";
    /// See [`DenialReason::TokenMisconfigured`].
    TokenMisconfigured = "token_misconfigured", "The token's configuration cannot be used";
    /// See [`DenialReason::WrongPin`].
    WrongPin = "wrong_pin", "Wrong PIN";
    /// See [`DenialReason::Declined`].
    Declined = "declined", "The user declined the request";
    /// See [`DenialReason::NoResponse`].
    NoResponse = "no_response", "No response from the user";
    /// See [`DenialReason::Locked`].
    Locked = "locked", "Account locked after too many MFA denials";
    /// See [`DenialReason::LockedUntilAdmin`].
    LockedUntilAdmin = "locked_until_admin", "Account locked until an administrator unblocks it";
    /// See [`DenialReason::FailureCapReached`].
    FailureCapReached = "failure_cap_reached", "Hard cap of consecutive failures reached; an administrator must unblock";
    /// See [`DenialReason::FraudBlocked`].
    FraudBlocked = "fraud_blocked", "User is blocked for MFA after a fraud report";
    /// See [`DenialReason::AdminBlocked`].
    AdminBlocked = "admin_blocked", "User is blocked for MFA by an administrator";
    /// See [`DenialReason::FraudCodeEntered`].
    FraudCodeEntered = "fraud_code_entered", "MFA denied, fraud code entered";
    /// See [`DenialReason::HighUserRisk`].
    HighUserRisk = "high_user_risk", "User risk is high";
    /// See [`DenialReason::MethodDisabled`].
    MethodDisabled = "method_disabled", "The method is disabled; the user must register again";
    /// See [`DenialReason::RegistrationRequired`].
    RegistrationRequired = "registration_required", "The user has not registered for MFA";
    /// See [`DenialReason::KeyOutsideValidity`].
    KeyOutsideValidity = "key_outside_validity", "The token's key is outside its validity period";
}

impl fmt::Display for DenialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// Why an authentication was denied, with the data that explains it.
///
/// Covers every rejection of `mfa-oath` verification (through
/// `From<&mfa_oath::Error>`), the lockout decisions (`Locked`,
/// `LockedUntilAdmin`, `FailureCapReached`), the fraud decisions
/// (`FraudBlocked`, `AdminBlocked`, `FraudCodeEntered`, `HighUserRisk`), the
/// errors the reference names (not an activated account, unknown token, code
/// expired, code already used) and the user's own answer (`Declined`,
/// `NoResponse`).
///
/// ```
/// use mfa_oath::{Totp, TotpParams, TotpState, Secret, UnixTime, Window};
/// use mfa_record::{DenialKind, DenialReason};
///
/// let totp = Totp::new(Secret::from_base32("JBSWY3DPEHPK3PXP")?, TotpParams::default());
/// let now = UnixTime::from_secs(1_700_000_000);
/// let err = totp.verify("12345", now, TotpState::default(), Window::TOTP_DEFAULT).unwrap_err();
/// let reason = DenialReason::from(&err);
/// assert_eq!(reason, DenialReason::CodeMalformed { expected_digits: 6 });
/// assert_eq!(reason.kind(), DenialKind::CodeMalformed);
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "reason", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DenialReason {
    /// "Authentication request is not for an activated account": the token
    /// or app was never activated, or was removed.
    NotActivated,
    /// No such user.
    UnknownUser,
    /// No such token.
    UnknownToken,
    /// The code does not have the token's number of digits or is not all
    /// digits (`mfa_oath::Error::CodeFormat`).
    CodeMalformed {
        /// The number of digits the token produces.
        expected_digits: u8,
    },
    /// The code matches no step or counter in the window: wrong, or not valid
    /// at this time (`mfa_oath::Error::CodeNotInWindow`, `ResyncFailed`).
    CodeWrong,
    /// The code was already used (`mfa_oath::Error::CodeReplayed`).
    CodeReplayed {
        /// The step or counter it matched.
        step: u64,
    },
    /// A one-time code (SMS) was entered after it expired.
    CodeExpired,
    /// The time is before the token's T0 (`mfa_oath::Error::TimeBeforeT0`).
    TimeBeforeT0 {
        /// The token's T0, Unix seconds.
        t0: u64,
    },
    /// The token's counter is exhausted (`mfa_oath::Error::CounterOverflow`).
    CounterExhausted,
    /// Any other `mfa_oath` error: the stored token cannot be used as
    /// configured.
    TokenMisconfigured,
    /// Wrong PIN.
    WrongPin,
    /// The user declined the call or app notification.
    Declined,
    /// The user did not answer in time.
    NoResponse,
    /// Locked after too many MFA denials, until a time (lockout).
    Locked {
        /// When the lock ends.
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_time"))]
        until: UnixTime,
    },
    /// Locked until an administrator unblocks (lockout with no automatic
    /// unblock).
    LockedUntilAdmin,
    /// The hard cap of consecutive failures is reached; only an
    /// administrator clears it (lockout).
    FailureCapReached,
    /// Blocked for MFA after the user reported fraud (fraud alert with
    /// auto-block).
    FraudBlocked {
        /// When the block expires, if it does.
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_time::option"))]
        until: Option<UnixTime>,
    },
    /// Blocked for MFA by an administrator.
    AdminBlocked {
        /// When the block expires, if it does.
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_time::option"))]
        until: Option<UnixTime>,
    },
    /// "MFA denied, fraud code entered": this very request was reported as
    /// fraud or suspicious activity.
    FraudCodeEntered,
    /// The user's risk is high (reported suspicious activity not remediated).
    HighUserRisk,
    /// The user's default method is disabled by policy; the user must
    /// register again.
    MethodDisabled,
    /// The user has no usable method registered.
    RegistrationRequired,
    /// The token's key is outside its validity period (RFC 6030 §5: PSKC
    /// `Policy/StartDate` and `Policy/ExpiryDate`): not yet valid or
    /// expired. Its code is not checked.
    KeyOutsideValidity,
}

impl DenialReason {
    /// The kind, without data.
    pub const fn kind(&self) -> DenialKind {
        match self {
            DenialReason::NotActivated => DenialKind::NotActivated,
            DenialReason::UnknownUser => DenialKind::UnknownUser,
            DenialReason::UnknownToken => DenialKind::UnknownToken,
            DenialReason::CodeMalformed { .. } => DenialKind::CodeMalformed,
            DenialReason::CodeWrong => DenialKind::CodeWrong,
            DenialReason::CodeReplayed { .. } => DenialKind::CodeReplayed,
            DenialReason::CodeExpired => DenialKind::CodeExpired,
            DenialReason::TimeBeforeT0 { .. } => DenialKind::TimeBeforeT0,
            DenialReason::CounterExhausted => DenialKind::CounterExhausted,
            DenialReason::TokenMisconfigured => DenialKind::TokenMisconfigured,
            DenialReason::WrongPin => DenialKind::WrongPin,
            DenialReason::Declined => DenialKind::Declined,
            DenialReason::NoResponse => DenialKind::NoResponse,
            DenialReason::Locked { .. } => DenialKind::Locked,
            DenialReason::LockedUntilAdmin => DenialKind::LockedUntilAdmin,
            DenialReason::FailureCapReached => DenialKind::FailureCapReached,
            DenialReason::FraudBlocked { .. } => DenialKind::FraudBlocked,
            DenialReason::AdminBlocked { .. } => DenialKind::AdminBlocked,
            DenialReason::FraudCodeEntered => DenialKind::FraudCodeEntered,
            DenialReason::HighUserRisk => DenialKind::HighUserRisk,
            DenialReason::MethodDisabled => DenialKind::MethodDisabled,
            DenialReason::RegistrationRequired => DenialKind::RegistrationRequired,
            DenialReason::KeyOutsideValidity => DenialKind::KeyOutsideValidity,
        }
    }

    /// The reason's number, if it carries one (the CSV `reason_detail`
    /// column): expected digits, replayed step, T0 or the Unix time a lock or
    /// block ends.
    pub const fn detail(&self) -> Option<u64> {
        match *self {
            DenialReason::CodeMalformed { expected_digits } => Some(expected_digits as u64),
            DenialReason::CodeReplayed { step } => Some(step),
            DenialReason::TimeBeforeT0 { t0 } => Some(t0),
            DenialReason::Locked { until } => Some(until.secs()),
            DenialReason::FraudBlocked { until } | DenialReason::AdminBlocked { until } => {
                match until {
                    Some(t) => Some(t.secs()),
                    None => None,
                }
            }
            _ => None,
        }
    }

    /// Rebuilds a reason from its kind and detail (the inverse of
    /// [`DenialReason::kind`] and [`DenialReason::detail`]).
    ///
    /// # Errors
    ///
    /// [`Error::InconsistentResult`] when the detail is missing for a kind
    /// that needs one, present for a kind that has none, or out of range.
    ///
    /// ```
    /// use mfa_oath::UnixTime;
    /// use mfa_record::{DenialKind, DenialReason};
    /// let r = DenialReason::Locked { until: UnixTime::from_secs(90) };
    /// assert_eq!(DenialReason::from_parts(r.kind(), r.detail())?, r);
    /// assert!(DenialReason::from_parts(DenialKind::Locked, None).is_err());
    /// # Ok::<(), mfa_record::Error>(())
    /// ```
    pub fn from_parts(kind: DenialKind, detail: Option<u64>) -> Result<DenialReason, Error> {
        let bad = Error::InconsistentResult;
        let reason = match (kind, detail) {
            (DenialKind::CodeMalformed, Some(d)) => DenialReason::CodeMalformed {
                expected_digits: u8::try_from(d).map_err(|_| bad)?,
            },
            (DenialKind::CodeReplayed, Some(step)) => DenialReason::CodeReplayed { step },
            (DenialKind::TimeBeforeT0, Some(t0)) => DenialReason::TimeBeforeT0 { t0 },
            (DenialKind::Locked, Some(t)) => DenialReason::Locked {
                until: UnixTime::from_secs(t),
            },
            (DenialKind::FraudBlocked, d) => DenialReason::FraudBlocked {
                until: d.map(UnixTime::from_secs),
            },
            (DenialKind::AdminBlocked, d) => DenialReason::AdminBlocked {
                until: d.map(UnixTime::from_secs),
            },
            (
                DenialKind::CodeMalformed
                | DenialKind::CodeReplayed
                | DenialKind::TimeBeforeT0
                | DenialKind::Locked,
                None,
            ) => return Err(bad),
            (_, Some(_)) => return Err(bad),
            (DenialKind::NotActivated, None) => DenialReason::NotActivated,
            (DenialKind::UnknownUser, None) => DenialReason::UnknownUser,
            (DenialKind::UnknownToken, None) => DenialReason::UnknownToken,
            (DenialKind::CodeWrong, None) => DenialReason::CodeWrong,
            (DenialKind::CodeExpired, None) => DenialReason::CodeExpired,
            (DenialKind::CounterExhausted, None) => DenialReason::CounterExhausted,
            (DenialKind::TokenMisconfigured, None) => DenialReason::TokenMisconfigured,
            (DenialKind::WrongPin, None) => DenialReason::WrongPin,
            (DenialKind::Declined, None) => DenialReason::Declined,
            (DenialKind::NoResponse, None) => DenialReason::NoResponse,
            (DenialKind::LockedUntilAdmin, None) => DenialReason::LockedUntilAdmin,
            (DenialKind::FailureCapReached, None) => DenialReason::FailureCapReached,
            (DenialKind::FraudCodeEntered, None) => DenialReason::FraudCodeEntered,
            (DenialKind::HighUserRisk, None) => DenialReason::HighUserRisk,
            (DenialKind::MethodDisabled, None) => DenialReason::MethodDisabled,
            (DenialKind::RegistrationRequired, None) => DenialReason::RegistrationRequired,
            (DenialKind::KeyOutsideValidity, None) => DenialReason::KeyOutsideValidity,
        };
        Ok(reason)
    }
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind().description())?;
        match *self {
            DenialReason::CodeMalformed { expected_digits } => {
                write!(f, " (expected {expected_digits} digits)")
            }
            DenialReason::CodeReplayed { step } => write!(f, " (step or counter {step})"),
            DenialReason::TimeBeforeT0 { t0 } => write!(f, " (T0 {t0})"),
            DenialReason::Locked { until } => write!(f, " (until {})", until.secs()),
            DenialReason::FraudBlocked { until: Some(t) }
            | DenialReason::AdminBlocked { until: Some(t) } => {
                write!(f, " (until {})", t.secs())
            }
            _ => Ok(()),
        }
    }
}

impl From<&mfa_oath::Error> for DenialReason {
    /// Maps an OATH verification rejection to its denial reason. Errors that
    /// are not about the code entered (a stored token whose parameters or
    /// secret cannot be used) become [`DenialReason::TokenMisconfigured`].
    fn from(e: &mfa_oath::Error) -> DenialReason {
        use mfa_oath::Error as E;
        match *e {
            E::CodeFormat { expected } => DenialReason::CodeMalformed {
                expected_digits: expected,
            },
            E::CodeNotInWindow | E::ResyncFailed => DenialReason::CodeWrong,
            E::CodeReplayed { step } => DenialReason::CodeReplayed { step },
            E::TimeBeforeT0 { t0, .. } => DenialReason::TimeBeforeT0 { t0 },
            E::CounterOverflow => DenialReason::CounterExhausted,
            _ => DenialReason::TokenMisconfigured,
        }
    }
}

impl From<mfa_oath::Error> for DenialReason {
    fn from(e: mfa_oath::Error) -> DenialReason {
        DenialReason::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for &k in DenialKind::ALL {
            assert!(seen.insert(k.as_str()), "duplicate code {}", k.as_str());
            assert_eq!(k.as_str().parse::<DenialKind>().unwrap(), k);
            assert!(!k.description().is_empty());
        }
        assert!("nonsense".parse::<DenialKind>().is_err());
    }

    #[test]
    fn every_kind_has_a_reason_and_parts_round_trip() {
        for &k in DenialKind::ALL {
            let detail = match k {
                DenialKind::CodeMalformed => Some(6),
                DenialKind::CodeReplayed
                | DenialKind::TimeBeforeT0
                | DenialKind::Locked
                | DenialKind::FraudBlocked => Some(1_700_000_000),
                _ => None,
            };
            let r = DenialReason::from_parts(k, detail).unwrap();
            assert_eq!(r.kind(), k);
            assert_eq!(r.detail(), detail);
            // Wrong shape of detail is refused.
            match detail {
                Some(_) if k != DenialKind::FraudBlocked => {
                    assert!(DenialReason::from_parts(k, None).is_err(), "{k:?}");
                }
                None if k != DenialKind::AdminBlocked => {
                    assert!(DenialReason::from_parts(k, Some(1)).is_err(), "{k:?}");
                }
                _ => {}
            }
        }
        assert!(DenialReason::from_parts(DenialKind::CodeMalformed, Some(256)).is_err());
    }

    #[test]
    fn oath_rejections_map() {
        use mfa_oath::Error as E;
        let cases = [
            (
                E::CodeFormat { expected: 8 },
                DenialReason::CodeMalformed { expected_digits: 8 },
            ),
            (E::CodeNotInWindow, DenialReason::CodeWrong),
            (E::ResyncFailed, DenialReason::CodeWrong),
            (
                E::CodeReplayed { step: 7 },
                DenialReason::CodeReplayed { step: 7 },
            ),
            (
                E::TimeBeforeT0 { now: 1, t0: 5 },
                DenialReason::TimeBeforeT0 { t0: 5 },
            ),
            (E::CounterOverflow, DenialReason::CounterExhausted),
            (
                E::SecretTooShort { bits: 8 },
                DenialReason::TokenMisconfigured,
            ),
            (E::Digits(3), DenialReason::TokenMisconfigured),
        ];
        for (e, want) in cases {
            assert_eq!(DenialReason::from(&e), want, "{e:?}");
        }
    }

    #[test]
    fn real_oath_verification_maps() {
        use mfa_oath::{Secret, Totp, TotpParams, TotpState, Window};
        let totp = Totp::new(
            Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(),
            TotpParams::default(),
        );
        let now = UnixTime::from_secs(59);
        let code = totp.generate(now).unwrap().to_string();
        let ok = totp
            .verify(&code, now, TotpState::default(), Window::TOTP_DEFAULT)
            .unwrap();
        let replay = totp
            .verify(&code, now, ok.state, Window::TOTP_DEFAULT)
            .unwrap_err();
        assert_eq!(
            DenialReason::from(&replay),
            DenialReason::CodeReplayed { step: ok.step }
        );
        let wrong = if code == "000000" { "000001" } else { "000000" };
        let e = totp
            .verify(wrong, now, TotpState::default(), Window::TOTP_DEFAULT)
            .unwrap_err();
        assert_eq!(DenialReason::from(e), DenialReason::CodeWrong);
    }

    #[test]
    fn display_names_the_reference_wording() {
        assert_eq!(
            DenialReason::NotActivated.to_string(),
            "Authentication request is not for an activated account"
        );
        assert_eq!(
            DenialReason::Locked {
                until: UnixTime::from_secs(60)
            }
            .to_string(),
            "Account locked after too many MFA denials (until 60)"
        );
    }
}
