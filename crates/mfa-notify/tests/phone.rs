//! One-time codes through a webhook sink (Python's http.server, plain and
//! HTTPS with a throw-away CA) and through an external command: the
//! payload arrives once with the bearer token; 500, a timeout, a server
//! that is down, a failing and a hanging command are typed errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::{Server, file, logged, python, throwaway_ca};
use mfa_notify::{CodeChannel, Error, Notifier, NotifyConfig, OneTimeCode, Transport};
use mfa_oath::UnixTime;
use mfa_record::PhoneNumber;

const NOW: u64 = 1_700_000_000;
const TOKEN: &str = "gw-token-7f3a9c";
const CODE: &str = "042917";
const NUMBER: &str = "+31612345678";

fn now() -> UnixTime {
    UnixTime::from_secs(NOW)
}

fn expires() -> UnixTime {
    UnixTime::from_secs(NOW + 300)
}

fn phone() -> PhoneNumber {
    PhoneNumber::new("+31 6 1234 5678").unwrap()
}

fn code() -> OneTimeCode {
    OneTimeCode::new(CODE).unwrap()
}

fn notifier(pairs: &[(&str, &str)]) -> Notifier {
    Notifier::new(NotifyConfig::from_settings(pairs.iter().copied()).unwrap()).unwrap()
}

fn sink(dir: &std::path::Path, args: &[&str]) -> Option<Server> {
    let py = python(&[])?;
    Some(Server::start(&py, "webhook_sink.py", dir, args))
}

#[test]
fn the_sms_payload_arrives_once_with_the_bearer_token() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = sink(dir.path(), &[]) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/sms", server.port);
    let token = file(dir.path(), "token", &format!("{TOKEN}\n"));
    let n = notifier(&[
        ("notify.sms.webhook_url", &url),
        ("notify.sms.webhook_token_file", &token),
    ]);
    let (result, log) =
        logged(|| n.send_code(&phone(), CodeChannel::Sms, &code(), now(), expires()));
    result.unwrap();
    let requests = server.wait_records(1);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.records().len(), 1, "exactly one request");
    let r = &requests[0];
    assert_eq!(r["path"], "/sms");
    assert_eq!(r["authorization"], format!("Bearer {TOKEN}"));
    assert_eq!(r["content_type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["to"], NUMBER);
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["attempt"], 1);
    assert_eq!(
        body["message"],
        format!("Your verification code is {CODE}. It expires in 5 minutes.")
    );
    // The log names the masked number, never the number, code or token.
    assert!(
        log.contains("+*******5678") && log.contains("code sent"),
        "{log}"
    );
    for secret in [CODE, NUMBER, "612345678", TOKEN] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
}

#[test]
fn a_voice_code_over_https_with_a_throwaway_ca_and_a_custom_template() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = throwaway_ca(dir.path(), "gw");
    let Some(server) = sink(
        dir.path(),
        &["--tls", cert.to_str().unwrap(), key.to_str().unwrap()],
    ) else {
        return;
    };
    let url = format!("https://127.0.0.1:{}/voice", server.port);
    let n = notifier(&[
        ("notify.sms.webhook_url", &url),
        ("notify.sms.webhook_ca_file", ca.to_str().unwrap()),
        (
            "notify.template.voice",
            "Code for {phone}: {code_spaced}. Valid {minutes} min.",
        ),
    ]);
    n.send_code(
        &phone(),
        CodeChannel::Voice,
        &code(),
        now(),
        UnixTime::from_secs(NOW + 61),
    )
    .unwrap();
    let requests = server.wait_records(1);
    let body: serde_json::Value =
        serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["channel"], "voice");
    assert_eq!(
        body["message"],
        "Code for +*******5678: 0 4 2 9 1 7. Valid 2 min."
    );
    assert_eq!(requests[0]["authorization"], serde_json::Value::Null);

    // The same gateway with a CA that did not sign it: refused, not sent.
    let (other, _, _) = throwaway_ca(dir.path(), "other");
    let n = notifier(&[
        ("notify.sms.webhook_url", &url),
        ("notify.sms.webhook_ca_file", other.to_str().unwrap()),
        ("notify.retries", "0"),
    ]);
    let err = n
        .send_code(&phone(), CodeChannel::Voice, &code(), now(), expires())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Connect {
                transport: Transport::Webhook,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.records().len(), 1);
}

#[test]
fn a_webhook_answering_500_is_retried_once_then_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = sink(dir.path(), &["--status", "500"]) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/sms", server.port);
    let n = notifier(&[("notify.sms.webhook_url", &url)]);
    let (err, log) = logged(|| {
        n.send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
            .unwrap_err()
    });
    assert!(
        matches!(err, Error::WebhookStatus { status: 500 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "webhook: HTTP status 500");
    let attempts: Vec<_> = server
        .wait_records(2)
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(r["body"].as_str().unwrap()).unwrap()["attempt"].clone())
        .collect();
    assert_eq!(attempts, [1, 2]);
    assert!(
        log.contains("HTTP status 500") && !log.contains(CODE),
        "{log}"
    );

    let n = notifier(&[("notify.sms.webhook_url", &url), ("notify.retries", "0")]);
    assert!(
        n.send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
            .is_err()
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.records().len(),
        3,
        "retries = 0: one more request only"
    );
}

#[test]
fn a_webhook_past_the_timeout_is_a_timeout_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = sink(dir.path(), &["--sleep", "4"]) else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/sms", server.port);
    let n = notifier(&[
        ("notify.sms.webhook_url", &url),
        ("notify.timeout_seconds", "1"),
    ]);
    let started = Instant::now();
    let err = n
        .send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Timeout {
                transport: Transport::Webhook,
                seconds: 1
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    // The request reached the gateway (it may send the SMS): no second one.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.records().len(), 1);
}

#[test]
fn a_webhook_that_is_down_is_a_connection_error() {
    let url = format!("http://127.0.0.1:{}/sms", common::free_port());
    let n = notifier(&[("notify.sms.webhook_url", &url)]);
    let err = n
        .send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Connect {
                transport: Transport::Webhook,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "webhook: connection failed");
}

/// A script that records its arguments, its environment and its stdin,
/// then exits with `status` (or hangs).
fn script(dir: &std::path::Path, body: &str) -> String {
    let path = dir.join("send-sms");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_command_gets_number_and_message_on_stdin_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let cmd = script(
        dir.path(),
        &format!("echo \"$@\" > {out}.argv; env > {out}.env; cat > {out}.stdin"),
    );
    let n = notifier(&[("notify.sms.command", &format!("{cmd} --gateway test"))]);
    let (result, log) =
        logged(|| n.send_code(&phone(), CodeChannel::Sms, &code(), now(), expires()));
    result.unwrap();
    let stdin = std::fs::read_to_string(format!("{out}.stdin")).unwrap();
    assert_eq!(
        stdin,
        format!("{NUMBER}\nsms\nYour verification code is {CODE}. It expires in 5 minutes.")
    );
    assert_eq!(
        std::fs::read_to_string(format!("{out}.argv")).unwrap(),
        "--gateway test\n"
    );
    let env = std::fs::read_to_string(format!("{out}.env")).unwrap();
    assert!(!env.contains(CODE) && !env.contains("612345678"));
    assert!(
        log.contains("transport=command") && !log.contains(CODE),
        "{log}"
    );
}

#[test]
fn a_command_exiting_1_is_retried_once_then_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let cmd = script(
        dir.path(),
        &format!("cat > /dev/null; echo run >> {}; exit 1", runs.display()),
    );
    let n = notifier(&[("notify.sms.command", &cmd)]);
    let err = n
        .send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
        .unwrap_err();
    assert!(
        matches!(err, Error::CommandStatus { code: Some(1) }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "command: exit status 1");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\nrun\n");
}

#[test]
fn a_hanging_command_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = script(dir.path(), "exec sleep 30");
    let n = notifier(&[
        ("notify.sms.command", &cmd),
        ("notify.timeout_seconds", "1"),
    ]);
    let started = Instant::now();
    let err = n
        .send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                transport: Transport::Command,
                seconds: 1
            }
        ),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_missing_command_or_gateway_is_a_clear_error() {
    let n = notifier(&[("notify.sms.command", "/nonexistent/send-sms")]);
    let err = n
        .send_code(&phone(), CodeChannel::Sms, &code(), now(), expires())
        .unwrap_err();
    assert!(matches!(err, Error::CommandSpawn { .. }), "{err:?}");
    let n = notifier(&[]);
    assert!(matches!(
        n.send_code(&phone(), CodeChannel::Sms, &code(), now(), expires()),
        Err(Error::NotConfigured { .. })
    ));
    assert!(n.send_test_message(&phone(), CodeChannel::Sms).is_err());
}
