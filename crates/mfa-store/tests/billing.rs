//! Billing counts users with an active method, and imports create users
//! only for the rows they accept. Each test runs on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_store::{Error, ImportMode, ImportRejection, UserProfile};

both_backends!(
    billing_counts_users_with_an_active_method,
    a_rejected_import_row_creates_no_user,
    a_refused_all_or_nothing_import_creates_no_user,
);

fn billed(s: &mfa_store::Store) -> u64 {
    s.usage_summary(at(0), at(T0 + 1_000_000))
        .unwrap()
        .users_configured()
}

fn billing_counts_users_with_an_active_method(b: &Backend) {
    let s = b.open();
    // An activated OATH token: billed.
    enrol(&s, "alice", "T1", 1);
    // A token assigned but never activated: not a method yet.
    s.import([totp_token("T2", 2)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    s.assign("T2", "bob", at(T0)).unwrap();
    // A bare user record: nothing to sign in with.
    s.put_user(&UserProfile::new("carol"), at(T0)).unwrap();
    // A phone number (SMS and voice codes): billed.
    let mut dave = UserProfile::new("dave");
    dave.phone = Some("+31 20 123 4567".into());
    s.put_user(&dave, at(T0)).unwrap();
    // An app password: billed.
    s.put_user(&UserProfile::new("erin"), at(T0)).unwrap();
    s.add_app_password("erin", "mail", at(T0)).unwrap();
    assert_eq!(s.stats().unwrap().users, 5);
    assert_eq!(billed(&s), 3);
    // Activating bob's token makes him billed; taking alice's away does not
    // leave her billed.
    s.activate("T2", &code_at(2, T0 + 30), at(T0 + 30)).unwrap();
    s.unassign("T1", at(T0 + 40)).unwrap();
    assert_eq!(billed(&s), 3);
    let early = s.usage_summary(at(0), at(T0)).unwrap();
    assert_eq!(early.users_configured(), 0, "created at T0: not before it");
}

fn a_rejected_import_row_creates_no_user(b: &Backend) {
    let s = b.open();
    s.import([totp_token("T1", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    // Accepted-only: the row with a taken serial is rejected, and its user
    // is not created; the good row's user is.
    let r = s
        .import(
            [
                totp_token("T1", 9).with_user("mallory".to_string()),
                totp_token("T2", 2).with_user("bob".to_string()),
            ],
            ImportMode::AcceptedOnly,
            at(T0),
        )
        .unwrap();
    assert_eq!(r.imported, 1);
    assert!(matches!(r.rejected[0].reason, ImportRejection::Duplicate));
    assert!(s.user("mallory").unwrap().is_none());
    assert!(s.user("bob").unwrap().is_some());
    assert_eq!(s.stats().unwrap().users, 1);
    // The same user on a rejected and then an accepted row: created once.
    let r = s
        .import(
            [
                totp_token("T2", 3).with_user("carol".to_string()),
                totp_token("T3", 3).with_user("carol".to_string()),
            ],
            ImportMode::AcceptedOnly,
            at(T0),
        )
        .unwrap();
    assert_eq!((r.imported, r.rejected.len()), (1, 1));
    assert_eq!(
        s.token("T3").unwrap().unwrap().user.as_deref(),
        Some("carol")
    );
    assert_eq!(s.stats().unwrap().users, 2);
}

fn a_refused_all_or_nothing_import_creates_no_user(b: &Backend) {
    let s = b.open();
    s.import([totp_token("T1", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let e = s
        .import(
            [
                totp_token("T2", 2).with_user("bob".to_string()),
                totp_token("T1", 9).with_user("mallory".to_string()),
            ],
            ImportMode::AllOrNothing,
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(e, Error::ImportRefused { .. }), "{e:?}");
    assert_eq!(s.stats().unwrap().users, 0);
    assert!(s.user("bob").unwrap().is_none());
    assert!(s.token("T2").unwrap().is_none());
    assert_eq!(billed(&s), 0);
}
