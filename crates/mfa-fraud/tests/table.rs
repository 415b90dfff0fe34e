//! Exhaustive table: every state × every event, with the exact expected new
//! gate and effects (or error). The `match` in `expected` is over (state,
//! event) pairs, so the compiler refuses a missing pair.

// Test helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mfa_fraud::{
    AuditActivity, BlockCause, Channel, Effect, Error, Event, FraudConfig, FraudState, Gate,
    Remediation, RiskDetection, RiskEventType, RiskLevel, SignInResult,
};
use mfa_time::UnixTime;

const T0: u64 = 1_700_000_000;
const PERIOD: u64 = 1000;
const ADMIN: &str = "secops@example.com";

fn at(offset: u64) -> UnixTime {
    UnixTime::from_secs(T0 + offset)
}

/// Both features, auto-block, a 1000 s block period, one recipient.
fn config() -> FraudConfig {
    FraudConfig::default()
        .with_block_period(PERIOD)
        .unwrap()
        .with_recipients([ADMIN])
        .unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    Clear,
    BlockedFraud,
    BlockedAdmin,
    BlockExpired,
    HighRisk,
    BlockedAndRisk,
}

const STATES: [S; 6] = [
    S::Clear,
    S::BlockedFraud,
    S::BlockedAdmin,
    S::BlockExpired,
    S::HighRisk,
    S::BlockedAndRisk,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    ReportApp,
    ReportPhoneConfirmed,
    ReportPhoneUnconfirmed,
    ReportPasswordless,
    AdminBlock,
    AdminBlockBlank,
    AdminUnblock,
    BlockExpired,
    RiskRemediated,
}

const EVENTS: [E; 9] = [
    E::ReportApp,
    E::ReportPhoneConfirmed,
    E::ReportPhoneUnconfirmed,
    E::ReportPasswordless,
    E::AdminBlock,
    E::AdminBlockBlank,
    E::AdminUnblock,
    E::BlockExpired,
    E::RiskRemediated,
];

fn event(e: E) -> Event {
    let report = |channel, block_confirmed, passwordless| Event::UserReport {
        channel,
        block_confirmed,
        passwordless,
    };
    match e {
        E::ReportApp => report(Channel::App, false, false),
        E::ReportPhoneConfirmed => report(Channel::Phone, true, false),
        E::ReportPhoneUnconfirmed => report(Channel::Phone, false, false),
        E::ReportPasswordless => report(Channel::App, false, true),
        E::AdminBlock => Event::AdminBlock {
            reason: "  stolen phone ".into(),
        },
        E::AdminBlockBlank => Event::AdminBlock {
            reason: " \t ".into(),
        },
        E::AdminUnblock => Event::AdminUnblock {
            reason: "ok".into(),
        },
        E::BlockExpired => Event::BlockExpired,
        E::RiskRemediated => Event::RiskRemediated {
            how: Remediation::PasswordReset,
        },
    }
}

/// Builds each state through events at T0 only (so it is reachable), and
/// returns it with the time of the event under test.
fn build(s: S) -> (FraudState, UnixTime) {
    let app = event(E::ReportApp);
    let only_fa = config().with_suspicious_activity(false);
    let only_sa = config().with_fraud_alert(false);
    let apply = |c: &FraudConfig, e| FraudState::new().apply(c, e, at(0)).unwrap().0;
    match s {
        S::Clear => (FraudState::new(), at(10)),
        S::BlockedFraud => (apply(&only_fa, app), at(10)),
        S::BlockedAdmin => (apply(&config(), event(E::AdminBlock)), at(10)),
        S::BlockExpired => (apply(&config(), event(E::AdminBlock)), at(PERIOD)),
        S::HighRisk => (apply(&only_sa, app), at(10)),
        S::BlockedAndRisk => (apply(&config(), app), at(10)),
    }
}

fn sign_in(now: UnixTime) -> Effect {
    Effect::SignIn {
        result: SignInResult::MfaDeniedFraudCodeEntered,
        at: now,
    }
}
fn audit(activity: AuditActivity, now: UnixTime, comment: Option<&str>) -> Effect {
    Effect::Audit {
        activity,
        at: now,
        comment: comment.map(str::to_owned),
    }
}
fn notify(channel: Channel, user_blocked: bool, now: UnixTime) -> Effect {
    Effect::NotifyAdministrators {
        recipients: vec![ADMIN.to_owned()],
        channel,
        user_blocked,
        at: now,
    }
}
fn risk(channel: Channel, now: UnixTime) -> Effect {
    Effect::RiskDetected(RiskDetection {
        event_type: RiskEventType::UserReportedSuspiciousActivity,
        level: RiskLevel::High,
        at: now,
        channel,
    })
}

fn denied(blocked: Option<(BlockCause, UnixTime)>, high_risk: Option<u32>) -> Gate {
    Gate::Denied { blocked, high_risk }
}

type Outcome = Result<(Gate, Vec<Effect>), Error>;

fn expected(s: S, e: E, now: UnixTime) -> Outcome {
    use AuditActivity::*;
    use BlockCause::{Administrator, FraudReport};
    let app = FraudReport(Channel::App);
    let phone = FraudReport(Channel::Phone);
    let pushed = UnixTime::from_secs(now.secs() + PERIOD);
    // The risk count before the event.
    let r0 = match s {
        S::HighRisk | S::BlockedAndRisk => 1,
        _ => 0,
    };
    // The block cause before the event, if it applies at `now`.
    let active = match s {
        S::BlockedFraud | S::BlockedAndRisk => Some(app),
        S::BlockedAdmin => Some(Administrator),
        S::Clear | S::BlockExpired | S::HighRisk => None,
    };
    let blocked_report = |ch: Channel| {
        vec![
            sign_in(now),
            audit(FraudReportedUserBlocked, now, None),
            notify(ch, true, now),
            audit(FraudReported, now, None),
            risk(ch, now),
        ]
    };
    match (s, e) {
        // A confirmed report blocks (or pushes the end out, keeping the cause)
        // and adds a high-risk detection.
        (_, E::ReportApp) => Ok((
            denied(Some((active.unwrap_or(app), pushed)), Some(r0 + 1)),
            blocked_report(Channel::App),
        )),
        (_, E::ReportPhoneConfirmed) => Ok((
            denied(Some((active.unwrap_or(phone), pushed)), Some(r0 + 1)),
            blocked_report(Channel::Phone),
        )),
        // Unconfirmed on the phone: no block action, but risk is raised.
        (_, E::ReportPhoneUnconfirmed) => Ok((
            denied(active.map(|c| (c, at(PERIOD))), Some(r0 + 1)),
            vec![
                sign_in(now),
                audit(FraudReportedNoAction, now, None),
                notify(Channel::Phone, active.is_some(), now),
                audit(FraudReported, now, None),
                risk(Channel::Phone, now),
            ],
        )),
        // Passwordless: blocked, but no high risk raised.
        (_, E::ReportPasswordless) => Ok((
            denied(
                Some((active.unwrap_or(app), pushed)),
                (r0 > 0).then_some(r0),
            ),
            vec![
                sign_in(now),
                audit(FraudReportedUserBlocked, now, None),
                notify(Channel::App, true, now),
                audit(FraudReported, now, None),
            ],
        )),
        (_, E::AdminBlockBlank) => Err(Error::EmptyReason),

        (S::Clear | S::BlockExpired | S::HighRisk, E::AdminBlock) => Ok((
            denied(Some((Administrator, pushed)), (r0 > 0).then_some(r0)),
            vec![audit(UserBlocked, now, Some("stolen phone"))],
        )),
        (S::BlockedFraud | S::BlockedAndRisk, E::AdminBlock) => Err(Error::AlreadyBlocked {
            cause: app,
            until: at(PERIOD),
        }),
        (S::BlockedAdmin, E::AdminBlock) => Err(Error::AlreadyBlocked {
            cause: Administrator,
            until: at(PERIOD),
        }),

        (S::Clear | S::BlockExpired | S::HighRisk, E::AdminUnblock) => Err(Error::NotBlocked),
        (S::BlockedFraud | S::BlockedAdmin, E::AdminUnblock) => {
            Ok((Gate::Allowed, vec![audit(UserUnblocked, now, Some("ok"))]))
        }
        (S::BlockedAndRisk, E::AdminUnblock) => Ok((
            denied(None, Some(1)),
            vec![audit(UserUnblocked, now, Some("ok"))],
        )),

        (S::Clear | S::HighRisk, E::BlockExpired) => Err(Error::NotBlocked),
        (S::BlockedFraud | S::BlockedAdmin | S::BlockedAndRisk, E::BlockExpired) => {
            Err(Error::NotExpired { until: at(PERIOD) })
        }
        (S::BlockExpired, E::BlockExpired) => {
            Ok((Gate::Allowed, vec![audit(BlockExpired, now, None)]))
        }

        (S::Clear | S::BlockedFraud | S::BlockedAdmin | S::BlockExpired, E::RiskRemediated) => {
            Err(Error::NoRisk)
        }
        (S::HighRisk, E::RiskRemediated) => Ok((
            Gate::Allowed,
            vec![audit(RiskRemediated, now, Some("password reset"))],
        )),
        (S::BlockedAndRisk, E::RiskRemediated) => Ok((
            denied(Some((app, at(PERIOD))), None),
            vec![audit(RiskRemediated, now, Some("password reset"))],
        )),
    }
}

#[test]
fn every_state_times_every_event() {
    let config = config();
    let mut cases = 0;
    for s in STATES {
        for e in EVENTS {
            let (state, now) = build(s);
            let before = state.clone();
            let got = state
                .apply(&config, event(e), now)
                .map(|(next, effects)| (next.check(now), effects));
            assert_eq!(got, expected(s, e, now), "state {s:?} × event {e:?}");
            assert_eq!(state, before, "{s:?} × {e:?}: the input state is untouched");
            cases += 1;
        }
    }
    assert_eq!(cases, STATES.len() * EVENTS.len());
}

#[test]
fn the_gate_and_the_approval_recheck_per_state() {
    for s in STATES {
        let (state, now) = build(s);
        let gate = state.check(now);
        let recheck = state.ensure_can_approve(now);
        match s {
            S::Clear | S::BlockExpired => {
                assert_eq!(gate, Gate::Allowed);
                assert_eq!(recheck, Ok(()));
            }
            S::BlockedFraud | S::BlockedAndRisk | S::BlockedAdmin => {
                assert!(
                    matches!(recheck, Err(Error::Blocked { until, .. }) if until == at(PERIOD))
                );
                assert_eq!(state.next_deadline(now), Some(at(PERIOD)));
                // Time alone lifts the block exactly at its end.
                assert!(state.active_block(at(PERIOD - 1)).is_some());
                assert!(state.active_block(at(PERIOD)).is_none());
            }
            S::HighRisk => {
                assert_eq!(recheck, Err(Error::HighRisk { detections: 1 }));
                // Risk does not expire with time.
                assert!(!state.check(at(u64::MAX - T0)).is_allowed());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Configurations other than the table's.

fn report(channel: Channel, block_confirmed: bool, passwordless: bool) -> Event {
    Event::UserReport {
        channel,
        block_confirmed,
        passwordless,
    }
}

#[test]
fn both_features_off_refuse_reports() {
    let c = FraudConfig::disabled();
    assert_eq!(
        FraudState::new().apply(&c, report(Channel::App, false, false), at(0)),
        Err(Error::ReportingDisabled)
    );
    // Administrator block and unblock work whatever the features.
    let (s, _) = FraudState::new()
        .apply(&c, Event::AdminBlock { reason: "r".into() }, at(0))
        .unwrap();
    assert!(matches!(
        s.check(at(0)),
        Gate::Denied {
            blocked: Some((BlockCause::Administrator, _)),
            high_risk: None
        }
    ));
}

#[test]
fn fraud_alert_without_auto_block_takes_no_action() {
    let c = FraudConfig::default()
        .with_auto_block(false)
        .with_suspicious_activity(false);
    let (s, effects) = FraudState::new()
        .apply(&c, report(Channel::App, false, false), at(0))
        .unwrap();
    assert_eq!(s, FraudState::new());
    assert_eq!(
        effects,
        vec![
            sign_in(at(0)),
            audit(AuditActivity::FraudReportedNoAction, at(0), None)
        ]
    );
    // No confirmation was asked for, so one cannot arrive.
    assert_eq!(
        FraudState::new().apply(&c, report(Channel::Phone, true, false), at(0)),
        Err(Error::UnexpectedConfirmation)
    );
}

#[test]
fn suspicious_activity_only_raises_risk_and_never_blocks() {
    let c = FraudConfig::default().with_fraud_alert(false);
    let (s, effects) = FraudState::new()
        .apply(&c, report(Channel::App, false, false), at(0))
        .unwrap();
    assert_eq!(s.block, None);
    assert_eq!(
        effects,
        vec![
            sign_in(at(0)),
            audit(AuditActivity::FraudReported, at(0), None),
            risk(Channel::App, at(0)),
        ]
    );
    // Passwordless: the report is logged, no high risk.
    let (s, effects) = FraudState::new()
        .apply(&c, report(Channel::App, false, true), at(0))
        .unwrap();
    assert_eq!(s, FraudState::new());
    assert_eq!(
        effects,
        vec![
            sign_in(at(0)),
            audit(AuditActivity::FraudReported, at(0), None)
        ]
    );
}

#[test]
fn default_block_period_is_90_days() {
    let c = FraudConfig::default();
    let (s, _) = FraudState::new()
        .apply(&c, report(Channel::App, false, false), at(0))
        .unwrap();
    let ninety_days = 90 * 86_400;
    assert_eq!(s.block.as_ref().unwrap().until, at(ninety_days));
    assert!(s.active_block(at(ninety_days - 1)).is_some());
    assert!(s.active_block(at(ninety_days)).is_none());
}

#[test]
fn reasons_are_validated() {
    let c = config();
    let block =
        |r: &str| FraudState::new().apply(&c, Event::AdminBlock { reason: r.into() }, at(0));
    assert_eq!(block(""), Err(Error::EmptyReason));
    assert_eq!(
        block("stolen\nFraud reported"),
        Err(Error::ReasonControlChar { position: 6 })
    );
    let long = "x".repeat(mfa_fraud::MAX_REASON_LEN + 1);
    assert_eq!(
        block(&long),
        Err(Error::ReasonTooLong {
            len: mfa_fraud::MAX_REASON_LEN + 1,
            max: mfa_fraud::MAX_REASON_LEN
        })
    );
    assert!(block(&long[1..]).is_ok());
}

#[test]
fn detections_are_capped_but_counted() {
    let c = config();
    let mut s = FraudState::new();
    for i in 0..40 {
        s = s
            .apply(&c, report(Channel::App, false, false), at(i))
            .unwrap()
            .0;
    }
    let risk = s.risk.unwrap();
    assert_eq!(risk.detections, 40);
    assert_eq!(risk.recent.len(), mfa_fraud::MAX_KEPT_DETECTIONS);
    assert_eq!(risk.recent.last().unwrap().at, at(39));
    assert_eq!(risk.recent.first().unwrap().at, at(40 - 16));
}
