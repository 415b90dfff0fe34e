//! The duplicate-request cache (RFC 5080 §2.2.2): a retransmission gets the
//! very bytes of the first reply, and a retransmission of a request that is
//! still being decided is dropped rather than decided twice.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::SocketAddr;

/// What identifies a request: where it came from, its Identifier and its
/// Request Authenticator. The authenticator comes first because the
/// derived order compares fields in turn: 16 random octets tell two keys
/// apart at the first octet or so, where the source (the same NAS address
/// for most requests) would be compared whole first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CacheKey {
    pub(crate) authenticator: [u8; 16],
    pub(crate) source: SocketAddr,
    pub(crate) identifier: u8,
}

enum Slot {
    InProgress,
    Done(Vec<u8>),
}

struct Entry {
    slot: Slot,
    expires: u64,
    seq: u64,
}

pub(crate) enum Lookup<'a> {
    Miss,
    InProgress,
    Done(&'a [u8]),
}

/// No room: every entry that could go is a request still being decided.
pub(crate) struct Busy;

pub(crate) struct ReplyCache {
    entries: BTreeMap<CacheKey, Entry>,
    /// Keys of requests being decided, then of replies, each in the order
    /// their entries were stamped (so also in expiry order); an item whose
    /// seq no longer matches its entry is stale and skipped.
    pending: VecDeque<(u64, CacheKey)>,
    done: VecDeque<(u64, CacheKey)>,
    capacity: usize,
    ttl: u64,
    next_seq: u64,
}

impl ReplyCache {
    pub(crate) fn new(capacity: usize, ttl: u64) -> ReplyCache {
        ReplyCache {
            entries: BTreeMap::new(),
            pending: VecDeque::new(),
            done: VecDeque::new(),
            capacity: capacity.max(1),
            ttl,
            next_seq: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn lookup(&self, key: &CacheKey, now: u64) -> Lookup<'_> {
        match self.entries.get(key) {
            Some(e) if e.expires > now => match &e.slot {
                Slot::InProgress => Lookup::InProgress,
                Slot::Done(bytes) => Lookup::Done(bytes),
            },
            _ => Lookup::Miss,
        }
    }

    /// Marks a request as being decided.
    pub(crate) fn begin(&mut self, key: CacheKey, now: u64) -> Result<(), Busy> {
        self.make_room(now)?;
        self.stamp(key, Slot::InProgress, now);
        Ok(())
    }

    /// Stores the reply of a request (begun or not). Without room the reply
    /// is simply not cached.
    pub(crate) fn complete(&mut self, key: CacheKey, reply: Vec<u8>, now: u64) {
        if !self.entries.contains_key(&key) && self.make_room(now).is_err() {
            return;
        }
        self.stamp(key, Slot::Done(reply), now);
    }

    /// Forgets a request that is being decided, so that its retransmission
    /// is handled afresh.
    pub(crate) fn abandon(&mut self, key: &CacheKey) {
        if matches!(
            self.entries.get(key),
            Some(Entry {
                slot: Slot::InProgress,
                ..
            })
        ) {
            self.entries.remove(key);
        }
    }

    pub(crate) fn purge(&mut self, now: u64) {
        for queue in [&mut self.pending, &mut self.done] {
            while let Some(&(seq, key)) = queue.front() {
                match self.entries.get(&key) {
                    Some(e) if e.seq == seq && e.expires > now => break,
                    Some(e) if e.seq == seq => {
                        self.entries.remove(&key);
                    }
                    _ => {}
                }
                queue.pop_front();
            }
        }
    }

    pub(crate) fn next_expiry(&self) -> Option<u64> {
        let first = |queue: &VecDeque<(u64, CacheKey)>| {
            queue.iter().find_map(|(seq, key)| {
                self.entries
                    .get(key)
                    .filter(|e| e.seq == *seq)
                    .map(|e| e.expires)
            })
        };
        [first(&self.pending), first(&self.done)]
            .into_iter()
            .flatten()
            .min()
    }

    fn stamp(&mut self, key: CacheKey, slot: Slot, now: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let queue = match slot {
            Slot::InProgress => &mut self.pending,
            Slot::Done(_) => &mut self.done,
        };
        queue.push_back((seq, key));
        self.entries.insert(
            key,
            Entry {
                slot,
                expires: now.saturating_add(self.ttl),
                seq,
            },
        );
        // Abandoned and restamped entries leave stale items behind; drop
        // them all once they could outnumber the live ones (amortised O(1)).
        for queue in [&mut self.pending, &mut self.done] {
            if queue.len() > 2 * self.capacity + 16 {
                let entries = &self.entries;
                queue.retain(|(seq, key)| entries.get(key).is_some_and(|e| e.seq == *seq));
            }
        }
    }

    /// Evicts the oldest replies until there is room; requests being decided
    /// are never evicted (their retransmissions would be decided again).
    fn make_room(&mut self, now: u64) -> Result<(), Busy> {
        self.purge(now);
        while self.entries.len() >= self.capacity {
            let Some((seq, key)) = self.done.pop_front() else {
                return Err(Busy);
            };
            if self.entries.get(&key).is_some_and(|e| e.seq == seq) {
                self.entries.remove(&key);
            }
        }
        Ok(())
    }
}
