//! Writes the seed corpus of the `store_restore` fuzz target from the
//! current mfa-store, so the seeds follow the backup format: two backups the
//! code accepts (an empty store; a store with a row in every table a backup
//! carries) and refused variants of the full one (one byte changed, cut in
//! half, the header line only, nothing). It then checks that each seed is
//! accepted or refused as its name says, and fails otherwise.
//!
//! Run it through `fuzz/seeds/store_restore.sh` (the one way to regenerate
//! the seeds) after any change to the backup format, and commit the result.
//! CI's seed replay (.ci/checks.d/fuzz.sh) fails when no seed is accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};

use mfa_oath::{HotpParams, Secret, Totp, TotpParams, UnixTime};
use mfa_store::{Channel, ImportMode, NewToken, Store, TokenKind, VerifyContext};

#[path = "../fuzz_targets/store_restore_key.rs"]
mod key;

const T0: u64 = 1_700_000_000;

fn at(s: u64) -> UnixTime {
    UnixTime::from_secs(s)
}

fn secret(i: u8) -> Secret {
    let mut b = *b"12345678901234567890";
    b[0] = i;
    Secret::from_bytes(&b).unwrap()
}

fn fresh(dir: &Path, name: &str) -> Store {
    let url = format!("sqlite:{}", dir.join(name).display());
    Store::open(&url, &key::master_key()).expect("open a fresh store")
}

fn backup(s: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    s.backup(&mut out).expect("backup");
    out
}

/// One row or more in every table: tokens of both kinds (assigned,
/// activated, one spare), users, lockout counters, the authentication and
/// audit logs, a fraud block, a trusted range, a one-time code and an app
/// password.
fn populate(s: &Store) {
    let tokens = [
        NewToken::new("T1", TokenKind::Totp(TotpParams::default()), secret(1)),
        NewToken::new("T2", TokenKind::Totp(TotpParams::default()), secret(2))
            .with_validity(Some(T0 as i64 - 3600), Some(T0 as i64 + 86_400)),
        NewToken::new("H1", TokenKind::Hotp(HotpParams::default()), secret(3)),
    ];
    s.import(tokens, ImportMode::AllOrNothing, at(T0)).unwrap();
    s.assign("T1", "alice", at(T0)).unwrap();
    s.assign("T2", "bob, \"the builder\"", at(T0)).unwrap();
    let code = |i: u8, t: u64| {
        Totp::new(secret(i), TotpParams::default())
            .generate(at(t))
            .unwrap()
            .to_string()
    };
    s.activate("T1", &code(1, T0), at(T0)).unwrap();
    s.activate("T2", &code(2, T0), at(T0)).unwrap();
    let ctx = VerifyContext::new("mfa-1", "10.0.0.1".parse().unwrap())
        .unwrap()
        .with_client("192.0.2.7".parse().unwrap());
    let approved = s.verify("alice", &code(1, T0 + 30), at(T0 + 30), &ctx).unwrap();
    assert!(approved.is_approved(), "the seed store must hold an approval");
    let _ = s.verify("alice", "000000", at(T0 + 60), &ctx).unwrap();
    s.report_fraud("bob, \"the builder\"", mfa_fraud::Channel::App, true, at(T0 + 90), &ctx)
        .unwrap();
    s.add_trusted_range("10.1.0.0/16", "root", at(T0)).unwrap();
    s.create_code("alice", Channel::Sms, "424242", at(T0 + 100)).unwrap();
    s.add_app_password("alice", "mail", at(T0 + 120)).unwrap();
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("corpus/store_restore"), PathBuf::from);
    let work = std::env::temp_dir().join(format!("mfa-store-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();

    let empty = backup(&fresh(&work, "empty.db"));
    let full = {
        let s = fresh(&work, "full.db");
        populate(&s);
        backup(&s)
    };
    let mut changed = full.clone();
    let mid = changed.len() / 2;
    changed[mid] = if changed[mid] == b'a' { b'b' } else { b'a' };
    let header = full.split_inclusive(|b| *b == b'\n').next().unwrap().to_vec();
    let seeds: [(&str, &[u8], bool); 6] = [
        ("accepted-empty-store", &empty, true),
        ("accepted-full-store", &full, true),
        ("refused-one-byte-changed", &changed, false),
        ("refused-cut-in-half", &full[..full.len() / 2], false),
        ("refused-header-only", &header, false),
        ("refused-nothing", b"", false),
    ];

    // The generator owns the directory: old seeds (an older format) go.
    if out.exists() {
        std::fs::remove_dir_all(&out).unwrap();
    }
    std::fs::create_dir_all(&out).unwrap();
    for (i, (name, bytes, accepted)) in seeds.iter().enumerate() {
        let target = fresh(&work, &format!("check-{i}.db"));
        let result = target.restore(std::io::Cursor::new(*bytes));
        assert_eq!(
            result.is_ok(),
            *accepted,
            "seed {name}: restore gave {result:?}"
        );
        std::fs::write(out.join(name), bytes).unwrap();
        println!("{name}: {} bytes, {}", bytes.len(), if *accepted { "accepted" } else { "refused" });
    }
    std::fs::remove_dir_all(&work).unwrap();
}
