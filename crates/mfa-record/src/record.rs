//! The user record: profile, methods, OATH tokens, app passwords.

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};

use mfa_oath::UnixTime;

use crate::{
    AppPasswordName, AuthMode, DenialReason, DeviceToken, Email, Error, Field, FieldPolicy,
    MethodPolicy, PersonName, PhoneNumber, TokenSerial, UserId,
};

/// The most OATH tokens (hardware tokens and authenticator apps together) a
/// user may have.
pub const MAX_OATH_TOKENS: usize = 5;
/// The most phone numbers a user may register.
pub const MAX_PHONES: usize = 10;
/// The most mobile app installations (device tokens) a user may register.
pub const MAX_DEVICE_TOKENS: usize = 10;
/// The most app passwords a user may have (the cloud reference's limit).
pub const MAX_APP_PASSWORDS: usize = 40;

/// What kind of OATH token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum OathTokenKind {
    /// A third-party hardware token (imported).
    Hardware,
    /// An authenticator app (software token).
    App,
}

/// An OATH token assigned to a user. The secret and verification state live
/// in the store; the record holds the reference and the activation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct OathToken {
    /// The serial number, unique across all users.
    pub serial: TokenSerial,
    /// Hardware token or app.
    pub kind: OathTokenKind,
    /// When an administrator (or the user, for an app) activated it by
    /// entering a current code; `None` while inactive. An inactive token
    /// cannot sign in ([`DenialReason::NotActivated`]).
    #[cfg_attr(feature = "serde", serde(default, with = "crate::serde_time::option"))]
    pub activated_at: Option<UnixTime>,
}

impl OathToken {
    /// A token that is not activated yet.
    pub fn new(serial: TokenSerial, kind: OathTokenKind) -> OathToken {
        OathToken {
            serial,
            kind,
            activated_at: None,
        }
    }

    /// Whether the token is activated.
    pub fn is_activated(&self) -> bool {
        self.activated_at.is_some()
    }
}

/// What a phone number is used as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PhoneKind {
    /// The authentication (mobile) phone.
    Mobile,
    /// An office phone.
    Office,
    /// An alternate authentication phone.
    Alternate,
}

/// A phone number registered by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct RegisteredPhone {
    /// The number.
    pub number: PhoneNumber,
    /// What it is used as.
    pub kind: PhoneKind,
}

/// The stored verifier of an app password (for example a PHC-format
/// Argon2 hash made by the store). The record never holds the password
/// itself, and `Debug` does not show the verifier.
///
/// Printable ASCII, 1 to [`AppPasswordVerifier::MAX_LEN`] bytes.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct AppPasswordVerifier(String);

impl AppPasswordVerifier {
    /// The longest verifier accepted, in bytes.
    pub const MAX_LEN: usize = 512;

    /// Validates `value`.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::TooLong`] or [`Error::InvalidCharacter`]
    /// (anything outside printable ASCII), naming [`Field::AppPassword`].
    ///
    /// ```
    /// use mfa_record::AppPasswordVerifier;
    /// let v = AppPasswordVerifier::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")?;
    /// assert_eq!(format!("{v:?}"), "AppPasswordVerifier([REDACTED])");
    /// # Ok::<(), mfa_record::Error>(())
    /// ```
    pub fn new(value: impl Into<String>) -> Result<AppPasswordVerifier, Error> {
        let value = value.into();
        crate::text::check_printable_ascii(Field::AppPassword, &value, Self::MAX_LEN)?;
        Ok(AppPasswordVerifier(value))
    }

    /// The verifier, for the store to check a password against.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppPasswordVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppPasswordVerifier([REDACTED])")
    }
}

impl TryFrom<String> for AppPasswordVerifier {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        AppPasswordVerifier::new(value)
    }
}

impl From<AppPasswordVerifier> for String {
    fn from(v: AppPasswordVerifier) -> String {
        v.0
    }
}

/// An app password (for legacy clients that cannot do MFA).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct AppPassword {
    /// The name the user gave it, unique per user.
    pub name: AppPasswordName,
    /// When it was created.
    #[cfg_attr(feature = "serde", serde(with = "crate::serde_time"))]
    pub created: UnixTime,
    /// The verifier (never the password).
    pub verifier: AppPasswordVerifier,
}

impl AppPassword {
    /// An app password record.
    pub fn new(name: AppPasswordName, created: UnixTime, verifier: AppPasswordVerifier) -> Self {
        AppPassword {
            name,
            created,
            verifier,
        }
    }
}

/// Whether a user is configured for MFA (what per-user billing counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "status", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum MfaStatus {
    /// Not configured for MFA.
    #[default]
    Disabled,
    /// Configured for MFA since a time.
    Enabled {
        /// Since when.
        #[cfg_attr(feature = "serde", serde(with = "crate::serde_time"))]
        since: UnixTime,
    },
}

/// Why a user must (re-)register before signing in with MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "reason", content = "mode", rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum RegistrationReason {
    /// The user never chose a default method (or it was cleared).
    NoDefaultMethod,
    /// The administrator disabled the user's default method.
    MethodDisabled(AuthMode),
    /// What the default method needs (phone, device token, activated OATH
    /// token) is no longer registered.
    MethodNotRegistered(AuthMode),
}

impl From<RegistrationReason> for DenialReason {
    fn from(r: RegistrationReason) -> DenialReason {
        match r {
            RegistrationReason::MethodDisabled(_) => DenialReason::MethodDisabled,
            RegistrationReason::NoDefaultMethod | RegistrationReason::MethodNotRegistered(_) => {
                DenialReason::RegistrationRequired
            }
        }
    }
}

/// The record of one user (SPEC §5): unique ID, optional profile fields,
/// MFA status, phones, app device tokens, OATH tokens (at most
/// [`MAX_OATH_TOKENS`]), app passwords and default method.
///
/// ```
/// use mfa_oath::UnixTime;
/// use mfa_record::{
///     AuthMode, Error, MethodPolicy, OathToken, OathTokenKind, RegistrationReason,
///     RegistrationStatus, TokenSerial, UserId, UserRecord,
/// };
///
/// let now = UnixTime::from_secs(1_700_000_000);
/// let mut user = UserRecord::new(UserId::new("helga@contoso.com")?);
/// let serial = TokenSerial::new("1234567")?;
/// // The caller says who owns the token now (None: nobody).
/// user.add_oath_token(OathToken::new(serial.clone(), OathTokenKind::Hardware), None)?;
/// user.activate_oath_token(&serial, now)?;
///
/// let mut policy = MethodPolicy::all();
/// user.set_default_method(AuthMode::OathCode, &policy)?;
/// assert_eq!(user.registration_status(&policy), RegistrationStatus::Ready(AuthMode::OathCode));
///
/// // The administrator disables OATH codes: the user must register again.
/// policy = policy.without(AuthMode::OathCode);
/// assert_eq!(
///     user.enforce_method_policy(&policy),
///     Some(RegistrationReason::MethodDisabled(AuthMode::OathCode))
/// );
/// assert_eq!(user.default_method(), None);
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "RawUserRecord"))]
pub struct UserRecord {
    id: UserId,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    first_name: Option<PersonName>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    last_name: Option<PersonName>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    email: Option<Email>,
    mfa: MfaStatus,
    phones: Vec<RegisteredPhone>,
    device_tokens: Vec<DeviceToken>,
    oath_tokens: Vec<OathToken>,
    app_passwords: Vec<AppPassword>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    default_method: Option<AuthMode>,
}

/// Whether a user can sign in with MFA or must register first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistrationStatus {
    /// The default method is allowed and usable.
    Ready(AuthMode),
    /// The user must register (again).
    Required(RegistrationReason),
}

impl UserRecord {
    /// A new user with nothing registered and MFA disabled.
    pub fn new(id: UserId) -> UserRecord {
        UserRecord {
            id,
            first_name: None,
            last_name: None,
            email: None,
            mfa: MfaStatus::Disabled,
            phones: Vec::new(),
            device_tokens: Vec::new(),
            oath_tokens: Vec::new(),
            app_passwords: Vec::new(),
            default_method: None,
        }
    }

    /// The unique ID.
    pub fn id(&self) -> &UserId {
        &self.id
    }

    /// Sets first name, last name and e-mail address, dropping those
    /// `policy` switches off (so they are never stored).
    pub fn set_profile(
        &mut self,
        first_name: Option<PersonName>,
        last_name: Option<PersonName>,
        email: Option<Email>,
        policy: &FieldPolicy,
    ) {
        self.first_name = first_name;
        self.last_name = last_name;
        self.email = email;
        self.apply_field_policy(policy);
    }

    /// Drops the profile fields `policy` switches off (after a policy change).
    pub fn apply_field_policy(&mut self, policy: &FieldPolicy) {
        if !policy.name {
            self.first_name = None;
            self.last_name = None;
        }
        if !policy.email {
            self.email = None;
        }
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

    /// Whether the user is configured for MFA.
    pub fn mfa_status(&self) -> MfaStatus {
        self.mfa
    }

    /// Configures the user for MFA from `now` (no change if already enabled).
    pub fn enable_mfa(&mut self, now: UnixTime) {
        if self.mfa == MfaStatus::Disabled {
            self.mfa = MfaStatus::Enabled { since: now };
        }
    }

    /// Stops MFA for the user.
    pub fn disable_mfa(&mut self) {
        self.mfa = MfaStatus::Disabled;
    }

    /// Whether the user was configured for MFA at some time before `end`
    /// and still is (what per-user billing counts for a period ending at
    /// `end`, whether or not the user signed in).
    pub fn configured_before(&self, end: UnixTime) -> bool {
        matches!(self.mfa, MfaStatus::Enabled { since } if since < end)
    }

    // ----- phones -----

    /// The registered phones.
    pub fn phones(&self) -> &[RegisteredPhone] {
        &self.phones
    }

    /// Registers a phone number.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyPresent`] if the number is registered already,
    /// [`Error::LimitReached`] past [`MAX_PHONES`].
    pub fn add_phone(&mut self, number: PhoneNumber, kind: PhoneKind) -> Result<(), Error> {
        if self.phones.iter().any(|p| p.number == number) {
            return Err(Error::AlreadyPresent { what: Field::Phone });
        }
        if self.phones.len() >= MAX_PHONES {
            return Err(Error::LimitReached {
                what: Field::Phone,
                max: MAX_PHONES,
            });
        }
        self.phones.push(RegisteredPhone { number, kind });
        Ok(())
    }

    /// Removes a phone number.
    ///
    /// # Errors
    ///
    /// [`Error::NotPresent`] if it is not registered.
    pub fn remove_phone(&mut self, number: &PhoneNumber) -> Result<RegisteredPhone, Error> {
        let i = self
            .phones
            .iter()
            .position(|p| &p.number == number)
            .ok_or(Error::NotPresent { what: Field::Phone })?;
        Ok(self.phones.remove(i))
    }

    // ----- device tokens -----

    /// The registered mobile app installations.
    pub fn device_tokens(&self) -> &[DeviceToken] {
        &self.device_tokens
    }

    /// Registers a mobile app installation.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyPresent`], or [`Error::LimitReached`] past
    /// [`MAX_DEVICE_TOKENS`].
    pub fn add_device_token(&mut self, token: DeviceToken) -> Result<(), Error> {
        if self.device_tokens.contains(&token) {
            return Err(Error::AlreadyPresent {
                what: Field::DeviceToken,
            });
        }
        if self.device_tokens.len() >= MAX_DEVICE_TOKENS {
            return Err(Error::LimitReached {
                what: Field::DeviceToken,
                max: MAX_DEVICE_TOKENS,
            });
        }
        self.device_tokens.push(token);
        Ok(())
    }

    /// Removes a mobile app installation.
    ///
    /// # Errors
    ///
    /// [`Error::NotPresent`] if it is not registered.
    pub fn remove_device_token(&mut self, token: &DeviceToken) -> Result<(), Error> {
        let i = self
            .device_tokens
            .iter()
            .position(|t| t == token)
            .ok_or(Error::NotPresent {
                what: Field::DeviceToken,
            })?;
        self.device_tokens.remove(i);
        Ok(())
    }

    // ----- OATH tokens -----

    /// The assigned OATH tokens (at most [`MAX_OATH_TOKENS`]).
    pub fn oath_tokens(&self) -> &[OathToken] {
        &self.oath_tokens
    }

    /// The assigned token with this serial number.
    pub fn oath_token(&self, serial: &TokenSerial) -> Option<&OathToken> {
        self.oath_tokens.iter().find(|t| &t.serial == serial)
    }

    /// Assigns an OATH token to this user.
    ///
    /// A token belongs to one user only: `current_owner` is who holds the
    /// token now according to the store (`None` if nobody); the store reads
    /// it in the same transaction that saves the record. [`UserDirectory`]
    /// does this bookkeeping itself.
    ///
    /// # Errors
    ///
    /// In this order: [`Error::TokenAssignedToOtherUser`] if `current_owner`
    /// is another user, [`Error::TokenAlreadyAssigned`] if this user has it,
    /// [`Error::TooManyOathTokens`] if the user has [`MAX_OATH_TOKENS`]
    /// already. Nothing changes on error.
    pub fn add_oath_token(
        &mut self,
        token: OathToken,
        current_owner: Option<&UserId>,
    ) -> Result<(), Error> {
        match current_owner {
            Some(owner) if owner != &self.id => {
                return Err(Error::TokenAssignedToOtherUser {
                    serial: token.serial,
                    owner: owner.clone(),
                });
            }
            Some(_) => {
                return Err(Error::TokenAlreadyAssigned {
                    serial: token.serial,
                });
            }
            None => {}
        }
        if self.oath_token(&token.serial).is_some() {
            return Err(Error::TokenAlreadyAssigned {
                serial: token.serial,
            });
        }
        if self.oath_tokens.len() >= MAX_OATH_TOKENS {
            return Err(Error::TooManyOathTokens {
                user: self.id.clone(),
                max: MAX_OATH_TOKENS,
            });
        }
        self.oath_tokens.push(token);
        Ok(())
    }

    /// Unassigns an OATH token and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownToken`] if this user does not have it.
    pub fn remove_oath_token(&mut self, serial: &TokenSerial) -> Result<OathToken, Error> {
        let i = self.token_index(serial)?;
        Ok(self.oath_tokens.remove(i))
    }

    /// Marks a token activated at `now` (after the caller verified the code
    /// it shows). Activating an active token keeps the first activation time.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownToken`] if this user does not have it.
    pub fn activate_oath_token(
        &mut self,
        serial: &TokenSerial,
        now: UnixTime,
    ) -> Result<(), Error> {
        let i = self.token_index(serial)?;
        if let Some(t) = self.oath_tokens.get_mut(i) {
            t.activated_at.get_or_insert(now);
        }
        Ok(())
    }

    /// Whether `serial` may be used to sign in as this user now: the
    /// denial reason if not.
    ///
    /// # Errors
    ///
    /// [`DenialReason::UnknownToken`] if the user does not have the token,
    /// [`DenialReason::NotActivated`] if it is not activated.
    pub fn check_oath_token(&self, serial: &TokenSerial) -> Result<&OathToken, DenialReason> {
        match self.oath_token(serial) {
            None => Err(DenialReason::UnknownToken),
            Some(t) if !t.is_activated() => Err(DenialReason::NotActivated),
            Some(t) => Ok(t),
        }
    }

    fn token_index(&self, serial: &TokenSerial) -> Result<usize, Error> {
        self.oath_tokens
            .iter()
            .position(|t| &t.serial == serial)
            .ok_or_else(|| Error::UnknownToken {
                serial: serial.clone(),
            })
    }

    // ----- app passwords -----

    /// The app passwords.
    pub fn app_passwords(&self) -> &[AppPassword] {
        &self.app_passwords
    }

    /// Adds an app password.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyPresent`] if one with the same name exists,
    /// [`Error::LimitReached`] past [`MAX_APP_PASSWORDS`].
    pub fn add_app_password(&mut self, password: AppPassword) -> Result<(), Error> {
        if self.app_passwords.iter().any(|p| p.name == password.name) {
            return Err(Error::AlreadyPresent {
                what: Field::AppPassword,
            });
        }
        if self.app_passwords.len() >= MAX_APP_PASSWORDS {
            return Err(Error::LimitReached {
                what: Field::AppPassword,
                max: MAX_APP_PASSWORDS,
            });
        }
        self.app_passwords.push(password);
        Ok(())
    }

    /// Removes one app password.
    ///
    /// # Errors
    ///
    /// [`Error::NotPresent`] if there is none with this name.
    pub fn remove_app_password(&mut self, name: &AppPasswordName) -> Result<AppPassword, Error> {
        let i = self
            .app_passwords
            .iter()
            .position(|p| &p.name == name)
            .ok_or(Error::NotPresent {
                what: Field::AppPassword,
            })?;
        Ok(self.app_passwords.remove(i))
    }

    /// Deletes all of the user's app passwords at once (for example after a
    /// lost phone) and returns how many there were.
    pub fn delete_all_app_passwords(&mut self) -> usize {
        let n = self.app_passwords.len();
        self.app_passwords.clear();
        n
    }

    // ----- methods -----

    /// Whether the user has registered what `mode` needs: a phone for calls
    /// and SMS, a device token for app notifications, an activated OATH
    /// token for codes.
    pub fn has_registered(&self, mode: AuthMode) -> bool {
        match mode {
            AuthMode::PhoneCall | AuthMode::SmsOneWay | AuthMode::SmsTwoWay => {
                !self.phones.is_empty()
            }
            AuthMode::MobileAppNotification => !self.device_tokens.is_empty(),
            AuthMode::OathCode => self.oath_tokens.iter().any(OathToken::is_activated),
            AuthMode::AppPassword => !self.app_passwords.is_empty(),
            // A bypass is granted by the network or a device, never registered.
            AuthMode::TrustedIp | AuthMode::RememberedDevice => false,
        }
    }

    /// The default method the user chose, if any.
    pub fn default_method(&self) -> Option<AuthMode> {
        self.default_method
    }

    /// Chooses the default method (the registration step).
    ///
    /// # Errors
    ///
    /// [`Error::MethodDisabled`] if `policy` does not allow `mode`,
    /// [`Error::MethodNotRegistered`] if the user has not registered what it
    /// needs ([`UserRecord::has_registered`]).
    pub fn set_default_method(
        &mut self,
        mode: AuthMode,
        policy: &MethodPolicy,
    ) -> Result<(), Error> {
        if !policy.allows(mode) {
            return Err(Error::MethodDisabled { mode });
        }
        if !self.has_registered(mode) {
            return Err(Error::MethodNotRegistered { mode });
        }
        self.default_method = Some(mode);
        Ok(())
    }

    /// Whether the user can sign in with their default method under
    /// `policy`, or must register (again) first.
    pub fn registration_status(&self, policy: &MethodPolicy) -> RegistrationStatus {
        match self.default_method {
            None => RegistrationStatus::Required(RegistrationReason::NoDefaultMethod),
            Some(m) if !policy.allows(m) => {
                RegistrationStatus::Required(RegistrationReason::MethodDisabled(m))
            }
            Some(m) if !self.has_registered(m) => {
                RegistrationStatus::Required(RegistrationReason::MethodNotRegistered(m))
            }
            Some(m) => RegistrationStatus::Ready(m),
        }
    }

    /// Applies a method policy: if the administrator disabled the user's
    /// default method, the default is cleared, so the user must register
    /// again even if the method is enabled later, and the reason is
    /// returned. Returns `None` when nothing changed.
    pub fn enforce_method_policy(&mut self, policy: &MethodPolicy) -> Option<RegistrationReason> {
        match self.default_method {
            Some(m) if !policy.allows(m) => {
                self.default_method = None;
                Some(RegistrationReason::MethodDisabled(m))
            }
            _ => None,
        }
    }

    /// The method to prompt the user with, or why the sign-in is denied
    /// ([`DenialReason::MethodDisabled`] or
    /// [`DenialReason::RegistrationRequired`]).
    ///
    /// # Errors
    ///
    /// The denial reason when [`UserRecord::registration_status`] is not
    /// ready.
    pub fn sign_in_method(&self, policy: &MethodPolicy) -> Result<AuthMode, DenialReason> {
        match self.registration_status(policy) {
            RegistrationStatus::Ready(m) => Ok(m),
            RegistrationStatus::Required(r) => Err(r.into()),
        }
    }
}

/// The serde form of [`UserRecord`], checked on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUserRecord {
    id: UserId,
    #[serde(default)]
    first_name: Option<PersonName>,
    #[serde(default)]
    last_name: Option<PersonName>,
    #[serde(default)]
    email: Option<Email>,
    #[serde(default)]
    mfa: MfaStatus,
    #[serde(default)]
    phones: Vec<RegisteredPhone>,
    #[serde(default)]
    device_tokens: Vec<DeviceToken>,
    #[serde(default)]
    oath_tokens: Vec<OathToken>,
    #[serde(default)]
    app_passwords: Vec<AppPassword>,
    #[serde(default)]
    default_method: Option<AuthMode>,
}

#[cfg(feature = "serde")]
impl TryFrom<RawUserRecord> for UserRecord {
    type Error = Error;
    /// Rebuilds the record through its own checked operations, so a stored
    /// record with six tokens or duplicate entries is refused.
    fn try_from(raw: RawUserRecord) -> Result<UserRecord, Error> {
        let mut r = UserRecord::new(raw.id);
        r.first_name = raw.first_name;
        r.last_name = raw.last_name;
        r.email = raw.email;
        r.mfa = raw.mfa;
        for p in raw.phones {
            r.add_phone(p.number, p.kind)?;
        }
        for t in raw.device_tokens {
            r.add_device_token(t)?;
        }
        for t in raw.oath_tokens {
            r.add_oath_token(t, None)?;
        }
        for p in raw.app_passwords {
            r.add_app_password(p)?;
        }
        r.default_method = raw.default_method;
        Ok(r)
    }
}

/// An in-memory set of user records that enforces the token rules across
/// users: each token belongs to one user only, and no user has more than
/// [`MAX_OATH_TOKENS`]. The store does the same with its own index; this
/// type is the reference for it, and is handy for tools and tests.
///
/// ```
/// use mfa_record::{Error, OathToken, OathTokenKind, TokenSerial, UserDirectory, UserId, UserRecord};
///
/// let mut dir = UserDirectory::new();
/// let (a, b) = (UserId::new("a")?, UserId::new("b")?);
/// dir.insert(UserRecord::new(a.clone()))?;
/// dir.insert(UserRecord::new(b.clone()))?;
/// let serial = TokenSerial::new("T1")?;
/// dir.assign_token(&a, OathToken::new(serial.clone(), OathTokenKind::Hardware))?;
/// assert!(matches!(
///     dir.assign_token(&b, OathToken::new(serial.clone(), OathTokenKind::Hardware)),
///     Err(Error::TokenAssignedToOtherUser { .. })
/// ));
/// assert_eq!(dir.owner_of(&serial), Some(&a));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct UserDirectory {
    users: BTreeMap<UserId, UserRecord>,
    owners: BTreeMap<TokenSerial, UserId>,
}

impl UserDirectory {
    /// An empty directory.
    pub fn new() -> UserDirectory {
        UserDirectory::default()
    }

    /// Adds a user (with any tokens the record already has).
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateUser`], or [`Error::TokenAssignedToOtherUser`] if
    /// one of the record's tokens belongs to another user.
    pub fn insert(&mut self, record: UserRecord) -> Result<(), Error> {
        if self.users.contains_key(record.id()) {
            return Err(Error::DuplicateUser {
                user: record.id().clone(),
            });
        }
        for t in record.oath_tokens() {
            if let Some(owner) = self.owners.get(&t.serial) {
                return Err(Error::TokenAssignedToOtherUser {
                    serial: t.serial.clone(),
                    owner: owner.clone(),
                });
            }
        }
        for t in record.oath_tokens() {
            self.owners.insert(t.serial.clone(), record.id().clone());
        }
        self.users.insert(record.id().clone(), record);
        Ok(())
    }

    /// Removes a user and frees their tokens.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`].
    pub fn remove(&mut self, user: &UserId) -> Result<UserRecord, Error> {
        let record = self
            .users
            .remove(user)
            .ok_or_else(|| Error::UnknownUser { user: user.clone() })?;
        for t in record.oath_tokens() {
            self.owners.remove(&t.serial);
        }
        Ok(record)
    }

    /// The user's record.
    pub fn get(&self, user: &UserId) -> Option<&UserRecord> {
        self.users.get(user)
    }

    /// Every record, ordered by user ID.
    pub fn users(&self) -> impl Iterator<Item = &UserRecord> {
        self.users.values()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Who owns the token, if anyone.
    pub fn owner_of(&self, serial: &TokenSerial) -> Option<&UserId> {
        self.owners.get(serial)
    }

    /// Assigns a token to a user ([`UserRecord::add_oath_token`] with the
    /// current owner looked up here).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], then those of [`UserRecord::add_oath_token`].
    pub fn assign_token(&mut self, user: &UserId, token: OathToken) -> Result<(), Error> {
        let record = self
            .users
            .get_mut(user)
            .ok_or_else(|| Error::UnknownUser { user: user.clone() })?;
        let serial = token.serial.clone();
        record.add_oath_token(token, self.owners.get(&serial))?;
        self.owners.insert(serial, user.clone());
        Ok(())
    }

    /// Unassigns a token from whoever has it; returns the owner and token.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownToken`] if nobody has it.
    pub fn unassign_token(&mut self, serial: &TokenSerial) -> Result<(UserId, OathToken), Error> {
        let owner = self
            .owners
            .get(serial)
            .cloned()
            .ok_or_else(|| Error::UnknownToken {
                serial: serial.clone(),
            })?;
        let record = self
            .users
            .get_mut(&owner)
            .ok_or_else(|| Error::UnknownUser {
                user: owner.clone(),
            })?;
        let token = record.remove_oath_token(serial)?;
        self.owners.remove(serial);
        Ok((owner, token))
    }

    /// Changes one user's record with `f`, then checks the token rules
    /// across users. `f` works on a copy: if it fails, or the result would
    /// give a token to two users, nothing changes.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUser`], the error `f` returns, or
    /// [`Error::TokenAssignedToOtherUser`].
    pub fn modify<T>(
        &mut self,
        user: &UserId,
        f: impl FnOnce(&mut UserRecord) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let current = self
            .users
            .get(user)
            .ok_or_else(|| Error::UnknownUser { user: user.clone() })?;
        let mut copy = current.clone();
        let out = f(&mut copy)?;
        // The record keeps its ID (it has no setter), but check anyway.
        if copy.id() != user {
            return Err(Error::DuplicateUser {
                user: copy.id().clone(),
            });
        }
        for t in copy.oath_tokens() {
            match self.owners.get(&t.serial) {
                Some(owner) if owner != user => {
                    return Err(Error::TokenAssignedToOtherUser {
                        serial: t.serial.clone(),
                        owner: owner.clone(),
                    });
                }
                _ => {}
            }
        }
        let before: BTreeSet<TokenSerial> = current
            .oath_tokens()
            .iter()
            .map(|t| t.serial.clone())
            .collect();
        for s in &before {
            self.owners.remove(s);
        }
        for t in copy.oath_tokens() {
            self.owners.insert(t.serial.clone(), user.clone());
        }
        self.users.insert(user.clone(), copy);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::new(s).unwrap()
    }
    fn serial(s: &str) -> TokenSerial {
        TokenSerial::new(s).unwrap()
    }
    fn token(s: &str) -> OathToken {
        OathToken::new(serial(s), OathTokenKind::Hardware)
    }

    #[test]
    fn sixth_token_is_refused() {
        let mut u = UserRecord::new(uid("u"));
        for i in 0..MAX_OATH_TOKENS {
            let kind = if i % 2 == 0 {
                OathTokenKind::Hardware
            } else {
                OathTokenKind::App
            };
            u.add_oath_token(OathToken::new(serial(&format!("T{i}")), kind), None)
                .unwrap();
        }
        let err = u.add_oath_token(token("T5"), None).unwrap_err();
        assert!(
            matches!(&err, Error::TooManyOathTokens { user, max: 5 } if user.as_str() == "u"),
            "{err:?}"
        );
        assert_eq!(u.oath_tokens().len(), 5);
        // After removing one, a new one fits again.
        u.remove_oath_token(&serial("T0")).unwrap();
        u.add_oath_token(token("T5"), None).unwrap();
        assert_eq!(u.oath_tokens().len(), 5);
    }

    #[test]
    fn token_of_another_user_is_refused() {
        let mut u = UserRecord::new(uid("u"));
        let other = uid("v");
        let err = u.add_oath_token(token("T"), Some(&other)).unwrap_err();
        assert!(
            matches!(&err, Error::TokenAssignedToOtherUser { serial, owner }
                if serial.as_str() == "T" && owner == &other),
            "{err:?}"
        );
        assert!(u.oath_tokens().is_empty());
        // Own token twice: a different error.
        u.add_oath_token(token("T"), None).unwrap();
        assert!(matches!(
            u.add_oath_token(token("T"), None),
            Err(Error::TokenAlreadyAssigned { .. })
        ));
        assert!(matches!(
            u.add_oath_token(token("T"), Some(&uid("u"))),
            Err(Error::TokenAlreadyAssigned { .. })
        ));
    }

    #[test]
    fn other_owner_wins_over_full_list() {
        let mut u = UserRecord::new(uid("u"));
        for i in 0..5 {
            u.add_oath_token(token(&format!("T{i}")), None).unwrap();
        }
        assert!(matches!(
            u.add_oath_token(token("X"), Some(&uid("v"))),
            Err(Error::TokenAssignedToOtherUser { .. })
        ));
    }

    #[test]
    fn directory_enforces_single_owner() {
        let mut d = UserDirectory::new();
        d.insert(UserRecord::new(uid("a"))).unwrap();
        d.insert(UserRecord::new(uid("b"))).unwrap();
        assert!(matches!(
            d.insert(UserRecord::new(uid("a"))),
            Err(Error::DuplicateUser { .. })
        ));
        d.assign_token(&uid("a"), token("T")).unwrap();
        assert!(matches!(
            d.assign_token(&uid("b"), token("T")),
            Err(Error::TokenAssignedToOtherUser { .. })
        ));
        // Bypass attempt through modify: refused, nothing changes.
        let r = d.modify(&uid("b"), |rec| rec.add_oath_token(token("T"), None));
        assert!(matches!(r, Err(Error::TokenAssignedToOtherUser { .. })));
        assert!(d.get(&uid("b")).unwrap().oath_tokens().is_empty());
        // Insert of a record holding someone else's token: refused.
        let mut c = UserRecord::new(uid("c"));
        c.add_oath_token(token("T"), None).unwrap();
        assert!(matches!(
            d.insert(c),
            Err(Error::TokenAssignedToOtherUser { .. })
        ));
        // Move the token: unassign, then assign.
        let (owner, t) = d.unassign_token(&serial("T")).unwrap();
        assert_eq!(owner, uid("a"));
        d.assign_token(&uid("b"), t).unwrap();
        assert_eq!(d.owner_of(&serial("T")), Some(&uid("b")));
        // Removing a user frees their tokens.
        d.remove(&uid("b")).unwrap();
        assert_eq!(d.owner_of(&serial("T")), None);
        d.assign_token(&uid("a"), token("T")).unwrap();
    }

    #[test]
    fn directory_modify_updates_index() {
        let mut d = UserDirectory::new();
        d.insert(UserRecord::new(uid("a"))).unwrap();
        d.modify(&uid("a"), |r| r.add_oath_token(token("T"), None))
            .unwrap();
        assert_eq!(d.owner_of(&serial("T")), Some(&uid("a")));
        d.modify(&uid("a"), |r| r.remove_oath_token(&serial("T")).map(drop))
            .unwrap();
        assert_eq!(d.owner_of(&serial("T")), None);
        assert!(matches!(
            d.modify(&uid("zz"), |_| Ok(())),
            Err(Error::UnknownUser { .. })
        ));
    }

    #[test]
    fn disabled_method_forces_reregistration() {
        let mut u = UserRecord::new(uid("u"));
        u.add_phone(PhoneNumber::new("+14255551234").unwrap(), PhoneKind::Mobile)
            .unwrap();
        let all = MethodPolicy::all();
        u.set_default_method(AuthMode::SmsOneWay, &all).unwrap();
        assert_eq!(
            u.registration_status(&all),
            RegistrationStatus::Ready(AuthMode::SmsOneWay)
        );
        assert_eq!(u.sign_in_method(&all), Ok(AuthMode::SmsOneWay));

        let no_sms = all.without(AuthMode::SmsOneWay);
        // Even before enforcement the disabled method is never used.
        assert_eq!(
            u.registration_status(&no_sms),
            RegistrationStatus::Required(RegistrationReason::MethodDisabled(AuthMode::SmsOneWay))
        );
        assert_eq!(u.sign_in_method(&no_sms), Err(DenialReason::MethodDisabled));
        // Enforcement clears the choice: sticky even if re-enabled.
        assert_eq!(
            u.enforce_method_policy(&no_sms),
            Some(RegistrationReason::MethodDisabled(AuthMode::SmsOneWay))
        );
        assert_eq!(u.enforce_method_policy(&no_sms), None);
        assert_eq!(
            u.registration_status(&all),
            RegistrationStatus::Required(RegistrationReason::NoDefaultMethod)
        );
        assert_eq!(
            u.sign_in_method(&all),
            Err(DenialReason::RegistrationRequired)
        );
        // The disabled method cannot be chosen again; another one can.
        assert!(matches!(
            u.set_default_method(AuthMode::SmsOneWay, &no_sms),
            Err(Error::MethodDisabled {
                mode: AuthMode::SmsOneWay
            })
        ));
        u.set_default_method(AuthMode::PhoneCall, &no_sms).unwrap();
        assert_eq!(u.sign_in_method(&no_sms), Ok(AuthMode::PhoneCall));
        // A policy that leaves the default alone changes nothing.
        assert_eq!(u.enforce_method_policy(&no_sms), None);
        assert_eq!(u.default_method(), Some(AuthMode::PhoneCall));
    }

    #[test]
    fn default_method_needs_its_registration() {
        let mut u = UserRecord::new(uid("u"));
        let all = MethodPolicy::all();
        for m in AuthMode::ALL {
            assert!(matches!(
                u.set_default_method(m, &all),
                Err(Error::MethodNotRegistered { .. })
            ));
        }
        // An inactive OATH token is not enough.
        u.add_oath_token(token("T"), None).unwrap();
        assert!(u.set_default_method(AuthMode::OathCode, &all).is_err());
        assert_eq!(
            u.check_oath_token(&serial("T")).unwrap_err(),
            DenialReason::NotActivated
        );
        assert_eq!(
            u.check_oath_token(&serial("X")).unwrap_err(),
            DenialReason::UnknownToken
        );
        u.activate_oath_token(&serial("T"), UnixTime::from_secs(5))
            .unwrap();
        u.activate_oath_token(&serial("T"), UnixTime::from_secs(9))
            .unwrap();
        assert_eq!(
            u.oath_token(&serial("T")).unwrap().activated_at,
            Some(UnixTime::from_secs(5))
        );
        u.set_default_method(AuthMode::OathCode, &all).unwrap();
        // Removing the token makes the default unusable.
        u.remove_oath_token(&serial("T")).unwrap();
        assert_eq!(
            u.registration_status(&all),
            RegistrationStatus::Required(RegistrationReason::MethodNotRegistered(
                AuthMode::OathCode
            ))
        );
        u.add_device_token(DeviceToken::new("d").unwrap()).unwrap();
        u.set_default_method(AuthMode::MobileAppNotification, &all)
            .unwrap();
    }

    #[test]
    fn app_passwords_delete_all() {
        let mut u = UserRecord::new(uid("u"));
        let v = AppPasswordVerifier::new("$argon2id$x").unwrap();
        for i in 0..3 {
            u.add_app_password(AppPassword::new(
                AppPasswordName::new(format!("app{i}")).unwrap(),
                UnixTime::from_secs(i),
                v.clone(),
            ))
            .unwrap();
        }
        assert!(matches!(
            u.add_app_password(AppPassword::new(
                AppPasswordName::new("app1").unwrap(),
                UnixTime::EPOCH,
                v.clone()
            )),
            Err(Error::AlreadyPresent {
                what: Field::AppPassword
            })
        ));
        u.remove_app_password(&AppPasswordName::new("app0").unwrap())
            .unwrap();
        assert_eq!(u.delete_all_app_passwords(), 2);
        assert!(u.app_passwords().is_empty());
        assert_eq!(u.delete_all_app_passwords(), 0);
        assert!(!format!("{u:?}").contains("argon2id"));
    }

    #[test]
    fn list_limits() {
        let mut u = UserRecord::new(uid("u"));
        for i in 0..MAX_PHONES {
            u.add_phone(
                PhoneNumber::new(format!("555000{i:02}")).unwrap(),
                PhoneKind::Office,
            )
            .unwrap();
        }
        assert!(matches!(
            u.add_phone(PhoneNumber::new("99999999").unwrap(), PhoneKind::Office),
            Err(Error::LimitReached {
                what: Field::Phone,
                max: MAX_PHONES
            })
        ));
        assert!(matches!(
            u.add_phone(PhoneNumber::new("55500000").unwrap(), PhoneKind::Office),
            Err(Error::AlreadyPresent { .. })
        ));
        for i in 0..MAX_DEVICE_TOKENS {
            u.add_device_token(DeviceToken::new(format!("d{i}")).unwrap())
                .unwrap();
        }
        assert!(matches!(
            u.add_device_token(DeviceToken::new("dx").unwrap()),
            Err(Error::LimitReached { .. })
        ));
        u.remove_device_token(&DeviceToken::new("d0").unwrap())
            .unwrap();
        assert!(matches!(
            u.remove_device_token(&DeviceToken::new("d0").unwrap()),
            Err(Error::NotPresent { .. })
        ));
        let v = AppPasswordVerifier::new("h").unwrap();
        for i in 0..MAX_APP_PASSWORDS {
            u.add_app_password(AppPassword::new(
                AppPasswordName::new(format!("a{i}")).unwrap(),
                UnixTime::EPOCH,
                v.clone(),
            ))
            .unwrap();
        }
        assert!(matches!(
            u.add_app_password(AppPassword::new(
                AppPasswordName::new("more").unwrap(),
                UnixTime::EPOCH,
                v
            )),
            Err(Error::LimitReached { .. })
        ));
    }

    #[test]
    fn profile_respects_field_policy() {
        let mut u = UserRecord::new(uid("u"));
        let mut p = FieldPolicy::all();
        p.email = false;
        u.set_profile(
            Some(PersonName::new("Helga").unwrap()),
            Some(PersonName::new("Ek").unwrap()),
            Some(Email::new("h@c").unwrap()),
            &p,
        );
        assert_eq!(u.email(), None);
        assert!(u.first_name().is_some());
        p.name = false;
        u.apply_field_policy(&p);
        assert_eq!(u.first_name(), None);
        assert_eq!(u.last_name(), None);
    }

    #[test]
    fn mfa_status_for_billing() {
        let mut u = UserRecord::new(uid("u"));
        assert!(!u.configured_before(UnixTime::from_secs(100)));
        u.enable_mfa(UnixTime::from_secs(50));
        u.enable_mfa(UnixTime::from_secs(70));
        assert_eq!(
            u.mfa_status(),
            MfaStatus::Enabled {
                since: UnixTime::from_secs(50)
            }
        );
        assert!(u.configured_before(UnixTime::from_secs(51)));
        assert!(!u.configured_before(UnixTime::from_secs(50)));
        u.disable_mfa();
        assert!(!u.configured_before(UnixTime::from_secs(100)));
    }
}
