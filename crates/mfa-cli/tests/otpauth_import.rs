//! Migrating from an authenticator app through the real `mfa` binary: a
//! file of otpauth URIs (Aegis plain-text export) and a file of Google
//! Authenticator `otpauth-migration://` lines (tests/data, real exports of
//! other projects' test suites) are recognised by `mfa import` (auto and
//! `--format otpauth`), reported with reasons and an errors CSV, and no
//! secret ever appears in any output or in the errors CSV.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mfa")
        .unwrap()
        .env_remove("MFA_MASTER_KEY")
        .env("MFA_DB", format!("sqlite:{}", dir.join("mfa.db").display()))
        .env("MFA_KEY_FILE", dir.join("mfa.key"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Every base32 secret (and migration `data`) of the file.
fn secrets_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        for key in ["secret=", "data="] {
            if let Some(at) = line.find(key) {
                let v: String = line[at + key.len()..]
                    .chars()
                    .take_while(|c| *c != '&')
                    .collect();
                out.push(v);
            }
        }
    }
    assert!(!out.is_empty());
    out
}

fn assert_no_secret(what: &str, haystack: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "{what} shows a secret: {haystack}"
        );
        // Also not with its percent-encoding undone.
        let decoded = s
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        assert!(
            !haystack.contains(&decoded),
            "{what} shows a secret: {haystack}"
        );
    }
}

#[test]
fn an_aegis_plain_text_export_is_imported_with_a_redacted_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init"]).status.success());
    let file = format!("{DATA}/aegis_plain.txt");
    let o = run(d, &["import", &file, "--errors-csv", "errors.csv"]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("otpauth URIs format, 6 imported, 1 rejected"),
        "{stdout}"
    );
    // The summary by reason, and the Steam line redacted.
    assert!(stdout.contains("1  invalid otpauth URI"), "{stdout}");
    assert!(stdout.contains("secret=REDACTED"), "{stdout}");
    let errors = std::fs::read_to_string(d.join("errors.csv")).unwrap();
    assert!(errors.contains("steam"), "{errors}");
    let secrets = secrets_of(&std::fs::read_to_string(&file).unwrap());
    assert_no_secret("stdout", &stdout, &secrets);
    assert_no_secret("stderr", &stderr, &secrets);
    assert_no_secret("errors CSV", &errors, &secrets);
    // The same with --json and with the format named.
    let other = tempfile::tempdir().unwrap();
    assert!(run(other.path(), &["init"]).status.success());
    let o = run(
        other.path(),
        &["--json", "import", &file, "--format", "otpauth"],
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format"], "otpauth URIs");
    assert_eq!(v["imported"], 6);
    assert_eq!(v["rejected"], 1);
    assert_no_secret("--json stdout", &out, &secrets);
    assert_no_secret(
        "--json stderr",
        &String::from_utf8(o.stderr).unwrap(),
        &secrets,
    );
    // The tokens are there under their labels, the `+` read as a space.
    let list = String::from_utf8(run(d, &["tokens", "list"]).stdout).unwrap();
    assert!(list.contains("Air Canada:Benjamin"), "{list}");
    assert!(list.contains("Deno:Mason"), "{list}");
}

#[test]
fn a_google_authenticator_migration_export_is_imported_and_duplicates_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init"]).status.success());
    let file = format!("{DATA}/extract_otp_secrets_example_export.txt");
    let o = run(d, &["import", &file, "--errors-csv", "errors.csv"]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(o.status.success(), "{stdout}{stderr}");
    // Six accounts; two labels come twice (a true duplicate each).
    assert!(
        stdout.contains("otpauth URIs format, 4 imported, 2 rejected"),
        "{stdout}"
    );
    // Grouped by reason (the quoted serial is not part of the reason).
    assert!(stdout.contains("2  duplicate serial number\n"), "{stdout}");
    let errors = std::fs::read_to_string(d.join("errors.csv")).unwrap();
    let secrets = secrets_of(&std::fs::read_to_string(&file).unwrap());
    assert_no_secret("stdout", &stdout, &secrets);
    assert_no_secret("stderr", &stderr, &secrets);
    assert_no_secret("errors CSV", &errors, &secrets);
    let list = String::from_utf8(run(d, &["tokens", "list"]).stdout).unwrap();
    assert!(list.contains("hotp demo"), "{list}");
}

fn run_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    Command::cargo_bin("mfa")
        .unwrap()
        .env_remove("MFA_MASTER_KEY")
        .env("MFA_DB", format!("sqlite:{}", dir.join("mfa.db").display()))
        .env("MFA_KEY_FILE", dir.join("mfa.key"))
        .current_dir(dir)
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap()
}

#[test]
fn tokens_add_uri_adds_and_assigns_one_token_and_never_prints_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init"]).status.success());
    let file = std::fs::read_to_string(format!("{DATA}/aegis_plain.txt")).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    let secrets = secrets_of(&file);
    let check = |what: &str, o: &Output| {
        assert_no_secret(what, &String::from_utf8_lossy(&o.stdout), &secrets);
        assert_no_secret(what, &String::from_utf8_lossy(&o.stderr), &secrets);
    };
    // The label is the serial.
    let o = run(d, &["tokens", "add", "--uri", lines[0], "--user", "mason"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("token Deno:Mason added and assigned to mason")
    );
    check("add", &o);
    // --serial, the URI from standard input.
    let o = run_stdin(
        d,
        &[
            "tokens", "add", "--uri", "-", "--user", "james", "--serial", "APP-0001",
        ],
        &format!("{}\n", lines[1]),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check("add from stdin", &o);
    let json: serde_json::Value =
        serde_json::from_slice(&run(d, &["--json", "tokens", "list"]).stdout).unwrap();
    let rows = json.as_array().unwrap();
    let by = |s: &str| rows.iter().find(|t| t["serial"] == s).unwrap().clone();
    assert_eq!(by("Deno:Mason")["user"], "mason");
    assert_eq!(by("Deno:Mason")["active"], false);
    assert_eq!(by("APP-0001")["user"], "james");
    assert_eq!(by("APP-0001")["params"]["digits"], 7);
    assert_eq!(by("APP-0001")["issuer"], "SPDX");
    // The same again: a duplicate, refused, nothing printed of the secret.
    let o = run(d, &["tokens", "add", "--uri", lines[0], "--user", "mason"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists already"));
    check("duplicate", &o);
    // The Steam URI (5 digits, type steam): refused, redacted.
    let o = run(d, &["tokens", "add", "--uri", lines[6], "--user", "sophia"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("steam"), "{err}");
    check("refused", &o);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&run(d, &["--json", "tokens", "list"]).stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
