//! The cloud CSV reader never panics; every accepted token's secret survives
//! base32 out and in; the report and the errors CSV handle any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_import::{ImportReport, write_errors_csv};

fuzz_target!(|data: &[u8]| {
    let mut reader = mfa_import::CloudCsvReader::new(data);
    let mut report = ImportReport::new();
    while let Some(item) = reader.next() {
        if let Some(token) = report.record(item) {
            let again =
                mfa_oath::Secret::from_base32(&token.secret.to_base32()).expect("canonical base32");
            assert!(again.ct_eq(&token.secret));
            assert!(
                matches!(token.period(), Some(30 | 60)),
                "the cloud format allows 30 or 60 only"
            );
        }
    }
    let mut out = Vec::new();
    write_errors_csv(&mut out, reader.header(), &report.rejected).expect("writing to a Vec");
    // Nothing in the errors CSV may start a formula.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&out[..]);
    for rec in rdr.records() {
        for cell in rec.expect("our own CSV parses").iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
});
