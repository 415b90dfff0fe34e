//! Scripted conversations with pypamtest (libpamtest from pam_wrapper):
//! several prompts in one sign-in, the messages we send, and the
//! PAM_AUTHTOK we leave for the next module (read back with
//! pam_get_items).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const PYTHON: &str = "/usr/bin/python3";

/// Runs one authentication with `responses` for the echo-off prompts,
/// expecting `expected_rv`; then the PAM environment list. Prints one JSON
/// object.
const SCRIPT: &str = r#"
import json, os, sys, pypamtest
svc, user, rv = sys.argv[1], sys.argv[2], int(sys.argv[3])
flags = int(os.environ.get("PAM_FLAGS", "0"))
tests = [pypamtest.TestCase(pypamtest.PAMTEST_AUTHENTICATE, expected_rv=rv, flags=flags),
         pypamtest.TestCase(pypamtest.PAMTEST_GETENVLIST)]
try:
    r = pypamtest.run_pamtest(user, svc, tests, sys.argv[4:])
    print(json.dumps({"ok": True, "info": list(r.info), "errors": list(r.errors),
                      "env": dict(tests[1].pam_env or {})}))
except pypamtest.PamTestError as e:
    print(json.dumps({"ok": False, "why": str(e)}))
"#;

fn pypamtest() -> Option<Tools> {
    let tools = Tools::find(&[&format!("{WRAPPER_MODULES}/pam_get_items.so")])?;
    let has = Path::new(PYTHON).is_file()
        && Command::new(PYTHON)
            .args(["-c", "import pypamtest"])
            .status()
            .is_ok_and(|s| s.success());
    if !has {
        mfa_test_support::skip!("python3-pypamtest is not installed");
        return None;
    }
    Some(tools)
}

fn run(f: &Fixture, service: &str, user: &str, rv: i32, responses: &[&str]) -> String {
    run_flags(f, service, user, rv, responses, 0)
}

fn run_flags(
    f: &Fixture,
    service: &str,
    user: &str,
    rv: i32,
    responses: &[&str],
    flags: u32,
) -> String {
    let script = f.dir.path().join("pamtest.py");
    std::fs::write(&script, SCRIPT).unwrap();
    let _one = PAM_WRAPPER_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = Command::new(PYTHON)
        .arg(&script)
        .args([service, user, &rv.to_string()])
        .args(responses)
        .env("LD_PRELOAD", WRAPPER_LIB)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", f.dir.path().join("services"))
        .env("PAM_FLAGS", flags.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("\"ok\": true"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn password_otp_leaves_the_password_in_pam_authtok() {
    let Some(_tools) = pypamtest() else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    let items = format!("auth required {WRAPPER_MODULES}/pam_get_items.so");
    f.service("pw", &[f.our_line("password-otp"), items]);
    let out = run(&f, "pw", "alice", 0, &[&format!("s3cr3t 99{}", code(1))]);
    assert!(out.contains(r#""PAM_AUTHTOK": "s3cr3t 99""#), "{out}");
    // No code left in the environment.
    assert!(!out.contains(&code(1)), "{out}");
}

#[test]
fn a_two_prompt_conversation_with_pam_matrix() {
    let Some(_tools) = pypamtest() else {
        return;
    };
    let f = Fixture::new();
    f.user_with_token("alice");
    f.user_with_token("carol");
    let passdb = f.dir.path().join("passdb");
    std::fs::write(&passdb, "alice:hunter2:two\ncarol:hunter2:two\n").unwrap();
    f.service(
        "two",
        &[
            f.our_line("prompt=Code:"),
            format!(
                "auth required {WRAPPER_MODULES}/pam_matrix.so passdb={} verbose",
                passdb.display()
            ),
        ],
    );
    // The code first (ours), then the password (pam_matrix).
    let out = run(&f, "two", "alice", 0, &[&code(1), "hunter2"]);
    assert!(out.contains("\"errors\": []"), "{out}");
    // A wrong code: PAM_AUTH_ERR (7), and pam_matrix still asked (required).
    run(&f, "two", "alice", 7, &["000000", "hunter2"]);
    // Locked: PAM_MAXTRIES (11), and our message says until when.
    f.lock_out("carol");
    let out = run(&f, "two", "carol", 11, &["hunter2"]);
    assert!(out.contains("locked until"), "{out}");
    // With PAM_SILENT the decision is the same and nothing is said.
    let out = run_flags(&f, "two", "carol", 11, &["hunter2"], 0x8000);
    assert!(!out.contains("locked until"), "{out}");
}
