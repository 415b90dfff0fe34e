//! Fraud e-mails through a real SMTP server (aiosmtpd) on 127.0.0.1:
//! plain, STARTTLS and implicit TLS with a throw-away CA, authentication,
//! a refused recipient, a server that is down.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Server, file, logged, python, throwaway_ca};
use mfa_fraud::{Channel, Effect, Event, FraudConfig, FraudState};
use mfa_notify::{Error, Notifier, NotifyConfig};
use mfa_oath::UnixTime;

const NOW: u64 = 1_700_000_000;
const PASSWORD: &str = "s3cret-smtp-pw";

/// The effects of one fraud report by app, auto-block on.
fn report(recipients: &[&str]) -> Vec<Effect> {
    let config = FraudConfig::default()
        .with_recipients(recipients.iter().copied())
        .unwrap();
    let event = Event::UserReport {
        channel: Channel::App,
        block_confirmed: false,
        passwordless: false,
    };
    FraudState::default()
        .apply(&config, event, UnixTime::from_secs(NOW))
        .unwrap()
        .1
}

fn notifier(port: u16, extra: &[(&str, &str)]) -> Notifier {
    let port = port.to_string();
    let mut pairs = vec![
        ("notify.smtp.host", "127.0.0.1"),
        ("notify.smtp.port", port.as_str()),
        ("notify.smtp.from", "mfa@example.com"),
        ("notify.timeout_seconds", "5"),
    ];
    pairs.extend_from_slice(extra);
    Notifier::new(NotifyConfig::from_settings(pairs).unwrap()).unwrap()
}

#[test]
fn fraud_report_e_mails_arrive_over_starttls_with_authentication() {
    let Some(py) = python(&["aiosmtpd"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = throwaway_ca(dir.path(), "smtp");
    let pw = file(dir.path(), "smtp.pw", &format!("{PASSWORD}\n"));
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = Server::start(
        &py,
        "smtp_server.py",
        dir.path(),
        &["--starttls", cert, key, "--auth", "mfa", &pw],
    );
    let n = notifier(
        server.port,
        &[
            ("notify.smtp.tls", "starttls"),
            ("notify.smtp.ca_file", ca.to_str().unwrap()),
            ("notify.smtp.user", "mfa"),
            ("notify.smtp.password_file", &pw),
            ("notify.fraud_user_email", "on"),
        ],
    );
    let effects = report(&["secops@example.com", "it@example.com"]);
    let (delivery, log) = logged(|| n.notify_fraud("helga", Some("helga@contoso.com"), &effects));
    assert!(delivery.all_delivered(), "{delivery:?}");
    assert_eq!(delivery.administrators.len(), 2);
    assert_eq!(delivery.administrators[0].address, "secops@example.com");
    assert_eq!(delivery.user.as_ref().unwrap().address, "helga@contoso.com");

    let mails = server.wait_records(3);
    assert_eq!(mails.len(), 3, "{mails:?}");
    for (mail, to) in
        mails
            .iter()
            .zip(["secops@example.com", "it@example.com", "helga@contoso.com"])
    {
        // One envelope per recipient: nobody sees the others' addresses.
        assert_eq!(mail["rcpt_tos"], serde_json::json!([to]));
        assert_eq!(mail["mail_from"], "mfa@example.com");
        assert_eq!(mail["tls"], true);
        assert_eq!(mail["authenticated"], true);
        assert_eq!(mail["to"], to);
        assert_eq!(mail["from"], "mfa@example.com");
        assert!(
            !mail["data"].as_str().unwrap().contains(PASSWORD),
            "password in the message"
        );
    }
    assert_eq!(mails[0]["subject"], "MFA fraud alert: helga");
    let admin = mails[0]["body"].as_str().unwrap();
    for part in [
        "User helga reported",
        "via the mobile app",
        "2023-11-14 22:13:20 UTC",
        "The account is blocked.",
    ] {
        assert!(admin.contains(part), "{part:?} missing in {admin}");
    }
    assert_eq!(mails[2]["subject"], "Your multi-factor sign-in is blocked");
    let user = mails[2]["body"].as_str().unwrap();
    assert!(
        user.contains("multi-factor sign-in for helga is blocked"),
        "{user}"
    );

    assert!(
        log.contains("secops@example.com") && log.contains("fraud alert e-mail sent"),
        "{log}"
    );
    assert!(!log.contains(PASSWORD), "{log}");
}

#[test]
fn fraud_e_mail_over_implicit_tls_and_over_plain_loopback() {
    let Some(py) = python(&["aiosmtpd"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = throwaway_ca(dir.path(), "smtps");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let tls = Server::start(&py, "smtp_server.py", dir.path(), &["--tls", cert, key]);
    let n = notifier(
        tls.port,
        &[
            ("notify.smtp.tls", "tls"),
            ("notify.smtp.ca_file", ca.to_str().unwrap()),
        ],
    );
    let d = n.notify_fraud("helga", None, &report(&["secops@example.com"]));
    assert!(d.all_delivered() && d.user.is_none(), "{d:?}");
    let mails = tls.wait_records(1);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["tls"], true);

    let plain = Server::start(&py, "smtp_server.py", dir.path(), &[]);
    let n = notifier(plain.port, &[("notify.smtp.tls", "none")]);
    n.send_test_email("secops@example.com").unwrap();
    let mails = plain.wait_records(1);
    assert_eq!(mails[0]["tls"], false);
    assert_eq!(mails[0]["subject"], "MFA notification test");
}

#[test]
fn an_untrusted_certificate_is_a_connection_error_and_nothing_is_sent() {
    let Some(py) = python(&["aiosmtpd"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = throwaway_ca(dir.path(), "real");
    let (other_ca, _, _) = throwaway_ca(dir.path(), "other");
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = Server::start(
        &py,
        "smtp_server.py",
        dir.path(),
        &["--starttls", cert, key],
    );
    let n = notifier(
        server.port,
        &[("notify.smtp.ca_file", other_ca.to_str().unwrap())],
    );
    let d = n.notify_fraud("helga", None, &report(&["a@example.com", "b@example.com"]));
    assert!(
        matches!(d.administrators[0].result, Err(Error::Connect { .. })),
        "{d:?}"
    );
    assert!(
        matches!(d.administrators[1].result, Err(Error::NotAttempted { .. })),
        "{d:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(server.records().is_empty());
}

#[test]
fn a_server_without_starttls_is_refused_when_starttls_is_configured() {
    let Some(py) = python(&["aiosmtpd"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&py, "smtp_server.py", dir.path(), &[]);
    let n = notifier(server.port, &[("notify.smtp.tls", "starttls")]);
    let err = n.send_test_email("a@example.com").unwrap_err();
    assert!(matches!(err, Error::Smtp { .. }), "{err:?}");
    assert!(
        std::error::Error::source(&err)
            .unwrap()
            .to_string()
            .contains("STARTTLS"),
        "{err:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(server.records().is_empty(), "sent in the clear");
}

#[test]
fn a_refused_recipient_fails_alone_with_its_smtp_code() {
    let Some(py) = python(&["aiosmtpd"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &py,
        "smtp_server.py",
        dir.path(),
        &["--refuse", "gone@example.com"],
    );
    let n = notifier(server.port, &[("notify.smtp.tls", "none")]);
    let effects = report(&[
        "a@example.com",
        "gone@example.com",
        "c@example.com",
        "not an address",
    ]);
    let (d, log) = logged(|| n.notify_fraud("helga", None, &effects));
    let results: Vec<_> = d.administrators.iter().map(|o| &o.result).collect();
    assert!(results[0].is_ok() && results[2].is_ok(), "{d:?}");
    assert!(
        matches!(results[3], Err(Error::InvalidAddress { .. })),
        "{d:?}"
    );
    match results[1] {
        Err(
            e @ Error::SmtpRefused {
                recipient,
                code: 550,
            },
        ) => {
            assert_eq!(recipient, "gone@example.com");
            assert_eq!(e.to_string(), "smtp: gone@example.com: refused with 550");
        }
        other => panic!("{other:?}"),
    }
    assert!(!d.all_delivered());
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        serde_json::json!({
            "administrators": [
                {"address": "a@example.com", "delivered": true, "error": null},
                {"address": "gone@example.com", "delivered": false,
                 "error": "smtp: gone@example.com: refused with 550"},
                {"address": "c@example.com", "delivered": true, "error": null},
                {"address": "not an address", "delivered": false,
                 "error": "invalid e-mail address \"not an address\""},
            ],
            "user": null,
        })
    );
    let mails = server.wait_records(2);
    let to: Vec<_> = mails.iter().map(|m| m["rcpt_tos"][0].clone()).collect();
    assert_eq!(to, ["a@example.com", "c@example.com"]);
    assert!(
        log.contains("gone@example.com") && log.contains("refused with 550"),
        "{log}"
    );
}

#[test]
fn a_server_that_is_down_is_a_connection_error_for_the_whole_list() {
    let port = common::free_port();
    let n = notifier(port, &[("notify.smtp.tls", "none")]);
    let started = std::time::Instant::now();
    let d = n.notify_fraud("helga", None, &report(&["a@example.com", "b@example.com"]));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        matches!(&d.administrators[0].result, Err(e @ Error::Connect { .. }) if e.to_string() == "smtp: connection failed"),
        "{d:?}"
    );
    assert!(matches!(
        d.administrators[1].result,
        Err(Error::NotAttempted { .. })
    ));
    assert!(matches!(
        n.send_test_email("a@example.com"),
        Err(Error::Connect { .. })
    ));
}

#[test]
fn fraud_e_mails_need_an_smtp_server() {
    let n = Notifier::new(NotifyConfig::default()).unwrap();
    let d = n.notify_fraud("helga", None, &report(&["a@example.com", "b@example.com"]));
    assert!(matches!(
        d.administrators[0].result,
        Err(Error::NotConfigured { .. })
    ));
    assert!(matches!(
        d.administrators[1].result,
        Err(Error::NotAttempted { .. })
    ));
}
