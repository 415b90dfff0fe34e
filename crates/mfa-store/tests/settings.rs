//! Settings stored in the store: shared by every server, validated all or
//! nothing, audited, carried by backups. Each test runs on both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_lockout::{Escalation, FactorClass, Policy};
use mfa_record::DenialKind;
use mfa_store::{Error, SETTINGS, Store, StoreConfig};

both_backends!(
    a_stored_setting_applies_to_every_server,
    invalid_settings_change_nothing,
    empty_value_restores_the_default,
    settings_travel_in_backups,
    lockout_settings_change_only_the_fields_they_name,
    lockout_settings_are_checked_together,
    extend_while_locked_is_honoured,
    config_set_is_one_audited_transaction,
    trusted_range_changes_are_audited,
    notify_settings_are_stored_as_opaque_text,
    notify_settings_are_all_or_nothing_with_the_others,
    notify_settings_refuse_bad_shapes_and_secrets,
);

fn a_stored_setting_applies_to_every_server(b: &Backend) {
    let mut admin = b.open();
    let other = b.open(); // a second server, opened before the change
    admin
        .set_settings(
            &[("lockout.denials", "2"), ("lockout.unblock_minutes", "0")],
            "root",
            at(T0),
        )
        .unwrap();
    assert_eq!(admin.config().lockout.get(FactorClass::Otp).threshold(), 2);
    assert_eq!(other.config().lockout.get(FactorClass::Otp).threshold(), 10);
    // A server opened afterwards uses the stored policy: two denials lock,
    // until an administrator unblocks.
    let s = b.open();
    assert_eq!(s.config().lockout.get(FactorClass::Pin).threshold(), 2);
    let t = enrol(&s, "alice", "T1", 1);
    for i in 0..2 {
        let o = s
            .verify("alice", &wrong_code(1, t), at(t + i), &ctx())
            .unwrap();
        assert!(!o.is_approved());
    }
    let o = s
        .verify("alice", &code_at(1, t + 30), at(t + 9999), &ctx())
        .unwrap();
    assert_eq!(
        o.denial().map(|r| r.kind()),
        Some(DenialKind::LockedUntilAdmin)
    );
    // Listed with their values and marked as stored; every setting is listed.
    let listed = s.settings().unwrap();
    assert_eq!(listed.len(), SETTINGS.len());
    let denials = listed
        .iter()
        .find(|(s, _, _)| s.name == "lockout.denials")
        .unwrap();
    assert_eq!((denials.1.as_str(), denials.2), ("2", true));
    let ttl = listed
        .iter()
        .find(|(s, _, _)| s.name == "sms.code_ttl_seconds")
        .unwrap();
    assert_eq!((ttl.1.as_str(), ttl.2), ("300", false));
    // Audited with the actor.
    let audit = s.audit_log(at(0), at(u64::MAX / 2)).unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "setting" && e.reason.as_deref() == Some("lockout.denials=2"))
    );
}

fn invalid_settings_change_nothing(b: &Backend) {
    let mut s = b.open();
    for (name, value) in [
        ("lockout.denials", "0"),
        ("lockout.denials", "ten"),
        ("fraud.alert", "maybe"),
        ("fraud.code", "12a"),
        ("sms.code_ttl_seconds", "5"),
    ] {
        let err = s
            .set_settings(
                &[("sms.code_ttl_seconds", "120"), (name, value)],
                "root",
                at(T0),
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidSetting { .. }),
            "{name}={value}: {err:?}"
        );
    }
    assert!(matches!(
        s.set_settings(&[("no.such.setting", "1")], "root", at(T0)),
        Err(Error::UnknownSetting { .. })
    ));
    // The valid first pair was not stored either.
    assert_eq!(s.config().code_ttl, 300);
    assert!(s.settings().unwrap().iter().all(|(_, _, stored)| !stored));
}

fn empty_value_restores_the_default(b: &Backend) {
    let mut s = b.open();
    s.set_settings(
        &[("fraud.auto_block", "off"), ("log.client_ip", "off")],
        "root",
        at(T0),
    )
    .unwrap();
    assert!(!s.config().fields.client_ip);
    s.set_settings(&[("log.client_ip", "")], "root", at(T0))
        .unwrap();
    assert!(s.config().fields.client_ip);
    let reopened = b.open();
    assert!(reopened.config().fields.client_ip);
    let stored: Vec<_> = reopened
        .settings()
        .unwrap()
        .into_iter()
        .filter(|(_, _, st)| *st)
        .map(|(s, v, _)| (s.name, v))
        .collect();
    assert_eq!(stored, vec![("fraud.auto_block", "off".to_string())]);
}

fn settings_travel_in_backups(b: &Backend) {
    let mut s = b.open();
    s.set_settings(&[("fraud.block_days", "30")], "root", at(T0))
        .unwrap();
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("restored.db").display());
    let target = Store::open(&url, &key()).unwrap();
    target.restore(std::io::Cursor::new(&file)).unwrap();
    let again = Store::open_with(&url, &key(), StoreConfig::default()).unwrap();
    let v = again.settings().unwrap();
    assert!(
        v.iter()
            .any(|(s, v, stored)| s.name == "fraud.block_days" && v == "30" && *stored)
    );
}

/// A copy of the store mfa-store 0.1 wrote (tests/data/schema2), opened
/// with its key; `downgrade` SQL run on it first.
fn old_store(downgrade: &str) -> (tempfile::TempDir, String, mfa_store::MasterKey) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema2");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data.join("mfa.db"), dir.path().join("mfa.db")).unwrap();
    let key_text = std::fs::read_to_string(data.join("mfa.key")).unwrap();
    let (id, hex) = key_text.trim().split_once(':').unwrap();
    let key = mfa_store::MasterKey::from_hex(id.parse().unwrap(), hex).unwrap();
    let path = dir.path().join("mfa.db");
    if !downgrade.is_empty() {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(downgrade)
            .unwrap();
    }
    let url = format!("sqlite:{}", path.display());
    (dir, url, key)
}

/// Everything the 0.1 store held works after the upgrade to schema 3.
fn check_upgraded(url: &str, key: &mfa_store::MasterKey, with_v2_tables: bool) {
    use mfa_store::{AuthRequest, Presented};
    let s = Store::open(url, key).unwrap();
    assert_eq!(s.schema_version().unwrap(), mfa_store::SCHEMA_VERSION);
    let totp = mfa_oath::Totp::new(
        mfa_oath::Secret::from_bytes(b"12345678901234567890").unwrap(),
        mfa_oath::TotpParams::default(),
    );
    let activated = 59_871_877u64;
    // The activation step stays consumed; a later code signs in.
    let replay = totp.generate(at(activated * 30)).unwrap().to_string();
    let r = s
        .verify("alice", &replay, at(activated * 30 + 1), &ctx())
        .unwrap();
    assert_eq!(r.denial().map(|d| d.kind()), Some(DenialKind::CodeReplayed));
    let later = (activated + 100) * 30;
    let code = totp.generate(at(later)).unwrap().to_string();
    assert!(
        s.verify("alice", &code, at(later), &ctx())
            .unwrap()
            .is_approved()
    );
    if with_v2_tables {
        // The app password hashed by 0.1 still signs in.
        let pw = AuthRequest::new(
            "alice",
            Presented::AppPassword("b352-i45b-lgzh-cmwg-o46b-xksp-u45d-iame"),
        );
        assert!(
            s.authenticate(&pw, at(later + 1), &ctx())
                .unwrap()
                .is_approved()
        );
        assert_eq!(s.config().lockout.get(FactorClass::Otp).threshold(), 7);
    }
    assert_eq!(s.trusted_ranges().unwrap().len(), 1);
    // The rows got their MACs: editing one in SQL is now caught.
    drop(s);
    let path = url.strip_prefix("sqlite:").unwrap();
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch("UPDATE tokens SET last_step = NULL WHERE serial = 'DEMO-0001'")
        .unwrap();
    let s = Store::open(url, key).unwrap();
    assert!(matches!(
        s.verify("alice", &replay, at(later + 60), &ctx()),
        Err(Error::TokenTampered { .. })
    ));
}

#[test]
fn a_schema_2_store_of_mfa_store_0_1_is_upgraded_on_open() {
    let (_dir, url, key) = old_store("");
    check_upgraded(&url, &key, true);
}

#[test]
fn a_schema_1_store_is_upgraded_on_open() {
    // Schema 1 is schema 2 without the settings and app password tables.
    let (_dir, url, key) = old_store(
        "DROP TABLE settings; DROP TABLE app_passwords; \
         UPDATE mfa_meta SET value = '1' WHERE name = 'schema_version'",
    );
    check_upgraded(&url, &key, false);
}

#[test]
fn a_format_1_backup_is_refused_as_unauthenticated() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema2");
    let (_dir, _url, key) = old_store("");
    let fresh = Backend::sqlite();
    let s = Store::open(&fresh.url, &key).unwrap();
    let file = std::fs::read(data.join("v1.backup")).unwrap();
    assert!(matches!(
        s.restore(std::io::Cursor::new(file)),
        Err(Error::BackupFormat {
            line: 1,
            problem: mfa_store::BackupProblem::Unauthenticated
        })
    ));
    assert_eq!(s.stats().unwrap().users, 0);
}

/// A copy of the store the `mfa` command of schema 3 wrote
/// (tests/data/schema3, see its README), and its key.
fn schema3_store() -> (tempfile::TempDir, String, mfa_store::MasterKey) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema3");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data.join("mfa.db"), dir.path().join("mfa.db")).unwrap();
    let key_text = std::fs::read_to_string(data.join("mfa.key")).unwrap();
    let (id, hex) = key_text.trim().split_once(':').unwrap();
    let key = mfa_store::MasterKey::from_hex(id.parse().unwrap(), hex).unwrap();
    let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    (dir, url, key)
}

/// DEMO-0001 of the schema-3 fixture: activated at this step.
const SCHEMA3_ACTIVATED: u64 = 59_872_208;

/// The schema-3 fixture's tokens work after the upgrade (activation step
/// consumed, a later code approved, no validity period), and their row
/// MACs (v1, not recomputed) still catch an edit, including one that adds
/// a period.
fn check_schema3_tokens(s: &Store, url: &str, key: &mfa_store::MasterKey) {
    let totp = mfa_oath::Totp::new(
        mfa_oath::Secret::from_bytes(b"12345678901234567890").unwrap(),
        mfa_oath::TotpParams::default(),
    );
    let replay = totp
        .generate(at(SCHEMA3_ACTIVATED * 30))
        .unwrap()
        .to_string();
    let r = s
        .verify("alice", &replay, at(SCHEMA3_ACTIVATED * 30 + 1), &ctx())
        .unwrap();
    assert_eq!(r.denial().map(|d| d.kind()), Some(DenialKind::CodeReplayed));
    let later = (SCHEMA3_ACTIVATED + 100) * 30;
    let code = totp.generate(at(later)).unwrap().to_string();
    assert!(
        s.verify("alice", &code, at(later), &ctx())
            .unwrap()
            .is_approved()
    );
    let info = s.token("DEMO-0001").unwrap().unwrap();
    assert_eq!((info.not_before, info.not_after), (None, None));
    assert_eq!(s.tokens().unwrap().len(), 3);
    let Some(path) = url.strip_prefix("sqlite:") else {
        return;
    };
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch("UPDATE tokens SET not_after = 1 WHERE serial = 'DEMO-0001'")
        .unwrap();
    let s = Store::open(url, key).unwrap();
    let code = totp.generate(at(later + 60)).unwrap().to_string();
    assert!(matches!(
        s.verify("alice", &code, at(later + 60), &ctx()),
        Err(Error::TokenTampered { .. })
    ));
}

#[test]
fn a_schema_3_store_is_upgraded_on_open() {
    let (_dir, url, key) = schema3_store();
    let s = Store::open(&url, &key).unwrap();
    assert_eq!(s.schema_version().unwrap(), mfa_store::SCHEMA_VERSION);
    assert_eq!(s.config().lockout.get(FactorClass::Otp).threshold(), 7);
    assert_eq!(s.trusted_ranges().unwrap().len(), 1);
    check_schema3_tokens(&s, &url, &key);
}

#[test]
fn a_schema_3_backup_restores_into_a_schema_4_store() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema3");
    let (_dir, _url, key) = schema3_store();
    let fresh = Backend::sqlite();
    let s = Store::open(&fresh.url, &key).unwrap();
    let file = std::fs::read(data.join("v2-schema3.backup")).unwrap();
    assert!(file.starts_with(b"mfa-store-backup 2 schema 3\n"));
    s.restore(std::io::Cursor::new(file.clone())).unwrap();
    check_schema3_tokens(&s, &fresh.url, &key);
    // Still authenticated: one byte changed restores nothing.
    let mut edited = file;
    let tokens = edited
        .windows(12)
        .position(|w| w == b"table tokens")
        .unwrap();
    // The last hex digit of the first token row's first field (its serial).
    let row = tokens + edited[tokens..].iter().position(|&c| c == b'\n').unwrap() + 3;
    let end = row + edited[row..].iter().position(|&c| c == b'\t').unwrap() - 1;
    edited[end] = if edited[end] == b'0' { b'1' } else { b'0' };
    let other = Backend::sqlite();
    let t = Store::open(&other.url, &key).unwrap();
    assert!(t.restore(std::io::Cursor::new(edited)).is_err());
    assert_eq!(t.stats().unwrap().tokens, 0);
}

#[test]
fn remember_device_days_is_a_bounded_setting() {
    let mut c = StoreConfig::default();
    assert_eq!(c.remember_device_days, 0);
    c.apply_setting("remember_device.days", "14").unwrap();
    assert_eq!(c.remember_device_days, 14);
    assert!(c.apply_setting("remember_device.days", "366").is_err());
    assert!(c.apply_setting("remember_device.days", "-1").is_err());
}

fn lockout_settings_change_only_the_fields_they_name(b: &Backend) {
    let mut config = StoreConfig::default();
    let pin = Policy::new(3, 90, 120)
        .unwrap()
        .with_escalation(Escalation::new(2, 3600).unwrap())
        .unwrap()
        .with_hard_cap(20)
        .unwrap();
    config.lockout = config.lockout.with(FactorClass::Pin, pin);
    let mut s = b.open_with(config.clone());
    s.set_settings(&[("lockout.denials", "5")], "root", at(T0))
        .unwrap();
    let check = |s: &Store| {
        let p = *s.config().lockout.get(FactorClass::Pin);
        // Only the threshold changed: seconds are not rounded to minutes,
        // escalation and hard cap are kept.
        assert_eq!(p.threshold(), 5);
        assert_eq!((p.reset_window_secs(), p.unblock_after_secs()), (90, 120));
        assert_eq!(p.escalation(), Some(Escalation::new(2, 3600).unwrap()));
        assert_eq!(p.hard_cap(), Some(20));
        let o = *s.config().lockout.get(FactorClass::Otp);
        assert_eq!((o.threshold(), o.reset_window_secs()), (5, 600));
        assert_eq!((o.escalation(), o.hard_cap()), (None, Some(100)));
    };
    check(&s);
    check(&b.open_with(config.clone()));

    s.set_settings(
        &[
            ("lockout.hard_cap", "50"),
            ("lockout.escalation", "3,60"),
            ("lockout.extend_while_locked", "on"),
        ],
        "root",
        at(T0),
    )
    .unwrap();
    for s in [&s, &b.open_with(config.clone())] {
        for class in FactorClass::ALL {
            let p = s.config().lockout.get(class);
            assert_eq!(p.hard_cap(), Some(50), "{class}");
            assert_eq!(p.escalation(), Some(Escalation::new(3, 3600).unwrap()));
            assert!(p.extend_while_locked());
            assert_eq!(p.threshold(), 5);
        }
        assert_eq!(
            s.config().lockout.get(FactorClass::Pin).reset_window_secs(),
            90
        );
    }
    s.set_settings(&[("lockout.escalation", "off")], "root", at(T0))
        .unwrap();
    assert_eq!(s.config().lockout.get(FactorClass::Pin).escalation(), None);
    assert_eq!(
        s.config().lockout.get(FactorClass::Pin).hard_cap(),
        Some(50)
    );
    for bad in ["0", "101", "off"] {
        assert!(matches!(
            s.set_settings(&[("lockout.hard_cap", bad)], "root", at(T0)),
            Err(Error::InvalidSetting { .. })
        ));
    }
    assert_eq!(
        s.config().lockout.get(FactorClass::Pin).hard_cap(),
        Some(50)
    );
}

fn lockout_settings_are_checked_together(b: &Backend) {
    let mut s = b.open();
    // Valid together (the cap is no shorter than the new unblock time),
    // whatever order they are given in.
    s.set_settings(
        &[
            ("lockout.escalation", "2,30"),
            ("lockout.unblock_minutes", "20"),
        ],
        "root",
        at(T0),
    )
    .unwrap();
    let p = *s.config().lockout.get(FactorClass::Otp);
    assert_eq!(p.unblock_after_secs(), 1200);
    assert_eq!(p.escalation(), Some(Escalation::new(2, 1800).unwrap()));
    // An unblock time longer than the escalation cap is refused, and
    // nothing of the call is stored.
    let err = s
        .set_settings(
            &[("lockout.denials", "3"), ("lockout.unblock_minutes", "31")],
            "root",
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
    let again = b.open();
    for s in [&s, &again] {
        let p = s.config().lockout.get(FactorClass::Otp);
        assert_eq!((p.threshold(), p.unblock_after_secs()), (10, 1200));
    }
    // No automatic unblock: escalation has nothing to do, and is kept
    // stored for when automatic unblock comes back.
    s.set_settings(&[("lockout.unblock_minutes", "0")], "root", at(T0))
        .unwrap();
    assert_eq!(s.config().lockout.get(FactorClass::Otp).escalation(), None);
    s.set_settings(&[("lockout.unblock_minutes", "")], "root", at(T0))
        .unwrap();
    assert_eq!(
        s.config().lockout.get(FactorClass::Otp).escalation(),
        Some(Escalation::new(2, 1800).unwrap())
    );
}

fn extend_while_locked_is_honoured(b: &Backend) {
    let config = otp_lockout(2, 600, 600);
    let mut s = b.open_with(config.clone());
    let t = enrol(&s, "alice", "T1", 1);
    for i in 0..2 {
        let o = s
            .verify("alice", &wrong_code(1, t), at(t + i), &ctx())
            .unwrap();
        assert!(!o.is_approved());
    }
    let until = |s: &Store| match s
        .lockout_decision("alice", FactorClass::Otp, at(t + 2))
        .unwrap()
    {
        mfa_lockout::Decision::Locked { until, .. } => until.secs(),
        d => panic!("{d:?}"),
    };
    assert_eq!(until(&s), t + 1 + 600);
    // Off (the default): an attempt while locked does not move the lock.
    let o = s
        .verify("alice", &wrong_code(1, t), at(t + 100), &ctx())
        .unwrap();
    assert_eq!(o.denial().map(|r| r.kind()), Some(DenialKind::Locked));
    assert_eq!(until(&s), t + 1 + 600);
    // On: it counts and pushes the lock out.
    s.set_settings(&[("lockout.extend_while_locked", "on")], "root", at(t))
        .unwrap();
    let o = s
        .verify("alice", &wrong_code(1, t), at(t + 300), &ctx())
        .unwrap();
    assert_eq!(o.denial().map(|r| r.kind()), Some(DenialKind::Locked));
    assert_eq!(until(&s), t + 300 + 600);
    let late = t + 700;
    let o = s
        .verify("alice", &code_at(1, late), at(late), &ctx())
        .unwrap();
    assert!(!o.is_approved(), "{o:?}");
}

/// What a failed `set_config` must leave as it was.
fn config_snapshot(s: &Store) -> (u32, Vec<(String, String)>, Vec<String>, usize) {
    (
        s.config().lockout.get(FactorClass::Otp).threshold(),
        s.settings()
            .unwrap()
            .into_iter()
            .filter(|(_, _, stored)| *stored)
            .map(|(s, v, _)| (s.name.to_string(), v))
            .collect(),
        s.trusted_ranges()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect(),
        s.audit_log(at(0), at(u64::MAX / 2)).unwrap().len(),
    )
}

fn config_set_is_one_audited_transaction(b: &Backend) {
    let mut s = b.open();
    s.set_config(
        &[("lockout.denials", "5")],
        Some(&["10.0.0.0/8", "192.0.2.0/24"]),
        "root",
        at(T0),
    )
    .unwrap();
    let before = config_snapshot(&s);
    assert_eq!(before.0, 5);
    assert_eq!(before.2, ["10.0.0.0/8", "192.0.2.0/24"]);
    let many: Vec<String> = (0..51).map(|i| format!("10.{i}.0.0/16")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    // Each call's last item is wrong: nothing of it may be stored.
    type Call<'a> = (&'a [(&'a str, &'a str)], Option<&'a [&'a str]>);
    let calls: [Call<'_>; 5] = [
        (
            &[("lockout.denials", "3")],
            Some(&["172.16.0.0/12", "10.0.0.0/40"]),
        ),
        (
            &[("lockout.denials", "3"), ("fraud.alert", "perhaps")],
            Some(&["172.16.0.0/12"]),
        ),
        (
            &[("lockout.denials", "3"), ("no.such", "1")],
            Some(&["172.16.0.0/12"]),
        ),
        (&[("lockout.denials", "3")], Some(&many)),
        (
            &[("lockout.denials", "3"), ("lockout.escalation", "2,1")],
            Some(&[]),
        ),
    ];
    for (pairs, ranges) in calls {
        let err = s.set_config(pairs, ranges, "root", at(T0 + 1)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Cidr { .. }
                    | Error::InvalidSetting { .. }
                    | Error::UnknownSetting { .. }
                    | Error::TooManyTrustedRanges { .. }
            ),
            "{err:?}"
        );
        assert_eq!(config_snapshot(&s), before, "{pairs:?} {ranges:?}: {err}");
        assert_eq!(config_snapshot(&b.open()), before);
    }
    // A good call replaces the list: one removal, one addition audited
    // with the actor; the range kept is not touched.
    s.set_config(
        &[],
        Some(&["192.0.2.0/24", "2001:db8::/32"]),
        "alice-admin",
        at(T0 + 2),
    )
    .unwrap();
    assert_eq!(
        s.trusted_ranges()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["192.0.2.0/24", "2001:db8::/32"]
    );
    let audit: Vec<_> = s
        .audit_log(at(T0 + 2), at(T0 + 3))
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor, e.reason))
        .collect();
    let who = Some("alice-admin".to_string());
    assert_eq!(
        audit,
        [
            (
                "trusted_range_remove".to_string(),
                who.clone(),
                Some("10.0.0.0/8".to_string())
            ),
            (
                "trusted_range_add".to_string(),
                who,
                Some("2001:db8::/32".to_string())
            ),
        ]
    );
}

fn trusted_range_changes_are_audited(b: &Backend) {
    let s = b.open();
    s.add_trusted_range("10.1.2.3/16", "bob", at(T0)).unwrap();
    s.add_trusted_range("10.1.0.0/16", "bob", at(T0)).unwrap(); // exists: not audited
    assert!(
        s.remove_trusted_range("10.1.0.0/16", "carol", at(T0 + 1))
            .unwrap()
    );
    assert!(
        !s.remove_trusted_range("10.1.0.0/16", "carol", at(T0 + 1))
            .unwrap()
    );
    let audit: Vec<_> = s
        .audit_log(at(0), at(u64::MAX / 2))
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.action,
                e.actor.unwrap_or_default(),
                e.reason.unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        audit,
        [
            (
                "trusted_range_add".into(),
                "bob".into(),
                "10.1.0.0/16".into()
            ),
            (
                "trusted_range_remove".into(),
                "carol".into(),
                "10.1.0.0/16".into()
            ),
        ]
    );
}

fn notify_settings_are_stored_as_opaque_text(b: &Backend) {
    let mut s = b.open();
    let body = "User {user} reported fraud.\n\tThe account is {status}.";
    s.set_config(
        &[
            ("notify.smtp.host", " 127.0.0.1 "),
            ("notify.smtp.password_file", "/etc/mfa/smtp.pw"),
            ("notify.template.fraud_body", body),
            // Not a setting mfa-notify knows: the store does not judge.
            ("notify.future.thing", "anything at all"),
            ("lockout.denials", "4"),
        ],
        None,
        "root",
        at(T0),
    )
    .unwrap();
    let want = vec![
        (
            "notify.future.thing".to_owned(),
            "anything at all".to_owned(),
        ),
        ("notify.smtp.host".to_owned(), "127.0.0.1".to_owned()),
        (
            "notify.smtp.password_file".to_owned(),
            "/etc/mfa/smtp.pw".to_owned(),
        ),
        ("notify.template.fraud_body".to_owned(), body.to_owned()),
    ];
    assert_eq!(s.stored_settings("notify.").unwrap(), want);
    assert_eq!(s.stored_settings("notify.smtp.").unwrap(), want[1..3]);
    assert_eq!(
        s.stored_settings("lockout.").unwrap(),
        [("lockout.denials".to_owned(), "4".to_owned())]
    );
    // Another server opening the store sees them, and its own settings
    // still apply (the opaque ones are not interpreted).
    let other = b.open();
    assert_eq!(other.stored_settings("notify.").unwrap(), want);
    assert_eq!(other.config().lockout.get(FactorClass::Otp).threshold(), 4);
    // `settings()` lists the store's own settings only.
    assert_eq!(other.settings().unwrap().len(), SETTINGS.len());
    // Audited like the others (paths and templates are not secrets).
    let audit = s.audit_log(at(0), at(u64::MAX / 2)).unwrap();
    for reason in [
        "notify.smtp.host= 127.0.0.1 ",
        "notify.smtp.password_file=/etc/mfa/smtp.pw",
        "notify.future.thing=anything at all",
    ] {
        assert!(
            audit.iter().any(|e| e.action == "setting"
                && e.actor.as_deref() == Some("root")
                && e.reason.as_deref() == Some(reason)),
            "{reason}"
        );
    }
    // An empty (or blank) value removes it.
    s.set_settings(
        &[("notify.future.thing", ""), ("notify.smtp.host", "  ")],
        "root",
        at(T0 + 1),
    )
    .unwrap();
    assert_eq!(b.open().stored_settings("notify.").unwrap(), want[2..]);
    // They travel in backups.
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("restored.db").display());
    Store::open(&url, &key())
        .unwrap()
        .restore(std::io::Cursor::new(&file))
        .unwrap();
    let again = Store::open(&url, &key()).unwrap();
    assert_eq!(again.stored_settings("notify.").unwrap(), want[2..]);
}

fn notify_settings_are_all_or_nothing_with_the_others(b: &Backend) {
    let mut s = b.open();
    // A bad store setting after a good notify one: neither is stored.
    let err = s
        .set_config(
            &[
                ("notify.smtp.host", "smtp.example.com"),
                ("lockout.denials", "0"),
            ],
            None,
            "root",
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
    // A bad notify shape after a good store setting, and a bad range after
    // a good notify setting: nothing either.
    let err = s
        .set_config(
            &[("lockout.denials", "3"), ("notify.smtp.host", "a\u{7}b")],
            None,
            "root",
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
    let err = s
        .set_config(
            &[("notify.smtp.host", "smtp.example.com")],
            Some(&["10.0.0.0/40"]),
            "root",
            at(T0),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Cidr { .. }), "{err:?}");
    let fresh = b.open();
    assert!(fresh.stored_settings("").unwrap().is_empty());
    assert!(fresh.trusted_ranges().unwrap().is_empty());
    assert!(
        !s.audit_log(at(0), at(u64::MAX / 2))
            .unwrap()
            .iter()
            .any(|e| e.action == "setting")
    );
}

fn notify_settings_refuse_bad_shapes_and_secrets(b: &Backend) {
    let mut s = b.open();
    let long_name = format!("notify.{}", "a".repeat(58));
    let long_value = "x".repeat(4097);
    for (name, value) in [
        (long_name.as_str(), "1"),
        ("notify.SMTP.host", "1"),
        ("notify.smtp-host", "1"),
        ("notify..host", "1"),
        ("notify.host.", "1"),
        ("notify.smtp.host", long_value.as_str()),
        ("notify.smtp.host", "a\rb"),
        ("notify.smtp.host", "a\u{0}b"),
    ] {
        let err = s
            .set_settings(&[(name, value)], "root", at(T0))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidSetting { .. }),
            "{name}: {err:?}"
        );
    }
    assert!(
        s.set_settings(&[(&long_name[..64], "1")], "root", at(T0))
            .is_ok()
    );
    assert!(
        s.set_settings(&[("notify.smtp.host", &long_value[..4096])], "root", at(T0))
            .is_ok()
    );
    // A name that says it holds a secret is refused, and the error does not
    // carry the value.
    for name in [
        "notify.smtp.password",
        "notify.sms.webhook_token",
        "notify.sms.api_key",
        "notify.smtp.secret",
        "notify.smtp.passwd_value",
    ] {
        let err = s
            .set_settings(&[(name, "hunter2")], "root", at(T0 + 1))
            .unwrap_err();
        assert!(
            matches!(err, Error::SecretSetting { .. }),
            "{name}: {err:?}"
        );
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{name}");
    }
    assert!(
        !s.audit_log(at(0), at(u64::MAX / 2))
            .unwrap()
            .iter()
            .any(|e| e.reason.as_deref().is_some_and(|r| r.contains("hunter2")))
    );
    assert!(
        !s.stored_settings("notify.")
            .unwrap()
            .iter()
            .any(|(_, v)| v == "hunter2")
    );
    // Names of files holding secrets are fine, and so are look-alike words.
    s.set_settings(
        &[
            ("notify.sms.webhook_token_file", "/etc/mfa/token"),
            ("notify.monkey.keyboard", "1"),
        ],
        "root",
        at(T0 + 2),
    )
    .unwrap();
}
