//! Criterion benches of the policy state machines (mfa-lockout, mfa-fraud):
//! the cost of one decision or transition, which every sign-in pays. There is
//! no peer implementation of these machines to compare with; the numbers
//! show they are negligible next to one HMAC (see `oath.rs`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mfa_fraud::{Channel, Event, FraudConfig, FraudState, parse_keypad};
use mfa_lockout::{FactorClass, LockoutState, Policies, Policy, UserLockout};
use mfa_oath::UnixTime;

fn lockout(c: &mut Criterion) {
    let policy = Policy::default().with_hard_cap(100).unwrap_or_default();
    let now = UnixTime::from_secs(1_700_000_000);
    let mut counting = LockoutState::new();
    for _ in 0..5 {
        if let Ok((s, _)) = counting.record_failure(&policy, now) {
            counting = s;
        }
    }
    let mut g = c.benchmark_group("lockout");
    g.bench_function("check", |b| {
        b.iter(|| black_box(counting).check(black_box(&policy), black_box(now)))
    });
    g.bench_function("record_failure", |b| {
        b.iter(|| black_box(counting).record_failure(black_box(&policy), black_box(now)))
    });
    g.bench_function("record_success", |b| {
        b.iter(|| black_box(counting).record_success(black_box(&policy), black_box(now)))
    });
    let policies = Policies::uniform(policy);
    let user = UserLockout::new();
    g.bench_function("user_record_failure_otp", |b| {
        b.iter(|| {
            black_box(user).record_failure(
                black_box(&policies),
                black_box(FactorClass::Otp),
                black_box(now),
            )
        })
    });
    g.finish();
}

fn fraud(c: &mut Criterion) {
    let config = FraudConfig::default()
        .with_recipients(["secops@example.com"])
        .unwrap_or_default();
    let now = UnixTime::from_secs(1_700_000_000);
    let state = FraudState::new();
    let mut g = c.benchmark_group("fraud");
    g.bench_function("check", |b| {
        b.iter(|| black_box(&state).check(black_box(now)))
    });
    g.bench_function("apply_report_block_and_risk", |b| {
        b.iter(|| {
            black_box(&state).apply(
                black_box(&config),
                Event::UserReport {
                    channel: Channel::Phone,
                    block_confirmed: true,
                    passwordless: false,
                },
                black_box(now),
            )
        })
    });
    g.bench_function("parse_keypad", |b| {
        b.iter(|| parse_keypad(black_box(&config), black_box("0#1")))
    });
    g.finish();
}

criterion_group!(benches, lockout, fraud);
criterion_main!(benches);
