//! Master key rotation.

use super::Store;

use crate::db::{BackendKind, Mode, Val, int};
use crate::{Error, MasterKey};

impl Store {
    /// Re-seals every token secret under `new` (which must have a new key
    /// id) in one transaction, and makes it the store's key. Pending
    /// one-time codes and remembered devices are hashed under the old key
    /// and are dropped (users request a new code / sign in with MFA again).
    /// Returns the number of tokens re-sealed.
    ///
    /// # Errors
    /// [`Error::SameKeyId`], [`Error::WrongMasterKey`] if the store's key
    /// changed under this handle, [`Error::Unseal`], database errors. On
    /// error nothing is changed.
    pub fn rekey(&mut self, new: &MasterKey) -> Result<u64, Error> {
        if new.id() == self.keys.key_id {
            return Err(Error::SameKeyId { key_id: new.id() });
        }
        let new_keys = new.keys();
        let old = &self.keys;
        let n = self.pool.run(Mode::Write, |tx| {
            if tx.kind() == BackendKind::Postgres {
                tx.exec("LOCK TABLE mfa_keys IN EXCLUSIVE MODE", &[])?;
                tx.exec("LOCK TABLE tokens IN EXCLUSIVE MODE", &[])?;
            }
            let rows = tx.query("mfa_keys", "SELECT key_id FROM mfa_keys", &[])?;
            let current = rows.first().map(|r| r.i64(0, "key_id")).transpose()?;
            if current != Some(i64::from(old.key_id)) {
                return Err(Error::WrongMasterKey {
                    expected: current.and_then(|c| u32::try_from(c).ok()).unwrap_or_default(),
                    given: old.key_id,
                });
            }
            let mut count = 0u64;
            let mut after = String::new();
            loop {
                let batch = tx.query(
                    "tokens",
                    "SELECT serial, key_id, sealed FROM tokens WHERE serial > $1 ORDER BY serial LIMIT 1000",
                    &[after.as_str().into()],
                )?;
                let Some(last) = batch.last() else { break };
                after = last.text(0, "serial")?;
                for r in &batch {
                    let serial = r.text(0, "serial")?;
                    if r.i64(1, "key_id")? != i64::from(old.key_id) {
                        return Err(Error::Unseal { serial });
                    }
                    let secret = old.open(&serial, &r.blob(2, "sealed")?)?;
                    let sealed = new_keys.seal(&serial, &secret)?;
                    tx.exec(
                        "UPDATE tokens SET key_id = $1, sealed = $2 WHERE serial = $3",
                        &[int(new.id().into()), Val::Blob(sealed), serial.into()],
                    )?;
                    count += 1;
                }
            }
            tx.exec("DELETE FROM one_time_codes", &[])?;
            tx.exec("DELETE FROM devices", &[])?;
            tx.exec("DELETE FROM mfa_keys", &[])?;
            tx.exec(
                "INSERT INTO mfa_keys (key_id, check_value) VALUES ($1, $2)",
                &[int(new.id().into()), Val::Blob(new.check_value())],
            )?;
            Ok(count)
        })?;
        self.keys = new_keys;
        Ok(n)
    }
}
