//! The authentication log event.

use core::fmt;
use core::str::FromStr;
use std::net::IpAddr;

use mfa_oath::UnixTime;

use crate::{
    DenialReason, DeviceToken, Email, Error, Field, FieldPolicy, PersonName, PhoneNumber,
    ServerName, UserId,
};

/// How the user was asked to verify: the reference's authentication modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuthMode {
    /// A voice call; the user answers with `#` (or reports fraud).
    PhoneCall,
    /// A text message with a one-time code the user types in.
    SmsOneWay,
    /// A text message the user replies to.
    SmsTwoWay,
    /// A notification to the mobile app, approved or denied in the app.
    MobileAppNotification,
    /// An OATH code from a hardware token or authenticator app.
    OathCode,
    /// An app password, for an application that cannot do MFA.
    AppPassword,
    /// No second factor asked: the client IP is in a trusted range.
    TrustedIp,
    /// No second factor asked: MFA is remembered on this device.
    RememberedDevice,
}

impl AuthMode {
    /// Every mode, in declaration order.
    pub const ALL: [AuthMode; 8] = [
        AuthMode::PhoneCall,
        AuthMode::SmsOneWay,
        AuthMode::SmsTwoWay,
        AuthMode::MobileAppNotification,
        AuthMode::OathCode,
        AuthMode::AppPassword,
        AuthMode::TrustedIp,
        AuthMode::RememberedDevice,
    ];

    pub(crate) const ALL_MASK: u8 = 0b1111_1111;

    pub(crate) const fn bit(self) -> u8 {
        match self {
            AuthMode::PhoneCall => 1,
            AuthMode::SmsOneWay => 2,
            AuthMode::SmsTwoWay => 4,
            AuthMode::MobileAppNotification => 8,
            AuthMode::OathCode => 16,
            AuthMode::AppPassword => 32,
            AuthMode::TrustedIp => 64,
            AuthMode::RememberedDevice => 128,
        }
    }

    /// The stable code of the mode (CSV `mode` column).
    ///
    /// ```
    /// use mfa_record::AuthMode;
    /// assert_eq!(AuthMode::SmsTwoWay.as_str(), "sms_two_way");
    /// assert_eq!("sms_two_way".parse::<AuthMode>()?, AuthMode::SmsTwoWay);
    /// # Ok::<(), mfa_record::Error>(())
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthMode::PhoneCall => "phone_call",
            AuthMode::SmsOneWay => "sms_one_way",
            AuthMode::SmsTwoWay => "sms_two_way",
            AuthMode::MobileAppNotification => "mobile_app_notification",
            AuthMode::OathCode => "oath_code",
            AuthMode::AppPassword => "app_password",
            AuthMode::TrustedIp => "trusted_ip",
            AuthMode::RememberedDevice => "remembered_device",
        }
    }

    /// Whether the mode reaches the user through a phone number.
    pub const fn uses_phone(self) -> bool {
        matches!(
            self,
            AuthMode::PhoneCall | AuthMode::SmsOneWay | AuthMode::SmsTwoWay
        )
    }

    /// Whether the mode is a bypass: the sign-in was approved without a
    /// second factor (trusted IP range, remembered device). A bypass is not
    /// a method a user registers or chooses.
    pub const fn is_bypass(self) -> bool {
        matches!(self, AuthMode::TrustedIp | AuthMode::RememberedDevice)
    }

    /// Whether the mode reaches the user through a mobile app device token.
    pub const fn uses_device_token(self) -> bool {
        matches!(self, AuthMode::MobileAppNotification)
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::PhoneCall => "phone call",
            AuthMode::SmsOneWay => "one-way SMS",
            AuthMode::SmsTwoWay => "two-way SMS",
            AuthMode::MobileAppNotification => "mobile app notification",
            AuthMode::OathCode => "OATH code",
            AuthMode::AppPassword => "app password",
            AuthMode::TrustedIp => "trusted IP (no second factor)",
            AuthMode::RememberedDevice => "remembered device (no second factor)",
        })
    }
}

impl FromStr for AuthMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<AuthMode, Error> {
        AuthMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| Error::invalid_value(s))
    }
}

/// The result of an authentication: success, or denied with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "result", rename_all = "snake_case"))]
pub enum AuthResult {
    /// The user verified.
    Success,
    /// The authentication was denied.
    Denied(DenialReason),
}

impl AuthResult {
    /// Whether the result is a success.
    pub const fn is_success(&self) -> bool {
        matches!(self, AuthResult::Success)
    }

    /// The denial reason, if denied.
    pub const fn denial(&self) -> Option<&DenialReason> {
        match self {
            AuthResult::Success => None,
            AuthResult::Denied(r) => Some(r),
        }
    }
}

impl From<DenialReason> for AuthResult {
    fn from(r: DenialReason) -> AuthResult {
        AuthResult::Denied(r)
    }
}

impl fmt::Display for AuthResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthResult::Success => f.write_str("success"),
            AuthResult::Denied(r) => write!(f, "denied: {r}"),
        }
    }
}

/// Everything the server knows about one authentication, before the
/// [`FieldPolicy`] is applied. Turn it into a storable [`AuthEvent`] with
/// [`AuthEvent::record`]; the attempt itself is never stored or exported.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use mfa_oath::UnixTime;
/// use mfa_record::{AuthAttempt, AuthMode, AuthResult, ServerName, UserId};
///
/// let mut attempt = AuthAttempt::new(
///     UnixTime::from_secs(1_700_000_000),
///     UserId::new("helga@contoso.com")?,
///     AuthMode::OathCode,
///     AuthResult::Success,
///     ServerName::new("mfa01")?,
///     IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
/// );
/// attempt.client_ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[non_exhaustive]
pub struct AuthAttempt {
    /// When the authentication happened.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_time"))]
    pub time: UnixTime,
    /// The user's unique ID.
    pub user: UserId,
    /// First name (optional field).
    #[cfg_attr(feature = "serde", serde(default))]
    pub first_name: Option<PersonName>,
    /// Last name (optional field).
    #[cfg_attr(feature = "serde", serde(default))]
    pub last_name: Option<PersonName>,
    /// E-mail address (optional field).
    #[cfg_attr(feature = "serde", serde(default))]
    pub email: Option<Email>,
    /// The phone called or texted (call and SMS modes only).
    #[cfg_attr(feature = "serde", serde(default))]
    pub phone: Option<PhoneNumber>,
    /// The app's device token (mobile app mode only).
    #[cfg_attr(feature = "serde", serde(default))]
    pub device_token: Option<DeviceToken>,
    /// The authentication mode.
    pub mode: AuthMode,
    /// Success, or denied with the reason.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub result: AuthResult,
    /// The MFA server's name.
    pub server_name: ServerName,
    /// The MFA server's IP.
    pub server_ip: IpAddr,
    /// The client's IP, when available.
    #[cfg_attr(feature = "serde", serde(default))]
    pub client_ip: Option<IpAddr>,
}

impl AuthAttempt {
    /// An attempt with the fields that are always recorded; set the optional
    /// ones on the returned value.
    pub fn new(
        time: UnixTime,
        user: UserId,
        mode: AuthMode,
        result: AuthResult,
        server_name: ServerName,
        server_ip: IpAddr,
    ) -> AuthAttempt {
        AuthAttempt {
            time,
            user,
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            device_token: None,
            mode,
            result,
            server_name,
            server_ip,
            client_ip: None,
        }
    }
}

/// One entry of the authentication log (SPEC §5): the user, the time, the
/// mode, the result and reason, the MFA server's name and IP, and the
/// optional fields the [`FieldPolicy`] lets through.
///
/// An `AuthEvent` can only be made by [`AuthEvent::record`], which drops
/// every field the policy switches off; its fields are private, so a dropped
/// field cannot come back by mistake.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use mfa_oath::UnixTime;
/// use mfa_record::{
///     AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialReason, Email, FieldPolicy,
///     PhoneNumber, ServerName, UserId,
/// };
///
/// let mut attempt = AuthAttempt::new(
///     UnixTime::from_secs(1_700_000_000),
///     UserId::new("helga@contoso.com")?,
///     AuthMode::SmsOneWay,
///     AuthResult::Denied(DenialReason::CodeExpired),
///     ServerName::new("mfa01")?,
///     IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
/// );
/// attempt.email = Some(Email::new("helga@contoso.com")?);
/// attempt.phone = Some(PhoneNumber::new("+1 425 555 1234")?);
///
/// let mut policy = FieldPolicy::default();
/// policy.email = false;
/// let event = AuthEvent::record(attempt, &policy)?;
/// assert_eq!(event.email(), None); // dropped at construction
/// assert_eq!(event.phone().map(PhoneNumber::as_str), Some("+14255551234"));
/// assert_eq!(event.result().denial(), Some(&DenialReason::CodeExpired));
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "AuthAttempt"))]
pub struct AuthEvent {
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_time"))]
    time: UnixTime,
    user: UserId,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    first_name: Option<PersonName>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    last_name: Option<PersonName>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    email: Option<Email>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    phone: Option<PhoneNumber>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    device_token: Option<DeviceToken>,
    mode: AuthMode,
    #[cfg_attr(feature = "serde", serde(flatten))]
    result: AuthResult,
    server_name: ServerName,
    server_ip: IpAddr,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    client_ip: Option<IpAddr>,
}

impl AuthEvent {
    /// Records `attempt` under `policy`: every optional field the policy
    /// switches off is dropped here.
    ///
    /// # Errors
    ///
    /// [`Error::FieldNotApplicable`] when the attempt has a phone number but
    /// its mode is not a call or SMS, or a device token but its mode is not
    /// a mobile app notification (checked whether or not the policy records
    /// the field).
    pub fn record(attempt: AuthAttempt, policy: &FieldPolicy) -> Result<AuthEvent, Error> {
        let AuthAttempt {
            time,
            user,
            first_name,
            last_name,
            email,
            phone,
            device_token,
            mode,
            result,
            server_name,
            server_ip,
            client_ip,
        } = attempt;
        if phone.is_some() && !mode.uses_phone() {
            return Err(Error::FieldNotApplicable {
                field: Field::Phone,
                mode,
            });
        }
        if device_token.is_some() && !mode.uses_device_token() {
            return Err(Error::FieldNotApplicable {
                field: Field::DeviceToken,
                mode,
            });
        }
        let mut event = AuthEvent {
            time,
            user,
            first_name,
            last_name,
            email,
            phone,
            device_token,
            mode,
            result,
            server_name,
            server_ip,
            client_ip,
        };
        event.apply_policy(policy);
        Ok(event)
    }

    /// Drops the fields `policy` switches off. Use it on stored events when
    /// a field has been switched off since they were recorded.
    pub fn apply_policy(&mut self, policy: &FieldPolicy) {
        if !policy.name {
            self.first_name = None;
            self.last_name = None;
        }
        if !policy.email {
            self.email = None;
        }
        if !policy.phone {
            self.phone = None;
        }
        if !policy.device_token {
            self.device_token = None;
        }
        if !policy.client_ip {
            self.client_ip = None;
        }
    }

    /// When the authentication happened.
    pub fn time(&self) -> UnixTime {
        self.time
    }
    /// The user's unique ID.
    pub fn user(&self) -> &UserId {
        &self.user
    }
    /// First name, if recorded.
    pub fn first_name(&self) -> Option<&PersonName> {
        self.first_name.as_ref()
    }
    /// Last name, if recorded.
    pub fn last_name(&self) -> Option<&PersonName> {
        self.last_name.as_ref()
    }
    /// E-mail address, if recorded.
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }
    /// Phone number, if recorded (call and SMS modes).
    pub fn phone(&self) -> Option<&PhoneNumber> {
        self.phone.as_ref()
    }
    /// Device token, if recorded (mobile app mode).
    pub fn device_token(&self) -> Option<&DeviceToken> {
        self.device_token.as_ref()
    }
    /// The authentication mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }
    /// Success, or denied with the reason.
    pub fn result(&self) -> &AuthResult {
        &self.result
    }
    /// The MFA server's name.
    pub fn server_name(&self) -> &ServerName {
        &self.server_name
    }
    /// The MFA server's IP.
    pub fn server_ip(&self) -> IpAddr {
        self.server_ip
    }
    /// The client's IP, if available and recorded.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }
}

impl TryFrom<AuthAttempt> for AuthEvent {
    type Error = Error;
    /// [`AuthEvent::record`] with [`FieldPolicy::all`]: keeps every field the
    /// attempt has (used to restore stored events).
    fn try_from(a: AuthAttempt) -> Result<AuthEvent, Error> {
        AuthEvent::record(a, &FieldPolicy::all())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn attempt(mode: AuthMode) -> AuthAttempt {
        let mut a = AuthAttempt::new(
            UnixTime::from_secs(1_700_000_000),
            UserId::new("u1").unwrap(),
            mode,
            AuthResult::Success,
            ServerName::new("mfa01").unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        );
        a.first_name = Some(PersonName::new("Helga").unwrap());
        a.last_name = Some(PersonName::new("Ek").unwrap());
        a.email = Some(Email::new("helga@contoso.com").unwrap());
        a.client_ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        if mode.uses_phone() {
            a.phone = Some(PhoneNumber::new("+14255551234").unwrap());
        }
        if mode.uses_device_token() {
            a.device_token = Some(DeviceToken::new("tok").unwrap());
        }
        a
    }

    #[test]
    fn all_policy_keeps_everything() {
        for mode in AuthMode::ALL {
            let e = AuthEvent::record(attempt(mode), &FieldPolicy::all()).unwrap();
            assert!(e.first_name().is_some() && e.last_name().is_some());
            assert!(e.email().is_some() && e.client_ip().is_some());
            assert_eq!(e.phone().is_some(), mode.uses_phone());
            assert_eq!(e.device_token().is_some(), mode.uses_device_token());
        }
    }

    #[test]
    fn switched_off_fields_are_dropped_at_construction() {
        for mode in AuthMode::ALL {
            let e = AuthEvent::record(attempt(mode), &FieldPolicy::minimal()).unwrap();
            assert_eq!(e.first_name(), None);
            assert_eq!(e.last_name(), None);
            assert_eq!(e.email(), None);
            assert_eq!(e.phone(), None);
            assert_eq!(e.device_token(), None);
            assert_eq!(e.client_ip(), None);
            // Mandatory fields stay.
            assert_eq!(e.user().as_str(), "u1");
            assert_eq!(e.mode(), mode);
        }
    }

    #[test]
    fn each_switch_drops_only_its_field() {
        let base = AuthEvent::record(attempt(AuthMode::PhoneCall), &FieldPolicy::all()).unwrap();
        let mut p = FieldPolicy::all();
        p.email = false;
        let e = AuthEvent::record(attempt(AuthMode::PhoneCall), &p).unwrap();
        assert_eq!(e.email(), None);
        assert_eq!(e.first_name(), base.first_name());
        assert_eq!(e.phone(), base.phone());
        assert_eq!(e.client_ip(), base.client_ip());
    }

    #[test]
    fn apply_policy_later_scrubs() {
        let mut e = AuthEvent::record(attempt(AuthMode::PhoneCall), &FieldPolicy::all()).unwrap();
        let mut p = FieldPolicy::all();
        p.phone = false;
        e.apply_policy(&p);
        assert_eq!(e.phone(), None);
        assert!(e.email().is_some());
    }

    #[test]
    fn fields_must_fit_the_mode() {
        let mut a = attempt(AuthMode::OathCode);
        a.phone = Some(PhoneNumber::new("+14255551234").unwrap());
        assert!(matches!(
            AuthEvent::record(a, &FieldPolicy::minimal()),
            Err(Error::FieldNotApplicable {
                field: Field::Phone,
                mode: AuthMode::OathCode
            })
        ));
        let mut a = attempt(AuthMode::SmsTwoWay);
        a.device_token = Some(DeviceToken::new("tok").unwrap());
        assert!(matches!(
            AuthEvent::record(a, &FieldPolicy::all()),
            Err(Error::FieldNotApplicable {
                field: Field::DeviceToken,
                ..
            })
        ));
    }

    #[test]
    fn mode_codes_round_trip() {
        for m in AuthMode::ALL {
            assert_eq!(m.as_str().parse::<AuthMode>().unwrap(), m);
        }
        assert!("sms".parse::<AuthMode>().is_err());
    }
}
