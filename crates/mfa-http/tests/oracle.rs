//! privacyIDEA 3.x as the oracle: the same seeds, the same requests, the
//! answers compared field by field (tests/oracle/privacyidea_oracle.py runs
//! privacyIDEA's Flask app in process on its SQLite backend).
//!
//! The Python with privacyIDEA installed is `MFA_PRIVACYIDEA_PYTHON`, or
//! `.venv-privacyidea/bin/python` at the workspace root (.ci/setup makes
//! it); without it the test says SKIPPED (and fails under CI=true).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

mod common;

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use common::*;
use serde_json::{Value, json};

/// (name, path, form parameters): `{code}` is alice's current code,
/// `{wrong}` a wrong one.
fn requests() -> Value {
    json!([
        ["accept", "/validate/check", {"user": "alice", "realm": "realm1", "pass": "{code}"}],
        ["replay", "/validate/check", {"user": "alice", "pass": "{code}"}],
        ["wrong", "/validate/check", {"user": "alice", "pass": "{wrong}"}],
        ["unknown_user", "/validate/check", {"user": "nobody", "realm": "realm1", "pass": "123456"}],
        ["no_user_no_serial", "/validate/check", {"pass": "123456"}],
        ["no_token", "/validate/check", {"user": "dave", "pass": "123456"}],
        ["unknown_parameters", "/validate/check", {"user": "alice", "pass": "{wrong}", "client": "x", "foo": "bar"}],
        ["radius_reject", "/validate/radiuscheck", {"user": "alice", "pass": "{wrong}"}],
    ])
}

fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MFA_PRIVACYIDEA_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv-privacyidea/bin/python"
    ));
    p.exists().then_some(p)
}

#[tokio::test]
async fn answers_match_privacyidea_field_by_field() {
    let Some(py) = python() else {
        mfa_test_support::skip!(
            "no Python with privacyidea (set MFA_PRIVACYIDEA_PYTHON or run .ci/setup)"
        );
        return;
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/oracle/privacyidea_oracle.py"
    );
    let out = std::process::Command::new(&py)
        .arg(script)
        .arg(requests().to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pi: Value = serde_json::from_slice(&out.stdout).unwrap();
    let now = pi["now"].as_u64().unwrap();

    // mfa-http at privacyIDEA's time, alice's token with the same seed.
    let f = Fixture::new();
    f.clock.store(now, Ordering::SeqCst);
    let app = f.router(unlimited());
    let code = f.code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut checked = 0;
    for r in requests().as_array().unwrap() {
        let name = r[0].as_str().unwrap();
        let path = r[1].as_str().unwrap();
        let body: Vec<String> = r[2]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .unwrap()
                    .replace("{code}", &code)
                    .replace("{wrong}", wrong);
                format!("{k}={v}")
            })
            .collect();
        let (status, ours) = call(&app, form(path, &body.join("&"))).await;
        let theirs = &pi["answers"][name];
        assert_eq!(
            u64::from(status.as_u16()),
            theirs["status"].as_u64().unwrap(),
            "{name}: status"
        );
        let theirs = &theirs["json"];
        if theirs.is_null() {
            assert_eq!(ours, Value::Null, "{name}: empty body");
            checked += 1;
            continue;
        }
        assert_eq!(ours["jsonrpc"], theirs["jsonrpc"], "{name}: jsonrpc");
        assert_eq!(ours["id"], theirs["id"], "{name}: id");
        assert_eq!(ours["result"], theirs["result"], "{name}: result");
        assert_eq!(
            ours["detail"]["message"], theirs["detail"]["message"],
            "{name}: detail.message"
        );
        // privacyIDEA names the token on an accept and a replay; so do we.
        if name == "accept" || name == "replay" {
            assert_eq!(
                ours["detail"]["serial"], theirs["detail"]["serial"],
                "{name}: detail.serial"
            );
        }
        assert!(theirs["time"].is_number() && ours["time"].is_number());
        checked += 1;
    }
    assert_eq!(checked, requests().as_array().unwrap().len());

    // The challenge flow. privacyIDEA answers a PIN alone with a challenge
    // when its challenge-response policy allows (carl: same seed, PIN 1234);
    // mfa-kit answers an empty pass (alice, a fresh store).
    let chal = json!([
        ["challenge", "/validate/check", {"user": "carl", "pass": "1234"}],
        ["answer", "/validate/check", {"user": "carl", "transaction_id": "{transaction_id}", "pass": "{code}"}],
    ]);
    let out = std::process::Command::new(&py)
        .arg(script)
        .arg(chal.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pi: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = Fixture::new();
    f.clock.store(pi["now"].as_u64().unwrap(), Ordering::SeqCst);
    let app = f.router(unlimited());
    let (s1, ours) = call(&app, form("/validate/check", "user=alice&pass=")).await;
    let theirs = &pi["answers"]["challenge"];
    assert_eq!(u64::from(s1.as_u16()), theirs["status"].as_u64().unwrap());
    let theirs = &theirs["json"];
    assert_eq!(ours["result"], theirs["result"], "challenge: result");
    assert_eq!(ours["id"], theirs["id"], "challenge: id");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "threadid")
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&ours["detail"]),
        keys(&theirs["detail"]),
        "challenge: detail fields"
    );
    assert_eq!(
        keys(&ours["detail"]["multi_challenge"][0]),
        keys(&theirs["detail"]["multi_challenge"][0]),
        "challenge: multi_challenge fields"
    );
    for field in [
        "message",
        "messages",
        "type",
        "client_mode",
        "preferred_client_mode",
    ] {
        assert_eq!(
            ours["detail"][field], theirs["detail"][field],
            "challenge: detail.{field}"
        );
    }
    for field in ["message", "type", "client_mode"] {
        assert_eq!(
            ours["detail"]["multi_challenge"][0][field],
            theirs["detail"]["multi_challenge"][0][field],
            "challenge: multi_challenge[0].{field}"
        );
    }
    let digits20 = |v: &Value| {
        let s = v.as_str().unwrap();
        s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit())
    };
    assert!(digits20(&ours["detail"]["transaction_id"]));
    assert!(digits20(&theirs["detail"]["transaction_id"]));
    let tx = ours["detail"]["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s2, ours) = call(
        &app,
        form(
            "/validate/check",
            &format!("user=alice&transaction_id={tx}&pass={}", f.code()),
        ),
    )
    .await;
    let theirs = &pi["answers"]["answer"];
    assert_eq!(u64::from(s2.as_u16()), theirs["status"].as_u64().unwrap());
    let theirs = &theirs["json"];
    assert_eq!(ours["result"], theirs["result"], "answer: result");
    assert_eq!(
        ours["detail"]["message"], theirs["detail"]["message"],
        "answer: detail.message"
    );
    assert_eq!(
        keys(&ours["detail"]),
        keys(&theirs["detail"]),
        "answer: detail fields"
    );
}
