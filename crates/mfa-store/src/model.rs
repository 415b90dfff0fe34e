//! The values the store takes and returns.

use core::fmt;
use std::net::IpAddr;
use std::time::Duration;

use mfa_oath::{HotpParams, Secret, TotpParams, UnixTime, Window};

use crate::LockoutPolicy;

/// At most this many OATH tokens (hardware tokens and authenticator apps
/// together) belong to one user (SPEC §2).
pub const MAX_TOKENS_PER_USER: usize = 5;
/// At most this many trusted IP ranges (SPEC §6).
pub const MAX_TRUSTED_RANGES: usize = 50;
/// Default lifetime of an SMS/voice one-time code: 300 s (SPEC §6).
pub const DEFAULT_CODE_TTL: u64 = 300;
/// Default retention of log events: 90 days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
/// Default duration of a fraud block: 90 days (SPEC §4).
pub const DEFAULT_FRAUD_BLOCK: u64 = 90 * 86_400;

/// Settings of a store.
///
/// ```
/// let c = mfa_store::StoreConfig::default();
/// assert_eq!(c.code_ttl, 300);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreConfig {
    /// Lockout policy for OATH codes.
    pub otp_lockout: LockoutPolicy,
    /// Lockout policy for SMS/voice one-time codes.
    pub sms_lockout: LockoutPolicy,
    /// Lifetime of one-time codes in seconds.
    pub code_ttl: u64,
    /// How long a fraud report blocks the user, in seconds.
    pub fraud_block: u64,
    /// TOTP verification window.
    pub totp_window: Window,
    /// HOTP verification window.
    pub hotp_window: Window,
    /// How long to wait for a lock held by another connection (SQLite).
    pub busy_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            otp_lockout: LockoutPolicy::default(),
            sms_lockout: LockoutPolicy::default(),
            code_ttl: DEFAULT_CODE_TTL,
            fraud_block: DEFAULT_FRAUD_BLOCK,
            totp_window: Window::TOTP_DEFAULT,
            hotp_window: Window::HOTP_DEFAULT,
            busy_timeout: Duration::from_secs(30),
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
        }
    }

    /// The same token, to be assigned to `user` on import.
    pub fn with_user(mut self, user: impl Into<String>) -> NewToken {
        self.user = Some(user.into());
        self
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
}

impl fmt::Display for ImportRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportRejection::Duplicate => f.write_str("a token with this serial exists already"),
            ImportRejection::TooManyTokens { user } => {
                write!(f, "user {user} already has {MAX_TOKENS_PER_USER} tokens")
            }
            ImportRejection::FieldLength { field } => write!(f, "the {field} is empty or too long"),
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
}

/// A user record (the SPEC §5 fields the store keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserRecord {
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

impl UserRecord {
    /// A record with only the id.
    pub fn new(user_id: impl Into<String>) -> UserRecord {
        UserRecord {
            user_id: user_id.into(),
            ..UserRecord::default()
        }
    }
}

/// How the user authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuthMode {
    /// An OATH code from a hardware token or authenticator app.
    OathCode,
    /// A one-time code sent by SMS.
    Sms,
    /// A one-time code read out in a voice call.
    Voice,
}

impl AuthMode {
    /// Stable name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::OathCode => "oath_code",
            AuthMode::Sms => "sms",
            AuthMode::Voice => "voice",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<AuthMode> {
        [AuthMode::OathCode, AuthMode::Sms, AuthMode::Voice]
            .into_iter()
            .find(|m| m.as_str() == s)
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
    pub(crate) fn mode(self) -> AuthMode {
        match self {
            Channel::Sms => AuthMode::Sms,
            Channel::Voice => AuthMode::Voice,
        }
    }
}

/// The lockout counter classes (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// OATH codes.
    Otp,
    /// SMS/voice one-time codes.
    SmsCode,
}

impl Factor {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Factor::Otp => "otp",
            Factor::SmsCode => "sms",
        }
    }
}

/// Why a sign-in was denied (SPEC §7: each a distinct value callers and the
/// C ABI can match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DenialReason {
    /// No such user.
    UnknownUser,
    /// "Authentication request is not for an activated account": the user has
    /// no activated token (never activated, or removed).
    NotActivated,
    /// The account is locked after repeated denials.
    Locked,
    /// The user is blocked by a fraud report (or an administrator).
    FraudBlocked,
    /// The code is not a string of the token's number of digits.
    CodeFormat,
    /// The code is wrong (not valid at this time for any active token).
    CodeInvalid,
    /// The code was already used.
    CodeReplayed,
    /// The one-time code expired.
    CodeExpired,
    /// No one-time code was sent to this user on this channel.
    NoCodeSent,
}

impl DenialReason {
    const ALL: [DenialReason; 9] = [
        DenialReason::UnknownUser,
        DenialReason::NotActivated,
        DenialReason::Locked,
        DenialReason::FraudBlocked,
        DenialReason::CodeFormat,
        DenialReason::CodeInvalid,
        DenialReason::CodeReplayed,
        DenialReason::CodeExpired,
        DenialReason::NoCodeSent,
    ];

    /// Stable name stored in the log and used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DenialReason::UnknownUser => "unknown_user",
            DenialReason::NotActivated => "not_activated",
            DenialReason::Locked => "locked",
            DenialReason::FraudBlocked => "fraud_blocked",
            DenialReason::CodeFormat => "code_format",
            DenialReason::CodeInvalid => "code_invalid",
            DenialReason::CodeReplayed => "code_replayed",
            DenialReason::CodeExpired => "code_expired",
            DenialReason::NoCodeSent => "no_code_sent",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<DenialReason> {
        DenialReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DenialReason::UnknownUser => "unknown user",
            DenialReason::NotActivated => "authentication request is not for an activated account",
            DenialReason::Locked => "account locked",
            DenialReason::FraudBlocked => "blocked by fraud report",
            DenialReason::CodeFormat => "malformed code",
            DenialReason::CodeInvalid => "invalid code",
            DenialReason::CodeReplayed => "code already used",
            DenialReason::CodeExpired => "code expired",
            DenialReason::NoCodeSent => "no code was sent",
        })
    }
}

/// Result of an authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthResult {
    /// Success.
    Approved,
    /// Denied, and why.
    Denied(DenialReason),
}

/// What [`crate::Store::verify`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct VerifyOutcome {
    /// Approved or denied with a reason.
    pub result: AuthResult,
    /// The token whose code matched (approved, replayed).
    pub serial: Option<String>,
    /// The step or counter consumed (approved) or replayed.
    pub step: Option<u64>,
    /// When locked or blocked: when that ends by itself (`None`: until an
    /// administrator unblocks).
    pub until: Option<UnixTime>,
}

impl VerifyOutcome {
    /// Whether the sign-in is approved.
    pub fn is_approved(&self) -> bool {
        self.result == AuthResult::Approved
    }

    /// The denial reason, if denied.
    pub fn denial(&self) -> Option<DenialReason> {
        match self.result {
            AuthResult::Approved => None,
            AuthResult::Denied(r) => Some(r),
        }
    }
}

/// Where a request comes from, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyContext {
    /// The client's IP address, when known.
    pub client_ip: Option<IpAddr>,
    /// The MFA server's name.
    pub server_name: Option<String>,
    /// The MFA server's IP.
    pub server_ip: Option<IpAddr>,
}

impl VerifyContext {
    /// A context naming the server.
    pub fn server(name: impl Into<String>, ip: Option<IpAddr>) -> VerifyContext {
        VerifyContext {
            client_ip: None,
            server_name: Some(name.into()),
            server_ip: ip,
        }
    }

    /// The same context with a client IP.
    pub fn with_client(mut self, ip: IpAddr) -> VerifyContext {
        self.client_ip = Some(ip);
        self
    }
}

/// One authentication log event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthEvent {
    /// When.
    pub at: UnixTime,
    /// Who.
    pub user_id: String,
    /// How.
    pub mode: AuthMode,
    /// Result and reason.
    pub result: AuthResult,
    /// The token used, when one matched.
    pub serial: Option<String>,
    /// MFA server name.
    pub server_name: Option<String>,
    /// MFA server IP.
    pub server_ip: Option<String>,
    /// Client IP.
    pub client_ip: Option<String>,
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

/// Usage summary for a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UsageSummary {
    /// Users configured for MFA (billing counts them whether or not they signed in).
    pub users: u64,
    /// Users with at least one event in the period.
    pub active_users: u64,
    /// Approved authentications.
    pub approved: u64,
    /// Denied authentications.
    pub denied: u64,
    /// Denials per reason, ordered by reason.
    pub denied_by_reason: Vec<(DenialReason, u64)>,
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
