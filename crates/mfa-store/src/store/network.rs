//! Trusted IP ranges.

use std::net::IpAddr;

use mfa_oath::UnixTime;

use super::Store;

use crate::db::{BackendKind, Mode, int};
use crate::{Cidr, Error, MAX_TRUSTED_RANGES};

impl Store {
    /// Adds a trusted IP range (CIDR, IPv4 or IPv6); at most
    /// [`MAX_TRUSTED_RANGES`]. Adding a range that exists does nothing.
    ///
    /// # Errors
    /// [`Error::Cidr`], [`Error::TooManyTrustedRanges`], database errors.
    pub fn add_trusted_range(&self, cidr: &str, now: UnixTime) -> Result<Cidr, Error> {
        let net: Cidr = cidr.parse()?;
        self.pool.run(Mode::Write, |tx| {
            if tx.kind() == BackendKind::Postgres {
                // Serialise additions so the limit holds across servers.
                tx.exec("LOCK TABLE trusted_ranges IN EXCLUSIVE MODE", &[])?;
            }
            let n = tx
                .query_opt("trusted_ranges", "SELECT count(*) FROM trusted_ranges", &[])?
                .map(|r| r.u64(0, "count"))
                .transpose()?
                .unwrap_or(0);
            let added = tx.exec(
                "INSERT INTO trusted_ranges (cidr, created_at) VALUES ($1, $2) ON CONFLICT (cidr) DO NOTHING",
                &[net.to_string().into(), int(now.secs())],
            )?;
            if added == 1 && n >= MAX_TRUSTED_RANGES as u64 {
                return Err(Error::TooManyTrustedRanges {
                    max: MAX_TRUSTED_RANGES,
                });
            }
            Ok(net)
        })
    }

    /// Removes a trusted range; returns whether it existed.
    ///
    /// # Errors
    /// [`Error::Cidr`], database errors.
    pub fn remove_trusted_range(&self, cidr: &str) -> Result<bool, Error> {
        let net: Cidr = cidr.parse()?;
        self.pool.run(Mode::Write, |tx| {
            Ok(tx.exec(
                "DELETE FROM trusted_ranges WHERE cidr = $1",
                &[net.to_string().into()],
            )? == 1)
        })
    }

    /// The trusted ranges, in text order.
    ///
    /// # Errors
    /// Database errors.
    pub fn trusted_ranges(&self) -> Result<Vec<Cidr>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "trusted_ranges",
                "SELECT cidr FROM trusted_ranges ORDER BY cidr",
                &[],
            )?
            .iter()
            .map(|r| {
                r.text(0, "cidr")?.parse().map_err(|_| Error::Corrupt {
                    table: "trusted_ranges",
                    column: "cidr",
                })
            })
            .collect()
        })
    }

    /// Whether `ip` is in a trusted range (MFA is bypassed).
    ///
    /// # Errors
    /// Database errors.
    pub fn is_trusted_ip(&self, ip: IpAddr) -> Result<bool, Error> {
        Ok(self.trusted_ranges()?.iter().any(|n| n.contains(ip)))
    }
}
