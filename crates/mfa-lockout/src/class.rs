//! Factor classes, one policy and one counter per class.

use core::fmt;

use mfa_time::UnixTime;

use crate::{Decision, Error, LockoutState, Policy, Unblocked};

/// The kind of secret a denial is about. Each class has its own counter and
/// its own [`Policy`], so a store keys lockout state by (user, class).
///
/// The reference system applies lockout to PIN entry only; we count every
/// class (guessing a 6-digit code needs throttling as much as a PIN does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FactorClass {
    /// A PIN entered on the phone call or in the app.
    Pin,
    /// An OATH code (hardware token or authenticator app).
    Otp,
    /// A one-time code sent by SMS.
    SmsCode,
    /// A phone call answered and confirmed (or denied) on the keypad.
    VoiceCall,
    /// A mobile app notification approved or denied.
    AppNotification,
    /// An app password (for an application that cannot do MFA).
    AppPassword,
}

impl FactorClass {
    /// Every class, in a stable order.
    pub const ALL: [FactorClass; 6] = [
        FactorClass::Pin,
        FactorClass::Otp,
        FactorClass::SmsCode,
        FactorClass::VoiceCall,
        FactorClass::AppNotification,
        FactorClass::AppPassword,
    ];

    /// A stable lower-case name, for a database key or a log.
    ///
    /// ```
    /// use mfa_lockout::FactorClass;
    /// for class in FactorClass::ALL {
    ///     assert_eq!(FactorClass::from_name(class.as_str()), Some(class));
    /// }
    /// assert_eq!(FactorClass::SmsCode.as_str(), "sms_code");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            FactorClass::Pin => "pin",
            FactorClass::Otp => "otp",
            FactorClass::SmsCode => "sms_code",
            FactorClass::VoiceCall => "voice_call",
            FactorClass::AppNotification => "app_notification",
            FactorClass::AppPassword => "app_password",
        }
    }

    /// The class named by [`FactorClass::as_str`], or `None`.
    pub fn from_name(name: &str) -> Option<FactorClass> {
        FactorClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    const fn index(self) -> usize {
        match self {
            FactorClass::Pin => 0,
            FactorClass::Otp => 1,
            FactorClass::SmsCode => 2,
            FactorClass::VoiceCall => 3,
            FactorClass::AppNotification => 4,
            FactorClass::AppPassword => 5,
        }
    }
}

impl fmt::Display for FactorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One [`Policy`] per [`FactorClass`]. The default uses [`Policy::default`]
/// for every class.
///
/// ```
/// use mfa_lockout::{FactorClass, Policies, Policy};
/// let policies = Policies::default().with(FactorClass::Pin, Policy::from_minutes(3, 5, 15)?);
/// assert_eq!(policies.get(FactorClass::Pin).threshold(), 3);
/// assert_eq!(policies.get(FactorClass::Otp).threshold(), 10);
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Policies([Policy; 6]);

impl Policies {
    /// The same policy for every class.
    pub const fn uniform(policy: Policy) -> Policies {
        Policies([policy; 6])
    }

    /// Replaces the policy of one class.
    #[must_use]
    pub fn with(mut self, class: FactorClass, policy: Policy) -> Policies {
        if let Some(slot) = self.0.get_mut(class.index()) {
            *slot = policy;
        }
        self
    }

    /// The policy of one class.
    pub const fn get(&self, class: FactorClass) -> &Policy {
        let [pin, otp, sms, voice, app, app_password] = &self.0;
        match class {
            FactorClass::Pin => pin,
            FactorClass::Otp => otp,
            FactorClass::SmsCode => sms,
            FactorClass::VoiceCall => voice,
            FactorClass::AppNotification => app,
            FactorClass::AppPassword => app_password,
        }
    }
}

/// The lockout state of one user: one [`LockoutState`] per [`FactorClass`],
/// a small `Copy` value. Locks are per class: a PIN lock denies PIN attempts
/// and PIN-based approvals; use [`UserLockout::locked`] to deny the whole
/// account while any class is locked.
///
/// ```
/// use mfa_lockout::{FactorClass, Policies, Policy, UserLockout};
/// use mfa_time::UnixTime;
///
/// let policies = Policies::uniform(Policy::from_minutes(2, 5, 15)?);
/// let t = UnixTime::from_secs(1_000);
/// let mut user = UserLockout::new();
/// for _ in 0..2 {
///     user = user.record_failure(&policies, FactorClass::Pin, t)?.0;
/// }
/// assert!(!user.check(&policies, FactorClass::Pin, t).is_allowed());
/// assert!(user.check(&policies, FactorClass::Otp, t).is_allowed());
/// assert_eq!(user.locked(&policies, t).map(|(class, _)| class), Some(FactorClass::Pin));
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UserLockout([LockoutState; 5]);

impl UserLockout {
    /// No denials in any class.
    pub const fn new() -> UserLockout {
        UserLockout([LockoutState::new(); 5])
    }

    /// The state of one class.
    pub fn state(&self, class: FactorClass) -> LockoutState {
        self.0.get(class.index()).copied().unwrap_or_default()
    }

    /// Replaces the state of one class (e.g. when loading from a store).
    #[must_use]
    pub fn with_state(mut self, class: FactorClass, state: LockoutState) -> UserLockout {
        if let Some(slot) = self.0.get_mut(class.index()) {
            *slot = state;
        }
        self
    }

    /// [`LockoutState::check`] for one class.
    pub fn check(&self, policies: &Policies, class: FactorClass, now: UnixTime) -> Decision {
        self.state(class).check(policies.get(class), now)
    }

    /// The first locked class at `now` and its decision, if any.
    pub fn locked(&self, policies: &Policies, now: UnixTime) -> Option<(FactorClass, Decision)> {
        FactorClass::ALL
            .into_iter()
            .map(|class| (class, self.check(policies, class, now)))
            .find(|(_, decision)| !decision.is_allowed())
    }

    /// [`LockoutState::ensure_allowed`] for one class.
    ///
    /// # Errors
    ///
    /// As [`LockoutState::ensure_allowed`].
    pub fn ensure_allowed(
        &self,
        policies: &Policies,
        class: FactorClass,
        now: UnixTime,
    ) -> Result<Decision, Error> {
        self.state(class).ensure_allowed(policies.get(class), now)
    }

    /// [`LockoutState::record_failure`] for one class.
    ///
    /// # Errors
    ///
    /// As [`LockoutState::record_failure`].
    pub fn record_failure(
        self,
        policies: &Policies,
        class: FactorClass,
        now: UnixTime,
    ) -> Result<(UserLockout, Decision), Error> {
        let (state, decision) = self.state(class).record_failure(policies.get(class), now)?;
        Ok((self.with_state(class, state), decision))
    }

    /// [`LockoutState::record_success`] for one class.
    ///
    /// # Errors
    ///
    /// As [`LockoutState::record_success`].
    pub fn record_success(
        self,
        policies: &Policies,
        class: FactorClass,
        now: UnixTime,
    ) -> Result<(UserLockout, Decision), Error> {
        let (state, decision) = self.state(class).record_success(policies.get(class), now)?;
        Ok((self.with_state(class, state), decision))
    }

    /// [`LockoutState::admin_unblock`] for one class.
    ///
    /// # Errors
    ///
    /// As [`LockoutState::admin_unblock`].
    pub fn admin_unblock(
        self,
        policies: &Policies,
        class: FactorClass,
        now: UnixTime,
        reason: &str,
    ) -> Result<(UserLockout, Unblocked), Error> {
        let (state, effect) = self
            .state(class)
            .admin_unblock(policies.get(class), now, reason)?;
        Ok((self.with_state(class, state), effect))
    }

    /// Unblocks every locked class at once, with one reason; returns one
    /// effect per class that was locked.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReason`] / [`Error::ReasonTooLong`] for a bad reason;
    /// [`Error::NotLocked`] (with the PIN counter) when no class is locked.
    ///
    /// ```
    /// use mfa_lockout::{Error, Policies, UserLockout};
    /// use mfa_time::UnixTime;
    /// let r = UserLockout::new().admin_unblock_all(&Policies::default(), UnixTime::from_secs(0), "lost phone");
    /// assert!(matches!(r, Err(Error::NotLocked { .. })));
    /// ```
    pub fn admin_unblock_all(
        self,
        policies: &Policies,
        now: UnixTime,
        reason: &str,
    ) -> Result<(UserLockout, Vec<(FactorClass, Unblocked)>), Error> {
        crate::state::validate_reason(reason)?;
        let mut next = self;
        let mut effects = Vec::new();
        for class in FactorClass::ALL {
            if !self.check(policies, class, now).is_allowed() {
                let (user, effect) = next.admin_unblock(policies, class, now, reason)?;
                next = user;
                effects.push((class, effect));
            }
        }
        if effects.is_empty() {
            let failures = match self.check(policies, FactorClass::Pin, now) {
                Decision::Allowed { failures, .. } => failures,
                _ => 0,
            };
            return Err(Error::NotLocked { failures });
        }
        Ok((next, effects))
    }

    /// The earliest [`LockoutState::next_deadline`] over all classes.
    pub fn next_deadline(&self, policies: &Policies, now: UnixTime) -> Option<UnixTime> {
        FactorClass::ALL
            .into_iter()
            .filter_map(|class| self.state(class).next_deadline(policies.get(class), now))
            .min()
    }
}
