//! The key validity period (RFC 6030 §5) through the real `mfa` binary:
//! a vendor PSKC file (Feitian, keys valid 2012-09-19 to 2022-09-01, from
//! ../shared/corpus) is imported, `mfa tokens list` shows the period (text,
//! CSV and --json), activation outside it is refused, inside it works, and
//! `mfa tokens export` writes it (with the manufacturer) back.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::process::Output;

use assert_cmd::Command;

const FEITIAN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/pskc/feitian/20120919-test001-4282.xml"
);
/// The first key of that file (TOTP, 60 s), in base32.
const FIRST_SECRET: &str = "ZURLPAH77UWVG2LIA7WNG72AJWXDSMTQ";
const SERIAL: &str = "2600215704919";

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
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

fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "mfa {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn code_at(dir: &std::path::Path, t: u64) -> String {
    let out = ok(
        dir,
        &[
            "otp",
            "code",
            "--totp",
            "--period",
            "60",
            "--secret",
            FIRST_SECRET,
            "--time",
            &t.to_string(),
        ],
    );
    out.split_whitespace().next().unwrap().to_owned()
}

#[test]
fn an_expired_vendor_key_is_listed_refused_and_exported_with_its_period() {
    if !std::path::Path::new(FEITIAN).exists() {
        mfa_test_support::skip!("{FEITIAN} is not there (shared/ is cloned beside the repository)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    ok(d, &["import", FEITIAN]);
    ok(d, &["tokens", "assign", SERIAL, "erik"]);

    let list = ok(d, &["tokens", "list"]);
    let line = list.lines().find(|l| l.starts_with(SERIAL)).unwrap();
    assert!(
        line.contains("2012-09-19T00:00:00Z .. 2022-09-01T00:00:00Z (outside: refused)"),
        "{list}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["--json", "tokens", "list"])).unwrap();
    let t = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == SERIAL)
        .unwrap();
    assert_eq!(t["not_before"], 1_348_012_800);
    assert_eq!(t["not_after"], 1_661_990_400);
    assert_eq!(t["valid_now"], false);
    assert_eq!(t["manufacturer"], "FeiTian Technology Co.,Ltd");
    let csv = ok(d, &["tokens", "list", "--format", "csv"]);
    assert!(csv.starts_with(
        "serial,kind,user,active,last_step,drift,not_before,not_after,device_serial,pskc_key_id\n"
    ));
    assert!(csv.contains(",1348012800,1661990400,"), "{csv}");

    // Now (after 2022-09-01): refused, and the token stays inactive.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let o = run(d, &["tokens", "activate", SERIAL, &code_at(d, now)]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("outside its key validity period"), "{err}");
    // Inside the period (2020-01-01) it activates.
    let inside = 1_577_836_800u64;
    ok(
        d,
        &[
            "tokens",
            "activate",
            SERIAL,
            &code_at(d, inside),
            "--time",
            &inside.to_string(),
        ],
    );

    // The export carries the period and the manufacturer.
    ok(d, &["tokens", "export", "out.pskcxml", "--plain"]);
    let xml = std::fs::read_to_string(d.join("out.pskcxml")).unwrap();
    assert!(
        xml.contains("<pskc:StartDate>2012-09-19T00:00:00Z</pskc:StartDate>"),
        "{xml}"
    );
    assert!(
        xml.contains("<pskc:ExpiryDate>2022-09-01T00:00:00Z</pskc:ExpiryDate>"),
        "{xml}"
    );
    assert!(xml.contains("FeiTian Technology Co.,Ltd"), "{xml}");
    // Read back into a fresh store: the same period.
    let other = tempfile::tempdir().unwrap();
    let o2 = other.path();
    ok(o2, &["init"]);
    ok(o2, &["import", d.join("out.pskcxml").to_str().unwrap()]);
    let json: serde_json::Value =
        serde_json::from_str(&ok(o2, &["--json", "tokens", "list"])).unwrap();
    let t = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["serial"] == SERIAL)
        .unwrap();
    assert_eq!(
        (t["not_before"].clone(), t["not_after"].clone()),
        (1_348_012_800.into(), 1_661_990_400.into())
    );
}
