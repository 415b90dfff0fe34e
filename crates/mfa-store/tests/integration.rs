//! The store with the other crates: tokens read by mfa-import (cloud CSV,
//! a real vendor PSKC file from the corpus), mfa-record's field policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::result_large_err
)]

mod common;

use common::*;
use mfa_import::{CloudCsvReader, ImportReport as FileReport, PskcOptions, PskcReader};
use mfa_oath::{Period, Secret, Totp, TotpParams};
use mfa_record::FieldPolicy;
use mfa_store::{Channel, ImportMode, NewToken, StoreConfig, UserProfile};

both_backends!(
    cloud_csv_import_assigns_and_verifies,
    vendor_pskc_file_imports_and_verifies,
    switched_off_fields_are_never_stored,
);

const FEITIAN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/pskc/feitian/20120919-test001-4282.xml"
);

fn cloud_csv_import_assigns_and_verifies(b: &Backend) {
    let csv = "upn,serial number,secret key,time interval,manufacturer,model\n\
               Helga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
               Helga@contoso.com,7654321,1234567abcdef1234567abcdef,60,Contoso,HardwareKey\n";
    let mut file = FileReport::new();
    let accepted: Vec<NewToken> = CloudCsvReader::new(csv.as_bytes())
        .filter_map(|item| file.record(item))
        .map(NewToken::from)
        .collect();
    // The second row's secret is not base32 (it has a `1`): mfa-import rejects it.
    assert_eq!((accepted.len(), file.rejected.len()), (1, 1));
    let s = b.open();
    let r = s
        .import(accepted, ImportMode::AllOrNothing, at(T0))
        .unwrap();
    assert_eq!(r.imported, 1);
    let info = s.token("1234567").unwrap().unwrap();
    assert_eq!(info.user.as_deref(), Some("Helga@contoso.com"));
    assert!(!info.active);

    let secret = Secret::from_base32("2234567abcdef2234567abcdef").unwrap();
    let totp = Totp::new(
        secret,
        TotpParams {
            period: Period::SIXTY,
            ..TotpParams::default()
        },
    );
    let code = |t: u64| totp.generate(at(t)).unwrap().to_string();
    s.activate("1234567", &code(T0), at(T0)).unwrap();
    let o = s
        .verify("Helga@contoso.com", &code(T0 + 60), at(T0 + 60), &ctx())
        .unwrap();
    assert!(o.is_approved(), "{o:?}");
    assert_eq!(o.step, Some((T0 + 60) / 60));
}

fn vendor_pskc_file_imports_and_verifies(b: &Backend) {
    let xml = std::fs::read(FEITIAN).unwrap();
    let mut file = FileReport::new();
    let tokens: Vec<NewToken> = PskcReader::new(xml.as_slice(), PskcOptions::new())
        .filter_map(|item| file.record(item.and_then(|k| k.to_token())))
        .map(NewToken::from)
        .collect();
    assert!(tokens.len() >= 2, "{:?}", file.rejected);
    let n = tokens.len() as u64;
    let s = b.open();
    let r = s.import(tokens, ImportMode::AllOrNothing, at(T0)).unwrap();
    assert_eq!(r.imported, n);
    assert_eq!(s.stats().unwrap().tokens, n);
    // Importing the same file again: every token is a duplicate, nothing changes.
    let again: Vec<NewToken> = PskcReader::new(xml.as_slice(), PskcOptions::new())
        .filter_map(|k| k.ok()?.to_token().ok())
        .map(NewToken::from)
        .collect();
    let e = s
        .import(again, ImportMode::AllOrNothing, at(T0))
        .unwrap_err();
    assert!(
        matches!(e, mfa_store::Error::ImportRefused { ref report } if report.rejected.len() as u64 == n)
    );

    // The first token of the file (TOTP, 60 s, secret given in base64).
    let secret = data_encoding::BASE64
        .decode(b"zSK3gP/9LVNpaAfs039ATa45MnA=")
        .unwrap();
    let totp = Totp::new(
        Secret::from_bytes(&secret).unwrap(),
        TotpParams {
            period: Period::SIXTY,
            ..TotpParams::default()
        },
    );
    let info = s.token("2600215704919").unwrap().unwrap();
    assert_eq!(info.kind, mfa_store::TokenKind::Totp(totp.params()));
    s.assign("2600215704919", "erik", at(T0)).unwrap();
    let code = |t: u64| totp.generate(at(t)).unwrap().to_string();
    // The file's keys are valid from 2012-09-19 to 2022-09-01 (Policy
    // StartDate/ExpiryDate): stored as such, and refused at T0 (2023).
    assert_eq!(
        (info.not_before, info.not_after),
        (Some(1_348_012_800), Some(1_661_990_400))
    );
    assert!(matches!(
        s.activate("2600215704919", &code(T0), at(T0)),
        Err(mfa_store::Error::KeyOutsideValidity { .. })
    ));
    // Inside the period (2020-01-01) it activates and signs in.
    let inside = 1_577_836_800;
    s.activate("2600215704919", &code(inside), at(inside))
        .unwrap();
    assert!(
        s.verify("erik", &code(inside + 60), at(inside + 60), &ctx())
            .unwrap()
            .is_approved()
    );
    let late = s.verify("erik", &code(T0), at(T0), &ctx()).unwrap();
    assert_eq!(
        late.denial(),
        Some(mfa_record::DenialReason::KeyOutsideValidity)
    );
}

/// Everything the database holds, as bytes to search: the SQLite file and
/// its write-ahead log, or every row of every table on PostgreSQL.
fn database_bytes(b: &Backend) -> Vec<u8> {
    match b.url.strip_prefix("sqlite:") {
        Some(path) => {
            let mut bytes = std::fs::read(path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend_from_slice(&wal);
            }
            bytes
        }
        None => {
            let mut c = mfa_store::connect_postgres(&b.url).unwrap();
            let mut text = String::new();
            for table in ["users", "auth_log", "audit_log", "one_time_codes"] {
                for row in c
                    .query(&format!("SELECT row_to_json(x)::text FROM {table} x"), &[])
                    .unwrap()
                {
                    text.push_str(row.get::<_, &str>(0));
                    text.push('\n');
                }
            }
            text.into_bytes()
        }
    }
}

/// Whether `needle` is in `haystack` as it is or hex-encoded (the backup
/// writes text fields as hex).
fn holds(haystack: &[u8], needle: &str) -> bool {
    let hex = data_encoding::HEXLOWER.encode(needle.as_bytes());
    [needle.as_bytes(), hex.as_bytes()]
        .iter()
        .any(|n| haystack.windows(n.len()).any(|w| w == *n))
}

fn switched_off_fields_are_never_stored(b: &Backend) {
    let mut config = StoreConfig::default();
    config.fields = FieldPolicy::minimal();
    let s = b.open_with(config);
    let mut p = UserProfile::new("alice");
    p.first_name = Some("Alicia".into());
    p.last_name = Some("Zwartkop".into());
    p.email = Some("alice@example.com".into());
    p.phone = Some("+31 20 123 4567".into());
    s.put_user(&p, at(T0)).unwrap();
    s.create_code("alice", Channel::Sms, "123456", at(T0))
        .unwrap();
    assert!(
        s.verify_code("alice", Channel::Sms, "123456", at(T0), &ctx())
            .unwrap()
            .is_approved()
    );
    let mut backup = Vec::new();
    s.backup(&mut backup).unwrap();
    let log = s.auth_log(at(0), at(T0 + 1)).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].first_name().is_none() && log[0].email().is_none() && log[0].phone().is_none());
    assert!(log[0].client_ip().is_none());
    let mut csv = Vec::new();
    s.export_auth_log_csv(at(0), at(T0 + 1), &mut csv).unwrap();

    // Not in the database, the backup or the log export.
    let db = database_bytes(b);
    for (what, bytes) in [("database", &db), ("backup", &backup), ("log export", &csv)] {
        for field in ["Alicia", "Zwartkop", "alice@example.com"] {
            assert!(!holds(bytes, field), "{field} is in the {what}");
        }
    }
    // The phone number is kept for the SMS and voice codes it receives, in
    // the user record only: not in the log or its export.
    assert!(holds(&db, "+31 20 123 4567"), "the phone is needed for SMS");
    assert!(!holds(&csv, "+31 20 123 4567"));
    let u = s.user("alice").unwrap().unwrap();
    assert_eq!(
        (u.first_name, u.last_name, u.email, u.phone.as_deref()),
        (None, None, None, Some("+31 20 123 4567"))
    );
    // The backup restores the store, phone included.
    let restored = Backend::sqlite();
    let r = restored.open();
    r.restore(std::io::Cursor::new(&backup)).unwrap();
    assert_eq!(
        r.user("alice").unwrap().unwrap().phone.as_deref(),
        Some("+31 20 123 4567")
    );

    // With every field on, they are stored and recorded.
    let mut s = b.open();
    s.put_user(&p, at(T0 + 1)).unwrap();
    assert!(holds(&database_bytes(b), "alice@example.com"));
    assert!(
        s.verify_code("alice", Channel::Sms, "123456", at(T0 + 1), &ctx())
            .unwrap()
            .denial()
            .is_some()
    );
    let log = s.auth_log(at(T0 + 1), at(T0 + 2)).unwrap();
    assert_eq!(
        log[0].email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert!(log[0].phone().is_some());
    assert_eq!(log[0].client_ip(), Some("192.0.2.7".parse().unwrap()));

    // Switching a field off also forgets what the user records held.
    s.set_settings(
        &[("log.email", "off"), ("log.name", "off")],
        "root",
        at(T0 + 2),
    )
    .unwrap();
    let u = s.user("alice").unwrap().unwrap();
    assert_eq!((u.first_name, u.last_name, u.email), (None, None, None));
    assert_eq!(u.phone.as_deref(), Some("+31 20 123 4567"));
}
