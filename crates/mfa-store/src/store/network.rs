//! Trusted IP ranges.

use std::net::IpAddr;

use mfa_oath::UnixTime;

use super::{Store, audit};

use crate::db::{BackendKind, Mode, Tx, int};
use crate::{Cidr, Error, MAX_TRUSTED_RANGES};

/// Serialises changes to the trusted ranges so the limit holds across
/// servers (SQLite: the write transaction already does).
fn lock_ranges(tx: &mut dyn Tx) -> Result<(), Error> {
    if tx.kind() == BackendKind::Postgres {
        tx.exec("LOCK TABLE trusted_ranges IN EXCLUSIVE MODE", &[])?;
    }
    Ok(())
}

/// Adds a range in the caller's transaction, audited when it is new;
/// returns whether it was added.
pub(crate) fn add_range(
    tx: &mut dyn Tx,
    net: &Cidr,
    actor: &str,
    now: UnixTime,
) -> Result<bool, Error> {
    let n = tx
        .query_opt("trusted_ranges", "SELECT count(*) FROM trusted_ranges", &[])?
        .map(|r| r.u64(0, "count"))
        .transpose()?
        .unwrap_or(0);
    let added = tx.exec(
        "INSERT INTO trusted_ranges (cidr, created_at) VALUES ($1, $2) ON CONFLICT (cidr) DO NOTHING",
        &[net.to_string().into(), int(now.secs())],
    )? == 1;
    if added && n >= MAX_TRUSTED_RANGES as u64 {
        return Err(Error::TooManyTrustedRanges {
            max: MAX_TRUSTED_RANGES,
        });
    }
    if added {
        let what = net.to_string();
        audit(tx, now, None, "trusted_range_add", Some(actor), Some(&what))?;
    }
    Ok(added)
}

/// Removes a range in the caller's transaction, audited when it existed;
/// returns whether it existed.
pub(crate) fn remove_range(
    tx: &mut dyn Tx,
    net: &Cidr,
    actor: &str,
    now: UnixTime,
) -> Result<bool, Error> {
    let what = net.to_string();
    let removed = tx.exec(
        "DELETE FROM trusted_ranges WHERE cidr = $1",
        &[what.as_str().into()],
    )? == 1;
    if removed {
        audit(
            tx,
            now,
            None,
            "trusted_range_remove",
            Some(actor),
            Some(&what),
        )?;
    }
    Ok(removed)
}

/// Replaces every trusted range with `ranges` in the caller's transaction;
/// each range removed or added is audited.
pub(crate) fn replace_ranges(
    tx: &mut dyn Tx,
    ranges: &[Cidr],
    actor: &str,
    now: UnixTime,
) -> Result<(), Error> {
    lock_ranges(tx)?;
    let keep: Vec<String> = ranges.iter().map(ToString::to_string).collect();
    for old in load_ranges(tx)? {
        if !keep.contains(&old.to_string()) {
            remove_range(tx, &old, actor, now)?;
        }
    }
    for net in ranges {
        add_range(tx, net, actor, now)?;
    }
    Ok(())
}

fn load_ranges(tx: &mut dyn Tx) -> Result<Vec<Cidr>, Error> {
    tx.query(
        "trusted_ranges",
        "SELECT cidr FROM trusted_ranges ORDER BY cidr",
        &[],
    )?
    .iter()
    .map(|r| stored_range(&r.text(0, "cidr")?))
    .collect()
}

/// A range as stored in `trusted_ranges.cidr`; one that does not parse is
/// [`Error::Corrupt`] (never a bypass).
pub(super) fn stored_range(text: &str) -> Result<Cidr, Error> {
    text.parse().map_err(|_| Error::Corrupt {
        table: "trusted_ranges",
        column: "cidr",
    })
}

impl Store {
    /// Adds a trusted IP range (CIDR, IPv4 or IPv6); at most
    /// [`MAX_TRUSTED_RANGES`]. Adding a range that exists does nothing. A
    /// new range is written to the audit log with `actor`.
    ///
    /// # Errors
    /// [`Error::Cidr`], [`Error::TooManyTrustedRanges`], database errors.
    pub fn add_trusted_range(&self, cidr: &str, actor: &str, now: UnixTime) -> Result<Cidr, Error> {
        let net: Cidr = cidr.parse()?;
        self.pool.run(Mode::Write, |tx| {
            lock_ranges(tx)?;
            add_range(tx, &net, actor, now)?;
            Ok(net)
        })
    }

    /// Removes a trusted range; returns whether it existed. A removal is
    /// written to the audit log with `actor`.
    ///
    /// # Errors
    /// [`Error::Cidr`], database errors.
    pub fn remove_trusted_range(
        &self,
        cidr: &str,
        actor: &str,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let net: Cidr = cidr.parse()?;
        self.pool.run(Mode::Write, |tx| {
            lock_ranges(tx)?;
            remove_range(tx, &net, actor, now)
        })
    }

    /// The trusted ranges, in text order.
    ///
    /// # Errors
    /// Database errors.
    pub fn trusted_ranges(&self) -> Result<Vec<Cidr>, Error> {
        self.pool.run(Mode::Snapshot, |tx| load_ranges(tx))
    }

    /// Whether `ip` is in a trusted range (MFA is bypassed).
    ///
    /// # Errors
    /// Database errors.
    pub fn is_trusted_ip(&self, ip: IpAddr) -> Result<bool, Error> {
        Ok(self.trusted_ranges()?.iter().any(|n| n.contains(ip)))
    }
}
