//! Master key rotation.

use super::Store;

use crate::db::{BackendKind, Mode, Val, int};
use crate::{Error, MasterKey};

impl Store {
    /// Rotates the master key: the store's data key is re-wrapped under
    /// `new` (which must have a new key id) and the key check value replaced,
    /// in one transaction, and this handle uses `new` from then on. Token
    /// secrets, app passwords, pending one-time codes and remembered devices
    /// are sealed or hashed under the data key, so every one of them keeps
    /// working. Other processes must be restarted with the new key: their
    /// next open with the old key is refused, and so are their administrative
    /// writes (imports, settings) until then.
    ///
    /// The data key itself is not rotated: someone who holds a copy of the
    /// database *and* the old master key can still unwrap it from that copy.
    /// Returns the number of tokens in the store.
    ///
    /// ```
    /// use mfa_store::{MasterKey, Store, UserProfile};
    /// use mfa_oath::UnixTime;
    /// let dir = tempfile::tempdir()?;
    /// let url = format!("sqlite:{}", dir.path().join("m.db").display());
    /// let store = Store::open(&url, &MasterKey::new(1, [1; 32]))?;
    /// store.put_user(&UserProfile::new("alice"), UnixTime::from_secs(0))?;
    /// let pw = store.add_app_password("alice", "mail", UnixTime::from_secs(0))?;
    /// store.rekey(&MasterKey::new(2, [2; 32]))?;
    /// drop(store);
    /// assert!(Store::open(&url, &MasterKey::new(1, [1; 32])).is_err());
    /// let store = Store::open(&url, &MasterKey::new(2, [2; 32]))?;
    /// assert_eq!(store.app_passwords("alice")?.len(), 1);
    /// # let _ = pw;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SameKeyId`], [`Error::WrongMasterKey`] if the store's key
    /// changed under this handle, database errors. On error nothing is
    /// changed.
    pub fn rekey(&self, new: &MasterKey) -> Result<u64, Error> {
        let old = self.master();
        if new.id() == old.id {
            return Err(Error::SameKeyId { key_id: new.id() });
        }
        let new_wrap = new.wrapping();
        let n = self.pool.run(Mode::Write, |tx| {
            if tx.kind() == BackendKind::Postgres {
                tx.exec("LOCK TABLE mfa_keys IN EXCLUSIVE MODE", &[])?;
            }
            self.ensure_current_master(tx)?;
            let data = crate::schema::read_data_key(tx, &old)?.ok_or(Error::Corrupt {
                table: "mfa_keys",
                column: "wrapped",
            })?;
            tx.exec("DELETE FROM mfa_keys", &[])?;
            tx.exec(
                "INSERT INTO mfa_keys (key_id, check_value, data_key_id, wrapped) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    int(new.id().into()),
                    Val::Blob(new.check_value()),
                    int(data.id.into()),
                    Val::Blob(new_wrap.wrap(&data)?),
                ],
            )?;
            let tokens = tx
                .query_opt("tokens", "SELECT count(*) FROM live_tokens", &[])?
                .map(|r| r.u64(0, "count"))
                .transpose()?
                .unwrap_or_default();
            Ok(tokens)
        })?;
        self.set_master(new_wrap);
        Ok(n)
    }
}
