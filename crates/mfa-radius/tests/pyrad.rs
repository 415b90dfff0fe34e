//! Cross-check against pyrad 2.6, an independent RADIUS implementation
//! (tests/pyrad/peer.py): pyrad's requests with Message-Authenticator pass
//! our checks and our replies pass pyrad's `VerifyReply(enforce_ma=True)`
//! (Response Authenticator, Message-Authenticator, Proxy-State); a pyrad
//! request without a Message-Authenticator or with the wrong secret is
//! dropped; pyrad as the upstream server accepts what `OutgoingRequest`
//! builds and we accept its signed reply.
//!
//! Python: `MFA_TEST_PYTHON` (set by `.ci/test`), else the workspace's
//! `.venv/bin/python`. Without pyrad 2.6 the tests print `SKIPPED:` and pass,
//! except under `CI=true`, where that is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use mfa_radius::{
    Attribute, Code, Credentials, Decision, Dropped, MessageAuthenticator, Mode, Packet, attr,
};
use serde_json::{Value, json};

fn python() -> Option<PathBuf> {
    let py = match std::env::var_os("MFA_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
            if !venv.exists() {
                mfa_test_support::skip!("MFA_TEST_PYTHON is not set and there is no .venv");
                return None;
            }
            venv
        }
    };
    let ok = Command::new(&py)
        .args([
            "-c",
            "import pyrad, sys; sys.exit(0 if pyrad.__version__.startswith('2.6') else 1)",
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        mfa_test_support::skip!("{} has no pyrad 2.6", py.display());
        return None;
    }
    Some(py)
}

fn peer(py: &Path, input: Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyrad/peer.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "peer.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn hex(v: &[u8]) -> String {
    v.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn secret_str() -> &'static str {
    std::str::from_utf8(SECRET).unwrap()
}

fn pyrad_request(py: &Path, id: u8, user: &str, password: &str, extra: Value) -> Vec<u8> {
    let mut input = json!({
        "cmd": "request", "id": id, "secret": secret_str(), "user": user, "password": password,
    });
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    unhex(peer(py, input)["packet"].as_str().unwrap())
}

fn pyrad_verify(py: &Path, request: &[u8], reply: &[u8]) -> Value {
    peer(
        py,
        json!({"cmd": "verify-reply", "secret": secret_str(), "request": hex(request), "reply": hex(reply)}),
    )
}

#[test]
fn pyrad_request_is_verified_and_pyrad_accepts_our_signed_reply() {
    let Some(py) = python() else {
        return;
    };
    let mut rng = TestRng(1);
    let mut ep = endpoint::<()>();
    let client = client(Mode::Otp); // Message-Authenticator required
    let wire = pyrad_request(&py, 17, "nemo", "287082", json!({}));
    let p = decode(&wire);
    assert_eq!(
        p.verify_message_authenticator(&secret(), None),
        Ok(MessageAuthenticator::Valid)
    );
    assert_eq!(p.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), &wire));
    let r = pending.request();
    assert_eq!(r.user_name, "nemo");
    assert_eq!(r.nas.identifier.as_deref(), Some("pyrad-nas"));
    assert_eq!(r.nas.calling_station_id.as_deref(), Some("203.0.113.9"));
    match &r.credentials {
        Credentials::Code(c) => assert_eq!(c.as_slice(), b"287082"),
        other => panic!("{other:?}"),
    }
    let decision = Decision::Accept {
        message: Some("Welcome".into()),
    };
    let reply = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    let v = pyrad_verify(&py, &wire, &reply.contents);
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["code"], json!(2));
    assert_eq!(v["id"], json!(17));
    assert_eq!(v["first_attribute"], json!(80));
    assert_eq!(v["reply_message"], json!("Welcome"));
}

#[test]
fn pyrad_verifies_our_reject_and_a_tampered_reply_fails_it() {
    let Some(py) = python() else {
        return;
    };
    let mut rng = TestRng(2);
    let mut ep = endpoint::<()>();
    let client = client(Mode::Otp);
    let wire = pyrad_request(&py, 18, "nemo", "000000", json!({}));
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), &wire));
    let long = "Wrong code. ".repeat(40); // 480 octets: two Reply-Messages
    let decision = Decision::Reject {
        message: Some(long.clone()),
    };
    let reply = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    let v = pyrad_verify(&py, &wire, &reply.contents);
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["code"], json!(3));
    assert_eq!(v["reply_message"], json!(long));
    let mut tampered = reply.contents.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(pyrad_verify(&py, &wire, &tampered)["ok"], json!(false));
    // A reply without a Message-Authenticator fails enforce_ma: ours always has one.
    let request = decode(&wire);
    let bare = Packet::new(Code::ACCESS_REJECT, 18, [0; 16])
        .encode_response_as_is(&request.authenticator, &secret())
        .unwrap();
    assert_eq!(pyrad_verify(&py, &wire, &bare)["ok"], json!(false));
}

#[test]
fn pyrad_challenge_flow_with_state_and_proxy_state() {
    let Some(py) = python() else {
        return;
    };
    let mut rng = TestRng(3);
    let mut ep = endpoint::<&'static str>();
    let client = client(Mode::Challenge);
    let proxy = json!({"proxy_state": ["70726f78792d31", "00ff", "70726f78792d33"]});
    let first = pyrad_request(&py, 1, "nemo", "hunter2", proxy.clone());
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), &first));
    match &pending.request().credentials {
        Credentials::Password(p) => assert_eq!(p.as_slice(), b"hunter2"),
        other => panic!("{other:?}"),
    }
    let decision = Decision::Challenge {
        message: "Enter the code from your authenticator app".into(),
        session: "totp",
    };
    let challenge = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    let v = pyrad_verify(&py, &first, &challenge.contents);
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["code"], json!(11));
    assert_eq!(v["proxy_state"], proxy["proxy_state"]);
    assert_eq!(
        v["reply_message"],
        json!("Enter the code from your authenticator app")
    );
    let state = v["state"].as_str().unwrap().to_string();

    let mut extra = proxy.clone();
    extra["state"] = json!(state);
    let second = pyrad_request(&py, 2, "nemo", "287082", extra);
    let pending = expect_request(ep.handle(t(10), nas(), Some(&client), &second));
    match &pending.request().credentials {
        Credentials::ChallengeResponse { response, session } => {
            assert_eq!(response.as_slice(), b"287082");
            assert_eq!(session.data, "totp");
        }
        other => panic!("{other:?}"),
    }
    let reply = ep
        .respond(t(10), pending, Decision::Accept { message: None }, &mut rng)
        .unwrap();
    let v = pyrad_verify(&py, &second, &reply.contents);
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["code"], json!(2));
    assert_eq!(v["proxy_state"], proxy["proxy_state"]);
    // pyrad retransmitting the same packet gets the same octets.
    let (again, _) = expect_reply(ep.handle(t(11), nas(), Some(&client), &second));
    assert_eq!(again.contents, reply.contents);
}

#[test]
fn pyrad_request_without_or_with_wrong_message_authenticator_is_dropped() {
    let Some(py) = python() else {
        return;
    };
    let mut ep = endpoint::<()>();
    let client = client(Mode::Otp);
    let bare = pyrad_request(&py, 1, "nemo", "1", json!({"message_authenticator": false}));
    assert_eq!(decode(&bare).first(attr::MESSAGE_AUTHENTICATOR), None);
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &bare)),
        Dropped::MessageAuthenticatorMissing
    );
    let wrong = peer(
        &py,
        json!({"cmd": "request", "id": 2, "secret": "another secret", "user": "nemo", "password": "1"}),
    );
    let wrong = unhex(wrong["packet"].as_str().unwrap());
    assert!(matches!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &wrong)),
        Dropped::MessageAuthenticatorInvalid(_)
    ));
    assert_eq!(ep.stats().requests, 0);
    assert_eq!(ep.cached_replies(), 0);
}

#[test]
fn pyrad_as_upstream_server_accepts_our_request_and_we_verify_its_reply() {
    let Some(py) = python() else {
        return;
    };
    let mut rng = TestRng(4);
    for (password, code) in [
        ("arctangent", Code::ACCESS_ACCEPT),
        ("wrong", Code::ACCESS_REJECT),
    ] {
        let nas_id = Attribute::new(attr::NAS_IDENTIFIER, b"mfa-kit".to_vec()).unwrap();
        let req = request(&mut rng, 5, "nemo", password, vec![nas_id]);
        let v = peer(
            &py,
            json!({"cmd": "serve", "secret": secret_str(), "request": hex(req.bytes()), "accept_password": "arctangent"}),
        );
        assert_eq!(v["message_authenticator"], json!(true));
        assert_eq!(v["message_authenticator_ok"], json!(true));
        assert_eq!(v["user"], json!("nemo"));
        assert_eq!(v["password"], json!(password));
        let reply = unhex(v["reply"].as_str().unwrap());
        let answer = req
            .verify_response(&reply, &secret(), &limits(), true)
            .unwrap();
        assert_eq!(answer.code, code);
        assert_eq!(answer.first(attr::REPLY_MESSAGE), Some(&b"from pyrad"[..]));
        let mut tampered = reply.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(
            req.verify_response(&tampered, &secret(), &limits(), true)
                .is_err()
        );
    }
}
