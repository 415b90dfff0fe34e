//! The usage summary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::net::{IpAddr, Ipv4Addr};

use mfa_oath::UnixTime;
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialKind, DenialReason, Error, FieldPolicy,
    MethodPolicy, ModeCounts, Period, PhoneKind, PhoneNumber, ServerName, UsageSummary, UserId,
    UserRecord,
};

fn t(s: u64) -> UnixTime {
    UnixTime::from_secs(s)
}

fn event(user: &str, secs: u64, mode: AuthMode, result: AuthResult) -> AuthEvent {
    AuthEvent::record(
        AuthAttempt::new(
            t(secs),
            UserId::new(user).unwrap(),
            mode,
            result,
            ServerName::new("mfa01").unwrap(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
        ),
        &FieldPolicy::default(),
    )
    .unwrap()
}

fn user(name: &str, enabled_at: Option<u64>, sms_default: bool) -> UserRecord {
    let mut u = UserRecord::new(UserId::new(name).unwrap());
    if let Some(s) = enabled_at {
        u.enable_mfa(t(s));
    }
    if sms_default {
        u.add_phone(PhoneNumber::new("+3120123456").unwrap(), PhoneKind::Mobile)
            .unwrap();
        u.set_default_method(AuthMode::SmsOneWay, &MethodPolicy::all())
            .unwrap();
    }
    u
}

#[test]
fn billing_counts_configured_users_whether_or_not_they_signed_in() {
    let period = Period::new(t(1000), t(2000)).unwrap();
    let mut s = UsageSummary::new(period);
    s.add_user(&user("active", Some(10), true));
    s.add_user(&user("idle", Some(10), false)); // configured, never signs in
    s.add_user(&user("enabled-mid-period", Some(1999), true));
    s.add_user(&user("enabled-after", Some(2000), true)); // not yet configured
    s.add_user(&user("disabled", None, true));
    assert_eq!(s.users_configured(), 3);
    assert_eq!(s.default_methods().get(&AuthMode::SmsOneWay), Some(&2));

    s.add_event(&event(
        "active",
        999,
        AuthMode::SmsOneWay,
        AuthResult::Success,
    )); // before
    s.add_event(&event(
        "active",
        1000,
        AuthMode::SmsOneWay,
        AuthResult::Success,
    ));
    s.add_event(&event(
        "active",
        1001,
        AuthMode::SmsOneWay,
        AuthResult::Success,
    ));
    s.add_event(&event(
        "active",
        1002,
        AuthMode::PhoneCall,
        DenialReason::FraudCodeEntered.into(),
    ));
    s.add_event(&event(
        "stranger",
        1003,
        AuthMode::OathCode,
        DenialReason::UnknownUser.into(),
    ));
    s.add_event(&event(
        "active",
        1004,
        AuthMode::OathCode,
        DenialReason::Locked { until: t(1900) }.into(),
    ));
    s.add_event(&event(
        "active",
        1005,
        AuthMode::OathCode,
        DenialReason::Locked { until: t(1950) }.into(),
    ));
    s.add_event(&event(
        "active",
        2000,
        AuthMode::OathCode,
        AuthResult::Success,
    )); // after

    assert_eq!(s.users_signed_in(), 1);
    assert_eq!(s.users_active(), 2);
    assert_eq!(s.authentications(), 6);
    assert_eq!(s.successes(), 2);
    assert_eq!(s.denials(), 4);
    assert_eq!(s.denials_by_reason().get(&DenialKind::Locked), Some(&2));
    assert_eq!(
        s.denials_by_reason().get(&DenialKind::FraudCodeEntered),
        Some(&1)
    );
    assert_eq!(
        s.denials_by_reason().get(&DenialKind::UnknownUser),
        Some(&1)
    );
    assert_eq!(s.denials_by_reason().len(), 3);
    let sms = s.by_mode()[&AuthMode::SmsOneWay];
    assert_eq!((sms.attempts, sms.successes, sms.denials), (2, 2, 0));
    let oath = s.by_mode()[&AuthMode::OathCode];
    assert_eq!((oath.attempts, oath.successes, oath.denials), (3, 0, 3));
    assert_eq!(s.by_mode().get(&AuthMode::SmsTwoWay), None);
    assert_eq!(
        s.by_mode()
            .values()
            .copied()
            .map(|c: ModeCounts| c.attempts)
            .sum::<u64>(),
        s.authentications()
    );
}

#[test]
fn summary_csv_has_every_mode_and_reason() {
    let mut s = UsageSummary::new(Period::new(t(0), t(100)).unwrap());
    s.add_user(&user("a", Some(0), true));
    s.add_event(&event("a", 5, AuthMode::SmsOneWay, AuthResult::Success));
    s.add_event(&event(
        "a",
        6,
        AuthMode::SmsOneWay,
        DenialReason::CodeExpired.into(),
    ));
    let csv = String::from_utf8(s.write_csv(Vec::new()).unwrap()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "metric,key,value");
    for want in [
        "period,start,0",
        "period,end,100",
        "users,configured,1",
        "users,signed_in,1",
        "authentications,total,2",
        "authentications,successes,1",
        "authentications,denials,1",
        "default_method,sms_one_way,1",
        "mode_attempts,sms_one_way,2",
        "mode_denials,sms_one_way,1",
        "mode_attempts,phone_call,0",
        "denials_by_reason,code_expired,1",
        "denials_by_reason,locked,0",
    ] {
        assert!(lines.contains(&want), "{want} missing from\n{csv}");
    }
    assert_eq!(
        lines.len(),
        1 + 8 + AuthMode::ALL.len() * 4 + DenialKind::ALL.len()
    );
}

#[test]
fn period_must_not_end_before_it_starts() {
    assert!(matches!(Period::new(t(5), t(4)), Err(Error::EmptyPeriod)));
    let empty = Period::new(t(5), t(5)).unwrap();
    assert!(!empty.contains(t(5)));
}
