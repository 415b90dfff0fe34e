//! The lockout state of one user for one factor class, and its transitions.

use core::fmt;

use mfa_time::UnixTime;

use crate::{Error, Policy, StateField};

/// The longest administrator reason accepted, in bytes ([`check_reason`];
/// mfa-fraud's limit too).
pub const MAX_REASON_LEN: usize = 1024;

/// Why only an administrator can unblock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdminLockCause {
    /// The threshold was reached and the policy has no automatic unblock
    /// (0 minutes).
    NoAutoUnblock,
    /// The hard cap on consecutive denials was reached.
    HardCap,
}

impl fmt::Display for AdminLockCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AdminLockCause::NoAutoUnblock => "threshold reached, policy has no automatic unblock",
            AdminLockCause::HardCap => "hard cap on consecutive denials reached",
        })
    }
}

/// The lock part of a [`LockoutState`], as stored.
///
/// An expired [`Lock::Until`] is kept until the next event: expiry is lazy,
/// [`LockoutState::check`] treats it as unlocked from `until` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lock {
    /// Not locked.
    #[default]
    None,
    /// Locked; the lock no longer applies at and after this instant.
    Until(UnixTime),
    /// Locked until an administrator unblocks.
    Admin(AdminLockCause),
}

/// What the caller must do, and why (every field is for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Verify the attempt.
    Allowed {
        /// Denials counted in the current reset window.
        failures: u32,
        /// Consecutive denials since the last success or administrator unblock.
        consecutive: u32,
        /// How many more denials lock the account (the denial that makes this
        /// reach 0 locks; always at least 1).
        remaining: u32,
    },
    /// Deny without verifying, until `until`.
    Locked {
        /// The first instant at which the lock no longer applies.
        until: UnixTime,
        /// Denials counted when the lock was set (or last extended).
        failures: u32,
        /// Lockouts since the last success or administrator unblock.
        lockouts: u32,
    },
    /// Deny without verifying, until an administrator unblocks.
    LockedUntilAdmin {
        /// Why only an administrator can unblock.
        cause: AdminLockCause,
        /// Denials counted in the reset window when the lock was set.
        failures: u32,
        /// Consecutive denials since the last success or administrator unblock.
        consecutive: u32,
    },
}

impl Decision {
    /// `true` for [`Decision::Allowed`].
    ///
    /// ```
    /// use mfa_lockout::{LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// assert!(LockoutState::new().check(&Policy::default(), UnixTime::from_secs(0)).is_allowed());
    /// ```
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    /// The error that refuses an event in this decision's lock, or `None` for
    /// [`Decision::Allowed`].
    ///
    /// ```
    /// use mfa_lockout::{Decision, Error};
    /// use mfa_time::UnixTime;
    /// let d = Decision::Locked { until: UnixTime::from_secs(60), failures: 3, lockouts: 1 };
    /// assert!(matches!(d.refusal(), Some(Error::Locked { failures: 3, .. })));
    /// ```
    pub const fn refusal(&self) -> Option<Error> {
        match *self {
            Decision::Allowed { .. } => None,
            Decision::Locked {
                until,
                failures,
                lockouts,
            } => Some(Error::Locked {
                until,
                failures,
                lockouts,
            }),
            Decision::LockedUntilAdmin {
                cause,
                failures,
                consecutive,
            } => Some(Error::LockedUntilAdmin {
                cause,
                failures,
                consecutive,
            }),
        }
    }
}

/// The effect of an administrator unblock: log it, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unblocked {
    /// When the unblock happened.
    pub at: UnixTime,
    /// The administrator's reason, trimmed.
    pub reason: String,
    /// The lock that was lifted.
    pub previous: Decision,
}

/// The stored parts of a [`LockoutState`], for a database row or a C struct.
///
/// ```
/// use mfa_lockout::{LockoutState, LockoutParts, Policy};
/// use mfa_time::UnixTime;
///
/// let (state, _) = LockoutState::new().record_failure(&Policy::default(), UnixTime::from_secs(9))?;
/// let parts: LockoutParts = state.parts();
/// assert_eq!(LockoutState::from_parts(parts)?, state);
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LockoutParts {
    /// Denials in the current reset window.
    pub failures: u32,
    /// Time of the last counted denial.
    pub last_failure: Option<UnixTime>,
    /// Consecutive denials since the last success or administrator unblock.
    pub consecutive: u32,
    /// Lockouts since the last success or administrator unblock.
    pub lockouts: u32,
    /// The lock.
    pub lock: Lock,
}

/// The lockout state of one user for one factor class: a small `Copy` value
/// the caller stores. Every transition takes the [`Policy`] and the time,
/// and returns the new state with a [`Decision`] that says why.
///
/// ```
/// use mfa_lockout::{Decision, LockoutState, Policy};
/// use mfa_time::UnixTime;
///
/// let policy = Policy::from_minutes(3, 5, 15)?;
/// let mut state = LockoutState::new();
/// let t = UnixTime::from_secs(1_700_000_000);
/// for _ in 0..2 {
///     state = state.record_failure(&policy, t)?.0;
/// }
/// let (state, decision) = state.record_failure(&policy, t)?;
/// let until = UnixTime::from_secs(t.secs() + 900);
/// assert_eq!(decision, Decision::Locked { until, failures: 3, lockouts: 1 });
/// // Time alone unlocks, exactly at `until`.
/// assert!(!state.check(&policy, UnixTime::from_secs(until.secs() - 1)).is_allowed());
/// assert!(state.check(&policy, until).is_allowed());
/// # Ok::<(), mfa_lockout::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LockoutState {
    failures: u32,
    last_failure: Option<UnixTime>,
    consecutive: u32,
    lockouts: u32,
    lock: Lock,
}

impl LockoutState {
    /// A fresh state: no denials, not locked.
    pub const fn new() -> LockoutState {
        LockoutState {
            failures: 0,
            last_failure: None,
            consecutive: 0,
            lockouts: 0,
            lock: Lock::None,
        }
    }

    /// The parts to store.
    pub const fn parts(&self) -> LockoutParts {
        LockoutParts {
            failures: self.failures,
            last_failure: self.last_failure,
            consecutive: self.consecutive,
            lockouts: self.lockouts,
            lock: self.lock,
        }
    }

    /// Rebuilds a state from stored parts.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] when the parts cannot come from this crate:
    /// denials without the time of the last one, or fewer consecutive
    /// denials than denials in the window.
    ///
    /// ```
    /// use mfa_lockout::{Error, LockoutParts, LockoutState, StateField};
    /// let bad = LockoutParts { failures: 2, consecutive: 2, ..LockoutParts::default() };
    /// assert_eq!(
    ///     LockoutState::from_parts(bad),
    ///     Err(Error::InvalidState { field: StateField::LastFailure })
    /// );
    /// ```
    pub const fn from_parts(parts: LockoutParts) -> Result<LockoutState, Error> {
        if parts.failures > 0 && parts.last_failure.is_none() {
            return Err(Error::InvalidState {
                field: StateField::LastFailure,
            });
        }
        if parts.consecutive < parts.failures {
            return Err(Error::InvalidState {
                field: StateField::Consecutive,
            });
        }
        Ok(LockoutState {
            failures: parts.failures,
            last_failure: parts.last_failure,
            consecutive: parts.consecutive,
            lockouts: parts.lockouts,
            lock: parts.lock,
        })
    }

    /// The stored lock (possibly expired: see [`LockoutState::check`]).
    pub const fn lock(&self) -> Lock {
        self.lock
    }

    /// Denials counted in the current window, as stored (not adjusted for
    /// `now`; [`LockoutState::check`] gives the effective value).
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// Consecutive denials since the last success or administrator unblock.
    pub const fn consecutive(&self) -> u32 {
        self.consecutive
    }

    /// Lockouts since the last success or administrator unblock.
    pub const fn lockouts(&self) -> u32 {
        self.lockouts
    }

    /// Time of the last counted denial.
    pub const fn last_failure(&self) -> Option<UnixTime> {
        self.last_failure
    }

    /// Denials that still count at `now`: 0 once the gap since the last one
    /// exceeds the reset window, or once a timed lock has expired.
    fn effective_failures(&self, policy: &Policy, now: UnixTime) -> u32 {
        if let Lock::Until(until) = self.lock
            && now >= until
        {
            return 0;
        }
        match self.last_failure {
            Some(last) if now.secs().saturating_sub(last.secs()) > policy.reset_window_secs() => 0,
            _ => self.failures,
        }
    }

    fn allowed(policy: &Policy, failures: u32, consecutive: u32) -> Decision {
        let mut remaining = policy.threshold().saturating_sub(failures);
        if let Some(cap) = policy.hard_cap() {
            remaining = remaining.min(cap.saturating_sub(consecutive));
        }
        Decision::Allowed {
            failures,
            consecutive,
            remaining: remaining.max(1),
        }
    }

    /// What to do with an attempt at `now`: verify it ([`Decision::Allowed`])
    /// or deny it without verifying. Does not change the state (expiry is
    /// lazy). Call it before verifying.
    ///
    /// ```
    /// use mfa_lockout::{Decision, LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let d = LockoutState::new().check(&Policy::default(), UnixTime::from_secs(5));
    /// assert_eq!(d, Decision::Allowed { failures: 0, consecutive: 0, remaining: 10 });
    /// ```
    pub fn check(&self, policy: &Policy, now: UnixTime) -> Decision {
        match self.lock {
            Lock::Admin(cause) => Decision::LockedUntilAdmin {
                cause,
                failures: self.failures,
                consecutive: self.consecutive,
            },
            Lock::Until(until) if now < until => Decision::Locked {
                until,
                failures: self.failures,
                lockouts: self.lockouts,
            },
            Lock::Until(_) | Lock::None => LockoutState::allowed(
                policy,
                self.effective_failures(policy, now),
                self.consecutive,
            ),
        }
    }

    /// [`LockoutState::check`] as a `Result`, for `?`. Call it on every path
    /// that can approve a sign-in, at the moment of approval: a request that
    /// started before the lock must not be approved after it.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`] or [`Error::LockedUntilAdmin`] when locked at `now`.
    ///
    /// ```
    /// use mfa_lockout::{Error, LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let policy = Policy::from_minutes(1, 5, 5)?;
    /// let t = UnixTime::from_secs(100);
    /// let before = LockoutState::new();
    /// assert!(before.ensure_allowed(&policy, t).is_ok()); // request starts
    /// let (locked, _) = before.record_failure(&policy, t)?; // another attempt locks
    /// assert!(matches!(locked.ensure_allowed(&policy, t), Err(Error::Locked { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn ensure_allowed(&self, policy: &Policy, now: UnixTime) -> Result<Decision, Error> {
        let decision = self.check(policy, now);
        match decision.refusal() {
            Some(err) => Err(err),
            None => Ok(decision),
        }
    }

    /// Records a denial (wrong PIN or code) at `now`.
    ///
    /// Counting restarts at 1 when the gap since the previous denial exceeds
    /// the reset window (or a timed lock has expired); the denial that makes
    /// the count reach the threshold locks; with a hard cap, the denial that
    /// makes the consecutive count reach it locks until an administrator
    /// unblocks.
    ///
    /// # Errors
    ///
    /// While locked, the attempt should have been denied unverified, so it is
    /// not counted: [`Error::Locked`] / [`Error::LockedUntilAdmin`] (the state
    /// is unchanged). With [`Policy::with_extend_while_locked`] it is counted
    /// instead and the result is `Ok`.
    ///
    /// ```
    /// use mfa_lockout::{Decision, LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let policy = Policy::default();
    /// let (s, d) = LockoutState::new().record_failure(&policy, UnixTime::from_secs(1))?;
    /// assert_eq!(d, Decision::Allowed { failures: 1, consecutive: 1, remaining: 9 });
    /// // 601 s later the gap exceeds the 600 s window: counting restarts.
    /// let (_, d) = s.record_failure(&policy, UnixTime::from_secs(602))?;
    /// assert_eq!(d, Decision::Allowed { failures: 1, consecutive: 2, remaining: 9 });
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn record_failure(
        self,
        policy: &Policy,
        now: UnixTime,
    ) -> Result<(LockoutState, Decision), Error> {
        let decision = self.check(policy, now);
        let next = match decision {
            Decision::Allowed {
                failures,
                consecutive,
                ..
            } => {
                let failures = failures.saturating_add(1);
                let consecutive = consecutive.saturating_add(1);
                let mut next = LockoutState {
                    failures,
                    last_failure: Some(now),
                    consecutive,
                    lockouts: self.lockouts,
                    lock: Lock::None,
                };
                if policy.hard_cap().is_some_and(|cap| consecutive >= cap) {
                    next.lock = Lock::Admin(AdminLockCause::HardCap);
                } else if failures >= policy.threshold() {
                    next.lockouts = self.lockouts.saturating_add(1);
                    next.lock = match policy.lock_duration(next.lockouts) {
                        Some(secs) => {
                            Lock::Until(UnixTime::from_secs(now.secs().saturating_add(secs)))
                        }
                        None => Lock::Admin(AdminLockCause::NoAutoUnblock),
                    };
                }
                next
            }
            Decision::Locked { until, .. } if policy.extend_while_locked() => {
                let consecutive = self.consecutive.saturating_add(1);
                let mut next = LockoutState {
                    failures: self.failures.saturating_add(1),
                    last_failure: Some(now),
                    consecutive,
                    ..self
                };
                if policy.hard_cap().is_some_and(|cap| consecutive >= cap) {
                    next.lock = Lock::Admin(AdminLockCause::HardCap);
                } else if let Some(secs) = policy.lock_duration(self.lockouts.max(1)) {
                    let extended = UnixTime::from_secs(now.secs().saturating_add(secs));
                    next.lock = Lock::Until(until.max(extended));
                }
                next
            }
            Decision::LockedUntilAdmin { .. } if policy.extend_while_locked() => {
                let consecutive = self.consecutive.saturating_add(1);
                let mut next = LockoutState {
                    failures: self.failures.saturating_add(1),
                    last_failure: Some(now),
                    consecutive,
                    ..self
                };
                // Reaching the hard cap while locked until an administrator
                // unblocks says so (the log reason is the cap).
                if policy.hard_cap().is_some_and(|cap| consecutive >= cap) {
                    next.lock = Lock::Admin(AdminLockCause::HardCap);
                }
                next
            }
            Decision::Locked { .. } | Decision::LockedUntilAdmin { .. } => {
                return Err(decision
                    .refusal()
                    .unwrap_or(Error::NotLocked { failures: 0 }));
            }
        };
        Ok((next, next.check(policy, now)))
    }

    /// Records a success at `now`: clears every counter (window, consecutive,
    /// escalation level). This is also the approval-time re-check: approve
    /// the sign-in only when this returns `Ok`.
    ///
    /// # Errors
    ///
    /// [`Error::Locked`] / [`Error::LockedUntilAdmin`] when locked at `now`
    /// (the request must be denied; the state is unchanged).
    ///
    /// ```
    /// use mfa_lockout::{LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let policy = Policy::default();
    /// let (s, _) = LockoutState::new().record_failure(&policy, UnixTime::from_secs(1))?;
    /// let (s, _) = s.record_success(&policy, UnixTime::from_secs(2))?;
    /// assert_eq!(s, LockoutState::new());
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn record_success(
        self,
        policy: &Policy,
        now: UnixTime,
    ) -> Result<(LockoutState, Decision), Error> {
        self.ensure_allowed(policy, now)?;
        let next = LockoutState::new();
        Ok((next, next.check(policy, now)))
    }

    /// An administrator unblocks at once, with a reason for the log. Clears
    /// every counter.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyReason`] / [`Error::ReasonTooLong`] /
    /// [`Error::ReasonControlChar`] for a bad reason; [`Error::NotLocked`]
    /// when the account is not locked at `now`.
    ///
    /// ```
    /// use mfa_lockout::{Decision, LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let policy = Policy::from_minutes(1, 5, 0)?;
    /// let t = UnixTime::from_secs(50);
    /// let (s, _) = LockoutState::new().record_failure(&policy, t)?;
    /// let (s, effect) = s.admin_unblock(&policy, t, "user called the help desk")?;
    /// assert!(matches!(effect.previous, Decision::LockedUntilAdmin { .. }));
    /// assert_eq!(effect.reason, "user called the help desk");
    /// assert!(s.check(&policy, t).is_allowed());
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn admin_unblock(
        self,
        policy: &Policy,
        now: UnixTime,
        reason: &str,
    ) -> Result<(LockoutState, Unblocked), Error> {
        let reason = validate_reason(reason)?;
        let previous = self.check(policy, now);
        if let Decision::Allowed { failures, .. } = previous {
            return Err(Error::NotLocked { failures });
        }
        Ok((
            LockoutState::new(),
            Unblocked {
                at: now,
                reason: reason.to_owned(),
                previous,
            },
        ))
    }

    /// The next instant at which time alone changes the decision: the end of
    /// a timed lock, or the moment the reset window has passed since the last
    /// denial. `None` when nothing is pending (or only an administrator can
    /// unblock).
    ///
    /// ```
    /// use mfa_lockout::{LockoutState, Policy};
    /// use mfa_time::UnixTime;
    /// let policy = Policy::default();
    /// let (s, _) = LockoutState::new().record_failure(&policy, UnixTime::from_secs(0))?;
    /// assert_eq!(s.next_deadline(&policy, UnixTime::from_secs(0)), Some(UnixTime::from_secs(601)));
    /// # Ok::<(), mfa_lockout::Error>(())
    /// ```
    pub fn next_deadline(&self, policy: &Policy, now: UnixTime) -> Option<UnixTime> {
        match self.check(policy, now) {
            Decision::Locked { until, .. } => Some(until),
            Decision::LockedUntilAdmin { .. } => None,
            Decision::Allowed { failures: 0, .. } => None,
            // `None` too when the end of the window is past `u64::MAX`.
            Decision::Allowed { .. } => self.last_failure.and_then(|last| {
                last.secs()
                    .checked_add(policy.reset_window_secs())?
                    .checked_add(1)
                    .map(UnixTime::from_secs)
            }),
        }
    }
}

pub(crate) fn validate_reason(reason: &str) -> Result<&str, Error> {
    check_reason(reason).map_err(|p| match p {
        ReasonProblem::Empty => Error::EmptyReason,
        ReasonProblem::TooLong { len } => Error::ReasonTooLong {
            len,
            max: MAX_REASON_LEN,
        },
        ReasonProblem::ControlChar { position } => Error::ReasonControlChar { position },
    })
}

/// What is wrong with an administrator's reason ([`check_reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReasonProblem {
    /// Empty, or only blanks.
    Empty,
    /// Longer than [`MAX_REASON_LEN`] bytes (after trimming).
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A control character (which could forge log lines), at this byte
    /// offset of the trimmed reason.
    ControlChar {
        /// Byte offset.
        position: usize,
    },
}

/// The one rule for the reason an administrator gives for an unblock (here)
/// or a fraud block or unblock (mfa-fraud calls it): trimmed, not empty, at
/// most [`MAX_REASON_LEN`] bytes, no control character. Returns the
/// trimmed reason.
///
/// ```
/// use mfa_lockout::{ReasonProblem, check_reason};
/// assert_eq!(check_reason("  reset by phone  "), Ok("reset by phone"));
/// assert_eq!(check_reason(" "), Err(ReasonProblem::Empty));
/// assert_eq!(check_reason("a\nb"), Err(ReasonProblem::ControlChar { position: 1 }));
/// ```
///
/// # Errors
/// The [`ReasonProblem`].
pub fn check_reason(reason: &str) -> Result<&str, ReasonProblem> {
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        return Err(ReasonProblem::Empty);
    }
    if trimmed.len() > MAX_REASON_LEN {
        return Err(ReasonProblem::TooLong { len: trimmed.len() });
    }
    if let Some((position, _)) = trimmed.char_indices().find(|(_, c)| c.is_control()) {
        return Err(ReasonProblem::ControlChar { position });
    }
    Ok(trimmed)
}
