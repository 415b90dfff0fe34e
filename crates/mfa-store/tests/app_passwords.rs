//! App passwords: only a keyed hash stored, checked in constant time,
//! deleted all at once with the reason logged, carried by backups.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_store::{Error, MAX_APP_PASSWORDS, Store, UserProfile};

both_backends!(app_passwords_lifecycle, app_passwords_in_backups);

const PW: &str = "hunter2-hunter2-hunter2";

fn app_passwords_lifecycle(b: &Backend) {
    let s = b.open();
    assert!(matches!(
        s.add_app_password("nobody", "mail", PW, at(T0)),
        Err(Error::UnknownUser { .. })
    ));
    s.put_user(&UserProfile::new("alice"), at(T0)).unwrap();
    s.put_user(&UserProfile::new("bob"), at(T0)).unwrap();
    assert!(matches!(
        s.add_app_password("alice", "mail", "short", at(T0)),
        Err(Error::FieldLength { .. })
    ));
    s.add_app_password("alice", "mail", PW, at(T0)).unwrap();
    s.add_app_password("alice", "calendar", "another-long-password", at(T0 + 1))
        .unwrap();
    assert!(matches!(
        s.add_app_password("alice", "mail", "yet-another-password", at(T0)),
        Err(Error::AppPasswordExists { .. })
    ));
    assert_eq!(
        s.app_passwords("alice").unwrap(),
        vec![
            ("calendar".to_string(), at(T0 + 1)),
            ("mail".to_string(), at(T0))
        ]
    );
    assert!(s.check_app_password("alice", PW).unwrap());
    assert!(
        !s.check_app_password("alice", "hunter2-hunter2-hunter3")
            .unwrap()
    );
    // Bound to the user: the same password is not bob's.
    assert!(!s.check_app_password("bob", PW).unwrap());
    // Delete all at once, with the reason in the audit log.
    assert_eq!(
        s.delete_app_passwords("alice", "root", "lost phone", at(T0 + 2))
            .unwrap(),
        2
    );
    assert!(s.app_passwords("alice").unwrap().is_empty());
    assert!(!s.check_app_password("alice", PW).unwrap());
    let audit = s.audit_log(at(0), at(T0 + 10)).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "app_passwords_deleted"
                && e.reason.as_deref() == Some("lost phone"))
    );
    // The limit.
    for i in 0..MAX_APP_PASSWORDS {
        s.add_app_password("bob", &format!("app{i}"), PW, at(T0))
            .unwrap();
    }
    assert!(matches!(
        s.add_app_password("bob", "one-more", PW, at(T0)),
        Err(Error::TooManyAppPasswords { .. })
    ));
}

fn app_passwords_in_backups(b: &Backend) {
    let s = b.open();
    s.put_user(&UserProfile::new("alice"), at(T0)).unwrap();
    s.add_app_password("alice", "mail", PW, at(T0)).unwrap();
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("r.db").display());
    let target = Store::open(&url, &key()).unwrap();
    target.restore(file.as_slice()).unwrap();
    assert!(target.check_app_password("alice", PW).unwrap());
}
