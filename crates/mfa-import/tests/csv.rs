//! Both CSV formats, the import report, and the errors CSV.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mfa_import::{
    CloudCsvReader, Error, ImportReport, LimitKind, Limits, Location, ServerCsvReader, Warning,
    write_errors_csv,
};

const ENTRA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/pskc-generated/entra-valid.csv"
);

#[test]
fn the_corpus_cloud_file_reads() {
    let bytes = std::fs::read(ENTRA).unwrap();
    let rows: Vec<_> = CloudCsvReader::new(&bytes[..]).collect();
    assert_eq!(rows.len(), 1);
    let t = rows[0].as_ref().unwrap();
    assert_eq!(t.user.as_deref(), Some("Helga@contoso.com"));
    assert_eq!(t.serial.as_deref(), Some("1234567"));
    assert_eq!(t.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
    assert_eq!(t.period(), Some(60));
    assert_eq!(t.manufacturer.as_deref(), Some("Contoso"));
    assert_eq!(t.model.as_deref(), Some("HardwareKey"));
    assert_eq!(
        t.location,
        Location::Row {
            line: 2,
            serial: Some("1234567".into())
        }
    );
}

#[test]
fn cloud_header_is_tolerant_and_extra_columns_are_reported() {
    let csv = " UPN ;Serial Number; SECRET KEY ;TimeInterval;Manufacturer;Model;Enabled\n\
               u@x.com;1;jbsw y3dp-ehpk 3pxp====;30;;;true\n";
    let mut r = CloudCsvReader::new(csv.as_bytes());
    let t = r.next().unwrap().unwrap();
    assert_eq!(t.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
    assert_eq!(t.manufacturer, None);
    assert!(r.next().is_none());
    assert_eq!(r.ignored_columns(), ["Enabled".to_owned()]);
}

#[test]
fn cloud_header_is_required() {
    let csv = "Helga@contoso.com,1234567,JBSWY3DPEHPK3PXP,60,Contoso,HardwareKey\n";
    let rows: Vec<_> = CloudCsvReader::new(csv.as_bytes()).collect();
    assert_eq!(rows.len(), 1);
    let e = rows[0].as_ref().unwrap_err();
    assert!(e.is_fatal());
    assert!(matches!(e.error, Error::MissingHeader { .. }));

    let csv = "upn,serial number,secret key,manufacturer,model\n";
    let e = CloudCsvReader::new(csv.as_bytes())
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(
        e.error,
        Error::MissingColumn {
            column: "time interval"
        }
    );
    let csv = "upn,serial number,secret key,time interval,time interval,manufacturer,model\n";
    let e = CloudCsvReader::new(csv.as_bytes())
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(
        e.error,
        Error::DuplicateColumn {
            column: "time interval"
        }
    );
}

#[test]
fn cloud_rows_are_checked() {
    let long = "A".repeat(129);
    let csv = format!(
        "upn,serial number,secret key,time interval,manufacturer,model\n\
         a@x,1,2234567abcdef2234567abcdef,60,C,M\n\
         a@x,2,1234567abcdef1234567abcdef,60,C,M\n\
         a@x,3,JBSWY3DPEHPK3PXP,45,C,M\n\
         ,4,JBSWY3DPEHPK3PXP,30,C,M\n\
         a@x,5,{long},30,C,M\n\
         a@x,6,JBSWY3DP,30,C,M\n\
         a@x,7,JBSWY3DPEHPK3PXP,30,C\n\
         a@x,8,ABCD8EFGHIJKLMNOP,30,C,M\n"
    );
    let rows: Vec<_> = CloudCsvReader::new(csv.as_bytes()).collect();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0].as_ref().unwrap().secret.len(), 16);
    let errs: Vec<(u64, Error)> = rows[1..]
        .iter()
        .map(|r| {
            let r = r.as_ref().unwrap_err();
            (r.location.line(), r.error.clone())
        })
        .collect();
    assert_eq!(
        errs,
        vec![
            (
                3,
                Error::Secret(mfa_oath::Error::Base32Char {
                    ch: '1',
                    position: 1
                })
            ),
            (
                4,
                Error::InvalidInterval {
                    value: "45".into(),
                    allowed: "30 or 60"
                }
            ),
            (5, Error::EmptyField { column: "upn" }),
            (6, Error::SecretTooLong { chars: 129 }),
            (
                7,
                Error::Secret(mfa_oath::Error::SecretTooShort { bits: 40 })
            ),
            (
                8,
                Error::FieldCount {
                    expected: 6,
                    found: 5
                }
            ),
            (
                9,
                Error::Secret(mfa_oath::Error::Base32Char {
                    ch: '8',
                    position: 5
                })
            ),
        ]
    );
    assert_eq!(
        rows[2].as_ref().unwrap_err().to_string(),
        "line 4 (serial \"3\"): time interval \"45\" is not allowed (expected 30 or 60)"
    );
}

#[test]
fn server_format_with_and_without_header_and_any_delimiter() {
    for (csv, first_line) in [
        (
            "1234567,JBSWY3DPEHPK3PXP,30\n7654321,JBSWY3DPEHPK3PXQ,60\n",
            1,
        ),
        (
            "Serial,Secret,Interval\r\n1234567,JBSWY3DPEHPK3PXP,30\r\n7654321,JBSWY3DPEHPK3PXQ,60\r\n",
            2,
        ),
        (
            "1234567;JBSWY3DPEHPK3PXP;30\n7654321;JBSWY3DPEHPK3PXQ;60\n",
            1,
        ),
        (
            "serial number\tsecret key\ttime interval\n1234567\tJBSWY3DPEHPK3PXP\t30\n\n7654321\tJBSWY3DPEHPK3PXQ\t60\n",
            2,
        ),
    ] {
        let mut r = ServerCsvReader::new(csv.as_bytes());
        let toks: Vec<_> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(toks.len(), 2, "{csv:?}");
        assert_eq!(toks[0].serial.as_deref(), Some("1234567"));
        assert_eq!(toks[0].period(), Some(30));
        assert_eq!(toks[1].period(), Some(60));
        assert_eq!(toks[0].location.line(), first_line);
        assert_eq!(r.header().is_some(), first_line == 2);
    }
}

#[test]
fn server_rows_are_checked() {
    let csv =
        "1,JBSWY3DPEHPK3PXP,0\n2,JBSWY3DPEHPK3PXP\n,JBSWY3DPEHPK3PXP,30\n4,JBSWY3DPEHPK3PX!,30\n";
    let errs: Vec<Error> = ServerCsvReader::new(csv.as_bytes())
        .map(|r| r.unwrap_err().error)
        .collect();
    assert_eq!(
        errs,
        vec![
            Error::InvalidInterval {
                value: "0".into(),
                allowed: "1 to 3600 seconds"
            },
            Error::FieldCount {
                expected: 3,
                found: 2
            },
            Error::EmptyField {
                column: "serial number"
            },
            Error::Secret(mfa_oath::Error::Base32Char {
                ch: '!',
                position: 16
            }),
        ]
    );
}

#[test]
fn bad_quoting_and_bad_utf8_stop_with_a_located_error() {
    let csv = b"1,JBSWY3DPEHPK3PXP,30\n2,\xff\xfe,30\n3,JBSWY3DPEHPK3PXP,30\n";
    let items: Vec<_> = ServerCsvReader::new(&csv[..]).collect();
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert!(matches!(e.error, Error::Csv { .. }), "{e}");
    assert_eq!(e.location.line(), 2);
    assert_eq!(items.len(), 2);
}

#[test]
fn row_limit() {
    let mut limits = Limits::default();
    limits.max_packages = 2;
    let csv = "1,JBSWY3DPEHPK3PXP,30\n2,JBSWY3DPEHPK3PXP,30\n3,JBSWY3DPEHPK3PXP,30\n4,JBSWY3DPEHPK3PXP,30\n";
    let items: Vec<_> = ServerCsvReader::with_limits(csv.as_bytes(), limits).collect();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[2].as_ref().unwrap_err().error,
        Error::LimitExceeded {
            kind: LimitKind::Packages,
            max: 2
        }
    );
}

#[test]
fn report_detects_duplicates_and_weak_keys_and_writes_a_safe_errors_csv() {
    let csv = "upn,serial number,secret key,time interval,manufacturer,model,Enabled\n\
               =cmd|' /C calc'!A0,1,JBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,true\n\
               b@x,1,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,true\n\
               c@x,2,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,90,@SUM(1+1),-2+3,true\n";
    let mut reader = CloudCsvReader::new(csv.as_bytes());
    let mut report = ImportReport::new();
    let accepted: Vec<_> = reader.by_ref().filter_map(|i| report.record(i)).collect();
    report.ignored_columns(reader.ignored_columns());
    assert_eq!(accepted.len(), 1);
    assert_eq!(report.accepted.len(), 1);
    assert_eq!(report.rejected.len(), 2);
    assert!(!report.is_incomplete());
    assert_eq!(
        report.warnings,
        vec![
            Warning::WeakSecret {
                location: Location::Row {
                    line: 2,
                    serial: Some("1".into())
                }
            },
            Warning::IgnoredColumn {
                column: "Enabled".into()
            },
        ]
    );
    // By default the secrets are withheld.
    let mut out = Vec::new();
    write_errors_csv(&mut out, reader.header(), &report.rejected).unwrap();
    let text = String::from_utf8(out).unwrap();
    let expected = "upn,serial number,secret key,time interval,manufacturer,model,Enabled,line,error\n\
b@x,1,,30,Contoso,HardwareKey,true,3,\"duplicate serial number \"\"1\"\" (first seen at line 2 (serial \"\"1\"\"))\"\n\
c@x,2,,90,'@SUM(1+1),'-2+3,true,4,\"time interval \"\"90\"\" is not allowed (expected 30 or 60)\"\n";
    assert_eq!(text, expected);
    // Asked for, they are written as uploaded.
    let mut out = Vec::new();
    mfa_import::write_errors_csv_with(
        &mut out,
        reader.header(),
        &report.rejected,
        mfa_import::ErrorsCsvOptions::new().with_secrets(true),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let expected = "upn,serial number,secret key,time interval,manufacturer,model,Enabled,line,error\n\
b@x,1,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,30,Contoso,HardwareKey,true,3,\"duplicate serial number \"\"1\"\" (first seen at line 2 (serial \"\"1\"\"))\"\n\
c@x,2,JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP,90,'@SUM(1+1),'-2+3,true,4,\"time interval \"\"90\"\" is not allowed (expected 30 or 60)\"\n";
    assert_eq!(text, expected);
    // Reading the errors CSV back: every cell that started with a formula
    // character now starts with a quote.
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
}

#[test]
fn errors_csv_for_pskc() {
    let xml = r#"<KeyContainer Version="1.0"><KeyPackage><DeviceInfo><SerialNo>=1+1</SerialNo></DeviceInfo>
      <Key Id="k" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:ocra"/></KeyPackage></KeyContainer>"#;
    let mut report = ImportReport::new();
    for item in mfa_import::PskcReader::new(xml.as_bytes(), mfa_import::PskcOptions::new()).tokens()
    {
        report.record(item);
    }
    let mut out = Vec::new();
    write_errors_csv(&mut out, None, &report.rejected).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "line,package,serial,key_id,error\n1,1,'=1+1,k,\"unsupported algorithm \"\"urn:ietf:params:xml:ns:keyprov:pskc:ocra\"\": only HOTP and TOTP tokens can be imported\"\n"
    );
}

#[test]
fn a_huge_record_is_stopped_before_it_is_buffered_whole() {
    let big = "A".repeat(20 << 20);
    let csv = format!("1,JBSWY3DPEHPK3PXP,30\n2,{big},30\n3,JBSWY3DPEHPK3PXP,30\n");
    let items: Vec<_> = ServerCsvReader::new(csv.as_bytes()).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(
        e.error,
        Error::LimitExceeded {
            kind: LimitKind::ValueBytes,
            max: 8 * 64 * 1024 + 4096
        }
    );
    assert_eq!(e.location.line(), 2);
}

#[test]
fn csv_document_size_limit() {
    let mut limits = Limits::default();
    limits.max_document_bytes = 30;
    let csv = "1,JBSWY3DPEHPK3PXP,30\n".repeat(1000);
    let items: Vec<_> = ServerCsvReader::with_limits(csv.as_bytes(), limits).collect();
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(
        last.error,
        Error::LimitExceeded {
            kind: LimitKind::DocumentBytes,
            max: 30
        }
    );
}
