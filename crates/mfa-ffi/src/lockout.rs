//! Lockout counters: `mfa_lockout_policy` and the caller-stored
//! `mfa_lockout_state`, with the transitions of `mfa-lockout`.

use core::ffi::c_char;

use mfa_lockout::{AdminLockCause, Decision, Escalation, Lock, LockoutParts, LockoutState, Policy};
use mfa_oath::UnixTime;

use crate::error::mfa_result;
use crate::ffi::{flag_in, free_box, read_in, str_in, to_raw, write_out};

/// A lockout policy (opaque): denials that lock, reset window, automatic
/// unblock delay, optional escalation, hard cap. Created by
/// `mfa_lockout_policy_new`, adjusted by the `mfa_lockout_policy_set_*`
/// functions (which mutate it: not concurrently with any other use), freed by
/// `mfa_lockout_policy_free`. Once configured, any number of threads may use
/// it at once.
pub struct mfa_lockout_policy {
    inner: Policy,
}

/// The kind of lock in a stored `mfa_lockout_state`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_lock_kind {
    /// Not locked.
    None = 0,
    /// Locked until `lock_until` (Unix seconds).
    Until = 1,
    /// Locked until an administrator unblocks (`admin_cause` says why).
    Admin = 2,
}

/// Why only an administrator can unblock.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_admin_lock_cause {
    /// Not locked until an administrator unblocks.
    None = 0,
    /// The policy has no automatic unblock (0 minutes).
    NoAutoUnblock = 1,
    /// The hard cap on consecutive denials was reached.
    HardCap = 2,
}

/// The kind of an `mfa_lockout_decision`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_lockout_decision_kind {
    /// Verify the attempt.
    Allowed = 0,
    /// Deny without verifying, until `until`.
    Locked = 1,
    /// Deny without verifying, until an administrator unblocks.
    LockedUntilAdmin = 2,
}

/// The lockout state of one user for one factor class, stored by the caller
/// (for example in a database row). All zeros is a fresh state.
///
/// `has_last_failure` is a `uint8_t`, not a `bool`, so that a state rebuilt
/// from a database column can hold any byte without undefined behaviour: a
/// value other than 0 or 1 is refused with `MFA_RESULT_INVALID_FLAG`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_lockout_state {
    /// Denials in the current reset window.
    pub failures: u32,
    /// 1 if `last_failure` is set, else 0.
    pub has_last_failure: u8,
    /// Time of the last counted denial (Unix seconds).
    pub last_failure: u64,
    /// Consecutive denials since the last success or administrator unblock.
    pub consecutive: u32,
    /// Lockouts since the last success or administrator unblock.
    pub lockouts: u32,
    /// An `mfa_lock_kind`.
    pub lock: u32,
    /// For `MFA_LOCK_KIND_UNTIL`: the first instant the lock no longer applies.
    pub lock_until: u64,
    /// For `MFA_LOCK_KIND_ADMIN`: an `mfa_admin_lock_cause`.
    pub admin_cause: u32,
}

/// What to do with an attempt, and why (every field is for the log).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_lockout_decision {
    /// An `mfa_lockout_decision_kind`.
    pub kind: u32,
    /// Denials counted in the reset window.
    pub failures: u32,
    /// Consecutive denials (ALLOWED and LOCKED_UNTIL_ADMIN).
    pub consecutive: u32,
    /// ALLOWED: how many more denials lock the account (at least 1).
    pub remaining: u32,
    /// LOCKED: lockouts since the last success or unblock.
    pub lockouts: u32,
    /// LOCKED: the first instant the lock no longer applies (Unix seconds).
    pub until: u64,
    /// LOCKED_UNTIL_ADMIN: an `mfa_admin_lock_cause`.
    pub admin_cause: u32,
}

fn cause_to_u32(c: AdminLockCause) -> u32 {
    match c {
        AdminLockCause::NoAutoUnblock => mfa_admin_lock_cause::NoAutoUnblock as u32,
        AdminLockCause::HardCap => mfa_admin_lock_cause::HardCap as u32,
        _ => mfa_admin_lock_cause::None as u32,
    }
}

fn cause_from_u32(n: u32) -> Result<AdminLockCause, mfa_result> {
    match n {
        1 => Ok(AdminLockCause::NoAutoUnblock),
        2 => Ok(AdminLockCause::HardCap),
        _ => Err(mfa_result::LockoutInvalidState),
    }
}

fn state_in(s: mfa_lockout_state) -> Result<LockoutState, mfa_result> {
    let lock = match s.lock {
        0 => Lock::None,
        1 => Lock::Until(UnixTime::from_secs(s.lock_until)),
        2 => Lock::Admin(cause_from_u32(s.admin_cause)?),
        _ => return Err(mfa_result::LockoutInvalidState),
    };
    let parts = LockoutParts {
        failures: s.failures,
        last_failure: flag_in(s.has_last_failure)?.then(|| UnixTime::from_secs(s.last_failure)),
        consecutive: s.consecutive,
        lockouts: s.lockouts,
        lock,
    };
    LockoutState::from_parts(parts).map_err(mfa_result::from)
}

fn state_out(s: &LockoutState) -> mfa_lockout_state {
    let p = s.parts();
    let (lock, lock_until, admin_cause) = match p.lock {
        Lock::None => (mfa_lock_kind::None, 0, 0),
        Lock::Until(t) => (mfa_lock_kind::Until, t.secs(), 0),
        Lock::Admin(c) => (mfa_lock_kind::Admin, 0, cause_to_u32(c)),
    };
    mfa_lockout_state {
        failures: p.failures,
        has_last_failure: u8::from(p.last_failure.is_some()),
        last_failure: p.last_failure.map_or(0, UnixTime::secs),
        consecutive: p.consecutive,
        lockouts: p.lockouts,
        lock: lock as u32,
        lock_until,
        admin_cause,
    }
}

fn decision_out(d: Decision) -> mfa_lockout_decision {
    match d {
        Decision::Allowed {
            failures,
            consecutive,
            remaining,
        } => mfa_lockout_decision {
            kind: mfa_lockout_decision_kind::Allowed as u32,
            failures,
            consecutive,
            remaining,
            ..mfa_lockout_decision::default()
        },
        Decision::Locked {
            until,
            failures,
            lockouts,
        } => mfa_lockout_decision {
            kind: mfa_lockout_decision_kind::Locked as u32,
            failures,
            lockouts,
            until: until.secs(),
            ..mfa_lockout_decision::default()
        },
        Decision::LockedUntilAdmin {
            cause,
            failures,
            consecutive,
        } => mfa_lockout_decision {
            kind: mfa_lockout_decision_kind::LockedUntilAdmin as u32,
            failures,
            consecutive,
            admin_cause: cause_to_u32(cause),
            ..mfa_lockout_decision::default()
        },
    }
}

/// `LockoutState::record_failure` or `LockoutState::record_success`.
type Transition =
    fn(LockoutState, &Policy, UnixTime) -> Result<(LockoutState, Decision), mfa_lockout::Error>;

/// The body of `mfa_lockout_record_failure` and `_record_success`: reads
/// the caller's state, applies `step` at `now`, writes the new state and the
/// decision (only on success).
///
/// # Safety
/// As `mfa_lockout_record_failure`.
unsafe fn transition(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_state: *mut mfa_lockout_state,
    out_decision: *mut mfa_lockout_decision,
    step: Transition,
) -> mfa_result {
    let policy = try_ref!(policy);
    check_not_null!(state, out_state, out_decision);
    // SAFETY: checked non-NULL, readable per the contract.
    let state = try_result!(unsafe { read_state(state) });
    let (next, d) =
        try_result!(step(state, &policy.inner, UnixTime::from_secs(now)).map_err(mfa_result::from));
    // SAFETY: both checked non-NULL, writable per the contract.
    unsafe {
        write_out(out_state, state_out(&next));
        write_out(out_decision, decision_out(d));
    }
    mfa_result::Ok
}

/// Reads and validates a caller-stored state.
///
/// # Safety
/// `state` is non-NULL and readable.
unsafe fn read_state(state: *const mfa_lockout_state) -> Result<LockoutState, mfa_result> {
    // SAFETY: forwarded contract.
    state_in(unsafe { read_in(state) })
}

/// Creates a policy: `threshold` denials (at least 1) within a reset window
/// of `reset_window_secs` (at least 1) lock the account for
/// `unblock_after_secs` (0: only an administrator unblocks). Stores it in
/// `*out`. Escalation is off, the hard cap is 100 consecutive denials
/// (NIST SP 800-63B; `mfa_lockout_policy_set_hard_cap` lowers it), and
/// denials while locked do not extend the lock, until set.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_POLICY`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_policy_new(
    threshold: u32,
    reset_window_secs: u64,
    unblock_after_secs: u64,
    out: *mut *mut mfa_lockout_policy,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        let inner = try_result!(Policy::new(threshold, reset_window_secs, unblock_after_secs).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_lockout_policy { inner })) };
        mfa_result::Ok
    }
}

/// Turns on escalation: lockout number n lasts `unblock_after * factor^(n-1)`
/// seconds, at most `cap_secs`. Needs an automatic unblock delay, a factor of
/// at least 2 and a cap at least the unblock delay. The policy is unchanged
/// on error.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_POLICY`.
///
/// # Safety
/// `policy` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_policy_set_escalation(
    policy: *mut mfa_lockout_policy,
    factor: u32,
    cap_secs: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        // SAFETY: the caller guarantees a live, unshared handle; NULL is
        // rejected by `as_mut`.
        let Some(policy) = (unsafe { policy.as_mut() }) else {
            return mfa_result::NullParameter;
        };
        let escalation = try_result!(Escalation::new(factor, cap_secs).map_err(mfa_result::from));
        policy.inner = try_result!(policy.inner.with_escalation(escalation).map_err(mfa_result::from));
        mfa_result::Ok
    }
}

/// Sets a hard cap on consecutive denials (1 to 100, NIST SP 800-63B): when
/// reached, only an administrator unblocks. The policy is unchanged on error.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_POLICY`.
///
/// # Safety
/// `policy` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_policy_set_hard_cap(
    policy: *mut mfa_lockout_policy,
    cap: u32,
) -> mfa_result {
    ffi_panic_boundary! {
        // SAFETY: as in `mfa_lockout_policy_set_escalation`.
        let Some(policy) = (unsafe { policy.as_mut() }) else {
            return mfa_result::NullParameter;
        };
        policy.inner = try_result!(policy.inner.with_hard_cap(cap).map_err(mfa_result::from));
        mfa_result::Ok
    }
}

/// Whether denials while locked extend the lock (default false).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `policy` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_policy_set_extend_while_locked(
    policy: *mut mfa_lockout_policy,
    extend: bool,
) -> mfa_result {
    ffi_panic_boundary! {
        // SAFETY: as in `mfa_lockout_policy_set_escalation`.
        let Some(policy) = (unsafe { policy.as_mut() }) else {
            return mfa_result::NullParameter;
        };
        policy.inner = policy.inner.with_extend_while_locked(extend);
        mfa_result::Ok
    }
}

/// Frees a policy. NULL is a no-op.
///
/// # Safety
/// `policy` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_policy_free(policy: *mut mfa_lockout_policy) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(policy) }
    }
}

/// What to do with an attempt at `now`: `out_decision->kind` is ALLOWED
/// (verify it) or LOCKED / LOCKED_UNTIL_ADMIN (deny without verifying).
/// Does not change the state. Call it before verifying.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`.
///
/// # Safety
/// `policy` is a live handle; `state` is readable; `out_decision` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_check(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_decision: *mut mfa_lockout_decision,
) -> mfa_result {
    ffi_panic_boundary! {
        let policy = try_ref!(policy);
        check_not_null!(state, out_decision);
        // SAFETY: checked non-NULL, readable per the contract.
        let state = try_result!(unsafe { read_state(state) });
        let d = state.check(&policy.inner, UnixTime::from_secs(now));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_decision, decision_out(d)) };
        mfa_result::Ok
    }
}

/// `mfa_lockout_check` as a result: `MFA_RESULT_OK` when an attempt may be
/// verified or approved at `now`, `MFA_RESULT_LOCKED` or
/// `MFA_RESULT_LOCKED_UNTIL_ADMIN` when not. Call it on every path that can
/// approve a sign-in, at the moment of approval. `out_decision` is written
/// on success only.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_LOCKED_UNTIL_ADMIN`.
///
/// # Safety
/// As `mfa_lockout_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_ensure_allowed(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_decision: *mut mfa_lockout_decision,
) -> mfa_result {
    ffi_panic_boundary! {
        let policy = try_ref!(policy);
        check_not_null!(state, out_decision);
        // SAFETY: checked non-NULL, readable per the contract.
        let state = try_result!(unsafe { read_state(state) });
        let d = try_result!(state.ensure_allowed(&policy.inner, UnixTime::from_secs(now)).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_decision, decision_out(d)) };
        mfa_result::Ok
    }
}

/// Records a denial at `now`: stores the new state in `*out_state` and the
/// resulting decision (LOCKED when this denial locks) in `*out_decision`.
/// `out_state` may point to the same struct as `state`. While locked, a
/// denial is refused (`MFA_RESULT_LOCKED`, `MFA_RESULT_LOCKED_UNTIL_ADMIN`)
/// unless the policy extends the lock.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_LOCKED_UNTIL_ADMIN`.
///
/// # Safety
/// `policy` is a live handle; `state` is readable; `out_state` and
/// `out_decision` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_record_failure(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_state: *mut mfa_lockout_state,
    out_decision: *mut mfa_lockout_decision,
) -> mfa_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { transition(policy, state, now, out_state, out_decision, LockoutState::record_failure) }
    }
}

/// Records a successful verification at `now`: clears the counters.
/// Refused while locked.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_LOCKED_UNTIL_ADMIN`.
///
/// # Safety
/// As `mfa_lockout_record_failure`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_record_success(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_state: *mut mfa_lockout_state,
    out_decision: *mut mfa_lockout_decision,
) -> mfa_result {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { transition(policy, state, now, out_state, out_decision, LockoutState::record_success) }
    }
}

/// An administrator unblocks at `now`, with a reason for the log (required,
/// at most 1024 bytes after trimming). Stores the fresh state in
/// `*out_state` and the lock that was lifted in `*out_previous`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`, `MFA_RESULT_REASON_EMPTY`,
/// `MFA_RESULT_REASON_TOO_LONG`, `MFA_RESULT_NOT_LOCKED`.
///
/// # Safety
/// As `mfa_lockout_record_failure`, and `reason` has `reason_len` readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_admin_unblock(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    reason: *const c_char,
    reason_len: usize,
    out_state: *mut mfa_lockout_state,
    out_previous: *mut mfa_lockout_decision,
) -> mfa_result {
    ffi_panic_boundary! {
        let policy = try_ref!(policy);
        check_not_null!(state, out_state, out_previous);
        // SAFETY: forwarded from this function's contract.
        let reason = try_result!(unsafe { str_in(reason, reason_len) });
        // SAFETY: checked non-NULL, readable per the contract.
        let state = try_result!(unsafe { read_state(state) });
        let (next, unblocked) = try_result!(state
            .admin_unblock(&policy.inner, UnixTime::from_secs(now), reason)
            .map_err(mfa_result::from));
        // SAFETY: both checked non-NULL, writable per the contract.
        unsafe {
            write_out(out_state, state_out(&next));
            write_out(out_previous, decision_out(unblocked.previous));
        }
        mfa_result::Ok
    }
}

/// The next instant at which the state changes by itself (a timed lock
/// ends, or the denial counter resets), for a timer. `MFA_RESULT_NOT_FOUND`
/// when there is none (no denials, or locked until an administrator acts).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_LOCKOUT_INVALID_STATE`, `MFA_RESULT_INVALID_FLAG`,
/// `MFA_RESULT_NOT_FOUND`.
///
/// # Safety
/// `policy` is a live handle; `state` is readable; `out_deadline` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_lockout_next_deadline(
    policy: *const mfa_lockout_policy,
    state: *const mfa_lockout_state,
    now: u64,
    out_deadline: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let policy = try_ref!(policy);
        check_not_null!(state, out_deadline);
        // SAFETY: checked non-NULL, readable per the contract.
        let state = try_result!(unsafe { read_state(state) });
        match state.next_deadline(&policy.inner, UnixTime::from_secs(now)) {
            Some(t) => {
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe { write_out(out_deadline, t.secs()) };
                mfa_result::Ok
            }
            None => mfa_result::NotFound,
        }
    }
}
