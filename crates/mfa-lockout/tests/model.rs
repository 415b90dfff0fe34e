//! Property tests: the state machine against a tiny reference model
//! (proptest-state-machine), plus the two lockout properties the issue names.

// Test helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mfa_lockout::{AdminLockCause, Decision, Error, Escalation, LockoutState, Policy};
use mfa_time::UnixTime;
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

// ---------------------------------------------------------------------------
// The reference model: keeps the list of denial times of the current run,
// and recomputes everything from it in the most direct way.

#[derive(Debug, Clone)]
struct ModelPolicy {
    threshold: u32,
    reset: u64,
    unblock: u64,
    escalation: Option<(u32, u64)>,
    hard_cap: Option<u32>,
    extend: bool,
}

impl ModelPolicy {
    /// The hard cap in force: the one set, or the default of 100.
    fn cap(&self) -> u32 {
        self.hard_cap.unwrap_or(mfa_lockout::MAX_HARD_CAP)
    }

    fn real(&self) -> Policy {
        let mut p = Policy::new(self.threshold, self.reset, self.unblock).unwrap();
        if let Some((factor, cap)) = self.escalation {
            p = p
                .with_escalation(Escalation::new(factor, cap).unwrap())
                .unwrap();
        }
        if let Some(cap) = self.hard_cap {
            p = p.with_hard_cap(cap).unwrap();
        }
        p.with_extend_while_locked(self.extend)
    }

    /// Lock duration of lockout `n`, by repeated multiplication in u128.
    fn duration(&self, n: u32) -> Option<u64> {
        if self.unblock == 0 {
            return None;
        }
        let Some((factor, cap)) = self.escalation else {
            return Some(self.unblock);
        };
        let mut d = u128::from(self.unblock);
        for _ in 1..n {
            d = (d * u128::from(factor)).min(u128::from(u64::MAX));
        }
        Some(d.min(u128::from(cap)) as u64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelLock {
    None,
    Until(u64),
    Admin(AdminLockCause),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Refused,
    NotLocked,
}

#[derive(Debug, Clone)]
struct Model {
    policy: ModelPolicy,
    now: u64,
    /// Denial times counted towards the threshold (most recent last).
    denials: Vec<u64>,
    consecutive: u32,
    lockouts: u32,
    lock: ModelLock,
    /// What the last transition must have returned.
    expect: Expect,
}

impl Model {
    fn locked(&self) -> bool {
        match self.lock {
            ModelLock::None => false,
            ModelLock::Until(u) => self.now < u,
            ModelLock::Admin(_) => true,
        }
    }

    fn live_denials(&self) -> u32 {
        if let ModelLock::Until(u) = self.lock
            && self.now >= u
        {
            return 0;
        }
        match self.denials.last() {
            Some(&last) if self.now.saturating_sub(last) > self.policy.reset => 0,
            _ => self.denials.len() as u32,
        }
    }

    fn decision(&self) -> Decision {
        match self.lock {
            ModelLock::Admin(cause) => Decision::LockedUntilAdmin {
                cause,
                failures: self.denials.len() as u32,
                consecutive: self.consecutive,
            },
            ModelLock::Until(u) if self.now < u => Decision::Locked {
                until: UnixTime::from_secs(u),
                failures: self.denials.len() as u32,
                lockouts: self.lockouts,
            },
            _ => {
                let failures = self.live_denials();
                let mut remaining = i64::from(self.policy.threshold) - i64::from(failures);
                let cap = self.policy.cap();
                remaining = remaining.min(i64::from(cap) - i64::from(self.consecutive));
                Decision::Allowed {
                    failures,
                    consecutive: self.consecutive,
                    remaining: remaining.max(1) as u32,
                }
            }
        }
    }

    fn clear(&mut self) {
        self.denials.clear();
        self.consecutive = 0;
        self.lockouts = 0;
        self.lock = ModelLock::None;
    }
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u64),
    Failure,
    Success,
    Unblock,
}

struct LockoutMachine;

impl ReferenceStateMachine for LockoutMachine {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (
            1u32..6,
            1u64..120,
            0u64..200,
            prop::option::of((2u32..4, 1u64..2000)),
            prop::option::of(1u32..=100),
            any::<bool>(),
        )
            .prop_map(
                |(threshold, reset, unblock, escalation, hard_cap, extend)| {
                    let escalation = escalation
                        .filter(|_| unblock > 0)
                        .map(|(f, cap)| (f, cap.max(unblock)));
                    Model {
                        policy: ModelPolicy {
                            threshold,
                            reset,
                            unblock,
                            escalation,
                            hard_cap,
                            extend,
                        },
                        now: 1_700_000_000,
                        denials: Vec::new(),
                        consecutive: 0,
                        lockouts: 0,
                        lock: ModelLock::None,
                        expect: Expect::Ok,
                    }
                },
            )
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        // Waits that land exactly on the interesting instants, and random ones.
        let mut exact = vec![0, 1, state.policy.reset, state.policy.reset + 1];
        if let ModelLock::Until(u) = state.lock
            && u > state.now
        {
            exact.push(u - state.now);
            exact.push(u - state.now - 1);
        }
        prop_oneof![
            4 => Just(Step::Failure),
            1 => Just(Step::Success),
            1 => Just(Step::Unblock),
            2 => prop::sample::select(exact).prop_map(Step::Wait),
            1 => (0u64..5000).prop_map(Step::Wait),
        ]
        .boxed()
    }

    fn apply(mut m: Model, step: &Step) -> Model {
        m.expect = Expect::Ok;
        match *step {
            Step::Wait(secs) => m.now += secs,
            Step::Success => {
                if m.locked() {
                    m.expect = Expect::Refused;
                } else {
                    m.clear();
                }
            }
            Step::Unblock => {
                if m.locked() {
                    m.clear();
                } else {
                    m.expect = Expect::NotLocked;
                }
            }
            Step::Failure if m.locked() => {
                if !m.policy.extend {
                    m.expect = Expect::Refused;
                    return m;
                }
                m.denials.push(m.now);
                m.consecutive += 1;
                if m.consecutive >= m.policy.cap() {
                    m.lock = ModelLock::Admin(AdminLockCause::HardCap);
                } else if let ModelLock::Until(u) = m.lock {
                    let d = m.policy.duration(m.lockouts.max(1)).unwrap();
                    m.lock = ModelLock::Until(u.max(m.now + d));
                }
            }
            Step::Failure => {
                if m.live_denials() == 0 {
                    m.denials.clear();
                }
                m.lock = ModelLock::None;
                m.denials.push(m.now);
                m.consecutive += 1;
                if m.consecutive >= m.policy.cap() {
                    m.lock = ModelLock::Admin(AdminLockCause::HardCap);
                } else if m.denials.len() as u32 >= m.policy.threshold {
                    m.lockouts += 1;
                    m.lock = match m.policy.duration(m.lockouts) {
                        Some(d) => ModelLock::Until(m.now + d),
                        None => ModelLock::Admin(AdminLockCause::NoAutoUnblock),
                    };
                }
            }
        }
        m
    }
}

struct Sut {
    policy: Policy,
    now: u64,
    state: LockoutState,
}

impl StateMachineTest for LockoutMachine {
    type SystemUnderTest = Sut;
    type Reference = LockoutMachine;

    fn init_test(m: &Model) -> Sut {
        Sut {
            policy: m.policy.real(),
            now: m.now,
            state: LockoutState::new(),
        }
    }

    fn apply(mut sut: Sut, m: &Model, step: Step) -> Sut {
        let now = UnixTime::from_secs(sut.now);
        let result = match step {
            Step::Wait(secs) => {
                sut.now += secs;
                return sut;
            }
            Step::Failure => sut.state.record_failure(&sut.policy, now).map(|(s, _)| s),
            Step::Success => sut.state.record_success(&sut.policy, now).map(|(s, _)| s),
            Step::Unblock => sut
                .state
                .admin_unblock(&sut.policy, now, "test")
                .map(|(s, _)| s),
        };
        match (result, m.expect) {
            (Ok(s), Expect::Ok) => sut.state = s,
            (Err(Error::Locked { .. } | Error::LockedUntilAdmin { .. }), Expect::Refused) => {}
            (Err(Error::NotLocked { .. }), Expect::NotLocked) => {}
            (got, want) => panic!("{step:?}: got {got:?}, model expects {want:?}"),
        }
        sut
    }

    fn check_invariants(sut: &Sut, m: &Model) {
        let now = UnixTime::from_secs(sut.now);
        assert_eq!(sut.state.check(&sut.policy, now), m.decision());
        assert_eq!(LockoutState::from_parts(sut.state.parts()), Ok(sut.state));
        // The next deadline, if any, is in the future and changes the decision.
        if let Some(d) = sut.state.next_deadline(&sut.policy, now) {
            assert!(d > now);
            let before = UnixTime::from_secs(d.secs() - 1);
            assert_ne!(
                sut.state.check(&sut.policy, before),
                sut.state.check(&sut.policy, d)
            );
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn lockout_matches_reference_model(sequential 1..60 => LockoutMachine);
}

// ---------------------------------------------------------------------------
// The two properties named by the issue.

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (1u32..30, 1u64..100_000, 1u64..100_000).prop_map(|(t, r, u)| Policy::new(t, r, u).unwrap())
}

proptest! {
    /// N denials, each within the reset window of the previous one, lock
    /// exactly at the N-th = threshold, until that denial's time + unblock.
    #[test]
    fn n_failures_inside_the_window_lock_exactly_at_the_threshold(
        policy in policy_strategy(),
        start in 0u64..4_000_000_000,
        gaps in prop::collection::vec(0.0f64..=1.0, 30),
    ) {
        let mut state = LockoutState::new();
        let mut t = start;
        for i in 1..=policy.threshold() {
            if i > 1 {
                // A gap between 0 and the window, both ends included.
                let g = (gaps[i as usize] * policy.reset_window_secs() as f64) as u64;
                t += g.min(policy.reset_window_secs());
            }
            let now = UnixTime::from_secs(t);
            prop_assert!(state.check(&policy, now).is_allowed());
            let (next, decision) = state.record_failure(&policy, now).unwrap();
            if i < policy.threshold() {
                prop_assert_eq!(decision, Decision::Allowed {
                    failures: i,
                    consecutive: i,
                    remaining: policy.threshold() - i,
                });
            } else {
                prop_assert_eq!(decision, Decision::Locked {
                    until: UnixTime::from_secs(t + policy.unblock_after_secs()),
                    failures: i,
                    lockouts: 1,
                });
            }
            state = next;
        }
    }

    /// A gap longer than the window before the last denial means no lock.
    #[test]
    fn a_gap_longer_than_the_window_restarts_counting(
        policy in policy_strategy(),
        start in 0u64..4_000_000_000,
        extra in 1u64..1_000_000,
    ) {
        prop_assume!(policy.threshold() >= 2);
        let mut state = LockoutState::new();
        for _ in 1..policy.threshold() {
            state = state.record_failure(&policy, UnixTime::from_secs(start)).unwrap().0;
        }
        let late = UnixTime::from_secs(start + policy.reset_window_secs() + extra);
        let (_, d) = state.record_failure(&policy, late).unwrap();
        prop_assert_eq!(d, Decision::Allowed {
            failures: 1,
            consecutive: policy.threshold(),
            remaining: policy.threshold() - 1,
        });
    }

    /// Time alone unlocks, exactly at `until`: locked at every instant before,
    /// allowed at `until` and at every instant after.
    #[test]
    fn time_alone_unlocks_exactly_at_until(
        policy in policy_strategy(),
        start in 0u64..4_000_000_000,
        before in 0.0f64..1.0,
        after in 0u64..10_000_000,
    ) {
        let now = UnixTime::from_secs(start);
        let mut state = LockoutState::new();
        for _ in 0..policy.threshold() {
            state = state.record_failure(&policy, now).unwrap().0;
        }
        let until = start + policy.unblock_after_secs();
        prop_assert_eq!(state.next_deadline(&policy, now), Some(UnixTime::from_secs(until)));
        let t_before = start + (before * policy.unblock_after_secs() as f64) as u64;
        let t_before = t_before.min(until - 1);
        for t in [start, t_before, until - 1] {
            prop_assert!(
                matches!(state.check(&policy, UnixTime::from_secs(t)), Decision::Locked { .. }),
                "locked at {}", t
            );
        }
        for t in [until, until + after] {
            let d = state.check(&policy, UnixTime::from_secs(t));
            prop_assert_eq!(d, Decision::Allowed {
                failures: 0,
                consecutive: policy.threshold(),
                remaining: policy.threshold(),
            });
            // And a success then goes through (approval re-check passes).
            prop_assert!(state.record_success(&policy, UnixTime::from_secs(t)).is_ok());
        }
    }

    /// Arbitrary stored parts never make any operation panic, and a refused
    /// event never yields a state.
    #[test]
    fn arbitrary_parts_never_panic(
        failures in any::<u32>(),
        last in prop::option::of(any::<u64>()),
        consecutive in any::<u32>(),
        lockouts in any::<u32>(),
        lock in prop_oneof![
            Just(mfa_lockout::Lock::None),
            any::<u64>().prop_map(|u| mfa_lockout::Lock::Until(UnixTime::from_secs(u))),
            Just(mfa_lockout::Lock::Admin(AdminLockCause::HardCap)),
        ],
        now in any::<u64>(),
        hard_cap in prop::option::of(1u32..=100),
    ) {
        let parts = mfa_lockout::LockoutParts { failures, last_failure: last.map(UnixTime::from_secs), consecutive, lockouts, lock };
        let Ok(state) = LockoutState::from_parts(parts) else { return Ok(()); };
        let mut policy = Policy::new(3, 60, 60).unwrap()
            .with_escalation(Escalation::new(3, u64::MAX).unwrap()).unwrap();
        if let Some(c) = hard_cap { policy = policy.with_hard_cap(c).unwrap(); }
        let now = UnixTime::from_secs(now);
        let _ = state.check(&policy, now);
        let _ = state.next_deadline(&policy, now);
        let _ = state.record_failure(&policy, now);
        let _ = state.record_success(&policy, now);
        let _ = state.admin_unblock(&policy, now, "r");
    }
}
