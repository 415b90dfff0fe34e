//! The imported-token model: what every reader yields once a key has passed
//! the OATH rules.

use mfa_oath::{
    Algorithm, Digits, HotpParams, HotpState, Period, Secret, TotpParams, TotpState, UnixTime,
};

use crate::{Error, Location, PskcKey, Rejection};

/// HOTP or TOTP, with the parameters and the initial verifier state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// An event-based token (RFC 4226).
    Hotp {
        /// Hash and digits.
        params: HotpParams,
        /// Initial state: the file's Counter is the next counter the token will use.
        state: HotpState,
    },
    /// A time-based token (RFC 6238).
    Totp {
        /// Hash, digits, period, T0.
        params: TotpParams,
        /// Initial state: no step accepted yet, the file's TimeDrift.
        state: TotpState,
    },
}

/// One token read from a PSKC or CSV file, checked against the OATH rules.
///
/// `Debug` never shows the secret (see [`mfa_oath::Secret`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ImportedToken {
    /// Where the token was found.
    pub location: Location,
    /// Serial number (PSKC DeviceInfo/SerialNo, CSV serial column).
    pub serial: Option<String>,
    /// PSKC Key Id.
    pub key_id: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// PSKC Issuer.
    pub issuer: Option<String>,
    /// PSKC FriendlyName.
    pub friendly_name: Option<String>,
    /// The user to assign the token to (PSKC UserId, cloud CSV `upn`).
    pub user: Option<String>,
    /// The shared secret.
    pub secret: Secret,
    /// HOTP or TOTP with parameters and state.
    pub kind: TokenKind,
    /// Policy/DeviceInfo StartDate, seconds since the epoch.
    pub not_before: Option<i64>,
    /// Policy/DeviceInfo ExpiryDate, seconds since the epoch.
    pub not_after: Option<i64>,
    /// For CSV input, the row as uploaded (for the errors CSV, should the
    /// report reject the token later, e.g. as a duplicate).
    pub(crate) raw: Option<Box<crate::RawRow>>,
    /// Warnings about this token (e.g. from its otpauth URI), moved into
    /// the report by [`crate::ImportReport::record`].
    pub(crate) warnings: Vec<crate::Warning>,
    /// The identity the report gave this token when its device has
    /// several keys (`serial:KeyId`).
    pub(crate) identity: Option<String>,
}

impl ImportedToken {
    /// A token built by the caller (e.g. to export with
    /// [`crate::PskcWriter`]); its location is `Document { line: 0 }` and
    /// every descriptive field is empty until set.
    ///
    /// ```
    /// use mfa_import::{ImportedToken, TokenKind};
    /// use mfa_oath::{HotpParams, HotpState, Secret};
    /// let mut t = ImportedToken::new(
    ///     Secret::from_bytes(b"12345678901234567890")?,
    ///     TokenKind::Hotp { params: HotpParams::default(), state: HotpState::from_next_counter(5) },
    /// );
    /// t.serial = Some("123".into());
    /// assert_eq!(t.next_counter(), Some(5));
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn new(secret: Secret, kind: TokenKind) -> ImportedToken {
        let mut t = ImportedToken::totp(Location::Document { line: 0 }, secret, Period::THIRTY);
        t.kind = kind;
        t
    }

    /// A TOTP token with default SHA-1, 6 digits and the given period (as
    /// the CSV formats describe them).
    pub(crate) fn totp(location: Location, secret: Secret, period: Period) -> ImportedToken {
        ImportedToken {
            serial: location.serial().map(str::to_owned),
            location,
            key_id: None,
            manufacturer: None,
            model: None,
            issuer: None,
            friendly_name: None,
            user: None,
            secret,
            kind: TokenKind::Totp {
                params: TotpParams {
                    algorithm: Algorithm::Sha1,
                    digits: Digits::SIX,
                    period,
                    t0: UnixTime::EPOCH,
                },
                state: TotpState::default(),
            },
            not_before: None,
            not_after: None,
            raw: None,
            warnings: Vec::new(),
            identity: None,
        }
    }

    /// The name that identifies this token uniquely among the tokens of
    /// one import, for the store to use as its serial:
    ///
    /// * the serial number (PSKC DeviceInfo/SerialNo, CSV serial, the
    ///   label of an otpauth URI), when the device has one key;
    /// * `serial:KeyId` for the second and every further key of the same
    ///   device (RFC 6030 §8: one serial, several keys with different Key
    ///   Ids), as [`crate::ImportReport::record`] assigns it; the device's
    ///   first key keeps the plain serial, so single-key files are
    ///   addressed as before;
    /// * the Key Id, when there is no serial number;
    /// * `None` when there is neither.
    ///
    /// Two keys with the same serial and the same Key Id (or no Key Id)
    /// are true duplicates and the report rejects the second. The scheme is
    /// documented in `docs/formats.md`.
    ///
    /// ```
    /// use mfa_import::{ImportReport, PskcOptions, PskcReader};
    /// let xml = br#"<?xml version="1.0"?>
    /// <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    ///  <KeyPackage><DeviceInfo><SerialNo>SN1</SerialNo></DeviceInfo>
    ///   <Key Id="a" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
    ///    <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
    ///    <Counter><PlainValue>0</PlainValue></Counter></Data></Key>
    ///   <Key Id="b" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
    ///    <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
    ///    <Counter><PlainValue>0</PlainValue></Counter></Data></Key>
    ///  </KeyPackage>
    /// </KeyContainer>"#;
    /// let mut report = ImportReport::new();
    /// let ids: Vec<String> = PskcReader::new(&xml[..], PskcOptions::new())
    ///     .tokens()
    ///     .filter_map(|t| report.record(t))
    ///     .map(|t| t.identity().unwrap().to_owned())
    ///     .collect();
    /// assert_eq!(ids, ["SN1", "SN1:b"]);
    /// ```
    pub fn identity(&self) -> Option<&str> {
        self.identity
            .as_deref()
            .or(self.serial.as_deref())
            .or(self.key_id.as_deref())
    }

    /// True for TOTP tokens.
    pub fn is_totp(&self) -> bool {
        matches!(self.kind, TokenKind::Totp { .. })
    }

    /// The TOTP period in seconds, if TOTP.
    pub fn period(&self) -> Option<u64> {
        match self.kind {
            TokenKind::Totp { params, .. } => Some(params.period.seconds()),
            TokenKind::Hotp { .. } => None,
        }
    }

    /// The next HOTP counter, if HOTP.
    pub fn next_counter(&self) -> Option<u64> {
        match self.kind {
            TokenKind::Hotp { state, .. } => state.next_counter(),
            TokenKind::Totp { .. } => None,
        }
    }

    /// Digits per code.
    pub fn digits(&self) -> Digits {
        match self.kind {
            TokenKind::Hotp { params, .. } => params.digits,
            TokenKind::Totp { params, .. } => params.digits,
        }
    }

    /// The HMAC hash.
    pub fn algorithm(&self) -> Algorithm {
        match self.kind {
            TokenKind::Hotp { params, .. } => params.algorithm,
            TokenKind::Totp { params, .. } => params.algorithm,
        }
    }
}

/// The kind named by a PSKC algorithm URI (RFC 6030 URNs, the draft `#hotp`
/// fragments, the pre-RFC bare names).
fn kind_of(uri: &str) -> Option<bool> {
    let l = uri.trim().to_ascii_lowercase();
    if l.ends_with("hotp") {
        Some(false)
    } else if l.ends_with("totp") {
        Some(true)
    } else {
        None
    }
}

pub(crate) fn from_pskc(key: &PskcKey) -> Result<ImportedToken, Rejection> {
    let location = key
        .location
        .clone()
        .unwrap_or(Location::Document { line: 0 });
    check(key, location.clone()).map_err(|e| Rejection::new(location, e))
}

fn check(key: &PskcKey, location: Location) -> Result<ImportedToken, Error> {
    let is_totp = match key.algorithm.as_deref() {
        Some(uri) => kind_of(uri).ok_or_else(|| Error::UnsupportedAlgorithm {
            algorithm: uri.to_owned(),
        })?,
        // No Algorithm (python-pskc's csv2pskc writes none): accept only
        // when the data make it unambiguous.
        None => match (key.time_interval.is_some(), key.counter.is_some()) {
            (true, false) => true,
            (false, true) => false,
            _ => return Err(Error::MissingAlgorithm),
        },
    };
    let algorithm = match key.suite.as_deref() {
        None => Algorithm::Sha1,
        Some(s) => s.parse().map_err(|_| Error::UnsupportedSuite {
            suite: s.to_owned(),
        })?,
    };
    if let Some(enc) = &key.response_encoding
        && !enc.eq_ignore_ascii_case("DECIMAL")
    {
        return Err(Error::UnsupportedResponseEncoding {
            encoding: enc.clone(),
        });
    }
    let digits = match key.response_length {
        None => Digits::SIX,
        Some(n) => u32::try_from(n)
            .ok()
            .and_then(|n| Digits::new(n).ok())
            .ok_or(Error::UnsupportedDigits { length: n })?,
    };
    if !key.policy.key_usage.is_empty()
        && !key
            .policy
            .key_usage
            .iter()
            .any(|u| u.eq_ignore_ascii_case("OTP"))
    {
        return Err(Error::UsageNotOtp {
            usage: key.policy.key_usage.clone(),
        });
    }
    let raw = key.secret.as_ref().ok_or(Error::MissingSecret)?;
    let secret = Secret::from_bytes(raw.expose_secret())?;
    let kind = if is_totp {
        let period = match key.time_interval {
            None => Period::THIRTY,
            Some(p) => Period::new(p).map_err(|_| Error::InvalidInterval {
                value: p.to_string(),
                allowed: "at least 1 second",
            })?,
        };
        TokenKind::Totp {
            params: TotpParams {
                algorithm,
                digits,
                period,
                t0: UnixTime::EPOCH,
            },
            state: TotpState {
                last_step: None,
                drift: key.time_drift.unwrap_or(0),
            },
        }
    } else {
        TokenKind::Hotp {
            params: HotpParams { algorithm, digits },
            state: HotpState::from_next_counter(key.counter.unwrap_or(0)),
        }
    };
    Ok(ImportedToken {
        location,
        serial: key.serial.clone(),
        key_id: key.id.clone(),
        manufacturer: key.manufacturer.clone(),
        model: key.model.clone(),
        issuer: key.issuer.clone(),
        friendly_name: key.friendly_name.clone(),
        user: key.user_id().map(str::to_owned),
        secret,
        kind,
        not_before: key
            .policy
            .start_date
            .as_ref()
            .or(key.device_start_date.as_ref())
            .map(|d| d.unix),
        not_after: key
            .policy
            .expiry_date
            .as_ref()
            .or(key.device_expiry_date.as_ref())
            .map(|d| d.unix),
        raw: None,
        warnings: Vec::new(),
        identity: None,
    })
}
