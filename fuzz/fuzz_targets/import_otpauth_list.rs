//! The otpauth-list reader never panics; no rejection or warning shows the
//! `secret=` or `data=` value of its own line (they show labels and
//! redacted URIs only); the errors CSV never starts a formula.
//!
//! (A line's label is shown as it is, so a label that happens to spell out
//! another line's secret would be shown: the property is about each line's
//! own secret parameters.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_import::{ImportReport, OtpauthListReader, Warning, write_errors_csv};

/// The values of the `secret` / `data` parameters of a line, split as a
/// URI parser splits it (the query after the first `?`, on `&`), long
/// enough not to appear elsewhere by chance, and not also written elsewhere
/// on the same line (its label and other values are shown).
fn secrets_of(line: &str) -> Vec<String> {
    let Some((head, query)) = line.split_once('?') else {
        return Vec::new();
    };
    let is_secret = |seg: &str| {
        seg.split_once('=').is_some_and(|(name, _)| {
            let n = name.trim().to_ascii_lowercase();
            n == "secret" || n == "data"
        })
    };
    let mut public: Vec<&str> = query.split('&').filter(|s| !is_secret(s)).collect();
    public.push(head);
    query
        .split('&')
        .filter(|s| is_secret(s))
        .filter_map(|seg| seg.split_once('=').map(|(_, v)| v.to_owned()))
        // Base32 or base64 text, as real secrets and payloads are.
        .filter(|v| {
            v.len() >= 16
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=%".contains(&b))
                && !public.iter().any(|p| p.contains(v.as_str()))
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut report = ImportReport::new();
    for item in OtpauthListReader::new(data) {
        report.record(item);
    }
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    let own = |line: u64| -> Vec<String> {
        usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| lines.get(i))
            .map(|l| secrets_of(l))
            .unwrap_or_default()
    };
    for r in &report.rejected {
        let shown = format!("{r}\n{r:?}");
        for s in own(r.location.line()) {
            assert!(!shown.contains(s.as_str()), "own secret in a rejection");
        }
    }
    for w in &report.warnings {
        if let Warning::Uri { location, .. } = w {
            let shown = format!("{w}\n{w:?}");
            for s in own(location.line()) {
                assert!(!shown.contains(s.as_str()), "own secret in a warning");
            }
        }
    }
    let mut out = Vec::new();
    write_errors_csv(&mut out, None, &report.rejected).expect("writing to a Vec");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&out[..]);
    for rec in rdr.records() {
        let rec = rec.expect("our own CSV parses");
        let line: u64 = rec.get(0).and_then(|l| l.parse().ok()).unwrap_or(0);
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                "{cell:?}"
            );
            for s in own(line) {
                assert!(!cell.contains(s.as_str()), "own secret in the errors CSV");
            }
        }
    }
});
