//! App passwords: passwords for applications that cannot do MFA, kept only
//! as a keyed hash, deleted all at once (e.g. after a lost phone).

use mfa_oath::UnixTime;

use crate::db::{Mode, Val, int};
use crate::store::{audit, check_len, lock_user};
use crate::{Credential, Error, Store};

/// The most app passwords a user has (as mfa-record's user record).
pub const MAX_APP_PASSWORDS: usize = 40;

impl Store {
    /// Creates an app password named `name` for `user` and returns it, to
    /// be shown to the user once: 128 random bits from the operating
    /// system, as 26 lower-case base32 characters. The store keeps only an
    /// HMAC of it under the store's data key (no password KDF is needed for
    /// a secret of 128 random bits; a caller cannot choose one). It signs in
    /// through [`Store::authenticate`] with [`crate::Presented::AppPassword`],
    /// with its own lockout class, the fraud gate and a log event.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::FieldLength`] (name 1–64 bytes),
    /// [`Error::TooManyAppPasswords`], [`Error::AppPasswordExists`],
    /// [`Error::Rng`], database errors.
    pub fn add_app_password(
        &self,
        user: &str,
        name: &str,
        now: UnixTime,
    ) -> Result<Credential, Error> {
        check_len("app password name", name, 64)?;
        let password = crate::crypto::random_token()?;
        let hash = self
            .keys()
            .code_hash("app-password", user, password.expose());
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
            audit(tx, now, Some(user), "app_password_add", None, Some(name))?;
            Ok(password.clone())
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
