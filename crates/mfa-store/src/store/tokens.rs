//! Tokens: import, assignment, activation, resync, export.

use mfa_oath::{
    Algorithm, Digits, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams, TotpState,
    UnixTime,
};

use super::{LogRow, MAX_SERIAL_LEN, Store, audit, ensure_user, lock_user, user_id_error};

use subtle::ConstantTimeEq;

use crate::crypto::{Keys, MacField};
use crate::db::{BackendKind, Mode, Row, Tx, Val, int};
use crate::{
    Error, ImportMode, ImportRejection, ImportReport, MAX_TOKENS_PER_USER, NewToken, RejectedToken,
    StoreConfig, TokenInfo, TokenKind,
};

/// A token row read for verification.
pub(super) struct TokenRow {
    pub(super) serial: String,
    pub(super) kind: TokenKind,
    pub(super) key_id: u32,
    pub(super) sealed: Vec<u8>,
    pub(super) user: Option<String>,
    pub(super) active: bool,
    pub(super) last_step: Option<u64>,
    pub(super) drift: i64,
    /// The row MAC as stored (`None`: missing, which never verifies).
    pub(super) mac: Option<Vec<u8>>,
    /// The key validity period (Unix seconds; covered by the MAC).
    pub(super) not_before: Option<i64>,
    pub(super) not_after: Option<i64>,
    /// Descriptive columns (not security-relevant, not in the MAC).
    pub(super) issuer: Option<String>,
    pub(super) manufacturer: Option<String>,
    pub(super) model: Option<String>,
    /// The PSKC device serial and Key Id as imported (covered by the MAC:
    /// an export names the key by them, see [`row_mac`]).
    pub(super) device_serial: Option<String>,
    pub(super) pskc_key_id: Option<String>,
}

/// Tokens committed per transaction by an import.
pub const IMPORT_BATCH: usize = 250;

/// An unfinished all-or-nothing import that has written no batch for this
/// long (seconds) is taken to have ended with its process; the next import
/// or [`Store::purge_log`] takes its rows away. A live import that was that
/// slow fails cleanly with [`Error::ImportAbandoned`].
pub const DEAD_IMPORT_SECS: u64 = 300;

/// The columns of a new token row, as staged by an all-or-nothing import
/// (every column of `tokens` but `active`, which starts at 0).
const STAGED_COLS: &str = "serial, kind, algorithm, digits, period, t0, key_id, sealed, user_id, \
     last_step, drift, manufacturer, model, imported_at, row_mac, not_before, not_after, issuer, \
     device_serial, pskc_key_id";

/// `$first, ..., $(first + n - 1)`.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The number of columns in [`STAGED_COLS`].
const STAGED_N: usize = 20;

pub(super) const TOKEN_COLS: &str = "serial, kind, algorithm, digits, period, t0, key_id, sealed, user_id, active, last_step, drift, row_mac, not_before, not_after, issuer, manufacturer, model, device_serial, pskc_key_id";

pub(super) fn token_from_row(r: &Row) -> Result<TokenRow, Error> {
    let serial = r.text(0, "serial")?;
    let corrupt = |column| Error::Corrupt {
        table: "tokens",
        column,
    };
    let algorithm: Algorithm = r
        .text(2, "algorithm")?
        .parse()
        .map_err(|_| corrupt("algorithm"))?;
    let digits = u32::try_from(r.i64(3, "digits")?).map_err(|_| corrupt("digits"))?;
    let digits = Digits::new(digits).map_err(|_| corrupt("digits"))?;
    let kind = match r.text(1, "kind")?.as_str() {
        "totp" => TokenKind::Totp(TotpParams {
            algorithm,
            digits,
            period: Period::new(r.u64(4, "period")?).map_err(|_| corrupt("period"))?,
            t0: UnixTime::from_secs(r.u64(5, "t0")?),
        }),
        "hotp" => TokenKind::Hotp(HotpParams { algorithm, digits }),
        _ => return Err(corrupt("kind")),
    };
    Ok(TokenRow {
        serial,
        kind,
        key_id: u32::try_from(r.i64(6, "key_id")?).map_err(|_| corrupt("key_id"))?,
        sealed: r.blob(7, "sealed")?,
        user: r.opt_text(8, "user_id")?,
        active: r.i64(9, "active")? != 0,
        last_step: r.opt_u64(10, "last_step")?,
        drift: r.i64(11, "drift")?,
        mac: r.opt_blob(12, "row_mac")?,
        not_before: r.opt_i64(13, "not_before")?,
        not_after: r.opt_i64(14, "not_after")?,
        issuer: r.opt_text(15, "issuer")?,
        manufacturer: r.opt_text(16, "manufacturer")?,
        model: r.opt_text(17, "model")?,
        device_serial: r.opt_text(18, "device_serial")?,
        pskc_key_id: r.opt_text(19, "pskc_key_id")?,
    })
}

/// The MAC of a token row's security-relevant columns under the data key:
/// owner, kind and parameters, key id and sealed secret, active flag, last
/// step or counter, drift, the key validity period, and the PSKC device
/// serial and Key Id. Someone with write access to the database but not
/// the key cannot give a token to another user, rewind its step or move its
/// validity period.
///
/// The device serial and Key Id look descriptive (like the issuer,
/// manufacturer and model, which are not covered), but they are what an
/// export names the key by: the receiving system, and a re-import here,
/// derive the token's serial from them. Unprotected, an edit of the
/// database would make an export hand device A's secret out under device
/// B's serial, and whoever holds A could sign in as the user given "B".
/// So they are covered like the serial itself.
///
/// A row without a validity period keeps the `token-row/v1` MAC of schema
/// 3 (so no row needs recomputing on upgrade); a row with one is MAC'd as
/// `token-row/v2` with both ends appended, so clearing or changing either
/// end breaks the MAC. A row with a device serial or Key Id (schema 5) is
/// MAC'd as `token-row/v3`: both ends of the period, then both of them;
/// rows without either keep v1 or v2, and clearing, setting or changing
/// either breaks the MAC.
fn row_mac(keys: &Keys, t: &TokenRow) -> [u8; 32] {
    let (kind, p_alg, p_digits, period, t0) = match t.kind {
        TokenKind::Totp(p) => (
            "totp",
            p.algorithm,
            p.digits,
            p.period.seconds(),
            p.t0.secs(),
        ),
        TokenKind::Hotp(p) => ("hotp", p.algorithm, p.digits, 0, 0),
    };
    let signed = |v: u64| MacField::Int(i64::try_from(v).unwrap_or(i64::MAX));
    let mut fields = vec![
        MacField::Bytes(t.serial.as_bytes()),
        MacField::Bytes(kind.as_bytes()),
        MacField::Bytes(p_alg.name().as_bytes()),
        MacField::Int(p_digits.get().into()),
        signed(period),
        signed(t0),
        MacField::Int(t.key_id.into()),
        MacField::Bytes(&t.sealed),
        t.user
            .as_deref()
            .map_or(MacField::None, |u| MacField::Bytes(u.as_bytes())),
        MacField::Int(i64::from(t.active)),
        t.last_step.map_or(MacField::None, signed),
        MacField::Int(t.drift),
    ];
    let pskc = t.device_serial.is_some() || t.pskc_key_id.is_some();
    if t.not_before.is_none() && t.not_after.is_none() && !pskc {
        return keys.mac(b"token-row/v1", &fields);
    }
    fields.push(t.not_before.map_or(MacField::None, MacField::Int));
    fields.push(t.not_after.map_or(MacField::None, MacField::Int));
    if !pskc {
        return keys.mac(b"token-row/v2", &fields);
    }
    for v in [&t.device_serial, &t.pskc_key_id] {
        fields.push(
            v.as_deref()
                .map_or(MacField::None, |s| MacField::Bytes(s.as_bytes())),
        );
    }
    keys.mac(b"token-row/v3", &fields)
}

/// Writes a token row's state (owner, active, last step, drift) with its
/// new MAC. With `guard`, only if no server consumed this step (or a later
/// one) first: the conditional update is the replay guard. Returns whether
/// the row was written.
pub(super) fn write_state(
    tx: &mut dyn Tx,
    keys: &Keys,
    new: &TokenRow,
    guard: bool,
) -> Result<bool, Error> {
    let sql = if guard {
        guarded_update!()
    } else {
        concat!(update!(), " WHERE serial = $6")
    };
    Ok(tx.exec(sql, &state_values(keys, new))? == 1)
}

/// The update of a token's state: `$1`–`$6` are [`state_values`]. (A
/// macro: every statement is a `&'static str` built at compile time.)
macro_rules! update {
    () => {
        "UPDATE tokens SET user_id = $1, active = $2, last_step = $3, drift = $4, row_mac = $5"
    };
}
use update;
/// The update only if no server consumed this step (or a later one)
/// first: the replay guard.
macro_rules! guarded_update {
    () => {
        concat!(update!(), " WHERE serial = $6 AND ", step_guard!())
    };
}
/// The replay guard itself, on `update!()`'s `$3` (the step to consume):
/// no server consumed this step or a later one.
macro_rules! step_guard {
    () => {
        "(last_step IS NULL OR last_step < $3)"
    };
}
use guarded_update;
use step_guard;

/// The parameters of `update!()` for the new state `new`, with its row MAC.
fn state_values(keys: &Keys, new: &TokenRow) -> [Val; 6] {
    let mac = row_mac(keys, new);
    [
        new.user.clone().into(),
        Val::Int(i64::from(new.active)),
        new.last_step.map(int).unwrap_or(Val::Null),
        Val::Int(new.drift),
        Val::Blob(mac.to_vec()),
        new.serial.as_str().into(),
    ]
}

/// Computes the row MAC of every token (the schema 3 migration of a store
/// whose rows had none), in batches.
pub(crate) fn mac_every_token(tx: &mut dyn Tx, keys: &Keys) -> Result<(), Error> {
    let mut after = String::new();
    loop {
        let sql =
            format!("SELECT {TOKEN_COLS} FROM tokens WHERE serial > $1 ORDER BY serial LIMIT 1000");
        let batch = tx.query("tokens", &sql, &[after.as_str().into()])?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = last.text(0, "serial")?;
        for r in &batch {
            let t = token_from_row(r)?;
            tx.exec(
                "UPDATE tokens SET row_mac = $1 WHERE serial = $2",
                &[
                    Val::Blob(row_mac(keys, &t).to_vec()),
                    t.serial.as_str().into(),
                ],
            )?;
        }
    }
}

impl TokenRow {
    /// Refuses a row sealed under another data key or whose MAC does not
    /// match ([`Error::TokenTampered`]).
    pub(super) fn verify(&self, keys: &Keys) -> Result<(), Error> {
        if self.key_id != keys.key_id {
            return Err(Error::Unseal {
                serial: self.serial.clone(),
            });
        }
        let ok = self
            .mac
            .as_deref()
            .is_some_and(|m| bool::from(m.ct_eq(row_mac(keys, self).as_slice())));
        if ok {
            Ok(())
        } else {
            Err(Error::TokenTampered {
                serial: self.serial.clone(),
            })
        }
    }

    /// This row with another state (for [`write_state`]).
    pub(super) fn with_state(
        &self,
        user: Option<&str>,
        active: bool,
        last_step: Option<u64>,
        drift: i64,
    ) -> TokenRow {
        TokenRow {
            serial: self.serial.clone(),
            kind: self.kind,
            key_id: self.key_id,
            sealed: self.sealed.clone(),
            user: user.map(str::to_owned),
            active,
            last_step,
            drift,
            mac: None,
            not_before: self.not_before,
            not_after: self.not_after,
            issuer: self.issuer.clone(),
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            device_serial: self.device_serial.clone(),
            pskc_key_id: self.pskc_key_id.clone(),
        }
    }

    /// Whether the key may be used at `now` (its validity period, the rule
    /// in [`crate::model::within_validity`]).
    pub(super) fn valid_at(&self, now: UnixTime) -> bool {
        crate::model::within_validity(self.not_before, self.not_after, now)
    }

    pub(super) fn info(&self) -> TokenInfo {
        TokenInfo {
            serial: self.serial.clone(),
            kind: self.kind,
            user: self.user.clone(),
            active: self.active,
            last_step: self.last_step,
            drift: self.drift,
            key_id: self.key_id,
            not_before: self.not_before,
            not_after: self.not_after,
            issuer: self.issuer.clone(),
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            device_serial: self.device_serial.clone(),
            pskc_key_id: self.pskc_key_id.clone(),
        }
    }

    /// Runs the normal mfa-oath verification; returns the accepted step.
    pub(super) fn check(
        &self,
        keys: &Keys,
        code: &str,
        now: UnixTime,
        config: &StoreConfig,
    ) -> Result<Result<u64, mfa_oath::Error>, Error> {
        let raw = keys.open(&self.serial, &self.sealed)?;
        let secret = Secret::from_bytes(&raw).map_err(|source| Error::TokenParams {
            serial: self.serial.clone(),
            source,
        })?;
        Ok(match self.kind {
            TokenKind::Totp(p) => Totp::new(secret, p)
                .verify(
                    code,
                    now,
                    TotpState {
                        last_step: self.last_step,
                        drift: self.drift,
                    },
                    config.totp_window,
                )
                .map(|a| a.step),
            TokenKind::Hotp(p) => Hotp::new(secret, p)
                .verify(
                    code,
                    HotpState {
                        last_counter: self.last_step,
                    },
                    config.hotp_window,
                )
                .map(|a| a.counter),
        })
    }
}

/// Consumes `step` of the (verified) token `t` only if no server consumed
/// it (or a later one) first: the conditional update is the replay guard.
/// When it consumes it, it also appends `approval`, the approval's log
/// event, so that the step is never consumed without its event nor the
/// event written without the step: on PostgreSQL in the same statement (a
/// data-modifying `WITH`, one round trip fewer per sign-in), on SQLite
/// right after it. Returns whether it consumed the step; if not, nothing
/// was written.
pub(super) fn consume_step(
    tx: &mut dyn Tx,
    keys: &Keys,
    t: &TokenRow,
    step: u64,
    approval: &LogRow,
) -> Result<bool, Error> {
    // The log row's parameters are typed: PostgreSQL cannot infer the
    // type of a parameter in a `SELECT` list.
    const CONSUME_AND_LOG: &str = concat!(
        "WITH consumed AS (",
        guarded_update!(),
        " RETURNING serial) INSERT INTO auth_log (",
        super::log_cols!(),
        ") SELECT $7::BIGINT, $8::TEXT, $9::TEXT, $10::TEXT, $11::TEXT, $12::BIGINT, \
         $13::TEXT, $14::TEXT, $15::TEXT, $16::TEXT, $17::TEXT, $18::TEXT, $19::TEXT, \
         $20::TEXT FROM consumed"
    );
    let next = t.with_state(t.user.as_deref(), t.active, Some(step), t.drift);
    match tx.kind() {
        BackendKind::Postgres => {
            let mut values = state_values(keys, &next).to_vec();
            values.extend_from_slice(approval.values());
            Ok(tx.exec(CONSUME_AND_LOG, &values)? == 1)
        }
        BackendKind::Sqlite => {
            // Only the columns a consumed step changes are named in the
            // `SET`: naming `user_id` (unchanged) made SQLite check its
            // foreign key and rewrite its `tokens(user_id)` index entry on
            // every sign-in. The user and the active flag the new row MAC
            // covers are instead required to be what this transaction read.
            // `$1`–`$6` are `state_values`'s, as in `update!()`; SQLite
            // numbers them by first use, so they are bound in that order.
            const CONSUME: &str = concat!(
                "UPDATE tokens SET last_step = $3, drift = $4, row_mac = $5 \
                 WHERE serial = $6 AND user_id IS $1 AND active = $2 AND ",
                step_guard!()
            );
            let [user, active, last_step, drift, mac, serial] = state_values(keys, &next);
            if tx.exec(CONSUME, &[last_step, drift, mac, serial, user, active])? != 1 {
                return Ok(false);
            }
            approval.insert(tx)?;
            Ok(true)
        }
    }
}

impl Store {
    /// Imports tokens (the accepted tokens of an import report), streamed
    /// from the iterator; secrets are sealed before they are written.
    ///
    /// A token whose serial exists already (or comes twice), or that names
    /// a user who would have more than [`MAX_TOKENS_PER_USER`] tokens, is
    /// reported in [`ImportReport::rejected`].
    ///
    /// An import never holds the database's writer lock for long, so
    /// sign-ins go on during a large one:
    /// - [`ImportMode::AcceptedOnly`] commits every [`IMPORT_BATCH`] tokens;
    ///   a crash or error part-way leaves the batches before it imported
    ///   (the report of a failed call is lost; import again: the tokens
    ///   already in are rejected as duplicates).
    /// - [`ImportMode::AllOrNothing`] writes the sealed rows into `tokens`
    ///   in batches, marked as the import's; nothing reads them (no sign-in,
    ///   listing, export or backup) until the import commits, which is one
    ///   small update of its `imports` row however many tokens it has. A
    ///   pending row holds its serial and its user's slot, so nothing can
    ///   take them meanwhile and the commit has nothing to check again (a
    ///   concurrent import of the same serial is rejected as a duplicate).
    ///   Any rejection refuses the whole import and nothing stays: its rows,
    ///   and the users it created that have nothing else, are taken away in
    ///   batches; those of an import whose process ended (no batch for
    ///   [`DEAD_IMPORT_SECS`]) are taken away by the next all-or-nothing
    ///   import or by [`Store::purge_log`].
    ///
    /// # Errors
    /// [`Error::ImportRefused`] (all-or-nothing with rejections),
    /// [`Error::ImportAbandoned`], database errors (all-or-nothing: nothing
    /// imported).
    pub fn import(
        &self,
        tokens: impl IntoIterator<Item = NewToken>,
        mode: ImportMode,
        now: UnixTime,
    ) -> Result<ImportReport, Error> {
        match mode {
            ImportMode::AcceptedOnly => self.import_in_batches(tokens, now),
            _ => self.import_staged(tokens, now),
        }
    }

    fn import_in_batches(
        &self,
        tokens: impl IntoIterator<Item = NewToken>,
        now: UnixTime,
    ) -> Result<ImportReport, Error> {
        self.batches(tokens, |_| Ok(()), |tx, t| self.import_one(tx, t, now))
    }

    /// Runs an import in batches of [`IMPORT_BATCH`] tokens, one write
    /// transaction each (a retried one re-runs the same batch): `begin`,
    /// then `one` for every token of the batch (`Some` rejects it). Returns
    /// what was accepted and rejected.
    fn batches(
        &self,
        tokens: impl IntoIterator<Item = NewToken>,
        mut begin: impl FnMut(&mut dyn Tx) -> Result<(), Error>,
        mut one: impl FnMut(&mut dyn Tx, &NewToken) -> Result<Option<ImportRejection>, Error>,
    ) -> Result<ImportReport, Error> {
        let mut report = ImportReport::default();
        let mut iter = tokens.into_iter();
        let mut index = 0usize;
        loop {
            let batch: Vec<NewToken> = iter.by_ref().take(IMPORT_BATCH).collect();
            if batch.is_empty() {
                return Ok(report);
            }
            let (imported, rejected) = self.pool.run(Mode::Write, |tx| {
                // A server still holding a rotated-out master key does not write.
                self.ensure_current_master(tx)?;
                begin(tx)?;
                let mut imported = 0u64;
                let mut rejected = Vec::new();
                for (i, t) in batch.iter().enumerate() {
                    match one(tx, t)? {
                        Some(reason) => rejected.push(RejectedToken {
                            index: index + i,
                            serial: t.serial.clone(),
                            reason,
                        }),
                        None => imported += 1,
                    }
                }
                Ok((imported, rejected))
            })?;
            report.imported += imported;
            report.rejected.extend(rejected);
            index += batch.len();
        }
    }

    fn import_staged(
        &self,
        tokens: impl IntoIterator<Item = NewToken>,
        now: UnixTime,
    ) -> Result<ImportReport, Error> {
        // The rows of imports whose process ended hold serials and slots:
        // take them away first.
        self.withdraw_dead_imports(now)?;
        let mut id_bytes = [0u8; 8];
        getrandom::fill(&mut id_bytes).map_err(|_| Error::Rng)?;
        let import_id = i64::from_be_bytes(id_bytes) & i64::MAX;
        self.pool.run(Mode::Write, |tx| {
            self.ensure_current_master(tx)?;
            tx.exec(
                "INSERT INTO imports (import_id, started_at, heartbeat) VALUES ($1, $2, $2)",
                &[Val::Int(import_id), int(now.secs())],
            )?;
            Ok(())
        })?;
        let result = self.stage_then_commit(import_id, tokens, now);
        if result.is_err() {
            // Best effort: what is left stays invisible, and the next
            // import or `Store::purge_log` takes it away.
            let _ = self.withdraw_import(import_id);
        }
        result
    }

    fn stage_then_commit(
        &self,
        import_id: i64,
        tokens: impl IntoIterator<Item = NewToken>,
        now: UnixTime,
    ) -> Result<ImportReport, Error> {
        let started = std::time::Instant::now();
        let mut report = self.batches(
            tokens,
            |tx| {
                // `now` plus the time this import has taken: the sign of
                // life that other imports read (`withdraw_dead_imports`).
                // Also the lock that orders this batch with a withdrawal.
                let heartbeat = now.secs().saturating_add(started.elapsed().as_secs());
                let alive = tx.exec(
                    "UPDATE imports SET heartbeat = $1 WHERE import_id = $2 AND committed_at IS NULL",
                    &[int(heartbeat), Val::Int(import_id)],
                )?;
                if alive == 1 {
                    Ok(())
                } else {
                    Err(Error::ImportAbandoned)
                }
            },
            |tx, t| self.stage_one(tx, import_id, t, now),
        )?;
        if !report.rejected.is_empty() {
            report.imported = 0;
            return Err(Error::ImportRefused { report });
        }
        // The commit: one row, however many tokens. The pending rows took
        // their serials and their users' slots when they were written, so
        // nothing needs checking again.
        let committed = self.pool.run(Mode::Write, |tx| {
            self.ensure_current_master(tx)?;
            tx.exec(
                "UPDATE imports SET committed_at = $1 WHERE import_id = $2 AND committed_at IS NULL",
                &[int(now.secs()), Val::Int(import_id)],
            )
        })?;
        if committed != 1 {
            return Err(Error::ImportAbandoned);
        }
        Ok(report)
    }

    /// Takes away the rows of every all-or-nothing import that has shown no
    /// sign of life for [`DEAD_IMPORT_SECS`] before `now` (its process
    /// ended), and rows left by a withdrawal that was cut short.
    pub(super) fn withdraw_dead_imports(&self, now: UnixTime) -> Result<(), Error> {
        let dead = self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "imports",
                "SELECT import_id FROM imports WHERE committed_at IS NULL AND heartbeat < $1 \
                 UNION SELECT DISTINCT import_id FROM tokens WHERE import_id IS NOT NULL \
                 AND import_id NOT IN (SELECT import_id FROM imports) \
                 UNION SELECT DISTINCT import_id FROM users WHERE import_id IS NOT NULL \
                 AND import_id NOT IN (SELECT import_id FROM imports)",
                &[int(now.secs().saturating_sub(DEAD_IMPORT_SECS))],
            )?
            .iter()
            .map(|r| r.i64(0, "import_id"))
            .collect::<Result<Vec<_>, Error>>()
        })?;
        for import_id in dead {
            self.withdraw_import(import_id)?;
        }
        Ok(())
    }

    /// Takes away the rows of an all-or-nothing import that did not commit
    /// (in batches, so the writer lock is never held for long): first its
    /// `imports` row, so that it cannot commit or write another batch, then
    /// its tokens, and the users it created that have nothing else.
    pub(super) fn withdraw_import(&self, import_id: i64) -> Result<(), Error> {
        let id = Val::Int(import_id);
        let committed = self.pool.run(Mode::Write, |tx| {
            tx.exec(
                "DELETE FROM imports WHERE import_id = $1 AND committed_at IS NULL",
                std::slice::from_ref(&id),
            )?;
            Ok(tx
                .query_opt(
                    "imports",
                    "SELECT 1 FROM imports WHERE import_id = $1",
                    std::slice::from_ref(&id),
                )?
                .is_some())
        })?;
        if committed {
            // Never a committed import's rows.
            return Ok(());
        }
        let batch = Val::Int(IMPORT_BATCH as i64);
        let steps = [
            "DELETE FROM tokens WHERE serial IN \
             (SELECT serial FROM tokens WHERE import_id = $1 LIMIT $2)",
            "DELETE FROM users WHERE user_id IN \
             (SELECT u.user_id FROM users u WHERE u.import_id = $1 \
              AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.user_id = u.user_id) \
              AND NOT EXISTS (SELECT 1 FROM app_passwords a WHERE a.user_id = u.user_id) \
              LIMIT $2)",
            // Users that gained something else meanwhile stay, unmarked.
            "UPDATE users SET import_id = NULL WHERE user_id IN \
             (SELECT user_id FROM users WHERE import_id = $1 LIMIT $2)",
        ];
        for sql in steps {
            while self
                .pool
                .run(Mode::Write, |tx| tx.exec(sql, &[id.clone(), batch.clone()]))?
                > 0
            {}
        }
        Ok(())
    }

    /// Writes one token of an all-or-nothing import into `tokens`, marked
    /// as the import's (sealed, MAC'd, not live until the import commits),
    /// or says why it is rejected.
    fn stage_one(
        &self,
        tx: &mut dyn Tx,
        import_id: i64,
        t: &NewToken,
        now: UnixTime,
    ) -> Result<Option<ImportRejection>, Error> {
        if let Some(reason) = field_rejection(t) {
            return Ok(Some(reason));
        }
        if let Some(user) = &t.user {
            // The row refers to its user: create it, marked as this
            // import's (taken away again if the import does not commit).
            tx.exec(
                "INSERT INTO users (user_id, created_at, import_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO NOTHING",
                &[user.as_str().into(), int(now.secs()), Val::Int(import_id)],
            )?;
            // Lock order everywhere: user row, then token rows. Pending
            // rows (this import's and others') hold their slots.
            lock_user(tx, user)?;
            if count_tokens(tx, user)? >= MAX_TOKENS_PER_USER as u64 {
                return Ok(Some(ImportRejection::TooManyTokens { user: user.clone() }));
            }
        }
        let (_, mut vals) = self.new_row(t, now)?;
        vals.push(Val::Int(import_id));
        let n = tx.exec(
            &format!(
                "INSERT INTO tokens ({STAGED_COLS}, active, import_id) \
                 VALUES ({}, 0, ${}) \
                 ON CONFLICT (serial) DO NOTHING",
                placeholders(1, STAGED_N),
                STAGED_N + 1
            ),
            &vals,
        )?;
        Ok(if n == 0 {
            Some(ImportRejection::Duplicate)
        } else {
            None
        })
    }

    /// The row of a new token (sealed secret, MAC) and its values in the
    /// order of [`STAGED_COLS`].
    fn new_row(&self, t: &NewToken, now: UnixTime) -> Result<(TokenRow, Vec<Val>), Error> {
        let (last_step, drift) = match t.kind {
            TokenKind::Totp(_) => (None, t.drift),
            TokenKind::Hotp(_) => (HotpState::from_next_counter(t.counter).last_counter, 0),
        };
        let (kind, algorithm, digits, period, t0) = match t.kind {
            TokenKind::Totp(p) => (
                "totp",
                p.algorithm,
                p.digits,
                p.period.seconds(),
                p.t0.secs(),
            ),
            TokenKind::Hotp(p) => ("hotp", p.algorithm, p.digits, 0, 0),
        };
        let keys = self.keys();
        let sealed = keys.seal(&t.serial, t.secret.expose_secret())?;
        let row = TokenRow {
            serial: t.serial.clone(),
            kind: t.kind,
            key_id: keys.key_id,
            sealed,
            user: t.user.clone(),
            active: false,
            last_step,
            drift,
            mac: None,
            not_before: t.not_before,
            not_after: t.not_after,
            issuer: t.issuer.clone(),
            manufacturer: t.manufacturer.clone(),
            model: t.model.clone(),
            device_serial: t.device_serial.clone(),
            pskc_key_id: t.pskc_key_id.clone(),
        };
        let mac = row_mac(&keys, &row);
        let vals = vec![
            t.serial.as_str().into(),
            kind.into(),
            algorithm.name().into(),
            Val::Int(digits.get().into()),
            int(period),
            int(t0),
            int(keys.key_id.into()),
            Val::Blob(row.sealed.clone()),
            t.user.clone().into(),
            last_step.map(int).unwrap_or(Val::Null),
            Val::Int(drift),
            t.manufacturer.clone().into(),
            t.model.clone().into(),
            int(now.secs()),
            Val::Blob(mac.to_vec()),
            t.not_before.map(Val::Int).unwrap_or(Val::Null),
            t.not_after.map(Val::Int).unwrap_or(Val::Null),
            t.issuer.clone().into(),
            t.device_serial.clone().into(),
            t.pskc_key_id.clone().into(),
        ];
        Ok((row, vals))
    }

    fn import_one(
        &self,
        tx: &mut dyn Tx,
        t: &NewToken,
        now: UnixTime,
    ) -> Result<Option<ImportRejection>, Error> {
        if let Some(reason) = field_rejection(t) {
            return Ok(Some(reason));
        }
        if let Some(user) = &t.user
            && lock_user(tx, user)?.is_some()
            && count_tokens(tx, user)? >= MAX_TOKENS_PER_USER as u64
        {
            return Ok(Some(ImportRejection::TooManyTokens { user: user.clone() }));
        }
        // The token row refers to its user: create the user first, and
        // take it away again if the insert below finds the serial taken (a
        // rejected row creates no user).
        let created_user = match &t.user {
            Some(user) => ensure_user_created(tx, user, now)?,
            None => false,
        };
        let (_, vals) = self.new_row(t, now)?;
        let n = tx.exec(
            &format!(
                "INSERT INTO tokens ({STAGED_COLS}, active) \
                 VALUES ({}, 0) \
                 ON CONFLICT (serial) DO NOTHING",
                placeholders(1, STAGED_N)
            ),
            &vals,
        )?;
        if n == 0 {
            if let (true, Some(user)) = (created_user, &t.user) {
                tx.exec(
                    "DELETE FROM users WHERE user_id = $1",
                    &[user.as_str().into()],
                )?;
            }
            return Ok(Some(ImportRejection::Duplicate));
        }
        Ok(None)
    }

    /// Reads a token's public data.
    ///
    /// # Errors
    /// Database errors.
    pub fn token(&self, serial: &str) -> Result<Option<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM live_tokens WHERE serial = $1");
            tx.query_opt("tokens", &sql, &[serial.into()])?
                .map(|r| token_from_row(&r).map(|t| t.info()))
                .transpose()
        })
    }

    /// Every token in the store, by serial (for administration; a large
    /// store returns a large vector).
    ///
    /// # Errors
    /// Database errors.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM live_tokens ORDER BY serial");
            tx.query("tokens", &sql, &[])?
                .iter()
                .map(|r| token_from_row(r).map(|t| t.info()))
                .collect()
        })
    }

    /// Every token with its secret, unsealed, for moving tokens to another
    /// system (`mfa tokens export` writes them as encrypted PSKC). The
    /// export is recorded in the audit log with `actor` and the number of
    /// tokens. Handle the result as the secrets it is.
    ///
    /// # Errors
    /// [`Error::Unseal`] (a token sealed under another key), database errors.
    pub fn export_tokens(
        &self,
        actor: &str,
        now: UnixTime,
    ) -> Result<Vec<(TokenInfo, Secret)>, Error> {
        let keys = self.keys();
        self.pool.run(Mode::Write, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM live_tokens ORDER BY serial");
            let rows = tx.query("tokens", &sql, &[])?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let t = token_from_row(r)?;
                t.verify(&keys)?;
                let raw = keys.open(&t.serial, &t.sealed)?;
                let secret = Secret::from_bytes(&raw).map_err(|source| Error::TokenParams {
                    serial: t.serial.clone(),
                    source,
                })?;
                out.push((t.info(), secret));
            }
            let reason = format!("{} token(s)", out.len());
            audit(tx, now, None, "token_export", Some(actor), Some(&reason))?;
            Ok(out)
        })
    }

    /// The tokens assigned to a user, by serial.
    ///
    /// # Errors
    /// Database errors.
    pub fn user_tokens(&self, user: &str) -> Result<Vec<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql =
                format!("SELECT {TOKEN_COLS} FROM live_tokens WHERE user_id = $1 ORDER BY serial");
            tx.query("tokens", &sql, &[user.into()])?
                .iter()
                .map(|r| token_from_row(r).map(|t| t.info()))
                .collect()
        })
    }

    /// Assigns a token to a user (created if new). A token belongs to one
    /// user; a user has at most [`MAX_TOKENS_PER_USER`] tokens. The token
    /// must then be activated. Assigning a token to the user who has it
    /// already does nothing.
    ///
    /// # Errors
    /// [`Error::UnknownToken`], [`Error::TokenAssigned`],
    /// [`Error::TooManyTokens`], [`Error::FieldLength`], database errors.
    pub fn assign(&self, serial: &str, user: &str, now: UnixTime) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, user, now)?;
            // Lock order everywhere: user row, then token rows.
            lock_user(tx, user)?;
            let t = read_token(tx, serial)?;
            match t.user.clone() {
                Some(owner) if owner == user => return Ok(()),
                Some(owner) => {
                    return Err(Error::TokenAssigned {
                        serial: serial.to_owned(),
                        user: owner,
                    });
                }
                None => {}
            }
            if count_tokens(tx, user)? >= MAX_TOKENS_PER_USER as u64 {
                return Err(Error::TooManyTokens {
                    user: user.to_owned(),
                    max: MAX_TOKENS_PER_USER,
                });
            }
            let keys = self.keys();
            t.verify(&keys)?;
            let next = t.with_state(Some(user), false, t.last_step, t.drift);
            write_state(tx, &keys, &next, false)?;
            audit(tx, now, Some(user), "token_assign", None, Some(serial))
        })
    }

    /// Removes a token from its user; it is deactivated (a later sign-in
    /// with it is "not for an activated account").
    ///
    /// # Errors
    /// [`Error::UnknownToken`], database errors.
    pub fn unassign(&self, serial: &str, now: UnixTime) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            let t = read_token(tx, serial)?;
            let keys = self.keys();
            t.verify(&keys)?;
            let user = t.user.clone();
            let next = t.with_state(None, false, t.last_step, t.drift);
            write_state(tx, &keys, &next, false)?;
            audit(
                tx,
                now,
                user.as_deref(),
                "token_unassign",
                None,
                Some(serial),
            )
        })
    }

    /// Activates an assigned token with the code it currently shows: the
    /// code goes through the normal verification and its step is recorded,
    /// so it cannot be used again to sign in. Returns the step (TOTP) or
    /// counter (HOTP) that matched.
    ///
    /// # Errors
    /// [`Error::UnknownToken`], [`Error::TokenNotAssigned`],
    /// [`Error::KeyOutsideValidity`] (the key's validity period does not
    /// include `now`; the code is not checked),
    /// [`Error::ActivationFailed`] with the mfa-oath reason, database errors.
    pub fn activate(&self, serial: &str, code: &str, now: UnixTime) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            let sql = "SELECT user_id FROM live_tokens WHERE serial = $1";
            let owner = tx
                .query_opt("tokens", sql, &[serial.into()])?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?
                .opt_text(0, "user_id")?
                .ok_or_else(|| Error::TokenNotAssigned {
                    serial: serial.to_owned(),
                })?;
            lock_user(tx, &owner)?;
            let sql = format!(
                "SELECT {TOKEN_COLS} FROM live_tokens WHERE serial = $1{}",
                tx.for_update()
            );
            let row = tx
                .query_opt("tokens", &sql, &[serial.into()])?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?;
            let t = token_from_row(&row)?;
            if t.user.as_deref() != Some(owner.as_str()) {
                return Err(Error::TokenNotAssigned {
                    serial: serial.to_owned(),
                });
            }
            let keys = self.keys();
            t.verify(&keys)?;
            if !t.valid_at(now) {
                return Err(Error::KeyOutsideValidity {
                    serial: serial.to_owned(),
                });
            }
            let step = t.check(&keys, code, now, &self.config)?.map_err(|reason| {
                Error::ActivationFailed {
                    serial: serial.to_owned(),
                    reason,
                }
            })?;
            let next = t.with_state(t.user.as_deref(), true, Some(step), t.drift);
            if !write_state(tx, &keys, &next, true)? {
                return Err(Error::ActivationFailed {
                    serial: serial.to_owned(),
                    reason: mfa_oath::Error::CodeReplayed { step },
                });
            }
            audit(tx, now, Some(&owner), "token_activate", None, Some(serial))?;
            Ok(step)
        })
    }

    /// Resynchronises a token from consecutive codes it shows (mfa-oath
    /// `resync`: two codes for TOTP, 2 or 3 for HOTP) within `window` steps
    /// or counters, and stores the result: the last step used and, for TOTP,
    /// the learned clock drift. The codes cannot be used again.
    ///
    /// # Errors
    /// [`Error::UnknownToken`], [`Error::KeyOutsideValidity`],
    /// [`Error::ResyncFailed`] with the mfa-oath
    /// reason, database errors.
    pub fn resync(
        &self,
        serial: &str,
        codes: &[&str],
        window: u32,
        now: UnixTime,
    ) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            let owner = tx
                .query_opt(
                    "tokens",
                    "SELECT user_id FROM live_tokens WHERE serial = $1",
                    &[serial.into()],
                )?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?
                .opt_text(0, "user_id")?;
            if let Some(owner) = &owner {
                lock_user(tx, owner)?;
            }
            let sql = format!(
                "SELECT {TOKEN_COLS} FROM live_tokens WHERE serial = $1{}",
                tx.for_update()
            );
            let row = tx
                .query_opt("tokens", &sql, &[serial.into()])?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?;
            let t = token_from_row(&row)?;
            let keys = self.keys();
            t.verify(&keys)?;
            if !t.valid_at(now) {
                return Err(Error::KeyOutsideValidity {
                    serial: serial.to_owned(),
                });
            }
            let raw = keys.open(&t.serial, &t.sealed)?;
            let secret = Secret::from_bytes(&raw).map_err(|source| Error::TokenParams {
                serial: t.serial.clone(),
                source,
            })?;
            let failed = |reason| Error::ResyncFailed {
                serial: serial.to_owned(),
                reason,
            };
            let (step, drift) = match t.kind {
                TokenKind::Totp(p) => {
                    let state = TotpState {
                        last_step: t.last_step,
                        drift: t.drift,
                    };
                    let ok = Totp::new(secret, p)
                        .resync(codes, now, state, window)
                        .map_err(failed)?;
                    (ok.step, ok.state.drift)
                }
                TokenKind::Hotp(p) => {
                    let state = HotpState {
                        last_counter: t.last_step,
                    };
                    let ok = Hotp::new(secret, p)
                        .resync(codes, state, window)
                        .map_err(failed)?;
                    (ok.counter, 0)
                }
            };
            let next = t.with_state(t.user.as_deref(), t.active, Some(step), drift);
            if !write_state(tx, &keys, &next, true)? {
                return Err(failed(mfa_oath::Error::CodeReplayed { step }));
            }
            audit(
                tx,
                now,
                owner.as_deref(),
                "token_resync",
                None,
                Some(serial),
            )?;
            Ok(step)
        })
    }
}

/// The token row `serial`, locked (PostgreSQL), or [`Error::UnknownToken`].
fn read_token(tx: &mut dyn Tx, serial: &str) -> Result<TokenRow, Error> {
    let sql = format!(
        "SELECT {TOKEN_COLS} FROM live_tokens WHERE serial = $1{}",
        tx.for_update()
    );
    let row = tx
        .query_opt("tokens", &sql, &[serial.into()])?
        .ok_or_else(|| Error::UnknownToken {
            serial: serial.to_owned(),
        })?;
    token_from_row(&row)
}

/// Why an import row is refused before anything is read: its serial's
/// length, or its user id (both import modes check a row this way first).
fn field_rejection(t: &NewToken) -> Option<ImportRejection> {
    if t.serial.is_empty() || t.serial.len() > MAX_SERIAL_LEN {
        return Some(ImportRejection::FieldLength { field: "serial" });
    }
    let error = user_id_error(t.user.as_deref()?).err()?;
    Some(user_rejection(error))
}

/// Why an import row's user id is refused, from the store's one
/// classification ([`user_id_error`]): empty or too long is a length
/// problem as for every field; anything else (a control character) names
/// itself.
fn user_rejection(error: Error) -> ImportRejection {
    match error {
        Error::Record(e) => ImportRejection::InvalidUser { why: e.to_string() },
        _ => ImportRejection::FieldLength { field: "user" },
    }
}

/// Creates the user row if it does not exist; returns whether it did not
/// (the caller checked the id with [`user_id_error`]).
fn ensure_user_created(tx: &mut dyn Tx, user: &str, now: UnixTime) -> Result<bool, Error> {
    Ok(tx.exec(
        "INSERT INTO users (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        &[user.into(), int(now.secs())],
    )? == 1)
}

fn count_tokens(tx: &mut dyn Tx, user: &str) -> Result<u64, Error> {
    tx.query_opt(
        "tokens",
        "SELECT count(*) FROM tokens WHERE user_id = $1",
        &[user.into()],
    )?
    .map(|r| r.u64(0, "count"))
    .transpose()
    .map(Option::unwrap_or_default)
}
