//! Remembered devices. A device is remembered by [`Store::authenticate`]
//! (`AuthRequest::remembering_device`) after a sign-in with a factor, and
//! recognised there; this module revokes them.

use mfa_oath::UnixTime;

use super::{Store, audit};

use crate::Error;
use crate::db::Mode;

impl Store {
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
