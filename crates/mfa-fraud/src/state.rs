//! The fraud state of one user, its events and its effects.

use core::fmt;

use mfa_time::UnixTime;

use crate::{Error, FraudConfig};

/// The longest administrator reason comment accepted, in bytes (mfa-lockout's
/// limit: one rule for both, [`mfa_lockout::check_reason`]).
pub const MAX_REASON_LEN: usize = mfa_lockout::MAX_REASON_LEN;

/// Risk detections kept in the state (the oldest are dropped beyond this;
/// [`Risk::detections`] still counts them all).
pub const MAX_KEPT_DETECTIONS: usize = 16;

/// Where a user report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The mobile app ("report fraud" / "report suspicious activity").
    App,
    /// The verification phone call (`<code>#`, see [`crate::parse_keypad`]).
    Phone,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::App => "mobile app",
            Channel::Phone => "phone call",
        })
    }
}

/// Why a user is blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockCause {
    /// The user reported fraud with auto-block on.
    FraudReport(Channel),
    /// An administrator blocked the user.
    Administrator,
}

impl fmt::Display for BlockCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockCause::FraudReport(channel) => write!(f, "fraud reported via {channel}"),
            BlockCause::Administrator => f.write_str("blocked by an administrator"),
        }
    }
}

/// The block part of the state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Block {
    /// Why.
    pub cause: BlockCause,
    /// When the block started.
    pub since: UnixTime,
    /// The first instant at which the block no longer applies (since + the
    /// block period; a later report can push it out).
    pub until: UnixTime,
    /// The administrator's reason comment (`None` for a fraud report).
    pub comment: Option<String>,
}

/// How a risk was remediated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Remediation {
    /// The user's password was reset (self-service or by an administrator).
    PasswordReset,
    /// An administrator dismissed the risk.
    AdminDismissal,
}

/// The type of a risk detection. The reference has exactly one that this
/// machine raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RiskEventType {
    /// `userReportedSuspiciousActivity`.
    UserReportedSuspiciousActivity,
}

impl RiskEventType {
    /// The reference system's name, e.g. `userReportedSuspiciousActivity`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskEventType::UserReportedSuspiciousActivity => "userReportedSuspiciousActivity",
        }
    }
}

/// A risk level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RiskLevel {
    /// `high`.
    High,
}

impl RiskLevel {
    /// The reference system's name, e.g. `high`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskLevel::High => "high",
        }
    }
}

/// A risk detection (an effect, and kept in the [`Risk`] state). The
/// reporting user is the user this state belongs to; the caller adds the ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RiskDetection {
    /// Always [`RiskEventType::UserReportedSuspiciousActivity`] here.
    pub event_type: RiskEventType,
    /// Always [`RiskLevel::High`] here.
    pub level: RiskLevel,
    /// When the user reported.
    pub at: UnixTime,
    /// How the user reported.
    pub channel: Channel,
}

/// The risk part of the state: high, with its detections.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Risk {
    /// All detections since the last remediation (saturating).
    pub detections: u32,
    /// The most recent detections, oldest first, at most
    /// [`MAX_KEPT_DETECTIONS`].
    pub recent: Vec<RiskDetection>,
}

/// The fraud state of one user: the block and the risk, independent of
/// each other. The caller stores it and passes it in with each event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FraudState {
    /// The block, if any (possibly expired: expiry is lazy, see
    /// [`FraudState::check`]).
    pub block: Option<Block>,
    /// High risk, if any.
    pub risk: Option<Risk>,
}

/// An event for the fraud machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    /// The user reports an MFA prompt they did not start (fraud alert and/or
    /// suspicious-activity reporting, whichever are on).
    UserReport {
        /// App or phone.
        channel: Channel,
        /// On the phone with auto-block on: the user pressed `1` to confirm
        /// the block. Ignored for the app, where the report itself confirms.
        block_confirmed: bool,
        /// The sign-in is passwordless: no high risk is raised.
        passwordless: bool,
    },
    /// An administrator blocks the user, with a reason comment.
    AdminBlock {
        /// The reason comment (required).
        reason: String,
    },
    /// An administrator unblocks the user, with a reason comment.
    AdminUnblock {
        /// The reason comment (required).
        reason: String,
    },
    /// The block period has passed (the caller's timer, or a sweep). Time
    /// alone already lifts the block in [`FraudState::check`]; this event
    /// clears it from the state and logs it.
    BlockExpired,
    /// The user's high risk was remediated.
    RiskRemediated {
        /// How.
        how: Remediation,
    },
}

/// An audit log activity. The texts are those of the reference system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditActivity {
    /// Fraud alert with auto-block: "Fraud reported – user is blocked for MFA".
    FraudReportedUserBlocked,
    /// Fraud alert without a block: "Fraud reported – no action taken".
    FraudReportedNoAction,
    /// Suspicious-activity report: "Fraud reported".
    FraudReported,
    /// "User blocked for MFA" (by an administrator).
    UserBlocked,
    /// "User unblocked for MFA" (by an administrator).
    UserUnblocked,
    /// "Block expired".
    BlockExpired,
    /// "User risk remediated".
    RiskRemediated,
}

impl AuditActivity {
    /// The activity text.
    ///
    /// ```
    /// use mfa_fraud::AuditActivity;
    /// assert_eq!(AuditActivity::FraudReportedUserBlocked.as_str(), "Fraud reported – user is blocked for MFA");
    /// assert_eq!(AuditActivity::FraudReportedNoAction.as_str(), "Fraud reported – no action taken");
    /// assert_eq!(AuditActivity::FraudReported.as_str(), "Fraud reported");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditActivity::FraudReportedUserBlocked => "Fraud reported – user is blocked for MFA",
            AuditActivity::FraudReportedNoAction => "Fraud reported – no action taken",
            AuditActivity::FraudReported => "Fraud reported",
            AuditActivity::UserBlocked => "User blocked for MFA",
            AuditActivity::UserUnblocked => "User unblocked for MFA",
            AuditActivity::BlockExpired => "Block expired",
            AuditActivity::RiskRemediated => "User risk remediated",
        }
    }
}

impl fmt::Display for AuditActivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sign-in log result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignInResult {
    /// "MFA denied, fraud code entered".
    MfaDeniedFraudCodeEntered,
}

impl SignInResult {
    /// The result text.
    ///
    /// ```
    /// assert_eq!(
    ///     mfa_fraud::SignInResult::MfaDeniedFraudCodeEntered.as_str(),
    ///     "MFA denied, fraud code entered"
    /// );
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            SignInResult::MfaDeniedFraudCodeEntered => "MFA denied, fraud code entered",
        }
    }
}

/// Something the caller must carry out (write a log entry, send mail, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Effect {
    /// Write an audit log entry.
    Audit {
        /// The activity.
        activity: AuditActivity,
        /// When.
        at: UnixTime,
        /// The administrator's reason comment, if any.
        comment: Option<String>,
    },
    /// Record the result of the reported sign-in (and deny it).
    SignIn {
        /// The result.
        result: SignInResult,
        /// When.
        at: UnixTime,
    },
    /// Record a risk detection.
    RiskDetected(RiskDetection),
    /// Notify the configured administrators that fraud was reported.
    NotifyAdministrators {
        /// The configured recipients (never empty).
        recipients: Vec<String>,
        /// How the user reported.
        channel: Channel,
        /// Whether the user is now blocked.
        user_blocked: bool,
        /// When.
        at: UnixTime,
    },
}

/// Whether a sign-in may proceed, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Neither blocked nor at risk.
    Allowed,
    /// Deny automatically, without prompting.
    Denied {
        /// The active block, if any: cause and end.
        blocked: Option<(BlockCause, UnixTime)>,
        /// Detections since the last remediation, if at high risk.
        high_risk: Option<u32>,
    },
}

impl Gate {
    /// `true` for [`Gate::Allowed`].
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Gate::Allowed)
    }
}

/// mfa-lockout's one rule for an administrator's reason, with this crate's
/// errors.
fn validate_reason(reason: &str) -> Result<String, Error> {
    use mfa_lockout::ReasonProblem;
    match mfa_lockout::check_reason(reason) {
        Ok(trimmed) => Ok(trimmed.to_owned()),
        Err(ReasonProblem::Empty) => Err(Error::EmptyReason),
        Err(ReasonProblem::TooLong { len }) => Err(Error::ReasonTooLong {
            len,
            max: MAX_REASON_LEN,
        }),
        Err(ReasonProblem::ControlChar { position }) => Err(Error::ReasonControlChar { position }),
        // ReasonProblem is non_exhaustive: a problem added later is still
        // a refusal, never an accepted reason.
        Err(_) => Err(Error::EmptyReason),
    }
}

impl FraudState {
    /// Neither blocked nor at risk.
    pub const fn new() -> FraudState {
        FraudState {
            block: None,
            risk: None,
        }
    }

    /// The block if it applies at `now` (a block stops applying at `until`).
    pub fn active_block(&self, now: UnixTime) -> Option<&Block> {
        self.block.as_ref().filter(|b| now < b.until)
    }

    /// Whether a sign-in may proceed at `now`. A blocked user is denied
    /// until the block ends or an administrator lifts it; a user at high risk
    /// is denied until the risk is remediated; both must be cleared when
    /// both apply. Does not change the state.
    ///
    /// ```
    /// use mfa_fraud::{FraudState, Gate};
    /// use mfa_time::UnixTime;
    /// assert_eq!(FraudState::new().check(UnixTime::from_secs(0)), Gate::Allowed);
    /// ```
    pub fn check(&self, now: UnixTime) -> Gate {
        let blocked = self.active_block(now).map(|b| (b.cause, b.until));
        let high_risk = self.risk.as_ref().map(|r| r.detections);
        if blocked.is_none() && high_risk.is_none() {
            Gate::Allowed
        } else {
            Gate::Denied { blocked, high_risk }
        }
    }

    /// [`FraudState::check`] as a `Result`. Call it on every path that can
    /// approve a sign-in, at the moment of approval: a prompt sent before a
    /// block must not be approved after it.
    ///
    /// # Errors
    ///
    /// [`Error::Blocked`] when blocked at `now` (checked first), else
    /// [`Error::HighRisk`] when at high risk.
    ///
    /// ```
    /// use mfa_fraud::{Channel, Error, Event, FraudConfig, FraudState};
    /// use mfa_time::UnixTime;
    /// let t = UnixTime::from_secs(1_000);
    /// let report = Event::UserReport { channel: Channel::App, block_confirmed: false, passwordless: false };
    /// let (state, _) = FraudState::new().apply(&FraudConfig::default(), report, t)?;
    /// assert!(matches!(state.ensure_can_approve(t), Err(Error::Blocked { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn ensure_can_approve(&self, now: UnixTime) -> Result<(), Error> {
        if let Some(b) = self.active_block(now) {
            return Err(Error::Blocked {
                cause: b.cause,
                until: b.until,
            });
        }
        if let Some(r) = &self.risk {
            return Err(Error::HighRisk {
                detections: r.detections,
            });
        }
        Ok(())
    }

    /// The next instant at which time alone changes [`FraudState::check`]:
    /// the end of an active block.
    pub fn next_deadline(&self, now: UnixTime) -> Option<UnixTime> {
        self.active_block(now).map(|b| b.until)
    }

    /// Applies one event at `now`: returns the new state and the effects to
    /// carry out, in order. The input state is not changed, so on an error
    /// there is nothing to store.
    ///
    /// * [`Event::UserReport`] — always a [`SignIn`](Effect::SignIn) result
    ///   "MFA denied, fraud code entered". With fraud alert on: the user is
    ///   blocked for the block period when auto-block is on and the report is
    ///   confirmed (the app, or `1` on the phone; a report while already
    ///   blocked pushes the end out), with audit "Fraud reported – user is
    ///   blocked for MFA", else audit "Fraud reported – no action taken"; and
    ///   the administrators are notified. With suspicious-activity reporting
    ///   on: audit "Fraud reported" and, unless the sign-in is passwordless, a
    ///   `userReportedSuspiciousActivity` detection at level high, which sets
    ///   the user at high risk.
    /// * [`Event::AdminBlock`] / [`Event::AdminUnblock`] — with a reason.
    /// * [`Event::BlockExpired`] — clears a block whose period has passed.
    /// * [`Event::RiskRemediated`] — clears the high risk.
    ///
    /// # Errors
    ///
    /// [`Error::ReportingDisabled`] (report with both features off),
    /// [`Error::UnexpectedConfirmation`] (phone confirmation with auto-block
    /// off), [`Error::AlreadyBlocked`], [`Error::NotBlocked`],
    /// [`Error::NotExpired`], [`Error::NoRisk`], and the reason errors
    /// ([`Error::EmptyReason`], [`Error::ReasonTooLong`],
    /// [`Error::ReasonControlChar`]).
    ///
    /// ```
    /// use mfa_fraud::{AuditActivity, Channel, Effect, Event, FraudConfig, FraudState, Gate};
    /// use mfa_time::UnixTime;
    ///
    /// let config = FraudConfig::default().with_recipients(["secops@example.com"])?;
    /// let t = UnixTime::from_secs(1_700_000_000);
    /// let report = Event::UserReport { channel: Channel::Phone, block_confirmed: true, passwordless: false };
    /// let (state, effects) = FraudState::new().apply(&config, report, t)?;
    /// assert!(effects.iter().any(|e| matches!(e,
    ///     Effect::Audit { activity: AuditActivity::FraudReportedUserBlocked, .. })));
    /// assert!(effects.iter().any(|e| matches!(e, Effect::RiskDetected(_))));
    ///
    /// // Blocked and at high risk: both must be cleared.
    /// let unblock = Event::AdminUnblock { reason: "user confirmed it was them".into() };
    /// let (state, _) = state.apply(&config, unblock, t)?;
    /// assert!(!state.check(t).is_allowed());
    /// let remediate = Event::RiskRemediated { how: mfa_fraud::Remediation::PasswordReset };
    /// let (state, _) = state.apply(&config, remediate, t)?;
    /// assert_eq!(state.check(t), Gate::Allowed);
    /// # Ok::<(), mfa_fraud::Error>(())
    /// ```
    pub fn apply(
        &self,
        config: &FraudConfig,
        event: Event,
        now: UnixTime,
    ) -> Result<(FraudState, Vec<Effect>), Error> {
        match event {
            Event::UserReport {
                channel,
                block_confirmed,
                passwordless,
            } => self.user_report(config, channel, block_confirmed, passwordless, now),
            Event::AdminBlock { reason } => {
                let comment = validate_reason(&reason)?;
                if let Some(b) = self.active_block(now) {
                    return Err(Error::AlreadyBlocked {
                        cause: b.cause,
                        until: b.until,
                    });
                }
                let next = FraudState {
                    block: Some(Block {
                        cause: BlockCause::Administrator,
                        since: now,
                        until: add(now, config.block_period_secs()),
                        comment: Some(comment.clone()),
                    }),
                    risk: self.risk.clone(),
                };
                Ok((
                    next,
                    vec![audit(AuditActivity::UserBlocked, now, Some(comment))],
                ))
            }
            Event::AdminUnblock { reason } => {
                let comment = validate_reason(&reason)?;
                if self.active_block(now).is_none() {
                    return Err(Error::NotBlocked);
                }
                let next = FraudState {
                    block: None,
                    risk: self.risk.clone(),
                };
                Ok((
                    next,
                    vec![audit(AuditActivity::UserUnblocked, now, Some(comment))],
                ))
            }
            Event::BlockExpired => match &self.block {
                None => Err(Error::NotBlocked),
                Some(b) if now < b.until => Err(Error::NotExpired { until: b.until }),
                Some(_) => {
                    let next = FraudState {
                        block: None,
                        risk: self.risk.clone(),
                    };
                    Ok((next, vec![audit(AuditActivity::BlockExpired, now, None)]))
                }
            },
            Event::RiskRemediated { how } => {
                if self.risk.is_none() {
                    return Err(Error::NoRisk);
                }
                let next = FraudState {
                    block: self.block.clone(),
                    risk: None,
                };
                let comment = match how {
                    Remediation::PasswordReset => "password reset",
                    Remediation::AdminDismissal => "dismissed by an administrator",
                };
                Ok((
                    next,
                    vec![audit(
                        AuditActivity::RiskRemediated,
                        now,
                        Some(comment.to_owned()),
                    )],
                ))
            }
        }
    }

    fn user_report(
        &self,
        config: &FraudConfig,
        channel: Channel,
        block_confirmed: bool,
        passwordless: bool,
        now: UnixTime,
    ) -> Result<(FraudState, Vec<Effect>), Error> {
        if !config.fraud_alert() && !config.suspicious_activity() {
            return Err(Error::ReportingDisabled);
        }
        if channel == Channel::Phone && block_confirmed && !config.auto_block() {
            return Err(Error::UnexpectedConfirmation);
        }
        let mut next = self.clone();
        let mut effects = vec![Effect::SignIn {
            result: SignInResult::MfaDeniedFraudCodeEntered,
            at: now,
        }];
        if config.fraud_alert() {
            let confirmed = channel == Channel::App || block_confirmed;
            let block = config.auto_block() && confirmed;
            if block {
                let until = add(now, config.block_period_secs());
                next.block = Some(match self.active_block(now) {
                    // Already blocked: keep the cause and start, push the end out.
                    Some(b) => Block {
                        until: b.until.max(until),
                        ..b.clone()
                    },
                    None => Block {
                        cause: BlockCause::FraudReport(channel),
                        since: now,
                        until,
                        comment: None,
                    },
                });
            }
            effects.push(audit(
                if block {
                    AuditActivity::FraudReportedUserBlocked
                } else {
                    AuditActivity::FraudReportedNoAction
                },
                now,
                None,
            ));
            if !config.recipients().is_empty() {
                effects.push(Effect::NotifyAdministrators {
                    recipients: config.recipients().to_vec(),
                    channel,
                    user_blocked: next.active_block(now).is_some(),
                    at: now,
                });
            }
        }
        if config.suspicious_activity() {
            effects.push(audit(AuditActivity::FraudReported, now, None));
            if !passwordless {
                let detection = RiskDetection {
                    event_type: RiskEventType::UserReportedSuspiciousActivity,
                    level: RiskLevel::High,
                    at: now,
                    channel,
                };
                let mut risk = next.risk.take().unwrap_or(Risk {
                    detections: 0,
                    recent: Vec::new(),
                });
                risk.detections = risk.detections.saturating_add(1);
                if risk.recent.len() >= MAX_KEPT_DETECTIONS {
                    risk.recent.remove(0);
                }
                risk.recent.push(detection);
                next.risk = Some(risk);
                effects.push(Effect::RiskDetected(detection));
            }
        }
        Ok((next, effects))
    }
}

fn add(t: UnixTime, secs: u64) -> UnixTime {
    UnixTime::from_secs(t.secs().saturating_add(secs))
}

fn audit(activity: AuditActivity, at: UnixTime, comment: Option<String>) -> Effect {
    Effect::Audit {
        activity,
        at,
        comment,
    }
}
