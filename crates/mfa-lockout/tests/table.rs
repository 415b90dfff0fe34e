//! Exhaustive table: every state × every event, with the exact expected
//! outcome. The `match` in `expected` is over (state, event) pairs, so the
//! compiler refuses a missing pair.

// Test helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mfa_lockout::{AdminLockCause, Decision, Error, Escalation, LockoutState, Policy, Unblocked};
use mfa_time::UnixTime;

const T: u64 = 1_000_000;

fn at(offset: u64) -> UnixTime {
    UnixTime::from_secs(T + offset)
}

/// Threshold 3, window 300 s, unblock 900 s, hard cap 5.
fn policy_a() -> Policy {
    Policy::new(3, 300, 900).unwrap().with_hard_cap(5).unwrap()
}
/// Threshold 3, window 300 s, administrator unblock only.
fn policy_admin() -> Policy {
    Policy::new(3, 300, 0).unwrap()
}
/// Policy A, but denials while locked count and extend the lock.
fn policy_extend() -> Policy {
    policy_a().with_extend_while_locked(true)
}
/// Every denial locks: 60 s, doubling, capped at 200 s.
fn policy_escalate() -> Policy {
    Policy::new(1, 300, 60)
        .unwrap()
        .with_escalation(Escalation::new(2, 200).unwrap())
        .unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    Fresh,
    Counting,
    OneBelow,
    GapExact,
    GapExceeded,
    Locked,
    LockEndsNow,
    HardCapOneBelow,
    HardCapped,
    AdminNoAuto,
    ExtendLocked,
    Escalated,
}

const STATES: [S; 12] = [
    S::Fresh,
    S::Counting,
    S::OneBelow,
    S::GapExact,
    S::GapExceeded,
    S::Locked,
    S::LockEndsNow,
    S::HardCapOneBelow,
    S::HardCapped,
    S::AdminNoAuto,
    S::ExtendLocked,
    S::Escalated,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    Check,
    EnsureAllowed,
    Failure,
    Success,
    AdminUnblock,
    AdminUnblockBlank,
}

const EVENTS: [E; 6] = [
    E::Check,
    E::EnsureAllowed,
    E::Failure,
    E::Success,
    E::AdminUnblock,
    E::AdminUnblockBlank,
];

fn fail(s: LockoutState, p: &Policy, t: UnixTime) -> LockoutState {
    s.record_failure(p, t).unwrap().0
}

/// Builds each state through the public transitions only (so every state is
/// reachable), and returns it with its policy and the time of the event.
fn build(s: S) -> (LockoutState, Policy, UnixTime) {
    let a = policy_a();
    let new = LockoutState::new();
    let two = |p: &Policy| fail(fail(new, p, at(0)), p, at(10));
    let three = |p: &Policy| fail(two(p), p, at(20));
    match s {
        S::Fresh => (new, a, at(0)),
        S::Counting => (fail(new, &a, at(0)), a, at(10)),
        S::OneBelow => (two(&a), a, at(20)),
        S::GapExact => (two(&a), a, at(10 + 300)),
        S::GapExceeded => (two(&a), a, at(10 + 301)),
        S::Locked => (three(&a), a, at(500)),
        S::LockEndsNow => (three(&a), a, at(920)),
        S::HardCapOneBelow => (fail(three(&a), &a, at(920)), a, at(930)),
        S::HardCapped => {
            let s = fail(fail(three(&a), &a, at(920)), &a, at(930));
            (s, a, at(10_000_000))
        }
        S::AdminNoAuto => {
            let p = policy_admin();
            (three(&p), p, at(10_000_000))
        }
        S::ExtendLocked => {
            let p = policy_extend();
            (three(&p), p, at(500))
        }
        S::Escalated => {
            let p = policy_escalate();
            let s = fail(fail(new, &p, at(0)), &p, at(60));
            (s, p, at(180))
        }
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// `check` / `ensure_allowed` / a transition returned this decision.
    Ok(Decision),
    /// The event was refused.
    Err(Error),
}

fn allowed(failures: u32, consecutive: u32, remaining: u32) -> Outcome {
    Outcome::Ok(Decision::Allowed {
        failures,
        consecutive,
        remaining,
    })
}

fn locked(until: u64, failures: u32, lockouts: u32) -> Decision {
    Decision::Locked {
        until: at(until),
        failures,
        lockouts,
    }
}

fn admin(cause: AdminLockCause, failures: u32, consecutive: u32) -> Decision {
    Decision::LockedUntilAdmin {
        cause,
        failures,
        consecutive,
    }
}

fn refused(d: Decision) -> Outcome {
    Outcome::Err(d.refusal().unwrap())
}

/// For `AdminUnblock`, `Ok(d)` means: unblocked, and `d` is the lifted lock.
fn expected(s: S, e: E) -> Outcome {
    use AdminLockCause::{HardCap, NoAutoUnblock};
    let l_a = locked(920, 3, 1);
    let hard = admin(HardCap, 2, 5);
    let no_auto = admin(NoAutoUnblock, 3, 3);
    match (s, e) {
        (_, E::AdminUnblockBlank) => Outcome::Err(Error::EmptyReason),
        // A success before any lock clears everything.
        (
            S::Fresh
            | S::Counting
            | S::OneBelow
            | S::GapExact
            | S::GapExceeded
            | S::LockEndsNow
            | S::HardCapOneBelow,
            E::Success,
        ) => allowed(0, 0, 3),
        (S::Escalated, E::Success) => allowed(0, 0, 1),

        (S::Fresh, E::Check | E::EnsureAllowed) => allowed(0, 0, 3),
        (S::Fresh, E::Failure) => allowed(1, 1, 2),
        (S::Fresh, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 0 }),

        (S::Counting, E::Check | E::EnsureAllowed) => allowed(1, 1, 2),
        (S::Counting, E::Failure) => allowed(2, 2, 1),
        (S::Counting, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 1 }),

        // The third denial locks: exactly at the threshold.
        (S::OneBelow, E::Check | E::EnsureAllowed) => allowed(2, 2, 1),
        (S::OneBelow, E::Failure) => Outcome::Ok(locked(20 + 900, 3, 1)),
        (S::OneBelow, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 2 }),

        // A gap of exactly the window still counts.
        (S::GapExact, E::Check | E::EnsureAllowed) => allowed(2, 2, 1),
        (S::GapExact, E::Failure) => Outcome::Ok(locked(310 + 900, 3, 1)),
        (S::GapExact, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 2 }),

        // One second more and counting restarts (consecutive does not).
        (S::GapExceeded, E::Check | E::EnsureAllowed) => allowed(0, 2, 3),
        (S::GapExceeded, E::Failure) => allowed(1, 3, 2),
        (S::GapExceeded, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 0 }),

        (S::Locked, E::Check) => Outcome::Ok(l_a),
        (S::Locked, E::EnsureAllowed | E::Failure | E::Success) => refused(l_a),
        (S::Locked, E::AdminUnblock) => Outcome::Ok(l_a),

        // At `until` the lock no longer applies and the window is empty.
        (S::LockEndsNow, E::Check | E::EnsureAllowed) => allowed(0, 3, 2),
        (S::LockEndsNow, E::Failure) => allowed(1, 4, 1),
        (S::LockEndsNow, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 0 }),

        // The fifth consecutive denial reaches the hard cap.
        (S::HardCapOneBelow, E::Check | E::EnsureAllowed) => allowed(1, 4, 1),
        (S::HardCapOneBelow, E::Failure) => Outcome::Ok(hard),
        (S::HardCapOneBelow, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 1 }),

        // Time alone never lifts an administrator lock.
        (S::HardCapped, E::Check | E::AdminUnblock) => Outcome::Ok(hard),
        (S::HardCapped, E::EnsureAllowed | E::Failure | E::Success) => refused(hard),
        (S::AdminNoAuto, E::Check | E::AdminUnblock) => Outcome::Ok(no_auto),
        (S::AdminNoAuto, E::EnsureAllowed | E::Failure | E::Success) => refused(no_auto),

        // Extending policy: the denial counts and pushes the end out.
        (S::ExtendLocked, E::Check | E::AdminUnblock) => Outcome::Ok(l_a),
        (S::ExtendLocked, E::Failure) => Outcome::Ok(locked(500 + 900, 4, 1)),
        (S::ExtendLocked, E::EnsureAllowed | E::Success) => refused(l_a),

        // Third lockout: 60 × 2² = 240 s, capped at 200 s.
        (S::Escalated, E::Check | E::EnsureAllowed) => allowed(0, 2, 1),
        (S::Escalated, E::Failure) => Outcome::Ok(locked(180 + 200, 1, 3)),
        (S::Escalated, E::AdminUnblock) => Outcome::Err(Error::NotLocked { failures: 0 }),
    }
}

fn run(s: S, e: E) -> (Outcome, Option<LockoutState>) {
    let (state, policy, now) = build(s);
    match e {
        E::Check => (Outcome::Ok(state.check(&policy, now)), None),
        E::EnsureAllowed => (
            match state.ensure_allowed(&policy, now) {
                Ok(d) => Outcome::Ok(d),
                Err(err) => Outcome::Err(err),
            },
            None,
        ),
        E::Failure | E::Success => {
            let r = if e == E::Failure {
                state.record_failure(&policy, now)
            } else {
                state.record_success(&policy, now)
            };
            match r {
                Ok((next, d)) => {
                    assert_eq!(
                        next.check(&policy, now),
                        d,
                        "{s:?} × {e:?}: decision is the new state's"
                    );
                    (Outcome::Ok(d), Some(next))
                }
                Err(err) => (Outcome::Err(err), None),
            }
        }
        E::AdminUnblock | E::AdminUnblockBlank => {
            let reason = if e == E::AdminUnblock {
                "  help desk ticket 42 "
            } else {
                " \t "
            };
            match state.admin_unblock(&policy, now, reason) {
                Ok((
                    next,
                    Unblocked {
                        at: t,
                        reason,
                        previous,
                    },
                )) => {
                    assert_eq!(t, now);
                    assert_eq!(reason, "help desk ticket 42");
                    assert_eq!(next, LockoutState::new());
                    (Outcome::Ok(previous), Some(next))
                }
                Err(err) => (Outcome::Err(err), None),
            }
        }
    }
}

#[test]
fn every_state_times_every_event() {
    let mut cases = 0;
    for s in STATES {
        for e in EVENTS {
            let (got, next) = run(s, e);
            assert_eq!(got, expected(s, e), "state {s:?} × event {e:?}");
            if e == E::Success && next.is_some() {
                assert_eq!(next, Some(LockoutState::new()), "{s:?}: success clears all");
            }
            cases += 1;
        }
    }
    assert_eq!(cases, STATES.len() * EVENTS.len());
}

#[test]
fn refused_events_leave_no_trace() {
    // A refused event returns no state, so the caller has nothing to store;
    // check that the input state is still what it was (it is `Copy`).
    for s in [S::Locked, S::HardCapped, S::AdminNoAuto] {
        let (state, policy, now) = build(s);
        let before = state;
        assert!(state.record_failure(&policy, now).is_err());
        assert!(state.record_success(&policy, now).is_err());
        assert_eq!(state, before);
        assert!(!state.check(&policy, now).is_allowed());
    }
}

#[test]
fn reason_too_long_is_refused() {
    let (state, policy, now) = build(S::Locked);
    let reason = "x".repeat(mfa_lockout::MAX_REASON_LEN + 1);
    assert_eq!(
        state.admin_unblock(&policy, now, &reason).unwrap_err(),
        Error::ReasonTooLong {
            len: mfa_lockout::MAX_REASON_LEN + 1,
            max: mfa_lockout::MAX_REASON_LEN
        }
    );
    let ok = "x".repeat(mfa_lockout::MAX_REASON_LEN);
    assert!(state.admin_unblock(&policy, now, &ok).is_ok());
    // A reason cannot forge a log line.
    assert_eq!(
        state
            .admin_unblock(&policy, now, " ok\nunblocked by root")
            .unwrap_err(),
        Error::ReasonControlChar { position: 2 }
    );
}

#[test]
fn classes_are_counted_and_locked_independently() {
    use mfa_lockout::{FactorClass, Policies, UserLockout};
    let policies = Policies::uniform(policy_a()).with(FactorClass::Pin, policy_admin());
    let mut user = UserLockout::new();
    for i in 0..3 {
        user = user
            .record_failure(&policies, FactorClass::Pin, at(i))
            .unwrap()
            .0;
    }
    user = user
        .record_failure(&policies, FactorClass::Otp, at(5))
        .unwrap()
        .0;
    assert_eq!(
        user.check(&policies, FactorClass::Pin, at(6)),
        admin(AdminLockCause::NoAutoUnblock, 3, 3)
    );
    assert_eq!(
        user.check(&policies, FactorClass::Otp, at(6)),
        Decision::Allowed {
            failures: 1,
            consecutive: 1,
            remaining: 2
        }
    );
    assert_eq!(
        user.locked(&policies, at(6)),
        Some((FactorClass::Pin, admin(AdminLockCause::NoAutoUnblock, 3, 3)))
    );
    // A PIN success is refused (approval re-check), an OTP success is not.
    assert!(
        user.record_success(&policies, FactorClass::Pin, at(7))
            .is_err()
    );
    assert!(
        user.ensure_allowed(&policies, FactorClass::Otp, at(7))
            .is_ok()
    );
    let (user, effects) = user
        .admin_unblock_all(&policies, at(8), "ticket 7")
        .unwrap();
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].0, FactorClass::Pin);
    assert_eq!(user.locked(&policies, at(8)), None);
    // The OTP counter was not touched by the PIN unblock.
    assert_eq!(user.state(FactorClass::Otp).failures(), 1);
    assert_eq!(user.next_deadline(&policies, at(8)), Some(at(5 + 301)));
}

#[test]
fn parts_round_trip_for_every_state() {
    for s in STATES {
        let (state, _, _) = build(s);
        assert_eq!(LockoutState::from_parts(state.parts()), Ok(state), "{s:?}");
    }
}

#[test]
fn next_deadline_per_state() {
    let cases: [(S, Option<u64>); 12] = [
        (S::Fresh, None),
        (S::Counting, Some(301)),
        (S::OneBelow, Some(10 + 301)),
        (S::GapExact, Some(10 + 301)),
        (S::GapExceeded, None),
        (S::Locked, Some(920)),
        (S::LockEndsNow, None),
        (S::HardCapOneBelow, Some(920 + 301)),
        (S::HardCapped, None),
        (S::AdminNoAuto, None),
        (S::ExtendLocked, Some(920)),
        (S::Escalated, None),
    ];
    for (s, want) in cases {
        let (state, policy, now) = build(s);
        assert_eq!(state.next_deadline(&policy, now), want.map(at), "{s:?}");
        if let Some(d) = want {
            // The decision changes exactly at the deadline.
            assert_ne!(
                state.check(&policy, at(d - 1)),
                state.check(&policy, at(d)),
                "{s:?}"
            );
        }
    }
}

#[test]
fn no_deadline_past_the_end_of_time() {
    // Found by the lockout_events fuzz target: a window that would end past
    // u64::MAX has no deadline (it saturated, and the decision did not change
    // at the saturated instant).
    let policy = Policy::new(1_000, u64::MAX / 2, 60).unwrap();
    let now = UnixTime::from_secs(u64::MAX - 1_000);
    let (state, _) = LockoutState::new().record_failure(&policy, now).unwrap();
    assert_eq!(state.next_deadline(&policy, now), None);
    assert!(
        state
            .check(&policy, UnixTime::from_secs(u64::MAX))
            .is_allowed()
    );
}

#[test]
fn default_policy_caps_consecutive_denials_at_100() {
    // NIST SP 800-63B §5.2.2: waiting out every 10-minute lock must not
    // give an attacker unlimited guesses.
    let policy = Policy::default();
    assert_eq!(policy.hard_cap(), Some(mfa_lockout::MAX_HARD_CAP));
    assert_eq!(
        Policy::new(5, 60, 60).unwrap().hard_cap(),
        Some(100),
        "every new policy has the cap"
    );
    let mut state = LockoutState::new();
    let mut t = 0;
    for n in 1..=100u32 {
        // Past any lock and reset window: only the consecutive count survives.
        t += 10_000;
        assert!(state.check(&policy, at(t)).is_allowed(), "denial {n}");
        state = state.record_failure(&policy, at(t)).unwrap().0;
    }
    assert_eq!(state.consecutive(), 100);
    assert!(matches!(
        state.check(&policy, at(t + 1_000_000)),
        Decision::LockedUntilAdmin {
            cause: AdminLockCause::HardCap,
            ..
        }
    ));
}
