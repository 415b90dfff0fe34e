//! The authentication log CSV reader on arbitrary bytes: never a panic;
//! whatever it accepts, writing it back and reading again gives the same
//! rows, and no written cell starts a spreadsheet formula.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_record::{CsvLimits, FieldPolicy, LogCsvWriter, read_log_csv};

fuzz_target!(|data: &[u8]| {
    let mut limits = CsvLimits::default();
    limits.max_bytes = 64 * 1024;
    limits.max_rows = 1000;
    let Ok(rows) = read_log_csv(data, &limits) else {
        return;
    };
    let mut w = LogCsvWriter::new(Vec::new(), &FieldPolicy::all()).expect("write to Vec");
    for row in &rows {
        w.write_row(row).expect("write to Vec");
    }
    let out = w.finish().expect("write to Vec");
    let again = read_log_csv(&out[..], &CsvLimits::default()).expect("our own output reads back");
    assert_eq!(again, rows);

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&out[..]);
    for rec in reader.records() {
        for cell in rec.expect("our own output is valid CSV").iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']),
                "formula cell {cell:?}"
            );
        }
    }
});
