//! Differential test against `oathtool` (OATH Toolkit, an independent C
//! implementation; Debian package `oathtool`): a few hundred random secrets,
//! times, periods, T0s, algorithms and digit counts must give the same codes.
//! oathtool supports 6 to 8 digits; 9 digits is covered by the RFC 4226
//! truncated values in `rfc_vectors.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::process::Command;

use mfa_oath::{Algorithm, Digits, Hotp, HotpParams, Period, Secret, Totp, TotpParams, UnixTime};

/// splitmix64: a tiny deterministic generator so failures replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn oathtool_available() -> bool {
    match Command::new("oathtool").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            mfa_test_support::skip!(
                "oathtool not found; install the Debian package `oathtool` (.ci/setup does) to run the differential test"
            );
            false
        }
    }
}

fn oathtool(args: &[String]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("run oathtool");
    assert!(
        out.status.success(),
        "oathtool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const CASES: usize = 300;

#[test]
fn totp_matches_oathtool() {
    if !oathtool_available() {
        return;
    }
    let seed = 0x6d66_612d_6b69_7401;
    let mut rng = Rng(seed);
    for case in 0..CASES {
        let algorithm =
            [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][rng.below(3) as usize];
        let len = 10 + rng.below(60) as usize;
        let key: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let digits = 6 + rng.below(3) as u32;
        let period = [30, 60, 1 + rng.below(300)][rng.below(3) as usize];
        let t0 = if rng.below(2) == 0 {
            0
        } else {
            rng.below(1_000_000_000)
        };
        let now = t0 + rng.below(4_000_000_000);
        let totp = Totp::new(
            Secret::from_bytes(&key).unwrap(),
            TotpParams {
                algorithm,
                digits: Digits::new(digits).unwrap(),
                period: Period::new(period).unwrap(),
                t0: UnixTime::from_secs(t0),
            },
        );
        // Half the cases pass the key as base32, to check our canonical form too.
        let mut args = vec![
            format!("--totp={}", algorithm.name().to_lowercase()),
            format!("--digits={digits}"),
            format!("--time-step-size={period}s"),
            format!("--start-time=@{t0}"),
            format!("--now=@{now}"),
        ];
        if case % 2 == 0 {
            args.push(hex(&key));
        } else {
            args.push("--base32".into());
            args.push(totp.secret().to_base32().to_string());
        }
        let ours = totp.generate(UnixTime::from_secs(now)).unwrap().to_string();
        assert_eq!(
            ours,
            oathtool(&args),
            "case {case} (seed {seed:#x}): {args:?}"
        );
    }
}

#[test]
fn hotp_matches_oathtool() {
    if !oathtool_available() {
        return;
    }
    let seed = 0x6d66_612d_6b69_7402;
    let mut rng = Rng(seed);
    for case in 0..CASES {
        let len = 10 + rng.below(60) as usize;
        let key: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let digits = 6 + rng.below(3) as u32;
        let counter = if rng.below(4) == 0 {
            rng.next() >> 1
        } else {
            rng.below(1_000_000)
        };
        let hotp = Hotp::new(
            Secret::from_bytes(&key).unwrap(),
            HotpParams {
                algorithm: Algorithm::Sha1,
                digits: Digits::new(digits).unwrap(),
            },
        );
        let args = vec![
            "--hotp".to_string(),
            format!("--digits={digits}"),
            format!("--counter={counter}"),
            hex(&key),
        ];
        assert_eq!(
            hotp.generate(counter).to_string(),
            oathtool(&args),
            "case {case} (seed {seed:#x}): {args:?}"
        );
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
