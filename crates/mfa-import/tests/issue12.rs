//! Token files as they really are (issue 12): each class with a file or URI
//! from a real source (`tests/data/README.md`, the shared corpus), for the
//! right result and for the refusal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{corpus, data};
use mfa_import::{
    Error, ImportReport, ImportedToken, Location, OtpauthListReader, Protection, PskcOptions,
    PskcReader, PskcWriter, Rejection, ServerCsvReader, Warning, parse_migration_payload,
    parse_migration_uri, write_errors_csv,
};
use mfa_oath::{Algorithm, UriWarning};

struct TestRng(u64);
impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

fn import_pskc(xml: &[u8]) -> (Vec<ImportedToken>, ImportReport) {
    let mut reader = PskcReader::new(xml, PskcOptions::new());
    let mut report = ImportReport::new();
    let mut tokens = Vec::new();
    for item in reader.by_ref().map(|k| k.and_then(|k| k.to_token())) {
        tokens.extend(report.record(item));
    }
    report.add_warnings(reader.warnings());
    (tokens, report)
}

fn import_list(text: &[u8]) -> (Vec<ImportedToken>, ImportReport) {
    let mut report = ImportReport::new();
    let tokens = OtpauthListReader::new(text)
        .filter_map(|i| report.record(i))
        .collect();
    (tokens, report)
}

// ----- 1. validity period -----

#[test]
fn validity_period_of_rfc6030_figure10_is_read_and_written_back() {
    let (tokens, report) = import_pskc(&corpus("rfc6030/figure10.pskcxml"));
    assert!(report.is_clean(), "{:?}", report.rejected);
    // 2006-05-01T00:00:00Z and 2006-05-31T00:00:00Z.
    assert_eq!(tokens[0].not_before, Some(1_146_441_600));
    assert_eq!(tokens[0].not_after, Some(1_149_033_600));
    assert_eq!(
        tokens[3].not_before,
        mfa_import::parse_date("2006-04-01T00:00:00Z")
    );

    // Written back with manufacturer, issuer, counter and dates; read again.
    let mut w = PskcWriter::new(Vec::new(), Protection::None, TestRng(1)).unwrap();
    for t in &tokens {
        w.write_token(t).unwrap();
    }
    let xml = w.finish().unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(text.contains("<pskc:StartDate>2006-05-01T00:00:00Z</pskc:StartDate>"));
    assert!(text.contains("<pskc:ExpiryDate>2006-05-31T00:00:00Z</pskc:ExpiryDate>"));
    let (again, report) = import_pskc(&xml);
    assert!(report.is_clean(), "{:?}", report.rejected);
    for (a, b) in tokens.iter().zip(&again) {
        assert_eq!(a.not_before, b.not_before);
        assert_eq!(a.not_after, b.not_after);
        assert_eq!(a.manufacturer, b.manufacturer);
        assert_eq!(a.issuer, b.issuer);
        assert_eq!(a.serial, b.serial);
        assert_eq!(a.key_id, b.key_id);
        assert_eq!(a.next_counter(), b.next_counter());
        assert_eq!(a.digits(), b.digits());
        assert!(a.secret.ct_eq(&b.secret));
    }
}

#[test]
fn dates_with_zones_and_fractions_are_read_as_the_instant_they_name() {
    let same = [
        "2006-05-01T00:00:00Z",
        "2006-05-01T02:00:00+02:00",
        "2006-04-30T19:00:00-05:00",
        "2006-04-30T19:00:00-0500",
        "2006-05-01T00:00:00.000Z",
        "2006-05-01T00:00:00.999999Z",
        "2006-05-01T00:00:00",
        "2006-05-01",
        "2006-05-01Z",
        "05/01/2006",
    ];
    for d in same {
        assert_eq!(mfa_import::parse_date(d), Some(1_146_441_600), "{d}");
    }
    for bad in [
        "2006-02-30T00:00:00Z",
        "2006-13-01",
        "2006-05-01T25:00:00Z",
        "2006-05-01T12:60:00Z",
        "2006-05-01T24:00:01Z",
        "2006-05-01T00:00:00.Z",
        "2006-05-01T00:00:00.5x",
        "2006-05-01T00:00:00+15:00",
        "2006-5-1",
        "yesterday",
        "",
    ] {
        assert_eq!(mfa_import::parse_date(bad), None, "{bad}");
    }
    assert_eq!(mfa_import::parse_date("2004-02-29"), Some(1_078_012_800));
    assert_eq!(mfa_import::parse_date("2100-02-29"), None);
}

#[test]
fn an_invalid_date_rejects_that_key_naming_its_line() {
    let xml = String::from_utf8(corpus("rfc6030/figure10.pskcxml"))
        .unwrap()
        .replacen("2006-05-31T00:00:00Z", "2006-02-30T00:00:00Z", 1);
    let (tokens, report) = import_pskc(xml.as_bytes());
    assert_eq!(tokens.len(), 3);
    assert_eq!(report.rejected.len(), 1);
    let r = &report.rejected[0];
    assert!(!r.is_fatal());
    assert_eq!(
        r.to_string(),
        "KeyPackage #1 (line 9, serial \"654321\", key \"1\"): <ExpiryDate> value \"2006-02-30T00:00:00Z\" is not a date"
    );
}

// ----- 2. a truncated or malformed document is fatal -----

#[test]
fn a_truncated_document_is_fatal_with_line_and_offset() {
    let full = corpus("rfc6030/figure10.pskcxml");
    let cut = &full[..full.len() / 2];
    let (tokens, report) = import_pskc(cut);
    // Whatever came before is not a partial import: the report says fatal.
    assert!(!tokens.is_empty());
    let fatal = report.fatal().expect("fatal");
    assert!(matches!(fatal.error, Error::Truncated { .. }), "{fatal}");
    match fatal.location {
        Location::Position { line, offset } => {
            assert_eq!(offset, cut.len() as u64);
            assert_eq!(line, 1 + cut.iter().filter(|&&b| b == b'\n').count() as u64);
        }
        ref other => panic!("{other:?}"),
    }
    assert!(fatal.to_string().contains("byte offset"), "{fatal}");
    assert!(report.is_incomplete());
    assert_eq!(report.rejected_rows().count(), 0);
}

#[test]
fn malformed_xml_in_the_middle_is_fatal() {
    let xml = String::from_utf8(corpus("rfc6030/figure10.pskcxml"))
        .unwrap()
        .replacen("</Issuer>", "</Issuerx>", 2);
    let (_, report) = import_pskc(xml.as_bytes());
    let fatal = report.fatal().expect("fatal");
    assert!(matches!(fatal.error, Error::XmlSyntax { .. }), "{fatal}");
    assert!(fatal.location.offset().is_some());
}

#[test]
fn anything_before_the_xml_declaration_is_fatal() {
    let good = corpus("rfc6030/figure10.pskcxml");
    for prefix in [&b"\n"[..], b" ", b"\r\n", b"<!-- c -->"] {
        let mut xml = prefix.to_vec();
        xml.extend_from_slice(&good);
        let (tokens, report) = import_pskc(&xml);
        assert!(tokens.is_empty());
        let fatal = report.fatal().expect("fatal");
        assert_eq!(
            fatal.error,
            Error::ContentBeforeDeclaration {
                bytes: prefix.len() as u64
            }
        );
    }
    // A byte order mark is not content.
    let mut xml = b"\xEF\xBB\xBF".to_vec();
    xml.extend_from_slice(&good);
    let (tokens, report) = import_pskc(&xml);
    assert!(report.is_clean(), "{:?}", report.rejected);
    assert_eq!(tokens.len(), 4);
}

// ----- 3. several keys for one device -----

#[test]
fn several_keys_of_one_device_get_distinct_identities() {
    // RFC 6030 Figure 10: serial 9999999 has keys 3 and 4.
    let (tokens, report) = import_pskc(&corpus("rfc6030/figure10.pskcxml"));
    assert!(report.is_clean(), "{:?}", report.rejected);
    let ids: Vec<_> = tokens.iter().map(|t| t.identity().unwrap()).collect();
    assert_eq!(ids, ["654321", "123456", "9999999", "9999999:4"]);
    assert_eq!(tokens[3].serial.as_deref(), Some("9999999"));
}

#[test]
fn the_same_serial_and_key_id_twice_is_a_true_duplicate() {
    let xml = String::from_utf8(corpus("rfc6030/figure10.pskcxml"))
        .unwrap()
        .replacen("Id=\"4\"", "Id=\"3\"", 1);
    let (tokens, report) = import_pskc(xml.as_bytes());
    assert_eq!(tokens.len(), 3);
    assert_eq!(report.rejected.len(), 1);
    assert!(matches!(
        report.rejected[0].error,
        Error::DuplicateSerial { .. }
    ));
}

// ----- 5. signatures -----

#[test]
fn a_signed_file_is_reported_as_not_checked() {
    let xml = corpus("rfc6030/figure9.pskcxml");
    let mut reader = PskcReader::new(&xml[..], PskcOptions::new());
    let items: Vec<_> = reader.by_ref().collect();
    assert!(!items.is_empty());
    assert!(reader.is_signed());
    let (_, report) = import_pskc(&xml);
    assert!(report.warnings.contains(&Warning::SignatureNotChecked));
    assert!(
        Warning::SignatureNotChecked
            .to_string()
            .contains("NOT checked")
    );
    // An unsigned file has no such warning.
    let (_, report) = import_pskc(&corpus("rfc6030/figure10.pskcxml"));
    assert!(!report.warnings.contains(&Warning::SignatureNotChecked));
}

// ----- 6 and 7. otpauth URIs as apps write them -----

#[test]
fn aegis_plain_text_export() {
    let (tokens, report) = import_list(&data("aegis_plain.txt"));
    assert_eq!(tokens.len(), 6);
    let air = &tokens[4];
    assert_eq!(air.issuer.as_deref(), Some("Air Canada"));
    assert_eq!(air.identity(), Some("Air Canada:Benjamin"));
    assert_eq!(air.next_counter(), Some(50));
    assert_eq!(air.algorithm(), Algorithm::Sha256);
    assert_eq!(air.digits().get(), 7);
    assert_eq!(tokens[2].period(), Some(50));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Steam (5 digits, its own algorithm) is refused, that line only.
    assert_eq!(report.rejected.len(), 1);
    let r = &report.rejected[0];
    assert_eq!(r.location.line(), 7);
    assert!(matches!(
        r.error,
        Error::InvalidUri(mfa_oath::UriError::Type(_))
    ));
    assert!(!r.to_string().contains("JRZCL47CMXVOQMNPZR2F7J4RGI"));
}

#[test]
fn ente_auth_export_is_read_with_warnings() {
    let (tokens, report) = import_list(&data("ente_auth.txt"));
    assert_eq!(tokens.len(), 6);
    let wwe = tokens
        .iter()
        .find(|t| t.issuer.as_deref() == Some("WWE"))
        .unwrap();
    assert_eq!(wwe.algorithm(), Algorithm::Sha512);
    assert_eq!(wwe.next_counter(), Some(10300));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    match &report.warnings[0] {
        Warning::Uri { location, warning } => {
            assert_eq!(location.line(), 7);
            assert_eq!(
                *warning,
                UriWarning::IgnoredParameter {
                    name: "period",
                    kind: "hotp"
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.rejected.len(), 1); // Steam
}

#[test]
fn strict_where_it_matters() {
    let text = "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5\n\
                otpauth://totp/b?secret=JBSW1Y3DPEHPK3PXP\n\
                otpauth://totp/c?secret=JBSWY3DPEHPK3PXP&digits=6&digits=8\n\
                not a uri JBSWY3DPEHPK3PXP\n";
    let (tokens, report) = import_list(text.as_bytes());
    assert!(tokens.is_empty());
    let lines: Vec<_> = report.rejected.iter().map(|r| r.location.line()).collect();
    assert_eq!(lines, [1, 2, 3, 4]);
    assert!(matches!(report.rejected[3].error, Error::NotAnOtpauthUri));
    assert!(report.rejected.iter().all(|r| !r.is_fatal()));
}

// ----- 8. Google Authenticator migration -----

#[test]
fn google_authenticator_migration_lines_decode_as_their_otpauth_uris() {
    let (tokens, report) = import_list(&data("extract_otp_secrets_example_export.txt"));
    // The decoded URIs, as extract_otp_secrets itself lists them.
    let (expected, _) = import_list(&data("extract_otp_secrets_url_list_output.txt"));
    assert_eq!(tokens.len() + report.rejected.len(), 6);
    assert_eq!(expected.len() + 2, 6); // the same label thrice: duplicates there too
    for t in &tokens {
        assert_eq!(t.secret.to_base32().as_str(), "7KSQL2JTUDIS5EF65KLMRQIIGY");
    }
    let hotp = tokens.iter().find(|t| !t.is_totp()).unwrap();
    assert_eq!(hotp.identity(), Some("hotp demo"));
    assert_eq!(hotp.next_counter(), Some(4));
    let utf8 = tokens.last().unwrap();
    assert_eq!(utf8.identity(), Some("encoding:¿äÄéÉ? (demo)"));
    // The same account exported three times is a duplicate, not a new token.
    assert!(
        report
            .rejected
            .iter()
            .all(|r| matches!(r.error, Error::DuplicateSerial { .. }))
    );
    assert!(matches!(
        report.rejected[0].location,
        Location::Entry {
            line: 11,
            entry: 1,
            ..
        }
    ));
}

#[test]
fn migration_data_with_literal_plus_and_slash() {
    let (tokens, report) = import_list(&data("extract_otp_secrets_plus_problem.txt"));
    assert!(report.is_clean(), "{:?}", report.rejected);
    let ids: Vec<_> = tokens.iter().map(|t| t.identity().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "SerenityLabs:test1@serenitylabs.co.uk",
            "SerenityLabs:test2@serenitylabs.co.uk",
            "SerenityLabs:test3@serenitylabs.co.uk",
            "SerenityLabs:test4@serenitylabs.co.uk"
        ]
    );
    let batch = parse_migration_uri(
        std::str::from_utf8(&data("extract_otp_secrets_plus_problem.txt")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (batch.version, batch.batch_size, batch.batch_index),
        (1, 1, 0)
    );
}

#[test]
fn migration_uri_on_its_own() {
    let text = String::from_utf8(data("dim13_otpauth_convert_test.txt")).unwrap();
    let batch = parse_migration_uri(text.trim()).unwrap();
    let e = batch.entries[0].as_ref().unwrap();
    assert_eq!(e.uri.label(), "Example:alice@google.com");
    assert_eq!(e.uri.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
    assert!(matches!(e.uri.kind, mfa_oath::OtpKind::Totp { .. }));
}

#[test]
fn migration_refusals() {
    // extract_otp_secrets' "wrong data" file: a per-line error, not fatal.
    let (tokens, report) = import_list(&data("extract_otp_secrets_wrong_data.txt"));
    assert!(tokens.is_empty());
    assert_eq!(report.rejected.len(), 1);
    assert!(matches!(
        report.rejected[0].error,
        Error::InvalidMigration { .. }
    ));
    assert!(!report.rejected[0].is_fatal());
    assert!(report.rejected[0].to_string().contains("data=REDACTED"));

    // dim13's payload with the algorithm set to MD5 (4) and to 9: that
    // entry is refused with the field and the value.
    let text = String::from_utf8(data("dim13_otpauth_convert_test.txt")).unwrap();
    let b64 = text.trim().split("data=").nth(1).unwrap();
    let mut bytes = data_encoding::BASE64.decode(b64.as_bytes()).unwrap();
    // Payload field 1 (0x0A, length 0x31) holds the OtpParameters, which
    // end with field 6 (type) = 0x30 0x02. Insert algorithm (field 4, 0x20).
    assert_eq!(&bytes[..2], [0x0A, 0x31]);
    let at = bytes.len() - 2;
    for (value, expect) in [(4u8, 4), (9, 9)] {
        let mut b = bytes.clone();
        b.splice(at..at, [0x20, value]);
        b[1] += 2;
        let batch = parse_migration_payload(&b).unwrap();
        assert_eq!(
            batch.entries[0].as_ref().err(),
            Some(&Error::MigrationValue {
                field: "algorithm",
                value: expect
            })
        );
    }
    // Type unspecified: remove the type field.
    bytes.truncate(at);
    bytes[1] -= 2;
    let batch = parse_migration_payload(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        batch.entries[0].as_ref().err(),
        Some(&Error::MigrationValue {
            field: "type",
            value: 0
        })
    );
    // Not a payload at all.
    assert!(matches!(
        parse_migration_payload(b"\x0a\xff"),
        Err(Error::InvalidMigration { .. })
    ));
}

// ----- 9. a secret never appears in output -----

/// Every way a value of the import can be shown.
fn all_output(items: &[Result<ImportedToken, Rejection>], report: &ImportReport) -> String {
    let mut out = String::new();
    for i in items {
        match i {
            Ok(t) => out.push_str(&format!("{t:?}\n{}\n", t.location)),
            Err(r) => out.push_str(&format!("{r}\n{r:?}\n")),
        }
    }
    out.push_str(&format!("{report:?}\n"));
    for r in &report.rejected {
        out.push_str(&format!("{r}\n{}\n", r.error));
    }
    for w in &report.warnings {
        out.push_str(&format!("{w}\n{w:?}\n"));
    }
    out
}

fn secrets_of(text: &str) -> Vec<String> {
    text.split(['?', '&'])
        .filter_map(|p| {
            p.strip_prefix("secret=")
                .or_else(|| p.strip_prefix("data="))
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| s.len() >= 4)
        .collect()
}

#[test]
fn no_secret_in_any_output_of_an_otpauth_file_read_as_csv_or_as_a_list() {
    for file in [
        "aegis_plain.txt",
        "ente_auth.txt",
        "extract_otp_secrets_example_export.txt",
        "extract_otp_secrets_wrong_data.txt",
    ] {
        let input = data(file);
        let text = String::from_utf8(input.clone()).unwrap();
        let secrets = secrets_of(&text);
        assert!(!secrets.is_empty());

        // Read as the server CSV (what `mfa import` did before).
        let mut csv = ServerCsvReader::new(&input[..]);
        let mut report = ImportReport::new();
        let mut items = Vec::new();
        for i in csv.by_ref() {
            items.push(i.clone());
            report.record(i);
        }
        let mut out = all_output(&items, &report);
        let mut errors = Vec::new();
        write_errors_csv(&mut errors, csv.header(), &report.rejected).unwrap();
        out.push_str(&String::from_utf8(errors).unwrap());

        // Read as an otpauth list, with a broken line added.
        let broken = format!("{text}otpauth://totp/x?secret=JBSWY3DPEHPK3PX1&digits=6\n");
        let items: Vec<_> = OtpauthListReader::new(broken.as_bytes()).collect();
        let mut report = ImportReport::new();
        for i in items.clone() {
            report.record(i);
        }
        out.push_str(&all_output(&items, &report));
        let mut errors = Vec::new();
        write_errors_csv(&mut errors, None, &report.rejected).unwrap();
        out.push_str(&String::from_utf8(errors).unwrap());

        for s in secrets.iter().chain([&"JBSWY3DPEHPK3PX1".to_owned()]) {
            assert!(
                !out.contains(s.as_str()),
                "{file}: secret {s} in the output:\n{out}"
            );
        }
        // Base32 of the migration secrets as well.
        assert!(!out.contains("7KSQL2JTUDIS5EF65KLMRQIIGY"), "{file}");
    }
}

#[test]
fn malformed_csv_is_fatal_too() {
    // A quote left open: later row boundaries cannot be trusted.
    let csv = "1234567,JBSWY3DPEHPK3PXP,30\n\"7654321,JBSWY3DPEHPK3PXP,30\n1,JBSWY3DPEHPK3PXP,30\n";
    let bytes = [&csv.as_bytes()[..40], b"\xff\xfe", &csv.as_bytes()[40..]].concat();
    let mut report = ImportReport::new();
    let tokens: Vec<_> = ServerCsvReader::new(&bytes[..])
        .filter_map(|i| report.record(i))
        .collect();
    assert_eq!(tokens.len(), 1);
    let fatal = report.fatal().expect("fatal");
    assert!(matches!(fatal.error, Error::Csv { .. }), "{fatal}");
    assert!(fatal.location.offset().is_some(), "{fatal}");
}

#[test]
fn a_misspelt_secret_parameter_is_redacted_too() {
    let text = "otpauth://totp/a?scret=JBSWY3DPEHPK3PXPJBSWY3DP\n";
    let (tokens, report) = import_list(text.as_bytes());
    assert!(tokens.is_empty());
    let shown = report.rejected[0].to_string();
    assert!(!shown.contains("JBSWY3DPEHPK3PXP"), "{shown}");
    assert!(shown.contains("scret=REDACTED"), "{shown}");
}
