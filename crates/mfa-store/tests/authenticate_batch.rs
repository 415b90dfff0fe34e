//! `Store::authenticate_batch`: several sign-ins in one transaction, each
//! decided as `Store::authenticate` decides it, each in its own savepoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_record::DenialKind;
use mfa_store::{
    ApprovedBy, AuthOutcome, AuthRequest, Error, Presented, Store, UserProfile, VerifyContext,
};

both_backends!(
    a_batch_decides_and_logs_as_the_same_requests_one_by_one,
    the_same_code_twice_in_one_batch_is_one_approval_and_one_replay,
    two_users_codes_in_one_batch_are_both_approved_in_one_commit,
    a_wrong_code_counts_one_lockout_failure_per_item,
    an_unknown_user_in_a_batch_is_denied_and_logged,
    a_user_id_the_record_refuses_fails_only_its_own_item,
    a_tampered_token_fails_only_its_own_item_and_is_recorded,
    an_empty_batch_is_fine,
    try_batch_decides_at_once_on_sqlite_and_never_on_postgresql,
);

fn kind(r: &Result<AuthOutcome, Error>) -> Option<DenialKind> {
    r.as_ref().unwrap().denial().map(|d| d.kind())
}

fn batch<'a>(reqs: &[AuthRequest<'a>]) -> Vec<(AuthRequest<'a>, VerifyContext)> {
    reqs.iter().map(|r| (*r, ctx())).collect()
}

/// A second, empty database of the same backend as `b`.
fn another(b: &Backend) -> Backend {
    match b.name {
        "sqlite" => Backend::sqlite(),
        _ => Backend::postgres("batch_second").expect("the first one was configured"),
    }
}

/// The log events as text, sorted (the order of rows is not compared).
fn log(s: &Store, from: u64, to: u64) -> Vec<String> {
    let mut events: Vec<String> = s
        .auth_log(at(from), at(to))
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    events.sort();
    events
}

/// Alice (token 1), Bob (token 2) with a phone, and Carol (token 3).
fn users(s: &Store) -> u64 {
    let t = enrol(s, "alice", "T1", 1);
    enrol(s, "bob", "T2", 2);
    enrol(s, "carol", "T3", 3);
    let mut p = UserProfile::new("bob");
    p.phone = Some("+31 6 1234 5678".into());
    s.put_user(&p, at(T0)).unwrap();
    t
}

fn a_batch_decides_and_logs_as_the_same_requests_one_by_one(b: &Backend) {
    let c = another(b);
    let (batched, single) = (
        b.open_with(otp_lockout(3, 600, 600)),
        c.open_with(otp_lockout(3, 600, 600)),
    );
    let t = users(&batched);
    assert_eq!(users(&single), t);
    let (a, bo, wrong) = (code_at(1, t), code_at(2, t), wrong_code(3, t));
    let reqs = [
        AuthRequest::new("carol", Presented::OathCode(&wrong)),
        AuthRequest::new("alice", Presented::OathCode(&a)),
        AuthRequest::new("bob", Presented::Nothing),
        AuthRequest::new("nobody", Presented::OathCode("123456")),
        AuthRequest::new("alice", Presented::OathCode(&a)),
        AuthRequest::new("bob", Presented::OathCode(&bo)),
        AuthRequest::new("alice", Presented::AppPassword("not-an-app-password")),
        AuthRequest::new("carol", Presented::OathCode(&wrong)),
    ];
    let together = batched.authenticate_batch(&batch(&reqs), at(t)).unwrap();
    let one_by_one: Vec<_> = reqs
        .iter()
        .map(|r| single.authenticate(r, at(t), &ctx()).unwrap())
        .collect();
    assert_eq!(together.len(), reqs.len());
    for (i, (x, y)) in together.iter().zip(&one_by_one).enumerate() {
        assert_eq!(x.as_ref().unwrap(), y, "request {i}: {:?}", reqs[i]);
    }
    // Not trivially equal: approvals, a replay, a challenge, denials.
    assert!(one_by_one[1].is_approved() && one_by_one[5].is_approved());
    assert_eq!(
        one_by_one[4].denial().map(|r| r.kind()),
        Some(DenialKind::CodeReplayed)
    );
    assert!(matches!(one_by_one[2], AuthOutcome::SecondFactorNeeded(_)));
    let events = log(&batched, t, t + 1);
    assert_eq!(events.len(), 7, "every decision but the challenge start");
    assert_eq!(events, log(&single, t, t + 1));
    // The lockout counters are the same too: one more wrong code locks
    // Carol (threshold 3) in both.
    let third = wrong_code(3, t + 1);
    for s in [&batched, &single] {
        let o = s
            .authenticate(
                &AuthRequest::new("carol", Presented::OathCode(&third)),
                at(t + 1),
                &ctx(),
            )
            .unwrap();
        assert_eq!(o.denial().map(|r| r.kind()), Some(DenialKind::CodeWrong));
        let o = s
            .authenticate(
                &AuthRequest::new("carol", Presented::OathCode(&code_at(3, t + 1))),
                at(t + 1),
                &ctx(),
            )
            .unwrap();
        assert_eq!(o.denial().map(|r| r.kind()), Some(DenialKind::Locked));
    }
}

fn the_same_code_twice_in_one_batch_is_one_approval_and_one_replay(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let code = code_at(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&code));
    let out = s.authenticate_batch(&batch(&[req, req]), at(t)).unwrap();
    assert_eq!(
        out[0].as_ref().unwrap(),
        &AuthOutcome::Approved {
            by: ApprovedBy::OathCode {
                serial: "T1".into(),
                step: t / 30
            },
            device_token: None
        }
    );
    assert_eq!(kind(&out[1]), Some(DenialKind::CodeReplayed));
    let events = s.auth_log(at(t), at(t + 1)).unwrap();
    assert_eq!(events.iter().filter(|e| e.result().is_success()).count(), 1);
    assert_eq!(events.len(), 2);
    // Committed: the code is spent for a later sign-in too.
    let again = s.authenticate(&req, at(t + 1), &ctx()).unwrap();
    assert_eq!(
        again.denial().map(|r| r.kind()),
        Some(DenialKind::CodeReplayed)
    );
}

fn two_users_codes_in_one_batch_are_both_approved_in_one_commit(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let (a, c) = (code_at(1, t), code_at(3, t));
    let commits = s.write_commits();
    let out = s
        .authenticate_batch(
            &batch(&[
                AuthRequest::new("carol", Presented::OathCode(&c)),
                AuthRequest::new("alice", Presented::OathCode(&a)),
            ]),
            at(t),
        )
        .unwrap();
    assert!(
        out.iter().all(|o| o.as_ref().unwrap().is_approved()),
        "{out:?}"
    );
    assert!(matches!(
        out[0].as_ref().unwrap(),
        AuthOutcome::Approved { by: ApprovedBy::OathCode { serial, .. }, .. } if serial == "T3"
    ));
    assert!(matches!(
        out[1].as_ref().unwrap(),
        AuthOutcome::Approved { by: ApprovedBy::OathCode { serial, .. }, .. } if serial == "T1"
    ));
    assert_eq!(
        s.write_commits() - commits,
        1,
        "one transaction, one commit"
    );
    assert_eq!(log(&s, t, t + 1).len(), 2);
}

fn a_wrong_code_counts_one_lockout_failure_per_item(b: &Backend) {
    let s = b.open_with(otp_lockout(3, 600, 600));
    let t = users(&s);
    let wrong = wrong_code(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&wrong));
    let out = s.authenticate_batch(&batch(&[req, req]), at(t)).unwrap();
    assert_eq!(kind(&out[0]), Some(DenialKind::CodeWrong));
    assert_eq!(kind(&out[1]), Some(DenialKind::CodeWrong));
    // Two failures counted, not one and not three: the third is still
    // checked (wrong), and then the right code finds the user locked.
    let third = s.authenticate(&req, at(t + 1), &ctx()).unwrap();
    assert_eq!(
        third.denial().map(|r| r.kind()),
        Some(DenialKind::CodeWrong)
    );
    let good = code_at(1, t + 1);
    let locked = s
        .authenticate(
            &AuthRequest::new("alice", Presented::OathCode(&good)),
            at(t + 1),
            &ctx(),
        )
        .unwrap();
    assert_eq!(locked.denial().map(|r| r.kind()), Some(DenialKind::Locked));
    // In one batch too: the fourth item after three failures is locked.
    let s = another(b);
    let s = s.open_with(otp_lockout(3, 600, 600));
    let t = users(&s);
    let good = code_at(1, t);
    let out = s
        .authenticate_batch(
            &batch(&[
                req,
                req,
                req,
                AuthRequest::new("alice", Presented::OathCode(&good)),
            ]),
            at(t),
        )
        .unwrap();
    let kinds: Vec<_> = out.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            Some(DenialKind::CodeWrong),
            Some(DenialKind::CodeWrong),
            Some(DenialKind::CodeWrong),
            Some(DenialKind::Locked)
        ]
    );
}

fn an_unknown_user_in_a_batch_is_denied_and_logged(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let a = code_at(1, t);
    let out = s
        .authenticate_batch(
            &batch(&[
                AuthRequest::new("nobody", Presented::OathCode("123456")),
                AuthRequest::new("alice", Presented::OathCode(&a)),
            ]),
            at(t),
        )
        .unwrap();
    assert_eq!(kind(&out[0]), Some(DenialKind::UnknownUser));
    assert!(out[1].as_ref().unwrap().is_approved());
    let events = s.auth_log(at(t), at(t + 1)).unwrap();
    let nobody: Vec<_> = events
        .iter()
        .filter(|e| e.user().as_str() == "nobody")
        .collect();
    assert_eq!(nobody.len(), 1);
    assert_eq!(
        nobody[0].result().denial().map(|r| r.kind()),
        Some(DenialKind::UnknownUser)
    );
}

fn a_user_id_the_record_refuses_fails_only_its_own_item(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let a = code_at(1, t);
    let out = s
        .authenticate_batch(
            &batch(&[
                AuthRequest::new("bad\nuser", Presented::OathCode("123456")),
                AuthRequest::new("alice", Presented::OathCode(&a)),
            ]),
            at(t),
        )
        .unwrap();
    assert!(matches!(out[0], Err(Error::Record(_))), "{:?}", out[0]);
    assert!(out[1].as_ref().unwrap().is_approved());
    assert_eq!(log(&s, t, t + 1).len(), 1, "only Alice's decision");
    // A batch of only refused ids writes nothing (no transaction).
    let commits = s.write_commits();
    let out = s
        .authenticate_batch(&batch(&[AuthRequest::new("", Presented::Nothing)]), at(t))
        .unwrap();
    assert!(out[0].is_err());
    assert_eq!(s.write_commits(), commits);
}

fn a_tampered_token_fails_only_its_own_item_and_is_recorded(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let tm = enrol(&s, "mallory", "T-M", 9);
    assert_eq!(tm, t);
    s.put_user(&UserProfile::new("dave"), at(t)).unwrap();
    // Mallory moves her own activated token to Dave.
    sql(b, "UPDATE tokens SET user_id = 'dave' WHERE serial = 'T-M'");
    let (a, m, c) = (code_at(1, t), code_at(9, t), code_at(3, t));
    let reqs = [
        AuthRequest::new("alice", Presented::OathCode(&a)),
        AuthRequest::new("dave", Presented::OathCode(&m)),
        AuthRequest::new("carol", Presented::OathCode(&c)),
    ];
    let out = s.authenticate_batch(&batch(&reqs), at(t)).unwrap();
    assert!(out[0].as_ref().unwrap().is_approved(), "{:?}", out[0]);
    assert!(
        matches!(&out[1], Err(Error::TokenTampered { serial }) if serial == "T-M"),
        "{:?}",
        out[1]
    );
    assert!(out[2].as_ref().unwrap().is_approved(), "{:?}", out[2]);
    // The others' approvals are committed (their codes are spent) ...
    for r in [reqs[0], reqs[2]] {
        let again = s.authenticate(&r, at(t + 1), &ctx()).unwrap();
        assert_eq!(
            again.denial().map(|r| r.kind()),
            Some(DenialKind::CodeReplayed)
        );
    }
    // ... and the refused one is in the log and the audit log.
    let events = s.auth_log(at(t), at(t + 1)).unwrap();
    let dave: Vec<_> = events
        .iter()
        .filter(|e| e.user().as_str() == "dave")
        .collect();
    assert_eq!(dave.len(), 1);
    assert_eq!(
        dave[0].result().denial().map(|r| r.kind()),
        Some(DenialKind::TokenMisconfigured)
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.time() == at(t) && e.result().is_success())
            .count(),
        2
    );
    assert!(
        s.audit_log(at(t), at(t + 1))
            .unwrap()
            .iter()
            .any(|a| a.action == "token_tampered" && a.reason.as_deref() == Some("T-M"))
    );
}

fn an_empty_batch_is_fine(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let commits = s.write_commits();
    assert!(s.authenticate_batch(&[], at(t)).unwrap().is_empty());
    assert_eq!(s.write_commits(), commits);
    assert!(log(&s, t, t + 1).is_empty());
}

fn try_batch_decides_at_once_on_sqlite_and_never_on_postgresql(b: &Backend) {
    let s = b.open();
    let t = users(&s);
    let code = code_at(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&code));
    let tried = s
        .try_authenticate_batch(&batch(&[req, req]), at(t))
        .unwrap();
    if b.name == "postgres" {
        // Every statement would wait for the server: never tried.
        assert!(tried.is_none());
        assert!(s.auth_log(at(t), at(t + 1)).unwrap().is_empty());
        assert!(s.authenticate(&req, at(t), &ctx()).unwrap().is_approved());
        return;
    }
    let out = tried.expect("nobody else writes");
    assert!(out[0].as_ref().unwrap().is_approved());
    assert_eq!(kind(&out[1]), Some(DenialKind::CodeReplayed));
    assert_eq!(s.auth_log(at(t), at(t + 1)).unwrap().len(), 2);
    // Committed: the code is spent for a later sign-in too.
    let again = s.authenticate(&req, at(t + 1), &ctx()).unwrap();
    assert_eq!(
        again.denial().map(|r| r.kind()),
        Some(DenialKind::CodeReplayed)
    );
}

/// SQLite only: on PostgreSQL the try never runs (the test above).
#[test]
fn try_batch_does_nothing_while_another_connection_holds_the_write_lock() {
    let b = &Backend::sqlite();
    let s = b.open_with(otp_lockout(1, 600, 600));
    let t = users(&s);
    let (code, wrong) = (code_at(1, t), wrong_code(1, t));
    let reqs = [
        AuthRequest::new("alice", Presented::OathCode(&wrong)),
        AuthRequest::new("alice", Presented::OathCode(&code)),
    ];
    // The other writer: another process (an import).
    let held = rusqlite::Connection::open(b.url.strip_prefix("sqlite:").unwrap()).unwrap();
    held.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    assert!(
        s.try_authenticate_batch(&batch(&reqs), at(t))
            .unwrap()
            .is_none()
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "it waited"
    );
    held.execute_batch("COMMIT").unwrap();
    // Nothing was recorded: no log event, no lockout failure (one would
    // lock alice), the code not spent.
    assert!(s.auth_log(at(t), at(t + 1)).unwrap().is_empty());
    let out = s.authenticate(&reqs[1], at(t), &ctx()).unwrap();
    assert!(out.is_approved(), "{out:?}");
}
