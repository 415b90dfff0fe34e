//! Instruction counts of the store's HOTP sign-in as `mfa radius serve`
//! decides it (`Store::authenticate_batch`, batches of 16 distinct users,
//! SQLite, the default `synchronous=FULL`), for `valgrind --tool=callgrind`:
//! repeatable whatever else the machine is doing, unlike wall-clock time.
//!
//! ```text
//! cargo build --release -p mfa-benches --example signin_icount
//! for w in setup run; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/signin_icount $w 2>&1 | grep refs
//! done
//! ```
//!
//! `setup` builds the store (2,000 users, each with an activated HOTP
//! token) and the codes; `run` also signs in with 5 codes of every user
//! (10,000 approvals, each asserted); `keep` is `setup` that keeps the store
//! file and prints its path. (run − setup) / 10,000 is the
//! instructions of one sign-in, the transaction's share included.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    missing_docs
)]

use mfa_benches::{hotp_users, token_secret};
use mfa_oath::{Hotp, HotpParams, UnixTime};
use mfa_store::{AuthRequest, MasterKey, Presented, Store, VerifyContext};

const USERS: u64 = 2_000;
const CODES: u64 = 5;
const BATCH: usize = 16;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    let store = Store::open(&url, &MasterKey::new(1, [7; 32])).unwrap();
    let t0 = UnixTime::from_secs(1_700_000_000);
    hotp_users(&store, USERS, t0).unwrap();
    let hotp = |i: u64| Hotp::new(token_secret(i), HotpParams::default());
    let mut codes = Vec::new();
    for c in 1..=CODES {
        for i in 0..USERS {
            codes.push((format!("u{i}"), hotp(i).generate(c).to_string()));
        }
    }
    let ctx = VerifyContext::new("radius-1", "127.0.0.1".parse().unwrap()).unwrap();
    if which != "run" {
        eprintln!("setup: {} codes", codes.len());
        if which == "keep" {
            // The store file, for looking at its statements' plans.
            eprintln!("kept: {}", dir.keep().join("mfa.db").display());
        }
        return;
    }
    let now = UnixTime::from_secs(1_700_000_100);
    for chunk in codes.chunks(BATCH) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|(u, c)| (AuthRequest::new(u, Presented::OathCode(c)), ctx.clone()))
            .collect();
        let out = store.authenticate_batch(&batch, now).unwrap();
        assert!(
            out.iter()
                .all(|o| o.as_ref().is_ok_and(|o| o.is_approved()))
        );
    }
    eprintln!("run: {} approvals", codes.len());
}
