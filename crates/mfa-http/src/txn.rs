//! Challenge transactions: kept in this server's memory only.
//!
//! A transaction is made by a `/validate/check` with an empty `pass` (or
//! `/validate/triggerchallenge`), bound to one user, answered once (any
//! answer ends it), and expires. The table is bounded. Several servers
//! behind a load balancer need sticky sessions: a transaction started on
//! one server is unknown to the others.

use std::collections::HashMap;
use std::sync::Mutex;

use mfa_oath::UnixTime;
use mfa_store::Channel;

/// What the answer to a transaction is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// An OATH code of one of the user's tokens.
    Oath,
    /// The one-time code sent on this channel.
    Code(Channel),
}

#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub(crate) user: String,
    pub(crate) expect: Expect,
    expires: UnixTime,
}

/// Why a transaction could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TxnError {
    /// The table is full of live transactions.
    Full,
    /// The operating system's random number generator failed.
    Rng,
}

pub(crate) struct Transactions {
    map: Mutex<HashMap<String, Txn>>,
    max: usize,
    ttl: u64,
}

/// 20 decimal digits (as privacyIDEA's transaction ids) from the
/// operating system's RNG: about 66 bits.
fn new_id() -> Result<String, TxnError> {
    let mut b = [0u8; 16];
    rand_core::TryRng::try_fill_bytes(&mut getrandom::SysRng, &mut b).map_err(|_| TxnError::Rng)?;
    let n = u128::from_le_bytes(b) % 100_000_000_000_000_000_000u128;
    Ok(format!("{n:020}"))
}

impl Transactions {
    pub(crate) fn new(max: usize, ttl: u64) -> Transactions {
        Transactions {
            map: Mutex::new(HashMap::new()),
            max,
            ttl,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Txn>> {
        match self.map.lock() {
            Ok(m) => m,
            // Entries are inserted and removed whole: a poisoned map is consistent.
            Err(p) => p.into_inner(),
        }
    }

    /// Opens a transaction for `user`; returns its id.
    pub(crate) fn open(
        &self,
        user: &str,
        expect: Expect,
        now: UnixTime,
    ) -> Result<String, TxnError> {
        let id = new_id()?;
        let mut map = self.lock();
        if map.len() >= self.max {
            map.retain(|_, t| t.expires > now);
            if map.len() >= self.max {
                return Err(TxnError::Full);
            }
        }
        let txn = Txn {
            user: user.to_owned(),
            expect,
            expires: UnixTime::from_secs(now.secs().saturating_add(self.ttl)),
        };
        // A collision of 66 random bits is not expected; if it happens the
        // older transaction is replaced, never shared.
        map.insert(id.clone(), txn);
        Ok(id)
    }

    /// Ends the transaction `id` and returns it, unless unknown or expired.
    pub(crate) fn take(&self, id: &str, now: UnixTime) -> Option<Txn> {
        self.lock().remove(id).filter(|t| t.expires > now)
    }

    /// Whether `id` is open at `now`.
    pub(crate) fn is_open(&self, id: &str, now: UnixTime) -> bool {
        self.lock().get(id).is_some_and(|t| t.expires > now)
    }

    /// How many are kept (live or not yet purged).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn single_use_expiring_and_bounded() {
        let t = Transactions::new(2, 60);
        let now = UnixTime::from_secs(1000);
        let a = t.open("alice", Expect::Oath, now).unwrap();
        assert_eq!(a.len(), 20);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        assert!(t.is_open(&a, now));
        assert_eq!(t.take(&a, now).unwrap().user, "alice");
        assert!(t.take(&a, now).is_none(), "single use");
        let b = t.open("bob", Expect::Oath, now).unwrap();
        t.open("carol", Expect::Oath, now).unwrap();
        assert_eq!(t.open("dave", Expect::Oath, now), Err(TxnError::Full));
        let later = UnixTime::from_secs(1060);
        assert!(t.take(&b, later).is_none(), "expired");
        assert!(
            t.open("dave", Expect::Oath, later).is_ok(),
            "expired ones make room"
        );
    }
}
