//! Access-Challenge sessions: the State attribute names one, bound to a
//! user, a client and a time; single use; expiring; bounded in number.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use core::net::IpAddr;

use mfa_oath::UnixTime;
use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use crate::Error;

/// Octets of a State value this crate issues: an 8-octet lookup id and a
/// 16-octet (128-bit) tag compared in constant time, both random.
pub const STATE_LEN: usize = 24;
const ID_LEN: usize = 8;

/// What a challenge session remembers between the Access-Challenge and the
/// Access-Request that answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session<D> {
    /// The User-Name the challenge was issued to.
    pub user_name: String,
    /// The name of the client (NAS) it was issued through.
    pub client: String,
    /// The address that client sent from.
    pub source: IpAddr,
    /// When it was issued.
    pub created: UnixTime,
    /// What the caller attached to the challenge (which token, a code sent
    /// by SMS, ...).
    pub data: D,
}

/// Why a State did not lead to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Never issued, already used, or long gone.
    Unknown,
    /// Issued but older than the session lifetime (the session is now gone).
    Expired,
    /// Issued to another user (the session is now gone).
    WrongUser,
    /// Issued through another client or from another address (the session
    /// is now gone).
    WrongClient,
}

struct Stored<D> {
    tag: [u8; STATE_LEN - ID_LEN],
    expires: u64,
    seq: u64,
    session: Session<D>,
}

pub(crate) struct Sessions<D> {
    map: BTreeMap<[u8; ID_LEN], Stored<D>>,
    order: VecDeque<(u64, [u8; ID_LEN])>,
    capacity: usize,
    ttl: u64,
    next_seq: u64,
}

impl<D> Sessions<D> {
    pub(crate) fn new(capacity: usize, ttl: u64) -> Sessions<D> {
        Sessions {
            map: BTreeMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            ttl,
            next_seq: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// A new session; returns its State and whether an older session had to
    /// go to make room.
    pub(crate) fn create<R: TryCryptoRng + ?Sized>(
        &mut self,
        session: Session<D>,
        now: UnixTime,
        rng: &mut R,
    ) -> Result<([u8; STATE_LEN], bool), Error> {
        self.purge(now);
        let mut state = [0u8; STATE_LEN];
        // A repeated 64-bit id means a broken generator: try a few times,
        // then refuse rather than overwrite a live session.
        let mut fresh = None;
        for _ in 0..4 {
            rng.try_fill_bytes(&mut state).map_err(|_| Error::Rng)?;
            let (id, tag) = split(&state);
            if !self.map.contains_key(&id) {
                fresh = Some((id, tag));
                break;
            }
        }
        let (id, tag) = fresh.ok_or(Error::Rng)?;
        let mut evicted = false;
        while self.map.len() >= self.capacity {
            let Some((seq, old)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&old).is_some_and(|s| s.seq == seq) {
                self.map.remove(&old);
                evicted = true;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.map.insert(
            id,
            Stored {
                tag,
                expires: now.secs().saturating_add(self.ttl),
                seq,
                session,
            },
        );
        self.order.push_back((seq, id));
        Ok((state, evicted))
    }

    /// Takes the session a State names. A State whose id and tag match is
    /// used up whatever the outcome: presented from the wrong client or for
    /// the wrong user, it is gone (it has leaked).
    pub(crate) fn take(
        &mut self,
        state: &[u8],
        user_name: &str,
        client: &str,
        source: IpAddr,
        now: UnixTime,
    ) -> Result<Session<D>, StateError> {
        let Ok(state) = <&[u8; STATE_LEN]>::try_from(state) else {
            return Err(StateError::Unknown);
        };
        let (id, tag) = split(state);
        let Some(stored) = self.map.get(&id) else {
            return Err(StateError::Unknown);
        };
        if !bool::from(stored.tag.ct_eq(&tag)) {
            return Err(StateError::Unknown);
        }
        let Some(stored) = self.map.remove(&id) else {
            return Err(StateError::Unknown);
        };
        if now.secs() >= stored.expires {
            return Err(StateError::Expired);
        }
        let s = stored.session;
        if s.client != client || s.source != source {
            return Err(StateError::WrongClient);
        }
        if s.user_name != user_name {
            return Err(StateError::WrongUser);
        }
        Ok(s)
    }

    /// Forgets sessions a lifetime past their expiry (until then a late
    /// answer is reported as [`StateError::Expired`], not `Unknown`).
    pub(crate) fn purge(&mut self, now: UnixTime) {
        while let Some(&(seq, id)) = self.order.front() {
            match self.map.get(&id) {
                Some(s) if s.seq == seq && s.expires.saturating_add(self.ttl) > now.secs() => {
                    break;
                }
                Some(s) if s.seq == seq => {
                    self.map.remove(&id);
                }
                _ => {}
            }
            self.order.pop_front();
        }
        if self.order.len() > 2 * self.capacity + 16 {
            let map = &self.map;
            self.order
                .retain(|(seq, id)| map.get(id).is_some_and(|s| s.seq == *seq));
        }
    }

    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.order.iter().find_map(|(seq, id)| {
            self.map
                .get(id)
                .filter(|s| s.seq == *seq)
                .map(|s| s.expires.saturating_add(self.ttl))
        })
    }
}

fn split(state: &[u8; STATE_LEN]) -> ([u8; ID_LEN], [u8; STATE_LEN - ID_LEN]) {
    let (id, tag) = state.split_at(ID_LEN);
    let mut a = [0u8; ID_LEN];
    let mut b = [0u8; STATE_LEN - ID_LEN];
    a.copy_from_slice(id);
    b.copy_from_slice(tag);
    (a, b)
}
