//! Property test: the store's verify path against a model made of the pure
//! crates (mfa-oath state + mfa-lockout state) over random sequences of
//! valid, delayed, wrong and replayed codes and waits. Every outcome, the
//! stored lockout state and the stored last step must match the model, and
//! no (token, step) is ever approved twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashSet;

use common::*;
use mfa_lockout::{FactorClass, LockoutState};
use mfa_oath::{TotpState, Window};
use mfa_record::{AuthResult, DenialReason};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Wait(u64),
    /// The code of the current step, or `1` step back (delayed).
    Valid(u64),
    Wrong,
    /// The code of the last step that was approved.
    Replay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u64..200).prop_map(Op::Wait),
        (0u64..2).prop_map(Op::Valid),
        Just(Op::Wrong),
        Just(Op::Replay),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn verify_matches_the_pure_model(ops in proptest::collection::vec(op(), 1..40)) {
        let b = Backend::sqlite();
        let config = otp_lockout(3, 60, 120);
        let policy = *config.lockout.get(FactorClass::Otp);
        let s = b.open_with(config);
        let mut now = enrol(&s, "alice", "T1", 1);
        let totp = totp(1);
        let mut oath = TotpState { last_step: Some(T0 / 30), drift: 0 };
        let mut lock = LockoutState::new();
        let mut approved = HashSet::new();
        for op in ops {
            let code = match op {
                Op::Wait(d) => { now += d; continue; }
                Op::Valid(back) => totp.generate_at_step(now / 30 - back).to_string(),
                Op::Wrong => wrong_code(1, now),
                Op::Replay => totp.generate_at_step(oath.last_step.unwrap()).to_string(),
            };
            let got = s.verify("alice", &code, at(now), &ctx()).unwrap();
            // The model: lockout check, then mfa-oath, then the counters.
            let expected = if !lock.check(&policy, at(now)).is_allowed() {
                match lock.check(&policy, at(now)) {
                    mfa_lockout::Decision::Locked { until, .. } => AuthResult::Denied(DenialReason::Locked { until }),
                    _ => AuthResult::Denied(DenialReason::LockedUntilAdmin),
                }
            } else {
                match totp.verify(&code, at(now), oath, Window::TOTP_DEFAULT) {
                    Ok(ok) => {
                        oath = ok.state;
                        lock = lock.record_success(&policy, at(now)).unwrap().0;
                        AuthResult::Success
                    }
                    Err(e) => {
                        lock = lock.record_failure(&policy, at(now)).unwrap().0;
                        AuthResult::Denied(DenialReason::from(&e))
                    }
                }
            };
            prop_assert_eq!(got.result, expected, "at {} with {:?}", now, op);
            if let Some(step) = got.step.filter(|_| got.is_approved()) {
                prop_assert!(approved.insert(step), "step {} approved twice", step);
            }
            prop_assert_eq!(s.lockout_state("alice", FactorClass::Otp).unwrap(), lock);
            prop_assert_eq!(s.token("T1").unwrap().unwrap().last_step, oath.last_step);
        }
    }
}
