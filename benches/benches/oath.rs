//! mfa-oath TOTP verification beside totp-rs 6 and the floor (one pre-keyed
//! HMAC-SHA1 over an 8-byte counter), in one run.
//!
//! `cargo bench -p mfa-benches --bench oath`, then
//! `python3 benches/ratios.py oath` for the table of ratios in
//! docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // bench set-up

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use mfa_oath::{Secret, Totp, TotpParams, TotpState, UnixTime, Window};

const SECRET: &[u8] = b"12345678901234567890";
const NOW: u64 = 1_700_000_000;

fn totp_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("totp_verify");

    // mfa-oath, window ±1 step, fresh state (so the valid code is accepted).
    let ours = Totp::new(Secret::from_bytes(SECRET).unwrap(), TotpParams::default());
    let window = Window::new(1, 1).unwrap();
    let now = UnixTime::from_secs(NOW);
    let valid = ours.generate(now).unwrap().to_string();
    let invalid = wrong_code(&valid, |c| {
        (0..=2).all(|d| ours.generate_at_step(NOW / 30 - 1 + d).to_string() != c)
    });
    assert!(
        ours.verify(&valid, now, TotpState::default(), window)
            .is_ok()
    );
    assert!(
        ours.verify(&invalid, now, TotpState::default(), window)
            .is_err()
    );
    g.bench_function("mfa-oath/valid", |b| {
        b.iter(|| {
            ours.verify(
                black_box(&valid),
                black_box(now),
                black_box(TotpState::default()),
                window,
            )
        })
    });
    g.bench_function("mfa-oath/invalid", |b| {
        b.iter(|| {
            ours.verify(
                black_box(&invalid),
                black_box(now),
                black_box(TotpState::default()),
                window,
            )
        })
    });

    // totp-rs 6, skew 1 (the same ±1 window).
    let peer = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(SECRET.to_vec())
        .build_noncompliant();
    assert!(peer.check(&valid, NOW).is_some());
    assert!(peer.check(&invalid, NOW).is_none());
    g.bench_function("totp-rs/valid", |b| {
        b.iter(|| peer.check(black_box(&valid), black_box(NOW)))
    });
    g.bench_function("totp-rs/invalid", |b| {
        b.iter(|| peer.check(black_box(&invalid), black_box(NOW)))
    });

    // The floor: one HMAC-SHA1 over an 8-byte counter with the key already set up.
    let keyed = Hmac::<sha1::Sha1>::new_from_slice(SECRET).unwrap();
    g.bench_function("floor/hmac-sha1-prekeyed", |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(&black_box(NOW / 30).to_be_bytes());
            m.finalize().into_bytes()
        })
    });
    g.finish();
}

/// A six-digit code that is not `valid` and satisfies `ok`.
fn wrong_code(valid: &str, ok: impl Fn(&str) -> bool) -> String {
    let v: u32 = valid.parse().unwrap();
    (1..)
        .map(|d| format!("{:06}", (v + d) % 1_000_000))
        .find(|c| ok(c))
        .unwrap()
}

criterion_group!(benches, totp_verify);
criterion_main!(benches);
