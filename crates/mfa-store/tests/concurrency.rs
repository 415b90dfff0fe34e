//! Concurrency on both backends: many threads (each with its own `Store`, as
//! separate servers would have) and several processes hitting one database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeMap;

use common::*;
use mfa_lockout::FactorClass;
use mfa_record::DenialKind;
use mfa_store::{Error, ImportMode};

both_backends!(
    same_code_from_16_threads_is_accepted_once,
    two_hundred_wrong_codes_lock_exactly_at_the_threshold,
    two_hundred_wrong_codes_count_exactly,
    concurrent_sixth_token_is_refused_exactly_once,
    same_code_from_4_processes_is_accepted_once,
);

fn tally(outcomes: &[mfa_store::VerifyOutcome]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for o in outcomes {
        let k = o
            .denial()
            .map_or("approved".to_owned(), |r| r.kind().as_str().to_owned());
        *m.entry(k).or_default() += 1;
    }
    m
}

fn same_code_from_16_threads_is_accepted_once(b: &Backend) {
    // A threshold above 16, so that the 15 replays are not cut short by a lock.
    let config = otp_lockout(100, 3600, 3600);
    let s = b.open_with(config.clone());
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    let url = b.url.clone();
    let outcomes = race(16, move |_| {
        let store = mfa_store::Store::open_with(&url, &key(), config.clone()).unwrap();
        store.verify("alice", &code, at(t), &ctx()).unwrap()
    });
    let m = tally(&outcomes);
    assert_eq!(m.get("approved"), Some(&1), "{m:?}");
    assert_eq!(m.get("code_replayed"), Some(&15), "{m:?}");
    assert_eq!(s.stats().unwrap().auth_events, 16);
    // One approval event and 15 replays: a server that lost the race to
    // consume the step wrote no approval event.
    let log = s.auth_log(at(t), at(t + 1)).unwrap();
    assert_eq!(log.iter().filter(|e| e.result().is_success()).count(), 1);
    assert_eq!(log.len(), 16);
}

fn wrong_codes(b: &Backend, threshold: u32) -> (BTreeMap<String, usize>, mfa_store::Store, u64) {
    let config = otp_lockout(threshold, 3600, 3600);
    let s = b.open_with(config.clone());
    let t = enrol(&s, "alice", "T1", 1);
    let wrong = wrong_code(1, t);
    let url = b.url.clone();
    // 20 servers, 10 attempts each, all at once.
    let per_thread = race(20, move |_| {
        let store = mfa_store::Store::open_with(&url, &key(), config.clone()).unwrap();
        (0..10)
            .map(|_| store.verify("alice", &wrong, at(t), &ctx()).unwrap())
            .collect::<Vec<_>>()
    });
    let all: Vec<_> = per_thread.into_iter().flatten().collect();
    assert_eq!(all.len(), 200);
    (tally(&all), s, t)
}

fn two_hundred_wrong_codes_lock_exactly_at_the_threshold(b: &Backend) {
    let (m, s, t) = wrong_codes(b, 50);
    assert_eq!(m.get("code_wrong"), Some(&50), "{m:?}");
    assert_eq!(m.get("locked"), Some(&150), "{m:?}");
    let state = s.lockout_state("alice", FactorClass::Otp).unwrap();
    assert_eq!(state.failures(), 50);
    assert_eq!(state.lock(), mfa_lockout::Lock::Until(at(t + 3600)));
    // Even the right code is refused now.
    let o = s.verify("alice", &code_at(1, t), at(t), &ctx()).unwrap();
    assert_eq!(o.denial().map(|r| r.kind()), Some(DenialKind::Locked));
}

fn two_hundred_wrong_codes_count_exactly(b: &Backend) {
    // A threshold that is never reached: the default hard cap of 100
    // consecutive denials stops the guessing, exactly at 100.
    let (m, s, _) = wrong_codes(b, 1000);
    assert_eq!(m.get("code_wrong"), Some(&100), "{m:?}");
    assert_eq!(m.get("failure_cap_reached"), Some(&100), "{m:?}");
    let state = s.lockout_state("alice", FactorClass::Otp).unwrap();
    assert_eq!(
        (state.failures(), state.consecutive(), state.lock()),
        (
            100,
            100,
            mfa_lockout::Lock::Admin(mfa_lockout::AdminLockCause::HardCap)
        )
    );
}

fn concurrent_sixth_token_is_refused_exactly_once(b: &Backend) {
    let s = b.open();
    let tokens: Vec<_> = (0..6).map(|i| totp_token(&format!("T{i}"), i)).collect();
    s.import(tokens, ImportMode::AllOrNothing, at(T0)).unwrap();
    for i in 0..4 {
        s.assign(&format!("T{i}"), "alice", at(T0)).unwrap();
    }
    // Two servers assign the fifth and the sixth token at once: one wins.
    for round in 0..3 {
        let url = b.url.clone();
        let results = race(2, move |i| {
            let store = mfa_store::Store::open(&url, &key()).unwrap();
            store.assign(&format!("T{}", 4 + i), "alice", at(T0))
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(Error::TooManyTokens { max: 5, .. })))
            .count();
        assert_eq!((ok, refused), (1, 1), "round {round}: {results:?}");
        assert_eq!(s.user_tokens("alice").unwrap().len(), 5);
        // Put the winner back for the next round.
        for serial in ["T4", "T5"] {
            if s.token(serial).unwrap().unwrap().user.is_some() {
                s.unassign(serial, at(T0)).unwrap();
            }
        }
    }
    // And eight servers with eight candidate tokens: exactly one succeeds.
    let extra: Vec<_> = (10..18).map(|i| totp_token(&format!("X{i}"), i)).collect();
    s.import(extra, ImportMode::AllOrNothing, at(T0)).unwrap();
    let url = b.url.clone();
    let results = race(8, move |i| {
        let store = mfa_store::Store::open(&url, &key()).unwrap();
        store.assign(&format!("X{}", 10 + i), "alice", at(T0))
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(s.user_tokens("alice").unwrap().len(), 5);
}

const CHILD_ENV: &str = "MFA_STORE_TEST_CHILD";

/// Not a test by itself: the body of the child processes of
/// `same_code_from_4_processes_is_accepted_once` (does nothing unless the
/// parent set the environment).
#[test]
fn child_verify() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(4, '\n');
    let (url, code, t, go) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
        parts.next().unwrap(),
    );
    let store = mfa_store::Store::open(url, &key()).unwrap();
    while !std::path::Path::new(go).exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let o = store.verify("alice", code, at(t), &ctx()).unwrap();
    let r = o.denial().map_or("approved", |r| r.kind().as_str());
    std::fs::write(format!("{go}.{}", std::process::id()), r).unwrap();
}

fn same_code_from_4_processes_is_accepted_once(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let spec = format!("{}\n{}\n{t}\n{}", b.url, code_at(1, t), go.display());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "child_verify", "--test-threads", "1", "--quiet"])
                .env(CHILD_ENV, &spec)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::write(&go, b"").unwrap();
    let mut results = Vec::new();
    for mut c in children {
        let pid = c.id();
        assert!(c.wait().unwrap().success());
        results.push(std::fs::read_to_string(format!("{}.{pid}", go.display())).unwrap());
    }
    results.sort();
    assert_eq!(
        results,
        [
            "approved",
            "code_replayed",
            "code_replayed",
            "code_replayed"
        ]
    );
}
