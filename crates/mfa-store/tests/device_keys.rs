//! The PSKC device serial and Key Id of each imported key (RFC 6030 §8:
//! one device, one SerialNo, several keys with their own Key Ids): stored
//! with the token (schema 5), covered by the row MAC, carried in backups,
//! and written back by the export, so that a re-import gives the same
//! tokens. Stores and backups of schema 4 (tests/data/schema4) still open
//! and restore.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_import::{ImportReport, Protection, PskcOptions, PskcReader, PskcWriter};
use mfa_store::{Error, ImportMode, NewToken, Store, TokenInfo};

both_backends!(
    a_pskc_key_keeps_its_device_serial_and_key_id_through_export_and_reimport,
    several_keys_of_one_device_import_in_either_mode,
    a_token_added_otherwise_is_exported_under_its_serial,
    editing_the_device_serial_or_key_id_in_sql_is_refused,
    device_serial_and_key_id_survive_a_backup,
    a_schema_4_backup_restores_with_no_device_serial_or_key_id,
);

/// RFC 6030 Figure 10's shape: device 654321 (one key, Id 1) and device
/// 9999999 with two keys (Ids 3 and 4) in two KeyPackages; one more
/// device, 777, whose only key has Id "k:7", and a key without a serial
/// (Id "loose"). HOTP with the RFC 4226 test secret.
const FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
 <KeyPackage><DeviceInfo><Manufacturer>TokenVendorAcme</Manufacturer><SerialNo>654321</SerialNo></DeviceInfo>
  <Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Issuer>Issuer</Issuer>
   <AlgorithmParameters><ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>
   <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data>
   <Policy><StartDate>2006-05-01T00:00:00Z</StartDate><ExpiryDate>2006-05-31T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>
 <KeyPackage><DeviceInfo><Manufacturer>TokenVendorAcme</Manufacturer><SerialNo>9999999</SerialNo></DeviceInfo>
  <Key Id="3" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Issuer>Issuer</Issuer>
   <AlgorithmParameters><ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>
   <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>5</PlainValue></Counter></Data>
   <Policy><StartDate>2006-03-01T00:00:00Z</StartDate><ExpiryDate>2006-03-31T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>
 <KeyPackage><DeviceInfo><Manufacturer>TokenVendorAcme</Manufacturer><SerialNo>9999999</SerialNo></DeviceInfo>
  <Key Id="4" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Issuer>Issuer</Issuer>
   <AlgorithmParameters><ResponseFormat Length="8" Encoding="DECIMAL"/></AlgorithmParameters>
   <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data>
   <Policy><StartDate>2006-04-01T00:00:00Z</StartDate><ExpiryDate>2006-04-30T00:00:00Z</ExpiryDate></Policy></Key></KeyPackage>
 <KeyPackage><DeviceInfo><SerialNo>777</SerialNo></DeviceInfo>
  <Key Id="k:7" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
   <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>
 <KeyPackage>
  <Key Id="loose" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
   <Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret><Counter><PlainValue>0</PlainValue></Counter></Data></Key></KeyPackage>
</KeyContainer>
"#;

/// (serial, device serial, Key Id) of every token FILE gives, by serial.
const EXPECTED: [(&str, Option<&str>, Option<&str>); 5] = [
    ("654321", Some("654321"), Some("1")),
    ("777", Some("777"), Some("k:7")),
    ("9999999", Some("9999999"), Some("3")),
    ("9999999:4", Some("9999999"), Some("4")),
    ("loose", None, Some("loose")),
];

/// The accepted tokens of a PSKC document, as every front end converts
/// them ([`NewToken::from`]).
fn read(xml: &[u8], options: PskcOptions) -> Vec<NewToken> {
    let mut report = ImportReport::new();
    let tokens: Vec<NewToken> = PskcReader::new(xml, options)
        .tokens()
        .filter_map(|t| report.record(t))
        .map(NewToken::from)
        .collect();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    tokens
}

fn ids(tokens: &[TokenInfo]) -> Vec<(&str, Option<&str>, Option<&str>)> {
    tokens
        .iter()
        .map(|t| {
            (
                t.serial.as_str(),
                t.device_serial.as_deref(),
                t.pskc_key_id.as_deref(),
            )
        })
        .collect()
}

/// Exports every token of `s` as PSKC (as `mfa tokens export` does), with
/// a passphrase.
fn export(s: &Store) -> Vec<u8> {
    let mut w = PskcWriter::new(
        Vec::new(),
        Protection::passphrase("correct horse", 1000),
        getrandom::SysRng,
    )
    .unwrap();
    for (info, secret) in s.export_tokens("root", at(T0)).unwrap() {
        w.write_token(&info.to_pskc(secret)).unwrap();
    }
    w.finish().unwrap()
}

/// The SerialNo and Key Id of each KeyPackage of a written file, in order.
fn packages(xml: &str) -> Vec<(Option<String>, String)> {
    xml.split("<pskc:KeyPackage>")
        .skip(1)
        .map(|p| {
            let serial = p
                .split_once("<pskc:SerialNo>")
                .and_then(|(_, r)| r.split_once("</pskc:SerialNo>"))
                .map(|(s, _)| s.to_owned());
            let id = p
                .split_once("<pskc:Key Id=\"")
                .and_then(|(_, r)| r.split_once('"'))
                .map(|(s, _)| s.to_owned())
                .unwrap();
            (serial, id)
        })
        .collect()
}

fn a_pskc_key_keeps_its_device_serial_and_key_id_through_export_and_reimport(b: &Backend) {
    let s = b.open();
    let r = s
        .import(
            read(FILE.as_bytes(), PskcOptions::new()),
            ImportMode::AllOrNothing,
            at(T0),
        )
        .unwrap();
    assert_eq!(r.imported, 5);
    let before = s.tokens().unwrap();
    assert_eq!(ids(&before), EXPECTED);

    let xml = export(&s);
    let text = String::from_utf8(xml.clone()).unwrap();
    // Each key its own KeyPackage; the two keys of 9999999 under the one
    // device serial with their own Key Ids; no `9999999:4` anywhere.
    assert_eq!(
        packages(&text),
        [
            (Some("654321".into()), "1".into()),
            (Some("777".into()), "k:7".into()),
            (Some("9999999".into()), "3".into()),
            (Some("9999999".into()), "4".into()),
            (None, "loose".into()),
        ]
    );
    assert!(!text.contains("9999999:4"), "{text}");

    // Into a fresh store (on the other backend's default, SQLite): the
    // same tokens, serials, device serials, Key Ids, state and periods.
    let other = Backend::sqlite();
    let t = other.open();
    let back = read(&xml, PskcOptions::new().passphrase("correct horse"));
    assert_eq!(
        t.import(back, ImportMode::AllOrNothing, at(T0))
            .unwrap()
            .imported,
        5
    );
    assert_eq!(t.tokens().unwrap(), before);
    // And once more round: still the same (nothing drifts per trip).
    let third = Backend::sqlite();
    let u = third.open();
    let again = read(&export(&t), PskcOptions::new().passphrase("correct horse"));
    u.import(again, ImportMode::AcceptedOnly, at(T0)).unwrap();
    assert_eq!(u.tokens().unwrap(), before);
}

fn several_keys_of_one_device_import_in_either_mode(b: &Backend) {
    // AcceptedOnly writes rows one by one, AllOrNothing as pending rows
    // committed together: both keep the two columns.
    let s = b.open();
    s.import(
        read(FILE.as_bytes(), PskcOptions::new()),
        ImportMode::AcceptedOnly,
        at(T0),
    )
    .unwrap();
    assert_eq!(ids(&s.tokens().unwrap()), EXPECTED);
    // Each key is usable on its own (its MAC verifies): key 4 of 9999999
    // in April 2006, counter 0.
    s.assign("9999999:4", "alice", at(T0)).unwrap();
    s.activate("9999999:4", "84755224", at(1_145_059_200))
        .unwrap();
    let info = s.token("9999999:4").unwrap().unwrap();
    assert!(info.active);
    assert_eq!(
        (info.device_serial.as_deref(), info.pskc_key_id.as_deref()),
        (Some("9999999"), Some("4"))
    );
}

fn a_token_added_otherwise_is_exported_under_its_serial(b: &Backend) {
    // A CSV row or an otpauth URI has no device serial or Key Id of its
    // own: the export writes the store's serial as SerialNo and Key Id,
    // as before schema 5.
    let s = b.open();
    let csv = "upn,serial number,secret key,time interval,manufacturer,model\n\
               alice@example.com,1234567,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey\n";
    let mut report = ImportReport::new();
    let from_csv: Vec<NewToken> = mfa_import::CloudCsvReader::new(csv.as_bytes())
        .filter_map(|t| report.record(t))
        .map(NewToken::from)
        .collect();
    let mut report = ImportReport::new();
    let from_uri: Vec<NewToken> = mfa_import::OtpauthListReader::new(
        &b"otpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXP&issuer=ACME\n"[..],
    )
    .filter_map(|t| report.record(t))
    .map(NewToken::from)
    .collect();
    let tokens: Vec<NewToken> = from_csv
        .into_iter()
        .chain(from_uri)
        .chain([totp_token("T-NEW", 1)])
        .collect();
    assert!(
        tokens
            .iter()
            .all(|t| t.device_serial.is_none() && t.pskc_key_id.is_none())
    );
    s.import(tokens, ImportMode::AllOrNothing, at(T0)).unwrap();
    let before = s.tokens().unwrap();
    assert_eq!(
        ids(&before),
        [
            ("1234567", None, None),
            ("ACME:bob", None, None),
            ("T-NEW", None, None)
        ]
    );
    let xml = export(&s);
    assert_eq!(
        packages(&String::from_utf8(xml.clone()).unwrap()),
        [
            (Some("1234567".into()), "1234567".into()),
            (Some("ACME:bob".into()), "ACME:bob".into()),
            (Some("T-NEW".into()), "T-NEW".into()),
        ]
    );
    // Re-imported they are PSKC keys now (with the serial as device serial
    // and Key Id), under the same serials.
    let other = Backend::sqlite();
    let t = other.open();
    t.import(
        read(&xml, PskcOptions::new().passphrase("correct horse")),
        ImportMode::AllOrNothing,
        at(T0),
    )
    .unwrap();
    let after = t.tokens().unwrap();
    assert_eq!(
        after.iter().map(|t| t.serial.as_str()).collect::<Vec<_>>(),
        ["1234567", "ACME:bob", "T-NEW"]
    );
    assert!(
        after
            .iter()
            .all(|t| t.device_serial.as_deref() == Some(t.serial.as_str())
                && t.pskc_key_id.as_deref() == Some(t.serial.as_str()))
    );
}

fn editing_the_device_serial_or_key_id_in_sql_is_refused(b: &Backend) {
    let s = b.open();
    s.import(
        read(FILE.as_bytes(), PskcOptions::new()),
        ImportMode::AllOrNothing,
        at(T0),
    )
    .unwrap();
    s.import([totp_token("T-PLAIN", 2)], ImportMode::AllOrNothing, at(T0))
        .unwrap();
    for (edit, undo, serial) in [
        // Device 9999999's key 4 handed out as device 654321's.
        (
            "UPDATE tokens SET device_serial = '654321' WHERE serial = '9999999:4'",
            "UPDATE tokens SET device_serial = '9999999' WHERE serial = '9999999:4'",
            "9999999:4",
        ),
        (
            "UPDATE tokens SET pskc_key_id = '9' WHERE serial = '9999999'",
            "UPDATE tokens SET pskc_key_id = '3' WHERE serial = '9999999'",
            "9999999",
        ),
        (
            "UPDATE tokens SET device_serial = NULL, pskc_key_id = NULL WHERE serial = '777'",
            "UPDATE tokens SET device_serial = '777', pskc_key_id = 'k:7' WHERE serial = '777'",
            "777",
        ),
        // A token that had neither cannot be given them.
        (
            "UPDATE tokens SET device_serial = '654321' WHERE serial = 'T-PLAIN'",
            "UPDATE tokens SET device_serial = NULL WHERE serial = 'T-PLAIN'",
            "T-PLAIN",
        ),
    ] {
        sql(b, edit);
        let e = s.assign(serial, "alice", at(T0)).unwrap_err();
        assert!(
            matches!(&e, Error::TokenTampered { serial: s } if s == serial),
            "{edit}: {e:?}"
        );
        // Nor does the export hand it out.
        let e = s.export_tokens("root", at(T0)).unwrap_err();
        assert!(
            matches!(&e, Error::TokenTampered { serial: s } if s == serial),
            "{edit}: {e:?}"
        );
        // Put back, the row verifies again (the edit was the cause).
        sql(b, undo);
        assert_eq!(s.export_tokens("root", at(T0)).unwrap().len(), 6, "{undo}");
    }
    // The untouched key still works.
    s.assign("loose", "alice", at(T0)).unwrap();
}

fn device_serial_and_key_id_survive_a_backup(b: &Backend) {
    let s = b.open();
    s.import(
        read(FILE.as_bytes(), PskcOptions::new()),
        ImportMode::AllOrNothing,
        at(T0),
    )
    .unwrap();
    let mut file = Vec::new();
    s.backup(&mut file).unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    let header = format!("mfa-store-backup 2 schema {}\n", mfa_store::SCHEMA_VERSION);
    assert!(text.starts_with(&header), "{text}");
    assert!(text.contains("table tokens 21\n"), "{text}");
    let other = Backend::sqlite();
    let r = other.open();
    r.restore(std::io::Cursor::new(file)).unwrap();
    assert_eq!(r.tokens().unwrap(), s.tokens().unwrap());
    // Their MACs verify after the restore.
    r.assign("9999999:4", "alice", at(T0)).unwrap();
    r.activate("9999999:4", "84755224", at(1_145_059_200))
        .unwrap();
}

/// The schema-4 fixture (tests/data/schema4, see its README) and its key.
fn schema4() -> (std::path::PathBuf, mfa_store::MasterKey) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema4");
    let key_text = std::fs::read_to_string(data.join("mfa.key")).unwrap();
    let (id, hex) = key_text.trim().split_once(':').unwrap();
    let key = mfa_store::MasterKey::from_hex(id.parse().unwrap(), hex).unwrap();
    (data, key)
}

/// What the schema-4 fixture holds, once read by this schema: Figure 10's
/// four keys, none with a device serial or Key Id (schema 4 had no place
/// for them), 9999999:4 activated by alice at counter 0. Its row MACs (v2:
/// every key has a period) verify: the next code is approved, a replay is
/// not; and the export writes them as before schema 5.
fn check_schema4(s: &Store) {
    let tokens = s.tokens().unwrap();
    assert_eq!(
        ids(&tokens),
        [
            ("123456", None, None),
            ("654321", None, None),
            ("9999999", None, None),
            ("9999999:4", None, None),
        ]
    );
    let april = at(1_145_059_200);
    let hotp = mfa_oath::Hotp::new(
        mfa_oath::Secret::from_bytes(b"12345678901234567890").unwrap(),
        mfa_oath::HotpParams {
            digits: mfa_oath::Digits::new(8).unwrap(),
            ..mfa_oath::HotpParams::default()
        },
    );
    let code = |c| hotp.generate(c).to_string();
    assert!(
        s.verify("alice", &code(0), april, &ctx())
            .unwrap()
            .denial()
            .is_some()
    );
    assert!(
        s.verify("alice", &code(1), april, &ctx())
            .unwrap()
            .is_approved()
    );
    let exported = s.export_tokens("root", april).unwrap();
    let written: Vec<_> = exported
        .into_iter()
        .map(|(info, secret)| {
            let t = info.to_pskc(secret);
            (t.serial, t.key_id)
        })
        .collect();
    assert_eq!(
        written,
        [
            (Some("123456".to_owned()), None),
            (Some("654321".to_owned()), None),
            (Some("9999999".to_owned()), None),
            (Some("9999999:4".to_owned()), None),
        ]
    );
}

fn a_schema_4_backup_restores_with_no_device_serial_or_key_id(b: &Backend) {
    let (data, key) = schema4();
    let file = std::fs::read(data.join("v2-schema4.backup")).unwrap();
    assert!(file.starts_with(b"mfa-store-backup 2 schema 4\n"));
    assert!(String::from_utf8_lossy(&file).contains("table tokens 19\n"));
    let s = Store::open(&b.url, &key).unwrap();
    s.restore(std::io::Cursor::new(file)).unwrap();
    check_schema4(&s);
}

#[test]
fn a_schema_4_store_is_upgraded_on_open() {
    let (data, key) = schema4();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data.join("mfa.db"), dir.path().join("mfa.db")).unwrap();
    let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    let s = Store::open(&url, &key).unwrap();
    assert_eq!(s.schema_version().unwrap(), mfa_store::SCHEMA_VERSION);
    check_schema4(&s);
    // The upgraded rows' MACs still catch an edit of the new columns.
    rusqlite::Connection::open(dir.path().join("mfa.db"))
        .unwrap()
        .execute_batch("UPDATE tokens SET device_serial = '9999999' WHERE serial = '9999999:4'")
        .unwrap();
    assert!(matches!(
        s.export_tokens("root", at(T0)),
        Err(Error::TokenTampered { .. })
    ));
}
