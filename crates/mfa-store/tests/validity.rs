//! The key validity period (RFC 6030 §5: "MUST be ensured that the key is
//! only used between the start and the end date"): stored with the token,
//! covered by the row MAC, carried in backups, and enforced at activation
//! and at every sign-in through `Store::authenticate`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_record::{DenialKind, DenialReason};
use mfa_store::{Error, ImportMode, Store};

both_backends!(
    an_expired_key_is_refused_at_activation_and_sign_in,
    a_not_yet_valid_key_is_refused_at_activation_and_sign_in,
    a_key_inside_its_period_is_approved,
    moving_the_period_in_sql_is_refused,
    the_period_survives_a_backup,
);

const START: i64 = T0 as i64 - 1_000;
const END: i64 = T0 as i64 + 10_000;

fn import_with_period(s: &Store, serial: &str, i: u32, nb: Option<i64>, na: Option<i64>) {
    let t = totp_token(serial, i).with_validity(nb, na);
    s.import([t], ImportMode::AllOrNothing, at(T0)).unwrap();
    s.assign(serial, "alice", at(T0)).unwrap();
}

/// Signs alice in with token `i`'s code at `t`; returns the denial kind.
fn sign_in(s: &Store, i: u32, t: u64) -> Option<DenialKind> {
    s.verify("alice", &code_at(i, t), at(t), &ctx())
        .unwrap()
        .denial()
        .map(|r| r.kind())
}

fn an_expired_key_is_refused_at_activation_and_sign_in(b: &Backend) {
    let s = b.open();
    import_with_period(&s, "T-EXP", 1, Some(START), Some(END));
    let late = END as u64 + 30;
    // Activation after the end date: refused, with the code not consumed.
    let e = s
        .activate("T-EXP", &code_at(1, late), at(late))
        .unwrap_err();
    assert!(
        matches!(&e, Error::KeyOutsideValidity { serial } if serial == "T-EXP"),
        "{e:?}"
    );
    assert!(!s.token("T-EXP").unwrap().unwrap().active);
    // Activated inside the period, then used after it: denied with the reason.
    s.activate("T-EXP", &code_at(1, T0), at(T0)).unwrap();
    assert_eq!(sign_in(&s, 1, T0 + 30), None);
    assert_eq!(sign_in(&s, 1, late), Some(DenialKind::KeyOutsideValidity));
    // At the end date itself the key is still valid (inclusive).
    assert_eq!(sign_in(&s, 1, END as u64), None);
    // The log names the reason.
    let log = s.auth_log(at(late), at(late + 1)).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].result().denial().copied(),
        Some(DenialReason::KeyOutsideValidity)
    );
}

fn a_not_yet_valid_key_is_refused_at_activation_and_sign_in(b: &Backend) {
    let s = b.open();
    let start = T0 as i64 + 600;
    import_with_period(&s, "T-EARLY", 2, Some(start), None);
    let e = s.activate("T-EARLY", &code_at(2, T0), at(T0)).unwrap_err();
    assert!(matches!(e, Error::KeyOutsideValidity { .. }), "{e:?}");
    // Once the start date has come it activates; a sign-in "before" it
    // (a server with its clock behind) is refused.
    let t = start as u64;
    s.activate("T-EARLY", &code_at(2, t), at(t)).unwrap();
    assert_eq!(sign_in(&s, 2, t + 30), None);
    assert_eq!(sign_in(&s, 2, t - 60), Some(DenialKind::KeyOutsideValidity));
    // Resynchronisation outside the period is refused too.
    let codes = [code_at(2, t - 90), code_at(2, t - 60)];
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    assert!(matches!(
        s.resync("T-EARLY", &codes, 10, at(t - 60)),
        Err(Error::KeyOutsideValidity { .. })
    ));
}

fn a_key_inside_its_period_is_approved(b: &Backend) {
    let s = b.open();
    import_with_period(&s, "T-OK", 3, Some(START), Some(END));
    let info = s.token("T-OK").unwrap().unwrap();
    assert_eq!((info.not_before, info.not_after), (Some(START), Some(END)));
    assert!(info.valid_at(at(T0)));
    s.activate("T-OK", &code_at(3, T0), at(T0)).unwrap();
    assert_eq!(sign_in(&s, 3, T0 + 30), None);
    // A token without a period is not limited.
    s.import([totp_token("T-OPEN", 4)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    let open = s.token("T-OPEN").unwrap().unwrap();
    assert_eq!((open.not_before, open.not_after), (None, None));
    assert!(open.valid_at(at(u64::MAX)));
}

fn moving_the_period_in_sql_is_refused(b: &Backend) {
    let s = b.open();
    import_with_period(&s, "T-M", 5, Some(START), Some(END));
    s.activate("T-M", &code_at(5, T0), at(T0)).unwrap();
    let late = END as u64 + 300;
    assert_eq!(sign_in(&s, 5, late), Some(DenialKind::KeyOutsideValidity));
    for edit in [
        format!(
            "UPDATE tokens SET not_after = {} WHERE serial = 'T-M'",
            END + 100_000
        ),
        "UPDATE tokens SET not_after = NULL WHERE serial = 'T-M'".to_owned(),
        "UPDATE tokens SET not_after = NULL, not_before = NULL WHERE serial = 'T-M'".to_owned(),
    ] {
        sql(b, &edit);
        let r = s.verify("alice", &code_at(5, late), at(late), &ctx());
        assert!(
            matches!(r, Err(Error::TokenTampered { .. })),
            "{edit}: {r:?}"
        );
    }
    // Nor can a period be added to (or moved on) a token that had none
    // without the key: the MAC is checked the same way.
    import_with_period(&s, "T-N", 6, None, None);
    sql(
        b,
        &format!("UPDATE tokens SET not_before = {START} WHERE serial = 'T-N'"),
    );
    assert!(matches!(
        s.activate("T-N", &code_at(6, T0), at(T0)),
        Err(Error::TokenTampered { .. })
    ));
}

fn the_period_survives_a_backup(b: &Backend) {
    let s = b.open();
    import_with_period(&s, "T-B", 7, Some(START), Some(END));
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(text.starts_with(&format!(
        "mfa-store-backup 2 schema {}\n",
        mfa_store::SCHEMA_VERSION
    )));
    let other = Backend::sqlite();
    let r = other.open();
    r.restore(std::io::Cursor::new(file)).unwrap();
    let info = r.token("T-B").unwrap().unwrap();
    assert_eq!((info.not_before, info.not_after), (Some(START), Some(END)));
    r.activate("T-B", &code_at(7, T0), at(T0)).unwrap();
    let late = END as u64 + 30;
    assert_eq!(sign_in(&r, 7, late), Some(DenialKind::KeyOutsideValidity));
}
