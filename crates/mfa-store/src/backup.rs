//! Backup to one file and restore from it, across backends.
//!
//! The format is line-based UTF-8 text (see `docs/store.md`):
//!
//! ```text
//! mfa-store-backup 2 schema 6
//! table mfa_keys 4
//! r<TAB>i1<TAB>b…<TAB>i1<TAB>b…
//! table users 12
//! r<TAB>t616c696365<TAB>N<TAB>…<TAB>i1700000000<TAB>…
//! …
//! end
//! hmac-sha256 <64 hex digits over every byte above this line>
//! ```
//!
//! Fields are `N` (NULL), `i<decimal>`, `t<hex of UTF-8>` or `b<hex>`.
//! Token secrets stay sealed, and the data key travels wrapped by the
//! master key. The trailer is an HMAC-SHA256 under a key derived from the
//! store's data key: only a holder of the master key can write a backup
//! that restores, and `restore` checks it over the whole file before it
//! writes anything.

use std::io::{BufRead, BufReader, Read, Write};

use std::io::{Seek, SeekFrom};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::{Keys, MasterWrap};
use crate::db::{Mode, Tx, Val};
use crate::{BackupProblem, Error, MasterKey, SCHEMA_VERSION, Store};

/// The backup format this code writes and reads.
const FORMAT: u32 = 2;
/// What the backup MAC is computed for.
const MAC_PURPOSE: &[u8] = b"backup/v2";

const HEX: data_encoding::Encoding = data_encoding::HEXLOWER;

/// The tables in dependency order, their columns, and the order of rows.
/// Log tables are written without their surrogate ids, in id order.
const TABLES: &[(&str, &[&str], &str)] = &[
    (
        "mfa_keys",
        &["key_id", "check_value", "data_key_id", "wrapped"],
        "key_id",
    ),
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
            "row_mac",
            "not_before",
            "not_after",
            "issuer",
            "device_serial",
            "pskc_key_id",
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

/// What a backup reads of `table`: only what is live. The rows of an
/// all-or-nothing import that has not committed are left out, and so are
/// the users it created that have nothing else (as if it had not begun).
fn backed_up(table: &str) -> &str {
    match table {
        "tokens" => "live_tokens",
        "users" => "live_users",
        _ => table,
    }
}

fn header() -> String {
    format!("mfa-store-backup {FORMAT} schema {SCHEMA_VERSION}\n")
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

/// MACs everything written through it.
struct Macing<W: Write> {
    inner: W,
    mac: Hmac<Sha256>,
}

impl<W: Write> Macing<W> {
    fn line(&mut self, s: &str) -> Result<(), Error> {
        self.mac.update(s.as_bytes());
        self.inner.write_all(s.as_bytes())?;
        Ok(())
    }
}

/// Compares the trailer line with the MAC of everything before it.
fn check_trailer(line: &str, mac: Hmac<Sha256>, n: u64) -> Result<(), Error> {
    let given = line
        .strip_prefix("hmac-sha256 ")
        .and_then(|t| t.strip_suffix('\n'))
        .and_then(|t| HEX.decode(t.as_bytes()).ok())
        .ok_or(Error::BackupFormat {
            line: n,
            problem: BackupProblem::Truncated,
        })?;
    mac.verify_slice(&given).map_err(|_| Error::BackupChecksum)
}

impl Store {
    /// Writes a consistent snapshot of the whole store to `out` as one
    /// backup file, authenticated with an HMAC under the store's data key.
    /// Secrets stay sealed.
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
    /// b.restore(std::io::Cursor::new(file))?;
    /// assert_eq!(b.trusted_ranges()?, a.trusted_ranges()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`], database errors.
    pub fn backup<W: Write>(&self, out: W) -> Result<(), Error> {
        let mut w = Macing {
            inner: std::io::BufWriter::new(out),
            mac: self.keys().stream_mac(MAC_PURPOSE),
        };
        self.pool().run(Mode::Snapshot, |tx| {
            w.line(&header())?;
            for (table, cols, order) in TABLES {
                w.line(&format!("table {table} {}\n", cols.len()))?;
                let sql = format!(
                    "SELECT {} FROM {} ORDER BY {order}",
                    cols.join(", "),
                    backed_up(table)
                );
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
        let tag = HEX.encode(&w.mac.finalize().into_bytes());
        w.inner
            .write_all(format!("hmac-sha256 {tag}\n").as_bytes())?;
        w.inner.flush()?;
        Ok(())
    }

    /// Restores a backup into this store, which must be empty (freshly
    /// created) and opened with the master key the backup was written
    /// under. The backup may come from the other backend.
    ///
    /// The file is read twice: first its MAC is checked over every byte
    /// (under the data key that the backup carries, unwrapped with this
    /// store's master key) and nothing is written unless it matches; then it
    /// is restored in one transaction, which checks the MAC again and
    /// commits only if the file is unchanged and well formed. The store then
    /// uses the backup's data key. Format-1 backups (SHA-256 only, before
    /// mfa-store 0.2) are refused.
    ///
    /// # Errors
    /// [`Error::RestoreTargetNotEmpty`], [`Error::BackupFormat`],
    /// [`Error::BackupChecksum`], [`Error::WrongMasterKey`], [`Error::Io`],
    /// database errors.
    pub fn restore<R: Read + Seek>(&self, mut input: R) -> Result<(), Error> {
        let master = self.master();
        let start = input.stream_position()?;
        // Pass 1: authenticate, write nothing.
        let keys = authenticate_backup(&mut BufReader::new(&mut input), &master)?;
        input.seek(SeekFrom::Start(start))?;
        let mut reader = Some(BufReader::new(input));
        self.pool().run(Mode::Write, |tx| {
            let Some(reader) = reader.take() else {
                return Err(Error::Busy);
            };
            // Pass 2: the same checks while writing.
            restore_in(tx, reader, keys.stream_mac(MAC_PURPOSE))?;
            crate::schema::read_data_key(tx, &master)?.ok_or(Error::BackupFormat {
                line: 2,
                problem: BackupProblem::NoDataKey,
            })?;
            Ok(())
        })?;
        self.set_keys(keys);
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

/// The oldest schema whose backups (format 2) this code restores.
const OLDEST_SCHEMA: u32 = 3;

/// How many of the `tokens` columns (the last ones in [`TABLES`]) a
/// backup of `schema` lacks: schema 4 appended the key validity period and
/// the issuer (3), schema 5 the PSKC device serial and Key Id (2). The
/// missing columns restore as NULL (no period, no device serial or Key Id),
/// under which the rows' `token-row/v1` or `v2` MACs still verify.
fn token_cols_missing(schema: u32) -> usize {
    match schema {
        ..=3 => 5,
        4 => 2,
        _ => 0,
    }
}

/// The schema of a backup whose header line is this format's, or the
/// header's problem.
fn check_header(line: &str) -> Result<u32, Error> {
    if line == header() {
        return Ok(SCHEMA_VERSION);
    }
    if let Some(schema) = line
        .strip_prefix(&format!("mfa-store-backup {FORMAT} schema "))
        .and_then(|r| r.strip_suffix('\n'))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| (OLDEST_SCHEMA..SCHEMA_VERSION).contains(v))
    {
        return Ok(schema);
    }
    let problem = if line.starts_with("mfa-store-backup 1 ") {
        BackupProblem::Unauthenticated
    } else {
        BackupProblem::Header
    };
    Err(Error::BackupFormat { line: 1, problem })
}

/// Pass 1 of `restore`: reads the whole file without writing anything,
/// unwraps the backup's data key with `master` (from the `mfa_keys` table,
/// which comes first) and checks the MAC trailer. Returns the keys.
fn authenticate_backup(reader: &mut impl BufRead, master: &MasterWrap) -> Result<Keys, Error> {
    let mut line = String::new();
    let mut n: u64 = 0;
    // The lines before the data key is known (header, the mfa_keys table:
    // a few short lines), fed to the MAC once it is.
    let mut before_key = String::new();
    let mut found: Option<(Keys, Hmac<Sha256>)> = None;
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
        if let Some((_, mac)) = found.as_mut() {
            mac.update(line.as_bytes());
            if line == "end\n" {
                line.clear();
                reader.read_line(&mut line)?;
                let (keys, mac) = found.ok_or_else(|| bad(BackupProblem::NoDataKey))?;
                check_trailer(&line, mac, n + 1)?;
                return Ok(keys);
            }
            continue;
        }
        before_key.push_str(&line);
        match n {
            1 => {
                check_header(&line)?;
            }
            2 if line != "table mfa_keys 4\n" => return Err(bad(BackupProblem::Table)),
            2 => {}
            _ => {
                let vals = line
                    .strip_suffix('\n')
                    .and_then(|b| b.strip_prefix("r\t"))
                    .and_then(|f| f.split('\t').map(decode).collect::<Option<Vec<Val>>>())
                    .ok_or(Error::BackupFormat {
                        line: n,
                        problem: BackupProblem::NoDataKey,
                    })?;
                let [Val::Int(id), _, Val::Int(data_id), Val::Blob(wrapped)] = vals.as_slice()
                else {
                    return Err(bad(BackupProblem::FieldCount));
                };
                if *id == i64::from(master.id) {
                    let data_id = u32::try_from(*data_id).map_err(|_| bad(BackupProblem::Field))?;
                    let keys = master.unwrap(data_id, wrapped)?.keys();
                    let mut mac = keys.stream_mac(MAC_PURPOSE);
                    mac.update(before_key.as_bytes());
                    found = Some((keys, mac));
                } else if n > 10 {
                    // mfa_keys holds one row; a long run of others is not a backup of ours.
                    return Err(bad(BackupProblem::NoDataKey));
                }
            }
        }
    }
}

fn restore_in(
    tx: &mut dyn Tx,
    mut reader: impl BufRead,
    mut mac: Hmac<Sha256>,
) -> Result<(), Error> {
    let tokens = count(tx, "tokens")?;
    let users = count(tx, "users")?;
    let logs = count(tx, "auth_log")?;
    if tokens > 0 || users > 0 || logs > 0 {
        return Err(Error::RestoreTargetNotEmpty { tokens, users });
    }
    tx.exec("DELETE FROM mfa_keys", &[])?;
    tx.exec("DELETE FROM trusted_ranges", &[])?;

    let mut line = String::new();
    let mut n: u64 = 0;
    let mut current: Option<(&str, usize, String)> = None;
    let mut ended = false;
    let mut schema = SCHEMA_VERSION;
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
            return check_trailer(&line, mac, n);
        }
        mac.update(line.as_bytes());
        let body = line
            .strip_suffix('\n')
            .ok_or_else(|| bad(BackupProblem::Truncated))?;
        if n == 1 {
            schema = check_header(&line)?;
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
            let cols: &[&str] = if *table == "tokens" {
                cols.get(..cols.len() - token_cols_missing(schema))
                    .unwrap_or(cols)
            } else {
                cols
            };
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
