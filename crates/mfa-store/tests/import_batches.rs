//! Large imports commit in batches (accepted-only) or write pending rows
//! in batches and commit them with one small update (all-or-nothing), so
//! they never hold the writer lock for long; all-or-nothing stays all or
//! nothing across batches, and nothing reads a pending row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_store::{DEAD_IMPORT_SECS, Error, IMPORT_BATCH, ImportMode, ImportRejection, Store};

both_backends!(
    all_or_nothing_across_batches_writes_nothing_on_a_late_rejection,
    accepted_only_commits_every_batch,
    a_pending_import_is_not_visible_until_it_commits,
    a_pending_import_is_read_by_nothing_and_holds_its_serials_and_slots,
    a_refused_import_takes_away_the_users_it_created_but_not_claimed_ones,
    an_import_that_died_is_purged_once_it_shows_no_sign_of_life,
    the_next_import_takes_away_a_dead_one_and_a_live_one_that_was_withdrawn_fails_cleanly,
);

fn n() -> usize {
    IMPORT_BATCH * 2 + 500
}

fn tokens(prefix: &str, count: usize) -> Vec<mfa_store::NewToken> {
    (0..count)
        .map(|i| totp_token(&format!("{prefix}{i:06}"), i as u32).with_user(format!("u{i:06}")))
        .collect()
}

/// Rows of all-or-nothing imports that have not committed (pending
/// tokens, and `imports` rows without a commit), read with plain SQL.
fn staged_rows(b: &Backend) -> i64 {
    staged_rows_at(&b.url)
}

fn staged_rows_at(url: &str) -> i64 {
    let sql = "SELECT (SELECT count(*) FROM tokens WHERE import_id IN \
               (SELECT import_id FROM imports WHERE committed_at IS NULL)) \
               + (SELECT count(*) FROM imports WHERE committed_at IS NULL)";
    sql_at(url, sql)
}

fn sql_i64(b: &Backend, sql: &str) -> i64 {
    sql_at(&b.url, sql)
}

fn sql_at(url: &str, sql: &str) -> i64 {
    match url.strip_prefix("sqlite:") {
        Some(path) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
        None => pg_client(url).query_one(sql, &[]).unwrap().get(0),
    }
}

fn user_exists(b: &Backend, user: &str) -> bool {
    let sql = format!("SELECT count(*) FROM users WHERE user_id = '{user}'");
    sql_i64(b, &sql) == 1
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

fn a_pending_import_is_not_visible_until_it_commits(b: &Backend) {
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

fn a_pending_import_is_read_by_nothing_and_holds_its_serials_and_slots(b: &Backend) {
    let s = std::sync::Arc::new(b.open());
    let t = enrol(&s, "alice", "T1", 1);
    s.import([totp_token("FREE", 3)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    // The first batch gives user "capped" 5 tokens (the most allowed).
    let mut list = tokens("P", n());
    for (i, tok) in list.iter_mut().take(5).enumerate() {
        *tok = totp_token(&format!("CAP{i}"), 40 + i as u32).with_user("capped");
    }
    let probe = s.clone();
    let url = b.url.clone();
    let checked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checked2 = checked.clone();
    let list = list.into_iter().enumerate().map(move |(i, tok)| {
        if i == IMPORT_BATCH + 1 {
            // Between transactions, with the first batch written as pending rows.
            assert_eq!(
                staged_rows_at(&url),
                IMPORT_BATCH as i64 + 1,
                "pending rows and the import"
            );
            // Nothing reads them.
            assert!(probe.token("P000010").unwrap().is_none());
            assert!(probe.token("CAP0").unwrap().is_none());
            assert!(
                !probe
                    .tokens()
                    .unwrap()
                    .iter()
                    .any(|t| t.serial.starts_with('P'))
            );
            assert!(probe.user_tokens("capped").unwrap().is_empty());
            assert_eq!(probe.stats().unwrap().tokens, 2);
            assert_eq!(probe.stats().unwrap().users, 1, "alice only");
            assert!(matches!(
                probe.assign("P000010", "mallory", at(T0)),
                Err(Error::UnknownToken { .. })
            ));
            assert!(matches!(
                probe.activate("CAP0", &code_at(40, T0), at(T0)),
                Err(Error::UnknownToken { .. })
            ));
            let exported = probe.export_tokens("test", at(T0)).unwrap();
            assert_eq!(exported.len(), 2);
            let mut backup = Vec::new();
            probe.backup(&mut backup).unwrap();
            let backup = String::from_utf8(backup).unwrap();
            let hex = |v: &str| format!("t{}", data_encoding::HEXLOWER.encode(v.as_bytes()));
            assert!(
                !backup.contains(&hex("P000010")),
                "a pending token in a backup"
            );
            assert!(
                !backup.contains(&hex("capped")),
                "a pending user in a backup"
            );
            assert!(backup.contains(&hex("FREE")));
            // Sign-ins go on.
            assert!(
                probe
                    .verify("alice", &code_at(1, t), at(t), &ctx())
                    .unwrap()
                    .is_approved()
            );
            // Their serials are taken: by another import ...
            let other = probe
                .import([totp_token("P000010", 9)], ImportMode::AcceptedOnly, at(T0))
                .unwrap();
            assert_eq!(other.rejected[0].reason, ImportRejection::Duplicate);
            // ... and so are the user's slots: no sixth token for "capped".
            assert!(matches!(
                probe.assign("FREE", "capped", at(T0)),
                Err(Error::TooManyTokens { .. })
            ));
            checked2.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        tok
    });
    let report = s.import(list, ImportMode::AllOrNothing, at(T0)).unwrap();
    assert!(checked.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(report.imported as usize, n());
    assert_eq!(staged_rows(b), 0);
    // Committed: every read sees them, sign-in included.
    assert!(s.token("P000010").unwrap().is_some());
    assert_eq!(s.user_tokens("capped").unwrap().len(), 5);
    assert_eq!(s.stats().unwrap().tokens as usize, n() + 2);
    s.activate("CAP0", &code_at(40, T0), at(T0)).unwrap();
    let later = T0 + 60;
    assert!(
        s.verify("capped", &code_at(40, later), at(later), &ctx())
            .unwrap()
            .is_approved()
    );
    let mut backup = Vec::new();
    s.backup(&mut backup).unwrap();
    let fresh = Backend::sqlite();
    let r = fresh.open();
    r.restore(std::io::Cursor::new(backup)).unwrap();
    assert_eq!(r.stats().unwrap().tokens as usize, n() + 2);
}

fn a_refused_import_takes_away_the_users_it_created_but_not_claimed_ones(b: &Backend) {
    let s = std::sync::Arc::new(b.open());
    s.import(
        [totp_token("OLD", 1), totp_token("SPARE", 2)],
        ImportMode::AllOrNothing,
        at(T0),
    )
    .unwrap();
    s.put_user(&mfa_store::UserProfile::new("existing"), at(T0))
        .unwrap();
    let mut list: Vec<_> = (0..n() - 1)
        .map(|i| totp_token(&format!("R{i:06}"), i as u32).with_user(format!("r{i:06}")))
        .collect();
    list[3] = totp_token("R000003", 3).with_user("existing");
    list.push(totp_token("OLD", 9).with_user("late")); // the refusal, in the last batch
    let probe = s.clone();
    let list = list.into_iter().enumerate().map(move |(i, tok)| {
        if i == IMPORT_BATCH + 1 {
            // An administrator gives r000001 a token meanwhile: it stays.
            probe.assign("SPARE", "r000001", at(T0)).unwrap();
        }
        tok
    });
    let e = s
        .import(list, ImportMode::AllOrNothing, at(T0))
        .unwrap_err();
    assert!(matches!(e, Error::ImportRefused { .. }), "{e:?}");
    assert_eq!(staged_rows(b), 0);
    assert!(
        !user_exists(b, "r000000"),
        "a user of the refused import stayed"
    );
    assert!(!user_exists(b, "r000002"));
    assert!(!user_exists(b, "late"));
    assert!(user_exists(b, "existing"));
    assert!(user_exists(b, "r000001"), "the claimed user was taken away");
    assert_eq!(s.user_tokens("r000001").unwrap().len(), 1);
    assert_eq!(
        sql_i64(b, "SELECT count(*) FROM users WHERE import_id IS NOT NULL"),
        0
    );
    assert_eq!(sql_i64(b, "SELECT count(*) FROM tokens"), 2);
    let stats = s.stats().unwrap();
    assert_eq!((stats.tokens, stats.users), (2, 2));
}

/// An all-or-nothing import of "D…" tokens at `T0` whose iterator panics
/// after the first batch: as if its process died with pending rows written
/// and no chance to take them away.
fn import_dies_after_one_batch(s: &Store) {
    let list = tokens("D", n()).into_iter().enumerate().map(|(i, tok)| {
        assert!(i <= IMPORT_BATCH, "the import's process ends here");
        tok
    });
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.import(list, ImportMode::AllOrNothing, at(T0))
    }));
    assert!(died.is_err());
}

fn an_import_that_died_is_purged_once_it_shows_no_sign_of_life(b: &Backend) {
    let s = b.open();
    import_dies_after_one_batch(&s);
    assert_eq!(staged_rows(b), IMPORT_BATCH as i64 + 1);
    assert!(s.token("D000000").unwrap().is_none());
    assert_eq!(s.stats().unwrap().users, 0);
    // Its serials stay taken while it may still be alive ...
    let again = s
        .import(tokens("D", 1), ImportMode::AcceptedOnly, at(T0 + 60))
        .unwrap();
    assert_eq!(again.rejected[0].reason, ImportRejection::Duplicate);
    s.purge_log(at(T0 + 60), 90).unwrap();
    assert_eq!(staged_rows(b), IMPORT_BATCH as i64 + 1);
    // ... and once it has shown no sign of life for DEAD_IMPORT_SECS, the
    // purge takes its rows away.
    let dead = T0 + 2 * DEAD_IMPORT_SECS;
    s.purge_log(at(dead), 90).unwrap();
    assert_eq!(staged_rows(b), 0);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM tokens"), 0);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM users"), 0);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM imports"), 0);
    let report = s
        .import(tokens("D", n()), ImportMode::AllOrNothing, at(dead))
        .unwrap();
    assert_eq!(report.imported as usize, n());
}

fn the_next_import_takes_away_a_dead_one_and_a_live_one_that_was_withdrawn_fails_cleanly(
    b: &Backend,
) {
    let s = std::sync::Arc::new(b.open());
    import_dies_after_one_batch(&s);
    // The next all-or-nothing import, later, takes its rows away first, so
    // the same tokens go in.
    let dead = T0 + 2 * DEAD_IMPORT_SECS;
    let report = s
        .import(tokens("D", 10), ImportMode::AllOrNothing, at(dead))
        .unwrap();
    assert_eq!(report.imported, 10);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM tokens"), 10);
    assert_eq!(staged_rows(b), 0);
    // An import that is withdrawn while it runs (it was too slow, or its
    // rows were taken for those of a dead one) stops with a clear error and
    // leaves nothing.
    let probe = s.clone();
    let list = tokens("L", n())
        .into_iter()
        .enumerate()
        .map(move |(i, tok)| {
            if i == IMPORT_BATCH + 1 {
                probe.purge_log(at(T0 + 10 * DEAD_IMPORT_SECS), 90).unwrap();
            }
            tok
        });
    let e = s
        .import(list, ImportMode::AllOrNothing, at(T0))
        .unwrap_err();
    assert!(matches!(e, Error::ImportAbandoned), "{e:?}");
    assert_eq!(staged_rows(b), 0);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM tokens"), 10);
    assert_eq!(sql_i64(b, "SELECT count(*) FROM users"), 10);
}
