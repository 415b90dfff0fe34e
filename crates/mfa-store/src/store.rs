//! The store: every operation is one transaction.

use std::net::IpAddr;
use std::path::PathBuf;

use mfa_fraud::{Effect, Event, FraudState, Gate, Remediation};
use mfa_lockout::{AdminLockCause, Decision, FactorClass, LockoutState};
use mfa_oath::{
    Algorithm, Digits, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams, TotpState,
    UnixTime,
};
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialReason, Email, FieldPolicy, PersonName,
    PhoneNumber, ServerName, UsageSummary, UserId,
};
use subtle::ConstantTimeEq;

use crate::crypto::Keys;
use crate::db::{BackendKind, Mode, Pool, Row, Tx, Val, int};
use crate::state::{
    FRAUD_COLS, LOCK_COLS, fraud_from_row, load_lock, lock_from_row, save_fraud, save_lock,
};
use crate::{
    AuditEntry, Channel, Cidr, Error, ImportMode, ImportRejection, ImportReport,
    MAX_TOKENS_PER_USER, MAX_TRUSTED_RANGES, MasterKey, NewToken, RejectedToken, StoreConfig,
    StoreStats, TokenInfo, TokenKind, UserProfile, VerifyContext, VerifyOutcome,
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
/// let ctx = VerifyContext::new("mfa-1", "10.0.0.1".parse()?)?;
/// assert!(store.verify("alice", &code, later, &ctx)?.is_approved());
/// // The same code again is a replay.
/// assert!(!store.verify("alice", &code, later, &ctx)?.is_approved());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) keys: Keys,
    /// The configuration in force: `base_config` with the stored settings over it.
    pub(crate) config: StoreConfig,
    /// The configuration the caller opened the store with.
    pub(crate) base_config: StoreConfig,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.pool.kind())
            .field("key_id", &self.keys.key_id)
            .finish_non_exhaustive()
    }
}

pub(crate) fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() || s.len() > max {
        return Err(Error::FieldLength {
            field,
            len: s.len(),
            max,
        });
    }
    Ok(())
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

/// Locks the user's row (PostgreSQL `FOR UPDATE`; SQLite holds the write
/// lock already) and reads the profile and fraud state. `None`: no such user.
pub(crate) fn lock_user(
    tx: &mut dyn Tx,
    user: &str,
) -> Result<Option<(UserProfile, FraudState)>, Error> {
    let sql = format!(
        "SELECT first_name, last_name, email, phone, {FRAUD_COLS} FROM users WHERE user_id = $1{}",
        tx.for_update()
    );
    let Some(r) = tx.query_opt("users", &sql, &[user.into()])? else {
        return Ok(None);
    };
    let profile = UserProfile {
        user_id: user.to_owned(),
        first_name: r.opt_text(0, "first_name")?,
        last_name: r.opt_text(1, "last_name")?,
        email: r.opt_text(2, "email")?,
        phone: r.opt_text(3, "phone")?,
    };
    Ok(Some((profile, fraud_from_row(&r, 4)?)))
}

/// [`lock_user`] and the user's lockout state for `class` (on SQLite in one
/// statement: the verification hot path).
fn lock_user_for(
    tx: &mut dyn Tx,
    user: &str,
    class: FactorClass,
) -> Result<Option<(UserProfile, FraudState, LockoutState)>, Error> {
    if tx.kind() == BackendKind::Postgres {
        // Two statements: after waiting for the user's row lock, READ
        // COMMITTED re-checks only the locked row, so a lockout row read
        // in the same statement could be stale. A new statement sees the
        // counter the previous holder of the lock committed.
        let Some((profile, fraud)) = lock_user(tx, user)? else {
            return Ok(None);
        };
        let lock = load_lock(tx, user, class)?;
        return Ok(Some((profile, fraud, lock)));
    }
    let fraud_cols = FRAUD_COLS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    // `$1` before `$2` in the text: SQLite numbers parameters by first use.
    let sql = format!(
        "SELECT u.first_name, u.last_name, u.email, u.phone, {fraud_cols}, {LOCK_COLS} \
         FROM users u LEFT JOIN lockout l ON l.factor = $1 AND l.user_id = u.user_id \
         WHERE u.user_id = $2"
    );
    let Some(r) = tx.query_opt("users", &sql, &[class.as_str().into(), user.into()])? else {
        return Ok(None);
    };
    let profile = UserProfile {
        user_id: user.to_owned(),
        first_name: r.opt_text(0, "first_name")?,
        last_name: r.opt_text(1, "last_name")?,
        email: r.opt_text(2, "email")?,
        phone: r.opt_text(3, "phone")?,
    };
    Ok(Some((
        profile,
        fraud_from_row(&r, 4)?,
        lock_from_row(&r, 10)?,
    )))
}

fn ensure_user(tx: &mut dyn Tx, user: &str, now: UnixTime) -> Result<(), Error> {
    check_len("user id", user, MAX_USER_ID_LEN)?;
    tx.exec(
        "INSERT INTO users (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        &[user.into(), int(now.secs())],
    )?;
    Ok(())
}

pub(crate) fn audit(
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

/// Appends an authentication log event, built by mfa-record under the
/// store's field policy: a switched-off field is never written.
#[allow(clippy::too_many_arguments)]
fn log_event(
    tx: &mut dyn Tx,
    fields: &FieldPolicy,
    now: UnixTime,
    user: &str,
    profile: Option<&UserProfile>,
    mode: AuthMode,
    result: AuthResult,
    serial: Option<&str>,
    ctx: &VerifyContext,
) -> Result<(), Error> {
    let mut attempt = AuthAttempt::new(
        now,
        UserId::new(user).map_err(Error::Record)?,
        mode,
        result,
        ctx.server_name.clone(),
        ctx.server_ip,
    );
    attempt.client_ip = ctx.client_ip;
    if let Some(p) = profile {
        // Profile values that mfa-record would not accept are left out of
        // the event rather than failing the sign-in.
        attempt.first_name = p
            .first_name
            .as_deref()
            .and_then(|v| PersonName::new(v).ok());
        attempt.last_name = p.last_name.as_deref().and_then(|v| PersonName::new(v).ok());
        attempt.email = p.email.as_deref().and_then(|v| Email::new(v).ok());
        if mode.uses_phone() {
            attempt.phone = p.phone.as_deref().and_then(|v| PhoneNumber::new(v).ok());
        }
    }
    let event = AuthEvent::record(attempt, fields).map_err(Error::Record)?;
    let (res, kind, detail) = match event.result() {
        AuthResult::Success => ("success", None, None),
        AuthResult::Denied(r) => ("denied", Some(r.kind().as_str()), r.detail()),
    };
    tx.exec(
        "INSERT INTO auth_log (at, user_id, mode, result, reason, detail, serial, server_name, server_ip, \
         client_ip, first_name, last_name, email, phone) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            int(now.secs()),
            user.into(),
            mode.as_str().into(),
            res.into(),
            kind.into(),
            detail.map(int).unwrap_or(Val::Null),
            serial.into(),
            event.server_name().as_str().into(),
            event.server_ip().to_string().into(),
            event.client_ip().map(|ip| ip.to_string()).into(),
            event.first_name().map(|v| v.as_str()).into(),
            event.last_name().map(|v| v.as_str()).into(),
            event.email().map(|v| v.as_str()).into(),
            event.phone().map(|v| v.as_str()).into(),
        ],
    )?;
    Ok(())
}

fn denied(reason: DenialReason) -> VerifyOutcome {
    VerifyOutcome {
        result: AuthResult::Denied(reason),
        serial: None,
        step: None,
    }
}

/// The denial for a fraud gate that does not allow sign-in.
fn fraud_denial(gate: Gate) -> Option<DenialReason> {
    match gate {
        Gate::Allowed => None,
        Gate::Denied {
            blocked: Some((mfa_fraud::BlockCause::Administrator, until)),
            ..
        } => Some(DenialReason::AdminBlocked { until: Some(until) }),
        Gate::Denied {
            blocked: Some((_, until)),
            ..
        } => Some(DenialReason::FraudBlocked { until: Some(until) }),
        Gate::Denied { blocked: None, .. } => Some(DenialReason::HighUserRisk),
    }
}

/// The denial for a lockout decision that does not allow an attempt.
fn lock_denial(d: Decision) -> Option<DenialReason> {
    match d {
        Decision::Allowed { .. } => None,
        Decision::Locked { until, .. } => Some(DenialReason::Locked { until }),
        Decision::LockedUntilAdmin {
            cause: AdminLockCause::HardCap,
            ..
        } => Some(DenialReason::FailureCapReached),
        Decision::LockedUntilAdmin { .. } => Some(DenialReason::LockedUntilAdmin),
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
        // Settings stored by `set_settings` (any server) override the
        // caller's configuration.
        let mut effective = config.clone();
        pool.run(Mode::Snapshot, |tx| {
            crate::settings::apply_stored(tx, &mut effective)
        })?;
        Ok(Store {
            pool,
            keys: key.keys(),
            config: effective,
            base_config: config,
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
    pub fn put_user(&self, user: &UserProfile, now: UnixTime) -> Result<(), Error> {
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
    pub fn user(&self, user_id: &str) -> Result<Option<UserProfile>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let Some(r) = tx.query_opt(
                "users",
                "SELECT user_id, first_name, last_name, email, phone FROM users WHERE user_id = $1",
                &[user_id.into()],
            )?
            else {
                return Ok(None);
            };
            Ok(Some(UserProfile {
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

    /// Every token in the store, by serial (for administration; a large
    /// store returns a large vector).
    ///
    /// # Errors
    /// Database errors.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY serial");
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
        self.pool.run(Mode::Write, |tx| {
            let sql = format!("SELECT {TOKEN_COLS} FROM tokens ORDER BY serial");
            let rows = tx.query("tokens", &sql, &[])?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let t = token_from_row(r)?;
                let raw = self.keys.open(&t.serial, &t.sealed)?;
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

    /// Resynchronises a token from consecutive codes it shows (mfa-oath
    /// `resync`: two codes for TOTP, 2 or 3 for HOTP) within `window` steps
    /// or counters, and stores the result: the last step used and, for TOTP,
    /// the learned clock drift. The codes cannot be used again.
    ///
    /// # Errors
    /// [`Error::UnknownToken`], [`Error::ResyncFailed`] with the mfa-oath
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
                    "SELECT user_id FROM tokens WHERE serial = $1",
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
                "SELECT {TOKEN_COLS} FROM tokens WHERE serial = $1{}",
                tx.for_update()
            );
            let row = tx
                .query_opt("tokens", &sql, &[serial.into()])?
                .ok_or_else(|| Error::UnknownToken {
                    serial: serial.to_owned(),
                })?;
            let t = token_from_row(&row)?;
            let raw = self.keys.open(&t.serial, &t.sealed)?;
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
            let n = tx.exec(
                "UPDATE tokens SET last_step = $1, drift = $2 WHERE serial = $3 \
                 AND (last_step IS NULL OR last_step < $1)",
                &[int(step), Val::Int(drift), serial.into()],
            )?;
            if n != 1 {
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

    /// Verifies an OATH code for `user` at `now`, in one transaction:
    /// fraud block → lockout → OATH verification against the user's active
    /// tokens → consume the matched step (replay-safe across servers) →
    /// lockout counters → authentication log event.
    ///
    /// Denials are returned in the outcome with the mfa-record reason (they
    /// are logged and counted, the transaction commits); errors mean
    /// nothing was recorded.
    ///
    /// # Errors
    /// Database errors, [`Error::Unseal`] (a token sealed with another key),
    /// [`Error::Record`] for a user id mfa-record does not accept.
    pub fn verify(
        &self,
        user: &str,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        self.pipeline(user, now, ctx, AuthMode::OathCode, FactorClass::Otp, |tx| {
            self.check_oath(tx, user, code, now)
        })
    }

    /// The common pipeline of every code check.
    fn pipeline(
        &self,
        user: &str,
        now: UnixTime,
        ctx: &VerifyContext,
        mode: AuthMode,
        class: FactorClass,
        mut check: impl FnMut(&mut dyn Tx) -> Result<Checked, Error>,
    ) -> Result<VerifyOutcome, Error> {
        let policy = *self.config.lockout.get(class);
        self.pool.run(Mode::Write, |tx| {
            let Some((profile, fraud, lock)) = lock_user_for(tx, user, class)? else {
                let outcome = denied(DenialReason::UnknownUser);
                log_event(
                    tx,
                    &self.config.fields,
                    now,
                    user,
                    None,
                    mode,
                    outcome.result,
                    None,
                    ctx,
                )?;
                return Ok(outcome);
            };
            let outcome = if let Some(reason) = fraud_denial(fraud.check(now)) {
                // Blocked or at risk: denied without looking at the code,
                // not counted as a lockout failure.
                denied(reason)
            } else if let Some(reason) = lock_denial(lock.check(&policy, now)) {
                // Locked: denied without being verified; the lock is not extended.
                denied(reason)
            } else {
                let checked = check(tx)?;
                let outcome = checked.outcome;
                match checked.counts {
                    Some(true) if lock != LockoutState::new() => {
                        // Also the approval-time re-check of the lock.
                        let (next, _) =
                            lock.record_success(&policy, now).map_err(Error::Lockout)?;
                        save_lock(tx, user, class, &next)?;
                    }
                    Some(true) | None => {}
                    Some(false) => {
                        let (next, _) =
                            lock.record_failure(&policy, now).map_err(Error::Lockout)?;
                        save_lock(tx, user, class, &next)?;
                    }
                }
                if outcome.is_approved() {
                    // Approval-time re-check of the fraud state too.
                    fraud.ensure_can_approve(now).map_err(Error::Fraud)?;
                }
                outcome
            };
            log_event(
                tx,
                &self.config.fields,
                now,
                user,
                Some(&profile),
                mode,
                outcome.result,
                outcome.serial.as_deref(),
                ctx,
            )?;
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
        // Of several tokens' refusals, report the most telling: a replay,
        // then a wrong code, then a malformed one.
        let mut best: Option<(u8, DenialReason, Option<String>)> = None;
        for r in &rows {
            let t = token_from_row(r)?;
            if t.key_id != self.keys.key_id {
                return Err(Error::Unseal { serial: t.serial });
            }
            let refusal = match t.check(&self.keys, code, now, &self.config)? {
                Ok(step) => {
                    if consume_step(tx, &t.serial, step)? {
                        return Ok(Checked {
                            outcome: VerifyOutcome {
                                result: AuthResult::Success,
                                serial: Some(t.serial),
                                step: Some(step),
                            },
                            counts: Some(true),
                        });
                    }
                    // Another server consumed it first.
                    mfa_oath::Error::CodeReplayed { step }
                }
                Err(e) => e,
            };
            let rank = match refusal {
                mfa_oath::Error::CodeReplayed { .. } => 3,
                mfa_oath::Error::CodeNotInWindow => 2,
                mfa_oath::Error::CodeFormat { .. } => 0,
                _ => 1,
            };
            if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                best = Some((rank, DenialReason::from(&refusal), Some(t.serial)));
            }
        }
        let (reason, serial) = best
            .map(|(_, r, s)| (r, s))
            .unwrap_or((DenialReason::CodeWrong, None));
        let step = match reason {
            DenialReason::CodeReplayed { step } => Some(step),
            _ => None,
        };
        let serial = if step.is_some() { serial } else { None };
        Ok(Checked {
            outcome: VerifyOutcome {
                result: AuthResult::Denied(reason),
                serial,
                step,
            },
            counts: Some(false),
        })
    }

    // ---------------------------------------------------- fraud, lockout

    /// Applies a fraud event (mfa-fraud) to a user in one transaction and
    /// carries out the effects the store can: audit entries and risk
    /// detections go to the audit log, the sign-in result ("MFA denied,
    /// fraud code entered") to the authentication log. Returns all the
    /// effects, so the caller can send the administrator notifications.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::Fraud`] for an event that does not
    /// apply (e.g. unblocking a user who is not blocked), database errors.
    pub fn fraud_event(
        &self,
        user: &str,
        event: Event,
        actor: Option<&str>,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        self.pool.run(Mode::Write, |tx| {
            let (profile, state) = lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let channel = match &event {
                Event::UserReport { channel, .. } => Some(*channel),
                _ => None,
            };
            let (next, effects) = state
                .apply(&self.config.fraud, event.clone(), now)
                .map_err(Error::Fraud)?;
            save_fraud(tx, user, &next)?;
            for e in &effects {
                match e {
                    Effect::Audit {
                        activity, comment, ..
                    } => audit(
                        tx,
                        now,
                        Some(user),
                        activity.as_str(),
                        actor,
                        comment.as_deref(),
                    )?,
                    Effect::RiskDetected(d) => {
                        let what = format!("{} {}", d.event_type.as_str(), d.level.as_str());
                        audit(tx, now, Some(user), "Risk detected", actor, Some(&what))?;
                    }
                    Effect::SignIn { result, .. } => {
                        let reason = match result {
                            mfa_fraud::SignInResult::MfaDeniedFraudCodeEntered => {
                                DenialReason::FraudCodeEntered
                            }
                            _ => DenialReason::FraudCodeEntered,
                        };
                        let mode = match channel {
                            Some(mfa_fraud::Channel::Phone) => AuthMode::PhoneCall,
                            _ => AuthMode::MobileAppNotification,
                        };
                        log_event(
                            tx,
                            &self.config.fields,
                            now,
                            user,
                            Some(&profile),
                            mode,
                            AuthResult::Denied(reason),
                            None,
                            ctx,
                        )?;
                    }
                    // Notifications are the caller's to send.
                    _ => {}
                }
            }
            Ok(effects)
        })
    }

    /// A user reported fraud (an MFA prompt they did not start) from the
    /// app or on the phone call: [`Store::fraud_event`] with
    /// [`Event::UserReport`].
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn report_fraud(
        &self,
        user: &str,
        channel: mfa_fraud::Channel,
        block_confirmed: bool,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::UserReport {
            channel,
            block_confirmed,
            passwordless: false,
        };
        self.fraud_event(user, event, Some(user), now, ctx)
    }

    /// Administrator block with a logged reason.
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn fraud_block(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::AdminBlock {
            reason: reason.to_owned(),
        };
        self.fraud_event(user, event, Some(actor), now, ctx)
    }

    /// Administrator unblock with a logged reason.
    ///
    /// # Errors
    /// As [`Store::fraud_event`] ([`mfa_fraud::Error::NotBlocked`] if not blocked).
    pub fn fraud_unblock(
        &self,
        user: &str,
        actor: &str,
        reason: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        let event = Event::AdminUnblock {
            reason: reason.to_owned(),
        };
        self.fraud_event(user, event, Some(actor), now, ctx)
    }

    /// Clears high user risk (password reset or administrator dismissal).
    ///
    /// # Errors
    /// As [`Store::fraud_event`].
    pub fn remediate_risk(
        &self,
        user: &str,
        actor: &str,
        how: Remediation,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Vec<Effect>, Error> {
        self.fraud_event(user, Event::RiskRemediated { how }, Some(actor), now, ctx)
    }

    /// The fraud state of a user.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn fraud_state(&self, user: &str) -> Result<FraudState, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let sql = format!("SELECT {FRAUD_COLS} FROM users WHERE user_id = $1");
            let r = tx
                .query_opt("users", &sql, &[user.into()])?
                .ok_or_else(|| Error::UnknownUser {
                    user: user.to_owned(),
                })?;
            fraud_from_row(&r, 0)
        })
    }

    /// Whether the user is at high risk (a suspicious-activity report not
    /// yet remediated).
    ///
    /// # Errors
    /// [`Error::UnknownUser`], database errors.
    pub fn user_at_risk(&self, user: &str) -> Result<bool, Error> {
        Ok(self.fraud_state(user)?.risk.is_some())
    }

    /// Administrator unblock of a lockout, with a logged reason.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::Lockout`] (e.g. not locked),
    /// database errors.
    pub fn lockout_unblock(
        &self,
        user: &str,
        class: FactorClass,
        actor: &str,
        reason: &str,
        now: UnixTime,
    ) -> Result<mfa_lockout::Unblocked, Error> {
        let policy = *self.config.lockout.get(class);
        self.pool.run(Mode::Write, |tx| {
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
            let (next, effect) = load_lock(tx, user, class)?
                .admin_unblock(&policy, now, reason)
                .map_err(Error::Lockout)?;
            save_lock(tx, user, class, &next)?;
            let what = format!("{}: {}", class.as_str(), effect.reason);
            audit(
                tx,
                now,
                Some(user),
                "lockout_unblock",
                Some(actor),
                Some(&what),
            )?;
            Ok(effect)
        })
    }

    /// The stored lockout state of a user for a factor class.
    ///
    /// # Errors
    /// Database errors.
    pub fn lockout_state(&self, user: &str, class: FactorClass) -> Result<LockoutState, Error> {
        self.pool
            .run(Mode::Snapshot, |tx| load_lock(tx, user, class))
    }

    /// The lockout decision for a user and factor class at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub fn lockout_decision(
        &self,
        user: &str,
        class: FactorClass,
        now: UnixTime,
    ) -> Result<Decision, Error> {
        let state = self.lockout_state(user, class)?;
        Ok(state.check(self.config.lockout.get(class), now))
    }

    // ------------------------------------------------- one-time codes

    /// Stores a one-time code sent to `user` by SMS or voice (the caller
    /// generates and sends it). Only a keyed hash is stored; it expires
    /// after [`StoreConfig::code_ttl`] seconds and replaces any earlier
    /// code on the same channel. Returns the expiry time.
    ///
    /// # Errors
    /// [`Error::UnknownUser`], [`Error::FieldLength`], database errors.
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
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
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
        let class = match channel {
            Channel::Sms => FactorClass::SmsCode,
            Channel::Voice => FactorClass::VoiceCall,
        };
        self.pipeline(user, now, ctx, channel.mode(), class, |tx| {
            let sql = format!(
                "SELECT hash, expires_at, consumed_at, created_at FROM one_time_codes WHERE user_id = $1 AND channel = $2{}",
                tx.for_update()
            );
            let Some(r) = tx.query_opt("one_time_codes", &sql, &[user.into(), channel.as_str().into()])? else {
                return Ok(Checked {
                    outcome: denied(DenialReason::CodeWrong),
                    counts: Some(false),
                });
            };
            let matches: bool = r.blob(0, "hash")?.as_slice().ct_eq(hash.as_slice()).into();
            // A one-time code's "step" is the time it was created.
            let replayed = DenialReason::CodeReplayed {
                step: r.u64(3, "created_at")?,
            };
            let reason = if !matches {
                DenialReason::CodeWrong
            } else if r.opt_i64(2, "consumed_at")?.is_some() {
                replayed
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
                            result: AuthResult::Success,
                            serial: None,
                            step: None,
                        },
                        counts: Some(true),
                    });
                }
                replayed
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
    /// [`Error::UnknownUser`], [`Error::FieldLength`], database errors.
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
            lock_user(tx, user)?.ok_or_else(|| Error::UnknownUser {
                user: user.to_owned(),
            })?;
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

    /// The authentication log for `from <= at < to`, oldest first, as
    /// mfa-record events.
    ///
    /// # Errors
    /// Database errors, [`Error::Corrupt`] for a row mfa-record does not accept.
    pub fn auth_log(&self, from: UnixTime, to: UnixTime) -> Result<Vec<AuthEvent>, Error> {
        self.pool.run(Mode::Snapshot, |tx| {
            let rows = tx.query(
                "auth_log",
                "SELECT at, user_id, mode, result, reason, detail, server_name, server_ip, client_ip, \
                 first_name, last_name, email, phone FROM auth_log WHERE at >= $1 AND at < $2 ORDER BY at, id",
                &[int(from.secs()), int(to.secs())],
            )?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// The audit log (administrative actions, fraud reports, risk
    /// detections) for `from <= at < to`.
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

    /// The mfa-record usage summary for `from <= at < to`: every user
    /// configured for MFA before `to` (per-user billing counts them whether
    /// or not they signed in) and every log event of the period.
    ///
    /// # Errors
    /// [`Error::Record`] if `to` is before `from`, database errors.
    pub fn usage_summary(&self, from: UnixTime, to: UnixTime) -> Result<UsageSummary, Error> {
        let period = mfa_record::Period::new(from, to).map_err(Error::Record)?;
        let mut summary = UsageSummary::new(period);
        let users = self.pool.run(Mode::Snapshot, |tx| {
            tx.query(
                "users",
                "SELECT user_id, created_at FROM users WHERE created_at < $1 ORDER BY user_id",
                &[int(to.secs())],
            )
        })?;
        for r in &users {
            let Ok(id) = UserId::new(r.text(0, "user_id")?) else {
                continue;
            };
            let mut rec = mfa_record::UserRecord::new(id);
            rec.enable_mfa(UnixTime::from_secs(r.u64(1, "created_at")?));
            summary.add_user(&rec);
        }
        for e in self.auth_log(from, to)? {
            summary.add_event(&e);
        }
        Ok(summary)
    }

    /// Retention: deletes authentication and audit log events older than
    /// `days` days before `now` ([`crate::DEFAULT_RETENTION_DAYS`] is the
    /// usual choice), and expired one-time codes and remembered devices.
    /// Returns how many log events were deleted.
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
                &[int(now.secs())],
            )?;
            tx.exec(
                "DELETE FROM devices WHERE expires_at < $1",
                &[int(now.secs())],
            )?;
            Ok(a + b)
        })
    }

    /// Writes the authentication log for `from <= at < to` as CSV with
    /// mfa-record's writer (columns of switched-off fields left out, cells
    /// neutralised against formula injection). Restoring a backup gives a
    /// byte-identical report.
    ///
    /// # Errors
    /// [`Error::Record`] (I/O while writing), database errors.
    pub fn export_auth_log_csv<W: std::io::Write>(
        &self,
        from: UnixTime,
        to: UnixTime,
        out: W,
    ) -> Result<usize, Error> {
        let events = self.auth_log(from, to)?;
        mfa_record::write_log_csv(out, &events, &self.config.fields).map_err(Error::Record)
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
    let mode: AuthMode = r.text(2, "mode")?.parse().map_err(|_| corrupt("mode"))?;
    let result = match r.text(3, "result")?.as_str() {
        "success" => AuthResult::Success,
        "denied" => {
            let kind = r
                .opt_text(4, "reason")?
                .ok_or_else(|| corrupt("reason"))?
                .parse()
                .map_err(|_| corrupt("reason"))?;
            let detail = r.opt_u64(5, "detail")?;
            AuthResult::Denied(
                DenialReason::from_parts(kind, detail).map_err(|_| corrupt("detail"))?,
            )
        }
        _ => return Err(corrupt("result")),
    };
    let ip = |i, column| -> Result<Option<IpAddr>, Error> {
        r.opt_text(i, column)?
            .map(|s| s.parse().map_err(|_| corrupt(column)))
            .transpose()
    };
    let mut attempt = AuthAttempt::new(
        UnixTime::from_secs(r.u64(0, "at")?),
        UserId::new(r.text(1, "user_id")?).map_err(|_| corrupt("user_id"))?,
        mode,
        result,
        ServerName::new(r.text(6, "server_name")?).map_err(|_| corrupt("server_name"))?,
        ip(7, "server_ip")?.ok_or_else(|| corrupt("server_ip"))?,
    );
    attempt.client_ip = ip(8, "client_ip")?;
    attempt.first_name = r
        .opt_text(9, "first_name")?
        .map(|v| PersonName::new(v).map_err(|_| corrupt("first_name")))
        .transpose()?;
    attempt.last_name = r
        .opt_text(10, "last_name")?
        .map(|v| PersonName::new(v).map_err(|_| corrupt("last_name")))
        .transpose()?;
    attempt.email = r
        .opt_text(11, "email")?
        .map(|v| Email::new(v).map_err(|_| corrupt("email")))
        .transpose()?;
    attempt.phone = r
        .opt_text(12, "phone")?
        .map(|v| PhoneNumber::new(v).map_err(|_| corrupt("phone")))
        .transpose()?;
    AuthEvent::record(attempt, &FieldPolicy::all()).map_err(|_| corrupt("mode"))
}
