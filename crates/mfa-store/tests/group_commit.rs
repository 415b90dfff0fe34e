//! Group commit: many threads writing through one `Store` (as one server's
//! worker pool does) share SQLite commits, and none learns its result
//! before the commit that makes it durable. (Closures that fail or panic
//! inside a group are tested in `db.rs`, which can reach the pool.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use mfa_store::{BackendKind, Durability, Store};

both_backends!(
    distinct_users_from_16_threads_on_one_full_store_are_all_approved_and_logged,
    same_code_from_16_threads_on_one_store_is_accepted_once,
    an_approval_is_visible_to_another_handle_as_soon_as_verify_returns,
);

const THREADS: usize = 16;
const PER_THREAD: usize = 3;

/// Enrols `n` users `u0`, `u1`, … (token `i` for user `ui`); returns the
/// time to sign in at.
fn enrol_users(s: &Store, n: usize) -> u64 {
    let mut t = 0;
    for i in 0..n {
        let i32 = u32::try_from(i).unwrap();
        t = enrol(s, &format!("u{i}"), &format!("T{i}"), i32);
    }
    t
}

fn distinct_users_from_16_threads_on_one_full_store_are_all_approved_and_logged(b: &Backend) {
    let s = Arc::new(b.open());
    assert_eq!(s.config().durability, Durability::Full);
    let n = THREADS * PER_THREAD;
    let t = enrol_users(&s, n);
    let before = s.write_commits();
    let store = s.clone();
    let approved: usize = race(THREADS, move |k| {
        (0..PER_THREAD)
            .map(|j| {
                let i = k * PER_THREAD + j;
                let code = code_at(u32::try_from(i).unwrap(), t);
                let o = store
                    .verify(&format!("u{i}"), &code, at(t), &ctx())
                    .unwrap();
                usize::from(o.is_approved())
            })
            .sum::<usize>()
    })
    .into_iter()
    .sum();
    assert_eq!(approved, n);
    let commits = s.write_commits() - before;
    let log = s.auth_log(at(t), at(t + 1)).unwrap();
    let mut users: Vec<String> = log.iter().map(|e| e.user().as_str().to_owned()).collect();
    users.sort();
    let mut want: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    want.sort();
    assert_eq!(users, want, "one log event per approval");
    match s.backend() {
        // One commit (one fsync) for several approvals.
        BackendKind::Sqlite => assert!(commits < n as u64, "{commits} commits for {n}"),
        BackendKind::Postgres => assert_eq!(commits, n as u64),
    }
}

fn same_code_from_16_threads_on_one_store_is_accepted_once(b: &Backend) {
    // A threshold above 16, so that the 15 replays are not cut short by a lock.
    let s = Arc::new(b.open_with(otp_lockout(100, 3600, 3600)));
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    let store = s.clone();
    let outcomes = race(THREADS, move |_| {
        store.verify("alice", &code, at(t), &ctx()).unwrap()
    });
    let approved = outcomes.iter().filter(|o| o.is_approved()).count();
    let replayed = outcomes
        .iter()
        .filter(|o| {
            o.denial()
                .is_some_and(|r| r.kind() == mfa_record::DenialKind::CodeReplayed)
        })
        .count();
    assert_eq!((approved, replayed), (1, THREADS - 1));
    assert_eq!(s.stats().unwrap().auth_events, THREADS as u64);
}

fn an_approval_is_visible_to_another_handle_as_soon_as_verify_returns(b: &Backend) {
    let s = Arc::new(b.open());
    let n = THREADS * PER_THREAD;
    let t = enrol_users(&s, n);
    // Another handle: its reads see only what is committed.
    let observer = Arc::new(b.open());
    let store = s.clone();
    let missing: usize = race(THREADS, move |k| {
        (0..PER_THREAD)
            .filter(|j| {
                let i = k * PER_THREAD + j;
                let user = format!("u{i}");
                let code = code_at(u32::try_from(i).unwrap(), t);
                assert!(
                    store
                        .verify(&user, &code, at(t), &ctx())
                        .unwrap()
                        .is_approved()
                );
                !observer
                    .auth_log(at(t), at(t + 1))
                    .unwrap()
                    .iter()
                    .any(|e| e.user().as_str() == user)
            })
            .count()
    })
    .into_iter()
    .sum();
    assert_eq!(missing, 0, "approvals returned before their commit");
}
