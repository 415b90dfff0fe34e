//! Fraud events, blocks and risk.

use mfa_fraud::{Effect, Event, FraudState, Remediation};
use mfa_oath::UnixTime;
use mfa_record::{AuthMode, AuthResult, DenialReason};

use super::{Store, audit, lock_user, log_event};

use crate::db::Mode;
use crate::state::{FRAUD_COLS, fraud_from_row, save_fraud};
use crate::{Error, VerifyContext};

impl Store {
    /// Applies a fraud event (mfa-fraud) to a user in one transaction and
    /// carries out the effects the store can: audit entries and risk
    /// detections go to the audit log, the sign-in result ("MFA denied,
    /// fraud code entered") to the authentication log. Returns all the
    /// effects, so the caller can send the administrator notifications.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::Fraud`] for an event that does not
    /// apply (e.g. unblocking a user who is not blocked), database errors.
    pub fn fraud_event(
        &self,
        user: &str,
        event: Event,
        actor: Option<&str>,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        self.pool.run(Mode::Write, |tx| {
            let (profile, state) = lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let channel = match &event {
                Event::UserReport { channel, .. } => Some(*channel),
                _ => None,
            };
            let (next, effects) = state
                .apply(&self.config.fraud, event.clone(), now)
                .map_err(Error::Fraud)?;
            save_fraud(tx, user, &next)?;
            for e in &effects {
                match e {
                    Effect::Audit {
                        activity, comment, ..
                    } => audit(
                        tx,
                        now,
                        Some(user),
                        activity.as_str(),
                        actor,
                        comment.as_deref(),
                    )?,
                    Effect::RiskDetected(d) => {
                        let what = format!("{} {}", d.event_type.as_str(), d.level.as_str());
                        audit(tx, now, Some(user), "Risk detected", actor, Some(&what))?;
                    }
                    Effect::SignIn { result, .. } => {
                        let reason = match result {
                            mfa_fraud::SignInResult::MfaDeniedFraudCodeEntered => {
                                DenialReason::FraudCodeEntered
                            }
                            _ => DenialReason::FraudCodeEntered,
                        };
                        let mode = match channel {
                            Some(mfa_fraud::Channel::Phone) => AuthMode::PhoneCall,
                            _ => AuthMode::MobileAppNotification,
                        };
                        log_event(
                            tx,
                            &self.config.fields,
                            now,
                            user,
                            Some(&profile),
                            mode,
                            AuthResult::Denied(reason),
                            None,
                            ctx,
                        )?;
                    }
                    // Notifications are the caller's to send.
                    _ => {}
                }
            }
            Ok(effects)
        })
    }

    /// A user reported fraud (an MFA prompt they did not start) from the
    /// app or on the phone call: [`Store::fraud_event`] with
    /// [`Event::UserReport`].
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn report_fraud(
        &self,
        user: &str,
        channel: mfa_fraud::Channel,
        block_confirmed: bool,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::UserReport {
            channel,
            block_confirmed,
            passwordless: false,
        };
        self.fraud_event(user, event, Some(user), now, ctx)
    }

    /// Administrator block with a logged reason.
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn fraud_block(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::AdminBlock {
            reason: reason.to_owned(),
        };
        self.fraud_event(user, event, Some(actor), now, ctx)
    }

    /// Administrator unblock with a logged reason.
    ///
    /// # Errors
    /// As [`Store::fraud_event`] ([`mfa_fraud::Error::NotBlocked`] if not blocked).
    pub fn fraud_unblock(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::AdminUnblock {
            reason: reason.to_owned(),
        };
        self.fraud_event(user, event, Some(actor), now, ctx)
    }

    /// Clears high user risk (password reset or administrator dismissal).
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn remediate_risk(
        &self,
        user: &str,
        actor: &str,
        how: Remediation,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        self.fraud_event(user, Event::RiskRemediated { how }, Some(actor), now, ctx)
    }

    /// The fraud state of a user.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn fraud_state(&self, user: &str) -> Result<FraudState, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {FRAUD_COLS} FROM users WHERE user_id = $1");
            let r = tx
                .query_opt("users", &sql, &[user.into()])?
                .ok_or_else(|| Error::UnknownUser {
                    user: user.to_owned(),
                })?;
            fraud_from_row(&r, 0)
        })
    }

    /// Whether the user is at high risk (a suspicious-activity report not
    /// yet remediated).
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn user_at_risk(&self, user: &str) -> Result<bool, Error> {
        Ok(self.fraud_state(user)?.risk.is_some())
    }
}
