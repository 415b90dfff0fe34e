//! One user-id rule (mfa-record's `UserId`) at every door of the store that
//! names a new user: a user who could be given a token but never sign in
//! (the log event refuses the id) or be billed is never created. Each test
//! runs on both backends.
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
    assign_refuses_a_user_id_with_a_control_character,
    put_user_refuses_a_user_id_with_a_control_character,
    an_import_row_with_a_control_character_in_its_user_is_rejected,
    the_longest_user_id_signs_in_and_one_more_character_is_refused,
);

const BAD: [&str; 4] = ["eve\nadmin", "eve\u{0}", "\u{7f}eve", "eve\u{85}"];

fn assign_refuses_a_user_id_with_a_control_character(b: &Backend) {
    let s = b.open();
    s.import([totp_token("T1", 1)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    for bad in BAD {
        let e = s.assign("T1", bad, at(T0)).unwrap_err();
        assert!(matches!(e, Error::Record(_)), "{bad:?}: {e}");
    }
    assert_eq!(s.stats().unwrap().users, 0, "no user was created");
    assert_eq!(s.token("T1").unwrap().unwrap().user, None);
}

fn put_user_refuses_a_user_id_with_a_control_character(b: &Backend) {
    let s = b.open();
    for bad in BAD {
        let e = s.put_user(&UserProfile::new(bad), at(T0)).unwrap_err();
        assert!(matches!(e, Error::Record(_)), "{bad:?}: {e}");
    }
    assert_eq!(s.stats().unwrap().users, 0);
}

fn an_import_row_with_a_control_character_in_its_user_is_rejected(b: &Backend) {
    let s = b.open();
    let r = s
        .import(
            [
                totp_token("T1", 1).with_user("eve\r\nadmin".to_string()),
                totp_token("T2", 2).with_user("bob".to_string()),
            ],
            ImportMode::AcceptedOnly,
            at(T0),
        )
        .unwrap();
    assert_eq!(r.imported, 1);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].serial, "T1");
    let ImportRejection::InvalidUser { why } = &r.rejected[0].reason else {
        panic!("{:?}", r.rejected[0].reason);
    };
    assert!(why.contains("position 4"), "names where: {why}");
    assert!(s.token("T1").unwrap().is_none());
    assert_eq!(s.stats().unwrap().users, 1);
    // All or nothing: the whole import is refused, nothing written.
    let e = s
        .import(
            [
                totp_token("T3", 3),
                totp_token("T4", 4).with_user("eve\u{1b}[31m".to_string()),
            ],
            ImportMode::AllOrNothing,
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(e, Error::ImportRefused { .. }), "{e}");
    assert!(s.token("T3").unwrap().is_none());
    assert_eq!(s.stats().unwrap().users, 1);
}

fn the_longest_user_id_signs_in_and_one_more_character_is_refused(b: &Backend) {
    let s = b.open();
    let longest = "é".repeat(mfa_store::MAX_USER_ID_LEN);
    enrol(&s, &longest, "T1", 1);
    let out = s
        .verify(&longest, &code_at(1, T0 + 60), at(T0 + 60), &ctx())
        .unwrap();
    assert!(out.is_approved(), "{out:?}");
    assert_eq!(s.auth_log(at(0), at(T0 + 100)).unwrap().len(), 1);
    s.import([totp_token("T2", 2)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let longer = "é".repeat(mfa_store::MAX_USER_ID_LEN + 1);
    assert!(matches!(
        s.assign("T2", &longer, at(T0)).unwrap_err(),
        Error::FieldLength { field: "user id", len, max }
            if len == mfa_store::MAX_USER_ID_LEN + 1 && max == mfa_store::MAX_USER_ID_LEN
    ));
    assert!(matches!(
        s.assign("T2", "", at(T0)).unwrap_err(),
        Error::FieldLength { len: 0, .. }
    ));
}
