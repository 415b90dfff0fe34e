//! The store: every operation is one transaction.

use std::net::IpAddr;
use std::path::PathBuf;

use mfa_oath::{
    Algorithm, Digits, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams, TotpState,
    UnixTime,
};
use subtle::ConstantTimeEq;

use crate::crypto::Keys;
use crate::db::{BackendKind, Mode, Pool, Row, Tx, Val, int};
use crate::policy::{FraudState, LockState};
use crate::{
    AuditEntry, AuthEvent, AuthMode, AuthResult, Channel, Cidr, DenialReason, Error, Factor,
    ImportMode, ImportRejection, ImportReport, LockoutPolicy, MAX_TOKENS_PER_USER,
    MAX_TRUSTED_RANGES, MasterKey, NewToken, RejectedToken, StoreConfig, StoreStats, TokenInfo,
    TokenKind, UsageSummary, UserRecord, VerifyContext, VerifyOutcome,
};

/// Longest user id, in bytes.
pub const MAX_USER_ID_LEN: usize = 256;
/// Longest token serial, in bytes.
pub const MAX_SERIAL_LEN: usize = 128;

/// The state of an MFA server, in SQLite or PostgreSQL.
///
/// A `Store` is `Send + Sync`: share one between threads (it keeps a small
/// pool of connections). Any number of processes and servers may open the
/// same database at once; every operation is one transaction and the
/// results are the same as if they had run one after the other.
///
/// ```
/// use mfa_oath::{Secret, Totp, TotpParams, UnixTime};
/// use mfa_store::{ImportMode, MasterKey, NewToken, Store, TokenKind, VerifyContext};
///
/// let dir = tempfile::tempdir()?;
/// let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
/// let key = MasterKey::new(1, [7; 32]);
/// let store = Store::open(&url, &key)?;
///
/// let secret = Secret::from_bytes(b"12345678901234567890")?;
/// let params = TotpParams::default();
/// let token = NewToken::new("T-1", TokenKind::Totp(params), secret.clone());
/// store.import([token], ImportMode::AllOrNothing, UnixTime::from_secs(0))?;
/// store.assign("T-1", "alice", UnixTime::from_secs(0))?;
///
/// let totp = Totp::new(secret, params);
/// let t = UnixTime::from_secs(1_700_000_000);
/// store.activate("T-1", &totp.generate(t)?.to_string(), t)?;
///
/// let later = UnixTime::from_secs(1_700_000_030);
/// let code = totp.generate(later)?.to_string();
/// let ctx = VerifyContext::default();
/// assert!(store.verify("alice", &code, later, &ctx)?.is_approved());
/// // The same code again is a replay.
/// assert!(!store.verify("alice", &code, later, &ctx)?.is_approved());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Store {
    pool: Pool,
    keys: Keys,
    config: StoreConfig,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.pool.kind())
            .field("key_id", &self.keys.key_id)
            .finish_non_exhaustive()
    }
}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() || s.len() > max {
        return Err(Error::FieldLength {
            field,
            len: s.len(),
            max,
        });
    }
    Ok(())
}

fn opt_secs(v: Option<u64>) -> Option<UnixTime> {
    v.map(UnixTime::from_secs)
}

/// A token row read for verification.
struct TokenRow {
    serial: String,
    kind: TokenKind,
    key_id: u32,
    sealed: Vec<u8>,
    user: Option<String>,
    active: bool,
    last_step: Option<u64>,
    drift: i64,
}

const TOKEN_COLS: &str = "serial, kind, algorithm, digits, period, t0, key_id, sealed, user_id, active, last_step, drift";

fn token_from_row(r: &Row) -> Result<TokenRow, Error> {
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
    })
}

impl TokenRow {
    fn info(&self) -> TokenInfo {
        TokenInfo {
            serial: self.serial.clone(),
            kind: self.kind,
            user: self.user.clone(),
            active: self.active,
            last_step: self.last_step,
            drift: self.drift,
            key_id: self.key_id,
        }
    }

    /// Runs the normal mfa-oath verification; returns the accepted step.
    fn check(
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

/// Consumes `step` of token `serial` only if no server consumed it (or a
/// later one) first: the conditional update is the replay guard.
fn consume_step(tx: &mut dyn Tx, serial: &str, step: u64) -> Result<bool, Error> {
    let n = tx.exec(
        "UPDATE tokens SET last_step = $1 WHERE serial = $2 AND (last_step IS NULL OR last_step < $1)",
        &[int(step), serial.into()],
    )?;
    Ok(n == 1)
}

fn load_lock(tx: &mut dyn Tx, user: &str, factor: Factor) -> Result<LockState, Error> {
    let row = tx.query_opt(
        "lockout",
        "SELECT failures, last_failure, locked, locked_until, lockouts FROM lockout WHERE user_id = $1 AND factor = $2",
        &[user.into(), factor.as_str().into()],
    )?;
    let Some(r) = row else {
        return Ok(LockState::default());
    };
    Ok(LockState {
        failures: r.u64(0, "failures")?,
        last_failure: r.opt_u64(1, "last_failure")?,
        locked: r.i64(2, "locked")? != 0,
        locked_until: r.opt_u64(3, "locked_until")?,
        lockouts: r.u64(4, "lockouts")?,
    })
}

fn save_lock(tx: &mut dyn Tx, user: &str, factor: Factor, s: &LockState) -> Result<(), Error> {
    tx.exec(
        "INSERT INTO lockout (user_id, factor, failures, last_failure, locked, locked_until, lockouts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (user_id, factor) DO UPDATE SET failures = excluded.failures, \
         last_failure = excluded.last_failure, locked = excluded.locked, \
         locked_until = excluded.locked_until, lockouts = excluded.lockouts",
        &[
            user.into(),
            factor.as_str().into(),
            int(s.failures),
            s.last_failure.map(int).unwrap_or(Val::Null),
            Val::Int(i64::from(s.locked)),
            s.locked_until.map(int).unwrap_or(Val::Null),
            int(s.lockouts),
        ],
    )?;
    Ok(())
}

/// Locks the user's row (PostgreSQL `FOR UPDATE`; SQLite holds the write
/// lock already) and reads the fraud state. `None`: no such user.
fn lock_user(tx: &mut dyn Tx, user: &str) -> Result<Option<FraudState>, Error> {
    let sql = format!(
        "SELECT fraud_blocked, fraud_blocked_until, fraud_risk_high FROM users WHERE user_id = $1{}",
        tx.for_update()
    );
    let Some(r) = tx.query_opt("users", &sql, &[user.into()])? else {
        return Ok(None);
    };
    Ok(Some(FraudState {
        blocked: r.i64(0, "fraud_blocked")? != 0,
        blocked_until: r.opt_u64(1, "fraud_blocked_until")?,
        risk_high: r.i64(2, "fraud_risk_high")? != 0,
    }))
}

fn save_fraud(tx: &mut dyn Tx, user: &str, s: &FraudState) -> Result<(), Error> {
    tx.exec(
        "UPDATE users SET fraud_blocked = $1, fraud_blocked_until = $2, fraud_risk_high = $3 WHERE user_id = $4",
        &[
            Val::Int(i64::from(s.blocked)),
            s.blocked_until.map(int).unwrap_or(Val::Null),
            Val::Int(i64::from(s.risk_high)),
            user.into(),
        ],
    )?;
    Ok(())
}

fn ensure_user(tx: &mut dyn Tx, user: &str, now: UnixTime) -> Result<(), Error> {
    check_len("user id", user, MAX_USER_ID_LEN)?;
    tx.exec(
        "INSERT INTO users (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        &[user.into(), int(now.secs())],
    )?;
    Ok(())
}

fn audit(
    tx: &mut dyn Tx,
    now: UnixTime,
    user: Option<&str>,
    action: &str,
    actor: Option<&str>,
    reason: Option<&str>,
) -> Result<(), Error> {
    tx.exec(
        "INSERT INTO audit_log (at, user_id, action, actor, reason) VALUES ($1, $2, $3, $4, $5)",
        &[
            int(now.secs()),
            user.into(),
            action.into(),
            actor.into(),
            reason.into(),
        ],
    )?;
    Ok(())
}

fn log_event(
    tx: &mut dyn Tx,
    now: UnixTime,
    user: &str,
    mode: AuthMode,
    outcome: &VerifyOutcome,
    ctx: &VerifyContext,
) -> Result<(), Error> {
    let (result, reason) = match outcome.result {
        AuthResult::Approved => ("approved", None),
        AuthResult::Denied(r) => ("denied", Some(r.as_str())),
    };
    tx.exec(
        "INSERT INTO auth_log (at, user_id, mode, result, reason, serial, server_name, server_ip, client_ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            int(now.secs()),
            user.into(),
            mode.as_str().into(),
            result.into(),
            reason.into(),
            outcome.serial.clone().into(),
            ctx.server_name.clone().into(),
            ctx.server_ip.map(|ip| ip.to_string()).into(),
            ctx.client_ip.map(|ip| ip.to_string()).into(),
        ],
    )?;
    Ok(())
}

fn denied(reason: DenialReason) -> VerifyOutcome {
    VerifyOutcome {
        result: AuthResult::Denied(reason),
        serial: None,
        step: None,
        until: None,
    }
}

/// What the factor-specific check decided.
struct Checked {
    outcome: VerifyOutcome,
    /// Whether the attempt counts for lockout (`Some(true)` success,
    /// `Some(false)` failure, `None` neither).
    counts: Option<bool>,
}

impl Store {
    /// Opens (creating if needed) the store at `url` with the default
    /// configuration. See [`Store::open_with`].
    ///
    /// # Errors
    /// As [`Store::open_with`].
    pub fn open(url: &str, key: &MasterKey) -> Result<Store, Error> {
        Store::open_with(url, key, StoreConfig::default())
    }

    /// Opens the store at `url`:
    /// - `sqlite:<path>` (also `sqlite://<path>`): an SQLite file, created if
    ///   missing, in WAL mode;
    /// - `postgres://…` or `postgresql://…`: a PostgreSQL database (libpq URL
    ///   syntax; `?options=-csearch_path%3Dname` selects a schema).
    ///
    /// Runs the schema migrations and checks `key` against the key check
    /// value in one transaction: on any error nothing is changed.
    ///
    /// # Errors
    /// [`Error::UrlScheme`], [`Error::NotADatabase`] (corrupt file),
    /// [`Error::SchemaTooNew`], [`Error::WrongMasterKey`], database errors.
    pub fn open_with(url: &str, key: &MasterKey, config: StoreConfig) -> Result<Store, Error> {
        let pool = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            Pool::sqlite(PathBuf::from(path), config.busy_timeout)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::postgres(url.to_owned(), config.busy_timeout)
        } else {
            return Err(Error::UrlScheme {
                scheme: url.split(':').next().unwrap_or_default().to_owned(),
            });
        };
        let path_for_errors = url.strip_prefix("sqlite:").map(str::to_owned);
        let r = pool.run(Mode::Write, |tx| crate::schema::migrate(tx, key));
        match (r, path_for_errors) {
            (Err(Error::Sqlite(e)), Some(path))
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
                ) =>
            {
                return Err(Error::NotADatabase { path });
            }
            (
                Err(Error::Corrupt {
                    table: "mfa_meta", ..
                }),
                Some(path),
            ) => {
                return Err(Error::NotADatabase { path });
            }
            (r, _) => r?,
        }
        Ok(Store {
            pool,
            keys: key.keys(),
            config,
        })
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> BackendKind {
        self.pool.kind()
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The schema version of the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_version(&self) -> Result<u32, Error> {
        self.pool.run(Mode::Snapshot, crate::schema::version)
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.keys
    }

    // ------------------------------------------------------------ users

    /// Creates or updates a user record.
    ///
    /// # Errors
    /// [`Error::FieldLength`] for an empty or too long user id; database errors.
    pub fn put_user(&self, user: &UserRecord, now: UnixTime) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, &user.user_id, now)?;
            tx.exec(
                "UPDATE users SET first_name = $1, last_name = $2, email = $3, phone = $4 WHERE user_id = $5",
                &[
                    user.first_name.clone().into(),
                    user.last_name.clone().into(),
                    user.email.clone().into(),
                    user.phone.clone().into(),
                    user.user_id.as_str().into(),
                ],
            )?;
            Ok(())
        })
    }

    /// Reads a user record.
    ///
    /// # Errors
    /// Database errors.
    pub fn user(&self, user_id: &str) -> Result<Option<UserRecord>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let Some(r) = tx.query_opt(
                "users",
                "SELECT user_id, first_name, last_name, email, phone FROM users WHERE user_id = $1",
                &[user_id.into()],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(UserRecord {
                user_id: r.text(0, "user_id")?,
                first_name: r.opt_text(1, "first_name")?,
                last_name: r.opt_text(2, "last_name")?,
                email: r.opt_text(3, "email")?,
                phone: r.opt_text(4, "phone")?,
            }))
        })
    }

    // ----------------------------------------------------------- tokens

    /// Imports tokens (the accepted tokens of an import report) in one
    /// transaction. Tokens are streamed from the iterator; secrets are
    /// sealed before they are written.
    ///
    /// A token whose serial exists already, or that names a user who has
    /// [`MAX_TOKENS_PER_USER`] tokens, is reported in
    /// [`ImportReport::rejected`]. With [`ImportMode::AllOrNothing`] any
    /// rejection refuses the whole import and nothing is written; with
    /// [`ImportMode::AcceptedOnly`] the other tokens are imported.
    ///
    /// # Errors
    /// [`Error::ImportRefused`] (all-or-nothing with rejections), database
    /// errors (nothing imported).
    pub fn import(
        &self,
        tokens: impl IntoIterator<Item = NewToken>,
        mode: ImportMode,
        now: UnixTime,
    ) -> Result<ImportReport, Error> {
        let mut tokens = Some(tokens.into_iter());
        let report = self.pool.run(Mode::Write, |tx| {
            let mut report = ImportReport::default();
            // A retried transaction (PostgreSQL) cannot replay a consumed
            // iterator; imports are not retried.
            let Some(iter) = tokens.take() else {
                return Err(Error::Busy);
            };
            for (index, t) in iter.enumerate() {
                if let Some(reason) = self.import_one(tx, &t, now)? {
                    report.rejected.push(RejectedToken {
                        index,
                        serial: t.serial.clone(),
                        reason,
                    });
                } else {
                    report.imported += 1;
                }
            }
            if mode == ImportMode::AllOrNothing && !report.rejected.is_empty() {
                report.imported = 0;
                return Err(Error::ImportRefused { report });
            }
            Ok(report)
        })?;
        Ok(report)
    }

    fn import_one(
        &self,
        tx: &mut dyn Tx,
        t: &NewToken,
        now: UnixTime,
    ) -> Result<Option<ImportRejection>, Error> {
        if t.serial.is_empty() || t.serial.len() > MAX_SERIAL_LEN {
            return Ok(Some(ImportRejection::FieldLength { field: "serial" }));
        }
        if let Some(user) = &t.user {
            if user.is_empty() || user.len() > MAX_USER_ID_LEN {
                return Ok(Some(ImportRejection::FieldLength { field: "user" }));
            }
            ensure_user(tx, user, now)?;
            if lock_user(tx, user)?.is_some()
                && count_tokens(tx, user)? >= MAX_TOKENS_PER_USER as u64
            {
                return Ok(Some(ImportRejection::TooManyTokens { user: user.clone() }));
            }
        }
        let (kind, algorithm, digits, period, t0, last_step, drift) = match t.kind {
            TokenKind::Totp(p) => (
                "totp",
                p.algorithm,
                p.digits,
                p.period.seconds(),
                p.t0.secs(),
                None,
                t.drift,
            ),
            TokenKind::Hotp(p) => (
                "hotp",
                p.algorithm,
                p.digits,
                0,
                0,
                HotpState::from_next_counter(t.counter).last_counter,
                0,
            ),
        };
        let sealed = self.keys.seal(&t.serial, t.secret.expose_secret())?;
        let n = tx.exec(
            "INSERT INTO tokens (serial, kind, algorithm, digits, period, t0, key_id, sealed, user_id, \
             active, last_step, drift, manufacturer, model, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14) \
             ON CONFLICT (serial) DO NOTHING",
            &[
                t.serial.as_str().into(),
                kind.into(),
                algorithm.name().into(),
                Val::Int(digits.get().into()),
                int(period),
                int(t0),
                int(self.keys.key_id.into()),
                Val::Blob(sealed),
                t.user.clone().into(),
                last_step.map(int).unwrap_or(Val::Null),
                Val::Int(drift),
                t.manufacturer.clone().into(),
                t.model.clone().into(),
                int(now.secs()),
            ],
        )?;
        Ok(if n == 0 {
            Some(ImportRejection::Duplicate)
        } else {
            None
        })
    }

    /// Reads a token's public data.
    ///
    /// # Errors
    /// Database errors.
    pub fn token(&self, serial: &str) -> Result<Option<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE serial = $1");
            tx.query_opt("tokens", &sql, &[serial.into()])?
                .map(|r| token_from_row(&r).map(|t| t.info()))
                .transpose()
        })
    }

    /// The tokens assigned to a user, by serial.
    ///
    /// # Errors
    /// Database errors.
    pub fn user_tokens(&self, user: &str) -> Result<Vec<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE user_id = $1 ORDER BY serial");
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
            let sql = format!(
                "SELECT user_id FROM tokens WHERE serial = $1{}",
                tx.for_update()
            );
            let row = tx
                .query_opt("tokens", &sql, &[serial.into()])?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?;
            match row.opt_text(0, "user_id")? {
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
            tx.exec(
                "UPDATE tokens SET user_id = $1, active = 0 WHERE serial = $2 AND user_id IS NULL",
                &[user.into(), serial.into()],
            )?;
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
            let row = tx
                .query_opt(
                    "tokens",
                    "SELECT user_id FROM tokens WHERE serial = $1",
                    &[serial.into()],
                )?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?;
            let user = row.opt_text(0, "user_id")?;
            tx.exec(
                "UPDATE tokens SET user_id = NULL, active = 0 WHERE serial = $1",
                &[serial.into()],
            )?;
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
    /// [`Error::ActivationFailed`] with the mfa-oath reason, database errors.
    pub fn activate(&self, serial: &str, code: &str, now: UnixTime) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            let sql = "SELECT user_id FROM tokens WHERE serial = $1";
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
                "SELECT {TOKEN_COLS} FROM tokens WHERE serial = $1{}",
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
            let step = t
                .check(&self.keys, code, now, &self.config)?
                .map_err(|reason| Error::ActivationFailed {
                    serial: serial.to_owned(),
                    reason,
                })?;
            if !consume_step(tx, serial, step)? {
                return Err(Error::ActivationFailed {
                    serial: serial.to_owned(),
                    reason: mfa_oath::Error::CodeReplayed { step },
                });
            }
            tx.exec(
                "UPDATE tokens SET active = 1 WHERE serial = $1",
                &[serial.into()],
            )?;
            audit(tx, now, Some(&owner), "token_activate", None, Some(serial))?;
            Ok(step)
        })
    }

    /// Verifies an OATH code for `user` at `now`, in one transaction:
    /// fraud block → lockout → OATH verification against the user's active
    /// tokens → consume the matched step (replay-safe across servers) →
    /// lockout counters → authentication log event.
    ///
    /// Denials are returned in the outcome (they are logged and counted,
    /// the transaction commits); errors mean nothing was recorded.
    ///
    /// # Errors
    /// Database errors, [`Error::Unseal`] (a token sealed with another key).
    pub fn verify(
        &self,
        user: &str,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        self.pipeline(
            user,
            now,
            ctx,
            AuthMode::OathCode,
            Factor::Otp,
            self.config.otp_lockout,
            |tx| self.check_oath(tx, user, code, now),
        )
    }

    /// The common pipeline of every code check.
    #[allow(clippy::too_many_arguments)]
    fn pipeline(
        &self,
        user: &str,
        now: UnixTime,
        ctx: &VerifyContext,
        mode: AuthMode,
        factor: Factor,
        policy: LockoutPolicy,
        mut check: impl FnMut(&mut dyn Tx) -> Result<Checked, Error>,
    ) -> Result<VerifyOutcome, Error> {
        self.pool.run(Mode::Write, |tx| {
            let outcome = match lock_user(tx, user)? {
                None => denied(DenialReason::UnknownUser),
                Some(fraud) => {
                    if let Some(until) = fraud.blocked_at(now) {
                        VerifyOutcome {
                            until: opt_secs(until),
                            ..denied(DenialReason::FraudBlocked)
                        }
                    } else {
                        let lock = load_lock(tx, user, factor)?;
                        if let Some(until) = lock.locked_at(now) {
                            // Denied without being verified; the lock is not extended.
                            VerifyOutcome {
                                until: opt_secs(until),
                                ..denied(DenialReason::Locked)
                            }
                        } else {
                            let checked = check(tx)?;
                            let mut outcome = checked.outcome;
                            match checked.counts {
                                Some(true) if lock != LockState::default() => {
                                    save_lock(tx, user, factor, &lock.on_success())?;
                                }
                                Some(true) => {}
                                Some(false) => {
                                    let new = lock.on_failure(&policy, now);
                                    save_lock(tx, user, factor, &new)?;
                                    if new.locked {
                                        outcome.until = opt_secs(new.locked_until);
                                    }
                                }
                                None => {}
                            }
                            outcome
                        }
                    }
                }
            };
            log_event(tx, now, user, mode, &outcome, ctx)?;
            Ok(outcome)
        })
    }

    fn check_oath(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        code: &str,
        now: UnixTime,
    ) -> Result<Checked, Error> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE user_id = $1 AND active = 1 ORDER BY serial{}",
            tx.for_update()
        );
        let rows = tx.query("tokens", &sql, &[user.into()])?;
        if rows.is_empty() {
            return Ok(Checked {
                outcome: denied(DenialReason::NotActivated),
                counts: Some(false),
            });
        }
        let mut reason = DenialReason::CodeFormat;
        let mut replayed = None;
        for r in &rows {
            let t = token_from_row(r)?;
            if t.key_id != self.keys.key_id {
                return Err(Error::Unseal { serial: t.serial });
            }
            match t.check(&self.keys, code, now, &self.config)? {
                Ok(step) => {
                    if consume_step(tx, &t.serial, step)? {
                        return Ok(Checked {
                            outcome: VerifyOutcome {
                                result: AuthResult::Approved,
                                serial: Some(t.serial),
                                step: Some(step),
                                until: None,
                            },
                            counts: Some(true),
                        });
                    }
                    // Another server consumed it first.
                    replayed.get_or_insert((t.serial, step));
                }
                Err(mfa_oath::Error::CodeReplayed { step }) => {
                    replayed.get_or_insert((t.serial, step));
                }
                Err(mfa_oath::Error::CodeFormat { .. }) => {}
                Err(_) => reason = DenialReason::CodeInvalid,
            }
        }
        let outcome = match replayed {
            Some((serial, step)) => VerifyOutcome {
                serial: Some(serial),
                step: Some(step),
                ..denied(DenialReason::CodeReplayed)
            },
            None => denied(reason),
        };
        Ok(Checked {
            outcome,
            counts: Some(false),
        })
    }

    // ---------------------------------------------------- fraud, lockout

    /// A user reported fraud (an MFA prompt they did not start): sets high
    /// user risk and, with `auto_block`, blocks the user for
    /// [`StoreConfig::fraud_block`] seconds. Logged as a denied sign-in
    /// ("fraud code entered") and an audit entry ("Fraud reported").
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn report_fraud(
        &self,
        user: &str,
        auto_block: bool,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            let mut s = lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            s.risk_high = true;
            if auto_block {
                s.blocked = true;
                s.blocked_until = Some(now.secs().saturating_add(self.config.fraud_block));
            }
            save_fraud(tx, user, &s)?;
            log_event(
                tx,
                now,
                user,
                AuthMode::OathCode,
                &denied(DenialReason::FraudBlocked),
                ctx,
            )?;
            audit(tx, now, Some(user), "fraud_reported", Some(user), None)
        })
    }

    /// Administrator block (until unblocked) with a logged reason.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn fraud_block(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.admin_fraud(user, actor, reason, now, "fraud_block", |s| {
            s.blocked = true;
            s.blocked_until = None;
        })
    }

    /// Administrator unblock with a logged reason.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn fraud_unblock(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.admin_fraud(user, actor, reason, now, "fraud_unblock", |s| {
            s.blocked = false;
            s.blocked_until = None;
        })
    }

    /// Clears high user risk (remediation: password reset, admin dismissal).
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn dismiss_risk(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.admin_fraud(user, actor, reason, now, "risk_dismissed", |s| {
            s.risk_high = false
        })
    }

    /// Whether the user is at high risk after a suspicious-activity report.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn user_at_risk(&self, user: &str) -> Result<bool, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let r = tx
                .query_opt(
                    "users",
                    "SELECT fraud_risk_high FROM users WHERE user_id = $1",
                    &[user.into()],
                )?
                .ok_or_else(|| Error::UnknownUser {
                    user: user.to_owned(),
                })?;
            Ok(r.i64(0, "fraud_risk_high")? != 0)
        })
    }

    fn admin_fraud(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
        action: &str,
        change: impl Fn(&mut FraudState),
    ) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            let mut s = lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            change(&mut s);
            save_fraud(tx, user, &s)?;
            audit(tx, now, Some(user), action, Some(actor), Some(reason))
        })
    }

    /// Administrator unblock of a lockout, with a logged reason.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn lockout_unblock(
        &self,
        user: &str,
        factor: Factor,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let s = load_lock(tx, user, factor)?.unblocked();
            save_lock(tx, user, factor, &s)?;
            audit(
                tx,
                now,
                Some(user),
                "lockout_unblock",
                Some(actor),
                Some(reason),
            )
        })
    }

    /// The lockout status of a user and factor at `now`: the number of
    /// denials counted and, when locked, `Some(until)` (`Some(None)`:
    /// until an administrator unblocks).
    ///
    /// # Errors
    /// Database errors.
    pub fn lockout_status(
        &self,
        user: &str,
        factor: Factor,
        now: UnixTime,
    ) -> Result<(u64, Option<Option<UnixTime>>), Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let s = load_lock(tx, user, factor)?;
            Ok((s.failures, s.locked_at(now).map(opt_secs)))
        })
    }

    // ------------------------------------------------- one-time codes

    /// Stores a one-time code sent to `user` by SMS or voice (the caller
    /// generates and sends it). Only a keyed hash is stored; it expires
    /// after [`StoreConfig::code_ttl`] seconds and replaces any earlier
    /// code on the same channel. Returns the expiry time.
    ///
    /// # Errors
    /// [`Error::FieldLength`], database errors.
    pub fn create_code(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
        now: UnixTime,
    ) -> Result<UnixTime, Error> {
        check_len("code", code, 64)?;
        let expires = now.secs().saturating_add(self.config.code_ttl);
        let hash = self.keys.code_hash(channel.as_str(), user, code);
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, user, now)?;
            tx.exec(
                "INSERT INTO one_time_codes (user_id, channel, hash, created_at, expires_at, consumed_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL) ON CONFLICT (user_id, channel) DO UPDATE SET \
                 hash = excluded.hash, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at, consumed_at = NULL",
                &[user.into(), channel.as_str().into(), Val::Blob(hash.clone()), int(now.secs()), int(expires)],
            )?;
            Ok(UnixTime::from_secs(expires))
        })
    }

    /// Verifies a one-time code through the same pipeline as
    /// [`Store::verify`] (fraud → lockout → check → counters → log). A code
    /// is consumed at most once, from any server.
    ///
    /// # Errors
    /// Database errors.
    pub fn verify_code(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        let hash = self.keys.code_hash(channel.as_str(), user, code);
        self.pipeline(user, now, ctx, channel.mode(), Factor::SmsCode, self.config.sms_lockout, |tx| {
            let sql = format!(
                "SELECT hash, expires_at, consumed_at FROM one_time_codes WHERE user_id = $1 AND channel = $2{}",
                tx.for_update()
            );
            let Some(r) = tx.query_opt("one_time_codes", &sql, &[user.into(), channel.as_str().into()])? else {
                return Ok(Checked {
                    outcome: denied(DenialReason::NoCodeSent),
                    counts: Some(false),
                });
            };
            let matches: bool = r.blob(0, "hash")?.as_slice().ct_eq(hash.as_slice()).into();
            let reason = if !matches {
                DenialReason::CodeInvalid
            } else if r.opt_i64(2, "consumed_at")?.is_some() {
                DenialReason::CodeReplayed
            } else if now.secs() >= r.u64(1, "expires_at")? {
                DenialReason::CodeExpired
            } else {
                let n = tx.exec(
                    "UPDATE one_time_codes SET consumed_at = $1 WHERE user_id = $2 AND channel = $3 AND consumed_at IS NULL",
                    &[int(now.secs()), user.into(), channel.as_str().into()],
                )?;
                if n == 1 {
                    return Ok(Checked {
                        outcome: VerifyOutcome {
                            result: AuthResult::Approved,
                            serial: None,
                            step: None,
                            until: None,
                        },
                        counts: Some(true),
                    });
                }
                DenialReason::CodeReplayed
            };
            Ok(Checked {
                outcome: denied(reason),
                counts: Some(false),
            })
        })
    }

    // --------------------------------------------------- trusted IPs

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

    // ----------------------------------------------- remembered devices

    /// Remembers MFA on a device for `days` days. Only a keyed hash of the
    /// device token is stored.
    ///
    /// # Errors
    /// [`Error::FieldLength`], database errors.
    pub fn remember_device(
        &self,
        user: &str,
        device_token: &str,
        days: u32,
        now: UnixTime,
    ) -> Result<UnixTime, Error> {
        check_len("device token", device_token, 1024)?;
        let hash = self.keys.code_hash("device", user, device_token);
        let expires = now.secs().saturating_add(u64::from(days) * 86_400);
        self.pool.run(Mode::Write, |tx| {
            ensure_user(tx, user, now)?;
            tx.exec(
                "INSERT INTO devices (user_id, hash, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, hash) DO UPDATE SET expires_at = excluded.expires_at",
                &[user.into(), Val::Blob(hash.clone()), int(expires)],
            )?;
            Ok(UnixTime::from_secs(expires))
        })
    }

    /// Whether MFA is remembered for this device at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub fn is_device_remembered(
        &self,
        user: &str,
        device_token: &str,
        now: UnixTime,
    ) -> Result<bool, Error> {
        let hash = self.keys.code_hash("device", user, device_token);
        self.pool.run(Mode::Snapshot, |tx| {
            Ok(tx
                .query_opt(
                    "devices",
                    "SELECT expires_at FROM devices WHERE user_id = $1 AND hash = $2 AND expires_at > $3",
                    &[user.into(), Val::Blob(hash.clone()), int(now.secs())],
                )?
                .is_some())
        })
    }

    /// Revokes every remembered device of a user; returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub fn revoke_devices(&self, user: &str, actor: &str, now: UnixTime) -> Result<u64, Error> {
        self.pool.run(Mode::Write, |tx| {
            let n = tx.exec("DELETE FROM devices WHERE user_id = $1", &[user.into()])?;
            audit(tx, now, Some(user), "devices_revoked", Some(actor), None)?;
            Ok(n)
        })
    }

    // ------------------------------------------------------- reports

    /// The authentication log for `from <= at < to`, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn auth_log(&self, from: UnixTime, to: UnixTime) -> Result<Vec<AuthEvent>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let rows = tx.query(
                "auth_log",
                "SELECT at, user_id, mode, result, reason, serial, server_name, server_ip, client_ip \
                 FROM auth_log WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[int(from.secs()), int(to.secs())],
            )?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// The audit log (administrative actions) for `from <= at < to`.
    ///
    /// # Errors
    /// Database errors.
    pub fn audit_log(&self, from: UnixTime, to: UnixTime) -> Result<Vec<AuditEntry>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let rows = tx.query(
                "audit_log",
                "SELECT at, user_id, action, actor, reason FROM audit_log WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[int(from.secs()), int(to.secs())],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        at: UnixTime::from_secs(r.u64(0, "at")?),
                        user_id: r.opt_text(1, "user_id")?,
                        action: r.text(2, "action")?,
                        actor: r.opt_text(3, "actor")?,
                        reason: r.opt_text(4, "reason")?,
                    })
                })
                .collect()
        })
    }

    /// Usage summary for `from <= at < to`.
    ///
    /// # Errors
    /// Database errors.
    pub fn usage_summary(&self, from: UnixTime, to: UnixTime) -> Result<UsageSummary, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let count = |tx: &mut dyn Tx, sql: &str, p: &[Val]| -> Result<u64, Error> {
                tx.query_opt("auth_log", sql, p)?
                    .map(|r| r.u64(0, "count"))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            let range = [int(from.secs()), int(to.secs())];
            let users = count(tx, "SELECT count(*) FROM users", &[])?;
            let active_users = count(
                tx,
                "SELECT count(DISTINCT user_id) FROM auth_log WHERE at >= $1 AND at < $2",
                &range,
            )?;
            let approved = count(
                tx,
                "SELECT count(*) FROM auth_log WHERE at >= $1 AND at < $2 AND result = 'approved'",
                &range,
            )?;
            let rows = tx.query(
                "auth_log",
                "SELECT reason, count(*) FROM auth_log WHERE at >= $1 AND at < $2 AND result = 'denied' GROUP BY reason",
                &range,
            )?;
            let mut denied_by_reason = Vec::new();
            let mut denied = 0;
            for r in &rows {
                let reason = r
                    .opt_text(0, "reason")?
                    .as_deref()
                    .and_then(DenialReason::parse)
                    .ok_or(Error::Corrupt {
                        table: "auth_log",
                        column: "reason",
                    })?;
                let n = r.u64(1, "count")?;
                denied += n;
                denied_by_reason.push((reason, n));
            }
            denied_by_reason.sort();
            Ok(UsageSummary {
                users,
                active_users,
                approved,
                denied,
                denied_by_reason,
            })
        })
    }

    /// Retention: deletes authentication and audit log events older than
    /// `days` days before `now` ([`crate::DEFAULT_RETENTION_DAYS`] is the
    /// usual choice). Returns how many events were deleted.
    ///
    /// # Errors
    /// Database errors.
    pub fn purge_log(&self, now: UnixTime, days: u32) -> Result<u64, Error> {
        let cutoff = now.secs().saturating_sub(u64::from(days) * 86_400);
        self.pool.run(Mode::Write, |tx| {
            let a = tx.exec("DELETE FROM auth_log WHERE at < $1", &[int(cutoff)])?;
            let b = tx.exec("DELETE FROM audit_log WHERE at < $1", &[int(cutoff)])?;
            tx.exec(
                "DELETE FROM one_time_codes WHERE expires_at < $1",
                &[int(cutoff)],
            )?;
            tx.exec(
                "DELETE FROM devices WHERE expires_at < $1",
                &[int(now.secs())],
            )?;
            Ok(a + b)
        })
    }

    /// Writes the authentication log for `from <= at < to` as CSV (header
    /// `time,user,mode,result,reason,serial,server_name,server_ip,client_ip`;
    /// time in Unix seconds). Restoring a backup gives a byte-identical report.
    ///
    /// # Errors
    /// [`Error::Io`], database errors.
    pub fn export_auth_log_csv<W: std::io::Write>(
        &self,
        from: UnixTime,
        to: UnixTime,
        mut out: W,
    ) -> Result<(), Error> {
        fn field(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) || s.starts_with(['=', '+', '-', '@']) {
                // Quote, and defuse spreadsheet formulas.
                let t = if s.starts_with(['=', '+', '-', '@']) {
                    format!("'{s}")
                } else {
                    s.to_owned()
                };
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        }
        out.write_all(b"time,user,mode,result,reason,serial,server_name,server_ip,client_ip\n")?;
        for e in self.auth_log(from, to)? {
            let (result, reason) = match e.result {
                AuthResult::Approved => ("approved", ""),
                AuthResult::Denied(r) => ("denied", r.as_str()),
            };
            let line = [
                e.at.secs().to_string(),
                field(&e.user_id),
                e.mode.as_str().to_owned(),
                result.to_owned(),
                reason.to_owned(),
                field(e.serial.as_deref().unwrap_or_default()),
                field(e.server_name.as_deref().unwrap_or_default()),
                field(e.server_ip.as_deref().unwrap_or_default()),
                field(e.client_ip.as_deref().unwrap_or_default()),
            ]
            .join(",");
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(())
    }

    /// Counts of what the store holds.
    ///
    /// # Errors
    /// Database errors.
    pub fn stats(&self) -> Result<StoreStats, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let mut n = |table: &'static str| -> Result<u64, Error> {
                let sql = format!("SELECT count(*) FROM {table}");
                tx.query_opt(table, &sql, &[])?
                    .map(|r| r.u64(0, "count"))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            Ok(StoreStats {
                users: n("users")?,
                tokens: n("tokens")?,
                auth_events: n("auth_log")?,
                audit_entries: n("audit_log")?,
            })
        })
    }

    // ------------------------------------------------------- rekey

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

fn event_from_row(r: &Row) -> Result<AuthEvent, Error> {
    let corrupt = |column| Error::Corrupt {
        table: "auth_log",
        column,
    };
    let mode = AuthMode::parse(&r.text(2, "mode")?).ok_or_else(|| corrupt("mode"))?;
    let result = match r.text(3, "result")?.as_str() {
        "approved" => AuthResult::Approved,
        "denied" => AuthResult::Denied(
            r.opt_text(4, "reason")?
                .as_deref()
                .and_then(DenialReason::parse)
                .ok_or_else(|| corrupt("reason"))?,
        ),
        _ => return Err(corrupt("result")),
    };
    Ok(AuthEvent {
        at: UnixTime::from_secs(r.u64(0, "at")?),
        user_id: r.text(1, "user_id")?,
        mode,
        result,
        serial: r.opt_text(5, "serial")?,
        server_name: r.opt_text(6, "server_name")?,
        server_ip: r.opt_text(7, "server_ip")?,
        client_ip: r.opt_text(8, "client_ip")?,
    })
}
