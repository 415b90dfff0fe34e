//! mfa-import: streaming PSKC reader on a 100,000-package plain TOTP file,
//! beside python-pskc 1.4 reading the same file in the same run, and the
//! cloud CSV reader on 1,000,000 rows.
//!
//! `cargo bench -p mfa-benches --bench import`. python-pskc runs once
//! (it takes on the order of a minute) if `MFA_TEST_PYTHON` (or
//! `.venv/bin/python`) can import `pskc`; the bench prints both times and
//! the ratio, or a `SKIPPED:` line. Peak memory (10k vs 1M packages) is
//! measured by `crates/mfa-import/examples/pskc_rss.rs`; see
//! docs/benchmarks.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::indexing_slicing,
    missing_docs
)] // bench set-up

use std::hint::black_box;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mfa_import::{
    CloudCsvReader, ImportedToken, Protection, PskcOptions, PskcReader, PskcWriter, TokenKind,
};
use mfa_oath::{Secret, TotpParams, TotpState};

const PACKAGES: u64 = 100_000;
const ROWS: u64 = 1_000_000;

/// Deterministic filler (the file is plain; nothing here needs secrecy).
struct Lcg(u64);
impl rand_core::TryRng for Lcg {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for b in d {
            *b = (self.try_next_u64()? >> 33) as u8;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Lcg {}

fn write_pskc(path: &Path, n: u64) {
    let out = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PskcWriter::new(out, Protection::None, Lcg(1)).unwrap();
    let mut rng = Lcg(42);
    for i in 0..n {
        let mut secret = [0u8; 20];
        rand_core::TryRng::try_fill_bytes(&mut rng, &mut secret).unwrap();
        let mut t = ImportedToken::new(
            Secret::from_bytes(&secret).unwrap(),
            TokenKind::Totp {
                params: TotpParams::default(),
                state: TotpState::default(),
            },
        );
        t.serial = Some(format!("{:09}", 100_000_000 + i));
        t.manufacturer = Some("Contoso".to_owned());
        t.model = Some("HardwareKey".to_owned());
        w.write_token(&t).unwrap();
    }
    w.finish().unwrap().flush().unwrap();
}

fn read_pskc(path: &Path) -> usize {
    let input = BufReader::with_capacity(64 * 1024, std::fs::File::open(path).unwrap());
    PskcReader::new(input, PskcOptions::new())
        .tokens()
        .map(|t| t.map(|t| black_box(t.secret.len())))
        .filter(Result::is_ok)
        .count()
}

fn python() -> Option<String> {
    let candidates = [
        std::env::var("MFA_TEST_PYTHON").ok(),
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python").to_owned()),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import pskc"])
            .status()
            .is_ok_and(|s| s.success())
    })
}

const PY_READ: &str = r"
import sys, time
from pskc import PSKC
t = time.perf_counter()
pskc = PSKC(sys.argv[1])
n = 0
for k in pskc.keys:
    k.secret; k.serial; k.algorithm; k.time_interval; k.response_length
    n += 1
print(n, time.perf_counter() - t)
";

fn pskc(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("totp-100k.pskcxml");
    write_pskc(&path, PACKAGES);
    assert_eq!(read_pskc(&path), PACKAGES as usize);

    let mut g = c.benchmark_group("pskc_read_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("mfa-import", |b| b.iter(|| read_pskc(black_box(&path))));
    g.finish();

    // python-pskc, once, on the same file; our median from 5 timed runs in
    // this same process for the ratio.
    let mut ours: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            black_box(read_pskc(&path));
            t.elapsed().as_secs_f64()
        })
        .collect();
    ours.sort_by(f64::total_cmp);
    let ours = ours[2];
    match python() {
        None => {
            eprintln!("SKIPPED: python-pskc not found (set MFA_TEST_PYTHON); no ratio measured")
        }
        Some(py) => {
            let out = Command::new(&py)
                .args(["-W", "ignore", "-c", PY_READ, path.to_str().unwrap()])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let mut parts = text.split_whitespace();
            let n: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let secs: f64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            assert_eq!(
                n,
                PACKAGES,
                "python-pskc read {n} keys: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!(
                "pskc_read_100k: mfa-import {ours:.3} s (median of 5), python-pskc {secs:.3} s, ratio {:.1}x",
                secs / ours
            );
        }
    }
}

fn cloud_csv(c: &mut Criterion) {
    let mut csv = String::with_capacity(80 * ROWS as usize);
    csv.push_str("upn,serial number,secret key,time interval,manufacturer,model\n");
    let mut rng = Lcg(7);
    for i in 0..ROWS {
        let mut secret = [0u8; 20];
        rand_core::TryRng::try_fill_bytes(&mut rng, &mut secret).unwrap();
        let b32 = Secret::from_bytes(&secret).unwrap().to_base32();
        let interval = if i % 2 == 0 { 30 } else { 60 };
        csv.push_str(&format!(
            "user{i}@contoso.com,{},{},{interval},Contoso,HardwareKey\n",
            10_000_000 + i,
            b32.as_str()
        ));
    }
    let bytes = csv.into_bytes();
    let count = |b: &[u8]| CloudCsvReader::new(b).filter(Result::is_ok).count();
    assert_eq!(count(&bytes), ROWS as usize);

    let mut g = c.benchmark_group("csv_cloud_1m");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("mfa-import", |b| b.iter(|| count(black_box(&bytes))));
    g.finish();
}

criterion_group!(benches, pskc, cloud_csv);
criterion_main!(benches);
