//! The verification pipeline: fraud gate, lockout, factor check, counters, log event.

use mfa_fraud::Gate;
use mfa_lockout::{AdminLockCause, Decision, FactorClass, LockoutState};
use mfa_oath::UnixTime;
use mfa_record::{AuthMode, AuthResult, DenialReason};

use super::tokens::{TOKEN_COLS, consume_step, token_from_row};
use super::{Store, lock_user_for, log_event};

use crate::db::{Mode, Tx};
use crate::state::save_lock;
use crate::{Error, VerifyContext, VerifyOutcome};

pub(super) fn denied(reason: DenialReason) -> VerifyOutcome {
    VerifyOutcome {
        result: AuthResult::Denied(reason),
        serial: None,
        step: None,
    }
}

/// The denial for a fraud gate that does not allow sign-in.
fn fraud_denial(gate: Gate) -> Option<DenialReason> {
    match gate {
        Gate::Allowed => None,
        Gate::Denied {
            blocked: Some((mfa_fraud::BlockCause::Administrator, until)),
            ..
        } => Some(DenialReason::AdminBlocked { until: Some(until) }),
        Gate::Denied {
            blocked: Some((_, until)),
            ..
        } => Some(DenialReason::FraudBlocked { until: Some(until) }),
        Gate::Denied { blocked: None, .. } => Some(DenialReason::HighUserRisk),
    }
}

/// The denial for a lockout decision that does not allow an attempt.
fn lock_denial(d: Decision) -> Option<DenialReason> {
    match d {
        Decision::Allowed { .. } => None,
        Decision::Locked { until, .. } => Some(DenialReason::Locked { until }),
        Decision::LockedUntilAdmin {
            cause: AdminLockCause::HardCap,
            ..
        } => Some(DenialReason::FailureCapReached),
        Decision::LockedUntilAdmin { .. } => Some(DenialReason::LockedUntilAdmin),
    }
}

/// What the factor-specific check decided.
pub(super) struct Checked {
    pub(super) outcome: VerifyOutcome,
    /// Whether the attempt counts for lockout (`Some(true)` success,
    /// `Some(false)` failure, `None` neither).
    pub(super) counts: Option<bool>,
}

impl Store {
    /// Verifies an OATH code for `user` at `now`, in one transaction:
    /// fraud block → lockout → OATH verification against the user's active
    /// tokens → consume the matched step (replay-safe across servers) →
    /// lockout counters → authentication log event.
    ///
    /// Denials are returned in the outcome with the mfa-record reason (they
    /// are logged and counted, the transaction commits); errors mean
    /// nothing was recorded.
    ///
    /// # Errors
    /// Database errors, [`Error::Unseal`] (a token sealed with another key),
    /// [`Error::Record`] for a user id mfa-record does not accept.
    pub fn verify(
        &self,
        user: &str,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        self.pipeline(user, now, ctx, AuthMode::OathCode, FactorClass::Otp, |tx| {
            self.check_oath(tx, user, code, now)
        })
    }

    /// The common pipeline of every code check.
    pub(super) fn pipeline(
        &self,
        user: &str,
        now: UnixTime,
        ctx: &VerifyContext,
        mode: AuthMode,
        class: FactorClass,
        mut check: impl FnMut(&mut dyn Tx) -> Result<Checked, Error>,
    ) -> Result<VerifyOutcome, Error> {
        let policy = *self.config.lockout.get(class);
        self.pool.run(Mode::Write, |tx| {
            let Some((profile, fraud, lock)) = lock_user_for(tx, user, class)? else {
                let outcome = denied(DenialReason::UnknownUser);
                log_event(
                    tx,
                    &self.config.fields,
                    now,
                    user,
                    None,
                    mode,
                    outcome.result,
                    None,
                    ctx,
                )?;
                return Ok(outcome);
            };
            let outcome = if let Some(reason) = fraud_denial(fraud.check(now)) {
                // Blocked or at risk: denied without looking at the code,
                // not counted as a lockout failure.
                denied(reason)
            } else if let Some(reason) = lock_denial(lock.check(&policy, now)) {
                // Locked: denied without being verified. The lock is
                // extended only when the policy says so.
                if policy.extend_while_locked() {
                    let (next, _) = lock.record_failure(&policy, now).map_err(Error::Lockout)?;
                    save_lock(tx, user, class, &next)?;
                }
                denied(reason)
            } else {
                let checked = check(tx)?;
                let outcome = checked.outcome;
                match checked.counts {
                    Some(true) if lock != LockoutState::new() => {
                        // Also the approval-time re-check of the lock.
                        let (next, _) =
                            lock.record_success(&policy, now).map_err(Error::Lockout)?;
                        save_lock(tx, user, class, &next)?;
                    }
                    Some(true) | None => {}
                    Some(false) => {
                        let (next, _) =
                            lock.record_failure(&policy, now).map_err(Error::Lockout)?;
                        save_lock(tx, user, class, &next)?;
                    }
                }
                if outcome.is_approved() {
                    // Approval-time re-check of the fraud state too.
                    fraud.ensure_can_approve(now).map_err(Error::Fraud)?;
                }
                outcome
            };
            log_event(
                tx,
                &self.config.fields,
                now,
                user,
                Some(&profile),
                mode,
                outcome.result,
                outcome.serial.as_deref(),
                ctx,
            )?;
            Ok(outcome)
        })
    }

    fn check_oath(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        code: &str,
        now: UnixTime,
    ) -> Result<Checked, Error> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE user_id = $1 AND active = 1 ORDER BY serial{}",
            tx.for_update()
        );
        let rows = tx.query("tokens", &sql, &[user.into()])?;
        if rows.is_empty() {
            return Ok(Checked {
                outcome: denied(DenialReason::NotActivated),
                counts: Some(false),
            });
        }
        // Of several tokens' refusals, report the most telling: a replay,
        // then a wrong code, then a malformed one.
        let mut best: Option<(u8, DenialReason, Option<String>)> = None;
        for r in &rows {
            let t = token_from_row(r)?;
            if t.key_id != self.keys.key_id {
                return Err(Error::Unseal { serial: t.serial });
            }
            let refusal = match t.check(&self.keys, code, now, &self.config)? {
                Ok(step) => {
                    if consume_step(tx, &t.serial, step)? {
                        return Ok(Checked {
                            outcome: VerifyOutcome {
                                result: AuthResult::Success,
                                serial: Some(t.serial),
                                step: Some(step),
                            },
                            counts: Some(true),
                        });
                    }
                    // Another server consumed it first.
                    mfa_oath::Error::CodeReplayed { step }
                }
                Err(e) => e,
            };
            let rank = match refusal {
                mfa_oath::Error::CodeReplayed { .. } => 3,
                mfa_oath::Error::CodeNotInWindow => 2,
                mfa_oath::Error::CodeFormat { .. } => 0,
                _ => 1,
            };
            if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                best = Some((rank, DenialReason::from(&refusal), Some(t.serial)));
            }
        }
        let (reason, serial) = best
            .map(|(_, r, s)| (r, s))
            .unwrap_or((DenialReason::CodeWrong, None));
        let step = match reason {
            DenialReason::CodeReplayed { step } => Some(step),
            _ => None,
        };
        let serial = if step.is_some() { serial } else { None };
        Ok(Checked {
            outcome: VerifyOutcome {
                result: AuthResult::Denied(reason),
                serial,
                step,
            },
            counts: Some(false),
        })
    }
}
