//! Differential test of the otpauth URI parser against pyotp's `parse_uri`
//! (PyPI `pyotp`, an independent implementation): proptest generates URIs
//! from a grammar of valid and edge-case parts, one Python process parses
//! them all, and every case where the two disagree must be one of the
//! differences recorded (with why) in `docs/formats.md`. Unexplained
//! disagreements fail the test.
//!
//! Needs pyotp in the project venv (`MFA_TEST_PYTHON`, else
//! `.venv/bin/python` at the workspace root; `.ci/setup` installs it).
//! Without it the test prints `SKIPPED:` (and fails under `CI=true`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

use mfa_oath::{OtpAuthUri, OtpKind};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

fn python() -> Option<String> {
    let py = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../.venv/bin/python")
            .display()
            .to_string()
    });
    let ok = Command::new(&py)
        .args(["-c", "import pyotp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        mfa_test_support::skip!("{py} cannot import pyotp (.ci/setup installs it)");
        return None;
    }
    Some(py)
}

#[derive(Debug, Clone)]
struct Case {
    kind: &'static str,
    issuer: Option<String>,
    /// 0 absent, 1 same as the label's, 2 different, 3 empty.
    issuer_param: u8,
    other_issuer: String,
    plus_for_space: bool,
    encoded_separator: bool,
    account: String,
    /// 0 valid, 1 lower case, 2 padded, 3 invalid character, 4 too short, 5 absent.
    secret_form: u8,
    secret: Vec<u8>,
    algorithm: Option<&'static str>,
    digits: Option<&'static str>,
    period: Option<&'static str>,
    counter: Option<u64>,
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9@._é-]([A-Za-z0-9 @._é-]{0,8}[A-Za-z0-9@._é-])?"
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop::sample::select(vec!["totp", "totp", "totp", "hotp", "hotp", "hotp", "TOTP"]),
            prop::option::of(word()),
            prop::sample::select(vec![0u8, 0, 1, 1, 1, 2, 3]),
            word(),
            any::<bool>(),
            prop::bool::weighted(0.1),
            word(),
        ),
        (
            prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]),
            prop::collection::vec(any::<u8>(), 10..40),
            prop::sample::select(vec![
                None,
                None,
                Some("SHA1"),
                Some("SHA256"),
                Some("SHA512"),
                Some("SHA256"),
                Some("sha256"),
                Some("MD5"),
            ]),
            prop::sample::select(vec![
                None,
                None,
                None,
                Some("6"),
                Some("7"),
                Some("8"),
                Some("8"),
                Some("9"),
                Some("5"),
                Some(""),
            ]),
            prop::sample::select(vec![None, None, None, Some("30"), Some("60"), Some("0")]),
            prop::option::weighted(0.6, 0u64..100_000),
        ),
    )
        .prop_map(
            |(
                (
                    kind,
                    issuer,
                    issuer_param,
                    other_issuer,
                    plus_for_space,
                    encoded_separator,
                    account,
                ),
                (secret_form, secret, algorithm, digits, period, counter),
            )| {
                // Mostly the parameter that belongs to the type.
                let hotp = kind == "hotp";
                let (period, counter) = match (hotp, counter) {
                    (true, Some(c)) if c % 5 != 0 => (None, Some(c)),
                    (false, Some(c)) if c % 5 != 0 => (period, None),
                    _ => (period, counter),
                };
                Case {
                    kind,
                    issuer,
                    issuer_param,
                    other_issuer,
                    plus_for_space,
                    encoded_separator,
                    account,
                    secret_form,
                    secret,
                    algorithm,
                    digits,
                    period,
                    counter,
                }
            },
        )
}

impl Case {
    fn param_issuer(&self) -> Option<String> {
        match self.issuer_param {
            1 => Some(
                self.issuer
                    .clone()
                    .unwrap_or_else(|| self.other_issuer.clone()),
            ),
            2 => Some(self.other_issuer.clone()),
            3 => Some(String::new()),
            _ => None,
        }
    }

    fn uri(&self) -> String {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut u = format!("otpauth://{}/", self.kind);
        if let Some(i) = &self.issuer {
            u.push_str(&enc(i));
            u.push_str(if self.encoded_separator { "%3A" } else { ":" });
        }
        u.push_str(&enc(&self.account));
        let mut params = Vec::new();
        let b32 = data_encoding::BASE32_NOPAD.encode(&self.secret);
        match self.secret_form {
            0 => params.push(format!("secret={b32}")),
            1 => params.push(format!("secret={}", b32.to_ascii_lowercase())),
            2 => params.push(format!(
                "secret={}",
                data_encoding::BASE32.encode(&self.secret)
            )),
            3 => params.push(format!("secret=1{}", &b32[1..])),
            4 => params.push(format!(
                "secret={}",
                data_encoding::BASE32_NOPAD.encode(&self.secret[..5])
            )),
            _ => {}
        }
        if let Some(i) = self.param_issuer() {
            let v = if self.plus_for_space {
                enc(&i).replace("%20", "+")
            } else {
                enc(&i)
            };
            params.push(format!("issuer={v}"));
        }
        if let Some(a) = self.algorithm {
            params.push(format!("algorithm={a}"));
        }
        if let Some(d) = self.digits {
            params.push(format!("digits={d}"));
        }
        if let Some(p) = self.period {
            params.push(format!("period={p}"));
        }
        if let Some(c) = self.counter {
            params.push(format!("counter={c}"));
        }
        if !params.is_empty() {
            u.push('?');
            u.push_str(&params.join("&"));
        }
        u
    }

    /// The recorded differences that may apply to this case (see
    /// docs/formats.md, "otpauth URIs compared with pyotp").
    fn reasons(&self) -> Vec<&'static str> {
        let hotp = self.kind.eq_ignore_ascii_case("hotp");
        let mut r = Vec::new();
        if self.issuer.is_some()
            && self.issuer_param == 2
            && self.issuer.as_deref() != Some(self.other_issuer.as_str())
        {
            r.push("issuer mismatch: we warn and take the parameter, pyotp refuses");
        }
        if self.algorithm == Some("sha256") {
            r.push("algorithm in lower case: we accept, pyotp refuses");
        }
        if self.digits == Some("9") {
            r.push("9 digits: we accept (RFC 4226 allows 6 to 9), pyotp refuses");
        }
        if self.digits == Some("") {
            r.push("empty digits=: we refuse, pyotp ignores it");
        }
        if self.kind == "TOTP" {
            r.push("type in upper case: we accept, pyotp refuses");
        }
        if (hotp && self.period.is_some()) || (!hotp && self.counter.is_some()) {
            r.push("period on hotp / counter on totp: we ignore it with a warning, pyotp raises TypeError");
        }
        if hotp && self.counter.is_none() {
            r.push("hotp without counter: we refuse, pyotp assumes 0");
        }
        if matches!(self.secret_form, 3 | 4) {
            r.push("invalid or short secret: we refuse at parse time, pyotp accepts until a code is generated");
        }
        if matches!(self.secret_form, 0..=2) && self.secret.len() < 14 {
            r.push("secret of 80 to 111 bits: we accept it (flagged weak), pyotp 2.12 refuses under 112");
        }
        if self.period == Some("0") && !hotp {
            r.push("period=0: we refuse, pyotp accepts");
        }
        if self.encoded_separator && self.issuer.is_some() {
            r.push("%3A as the only label separator: we split issuer:account there, pyotp keeps one name");
        }
        r
    }
}

const PY: &str = r#"
import sys, json, pyotp
for line in open(sys.argv[1], encoding='utf-8'):
    uri = line.rstrip('\n')
    try:
        o = pyotp.parse_uri(uri)
        d = dict(ok=True, kind=type(o).__name__.lower(), issuer=o.issuer, name=o.name,
                 secret=o.secret.upper().replace('=', ''), digits=o.digits,
                 algorithm=o.digest().name.upper().replace('SHA', 'SHA'),
                 period=getattr(o, 'interval', None), counter=getattr(o, 'initial_count', None))
    except Exception as e:
        d = dict(ok=False, err=type(e).__name__ + ': ' + str(e))
    print(json.dumps(d, ensure_ascii=False))
"#;

/// Our result in pyotp's shape.
fn ours(uri: &str) -> serde_json::Value {
    match OtpAuthUri::parse(uri) {
        Err(e) => serde_json::json!({ "ok": false, "err": e.to_string() }),
        Ok(u) => {
            let (kind, period, counter) = match u.kind {
                OtpKind::Totp { period } => ("totp", Some(period.seconds()), None),
                OtpKind::Hotp { counter } => ("hotp", None, Some(counter)),
                _ => unreachable!(),
            };
            serde_json::json!({
                "ok": true, "kind": kind, "issuer": u.issuer, "name": u.account,
                "secret": u.secret.to_base32().as_str(), "digits": u.digits.get(),
                "algorithm": u.algorithm.name(), "period": period, "counter": counter,
            })
        }
    }
}

fn agree(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    if a["ok"] != b["ok"] {
        return false;
    }
    if a["ok"] == false {
        return true;
    }
    [
        "kind",
        "issuer",
        "name",
        "secret",
        "digits",
        "algorithm",
        "period",
        "counter",
    ]
    .iter()
    .all(|k| a[k] == b[k])
}

#[test]
fn otpauth_parser_agrees_with_pyotp_except_where_recorded() {
    let Some(py) = python() else { return };
    let seed: u64 = std::env::var("MFA_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &seed_bytes,
        ),
    );
    let strategy = prop::collection::vec(case(), 600);
    let cases = strategy.new_tree(&mut runner).unwrap().current();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uris.txt");
    let mut text = String::new();
    for c in &cases {
        writeln!(text, "{}", c.uri()).unwrap();
    }
    std::fs::write(&path, &text).unwrap();
    let out = Command::new(&py)
        .args(["-c", PY])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(theirs.len(), cases.len());

    let mut differences: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut agreed = 0;
    let mut unexplained = String::new();
    for (c, theirs) in cases.iter().zip(&theirs) {
        let uri = c.uri();
        let ours = ours(&uri);
        if agree(&ours, theirs) {
            agreed += 1;
            continue;
        }
        let reasons = c.reasons();
        match reasons.first() {
            Some(r) => *differences.entry(r).or_default() += 1,
            None => writeln!(
                unexplained,
                "{uri}\n  ours:  {ours}\n  pyotp: {theirs}\n  (MFA_TEST_SEED={seed})"
            )
            .unwrap(),
        }
    }
    let mut summary = format!(
        "pyotp differential (MFA_TEST_SEED={seed}): {} URIs, {agreed} agree ({} accepted by both)\n",
        cases.len(),
        cases
            .iter()
            .zip(&theirs)
            .filter(|(c, t)| t["ok"] == true && ours(&c.uri())["ok"] == true)
            .count()
    );
    for (r, n) in &differences {
        writeln!(summary, "  {n:4} differ: {r}").unwrap();
    }
    let _ = std::io::stderr().lock().write_all(summary.as_bytes());
    assert!(
        unexplained.is_empty(),
        "unexplained differences:\n{unexplained}"
    );
    assert!(agreed > cases.len() / 10, "too few cases agree: {summary}");
}
