//! The lockout policy: threshold, reset window, automatic unblock, escalation,
//! hard cap.

use crate::{Error, PolicyField};

/// The largest hard cap on consecutive denials: NIST SP 800-63B §5.2.2 says
/// a verifier SHALL limit consecutive failed attempts on one account to no
/// more than 100.
pub const MAX_HARD_CAP: u32 = 100;

/// How each further lockout lasts longer.
///
/// Lockout number `n` (counted since the last success or administrator
/// unblock, starting at 1) lasts `unblock_after × factorⁿ⁻¹` seconds, but never
/// more than `cap` seconds.
///
/// ```
/// use mfa_lockout::{Escalation, Policy};
///
/// let policy = Policy::from_minutes(5, 10, 10)?.with_escalation(Escalation::new(2, 3600)?)?;
/// assert_eq!(policy.lock_duration(1), Some(600));
/// assert_eq!(policy.lock_duration(2), Some(1200));
/// assert_eq!(policy.lock_duration(3), Some(2400));
/// assert_eq!(policy.lock_duration(4), Some(3600)); // capped
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Escalation {
    factor: u32,
    cap: u64,
}

impl Escalation {
    /// Each lockout lasts `factor` times as long as the previous one, up to
    /// `cap_secs` seconds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] with [`PolicyField::EscalationFactor`] when
    /// `factor < 2`, or [`PolicyField::EscalationCap`] when `cap_secs` is 0.
    pub fn new(factor: u32, cap_secs: u64) -> Result<Escalation, Error> {
        if factor < 2 {
            return Err(Error::InvalidPolicy {
                field: PolicyField::EscalationFactor,
                value: u64::from(factor),
            });
        }
        if cap_secs == 0 {
            return Err(Error::InvalidPolicy {
                field: PolicyField::EscalationCap,
                value: 0,
            });
        }
        Ok(Escalation {
            factor,
            cap: cap_secs,
        })
    }

    /// The multiplier from one lockout to the next.
    pub const fn factor(&self) -> u32 {
        self.factor
    }

    /// The longest a lockout can last, in seconds.
    pub const fn cap_secs(&self) -> u64 {
        self.cap
    }
}

/// A lockout policy for one factor class.
///
/// The three settings of the reference system (denials that lock, minutes
/// until the counter is reset, minutes until automatic unblock) plus two
/// hardenings: a hard cap on consecutive denials that only an administrator
/// clears (on by default, at [`MAX_HARD_CAP`]) and [`Escalation`] (off by
/// default).
///
/// Defaults ([`Policy::default`], and every policy [`Policy::new`] makes):
/// 10 denials, 10 minutes, 10 minutes, no escalation, a hard cap of 100
/// consecutive denials, denials while locked neither counted nor extending
/// the lock. The reference documentation names the settings but gives no
/// default values; the first three are the defaults of the Windows 11 (22H2
/// and later) account lockout policy. The hard cap is what NIST SP 800-63B
/// §5.2.2 requires (a verifier SHALL limit consecutive failed attempts to
/// no more than 100): with automatic unblock alone, an attacker who waits
/// out each lock could guess forever.
///
/// ```
/// use mfa_lockout::Policy;
///
/// let policy = Policy::default();
/// assert_eq!(policy.threshold(), 10);
/// assert_eq!(policy.reset_window_secs(), 600);
/// assert_eq!(policy.unblock_after_secs(), 600);
/// assert_eq!(policy.hard_cap(), Some(100));
///
/// // 0 minutes until automatic unblock: only an administrator unblocks.
/// let strict = Policy::from_minutes(3, 15, 0)?.with_hard_cap(20)?;
/// assert_eq!(strict.lock_duration(1), None);
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    threshold: u32,
    reset_window: u64,
    unblock_after: u64,
    escalation: Option<Escalation>,
    hard_cap: Option<u32>,
    extend_while_locked: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            threshold: Policy::DEFAULT_THRESHOLD,
            reset_window: Policy::DEFAULT_RESET_WINDOW_SECS,
            unblock_after: Policy::DEFAULT_UNBLOCK_AFTER_SECS,
            escalation: None,
            hard_cap: Some(MAX_HARD_CAP),
            extend_while_locked: false,
        }
    }
}

impl Policy {
    /// Default number of denials that lock: 10.
    pub const DEFAULT_THRESHOLD: u32 = 10;
    /// Default reset window: 10 minutes.
    pub const DEFAULT_RESET_WINDOW_SECS: u64 = 600;
    /// Default time until automatic unblock: 10 minutes.
    pub const DEFAULT_UNBLOCK_AFTER_SECS: u64 = 600;

    /// A policy from the three settings in seconds. `unblock_after_secs == 0`
    /// means only an administrator unblocks.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] when `threshold` is 0
    /// ([`PolicyField::Threshold`]) or `reset_window_secs` is 0
    /// ([`PolicyField::ResetWindow`]; a zero window would never let two
    /// denials add up, which silently disables lockout).
    ///
    /// ```
    /// use mfa_lockout::{Error, Policy, PolicyField};
    /// assert!(Policy::new(5, 300, 900).is_ok());
    /// assert!(matches!(
    ///     Policy::new(0, 300, 900),
    ///     Err(Error::InvalidPolicy { field: PolicyField::Threshold, .. })
    /// ));
    /// ```
    pub fn new(
        threshold: u32,
        reset_window_secs: u64,
        unblock_after_secs: u64,
    ) -> Result<Policy, Error> {
        if threshold == 0 {
            return Err(Error::InvalidPolicy {
                field: PolicyField::Threshold,
                value: 0,
            });
        }
        if reset_window_secs == 0 {
            return Err(Error::InvalidPolicy {
                field: PolicyField::ResetWindow,
                value: 0,
            });
        }
        Ok(Policy {
            threshold,
            reset_window: reset_window_secs,
            unblock_after: unblock_after_secs,
            ..Policy::default()
        })
    }

    /// A policy from the reference system's three settings, in minutes:
    /// "number of MFA denials that trigger account lockout", "minutes until
    /// account lockout counter is reset", "minutes until account is
    /// automatically unblocked" (0 = only an administrator unblocks).
    ///
    /// # Errors
    ///
    /// As [`Policy::new`].
    ///
    /// ```
    /// let p = mfa_lockout::Policy::from_minutes(3, 5, 15)?;
    /// assert_eq!((p.reset_window_secs(), p.unblock_after_secs()), (300, 900));
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn from_minutes(
        denials: u32,
        reset_minutes: u32,
        unblock_minutes: u32,
    ) -> Result<Policy, Error> {
        Policy::new(
            denials,
            u64::from(reset_minutes) * 60,
            u64::from(unblock_minutes) * 60,
        )
    }

    /// Turns on escalation: each further lockout lasts longer, up to the cap.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] with [`PolicyField::EscalationCap`] when the
    /// policy has no automatic unblock (nothing to escalate) or the cap is
    /// shorter than the first lockout.
    ///
    /// ```
    /// use mfa_lockout::{Escalation, Policy};
    /// let p = Policy::from_minutes(5, 10, 0)?;
    /// assert!(p.with_escalation(Escalation::new(2, 3600)?).is_err());
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn with_escalation(self, escalation: Escalation) -> Result<Policy, Error> {
        if self.unblock_after == 0 || escalation.cap < self.unblock_after {
            return Err(Error::InvalidPolicy {
                field: PolicyField::EscalationCap,
                value: escalation.cap,
            });
        }
        Ok(Policy {
            escalation: Some(escalation),
            ..self
        })
    }

    /// Sets the hard cap: after `cap` consecutive denials (across reset
    /// windows and expired lockouts, cleared only by a success or an
    /// administrator) the account stays locked until an administrator
    /// unblocks it. Every policy has one; the default is [`MAX_HARD_CAP`],
    /// and it can only be lowered.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPolicy`] with [`PolicyField::HardCap`] unless
    /// `1 <= cap <= 100` ([`MAX_HARD_CAP`]).
    ///
    /// ```
    /// let p = mfa_lockout::Policy::default();
    /// assert!(p.with_hard_cap(100).is_ok());
    /// assert!(p.with_hard_cap(101).is_err());
    /// ```
    pub fn with_hard_cap(self, cap: u32) -> Result<Policy, Error> {
        if cap == 0 || cap > MAX_HARD_CAP {
            return Err(Error::InvalidPolicy {
                field: PolicyField::HardCap,
                value: u64::from(cap),
            });
        }
        Ok(Policy {
            hard_cap: Some(cap),
            ..self
        })
    }

    /// Whether a denial recorded while the account is locked counts (and
    /// pushes the end of the lock out to `now` + the current lock duration).
    /// Off by default: while locked, attempts are denied without being
    /// verified and do not extend the lock.
    ///
    /// ```
    /// let p = mfa_lockout::Policy::default().with_extend_while_locked(true);
    /// assert!(p.extend_while_locked());
    /// ```
    #[must_use]
    pub const fn with_extend_while_locked(self, extend: bool) -> Policy {
        Policy {
            extend_while_locked: extend,
            ..self
        }
    }

    /// Denials inside the reset window that lock the account.
    pub const fn threshold(&self) -> u32 {
        self.threshold
    }

    /// The reset window in seconds: when the gap since the previous denial is
    /// longer than this, counting starts again at 1.
    pub const fn reset_window_secs(&self) -> u64 {
        self.reset_window
    }

    /// Seconds until automatic unblock of the first lockout; 0 means only an
    /// administrator unblocks.
    pub const fn unblock_after_secs(&self) -> u64 {
        self.unblock_after
    }

    /// The escalation, if on.
    pub const fn escalation(&self) -> Option<Escalation> {
        self.escalation
    }

    /// The hard cap on consecutive denials: [`MAX_HARD_CAP`] unless lowered
    /// with [`Policy::with_hard_cap`]. (Every policy has one; the `Option`
    /// keeps the signature of earlier versions.)
    pub const fn hard_cap(&self) -> Option<u32> {
        self.hard_cap
    }

    /// Whether denials while locked count and extend the lock.
    pub const fn extend_while_locked(&self) -> bool {
        self.extend_while_locked
    }

    /// How long lockout number `lockout` (1 = the first since the last
    /// success or administrator unblock) lasts, in seconds; `None` when only
    /// an administrator unblocks.
    ///
    /// ```
    /// let p = mfa_lockout::Policy::default();
    /// assert_eq!(p.lock_duration(1), Some(600));
    /// assert_eq!(p.lock_duration(7), Some(600)); // no escalation
    /// ```
    pub fn lock_duration(&self, lockout: u32) -> Option<u64> {
        if self.unblock_after == 0 {
            return None;
        }
        let Some(esc) = self.escalation else {
            return Some(self.unblock_after);
        };
        let mut duration = self.unblock_after;
        for _ in 1..lockout {
            duration = duration.saturating_mul(u64::from(esc.factor));
            if duration >= esc.cap {
                return Some(esc.cap);
            }
        }
        Some(duration.min(esc.cap))
    }
}
