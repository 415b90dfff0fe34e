//! The values the store takes and returns.

use core::fmt;
use std::net::IpAddr;
use std::time::Duration;

use mfa_oath::{HotpParams, Secret, TotpParams, UnixTime, Window};
use mfa_record::{AuthMode, AuthResult, DenialReason, FieldPolicy, ServerName};

/// At most this many OATH tokens (hardware tokens and authenticator apps
/// together) belong to one user (SPEC §2).
pub const MAX_TOKENS_PER_USER: usize = 5;
/// At most this many trusted IP ranges (SPEC §6).
pub const MAX_TRUSTED_RANGES: usize = 50;
/// Default lifetime of an SMS/voice one-time code: 300 s (SPEC §6).
pub const DEFAULT_CODE_TTL: u64 = 300;
/// Default retention of log events: 90 days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// Settings of a store.
///
/// ```
/// let c = mfa_store::StoreConfig::default();
/// assert_eq!(c.code_ttl, 300);
/// assert_eq!(c.lockout.get(mfa_lockout::FactorClass::Otp).threshold(), 10);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Lockout policy per factor class (mfa-lockout).
    pub lockout: mfa_lockout::Policies,
    /// Fraud alert and suspicious-activity settings (mfa-fraud).
    pub fraud: mfa_fraud::FraudConfig,
    /// Which optional fields are stored in log events (mfa-record).
    pub fields: FieldPolicy,
    /// Lifetime of one-time codes in seconds.
    pub code_ttl: u64,
    /// TOTP verification window.
    pub totp_window: Window,
    /// HOTP verification window.
    pub hotp_window: Window,
    /// How long to wait for a lock held by another connection (SQLite).
    pub busy_timeout: Duration,
    /// Days a device is remembered after MFA ("remember MFA on this
    /// device"); 0 switches the feature off. [`crate::Store::authenticate`]
    /// issues and honours remembered-device tokens for this many days.
    pub remember_device_days: u32,
    /// How durable a commit is on SQLite (PostgreSQL: the server's
    /// `synchronous_commit`). [`Durability::Full`] by default.
    pub durability: Durability,
}

/// How durable an SQLite commit is: whether a power loss or an operating
/// system crash can take back a commit that was reported done.
///
/// Every verification commits the step it consumed; a commit that is lost
/// re-opens that step, so the same code is accepted again after the
/// restart (a replay window of the last commits before the crash). A
/// process crash alone never loses a commit in either mode.
///
/// ```
/// use mfa_store::{Durability, StoreConfig};
/// assert_eq!(StoreConfig::default().durability, Durability::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `PRAGMA synchronous=FULL`: the write-ahead log is flushed to the disk
    /// at every commit, so a commit survives power loss. The default: a
    /// consumed step must stay consumed.
    #[default]
    Full,
    /// `PRAGMA synchronous=NORMAL`: the log is flushed only at checkpoints;
    /// a power loss or OS crash can roll back the last commits (and so
    /// re-open their steps for replay). Faster; see docs/benchmarks.md.
    Normal,
}

impl Durability {
    /// The SQLite `synchronous` pragma value.
    pub(crate) const fn sqlite_pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            lockout: mfa_lockout::Policies::default(),
            fraud: mfa_fraud::FraudConfig::default(),
            fields: FieldPolicy::all(),
            code_ttl: DEFAULT_CODE_TTL,
            totp_window: Window::TOTP_DEFAULT,
            hotp_window: Window::HOTP_DEFAULT,
            busy_timeout: Duration::from_secs(30),
            remember_device_days: 0,
            durability: Durability::Full,
        }
    }
}

/// The kind and parameters of an OATH token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Time-based (RFC 6238).
    Totp(TotpParams),
    /// Counter-based (RFC 4226).
    Hotp(HotpParams),
}

/// A token to import (an accepted token of an import report).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewToken {
    /// Serial number, unique in the store.
    pub serial: String,
    /// Kind and parameters.
    pub kind: TokenKind,
    /// The secret (sealed before it is written).
    pub secret: Secret,
    /// HOTP: the next counter the token will use (PSKC `Counter`); ignored for TOTP.
    pub counter: u64,
    /// TOTP: known clock drift in steps; ignored for HOTP.
    pub drift: i64,
    /// Assign to this user on import (cloud CSV `upn`).
    pub user: Option<String>,
    /// Manufacturer, if known.
    pub manufacturer: Option<String>,
    /// Model, if known.
    pub model: Option<String>,
    /// Issuer (PSKC `Issuer`), if known.
    pub issuer: Option<String>,
    /// Start of the key's validity period, Unix seconds (PSKC
    /// `Policy/StartDate`, RFC 6030 §5): before it the token neither
    /// activates nor signs anyone in.
    pub not_before: Option<i64>,
    /// End of the key's validity period, Unix seconds (PSKC
    /// `Policy/ExpiryDate`): after it the token neither activates nor signs
    /// anyone in.
    pub not_after: Option<i64>,
    /// The device serial number the PSKC file gave (DeviceInfo/SerialNo),
    /// if the token came from one: several keys of one device share it
    /// (RFC 6030 §8) while each has its own [`NewToken::serial`]. Written
    /// back as SerialNo on export.
    pub device_serial: Option<String>,
    /// The PSKC Key Id the file gave, if the token came from one; written
    /// back as the Key Id on export.
    pub pskc_key_id: Option<String>,
}

impl NewToken {
    /// A token with just a serial, kind and secret.
    ///
    /// ```
    /// use mfa_oath::{Secret, TotpParams};
    /// use mfa_store::{NewToken, TokenKind};
    /// let t = NewToken::new("T-1", TokenKind::Totp(TotpParams::default()),
    ///                       Secret::from_bytes(b"12345678901234567890")?);
    /// assert_eq!(t.serial, "T-1");
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn new(serial: impl Into<String>, kind: TokenKind, secret: Secret) -> NewToken {
        NewToken {
            serial: serial.into(),
            kind,
            secret,
            counter: 0,
            drift: 0,
            user: None,
            manufacturer: None,
            model: None,
            issuer: None,
            not_before: None,
            not_after: None,
            device_serial: None,
            pskc_key_id: None,
        }
    }

    /// The same token with a key validity period (Unix seconds, either end
    /// open when `None`).
    pub fn with_validity(mut self, not_before: Option<i64>, not_after: Option<i64>) -> NewToken {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// The same token, to be assigned to `user` on import.
    pub fn with_user(mut self, user: impl Into<String>) -> NewToken {
        self.user = Some(user.into());
        self
    }
}

impl From<mfa_import::ImportedToken> for NewToken {
    /// An accepted token of an mfa-import report: the one conversion every
    /// front end (the `mfa` command, the C ABI) uses. The serial is the
    /// identity the report gave it (`ImportedToken::identity`: the serial
    /// number, `serial:KeyId` for a further key of the same device, the
    /// PSKC key id when there is no serial, an otpauth label), else its
    /// serial number or key id; a token with none, or of a kind this store
    /// does not know, gets an empty serial, which the import rejects
    /// ([`ImportRejection::FieldLength`]). The user (cloud CSV `upn`) is
    /// assigned on import. A key read from PSKC keeps its DeviceInfo/SerialNo
    /// and Key Id as [`NewToken::device_serial`] and
    /// [`NewToken::pskc_key_id`]; CSV rows and otpauth URIs have neither.
    ///
    /// ```
    /// use mfa_import::{ImportReport, PskcOptions, PskcReader};
    /// use mfa_store::NewToken;
    /// let xml = br#"<?xml version="1.0"?>
    /// <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    ///  <KeyPackage><DeviceInfo><SerialNo>SN1</SerialNo></DeviceInfo>
    ///   <Key Id="a" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
    ///    <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
    ///    <Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>
    ///  <KeyPackage><DeviceInfo><SerialNo>SN1</SerialNo></DeviceInfo>
    ///   <Key Id="b" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
    ///    <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
    ///    <Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>
    /// </KeyContainer>"#;
    /// let mut report = ImportReport::new();
    /// let tokens: Vec<NewToken> = PskcReader::new(&xml[..], PskcOptions::new())
    ///     .tokens()
    ///     .filter_map(|t| report.record(t))
    ///     .map(NewToken::from)
    ///     .collect();
    /// let seen: Vec<_> = tokens
    ///     .iter()
    ///     .map(|t| (t.serial.as_str(), t.device_serial.as_deref(), t.pskc_key_id.as_deref()))
    ///     .collect();
    /// assert_eq!(seen, [("SN1", Some("SN1"), Some("a")), ("SN1:b", Some("SN1"), Some("b"))]);
    /// ```
    fn from(t: mfa_import::ImportedToken) -> NewToken {
        let (kind, counter, drift) = match t.kind {
            mfa_import::TokenKind::Hotp { params, state } => (
                TokenKind::Hotp(params),
                state.next_counter().unwrap_or(u64::MAX),
                0,
            ),
            mfa_import::TokenKind::Totp { params, state } => {
                (TokenKind::Totp(params), 0, state.drift)
            }
            // mfa-import's kinds are non-exhaustive; a future kind is
            // refused by the import (empty serial) rather than guessed.
            _ => (TokenKind::Hotp(HotpParams::default()), 0, 0),
        };
        let known = matches!(
            t.kind,
            mfa_import::TokenKind::Hotp { .. } | mfa_import::TokenKind::Totp { .. }
        );
        let serial = if known {
            // The identity `ImportReport::record` gave it (`serial:KeyId` for
            // a further key of one device, RFC 6030 §8), else as read (the
            // serial number, else the Key Id).
            t.identity().map(str::to_owned).unwrap_or_default()
        } else {
            String::new()
        };
        // Only a PSKC KeyPackage has a device serial and Key Id of its own
        // (a CSV serial or an otpauth label is the token's serial itself).
        let (device_serial, pskc_key_id) =
            if matches!(t.location, mfa_import::Location::KeyPackage { .. }) {
                (t.serial, t.key_id)
            } else {
                (None, None)
            };
        NewToken {
            serial,
            kind,
            secret: t.secret,
            counter,
            drift,
            user: t.user,
            manufacturer: t.manufacturer,
            model: t.model,
            issuer: t.issuer,
            not_before: t.not_before,
            not_after: t.not_after,
            device_serial,
            pskc_key_id,
        }
    }
}

/// What an import does when some tokens cannot be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Import every token or none ([`crate::Error::ImportRefused`]).
    AllOrNothing,
    /// Import the tokens that can be, report the others.
    AcceptedOnly,
}

/// Why one token of an import was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportRejection {
    /// A token with this serial exists already (in the store, or earlier in
    /// the same import).
    Duplicate,
    /// The user to assign it to has [`MAX_TOKENS_PER_USER`] tokens already.
    TooManyTokens {
        /// The user.
        user: String,
    },
    /// A field is empty or too long.
    FieldLength {
        /// The field.
        field: &'static str,
    },
    /// The user id is not one mfa-record accepts (a control character):
    /// such a user could be given the token but never sign in.
    InvalidUser {
        /// Why, as [`mfa_record::UserId::new`] said it (names the
        /// character and its position).
        why: String,
    },
}

impl fmt::Display for ImportRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportRejection::Duplicate => f.write_str("a token with this serial exists already"),
            ImportRejection::TooManyTokens { user } => {
                write!(f, "user {user} already has {MAX_TOKENS_PER_USER} tokens")
            }
            ImportRejection::FieldLength { field } => write!(f, "the {field} is empty or too long"),
            ImportRejection::InvalidUser { why } => f.write_str(why),
        }
    }
}

/// One token that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedToken {
    /// Its 0-based position in the input.
    pub index: usize,
    /// Its serial.
    pub serial: String,
    /// Why.
    pub reason: ImportRejection,
}

/// The result of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// How many tokens were imported (0 when an all-or-nothing import was refused).
    pub imported: u64,
    /// The tokens that were not, with their reasons.
    pub rejected: Vec<RejectedToken>,
}

/// What is known about a stored token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// Serial number.
    pub serial: String,
    /// Kind and parameters.
    pub kind: TokenKind,
    /// The user it is assigned to.
    pub user: Option<String>,
    /// Whether it was activated (and is still assigned).
    pub active: bool,
    /// The last accepted time step (TOTP) or counter (HOTP).
    pub last_step: Option<u64>,
    /// Stored clock drift in steps (TOTP).
    pub drift: i64,
    /// The master key id its secret is sealed with.
    pub key_id: u32,
    /// Start of the key's validity period, Unix seconds (inclusive).
    pub not_before: Option<i64>,
    /// End of the key's validity period, Unix seconds (inclusive).
    pub not_after: Option<i64>,
    /// Issuer, if known.
    pub issuer: Option<String>,
    /// Manufacturer, if known.
    pub manufacturer: Option<String>,
    /// Model, if known.
    pub model: Option<String>,
    /// The PSKC device serial (DeviceInfo/SerialNo) it was imported with,
    /// if it came from a PSKC file ([`NewToken::device_serial`]).
    pub device_serial: Option<String>,
    /// The PSKC Key Id it was imported with, if it came from a PSKC file.
    pub pskc_key_id: Option<String>,
}

impl TokenInfo {
    /// This token with its secret as mfa-import's writer takes it, for an
    /// export ([`crate::Store::export_tokens`] then
    /// `mfa_import::PskcWriter`): kind, parameters and state (the HOTP
    /// next counter, the TOTP drift), user, validity period, issuer,
    /// manufacturer and model. A key imported from PSKC gets back the
    /// DeviceInfo/SerialNo and Key Id it came with, so several keys of one
    /// device are again several KeyPackages with one SerialNo (RFC 6030
    /// §8) and a re-import gives each the same serial as here; any other
    /// token is written under its serial (as SerialNo and Key Id).
    ///
    /// ```
    /// # use mfa_store::{ImportMode, MasterKey, NewToken, Store, TokenKind};
    /// # use mfa_oath::{HotpParams, Secret, UnixTime};
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Store::open(&format!("sqlite:{}", dir.path().join("m.db").display()),
    /// #                        &MasterKey::new(1, [7; 32]))?;
    /// let mut t = NewToken::new("9999999:4", TokenKind::Hotp(HotpParams::default()),
    ///                           Secret::from_bytes(b"12345678901234567890")?);
    /// t.device_serial = Some("9999999".into());
    /// t.pskc_key_id = Some("4".into());
    /// store.import([t], ImportMode::AllOrNothing, UnixTime::from_secs(1))?;
    /// let (info, secret) = store.export_tokens("root", UnixTime::from_secs(2))?.remove(0);
    /// let out = info.to_pskc(secret);
    /// assert_eq!((out.serial.as_deref(), out.key_id.as_deref()), (Some("9999999"), Some("4")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_pskc(&self, secret: Secret) -> mfa_import::ImportedToken {
        let kind = match self.kind {
            TokenKind::Totp(params) => mfa_import::TokenKind::Totp {
                params,
                state: mfa_oath::TotpState {
                    last_step: self.last_step,
                    drift: self.drift,
                },
            },
            TokenKind::Hotp(params) => mfa_import::TokenKind::Hotp {
                params,
                state: mfa_oath::HotpState {
                    last_counter: self.last_step,
                },
            },
        };
        let mut t = mfa_import::ImportedToken::new(secret, kind);
        if self.device_serial.is_some() || self.pskc_key_id.is_some() {
            t.serial = self.device_serial.clone();
            t.key_id = self.pskc_key_id.clone();
        } else {
            t.serial = Some(self.serial.clone());
        }
        t.user = self.user.clone();
        t.not_before = self.not_before;
        t.not_after = self.not_after;
        t.issuer = self.issuer.clone();
        t.manufacturer = self.manufacturer.clone();
        t.model = self.model.clone();
        t
    }

    /// Whether the key may be used at `now`: inside its validity period
    /// (both ends inclusive; an open end does not limit). The one place
    /// this rule lives; activation and sign-in ask it.
    pub fn valid_at(&self, now: UnixTime) -> bool {
        within_validity(self.not_before, self.not_after, now)
    }
}

/// See [`TokenInfo::valid_at`].
pub(crate) fn within_validity(
    not_before: Option<i64>,
    not_after: Option<i64>,
    now: UnixTime,
) -> bool {
    let now = i64::try_from(now.secs()).unwrap_or(i64::MAX);
    not_before.is_none_or(|b| now >= b) && not_after.is_none_or(|a| now <= a)
}

/// The profile fields of a user that the store keeps (SPEC §5). Optional
/// fields switched off in [`StoreConfig::fields`] are not written to log
/// events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserProfile {
    /// Unique id (user name or internal id).
    pub user_id: String,
    /// First name (optional).
    pub first_name: Option<String>,
    /// Last name (optional).
    pub last_name: Option<String>,
    /// E-mail address (optional).
    pub email: Option<String>,
    /// Phone number (when voice or SMS is used).
    pub phone: Option<String>,
}

impl UserProfile {
    /// A profile with only the id.
    pub fn new(user_id: impl Into<String>) -> UserProfile {
        UserProfile {
            user_id: user_id.into(),
            ..UserProfile::default()
        }
    }
}

/// The channel of a one-time code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// SMS.
    Sms,
    /// Voice call.
    Voice,
}

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }
    pub(crate) fn class(self) -> mfa_lockout::FactorClass {
        match self {
            Channel::Sms => mfa_lockout::FactorClass::SmsCode,
            Channel::Voice => mfa_lockout::FactorClass::VoiceCall,
        }
    }
    pub(crate) fn mode(self) -> AuthMode {
        match self {
            Channel::Sms => AuthMode::SmsOneWay,
            Channel::Voice => AuthMode::PhoneCall,
        }
    }
}

/// What [`crate::Store::verify`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct VerifyOutcome {
    /// Success, or denied with the mfa-record reason (which carries the
    /// lock or block end, the replayed step, ...).
    pub result: AuthResult,
    /// The token whose code matched (success, replay).
    pub serial: Option<String>,
    /// The step or counter consumed (success) or replayed.
    pub step: Option<u64>,
}

impl VerifyOutcome {
    /// Whether the sign-in is approved.
    pub fn is_approved(&self) -> bool {
        self.result.is_success()
    }

    /// The denial reason, if denied.
    pub fn denial(&self) -> Option<DenialReason> {
        self.result.denial().copied()
    }
}

/// Which server handles a request and for which client, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyContext {
    /// The MFA server's name.
    pub server_name: ServerName,
    /// The MFA server's IP.
    pub server_ip: IpAddr,
    /// The client's IP address, when known.
    pub client_ip: Option<IpAddr>,
}

impl VerifyContext {
    /// A context naming the server.
    ///
    /// ```
    /// let ctx = mfa_store::VerifyContext::new("mfa-1", "10.0.0.1".parse().unwrap())?;
    /// assert_eq!(ctx.server_name.as_str(), "mfa-1");
    /// # Ok::<(), mfa_record::Error>(())
    /// ```
    ///
    /// # Errors
    /// An invalid server name (mfa-record's rules).
    pub fn new(server_name: &str, server_ip: IpAddr) -> Result<VerifyContext, mfa_record::Error> {
        Ok(VerifyContext {
            server_name: ServerName::new(server_name)?,
            server_ip,
            client_ip: None,
        })
    }

    /// The same context with a client IP.
    pub fn with_client(mut self, ip: IpAddr) -> VerifyContext {
        self.client_ip = Some(ip);
        self
    }
}

/// One administrative action (block, unblock, ...), with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEntry {
    /// When.
    pub at: UnixTime,
    /// The user acted on.
    pub user_id: Option<String>,
    /// What was done (stable name, e.g. `fraud_block`).
    pub action: String,
    /// Who did it.
    pub actor: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
}

/// Counts of what a store holds ([`crate::Store::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Users.
    pub users: u64,
    /// Tokens.
    pub tokens: u64,
    /// Authentication log events.
    pub auth_events: u64,
    /// Audit log entries.
    pub audit_entries: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::db::Mode;
    use crate::{MasterKey, Store};

    /// The `synchronous` pragma of a connection of `store` (2 FULL, 1 NORMAL).
    fn synchronous(store: &Store) -> i64 {
        store
            .pool()
            .run(Mode::Write, |tx| {
                tx.query("pragma", "PRAGMA synchronous", &[])?[0].i64(0, "synchronous")
            })
            .unwrap()
    }

    #[test]
    fn sqlite_commits_are_durable_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
        let key = MasterKey::new(1, [3; 32]);
        assert_eq!(synchronous(&Store::open(&url, &key).unwrap()), 2);
        let config = StoreConfig {
            durability: Durability::Normal,
            ..StoreConfig::default()
        };
        assert_eq!(
            synchronous(&Store::open_with(&url, &key, config).unwrap()),
            1
        );
    }
}
