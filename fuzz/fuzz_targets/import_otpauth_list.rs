//! The otpauth-list reader never panics; an accepted token's secret never
//! appears in any rejection, warning or errors-CSV text (they show labels
//! and redacted URIs only); the errors CSV never starts a formula.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_import::{ImportReport, OtpauthListReader, write_errors_csv_without_secrets};

fuzz_target!(|data: &[u8]| {
    let mut report = ImportReport::new();
    let mut secrets = Vec::new();
    for item in OtpauthListReader::new(data) {
        if let Some(token) = report.record(item) {
            secrets.push(token.secret.to_base32().to_string());
        }
    }
    let mut text = String::new();
    for r in &report.rejected {
        text.push_str(&format!("{r}\n{r:?}\n"));
    }
    for w in &report.warnings {
        text.push_str(&format!("{w}\n{w:?}\n"));
    }
    let mut out = Vec::new();
    write_errors_csv_without_secrets(&mut out, None, &report.rejected).expect("writing to a Vec");
    text.push_str(&String::from_utf8_lossy(&out));
    for s in &secrets {
        // Short secrets could match by chance; 26 base32 characters cannot.
        if s.len() >= 26 {
            assert!(!text.contains(s.as_str()), "secret in the output");
        }
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&out[..]);
    for rec in rdr.records() {
        for cell in rec.expect("our own CSV parses").iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']), "{cell:?}");
        }
    }
});
