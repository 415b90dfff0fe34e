//! Several keys for one device (RFC 6030 §8) through the real `mfa` binary:
//! RFC 6030 Figure 10 (from ../shared/corpus, via python-pskc) gives device
//! 9999999 two keys (Id 3, valid March 2006; Id 4, valid April 2006). Both
//! are imported, under `9999999` and `9999999:4` (docs/formats.md), each is
//! listed, assigned and activated on its own, and a true duplicate (the
//! same file again) is still reported.
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

const FIGURE10: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/pskc/rfc6030/figure10.pskcxml"
);
/// RFC 4226 Appendix D, counter 0, as 8 digits (every key of Figure 10 has
/// the RFC 4226 test secret).
const HOTP0: &str = "84755224";

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

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "mfa {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn two_keys_of_one_device_are_imported_and_addressed_each() {
    if !Path::new(FIGURE10).exists() {
        mfa_test_support::skip!(
            "{FIGURE10} is not there (shared/ is cloned beside the repository)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init"]);
    let out = ok(d, &["import", FIGURE10]);
    assert!(out.contains("4 imported, 0 rejected"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["--json", "tokens", "list"])).unwrap();
    let mut serials: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["serial"].as_str().unwrap().to_owned())
        .collect();
    serials.sort();
    assert_eq!(serials, ["123456", "654321", "9999999", "9999999:4"]);
    let list = ok(d, &["tokens", "list"]);
    assert!(list.lines().any(|l| l.starts_with("9999999:4 ")), "{list}");
    // The table and the CSV name each key's device serial and Key Id too.
    let row = |serial: &str| {
        list.lines()
            .find(|l| l.split_whitespace().next() == Some(serial))
            .unwrap_or_else(|| panic!("{serial} in {list}"))
            .to_owned()
    };
    assert!(
        list.lines().next().unwrap().contains("DEVICE / KEY ID"),
        "{list}"
    );
    assert!(row("9999999:4").contains(" 9999999 / 4 "), "{list}");
    assert!(row("123456").contains(" 123456 / 2 "), "{list}");
    let csv = ok(d, &["tokens", "list", "--format", "csv"]);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",device_serial,pskc_key_id"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("9999999:4,") && l.ends_with(",9999999,4")),
        "{csv}"
    );

    // Each key on its own: assigned to different users, each activated
    // inside its own validity period.
    ok(d, &["tokens", "assign", "9999999:4", "alice"]);
    ok(d, &["tokens", "assign", "9999999", "bob"]);
    let april = "1145059200"; // 2006-04-15: key 4's period, not key 3's
    ok(
        d,
        &["tokens", "activate", "9999999:4", HOTP0, "--time", april],
    );
    let o = run(
        d,
        &["tokens", "activate", "9999999", HOTP0, "--time", april],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("outside its key validity period"));
    ok(
        d,
        &[
            "tokens",
            "activate",
            "9999999",
            HOTP0,
            "--time",
            "1142380800",
        ],
    ); // 2006-03-15
    let json: serde_json::Value =
        serde_json::from_str(&ok(d, &["--json", "tokens", "list"])).unwrap();
    let by = |s: &str| {
        json.as_array()
            .unwrap()
            .iter()
            .find(|t| t["serial"] == s)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            by("9999999:4")["user"].clone(),
            by("9999999:4")["active"].clone()
        ),
        ("alice".into(), true.into())
    );
    assert_eq!(
        (
            by("9999999")["user"].clone(),
            by("9999999")["active"].clone()
        ),
        ("bob".into(), true.into())
    );

    // The same file again: every key a true duplicate, nothing imported.
    let o = run(d, &["import", FIGURE10]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 imported, 4 rejected"), "{out}");
    assert!(
        out.contains("token 9999999:4: a token with this serial exists already"),
        "{out}"
    );
}

/// Figure 10 (validity periods, manufacturer, issuer, two keys for one
/// device) imported, exported encrypted, validated by `pskctool --validate`
/// (Debian pskctool), read by python-pskc (each key under its device's
/// SerialNo with its own Key Id: 9999999 with Ids 3 and 4, not
/// `9999999:4`) and imported into a fresh store: the same tokens, with the
/// same serials, device serials and Key Ids.
#[test]
fn an_encrypted_export_validates_and_imports_into_a_fresh_store_unchanged() {
    if !Path::new(FIGURE10).exists() {
        mfa_test_support::skip!(
            "{FIGURE10} is not there (shared/ is cloned beside the repository)"
        );
        return;
    }
    let psk = "000102030405060708090a0b0c0d0e0f";
    let a = tempfile::tempdir().unwrap();
    ok(a.path(), &["init"]);
    ok(a.path(), &["import", FIGURE10]);
    ok(a.path(), &["tokens", "export", "out.pskcxml", "--psk", psk]);
    let export = a.path().join("out.pskcxml");
    let xml = std::fs::read_to_string(&export).unwrap();
    assert!(
        !xml.contains("MTIzNDU2Nzg5MDEyMzQ1Njc4OTA="),
        "the secret is encrypted"
    );
    assert!(!xml.contains("9999999:4"), "{xml}");
    match std::process::Command::new("pskctool")
        .arg("--validate")
        .arg(&export)
        .output()
    {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success() && text.trim_end().ends_with("OK"),
                "{text}"
            );
        }
        Err(e) => {
            mfa_test_support::skip!("pskctool: {e} (.ci/setup installs Debian's pskctool)");
            return;
        }
    }
    // An independent reader, python-pskc, decrypts every key of the export
    // with the same pre-shared key and sees what was imported.
    let python = std::env::var_os("MFA_TEST_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
        std::path::PathBuf::from,
    );
    let read = std::process::Command::new(&python)
        .arg("-c")
        .arg(
            "import sys, pskc\n\
             p = pskc.PSKC(sys.argv[1])\n\
             p.encryption.key = bytes.fromhex(sys.argv[2])\n\
             for k in p.keys:\n\
             \x20   print(k.serial, k.id, k.secret.hex(), k.manufacturer, \
             k.policy.start_date is not None, k.policy.expiry_date is not None)\n",
        )
        .arg(&export)
        .arg(psk)
        .output();
    match read {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 4, "{text}");
            let secret = "3132333435363738393031323334353637383930";
            let mut keys = Vec::new();
            for line in &lines {
                let f: Vec<&str> = line.split(' ').collect();
                assert_eq!(
                    &f[2..],
                    [secret, "TokenVendorAcme", "True", "True"],
                    "{text}"
                );
                keys.push((f[0], f[1]));
            }
            // The file's device serials and Key Ids, in the store's order
            // (by serial: 123456, 654321, 9999999, 9999999:4).
            assert_eq!(
                keys,
                [
                    ("123456", "2"),
                    ("654321", "1"),
                    ("9999999", "3"),
                    ("9999999", "4")
                ],
                "{text}"
            );
        }
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            if err.contains("No module named") {
                mfa_test_support::skip!("python-pskc is not in {}: {err}", python.display());
                return;
            }
            panic!("python-pskc could not read the export: {err}");
        }
        Err(e) => {
            mfa_test_support::skip!("{}: {e} (.ci/setup makes .venv)", python.display());
            return;
        }
    }
    let b = tempfile::tempdir().unwrap();
    ok(b.path(), &["init"]);
    let out = ok(
        b.path(),
        &["import", export.to_str().unwrap(), "--psk", psk],
    );
    assert!(out.contains("4 imported, 0 rejected"), "{out}");
    let list = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&ok(d, &["--json", "tokens", "list"])).unwrap()
    };
    let (before, after) = (list(a.path()), list(b.path()));
    assert_eq!(before, after);
    assert_eq!(before.as_array().unwrap().len(), 4);
    let ids: Vec<(&str, &str, &str)> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["serial"].as_str().unwrap(),
                t["device_serial"].as_str().unwrap(),
                t["pskc_key_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("123456", "123456", "2"),
            ("654321", "654321", "1"),
            ("9999999", "9999999", "3"),
            ("9999999:4", "9999999", "4"),
        ]
    );
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["manufacturer"] == "TokenVendorAcme"
                && t["not_before"].is_i64()
                && t["not_after"].is_i64())
    );
}
