//! What someone with write access to the database or to a backup file, but
//! not the master key, can do: nothing that signs anyone in. Token rows are
//! covered by a MAC under the data key, backups by an HMAC checked before
//! anything is restored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_record::DenialKind;
use mfa_store::{BackupProblem, Error, Store, UserProfile};

both_backends!(
    reassigning_a_token_in_sql_is_refused,
    rewinding_the_last_step_in_sql_is_refused,
    an_edited_backup_restores_nothing,
);

fn reassigning_a_token_in_sql_is_refused(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "mallory", "T-M", 1);
    s.put_user(&UserProfile::new("alice"), at(t)).unwrap();
    // Mallory moves her own activated token to Alice.
    sql(
        b,
        "UPDATE tokens SET user_id = 'alice' WHERE serial = 'T-M'",
    );
    let e = s
        .verify("alice", &code_at(1, t), at(t), &ctx())
        .unwrap_err();
    assert!(
        matches!(&e, Error::TokenTampered { serial } if serial == "T-M"),
        "{e:?}"
    );
    // Refused, and still in the log and the audit log.
    let log = s.auth_log(at(t), at(t + 1)).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].result().denial().map(|r| r.kind()),
        Some(DenialKind::TokenMisconfigured)
    );
    assert!(
        s.audit_log(at(t), at(t + 1))
            .unwrap()
            .iter()
            .any(|a| a.action == "token_tampered" && a.reason.as_deref() == Some("T-M"))
    );
    // Neither does an administrator's store accept the row for assignment or export.
    assert!(matches!(
        s.export_tokens("root", at(t)),
        Err(Error::TokenTampered { .. })
    ));
}

fn rewinding_the_last_step_in_sql_is_refused(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    assert!(
        s.verify("alice", &code, at(t), &ctx())
            .unwrap()
            .is_approved()
    );
    let step = t / 30;
    // Rewind the replay guard so the same code would be accepted again.
    for rewind in [
        format!(
            "UPDATE tokens SET last_step = {} WHERE serial = 'T1'",
            step - 1
        ),
        "UPDATE tokens SET last_step = NULL WHERE serial = 'T1'".to_owned(),
        "UPDATE tokens SET row_mac = NULL, last_step = NULL WHERE serial = 'T1'".to_owned(),
    ] {
        sql(b, &rewind);
        let r = s.verify("alice", &code, at(t + 5), &ctx());
        assert!(
            matches!(r, Err(Error::TokenTampered { .. })),
            "{rewind}: {r:?}"
        );
    }
    // Nothing in the log says approved twice.
    let log = s.auth_log(at(t), at(t + 10)).unwrap();
    assert_eq!(log.iter().filter(|e| e.result().is_success()).count(), 1);
}

fn an_edited_backup_restores_nothing(b: &Backend) {
    let s = b.open();
    enrol(&s, "alice", "T1", 1);
    s.add_trusted_range("192.0.2.0/24", "root", at(T0)).unwrap();
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    let header = format!("mfa-store-backup 2 schema {}\n", mfa_store::SCHEMA_VERSION);
    assert!(text.starts_with(&header), "{text}");
    assert!(text.lines().last().unwrap().starts_with("hmac-sha256 "));
    let target = Backend::sqlite();
    let restore = |bytes: &[u8]| {
        let r = Store::open(&target.url, &key()).unwrap();
        let out = r.restore(std::io::Cursor::new(bytes));
        assert_eq!(r.stats().unwrap().tokens, 0, "nothing written");
        assert!(r.trusted_ranges().unwrap().is_empty(), "nothing written");
        out
    };
    // The trusted range widened to every address, i.e. MFA off for everyone,
    // with the old SHA-256 trailer recomputed as an attacker could: refused.
    let range = data_encoding::HEXLOWER.encode(b"192.0.2.0/24");
    let open = data_encoding::HEXLOWER.encode(b"0.0.0.0/0");
    let edited = text.replace(&range, &open);
    assert_ne!(edited, text);
    let body = &edited[..edited.rfind("hmac-sha256 ").unwrap()];
    use sha2::Digest as _;
    let sha = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(body.as_bytes()));
    assert!(matches!(
        restore(edited.as_bytes()),
        Err(Error::BackupChecksum)
    ));
    assert!(matches!(
        restore(format!("{body}sha256 {sha}\n").as_bytes()),
        Err(Error::BackupFormat { .. })
    ));
    // A format-1 backup is refused as unauthenticated.
    let v1 = format!("{body}sha256 {sha}\n").replacen(&header, "mfa-store-backup 1 schema 2\n", 1);
    assert!(matches!(
        restore(v1.as_bytes()),
        Err(Error::BackupFormat {
            line: 1,
            problem: BackupProblem::Unauthenticated
        })
    ));
    // Any changed byte is refused (every 7th position, and the last ones).
    let n = file.len();
    for i in (0..n).step_by(7).chain(n - 3..n) {
        let mut bad = file.clone();
        bad[i] ^= 0x01;
        assert!(restore(&bad).is_err(), "byte {i} changed and restored");
    }
    // The untouched file restores, and signs in.
    let r = Store::open(&target.url, &key()).unwrap();
    r.restore(std::io::Cursor::new(&file)).unwrap();
    assert_eq!(r.trusted_ranges().unwrap().len(), 1);
    assert!(
        r.verify("alice", &code_at(1, T0 + 60), at(T0 + 60), &ctx())
            .unwrap()
            .is_approved()
    );
}
