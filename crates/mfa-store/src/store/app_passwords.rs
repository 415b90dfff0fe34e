//! App passwords: passwords for applications that cannot do MFA, kept only
//! as a keyed hash, deleted all at once (e.g. after a lost phone).

use mfa_oath::UnixTime;
use subtle::ConstantTimeEq;

use crate::db::{Mode, Val, int};
use crate::store::{audit, check_len, lock_user};
use crate::{Error, Store};

/// The most app passwords a user has (as mfa-record's user record).
pub const MAX_APP_PASSWORDS: usize = 40;

impl Store {
    /// Adds an app password named `name` for `user`. The caller generates
    /// `password` (randomness stays outside the store) and shows it to the
    /// user once; the store keeps only an HMAC of it under the master key.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::FieldLength`] (name 1–64 bytes,
    /// password 16–256 bytes), [`Error::TooManyAppPasswords`],
    /// [`Error::AppPasswordExists`], database errors.
    pub fn add_app_password(
        &self,
        user: &str,
        name: &str,
        password: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        check_len("app password name", name, 64)?;
        if password.len() < 16 || password.len() > 256 {
            return Err(Error::FieldLength {
                field: "app password",
                len: password.len(),
                max: 256,
            });
        }
        let hash = self.keys.code_hash("app-password", user, password);
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser { user: user.to_owned() })?;
            let rows = tx.query(
                "app_passwords",
                "SELECT name FROM app_passwords WHERE user_id = $1",
                &[user.into()],
            )?;
            if rows.iter().any(|r| r.text(0, "name").is_ok_and(|n| n == name)) {
                return Err(Error::AppPasswordExists {
                    user: user.to_owned(),
                    name: name.to_owned(),
                });
            }
            if rows.len() >= MAX_APP_PASSWORDS {
                return Err(Error::TooManyAppPasswords {
                    user: user.to_owned(),
                    max: MAX_APP_PASSWORDS,
                });
            }
            tx.exec(
                "INSERT INTO app_passwords (user_id, name, hash, created_at) VALUES ($1, $2, $3, $4)",
                &[user.into(), name.into(), Val::Blob(hash.clone()), int(now.secs())],
            )?;
            audit(tx, now, Some(user), "app_password_add", None, Some(name))
        })
    }

    /// The names and creation times of a user's app passwords.
    ///
    /// # Errors
    /// Database errors.
    pub fn app_passwords(&self, user: &str) -> Result<Vec<(String, UnixTime)>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "app_passwords",
                "SELECT name, created_at FROM app_passwords WHERE user_id = $1 ORDER BY name",
                &[user.into()],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.text(0, "name")?,
                    UnixTime::from_secs(r.u64(1, "created_at")?),
                ))
            })
            .collect()
        })
    }

    /// Whether `password` is one of `user`'s app passwords (compared in
    /// constant time, as keyed hashes).
    ///
    /// # Errors
    /// Database errors.
    pub fn check_app_password(&self, user: &str, password: &str) -> Result<bool, Error> {
        let hash = self.keys.code_hash("app-password", user, password);
        let stored = self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "app_passwords",
                "SELECT hash FROM app_passwords WHERE user_id = $1",
                &[user.into()],
            )?
            .iter()
            .map(|r| r.blob(0, "hash"))
            .collect::<Result<Vec<_>, Error>>()
        })?;
        // Check every stored hash, so the time does not say which matched.
        let found = stored.iter().fold(subtle::Choice::from(0), |acc, h| {
            acc | h.as_slice().ct_eq(hash.as_slice())
        });
        Ok(found.into())
    }

    /// Deletes all of a user's app passwords at once (e.g. after a lost
    /// phone); the reason is logged with `actor`. Returns how many were
    /// deleted.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn delete_app_passwords(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let n = tx.exec(
                "DELETE FROM app_passwords WHERE user_id = $1",
                &[user.into()],
            )?;
            audit(
                tx,
                now,
                Some(user),
                "app_passwords_deleted",
                Some(actor),
                Some(reason),
            )?;
            Ok(n)
        })
    }
}
