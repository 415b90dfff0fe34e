//! Instruction counts of mfa-oath TOTP verification against the HMAC floor,
//! for `valgrind --tool=callgrind` (counts are repeatable whatever else the
//! machine is doing, unlike wall-clock time):
//!
//! ```text
//! cargo build --release -p mfa-benches --example oath_icount
//! for w in floor valid invalid totp-rs-valid totp-rs-invalid; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/oath_icount $w 2>&1 | grep refs
//! done
//! ```
//!
//! Each run does 100,000 operations; divide the total by 100,000.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    missing_docs
)]

use std::hint::black_box;

use hmac::{Hmac, KeyInit, Mac};
use mfa_oath::{Secret, Totp, TotpParams, TotpState, UnixTime, Window};

const N: u64 = 100_000;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let secret = b"12345678901234567890";
    let totp = Totp::new(Secret::from_bytes(secret).unwrap(), TotpParams::default());
    let now = UnixTime::from_secs(1_700_000_000);
    let valid = totp.generate(now).unwrap().to_string();
    let window = Window::new(1, 1).unwrap();
    // A code that matches none of the three steps of the window.
    let invalid = (0..1_000_000u32)
        .map(|v| format!("{v:06}"))
        .find(|c| totp.verify(c, now, TotpState::default(), window).is_err())
        .unwrap();
    let keyed = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    let peer = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build_noncompliant();
    match which.as_str() {
        "valid" => (0..N).for_each(|_| {
            black_box(
                totp.verify(
                    black_box(&valid),
                    black_box(now),
                    TotpState::default(),
                    window,
                )
                .is_ok(),
            );
        }),
        "invalid" => (0..N).for_each(|_| {
            black_box(
                totp.verify(
                    black_box(&invalid),
                    black_box(now),
                    TotpState::default(),
                    window,
                )
                .is_ok(),
            );
        }),
        "floor" => (0..N).for_each(|i| {
            let mut m = keyed.clone();
            m.update(&black_box(i).to_be_bytes());
            black_box(m.finalize().into_bytes());
        }),
        "totp-rs-valid" => (0..N).for_each(|_| {
            black_box(peer.check(black_box(&valid), black_box(now.secs())));
        }),
        "totp-rs-invalid" => (0..N).for_each(|_| {
            black_box(peer.check(black_box(&invalid), black_box(now.secs())));
        }),
        _ => eprintln!("usage: oath_icount floor|valid|invalid|totp-rs-valid|totp-rs-invalid"),
    }
}
