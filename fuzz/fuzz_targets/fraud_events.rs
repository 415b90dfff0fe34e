//! The fraud machine driven by arbitrary configurations and event sequences
//! (including raw keypad input): never a panic, and after every step the
//! state, the effects and the gate stay consistent.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mfa_fraud::{
    AuditActivity, Channel, Effect, Error, Event, FraudConfig, FraudState, Gate, Keypad,
    MAX_KEPT_DETECTIONS, Remediation, ReportingCode, parse_keypad,
};
use mfa_oath::UnixTime;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    fraud_alert: bool,
    auto_block: bool,
    suspicious_activity: bool,
    custom_greetings: bool,
    fraud_code: Option<&'a str>,
    sa_code: Option<&'a str>,
    period: u64,
    recipient: Option<&'a str>,
    start: u64,
    steps: Vec<Step<'a>>,
}

#[derive(Debug, Arbitrary)]
enum Step<'a> {
    Wait(u32),
    Report { app: bool, confirmed: bool, passwordless: bool },
    Keypad { keys: &'a str, passwordless: bool },
    AdminBlock(&'a str),
    AdminUnblock(&'a str),
    Expire,
    Remediate(bool),
}

fn config(input: &Input<'_>) -> FraudConfig {
    let mut c = FraudConfig::default()
        .with_fraud_alert(input.fraud_alert)
        .with_auto_block(input.auto_block)
        .with_suspicious_activity(input.suspicious_activity)
        .with_custom_greetings(input.custom_greetings);
    if let Some(code) = input.fraud_code.and_then(|s| ReportingCode::new(s).ok()) {
        c = c.with_fraud_code(code);
    }
    if let Some(code) = input.sa_code.and_then(|s| ReportingCode::new(s).ok()) {
        c = c.with_suspicious_activity_code(code);
    }
    if let Ok(with) = c.clone().with_block_period(input.period) {
        c = with;
    } else {
        assert_eq!(input.period, 0);
    }
    if let Some(r) = input.recipient {
        if let Ok(with) = c.clone().with_recipients([r]) {
            c = with;
        }
    }
    c
}

fn check_state(state: &FraudState, now: UnixTime) {
    if let Some(b) = &state.block {
        assert!(b.until >= b.since);
        if let Some(comment) = &b.comment {
            assert!(!comment.is_empty() && !comment.chars().any(char::is_control));
        }
    }
    if let Some(r) = &state.risk {
        assert!(r.recent.len() <= MAX_KEPT_DETECTIONS);
        assert!(!r.recent.is_empty());
        assert!(r.detections as usize >= r.recent.len());
    }
    let gate = state.check(now);
    match (&gate, state.ensure_can_approve(now)) {
        (Gate::Allowed, Ok(())) => {}
        (Gate::Denied { blocked: Some((cause, until)), .. }, Err(Error::Blocked { cause: c, until: u })) => {
            assert_eq!((*cause, *until), (c, u));
            assert!(now < u);
        }
        (Gate::Denied { blocked: None, high_risk: Some(n) }, Err(Error::HighRisk { detections })) => {
            assert_eq!(*n, detections);
        }
        (g, r) => panic!("gate {g:?} disagrees with the re-check {r:?}"),
    }
    if let Some(deadline) = state.next_deadline(now) {
        assert!(deadline > now);
        assert!(state.active_block(deadline).is_none());
    }
}

fuzz_target!(|input: Input<'_>| {
    let config = config(&input);
    let mut state = FraudState::new();
    let mut now = input.start;
    for step in input.steps.iter().take(64) {
        let t = UnixTime::from_secs(now);
        let event = match *step {
            Step::Wait(s) => {
                now = now.saturating_add(u64::from(s));
                check_state(&state, UnixTime::from_secs(now));
                continue;
            }
            Step::Report { app, confirmed, passwordless } => Event::UserReport {
                channel: if app { Channel::App } else { Channel::Phone },
                block_confirmed: confirmed,
                passwordless,
            },
            Step::Keypad { keys, passwordless } => match parse_keypad(&config, keys) {
                Ok(Keypad::Approve) => {
                    assert_eq!(keys, "#");
                    continue;
                }
                Ok(Keypad::Report { block_confirmed }) => {
                    let code = config.phone_reporting_code().expect("a report needs a code");
                    assert!(keys.starts_with(code.as_str()));
                    Event::UserReport { channel: Channel::Phone, block_confirmed, passwordless }
                }
                Err(_) => continue,
            },
            Step::AdminBlock(r) => Event::AdminBlock { reason: r.to_owned() },
            Step::AdminUnblock(r) => Event::AdminUnblock { reason: r.to_owned() },
            Step::Expire => Event::BlockExpired,
            Step::Remediate(pw) => Event::RiskRemediated {
                how: if pw { Remediation::PasswordReset } else { Remediation::AdminDismissal },
            },
        };
        let is_report = matches!(event, Event::UserReport { .. });
        let confirmed_block = match &event {
            Event::UserReport { channel, block_confirmed, .. } => {
                config.auto_block() && (*channel == Channel::App || *block_confirmed)
            }
            _ => false,
        };
        let before = state.clone();
        match state.apply(&config, event, t) {
            Ok((next, effects)) => {
                assert!(!effects.is_empty(), "an accepted event always has an effect");
                for e in &effects {
                    if let Effect::Audit { activity, at, .. } = e {
                        assert!(!activity.as_str().is_empty());
                        assert_eq!(*at, t);
                    }
                }
                if is_report {
                    assert!(matches!(effects.first(), Some(Effect::SignIn { .. })));
                    let blocked_audit = effects.iter().any(|e| matches!(e,
                        Effect::Audit { activity: AuditActivity::FraudReportedUserBlocked, .. }));
                    assert_eq!(blocked_audit, confirmed_block);
                    if confirmed_block && now < u64::MAX - config.block_period_secs() {
                        assert!(next.active_block(t).is_some());
                    }
                }
                state = next;
            }
            Err(_) => assert_eq!(state, before),
        }
        check_state(&state, t);
    }
});
