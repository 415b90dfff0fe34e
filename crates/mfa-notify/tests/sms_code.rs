//! `Notifier::send_sms_code`, the one SMS-code flow of `mfa radius serve`
//! and mfa-http, against a real store (SQLite in a temporary directory) and
//! an external command as the sender (a shell script that keeps what it is
//! given on stdin): no network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use common::logged;
use mfa_notify::{Error, Notifier, NotifyConfig, SmsCode, Withdrawal};
use mfa_oath::UnixTime;
use mfa_store::{
    AuthOutcome, AuthRequest, Channel, MasterKey, Presented, Store, UserProfile, VerifyContext,
};

const NOW: u64 = 1_700_000_000;

fn now() -> UnixTime {
    UnixTime::from_secs(NOW)
}

/// A store with `sam` (a phone) and `nora` (no phone).
fn store(dir: &Path) -> Store {
    let store = Store::open(
        &format!("sqlite:{}", dir.join("mfa.db").display()),
        &MasterKey::new(1, [7; 32]),
    )
    .unwrap();
    let mut sam = UserProfile::new("sam");
    sam.phone = Some("+31 6 1234 5678".into());
    store.put_user(&sam, now()).unwrap();
    store.put_user(&UserProfile::new("nora"), now()).unwrap();
    store
}

/// The sender: appends what it gets on stdin and a `--` line to
/// `dir/sent`, then exits with the status written in `dir/status` (0 if
/// there is none).
fn sender(dir: &Path) -> Notifier {
    let path = dir.join("send-sms");
    let sent = dir.join("sent").display().to_string();
    let status = dir.join("status").display().to_string();
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncat >> {sent}\necho >> {sent}\necho -- >> {sent}\nexit $(cat {status} 2>/dev/null || echo 0)\n"
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
    Notifier::new(
        NotifyConfig::from_settings([("notify.sms.command", path.to_str().unwrap())]).unwrap(),
    )
    .unwrap()
}

/// The messages the sender got, and the code of each.
fn sent(dir: &Path) -> Vec<(String, String)> {
    let all = std::fs::read_to_string(dir.join("sent")).unwrap_or_default();
    all.split("\n--\n")
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            let code = m
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .unwrap_or_else(|| panic!("no code in {m}"))
                .to_owned();
            (m.to_owned(), code)
        })
        .collect()
}

fn signs_in(store: &Store, user: &str, code: &str) -> bool {
    let ctx = VerifyContext::new("test", IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
    let request = AuthRequest::new(
        user,
        Presented::OneTimeCode {
            channel: Channel::Sms,
            code,
        },
    );
    matches!(
        store.authenticate(&request, now(), &ctx).unwrap(),
        AuthOutcome::Approved { .. }
    )
}

#[test]
fn a_delivered_code_signs_in_and_a_pending_one_is_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let notifier = sender(dir.path());
    let (first, log) = logged(|| notifier.send_sms_code(&store, "sam", 6, now()).unwrap());
    let SmsCode::Sent { ref to, expires } = first else {
        panic!("{first:?}")
    };
    assert_eq!(to, "+*******5678");
    assert!(expires.secs() > NOW, "{expires:?}");
    assert_eq!(first.to_string(), "SMS code sent to +*******5678");
    let messages = sent(dir.path());
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].0.starts_with("+31612345678\nsms\n"),
        "{messages:?}"
    );
    let code = messages[0].1.clone();
    assert!(!log.contains(&code), "the code is in the log: {log}");
    assert!(!format!("{first:?}").contains("612345678"), "{first:?}");

    // Asked again (a retransmission, a second request) while it is pending:
    // nothing is sent.
    let again = notifier.send_sms_code(&store, "sam", 6, now()).unwrap();
    assert!(
        matches!(again, SmsCode::AlreadySent { ref to, .. } if to == "+*******5678"),
        "{again:?}"
    );
    assert_eq!(sent(dir.path()).len(), 1);
    assert!(signs_in(&store, "sam", &code));
}

#[test]
fn a_failed_delivery_withdraws_the_code_and_the_next_request_sends_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let notifier = sender(dir.path());
    std::fs::write(dir.path().join("status"), "1").unwrap();
    let failed = notifier.send_sms_code(&store, "sam", 6, now()).unwrap();
    let SmsCode::Undelivered {
        ref to,
        ref error,
        ref withdrawal,
    } = failed
    else {
        panic!("{failed:?}")
    };
    assert_eq!(to, "+*******5678");
    assert!(
        matches!(error, Error::CommandStatus { code: Some(1) }),
        "{error:?}"
    );
    assert!(
        matches!(withdrawal, Withdrawal::Withdrawn),
        "{withdrawal:?}"
    );
    assert_eq!(
        failed.to_string(),
        "SMS delivery to +*******5678 failed: command: exit status 1; code withdrawn"
    );
    // The sender saw the code (and the retry) but said it failed: the code
    // is withdrawn, it cannot sign in.
    let tried = sent(dir.path());
    assert!(!tried.is_empty());
    let undelivered = tried[0].1.clone();
    assert!(!failed.to_string().contains(&undelivered));
    assert!(!signs_in(&store, "sam", &undelivered));

    // Once the sender works, the next request issues and sends a new code
    // (not "already sent" for a message that never arrived).
    std::fs::write(dir.path().join("status"), "0").unwrap();
    let next = notifier.send_sms_code(&store, "sam", 6, now()).unwrap();
    assert!(matches!(next, SmsCode::Sent { .. }), "{next:?}");
    let all = sent(dir.path());
    assert_eq!(all.len(), tried.len() + 1, "{all:?}");
    let fresh = all[tried.len()].1.clone();
    assert!(signs_in(&store, "sam", &fresh));
}

#[test]
fn no_sender_or_no_phone_issues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let none = Notifier::new(NotifyConfig::default()).unwrap();
    let r = none.send_sms_code(&store, "sam", 6, now()).unwrap();
    assert!(matches!(r, SmsCode::NoSender), "{r:?}");
    let notifier = sender(dir.path());
    for user in ["nora", "nobody"] {
        let r = notifier.send_sms_code(&store, user, 6, now()).unwrap();
        assert!(matches!(r, SmsCode::NoPhone), "{user}: {r:?}");
        assert_eq!(r.to_string(), "no valid phone number");
    }
    assert!(sent(dir.path()).is_empty());
    // Nothing was left pending for sam by the notifier without a sender.
    let r = notifier.send_sms_code(&store, "sam", 6, now()).unwrap();
    assert!(matches!(r, SmsCode::Sent { .. }), "{r:?}");
    // Digits outside 6-9 are the store's error.
    let mut nora = UserProfile::new("nora");
    nora.phone = Some("+31 6 9999 0000".into());
    store.put_user(&nora, now()).unwrap();
    assert!(matches!(
        notifier.send_sms_code(&store, "nora", 5, now()),
        Err(mfa_store::Error::FieldLength { .. })
    ));
}
