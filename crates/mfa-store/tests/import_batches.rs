//! Large imports commit in batches (accepted-only) or stage and swap
//! (all-or-nothing), so they never hold the writer lock for the whole run;
//! all-or-nothing stays all or nothing across batches.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_store::{Error, IMPORT_BATCH, ImportMode, ImportRejection, Store};

both_backends!(
    all_or_nothing_across_batches_writes_nothing_on_a_late_rejection,
    accepted_only_commits_every_batch,
    a_staged_import_is_not_visible_until_it_is_swapped_in,
);

fn n() -> usize {
    IMPORT_BATCH * 2 + 500
}

fn tokens(prefix: &str, count: usize) -> Vec<mfa_store::NewToken> {
    (0..count)
        .map(|i| totp_token(&format!("{prefix}{i:06}"), i as u32).with_user(format!("u{i:06}")))
        .collect()
}

fn staged_rows(b: &Backend) -> i64 {
    match b.url.strip_prefix("sqlite:") {
        Some(path) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row("SELECT count(*) FROM import_staging", [], |r| r.get(0))
            .unwrap(),
        None => pg_client(&b.url)
            .query_one("SELECT count(*) FROM import_staging", &[])
            .unwrap()
            .get(0),
    }
}

fn all_or_nothing_across_batches_writes_nothing_on_a_late_rejection(b: &Backend) {
    let s = b.open();
    s.import(tokens("OLD", 1), ImportMode::AllOrNothing, at(T0))
        .unwrap();
    // The last token repeats a serial that exists: the rejection comes in
    // the third batch, after two were staged.
    let mut list = tokens("NEW", n() - 1);
    list.push(totp_token("OLD000000", 9).with_user("late"));
    let e = s
        .import(list, ImportMode::AllOrNothing, at(T0))
        .unwrap_err();
    let Error::ImportRefused { report } = e else {
        panic!("refused: {e:?}");
    };
    assert_eq!(report.imported, 0);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].index, n() - 1);
    assert_eq!(report.rejected[0].reason, ImportRejection::Duplicate);
    // Nothing written: no token, no user, nothing left staged.
    let stats = s.stats().unwrap();
    assert_eq!((stats.tokens, stats.users), (1, 1));
    assert_eq!(staged_rows(b), 0);
    // And the same list without the duplicate goes in whole.
    let report = s
        .import(tokens("NEW", n() - 1), ImportMode::AllOrNothing, at(T0))
        .unwrap();
    assert_eq!(report.imported as usize, n() - 1);
    assert_eq!(s.stats().unwrap().tokens as usize, n());
    assert_eq!(staged_rows(b), 0);
    // Imported tokens are sealed and MAC'd like any other: they activate.
    s.activate("NEW000007", &code_at(7, T0), at(T0)).unwrap();
}

fn accepted_only_commits_every_batch(b: &Backend) {
    let s = b.open();
    s.import(tokens("A", 3), ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let report = s
        .import(tokens("A", n()), ImportMode::AcceptedOnly, at(T0))
        .unwrap();
    assert_eq!(report.imported as usize, n() - 3);
    let rejected: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
    assert_eq!(rejected, vec![0, 1, 2]);
    assert_eq!(s.stats().unwrap().tokens as usize, n());
}

fn a_staged_import_is_not_visible_until_it_is_swapped_in(b: &Backend) {
    // An import whose iterator looks at the store between batches: the
    // staged tokens are not there yet, and sign-ins go on meanwhile.
    let s = std::sync::Arc::new(b.open());
    let t = enrol(&s, "alice", "T1", 1);
    let probe = s.clone();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let list = tokens("S", n())
        .into_iter()
        .enumerate()
        .map(move |(i, tok)| {
            if i == IMPORT_BATCH + 1 {
                // Mid-import, between transactions.
                let visible = probe.token("S000000").unwrap().is_some();
                let code = code_at(1, t);
                let ok = probe
                    .verify("alice", &code, at(t), &ctx())
                    .unwrap()
                    .is_approved();
                seen2.lock().unwrap().push((visible, ok));
            }
            tok
        });
    let report = s.import(list, ImportMode::AllOrNothing, at(T0)).unwrap();
    assert_eq!(report.imported as usize, n());
    assert_eq!(*seen.lock().unwrap(), vec![(false, true)]);
    assert!(s.token("S000000").unwrap().is_some());
    let _: &Store = &s;
}
