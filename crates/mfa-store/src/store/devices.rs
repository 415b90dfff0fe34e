//! Remembered devices.

use mfa_oath::UnixTime;

use super::{Store, audit, check_len, lock_user};

use crate::Error;
use crate::db::{Mode, Val, int};

impl Store {
    /// Remembers MFA on a device for `days` days. Only a keyed hash of the
    /// device token is stored.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::FieldLength`], database errors.
    pub fn remember_device(
        &self,
        user: &str,
        device_token: &str,
        days: u32,
        now: UnixTime,
    ) -> Result<UnixTime, Error> {
        check_len("device token", device_token, 1024)?;
        let hash = self.keys.code_hash("device", user, device_token);
        let expires = now.secs().saturating_add(u64::from(days) * 86_400);
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            tx.exec(
                "INSERT INTO devices (user_id, hash, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, hash) DO UPDATE SET expires_at = excluded.expires_at",
                &[user.into(), Val::Blob(hash.clone()), int(expires)],
            )?;
            Ok(UnixTime::from_secs(expires))
        })
    }

    /// Whether MFA is remembered for this device at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub fn is_device_remembered(
        &self,
        user: &str,
        device_token: &str,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let hash = self.keys.code_hash("device", user, device_token);
        self.pool.run(Mode::Snapshot, |tx| {
            Ok(tx
                .query_opt(
                    "devices",
                    "SELECT expires_at FROM devices WHERE user_id = $1 AND hash = $2 AND expires_at > $3",
                    &[user.into(), Val::Blob(hash.clone()), int(now.secs())],
                )?
                .is_some())
        })
    }

    /// Revokes every remembered device of a user; returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub fn revoke_devices(&self, user: &str, actor: &str, now: UnixTime) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            let n = tx.exec("DELETE FROM devices WHERE user_id = $1", &[user.into()])?;
            audit(tx, now, Some(user), "devices_revoked", Some(actor), None)?;
            Ok(n)
        })
    }
}
