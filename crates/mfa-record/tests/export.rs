//! CSV export and import of the authentication log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mfa_oath::UnixTime;
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, CsvLimits, DenialReason, DeviceToken,
    DeviceTokenExport, Email, Error, Field, FieldPolicy, LogCsvWriter, LogRow, PersonName,
    PhoneExport, PhoneNumber, ServerName, UserId, read_log_csv, write_log_csv,
};

const FIRST: &str = "Sentinelfirst";
const LAST: &str = "Sentinellast";
const EMAIL: &str = "sentinel.mail@example.org";
const PHONE: &str = "+31 20 987 6543";
const PHONE_DIGITS: &str = "31209876543";
const TOKEN: &str = "APA91bSentinelDeviceToken0123456789";
const CLIENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x77);

fn attempt(mode: AuthMode, result: AuthResult) -> AuthAttempt {
    let mut a = AuthAttempt::new(
        UnixTime::from_secs(1_700_000_000),
        UserId::new("u42").unwrap(),
        mode,
        result,
        ServerName::new("mfa01.contoso.com").unwrap(),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
    );
    a.first_name = Some(PersonName::new(FIRST).unwrap());
    a.last_name = Some(PersonName::new(LAST).unwrap());
    a.email = Some(Email::new(EMAIL).unwrap());
    a.client_ip = Some(IpAddr::V6(CLIENT));
    if mode.uses_phone() {
        a.phone = Some(PhoneNumber::new(PHONE).unwrap());
    }
    if mode.uses_device_token() {
        a.device_token = Some(DeviceToken::new(TOKEN).unwrap());
    }
    a
}

fn all_mode_events(policy: &FieldPolicy) -> Vec<AuthEvent> {
    AuthMode::ALL
        .into_iter()
        .map(|m| AuthEvent::record(attempt(m, AuthResult::Success), policy).unwrap())
        .collect()
}

fn export(events: &[AuthEvent], policy: &FieldPolicy) -> String {
    let mut out = Vec::new();
    let n = write_log_csv(&mut out, events, policy).unwrap();
    assert_eq!(n, events.len());
    String::from_utf8(out).unwrap()
}

#[test]
fn switched_off_fields_never_appear_in_csv() {
    // Recorded with everything on, then exported under a policy that
    // switches each field off: neither column nor value appears.
    let events = all_mode_events(&FieldPolicy::all());
    type Case = (
        fn(&mut FieldPolicy),
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: [Case; 5] = [
        (
            |p| p.name = false,
            &["first_name", "last_name"],
            &[FIRST, LAST],
        ),
        (|p| p.email = false, &["email"], &[EMAIL]),
        (|p| p.phone = false, &["phone"], &["9876543", "6543"]),
        (
            |p| p.device_token = false,
            &["device_token"],
            &["sha256:", "DeviceToken0123"],
        ),
        (|p| p.client_ip = false, &["client_ip"], &["2001:db8::77"]),
    ];
    for (switch_off, columns, values) in cases {
        let mut policy = FieldPolicy::all();
        switch_off(&mut policy);
        let csv = export(&events, &policy);
        let header = csv.lines().next().unwrap();
        for c in columns {
            assert!(!header.split(',').any(|h| h == *c), "{c} in {header}");
        }
        for v in values {
            assert!(!csv.contains(v), "{v} in\n{csv}");
        }
        // The rows read back have the field absent.
        for row in read_log_csv(csv.as_bytes(), &CsvLimits::default()).unwrap() {
            if !policy.name {
                assert!(row.first_name.is_none() && row.last_name.is_none());
            }
            if !policy.email {
                assert!(row.email.is_none());
            }
            if !policy.phone {
                assert!(row.phone.is_none());
            }
            if !policy.device_token {
                assert!(row.device_token.is_none());
            }
            if !policy.client_ip {
                assert!(row.client_ip.is_none());
            }
        }
    }
}

#[test]
fn fields_dropped_at_recording_never_reach_the_export() {
    // Recorded under the minimal policy, exported under the full one: the
    // values are gone, only empty cells remain.
    let events = all_mode_events(&FieldPolicy::minimal());
    let csv = export(&events, &FieldPolicy::all());
    for v in [FIRST, LAST, EMAIL, "6543", "sha256:", "2001:db8"] {
        assert!(!csv.contains(v), "{v} in\n{csv}");
    }
}

#[test]
fn phone_masked_and_token_hashed_by_default() {
    let policy = FieldPolicy::default();
    let events = all_mode_events(&policy);
    let csv = export(&events, &policy);
    assert!(!csv.contains(PHONE_DIGITS), "{csv}");
    assert!(!csv.contains(TOKEN), "{csv}");
    let rows = read_log_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
    let call = rows.iter().find(|r| r.mode == AuthMode::PhoneCall).unwrap();
    assert_eq!(call.phone.as_deref(), Some("+*******6543"));
    let app = rows
        .iter()
        .find(|r| r.mode == AuthMode::MobileAppNotification)
        .unwrap();
    let hash = DeviceToken::new(TOKEN).unwrap().sha256_hex();
    assert_eq!(
        app.device_token.as_deref(),
        Some(&*format!("sha256:{hash}"))
    );
    assert_eq!(hash.len(), 64);
    // Only call/SMS rows carry a phone, only app rows a token.
    for r in &rows {
        assert_eq!(r.phone.is_some(), r.mode.uses_phone());
        assert_eq!(r.device_token.is_some(), r.mode.uses_device_token());
    }
}

#[test]
fn full_export_when_the_policy_says_so() {
    let mut policy = FieldPolicy::default();
    policy.phone_export = PhoneExport::Full;
    policy.device_token_export = DeviceTokenExport::Full;
    let csv = export(&all_mode_events(&policy), &policy);
    // Neutralised because it starts with '+'.
    assert!(csv.contains(&format!(",'+{PHONE_DIGITS},")), "{csv}");
    assert!(csv.contains(TOKEN));
}

#[test]
fn header_and_row_layout() {
    let policy = FieldPolicy::all();
    let e = AuthEvent::record(
        attempt(
            AuthMode::SmsTwoWay,
            AuthResult::Denied(DenialReason::FraudBlocked {
                until: Some(UnixTime::from_secs(1_707_776_000)),
            }),
        ),
        &policy,
    )
    .unwrap();
    let csv = export(&[e], &policy);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "time,time_utc,user_id,first_name,last_name,email,phone,device_token,mode,result,reason,\
         reason_detail,server_name,server_ip,client_ip"
    );
    assert_eq!(
        lines.next().unwrap(),
        "1700000000,2023-11-14T22:13:20Z,u42,Sentinelfirst,Sentinellast,sentinel.mail@example.org,'+*******6543,,\
         sms_two_way,denied,fraud_blocked,1707776000,mfa01.contoso.com,10.0.0.5,2001:db8::77"
    );
    assert_eq!(lines.next(), None);
}

#[test]
fn formula_cells_are_neutralised() {
    let policy = FieldPolicy::all();
    let mut a = attempt(AuthMode::OathCode, AuthResult::Success);
    a.user = UserId::new("=HYPERLINK(\"http://evil\",\"x\")").unwrap();
    a.first_name = Some(PersonName::new("+SUM(A1:A9)").unwrap());
    a.last_name = Some(PersonName::new("-2+3").unwrap());
    a.email = Some(Email::new("-cmd@evil.example").unwrap());
    a.server_name = ServerName::new("@SUM(1)").unwrap();
    let e = AuthEvent::record(a, &policy).unwrap();
    let csv = export(std::slice::from_ref(&e), &policy);
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    for rec in reader.records() {
        for cell in rec.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                "{cell:?}"
            );
        }
    }
    let rows = read_log_csv(csv.as_bytes(), &CsvLimits::default()).unwrap();
    assert_eq!(rows, vec![LogRow::from_event(&e, &policy)]);
}

#[test]
fn writer_round_trips_every_denial_reason() {
    let policy = FieldPolicy::all();
    let mut w = LogCsvWriter::new(Vec::new(), &policy).unwrap();
    let mut expected = Vec::new();
    for &kind in mfa_record::DenialKind::ALL {
        for detail in [None, Some(0u64), Some(9), Some(u64::MAX)] {
            let Ok(reason) = DenialReason::from_parts(kind, detail) else {
                continue;
            };
            let e = AuthEvent::record(attempt(AuthMode::OathCode, reason.into()), &policy).unwrap();
            w.write(&e).unwrap();
            expected.push(LogRow::from_event(&e, &policy));
        }
    }
    let out = w.finish().unwrap();
    let rows = read_log_csv(&out[..], &CsvLimits::default()).unwrap();
    assert_eq!(rows, expected);
    assert!(rows.len() > mfa_record::DenialKind::ALL.len());
}

const HEADER: &str = "time,user_id,mode,result,reason,reason_detail,server_name,server_ip";

fn read(csv: &str) -> Result<Vec<LogRow>, Error> {
    read_log_csv(csv.as_bytes(), &CsvLimits::default())
}

#[test]
fn reader_accepts_columns_in_any_order() {
    let rows = read(
        "server_ip,server_name,reason_detail,reason,result,mode,user_id,time,client_ip\n\
         10.0.0.1,s,,,success,oath_code,u,5,::1\n",
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].client_ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    assert_eq!(rows[0].time, UnixTime::from_secs(5));
}

#[test]
fn reader_header_errors() {
    assert!(matches!(
        read(&format!("{HEADER},colour\n")),
        Err(Error::UnknownColumn { index: 9, .. })
    ));
    assert!(matches!(
        read(&format!("{HEADER},time\n")),
        Err(Error::DuplicateColumn {
            column: Field::Time
        })
    ));
    assert!(matches!(
        read("time,user_id,mode,result,reason,reason_detail,server_name\n"),
        Err(Error::MissingColumn {
            column: Field::ServerIp
        })
    ));
    assert!(matches!(read(""), Err(Error::MissingColumn { .. })));
    // Header only: no rows, no error.
    assert_eq!(read(&format!("{HEADER}\n")).unwrap(), vec![]);
}

#[test]
fn reader_row_errors_name_line_and_column() {
    let check = |row: &str, want_line: u64, want_column: Field| {
        let err = read(&format!(
            "{HEADER}\n5,u,oath_code,success,,,s,10.0.0.1\n{row}\n"
        ))
        .unwrap_err();
        match err {
            Error::CsvCell { line, column, .. } => {
                assert_eq!((line, column), (want_line, want_column), "{row}");
            }
            other => panic!("{row}: {other:?}"),
        }
    };
    check("x,u,oath_code,success,,,s,10.0.0.1", 3, Field::Time);
    check("5,,oath_code,success,,,s,10.0.0.1", 3, Field::UserId);
    check("5,u,fax,success,,,s,10.0.0.1", 3, Field::Mode);
    check("5,u,oath_code,maybe,,,s,10.0.0.1", 3, Field::Result);
    check("5,u,oath_code,success,locked,,s,10.0.0.1", 3, Field::Reason);
    check("5,u,oath_code,denied,,,s,10.0.0.1", 3, Field::Reason);
    check(
        "5,u,oath_code,denied,gremlins,,s,10.0.0.1",
        3,
        Field::Reason,
    );
    check(
        "5,u,oath_code,denied,locked,,s,10.0.0.1",
        3,
        Field::ReasonDetail,
    );
    check(
        "5,u,oath_code,denied,code_wrong,7,s,10.0.0.1",
        3,
        Field::ReasonDetail,
    );
    check(
        "5,u,oath_code,denied,locked,-1,s,10.0.0.1",
        3,
        Field::ReasonDetail,
    );
    check("5,u,oath_code,success,,,s,10.0.0.256", 3, Field::ServerIp);
    check("5,u,oath_code,success,,,,10.0.0.1", 3, Field::ServerName);
    assert!(matches!(
        read(&format!("{HEADER}\n5,u,oath_code,success,,,s\n")),
        Err(Error::CsvCellCount {
            line: 2,
            expected: 8,
            found: 7
        })
    ));
    let mut bad_utf8 = format!("{HEADER}\n5,u,oath_code,success,,,s,10.0.0.1\n").into_bytes();
    bad_utf8.extend_from_slice(b"5,\xff,oath_code,success,,,s,10.0.0.1\n");
    assert!(matches!(
        read_log_csv(&bad_utf8[..], &CsvLimits::default()),
        Err(Error::CsvUtf8 { line: 3 })
    ));
    // A phone on an OATH row is refused.
    let err = read(&format!(
        "{HEADER},phone\n5,u,oath_code,success,,,s,10.0.0.1,+***1234\n"
    ))
    .unwrap_err();
    assert!(matches!(
        err,
        Error::CsvCell {
            column: Field::Phone,
            ..
        }
    ));
}

#[test]
fn reader_limits() {
    let csv = format!(
        "{HEADER}\n5,u,oath_code,success,,,s,10.0.0.1\n5,u,oath_code,success,,,s,10.0.0.1\n"
    );
    let mut limits = CsvLimits::default();
    limits.max_rows = 1;
    assert!(matches!(
        read_log_csv(csv.as_bytes(), &limits),
        Err(Error::TooManyRows { max_rows: 1 })
    ));
    limits.max_rows = 2;
    assert_eq!(read_log_csv(csv.as_bytes(), &limits).unwrap().len(), 2);

    let mut limits = CsvLimits::default();
    limits.max_bytes = csv.len() as u64;
    assert_eq!(read_log_csv(csv.as_bytes(), &limits).unwrap().len(), 2);
    limits.max_bytes = csv.len() as u64 - 1;
    assert!(matches!(
        read_log_csv(csv.as_bytes(), &limits),
        Err(Error::InputTooLarge { .. })
    ));
}

#[test]
fn errors_quote_at_most_a_prefix_of_bad_values() {
    let huge = "x".repeat(100_000);
    let err = read(&format!("{HEADER}\n5,u,{huge},success,,,s,10.0.0.1\n")).unwrap_err();
    let Error::CsvCell { problem, .. } = err else {
        panic!("{err:?}")
    };
    match *problem {
        Error::InvalidValue { value } => assert_eq!(value.len(), Error::MAX_QUOTED_CHARS),
        other => panic!("{other:?}"),
    }
    let err = read(&format!("{HEADER},{huge}\n")).unwrap_err();
    assert!(
        matches!(err, Error::UnknownColumn { ref name, index: 9 } if name.len() == Error::MAX_QUOTED_CHARS)
    );
}

#[test]
fn reader_accepts_a_utf8_bom_and_crlf() {
    // What a spreadsheet writes when it saves the file again.
    let csv = format!("\u{feff}{HEADER}\r\n5,u,oath_code,success,,,s,10.0.0.1\r\n");
    let rows = read(&csv).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user.as_str(), "u");
}

#[test]
fn utc_times() {
    for (secs, want) in [
        (0, "1970-01-01T00:00:00Z"),
        (59, "1970-01-01T00:00:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_799, "2000-02-29T23:59:59Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (u64::MAX, "584554051223-11-09T07:00:15Z"),
    ] {
        assert_eq!(mfa_record::utc(UnixTime::from_secs(secs)), want, "{secs}");
    }
}

#[test]
fn time_utc_must_match_time() {
    let header = "time,time_utc,user_id,mode,result,reason,reason_detail,server_name,server_ip";
    assert_eq!(
        read(&format!(
            "{header}\n60,1970-01-01T00:01:00Z,u,oath_code,success,,,s,10.0.0.1\n"
        ))
        .unwrap()
        .len(),
        1
    );
    let err = read(&format!(
        "{header}\n60,1970-01-01T00:02:00Z,u,oath_code,success,,,s,10.0.0.1\n"
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::CsvCell {
                line: 2,
                column: Field::TimeUtc,
                ..
            }
        ),
        "{err:?}"
    );
}
