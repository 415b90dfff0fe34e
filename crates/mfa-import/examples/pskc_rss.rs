//! Peak memory of streaming a large PSKC file, for docs/benchmarks.md.
//!
//! `pskc_rss gen N FILE` writes N plain TOTP KeyPackages to FILE (streaming);
//! `pskc_rss read FILE` reads every token and prints the count and the
//! process's peak resident set size (VmHWM from /proc/self/status; Linux).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufReader, BufWriter};

use mfa_import::{ImportedToken, Protection, PskcOptions, PskcReader, PskcWriter, TokenKind};
use mfa_oath::{Secret, TotpParams, TotpState};

/// Deterministic filler for IVs (the files are plain, so it is never used
/// for secrecy).
pub struct Counter(pub u64);
impl rand_core::TryRng for Counter {
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
impl rand_core::TryCryptoRng for Counter {}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let n: u64 = args[2].parse().unwrap();
            let out = BufWriter::new(std::fs::File::create(&args[3]).unwrap());
            let mut w = PskcWriter::new(out, Protection::None, Counter(1)).unwrap();
            let mut rng = Counter(42);
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
            w.finish().unwrap();
        }
        Some("read") => {
            let input = BufReader::with_capacity(64 * 1024, std::fs::File::open(&args[2]).unwrap());
            let mut ok = 0u64;
            let mut bad = 0u64;
            for t in PskcReader::new(input, PskcOptions::new()).tokens() {
                match t {
                    Ok(_) => ok += 1,
                    Err(_) => bad += 1,
                }
            }
            println!("tokens={ok} rejected={bad} peak_rss_kib={}", peak_rss_kib());
        }
        _ => println!("usage: pskc_rss gen N FILE | pskc_rss read FILE"),
    }
}
