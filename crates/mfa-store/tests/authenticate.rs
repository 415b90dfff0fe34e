//! The one entry point, `Store::authenticate`: the same order for every
//! path (fraud → lockout → bypass → factor → counters → log event), the
//! challenge start, trusted IPs and remembered devices that never get
//! around the fraud block or the lockout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_lockout::FactorClass;
use mfa_record::{AuthMode, DenialKind};
use mfa_store::{
    ApprovedBy, AuthOutcome, AuthRequest, Channel, CodeIssue, Error, Method, Presented, Store,
    StoreConfig, UserProfile, VerifyContext,
};

both_backends!(
    challenge_start_lists_usable_methods,
    trusted_ip_bypasses_only_when_nothing_blocks,
    trusted_ip_is_looked_up_in_every_range,
    remembered_device_is_issued_and_honoured,
    issued_codes_are_sent_once_and_sign_in,
    a_withdrawn_code_cannot_sign_in_and_the_next_request_issues_a_new_one,
    every_decision_is_logged_once,
);

fn auth(s: &Store, req: AuthRequest<'_>, t: u64, ctx: &VerifyContext) -> AuthOutcome {
    s.authenticate(&req, at(t), ctx).unwrap()
}

fn kind(o: &AuthOutcome) -> Option<DenialKind> {
    o.denial().map(|r| r.kind())
}

fn from(ip: &str) -> VerifyContext {
    VerifyContext::new("mfa-1", "10.0.0.1".parse().unwrap())
        .unwrap()
        .with_client(ip.parse().unwrap())
}

fn challenge_start_lists_usable_methods(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let nothing = AuthRequest::new("alice", Presented::Nothing);
    assert_eq!(
        auth(&s, nothing, t, &ctx()),
        AuthOutcome::SecondFactorNeeded(vec![Method::Oath {
            serial: "T1".into(),
            totp: true
        }])
    );
    let mut p = UserProfile::new("alice");
    p.phone = Some("+31 6 1234 5678".into());
    s.put_user(&p, at(t)).unwrap();
    let AuthOutcome::SecondFactorNeeded(m) = auth(&s, nothing, t, &ctx()) else {
        panic!("a challenge");
    };
    assert_eq!(
        m[1],
        Method::Phone {
            masked: "+*******5678".into()
        }
    );
    // A user with nothing to answer with is denied, not challenged.
    s.put_user(&UserProfile::new("bob"), at(t)).unwrap();
    let bob = auth(&s, AuthRequest::new("bob", Presented::Nothing), t, &ctx());
    assert_eq!(kind(&bob), Some(DenialKind::NotActivated));
    // Unknown users are denied at the first step too.
    let carol = auth(&s, AuthRequest::new("carol", Presented::Nothing), t, &ctx());
    assert_eq!(kind(&carol), Some(DenialKind::UnknownUser));
    // A blocked user gets no challenge.
    s.fraud_block("alice", "root", "investigating", at(t), &ctx())
        .unwrap();
    assert_eq!(
        kind(&auth(&s, nothing, t + 1, &ctx())),
        Some(DenialKind::AdminBlocked)
    );
}

fn trusted_ip_bypasses_only_when_nothing_blocks(b: &Backend) {
    let s = b.open_with(otp_lockout(2, 600, 600));
    let t = enrol(&s, "alice", "T1", 1);
    let inside = from("192.168.1.20");
    // No range configured: no bypass, the code is checked.
    let wrong = wrong_code(1, t);
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::OathCode(&wrong)),
        t,
        &inside,
    );
    assert_eq!(kind(&o), Some(DenialKind::CodeWrong));
    s.add_trusted_range("192.168.1.0/24", "root", at(t))
        .unwrap();
    // Inside the range: approved without a second factor, logged as such.
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::Nothing),
        t,
        &inside,
    );
    assert_eq!(
        o,
        AuthOutcome::Approved {
            by: ApprovedBy::TrustedIp {
                range: "192.168.1.0/24".parse().unwrap()
            },
            device_token: None
        }
    );
    // Outside it: the challenge.
    let outside = from("192.0.2.7");
    assert!(matches!(
        auth(
            &s,
            AuthRequest::new("alice", Presented::Nothing),
            t,
            &outside
        ),
        AuthOutcome::SecondFactorNeeded(_)
    ));
    // Locked (the wrong code above and one more from outside, threshold 2):
    // the trusted IP does not get around it.
    for _ in 0..1 {
        let o = auth(
            &s,
            AuthRequest::new("alice", Presented::OathCode(&wrong)),
            t,
            &outside,
        );
        assert_eq!(kind(&o), Some(DenialKind::CodeWrong));
    }
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::Nothing),
        t + 1,
        &inside,
    );
    assert_eq!(kind(&o), Some(DenialKind::Locked));
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::AppPassword("x")),
        t + 1,
        &inside,
    );
    assert_eq!(kind(&o), Some(DenialKind::Locked));
    // Unlocked, then fraud-blocked: no bypass either.
    s.lockout_unblock("alice", FactorClass::Otp, "root", "checked", at(t + 2))
        .unwrap();
    assert!(
        auth(
            &s,
            AuthRequest::new("alice", Presented::Nothing),
            t + 3,
            &inside
        )
        .is_approved()
    );
    s.report_fraud("alice", mfa_fraud::Channel::App, true, at(t + 4), &ctx())
        .unwrap();
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::Nothing),
        t + 5,
        &inside,
    );
    assert_eq!(kind(&o), Some(DenialKind::FraudBlocked));
    let log = s.auth_log(at(t), at(t + 10)).unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.mode() == AuthMode::TrustedIp)
            .count(),
        2,
        "each trusted-IP approval is logged with its own mode"
    );
}

/// The ranges are read with the user's row (one statement on SQLite): each
/// range is found, for a code and for a challenge start, and a range row
/// that does not parse is an error, never a bypass.
fn trusted_ip_is_looked_up_in_every_range(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    for r in ["10.1.0.0/16", "2001:db8::/48", "192.168.1.0/24"] {
        s.add_trusted_range(r, "root", at(t)).unwrap();
    }
    let trusted = |range: &str| AuthOutcome::Approved {
        by: ApprovedBy::TrustedIp {
            range: range.parse().unwrap(),
        },
        device_token: None,
    };
    let wrong = wrong_code(1, t);
    for (ip, range) in [
        ("10.1.200.3", "10.1.0.0/16"),
        ("2001:db8:0:7::1", "2001:db8::/48"),
        ("192.168.1.9", "192.168.1.0/24"),
    ] {
        for presented in [Presented::OathCode(&wrong), Presented::Nothing] {
            let o = auth(&s, AuthRequest::new("alice", presented), t, &from(ip));
            assert_eq!(o, trusted(range), "{ip} with {presented:?}");
        }
    }
    let no_client = VerifyContext::new("mfa-1", "10.0.0.1".parse().unwrap()).unwrap();
    // Outside every range, or with no client IP: the factor is checked.
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::OathCode(&wrong)),
        t,
        &from("10.2.0.1"),
    );
    assert_eq!(kind(&o), Some(DenialKind::CodeWrong));
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::OathCode(&wrong)),
        t,
        &no_client,
    );
    assert_eq!(kind(&o), Some(DenialKind::CodeWrong));
    // A range changed in the database to something that is not one.
    sql(
        b,
        "UPDATE trusted_ranges SET cidr = 'not a range' WHERE cidr = '2001:db8::/48'",
    );
    for presented in [Presented::OathCode(&wrong), Presented::Nothing] {
        let r = s.authenticate(
            &AuthRequest::new("alice", presented),
            at(t),
            &from("10.1.0.1"),
        );
        assert!(
            matches!(
                r,
                Err(Error::Corrupt {
                    table: "trusted_ranges",
                    ..
                })
            ),
            "{r:?}"
        );
    }
    // Without a client IP the ranges are not read: the sign-in goes on.
    let code = code_at(1, t + 30);
    let o = auth(
        &s,
        AuthRequest::new("alice", Presented::OathCode(&code)),
        t + 30,
        &no_client,
    );
    assert!(o.is_approved(), "{o:?}");
}

fn remembered_device_is_issued_and_honoured(b: &Backend) {
    // Off (0 days, the default): asking to remember gives no token.
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&code)).remembering_device();
    assert!(matches!(
        auth(&s, req, t, &ctx()),
        AuthOutcome::Approved {
            device_token: None,
            ..
        }
    ));
    drop(s);
    let mut c = StoreConfig::default();
    c.remember_device_days = 14;
    let s = b.open_with(c);
    let t = t + 30;
    let code = code_at(1, t);
    let req = AuthRequest::new("alice", Presented::OathCode(&code)).remembering_device();
    let AuthOutcome::Approved {
        device_token: Some(token),
        ..
    } = auth(&s, req, t, &ctx())
    else {
        panic!("a device token");
    };
    let nothing = AuthRequest::new("alice", Presented::Nothing).with_device(token.expose());
    assert_eq!(
        auth(&s, nothing, t + 13 * 86_400, &ctx()),
        AuthOutcome::Approved {
            by: ApprovedBy::RememberedDevice,
            device_token: None
        }
    );
    // Bound to the user, expires after the configured days.
    let bob = AuthRequest::new("bob", Presented::Nothing).with_device(token.expose());
    assert_eq!(
        kind(&auth(&s, bob, t, &ctx())),
        Some(DenialKind::UnknownUser)
    );
    assert!(matches!(
        auth(&s, nothing, t + 15 * 86_400, &ctx()),
        AuthOutcome::SecondFactorNeeded(_)
    ));
    // A wrong token is no bypass; revoking ends it; a block beats it.
    let forged = AuthRequest::new("alice", Presented::Nothing).with_device("forged");
    assert!(matches!(
        auth(&s, forged, t + 1, &ctx()),
        AuthOutcome::SecondFactorNeeded(_)
    ));
    s.fraud_block("alice", "root", "lost laptop", at(t + 2), &ctx())
        .unwrap();
    assert_eq!(
        kind(&auth(&s, nothing, t + 3, &ctx())),
        Some(DenialKind::AdminBlocked)
    );
    s.fraud_unblock("alice", "root", "found", at(t + 4), &ctx())
        .unwrap();
    assert!(auth(&s, nothing, t + 5, &ctx()).is_approved());
    assert_eq!(s.revoke_devices("alice", "root", at(t + 6)).unwrap(), 1);
    assert!(matches!(
        auth(&s, nothing, t + 7, &ctx()),
        AuthOutcome::SecondFactorNeeded(_)
    ));
    let log = s.auth_log(at(t), at(t + 20 * 86_400)).unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.mode() == AuthMode::RememberedDevice && e.result().is_success())
            .count(),
        2
    );
}

fn issued_codes_are_sent_once_and_sign_in(b: &Backend) {
    let s = b.open();
    s.put_user(&UserProfile::new("alice"), at(T0)).unwrap();
    let CodeIssue::New { code, expires } = s.issue_code("alice", Channel::Sms, 6, at(T0)).unwrap()
    else {
        panic!("a new code");
    };
    assert_eq!(expires, at(T0 + 300));
    assert!(code.expose().chars().all(|c| c.is_ascii_digit()));
    // A repeated request inside the lifetime sends nothing new.
    assert_eq!(
        s.issue_code("alice", Channel::Sms, 6, at(T0 + 10)).unwrap(),
        CodeIssue::Pending { expires }
    );
    let req = AuthRequest::new(
        "alice",
        Presented::OneTimeCode {
            channel: Channel::Sms,
            code: code.expose(),
        },
    );
    assert_eq!(
        auth(&s, req, T0 + 20, &ctx()),
        AuthOutcome::Approved {
            by: ApprovedBy::OneTimeCode {
                channel: Channel::Sms
            },
            device_token: None
        }
    );
    assert_eq!(
        kind(&auth(&s, req, T0 + 21, &ctx())),
        Some(DenialKind::CodeReplayed)
    );
    // Consumed: the next request issues a fresh one.
    assert!(matches!(
        s.issue_code("alice", Channel::Sms, 6, at(T0 + 30)).unwrap(),
        CodeIssue::New { .. }
    ));
    assert!(s.issue_code("alice", Channel::Sms, 5, at(T0)).is_err());
}

fn a_withdrawn_code_cannot_sign_in_and_the_next_request_issues_a_new_one(b: &Backend) {
    let s = b.open();
    s.put_user(&UserProfile::new("alice"), at(T0)).unwrap();
    let CodeIssue::New { code, .. } = s.issue_code("alice", Channel::Sms, 6, at(T0)).unwrap()
    else {
        panic!("a new code");
    };
    // Its delivery failed: withdrawn once; a second time finds nothing.
    assert!(
        s.withdraw_code("alice", Channel::Sms, &code, at(T0 + 1))
            .unwrap()
    );
    assert!(
        !s.withdraw_code("alice", Channel::Sms, &code, at(T0 + 2))
            .unwrap()
    );
    let req = AuthRequest::new(
        "alice",
        Presented::OneTimeCode {
            channel: Channel::Sms,
            code: code.expose(),
        },
    );
    let outcome = auth(&s, req, T0 + 3, &ctx());
    assert!(outcome.denial().is_some(), "{outcome:?}");
    // Not pending: the next request issues (and sends) a new code, which
    // a stale withdrawal of the old one leaves alone.
    let CodeIssue::New { code: fresh, .. } =
        s.issue_code("alice", Channel::Sms, 6, at(T0 + 4)).unwrap()
    else {
        panic!("a new code after the withdrawal");
    };
    if fresh.expose() != code.expose() {
        assert!(
            !s.withdraw_code("alice", Channel::Sms, &code, at(T0 + 5))
                .unwrap()
        );
    }
    assert!(matches!(
        s.issue_code("alice", Channel::Sms, 6, at(T0 + 6)).unwrap(),
        CodeIssue::Pending { .. }
    ));
}

fn every_decision_is_logged_once(b: &Backend) {
    let s = b.open();
    let t = enrol(&s, "alice", "T1", 1);
    let code = code_at(1, t);
    let before = s.stats().unwrap().auth_events;
    let reqs = [
        AuthRequest::new("alice", Presented::OathCode(&code)),
        AuthRequest::new("alice", Presented::OathCode(&code)),
        AuthRequest::new("alice", Presented::AppPassword("nope")),
        AuthRequest::new("nobody", Presented::OathCode("123456")),
        AuthRequest::new("alice", Presented::Nothing),
    ];
    let client = from("192.0.2.7");
    let outcomes: Vec<_> = reqs.iter().map(|r| auth(&s, *r, t, &client)).collect();
    assert!(outcomes[0].is_approved());
    // The approval's event (on PostgreSQL written by the statement that
    // consumes the step) is a whole one: once, with what the request said.
    let log = s.auth_log(at(t), at(t + 1)).unwrap();
    let approvals: Vec<_> = log.iter().filter(|e| e.result().is_success()).collect();
    assert_eq!(approvals.len(), 1, "{log:?}");
    let e = approvals[0];
    assert_eq!(e.user().as_str(), "alice");
    assert_eq!(e.mode(), AuthMode::OathCode);
    assert_eq!(e.client_ip(), Some("192.0.2.7".parse().unwrap()));
    assert_eq!(e.server_name().as_str(), "mfa-1");
    assert_eq!(e.time(), at(t));
    assert_eq!(kind(&outcomes[1]), Some(DenialKind::CodeReplayed));
    // Four decisions, four events; the challenge start decided nothing.
    assert!(matches!(outcomes[4], AuthOutcome::SecondFactorNeeded(_)));
    assert_eq!(s.stats().unwrap().auth_events - before, 4);
    // A user id mfa-record refuses is refused at the door, nothing written.
    assert!(
        s.authenticate(
            &AuthRequest::new("bad\nuser", Presented::Nothing),
            at(t),
            &ctx()
        )
        .is_err()
    );
    assert_eq!(s.stats().unwrap().auth_events - before, 4);
}
