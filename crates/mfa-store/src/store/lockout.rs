//! Lockout administration.

use mfa_lockout::{Decision, FactorClass, LockoutState};
use mfa_oath::UnixTime;

use super::{Store, audit, lock_user};

use crate::Error;
use crate::db::Mode;
use crate::state::{load_lock, save_lock};

impl Store {
    /// Administrator unblock of a lockout, with a logged reason.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::Lockout`] (e.g. not locked),
    /// database errors.
    pub fn lockout_unblock(
        &self,
        user: &str,
        class: FactorClass,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<mfa_lockout::Unblocked, Error> {
        let policy = *self.config.lockout.get(class);
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let (next, effect) = load_lock(tx, user, class)?
                .admin_unblock(&policy, now, reason)
                .map_err(Error::Lockout)?;
            save_lock(tx, user, class, &next)?;
            let what = format!("{}: {}", class.as_str(), effect.reason);
            audit(
                tx,
                now,
                Some(user),
                "lockout_unblock",
                Some(actor),
                Some(&what),
            )?;
            Ok(effect)
        })
    }

    /// The stored lockout state of a user for a factor class.
    ///
    /// # Errors
    /// Database errors.
    pub fn lockout_state(&self, user: &str, class: FactorClass) -> Result<LockoutState, Error> {
        self.pool
            .run(Mode::Snapshot, |tx| load_lock(tx, user, class))
    }

    /// The lockout decision for a user and factor class at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub fn lockout_decision(
        &self,
        user: &str,
        class: FactorClass,
        now: UnixTime,
    ) -> Result<Decision, Error> {
        let state = self.lockout_state(user, class)?;
        Ok(state.check(self.config.lockout.get(class), now))
    }
}
