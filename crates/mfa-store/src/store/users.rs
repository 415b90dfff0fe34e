//! User records.

use mfa_oath::UnixTime;

use super::{Store, ensure_user};

use crate::db::Mode;
use crate::{Error, UserProfile};

impl Store {
    /// Creates or updates a user record.
    ///
    /// # Errors
    /// [`Error::FieldLength`] for an empty or too long user id; database errors.
    pub fn put_user(&self, user: &UserProfile, now: UnixTime) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, &user.user_id, now)?;
            tx.exec(
                "UPDATE users SET first_name = $1, last_name = $2, email = $3, phone = $4 WHERE user_id = $5",
                &[
                    user.first_name.clone().into(),
                    user.last_name.clone().into(),
                    user.email.clone().into(),
                    user.phone.clone().into(),
                    user.user_id.as_str().into(),
                ],
            )?;
            Ok(())
        })
    }

    /// Reads a user record.
    ///
    /// # Errors
    /// Database errors.
    pub fn user(&self, user_id: &str) -> Result<Option<UserProfile>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let Some(r) = tx.query_opt(
                "users",
                "SELECT user_id, first_name, last_name, email, phone FROM users WHERE user_id = $1",
                &[user_id.into()],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(UserProfile {
                user_id: r.text(0, "user_id")?,
                first_name: r.opt_text(1, "first_name")?,
                last_name: r.opt_text(2, "last_name")?,
                email: r.opt_text(3, "email")?,
                phone: r.opt_text(4, "phone")?,
            }))
        })
    }
}
