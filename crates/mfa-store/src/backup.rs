//! Backup to one file and restore from it, across backends.
//!
//! The format is line-based UTF-8 text (see `docs/store.md`):
//!
//! ```text
//! mfa-store-backup 1 schema 1
//! table users 9
//! r<TAB>t616c696365<TAB>N<TAB>…<TAB>i1700000000<TAB>…
//! …
//! end
//! sha256 <64 hex digits over every byte above this line>
//! ```
//!
//! Fields are `N` (NULL), `i<decimal>`, `t<hex of UTF-8>` or `b<hex>`.
//! Token secrets stay sealed: a backup restores only into a store opened
//! with the same master key.

use std::io::{BufRead, BufReader, Read, Write};

use sha2::{Digest, Sha256};

use crate::db::{Mode, Tx, Val};
use crate::{BackupProblem, Error, MasterKey, SCHEMA_VERSION, Store};

const HEX: data_encoding::Encoding = data_encoding::HEXLOWER;

/// The tables in dependency order, their columns, and the order of rows.
/// Log tables are written without their surrogate ids, in id order.
const TABLES: &[(&str, &[&str], &str)] = &[
    ("mfa_keys", &["key_id", "check_value"], "key_id"),
    ("settings", &["name", "value"], "name"),
    (
        "users",
        &[
            "user_id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "created_at",
            "block_cause",
            "block_since",
            "block_until",
            "block_comment",
            "risk_detections",
            "risk_recent",
        ],
        "user_id",
    ),
    (
        "lockout",
        &[
            "user_id",
            "factor",
            "failures",
            "last_failure",
            "consecutive",
            "lockouts",
            "lock_kind",
            "lock_until",
        ],
        "user_id, factor",
    ),
    (
        "tokens",
        &[
            "serial",
            "kind",
            "algorithm",
            "digits",
            "period",
            "t0",
            "key_id",
            "sealed",
            "user_id",
            "active",
            "last_step",
            "drift",
            "manufacturer",
            "model",
            "imported_at",
        ],
        "serial",
    ),
    (
        "auth_log",
        &[
            "at",
            "user_id",
            "mode",
            "result",
            "reason",
            "detail",
            "serial",
            "server_name",
            "server_ip",
            "client_ip",
            "first_name",
            "last_name",
            "email",
            "phone",
        ],
        "id",
    ),
    (
        "audit_log",
        &["at", "user_id", "action", "actor", "reason"],
        "id",
    ),
    (
        "one_time_codes",
        &[
            "user_id",
            "channel",
            "hash",
            "created_at",
            "expires_at",
            "consumed_at",
        ],
        "user_id, channel",
    ),
    ("trusted_ranges", &["cidr", "created_at"], "cidr"),
    (
        "devices",
        &["user_id", "hash", "expires_at"],
        "user_id, hash",
    ),
    (
        "app_passwords",
        &["user_id", "name", "hash", "created_at"],
        "user_id, name",
    ),
];

fn header() -> String {
    format!("mfa-store-backup 1 schema {SCHEMA_VERSION}\n")
}

fn encode(v: &Val, out: &mut String) {
    match v {
        Val::Null => out.push('N'),
        Val::Int(i) => {
            out.push('i');
            out.push_str(&i.to_string());
        }
        Val::Text(t) => {
            out.push('t');
            out.push_str(&HEX.encode(t.as_bytes()));
        }
        Val::Blob(b) => {
            out.push('b');
            out.push_str(&HEX.encode(b));
        }
    }
}

fn decode(field: &str) -> Option<Val> {
    let (tag, rest) = field.split_at_checked(1)?;
    match tag {
        "N" if rest.is_empty() => Some(Val::Null),
        "i" if !rest.starts_with('+') => rest.parse().ok().map(Val::Int),
        "t" => String::from_utf8(HEX.decode(rest.as_bytes()).ok()?)
            .ok()
            .map(Val::Text),
        "b" => HEX.decode(rest.as_bytes()).ok().map(Val::Blob),
        _ => None,
    }
}

/// Hashes everything written through it.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Hashing<W> {
    fn line(&mut self, s: &str) -> Result<(), Error> {
        self.hash.update(s.as_bytes());
        self.inner.write_all(s.as_bytes())?;
        Ok(())
    }
}

impl Store {
    /// Writes a consistent snapshot of the whole store to `out` as one
    /// backup file with a SHA-256 checksum. Secrets stay sealed.
    ///
    /// ```
    /// # use mfa_store::{MasterKey, Store};
    /// let dir = tempfile::tempdir()?;
    /// let key = MasterKey::new(1, [9; 32]);
    /// let a = Store::open(&format!("sqlite:{}", dir.path().join("a.db").display()), &key)?;
    /// a.add_trusted_range("10.0.0.0/8", "root", mfa_oath::UnixTime::from_secs(1))?;
    /// let mut file = Vec::new();
    /// a.backup(&mut file)?;
    /// let b = Store::open(&format!("sqlite:{}", dir.path().join("b.db").display()), &key)?;
    /// b.restore(file.as_slice())?;
    /// assert_eq!(b.trusted_ranges()?, a.trusted_ranges()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`], database errors.
    pub fn backup<W: Write>(&self, out: W) -> Result<(), Error> {
        let mut w = Hashing {
            inner: std::io::BufWriter::new(out),
            hash: Sha256::new(),
        };
        self.pool().run(Mode::Snapshot, |tx| {
            w.line(&header())?;
            for (table, cols, order) in TABLES {
                w.line(&format!("table {table} {}\n", cols.len()))?;
                let sql = format!("SELECT {} FROM {table} ORDER BY {order}", cols.join(", "));
                for row in tx.query(table, &sql, &[])? {
                    let mut line = String::from("r");
                    for v in &row.vals {
                        line.push('\t');
                        encode(v, &mut line);
                    }
                    line.push('\n');
                    w.line(&line)?;
                }
            }
            w.line("end\n")
        })?;
        let digest = HEX.encode(&w.hash.finalize());
        w.inner.write_all(format!("sha256 {digest}\n").as_bytes())?;
        w.inner.flush()?;
        Ok(())
    }

    /// Restores a backup into this store, which must be empty (freshly
    /// created) and opened with the master key the backup's secrets are
    /// sealed with. The backup may come from the other backend. One
    /// transaction: if the checksum does not match, the file is malformed or
    /// the key differs, nothing is restored.
    ///
    /// # Errors
    /// [`Error::RestoreTargetNotEmpty`], [`Error::BackupFormat`],
    /// [`Error::BackupChecksum`], [`Error::WrongMasterKey`], [`Error::Io`],
    /// database errors.
    pub fn restore<R: Read>(&self, input: R) -> Result<(), Error> {
        let key_id = self.keys().key_id;
        let check = self.keys().check.clone();
        let mut input = Some(BufReader::new(input));
        self.pool().run(Mode::Write, |tx| {
            let Some(reader) = input.take() else {
                return Err(Error::Busy);
            };
            restore_in(tx, reader)?;
            // The backup's key check value must match the key this store
            // was opened with.
            let rows = tx.query("mfa_keys", "SELECT key_id, check_value FROM mfa_keys", &[])?;
            let mut expected = 0;
            let mut ok = false;
            for r in &rows {
                expected = u32::try_from(r.i64(0, "key_id")?).unwrap_or_default();
                let cv = r.blob(1, "check_value")?;
                ok = rows.len() == 1
                    && expected == key_id
                    && bool::from(subtle::ConstantTimeEq::ct_eq(
                        cv.as_slice(),
                        check.as_slice(),
                    ));
            }
            if !ok {
                return Err(Error::WrongMasterKey {
                    expected,
                    given: key_id,
                });
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Checks a master key against this store's key check value (for
    /// restore into a store opened with a key, and for tools).
    ///
    /// # Errors
    /// [`Error::WrongMasterKey`], database errors.
    pub fn check_key(&self, key: &MasterKey) -> Result<(), Error> {
        self.pool().run(Mode::Snapshot, |tx| {
            let rows = tx.query("mfa_keys", "SELECT key_id, check_value FROM mfa_keys", &[])?;
            for r in &rows {
                if r.i64(0, "key_id")? == i64::from(key.id()) {
                    let cv = r.blob(1, "check_value")?;
                    if bool::from(subtle::ConstantTimeEq::ct_eq(
                        cv.as_slice(),
                        key.check_value().as_slice(),
                    )) {
                        return Ok(());
                    }
                }
            }
            Err(Error::WrongMasterKey {
                expected: rows
                    .first()
                    .map(|r| r.i64(0, "key_id"))
                    .transpose()?
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or_default(),
                given: key.id(),
            })
        })
    }
}

fn count(tx: &mut dyn Tx, table: &'static str) -> Result<u64, Error> {
    let sql = format!("SELECT count(*) FROM {table}");
    tx.query_opt(table, &sql, &[])?
        .map(|r| r.u64(0, "count"))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn restore_in(tx: &mut dyn Tx, mut reader: impl BufRead) -> Result<(), Error> {
    let tokens = count(tx, "tokens")?;
    let users = count(tx, "users")?;
    let logs = count(tx, "auth_log")?;
    if tokens > 0 || users > 0 || logs > 0 {
        return Err(Error::RestoreTargetNotEmpty { tokens, users });
    }
    tx.exec("DELETE FROM mfa_keys", &[])?;
    tx.exec("DELETE FROM trusted_ranges", &[])?;

    let mut hash = Sha256::new();
    let mut line = String::new();
    let mut n: u64 = 0;
    let mut current: Option<(&str, usize, String)> = None;
    let mut ended = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(Error::BackupFormat {
                line: n + 1,
                problem: BackupProblem::Truncated,
            });
        }
        n += 1;
        let bad = |problem| Error::BackupFormat { line: n, problem };
        if ended {
            let digest = line
                .strip_prefix("sha256 ")
                .map(str::trim_end)
                .ok_or_else(|| bad(BackupProblem::Truncated))?;
            let ours = HEX.encode(&hash.clone().finalize());
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                digest.as_bytes(),
                ours.as_bytes(),
            )) {
                return Err(Error::BackupChecksum);
            }
            return Ok(());
        }
        hash.update(line.as_bytes());
        let body = line
            .strip_suffix('\n')
            .ok_or_else(|| bad(BackupProblem::Truncated))?;
        if n == 1 {
            if line != header() {
                return Err(bad(BackupProblem::Header));
            }
            continue;
        }
        if body == "end" {
            ended = true;
            continue;
        }
        if let Some(rest) = body.strip_prefix("table ") {
            let (name, ncols) = rest
                .split_once(' ')
                .ok_or_else(|| bad(BackupProblem::Table))?;
            let (table, cols, _) = TABLES
                .iter()
                .find(|(t, _, _)| *t == name)
                .ok_or_else(|| bad(BackupProblem::Table))?;
            if ncols.parse::<usize>().ok() != Some(cols.len()) {
                return Err(bad(BackupProblem::FieldCount));
            }
            let params: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                params.join(", ")
            );
            current = Some((table, cols.len(), sql));
            continue;
        }
        let Some(fields) = body.strip_prefix("r\t") else {
            return Err(bad(BackupProblem::Field));
        };
        let Some((_, ncols, sql)) = &current else {
            return Err(bad(BackupProblem::Table));
        };
        let vals = fields
            .split('\t')
            .map(decode)
            .collect::<Option<Vec<Val>>>()
            .ok_or_else(|| bad(BackupProblem::Field))?;
        if vals.len() != *ncols {
            return Err(bad(BackupProblem::FieldCount));
        }
        tx.exec(sql, &vals)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn field_roundtrip(i: i64, t in ".{0,40}", b in proptest::collection::vec(any::<u8>(), 0..40)) {
            for v in [Val::Null, Val::Int(i), Val::Text(t.clone()), Val::Blob(b.clone())] {
                let mut s = String::new();
                encode(&v, &mut s);
                prop_assert!(!s.contains('\t') && !s.contains('\n'));
                prop_assert_eq!(decode(&s), Some(v));
            }
        }
    }
}
