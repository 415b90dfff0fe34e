//! Sign-in latency while a large import runs (issue: "an import does not
//! stall sign-ins"). One thread imports `MFA_BENCH_IMPORT_TOKENS` tokens
//! (default 1,000,000) all-or-nothing (or accepted-only with
//! `MFA_BENCH_IMPORT_MODE=accepted-only`) into an SQLite store that already
//! has 1,000 users with active tokens; another verifies valid codes for those
//! users back to back until the import ends. Prints the latency percentiles,
//! the longest stall and how many sign-ins failed.
//!
//! ```text
//! cargo run --release -p mfa-benches --example import_stall
//! MFA_BENCH_IMPORT_TOKENS=200000 cargo run --release -p mfa-benches --example import_stall
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    missing_docs
)] // measurement program

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mfa_benches::token_secret;
use mfa_oath::{Totp, TotpParams, UnixTime};
use mfa_store::{
    AuthRequest, ImportMode, MasterKey, NewToken, Presented, Store, StoreConfig, TokenKind,
    VerifyContext, mfa_lockout,
};

const T0: u64 = 1_700_000_000;
const USERS: u64 = 1000;

fn main() {
    let n: u64 = std::env::var("MFA_BENCH_IMPORT_TOKENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mode = match std::env::var("MFA_BENCH_IMPORT_MODE").as_deref() {
        Ok("accepted-only") => ImportMode::AcceptedOnly,
        _ => ImportMode::AllOrNothing,
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("stall.db").display());
    let mut config = StoreConfig::default();
    config.lockout =
        mfa_lockout::Policies::uniform(mfa_lockout::Policy::new(1_000_000, 60, 60).unwrap());
    let store = Arc::new(Store::open_with(&url, &MasterKey::new(1, [0x42; 32]), config).unwrap());
    let t = UnixTime::from_secs(T0);
    let users: Vec<NewToken> = (0..USERS)
        .map(|i| {
            NewToken::new(
                format!("U{i:08}"),
                TokenKind::Totp(TotpParams::default()),
                token_secret(i),
            )
            .with_user(format!("user{i:07}"))
        })
        .collect();
    store.import(users, ImportMode::AllOrNothing, t).unwrap();
    let totps: Vec<Totp> = (0..USERS)
        .map(|i| Totp::new(token_secret(i), TotpParams::default()))
        .collect();
    for (i, totp) in totps.iter().enumerate() {
        let code = totp.generate(t).unwrap().to_string();
        store.activate(&format!("U{i:08}"), &code, t).unwrap();
    }

    let done = Arc::new(AtomicBool::new(false));
    let (s, d) = (store.clone(), done.clone());
    let began = Instant::now();
    let signer = std::thread::spawn(move || {
        let ctx = VerifyContext::new("mfa-bench", "10.0.0.1".parse().unwrap()).unwrap();
        let mut latencies = Vec::new();
        // Sign-ins slower than 100 ms: (seconds into the run, latency).
        let mut slow = Vec::new();
        let (mut failed, mut c) = (0u64, 0u64);
        while !d.load(Ordering::Relaxed) {
            let (i, round) = (c % USERS, c / USERS);
            c += 1;
            let at = UnixTime::from_secs(T0 + 30 * (round + 1));
            let code = totps[i as usize].generate(at).unwrap().to_string();
            let user = format!("user{i:07}");
            let start = Instant::now();
            let r = s.authenticate(
                &AuthRequest::new(&user, Presented::OathCode(&code)),
                at,
                &ctx,
            );
            let took = start.elapsed();
            latencies.push(took);
            if took > Duration::from_millis(100) {
                slow.push((start.duration_since(began).as_secs_f64(), took));
            }
            match r {
                Ok(o) if o.is_approved() => {}
                _ => failed += 1,
            }
        }
        (latencies, failed, slow)
    });
    let start = Instant::now();
    let tokens = (0..n).map(|i| {
        NewToken::new(
            format!("SN{i:09}"),
            TokenKind::Totp(TotpParams::default()),
            token_secret(i),
        )
    });
    let report = store.import(tokens, mode, t).unwrap();
    let took = start.elapsed();
    done.store(true, Ordering::Relaxed);
    let (mut lat, failed, slow) = signer.join().unwrap();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    let max = lat.last().copied().unwrap_or(Duration::ZERO);
    println!(
        "import_stall: {} tokens imported ({mode:?}) in {took:.1?}; {} sign-ins during it, {failed} failed; \
         latency p50 {:.2?}, p99 {:.2?}, p99.9 {:.2?}, max {max:.2?}",
        report.imported,
        lat.len(),
        pct(0.50),
        pct(0.99),
        pct(0.999),
    );
    let at: Vec<String> = slow
        .iter()
        .map(|(t, d)| format!("{d:.2?} at {t:.1}s"))
        .collect();
    println!(
        "import_stall: {} sign-ins over 100 ms (the import ran {took:.1?}): {}",
        slow.len(),
        at.join(", ")
    );
}
