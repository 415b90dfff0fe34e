//! The fraud machine against a tiny reference model
//! (proptest-state-machine): random configurations, random event sequences
//! with time passing, and after every step the gate, the error or success,
//! and the kinds of effects must agree with the model.

// Test helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mfa_fraud::{
    AuditActivity, Channel, Effect, Error, Event, FraudConfig, FraudState, Gate, Remediation,
};
use mfa_time::UnixTime;
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

#[derive(Debug, Clone, Copy)]
struct Cfg {
    fa: bool,
    auto: bool,
    sa: bool,
    notify: bool,
    period: u64,
}

impl Cfg {
    fn real(self) -> FraudConfig {
        let c = FraudConfig::default()
            .with_fraud_alert(self.fa)
            .with_auto_block(self.auto)
            .with_suspicious_activity(self.sa)
            .with_block_period(self.period)
            .unwrap();
        if self.notify {
            c.with_recipients(["admin@example.com"]).unwrap()
        } else {
            c
        }
    }
}

/// Expected outcome of the last step, in the model's own words.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Ok(Vec<&'static str>),
    Err(&'static str),
}

#[derive(Debug, Clone)]
struct Model {
    cfg: Cfg,
    now: u64,
    /// End of the block; a block applies while now < end.
    block_end: Option<u64>,
    /// Risk detections since the last remediation (0 = no risk).
    risk: u32,
    expect: Expect,
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u64),
    Report {
        app: bool,
        confirmed: bool,
        passwordless: bool,
    },
    AdminBlock,
    AdminUnblock,
    Expire,
    Remediate,
}

struct FraudMachine;

impl ReferenceStateMachine for FraudMachine {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            1u64..500,
        )
            .prop_map(|(fa, auto, sa, notify, period)| Model {
                cfg: Cfg {
                    fa,
                    auto,
                    sa,
                    notify,
                    period,
                },
                now: 1_000_000,
                block_end: None,
                risk: 0,
                expect: Expect::Ok(vec![]),
            })
            .boxed()
    }

    fn transitions(m: &Model) -> BoxedStrategy<Step> {
        let mut waits = vec![0, 1, m.cfg.period];
        if let Some(end) = m.block_end
            && end > m.now
        {
            waits.push(end - m.now);
            waits.push(end - m.now - 1);
        }
        prop_oneof![
            3 => (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
                |(app, confirmed, passwordless)| Step::Report { app, confirmed, passwordless }
            ),
            1 => Just(Step::AdminBlock),
            1 => Just(Step::AdminUnblock),
            1 => Just(Step::Expire),
            1 => Just(Step::Remediate),
            2 => prop::sample::select(waits).prop_map(Step::Wait),
        ]
        .boxed()
    }

    fn apply(mut m: Model, step: &Step) -> Model {
        let blocked = m.block_end.is_some_and(|e| m.now < e);
        let end = m.now + m.cfg.period;
        m.expect = match *step {
            Step::Wait(s) => {
                m.now += s;
                Expect::Ok(vec![])
            }
            Step::Report {
                app,
                confirmed,
                passwordless,
            } => {
                let auto = m.cfg.fa && m.cfg.auto;
                if !m.cfg.fa && !m.cfg.sa {
                    Expect::Err("ReportingDisabled")
                } else if !app && confirmed && !auto {
                    Expect::Err("UnexpectedConfirmation")
                } else {
                    let mut fx = vec!["signin"];
                    if m.cfg.fa {
                        if auto && (app || confirmed) {
                            m.block_end = Some(if blocked {
                                m.block_end.unwrap().max(end)
                            } else {
                                end
                            });
                            fx.push("audit:blocked");
                        } else {
                            fx.push("audit:no-action");
                        }
                        if m.cfg.notify {
                            fx.push("notify");
                        }
                    }
                    if m.cfg.sa {
                        fx.push("audit:reported");
                        if !passwordless {
                            m.risk += 1;
                            fx.push("risk");
                        }
                    }
                    Expect::Ok(fx)
                }
            }
            Step::AdminBlock if blocked => Expect::Err("AlreadyBlocked"),
            Step::AdminBlock => {
                m.block_end = Some(end);
                Expect::Ok(vec!["audit:user-blocked"])
            }
            Step::AdminUnblock if blocked => {
                m.block_end = None;
                Expect::Ok(vec!["audit:user-unblocked"])
            }
            Step::AdminUnblock => Expect::Err("NotBlocked"),
            Step::Expire => match m.block_end {
                None => Expect::Err("NotBlocked"),
                Some(_) if blocked => Expect::Err("NotExpired"),
                Some(_) => {
                    m.block_end = None;
                    Expect::Ok(vec!["audit:expired"])
                }
            },
            Step::Remediate if m.risk == 0 => Expect::Err("NoRisk"),
            Step::Remediate => {
                m.risk = 0;
                Expect::Ok(vec!["audit:remediated"])
            }
        };
        m
    }
}

fn kind(e: &Effect) -> &'static str {
    match e {
        Effect::SignIn { .. } => "signin",
        Effect::Audit { activity, .. } => match activity {
            AuditActivity::FraudReportedUserBlocked => "audit:blocked",
            AuditActivity::FraudReportedNoAction => "audit:no-action",
            AuditActivity::FraudReported => "audit:reported",
            AuditActivity::UserBlocked => "audit:user-blocked",
            AuditActivity::UserUnblocked => "audit:user-unblocked",
            AuditActivity::BlockExpired => "audit:expired",
            AuditActivity::RiskRemediated => "audit:remediated",
            _ => "audit:?",
        },
        Effect::RiskDetected(_) => "risk",
        Effect::NotifyAdministrators { .. } => "notify",
        _ => "?",
    }
}

fn err_name(e: &Error) -> &'static str {
    match e {
        Error::ReportingDisabled => "ReportingDisabled",
        Error::UnexpectedConfirmation => "UnexpectedConfirmation",
        Error::AlreadyBlocked { .. } => "AlreadyBlocked",
        Error::NotBlocked => "NotBlocked",
        Error::NotExpired { .. } => "NotExpired",
        Error::NoRisk => "NoRisk",
        _ => "other",
    }
}

struct Sut {
    config: FraudConfig,
    now: u64,
    state: FraudState,
}

impl StateMachineTest for FraudMachine {
    type SystemUnderTest = Sut;
    type Reference = FraudMachine;

    fn init_test(m: &Model) -> Sut {
        Sut {
            config: m.cfg.real(),
            now: m.now,
            state: FraudState::new(),
        }
    }

    fn apply(mut sut: Sut, m: &Model, step: Step) -> Sut {
        let event = match step {
            Step::Wait(s) => {
                sut.now += s;
                return sut;
            }
            Step::Report {
                app,
                confirmed,
                passwordless,
            } => Event::UserReport {
                channel: if app { Channel::App } else { Channel::Phone },
                block_confirmed: confirmed,
                passwordless,
            },
            Step::AdminBlock => Event::AdminBlock {
                reason: "model".into(),
            },
            Step::AdminUnblock => Event::AdminUnblock {
                reason: "model".into(),
            },
            Step::Expire => Event::BlockExpired,
            Step::Remediate => Event::RiskRemediated {
                how: Remediation::AdminDismissal,
            },
        };
        let now = UnixTime::from_secs(sut.now);
        let before = sut.state.clone();
        let got = match sut.state.apply(&sut.config, event, now) {
            Ok((next, effects)) => {
                sut.state = next;
                Expect::Ok(effects.iter().map(kind).collect())
            }
            Err(e) => {
                assert_eq!(sut.state, before);
                Expect::Err(err_name(&e))
            }
        };
        assert_eq!(got, m.expect);
        sut
    }

    fn check_invariants(sut: &Sut, m: &Model) {
        let now = UnixTime::from_secs(sut.now);
        let blocked = m.block_end.filter(|e| m.now < *e);
        let gate = sut.state.check(now);
        match gate {
            Gate::Allowed => {
                assert!(blocked.is_none() && m.risk == 0);
                assert_eq!(sut.state.ensure_can_approve(now), Ok(()));
            }
            Gate::Denied {
                blocked: b,
                high_risk,
            } => {
                assert_eq!(b.map(|(_, until)| until.secs()), blocked);
                assert_eq!(high_risk, (m.risk > 0).then_some(m.risk));
                assert!(sut.state.ensure_can_approve(now).is_err());
            }
        }
        assert_eq!(sut.state.next_deadline(now).map(UnixTime::secs), blocked);
        if let Some(r) = &sut.state.risk {
            assert!(r.recent.len() <= mfa_fraud::MAX_KEPT_DETECTIONS);
            assert!(r.detections as usize >= r.recent.len());
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn fraud_matches_reference_model(sequential 1..50 => FraudMachine);
}
