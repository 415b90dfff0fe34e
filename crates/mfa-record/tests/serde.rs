//! serde support (run with `--features serde`; `.ci/tests.d/record-serde.sh`
//! does so in CI).

#![cfg(feature = "serde")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::net::{IpAddr, Ipv4Addr};

use mfa_oath::UnixTime;
use mfa_record::{
    AppPassword, AppPasswordName, AppPasswordVerifier, AuthAttempt, AuthEvent, AuthMode,
    AuthResult, DenialReason, DeviceToken, Email, FieldPolicy, MethodPolicy, OathToken,
    OathTokenKind, PersonName, PhoneKind, PhoneNumber, ServerName, TokenSerial, UserId, UserRecord,
};
use serde_json::{Value, json};

const FIRST: &str = "Sentinelfirst";
const EMAIL: &str = "sentinel.mail@example.org";

fn attempt(mode: AuthMode) -> AuthAttempt {
    let mut a = AuthAttempt::new(
        UnixTime::from_secs(1_700_000_000),
        UserId::new("u42").unwrap(),
        mode,
        DenialReason::Locked {
            until: UnixTime::from_secs(1_700_000_900),
        }
        .into(),
        ServerName::new("mfa01").unwrap(),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
    );
    a.first_name = Some(PersonName::new(FIRST).unwrap());
    a.last_name = Some(PersonName::new("Sentinellast").unwrap());
    a.email = Some(Email::new(EMAIL).unwrap());
    a.client_ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)));
    if mode.uses_phone() {
        a.phone = Some(PhoneNumber::new("+31209876543").unwrap());
    }
    if mode.uses_device_token() {
        a.device_token = Some(DeviceToken::new("SentinelDeviceToken").unwrap());
    }
    a
}

#[test]
fn switched_off_fields_never_appear_in_serde_output() {
    for mode in AuthMode::ALL {
        let e = AuthEvent::record(attempt(mode), &FieldPolicy::minimal()).unwrap();
        let text = serde_json::to_string(&e).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        for key in [
            "first_name",
            "last_name",
            "email",
            "phone",
            "device_token",
            "client_ip",
        ] {
            assert!(v.get(key).is_none(), "{key} in {text}");
        }
        for value in [FIRST, EMAIL, "9876543", "SentinelDeviceToken", "192.0.2.9"] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }
    let mut policy = FieldPolicy::all();
    policy.email = false;
    let e = AuthEvent::record(attempt(AuthMode::PhoneCall), &policy).unwrap();
    let v: Value = serde_json::to_value(&e).unwrap();
    assert!(v.get("email").is_none());
    assert_eq!(v["first_name"], FIRST);
}

#[test]
fn event_json_shape_and_round_trip() {
    let e = AuthEvent::record(attempt(AuthMode::SmsOneWay), &FieldPolicy::all()).unwrap();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(
        v,
        json!({
            "time": 1_700_000_000u64,
            "user": "u42",
            "first_name": FIRST,
            "last_name": "Sentinellast",
            "email": EMAIL,
            "phone": "+31209876543",
            "mode": "sms_one_way",
            "result": "denied",
            "reason": "locked",
            "until": 1_700_000_900u64,
            "server_name": "mfa01",
            "server_ip": "10.0.0.5",
            "client_ip": "192.0.2.9",
        })
    );
    let back: AuthEvent = serde_json::from_value(v).unwrap();
    assert_eq!(back, e);
    for mode in AuthMode::ALL {
        for result in [
            AuthResult::Success,
            DenialReason::CodeWrong.into(),
            DenialReason::FraudBlocked { until: None }.into(),
            DenialReason::CodeReplayed { step: 7 }.into(),
        ] {
            let mut a = attempt(mode);
            a.result = result;
            let e = AuthEvent::record(a, &FieldPolicy::all()).unwrap();
            let back: AuthEvent =
                serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
            assert_eq!(back, e);
        }
    }
}

#[test]
fn deserialising_an_event_checks_it() {
    let mut v = serde_json::to_value(
        AuthEvent::record(attempt(AuthMode::OathCode), &FieldPolicy::all()).unwrap(),
    )
    .unwrap();
    v["phone"] = json!("+31209876543"); // a phone on an OATH event
    assert!(serde_json::from_value::<AuthEvent>(v.clone()).is_err());
    v.as_object_mut().unwrap().remove("phone");
    v["user"] = json!(""); // empty user ID
    assert!(serde_json::from_value::<AuthEvent>(v).is_err());
}

fn full_record() -> UserRecord {
    let mut u = UserRecord::new(UserId::new("helga").unwrap());
    u.set_profile(
        Some(PersonName::new(FIRST).unwrap()),
        None,
        Some(Email::new(EMAIL).unwrap()),
        &FieldPolicy::all(),
    );
    u.enable_mfa(UnixTime::from_secs(10));
    u.add_phone(PhoneNumber::new("+31209876543").unwrap(), PhoneKind::Mobile)
        .unwrap();
    u.add_device_token(DeviceToken::new("dev").unwrap())
        .unwrap();
    for i in 0..5 {
        u.add_oath_token(
            OathToken::new(
                TokenSerial::new(format!("T{i}")).unwrap(),
                OathTokenKind::App,
            ),
            None,
        )
        .unwrap();
    }
    u.activate_oath_token(&TokenSerial::new("T0").unwrap(), UnixTime::from_secs(20))
        .unwrap();
    u.add_app_password(AppPassword::new(
        AppPasswordName::new("Outlook").unwrap(),
        UnixTime::from_secs(30),
        AppPasswordVerifier::new("$argon2id$v=19$x").unwrap(),
    ))
    .unwrap();
    u.set_default_method(AuthMode::OathCode, &MethodPolicy::all())
        .unwrap();
    u
}

#[test]
fn record_round_trip() {
    let u = full_record();
    let text = serde_json::to_string(&u).unwrap();
    let back: UserRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(back, u);
}

#[test]
fn record_with_switched_off_profile_fields_omits_them() {
    let mut u = full_record();
    u.apply_field_policy(&FieldPolicy::minimal());
    let text = serde_json::to_string(&u).unwrap();
    assert!(!text.contains(FIRST) && !text.contains(EMAIL), "{text}");
    assert!(
        !text.contains("first_name") && !text.contains("\"email\""),
        "{text}"
    );
}

#[test]
fn deserialising_a_record_enforces_the_token_rules() {
    let mut v = serde_json::to_value(full_record()).unwrap();
    // A sixth token.
    let tokens = v["oath_tokens"].as_array_mut().unwrap();
    tokens.push(json!({"serial": "T5", "kind": "hardware"}));
    let err = serde_json::from_value::<UserRecord>(v.clone()).unwrap_err();
    assert!(err.to_string().contains("5 OATH tokens"), "{err}");
    // The same token twice.
    let tokens = v["oath_tokens"].as_array_mut().unwrap();
    tokens.truncate(4);
    tokens.push(json!({"serial": "T0", "kind": "hardware"}));
    assert!(serde_json::from_value::<UserRecord>(v.clone()).is_err());
    // An invalid phone number.
    let mut v = serde_json::to_value(full_record()).unwrap();
    v["phones"][0]["number"] = json!("call me");
    assert!(serde_json::from_value::<UserRecord>(v).is_err());
}

#[test]
fn policies_round_trip() {
    let mut p = FieldPolicy::minimal();
    p.email = true;
    let back: FieldPolicy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
    // Missing keys take the defaults (everything recorded).
    let partial: FieldPolicy = serde_json::from_str(r#"{"email": false}"#).unwrap();
    assert!(!partial.email && partial.name && partial.client_ip);
    assert!(serde_json::from_str::<FieldPolicy>(r#"{"emial": false}"#).is_err());

    let m = MethodPolicy::all().without(AuthMode::SmsTwoWay);
    let v = serde_json::to_value(m).unwrap();
    assert_eq!(
        v,
        json!([
            "phone_call",
            "sms_one_way",
            "mobile_app_notification",
            "oath_code",
            "app_password",
            "trusted_ip",
            "remembered_device"
        ])
    );
    assert_eq!(serde_json::from_value::<MethodPolicy>(v).unwrap(), m);
}

#[test]
fn debug_and_serde_of_secrets_like_values() {
    let u = full_record();
    // Debug hides the verifier and the device token.
    let dbg = format!("{u:?}");
    assert!(!dbg.contains("argon2id"), "{dbg}");
    assert!(!dbg.contains("\"dev\""), "{dbg}");
}
