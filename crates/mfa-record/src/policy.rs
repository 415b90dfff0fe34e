//! Which fields are recorded and how they are exported; which methods are
//! allowed.

use core::fmt;

use crate::AuthMode;

/// A field of the user record or of an authentication log event. Also names
/// the columns of the CSV log ([`Field::column_name`]) and the field an
/// error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Field {
    /// When the authentication happened.
    Time,
    /// The same time in UTC, `YYYY-MM-DDThh:mm:ssZ` (CSV only, derived from
    /// [`Field::Time`]).
    TimeUtc,
    /// The unique ID of the user (user name or internal server ID).
    UserId,
    /// A first or last name (in errors about a [`crate::PersonName`]).
    Name,
    /// First name (optional).
    FirstName,
    /// Last name (optional).
    LastName,
    /// E-mail address (optional).
    Email,
    /// Phone number (voice call and SMS).
    Phone,
    /// Device token (mobile app).
    DeviceToken,
    /// Authentication mode.
    Mode,
    /// Authentication result.
    Result,
    /// Denial reason.
    Reason,
    /// The data of the denial reason (lock end, replayed step, ...).
    ReasonDetail,
    /// MFA server name.
    ServerName,
    /// MFA server IP.
    ServerIp,
    /// Client IP (when available).
    ClientIp,
    /// OATH token serial number.
    TokenSerial,
    /// App password.
    AppPassword,
}

impl Field {
    /// The CSV column name of the field (`snake_case`, stable).
    ///
    /// ```
    /// assert_eq!(mfa_record::Field::ClientIp.column_name(), "client_ip");
    /// ```
    pub const fn column_name(self) -> &'static str {
        match self {
            Field::Time => "time",
            Field::TimeUtc => "time_utc",
            Field::UserId => "user_id",
            Field::Name => "name",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::DeviceToken => "device_token",
            Field::Mode => "mode",
            Field::Result => "result",
            Field::Reason => "reason",
            Field::ReasonDetail => "reason_detail",
            Field::ServerName => "server_name",
            Field::ServerIp => "server_ip",
            Field::ClientIp => "client_ip",
            Field::TokenSerial => "token_serial",
            Field::AppPassword => "app_password",
        }
    }

    /// Whether a [`FieldPolicy`] can switch the field off.
    pub const fn is_optional(self) -> bool {
        matches!(
            self,
            Field::Name
                | Field::FirstName
                | Field::LastName
                | Field::Email
                | Field::Phone
                | Field::DeviceToken
                | Field::ClientIp
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Time => "time",
            Field::TimeUtc => "time (UTC)",
            Field::UserId => "user ID",
            Field::Name => "name",
            Field::FirstName => "first name",
            Field::LastName => "last name",
            Field::Email => "e-mail address",
            Field::Phone => "phone number",
            Field::DeviceToken => "device token",
            Field::Mode => "authentication mode",
            Field::Result => "authentication result",
            Field::Reason => "denial reason",
            Field::ReasonDetail => "denial reason detail",
            Field::ServerName => "MFA server name",
            Field::ServerIp => "MFA server IP",
            Field::ClientIp => "client IP",
            Field::TokenSerial => "token serial number",
            Field::AppPassword => "app password",
        })
    }
}

/// How phone numbers appear in exported logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PhoneExport {
    /// Digits replaced by `*` but the last four ([`crate::PhoneNumber::masked`]).
    #[default]
    Masked,
    /// The full number.
    Full,
}

/// How device tokens appear in exported logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DeviceTokenExport {
    /// `sha256:` followed by the SHA-256 of the token in hex
    /// ([`crate::DeviceToken::sha256_hex`]): rows of one device can still be
    /// correlated, the token cannot be recovered.
    #[default]
    Hashed,
    /// The token itself.
    Full,
}

/// Which optional fields are recorded, and how sensitive ones are exported.
///
/// The reference server lets the administrator switch the optional fields
/// on and off. A switched-off field is dropped when a record or event is
/// constructed ([`crate::AuthEvent::record`], [`crate::UserRecord::set_profile`]):
/// the value never reaches the stored type, so it cannot be stored,
/// serialised or exported by mistake. Exports apply the policy once more, so
/// a field switched off after an event was stored is not exported either.
///
/// | field | record | log event | default |
/// |---|---|---|---|
/// | first and last name ([`FieldPolicy::name`]) | yes | yes | on |
/// | e-mail address ([`FieldPolicy::email`]) | yes | yes | on |
/// | phone number ([`FieldPolicy::phone`]) | always (a method needs it) | call and SMS events | on, exported masked |
/// | device token ([`FieldPolicy::device_token`]) | always (a method needs it) | app events | on, exported hashed |
/// | client IP ([`FieldPolicy::client_ip`]) | — | when available | on |
///
/// The unique ID, mode, result and reason, time, and server name and IP are
/// always recorded.
///
/// ```
/// use mfa_record::{Field, FieldPolicy};
/// let mut policy = FieldPolicy::default();
/// policy.email = false;
/// assert!(!policy.records(Field::Email));
/// assert!(policy.records(Field::UserId)); // not optional
/// let minimal = FieldPolicy::minimal();
/// assert!(!minimal.records(Field::ClientIp));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct FieldPolicy {
    /// Record first and last name.
    pub name: bool,
    /// Record the e-mail address.
    pub email: bool,
    /// Record the phone number in call and SMS events.
    pub phone: bool,
    /// Record the device token in mobile app events.
    pub device_token: bool,
    /// Record the client IP when available.
    pub client_ip: bool,
    /// How exports show phone numbers.
    pub phone_export: PhoneExport,
    /// How exports show device tokens.
    pub device_token_export: DeviceTokenExport,
}

impl FieldPolicy {
    /// Every optional field recorded; phone numbers masked and device tokens
    /// hashed in exports. The same as `FieldPolicy::default()`.
    pub const fn all() -> FieldPolicy {
        FieldPolicy {
            name: true,
            email: true,
            phone: true,
            device_token: true,
            client_ip: true,
            phone_export: PhoneExport::Masked,
            device_token_export: DeviceTokenExport::Hashed,
        }
    }

    /// No optional field recorded.
    pub const fn minimal() -> FieldPolicy {
        FieldPolicy {
            name: false,
            email: false,
            phone: false,
            device_token: false,
            client_ip: false,
            phone_export: PhoneExport::Masked,
            device_token_export: DeviceTokenExport::Hashed,
        }
    }

    /// Whether `field` is recorded under this policy (always true for the
    /// fields that are not optional).
    pub const fn records(&self, field: Field) -> bool {
        match field {
            Field::Name | Field::FirstName | Field::LastName => self.name,
            Field::Email => self.email,
            Field::Phone => self.phone,
            Field::DeviceToken => self.device_token,
            Field::ClientIp => self.client_ip,
            _ => true,
        }
    }
}

impl Default for FieldPolicy {
    fn default() -> Self {
        FieldPolicy::all()
    }
}

/// Which authentication methods the administrator allows.
///
/// A user whose default method is disabled must register again
/// ([`crate::UserRecord::enforce_method_policy`]).
///
/// ```
/// use mfa_record::{AuthMode, MethodPolicy};
/// let policy = MethodPolicy::all().without(AuthMode::SmsTwoWay);
/// assert!(policy.allows(AuthMode::OathCode));
/// assert!(!policy.allows(AuthMode::SmsTwoWay));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(into = "Vec<AuthMode>", from = "Vec<AuthMode>")
)]
pub struct MethodPolicy {
    enabled: u8,
}

impl MethodPolicy {
    /// Every method allowed (the default).
    pub const fn all() -> MethodPolicy {
        MethodPolicy {
            enabled: AuthMode::ALL_MASK,
        }
    }

    /// No method allowed.
    pub const fn none() -> MethodPolicy {
        MethodPolicy { enabled: 0 }
    }

    /// This policy with `mode` allowed too.
    #[must_use]
    pub const fn with(self, mode: AuthMode) -> MethodPolicy {
        MethodPolicy {
            enabled: self.enabled | mode.bit(),
        }
    }

    /// This policy with `mode` disabled.
    #[must_use]
    pub const fn without(self, mode: AuthMode) -> MethodPolicy {
        MethodPolicy {
            enabled: self.enabled & !mode.bit(),
        }
    }

    /// Whether `mode` is allowed.
    pub const fn allows(self, mode: AuthMode) -> bool {
        self.enabled & mode.bit() != 0
    }

    /// The allowed modes, in [`AuthMode::ALL`] order.
    pub fn allowed(self) -> impl Iterator<Item = AuthMode> {
        AuthMode::ALL.into_iter().filter(move |m| self.allows(*m))
    }
}

impl Default for MethodPolicy {
    fn default() -> Self {
        MethodPolicy::all()
    }
}

impl From<MethodPolicy> for Vec<AuthMode> {
    fn from(p: MethodPolicy) -> Vec<AuthMode> {
        p.allowed().collect()
    }
}

impl From<Vec<AuthMode>> for MethodPolicy {
    fn from(modes: Vec<AuthMode>) -> MethodPolicy {
        modes
            .into_iter()
            .fold(MethodPolicy::none(), MethodPolicy::with)
    }
}
