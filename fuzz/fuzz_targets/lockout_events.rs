//! The lockout machine driven by arbitrary policies and event sequences:
//! never a panic; decisions are those of the new state; nothing is approved
//! while locked; the next deadline changes the decision exactly when due.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mfa_lockout::{Decision, Escalation, LockoutState, Policy};
use mfa_oath::UnixTime;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    threshold: u32,
    reset: u64,
    unblock: u64,
    escalation: Option<(u32, u64)>,
    hard_cap: Option<u32>,
    extend: bool,
    start: u64,
    steps: Vec<Step<'a>>,
}

#[derive(Debug, Arbitrary)]
enum Step<'a> {
    Wait(u32),
    WaitUntilDeadline,
    Failure,
    Success,
    Unblock(&'a str),
}

fuzz_target!(|input: Input<'_>| {
    let Ok(mut policy) = Policy::new(input.threshold, input.reset, input.unblock) else {
        assert!(input.threshold == 0 || input.reset == 0);
        return;
    };
    if let Some((factor, cap)) = input.escalation {
        if let Ok(e) = Escalation::new(factor, cap) {
            if let Ok(p) = policy.with_escalation(e) {
                policy = p;
            }
        }
    }
    if let Some(cap) = input.hard_cap {
        if let Ok(p) = policy.with_hard_cap(cap) {
            policy = p;
        }
    }
    let policy = policy.with_extend_while_locked(input.extend);
    let mut state = LockoutState::new();
    let mut now = input.start;
    for step in input.steps.iter().take(256) {
        let t = UnixTime::from_secs(now);
        let before = state.check(&policy, t);
        match *step {
            Step::Wait(s) => now = now.saturating_add(u64::from(s)),
            Step::WaitUntilDeadline => {
                if let Some(d) = state.next_deadline(&policy, t) {
                    assert!(d > t);
                    let just_before = state.check(&policy, UnixTime::from_secs(d.secs() - 1));
                    assert_ne!(just_before, state.check(&policy, d));
                    now = d.secs();
                }
            }
            Step::Failure => match state.record_failure(&policy, t) {
                Ok((next, d)) => {
                    assert_eq!(next.check(&policy, t), d);
                    assert!(before.is_allowed() || policy.extend_while_locked());
                    // (A lock set within the lock duration of u64::MAX seconds
                    // saturates there; such times are out of scope.)
                    let far_from_the_end = now < u64::MAX / 2;
                    if let Decision::Allowed { remaining: 1, .. } = before {
                        if far_from_the_end {
                            assert!(!d.is_allowed(), "the failure announced as the last one locks");
                        }
                    }
                    state = next;
                }
                Err(_) => assert!(!before.is_allowed()),
            },
            Step::Success => match state.record_success(&policy, t) {
                Ok((next, _)) => {
                    assert!(before.is_allowed(), "nothing is approved while locked");
                    assert_eq!(next, LockoutState::new());
                    state = next;
                }
                Err(_) => assert!(!before.is_allowed()),
            },
            Step::Unblock(reason) => match state.admin_unblock(&policy, t, reason) {
                Ok((next, effect)) => {
                    assert!(!before.is_allowed());
                    assert_eq!(effect.previous, before);
                    assert!(!effect.reason.is_empty());
                    state = next;
                }
                Err(_) => {}
            },
        }
        assert_eq!(LockoutState::from_parts(state.parts()), Ok(state));
    }
});
