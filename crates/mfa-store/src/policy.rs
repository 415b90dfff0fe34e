//! INTERNAL ADAPTER — lockout and fraud-block decisions.
//!
//! The pure crates `mfa-lockout` and `mfa-fraud` own these rules; they had
//! not been committed when this store was written. This module implements
//! the SPEC §3/§4 semantics the store needs (and nothing more) behind the
//! same shape — `(state, event, now) -> state` — so replacing it with the
//! real crates changes only this file and the column mapping in `store.rs`.

use mfa_oath::UnixTime;

/// Lockout settings for one factor class (SPEC §3).
///
/// ```
/// let p = mfa_store::LockoutPolicy::default();
/// assert_eq!(p.threshold, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockoutPolicy {
    /// Number of denials that lock the account (0 = never lock).
    pub threshold: u32,
    /// Seconds after which the denial counter restarts if no new denial came.
    pub reset_after: u64,
    /// Seconds until the account is unblocked automatically (0 = only an
    /// administrator can unblock).
    pub unblock_after: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            threshold: 10,
            reset_after: 5 * 60,
            unblock_after: 15 * 60,
        }
    }
}

impl LockoutPolicy {
    /// A policy from its three settings.
    pub fn new(threshold: u32, reset_after: u64, unblock_after: u64) -> LockoutPolicy {
        LockoutPolicy {
            threshold,
            reset_after,
            unblock_after,
        }
    }
}

/// The lockout counter of one user and factor class, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct LockState {
    pub(crate) failures: u64,
    pub(crate) last_failure: Option<u64>,
    pub(crate) locked: bool,
    /// `None` while locked: only an administrator unblocks.
    pub(crate) locked_until: Option<u64>,
    pub(crate) lockouts: u64,
}

impl LockState {
    /// Whether the account is locked at `now`; `Some(until)` with the
    /// automatic unblock time (None: until an administrator unblocks).
    pub(crate) fn locked_at(&self, now: UnixTime) -> Option<Option<u64>> {
        if !self.locked {
            return None;
        }
        match self.locked_until {
            Some(until) if now.secs() >= until => None,
            other => Some(other),
        }
    }

    /// A denial at `now` (not called while locked: locked attempts are
    /// denied without being verified and do not extend the lock).
    pub(crate) fn on_failure(self, policy: &LockoutPolicy, now: UnixTime) -> LockState {
        let now = now.secs();
        let mut s = self;
        if s.locked {
            // The lock expired (callers check `locked_at` first): start over.
            s.locked = false;
            s.locked_until = None;
            s.failures = 0;
        }
        if s.last_failure
            .is_some_and(|last| now.saturating_sub(last) > policy.reset_after)
        {
            s.failures = 0;
        }
        s.failures = s.failures.saturating_add(1);
        s.last_failure = Some(now);
        if policy.threshold > 0 && s.failures >= u64::from(policy.threshold) {
            s.locked = true;
            s.lockouts = s.lockouts.saturating_add(1);
            s.locked_until =
                (policy.unblock_after > 0).then(|| now.saturating_add(policy.unblock_after));
        }
        s
    }

    /// A success before the threshold clears the counter.
    pub(crate) fn on_success(self) -> LockState {
        LockState {
            failures: 0,
            last_failure: None,
            locked: false,
            locked_until: None,
            lockouts: self.lockouts,
        }
    }

    /// Administrator unblock.
    pub(crate) fn unblocked(self) -> LockState {
        self.on_success()
    }
}

/// Fraud state of a user, as stored (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FraudState {
    pub(crate) blocked: bool,
    /// `None` while blocked: until an administrator unblocks.
    pub(crate) blocked_until: Option<u64>,
    pub(crate) risk_high: bool,
}

impl FraudState {
    /// Whether sign-ins are blocked at `now`.
    pub(crate) fn blocked_at(&self, now: UnixTime) -> Option<Option<u64>> {
        if !self.blocked {
            return None;
        }
        match self.blocked_until {
            Some(until) if now.secs() >= until => None,
            other => Some(other),
        }
    }
}
