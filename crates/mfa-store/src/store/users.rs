//! User records.

use mfa_oath::UnixTime;

use super::{Store, ensure_user};

use crate::db::Mode;
use crate::{Error, UserProfile};

impl Store {
    /// Creates or updates a user record.
    ///
    /// Fields the field policy ([`crate::StoreConfig::fields`]) switches off
    /// are not stored: with `name` off the first and last name are written
    /// as NULL, with `email` off the e-mail address. The phone number is
    /// always stored: it is where SMS and voice codes go (the only way they
    /// reach the user), and `phone` off keeps it out of log events and
    /// their exports, not out of the user record.
    ///
    /// # Errors
    /// [`Error::FieldLength`] for an empty or too long user id; database errors.
    pub fn put_user(&self, user: &UserProfile, now: UnixTime) -> Result<(), Error> {
        let fields = &self.config.fields;
        let keep = |on: bool, v: &Option<String>| if on { v.clone() } else { None };
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, &user.user_id, now)?;
            tx.exec(
                "UPDATE users SET first_name = $1, last_name = $2, email = $3, phone = $4 WHERE user_id = $5",
                &[
                    keep(fields.name, &user.first_name).into(),
                    keep(fields.name, &user.last_name).into(),
                    keep(fields.email, &user.email).into(),
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
