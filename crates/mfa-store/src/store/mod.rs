//! The store: every operation is one transaction. One module per domain,
//! each an `impl Store`; the shared row helpers (user lock, audit entry, log
//! event) live here.

use std::path::PathBuf;

use mfa_fraud::FraudState;
use mfa_lockout::{FactorClass, LockoutState};
use mfa_oath::UnixTime;
use mfa_record::{
    AuthAttempt, AuthEvent, AuthMode, AuthResult, Email, FieldPolicy, PersonName, PhoneNumber,
    UserId,
};

use std::sync::{Arc, RwLock};

use crate::crypto::{Keys, MasterWrap};
use crate::db::{BackendKind, Mode, Pool, Row, Tx, Val, int};
use crate::state::{FRAUD_COLS, LOCK_COLS, fraud_from_row, load_lock, lock_from_row};
use crate::{Cidr, Error, MasterKey, StoreConfig, UserProfile, VerifyContext};

mod app_passwords;
mod authenticate;
mod codes;
mod devices;
mod fraud;
mod keys;
mod lockout;
pub(crate) mod network;
mod reports;
mod tokens;
mod users;

pub use app_passwords::MAX_APP_PASSWORDS;
pub use authenticate::{ApprovedBy, AuthOutcome, AuthRequest, Method, Presented};
pub use codes::CodeIssue;
pub(crate) use tokens::mac_every_token;
pub use tokens::{DEAD_IMPORT_SECS, IMPORT_BATCH};

/// Longest user id, in characters: mfa-record's [`UserId::MAX_LEN`], the
/// one rule, applied wherever the store creates a user.
pub const MAX_USER_ID_LEN: usize = UserId::MAX_LEN;
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
    /// The working keys of the data key; replaced by `restore` (which
    /// adopts the backup's data key).
    keys: RwLock<Arc<Keys>>,
    /// What this handle holds of the master key; replaced by `rekey`.
    master: RwLock<Arc<MasterWrap>>,
    /// The configuration in force: `base_config` with the stored settings over it.
    pub(crate) config: StoreConfig,
    /// The configuration the caller opened the store with.
    pub(crate) base_config: StoreConfig,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.pool.kind())
            .field("key_id", &self.master().id)
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

/// Locks the user's row (PostgreSQL `FOR UPDATE`; SQLite holds the write
/// lock already) and reads the profile and fraud state. `None`: no such user.
pub(crate) fn lock_user(
    tx: &mut dyn Tx,
    user: &str,
) -> Result<Option<(UserProfile, FraudState)>, Error> {
    let Some(r) = lock_user_row(tx, user, "")? else {
        return Ok(None);
    };
    Ok(Some((profile_from_row(&r, user)?, fraud_from_row(&r, 4)?)))
}

/// [`lock_user`]'s statement with `extra` columns (`, …`) after the profile
/// (0–3) and fraud columns (4–9): the user's row, locked.
fn lock_user_row(tx: &mut dyn Tx, user: &str, extra: &str) -> Result<Option<Row>, Error> {
    let sql = format!(
        "SELECT first_name, last_name, email, phone, {FRAUD_COLS}{extra} \
         FROM users WHERE user_id = $1{}",
        tx.for_update()
    );
    tx.query_opt("users", &sql, &[user.into()])
}

/// The profile columns 0–3 of a users row.
fn profile_from_row(r: &Row, user: &str) -> Result<UserProfile, Error> {
    Ok(UserProfile {
        user_id: user.to_owned(),
        first_name: r.opt_text(0, "first_name")?,
        last_name: r.opt_text(1, "last_name")?,
        email: r.opt_text(2, "email")?,
        phone: r.opt_text(3, "phone")?,
    })
}

/// What a sign-in reads first, under the user's row lock: the profile, the
/// fraud state, the lockout state of the presented factor's class and, when
/// asked for, the trusted client ranges.
pub(crate) struct SignInState {
    pub(crate) profile: UserProfile,
    pub(crate) fraud: FraudState,
    pub(crate) lock: LockoutState,
    /// `None` when not asked for (no client IP to compare).
    pub(crate) trusted: Option<Vec<Cidr>>,
}

/// The trusted ranges as one more column (with its leading `, `):
/// `string_agg` is PostgreSQL's and, since 3.44, SQLite's (an alias of
/// `group_concat`).
const RANGES_COL: &str = ", (SELECT string_agg(cidr, ',') FROM trusted_ranges)";

/// Parses [`RANGES_COL`] at column `i`: NULL (no ranges) is an empty list.
fn ranges_from(r: &Row, i: usize) -> Result<Vec<Cidr>, Error> {
    match r.opt_text(i, "cidr")? {
        None => Ok(Vec::new()),
        Some(s) => s.split(',').map(network::stored_range).collect(),
    }
}

/// [`lock_user`], the user's lockout state for `class` (a fresh state for
/// `None`) and, with `ranges`, the trusted client ranges: the round trips of
/// the verification hot path. SQLite reads it all in one statement,
/// PostgreSQL in two.
pub(crate) fn sign_in_state(
    tx: &mut dyn Tx,
    user: &str,
    class: Option<FactorClass>,
    ranges: bool,
) -> Result<Option<SignInState>, Error> {
    let ranges_col = if ranges { RANGES_COL } else { "" };
    let (Some(class), BackendKind::Sqlite) = (class, tx.kind()) else {
        // No factor class: the user row alone. PostgreSQL: two statements.
        // After waiting for the user's row lock, READ COMMITTED re-checks
        // only the locked row, so a lockout row read in the same statement
        // could be stale. A new statement sees the counter the previous
        // holder of the lock committed. (The trusted ranges are not guarded
        // by the user's lock: read with the user.)
        let Some(r) = lock_user_row(tx, user, ranges_col)? else {
            return Ok(None);
        };
        let lock = match class {
            Some(c) => load_lock(tx, user, c)?,
            None => LockoutState::new(),
        };
        return Ok(Some(SignInState {
            profile: profile_from_row(&r, user)?,
            fraud: fraud_from_row(&r, 4)?,
            lock,
            trusted: ranges.then(|| ranges_from(&r, 10)).transpose()?,
        }));
    };
    // `$1` before `$2` in the text: SQLite numbers parameters by first use.
    // The fraud columns are named only in `users`, so they need no `u.`.
    let sql = format!(
        "SELECT u.first_name, u.last_name, u.email, u.phone, {FRAUD_COLS}, {LOCK_COLS}{ranges_col} \
         FROM users u LEFT JOIN lockout l ON l.factor = $1 AND l.user_id = u.user_id \
         WHERE u.user_id = $2"
    );
    let Some(r) = tx.query_opt("users", &sql, &[class.as_str().into(), user.into()])? else {
        return Ok(None);
    };
    Ok(Some(SignInState {
        profile: profile_from_row(&r, user)?,
        fraud: fraud_from_row(&r, 4)?,
        lock: lock_from_row(&r, 10)?,
        trusted: ranges.then(|| ranges_from(&r, 16)).transpose()?,
    }))
}

/// The one user-id rule of the store: mfa-record's [`UserId`] (not empty,
/// at most [`UserId::MAX_LEN`] characters, no control characters). Every
/// write that names a new user goes through it, so a user who can be given
/// a token can also sign in and be logged and billed.
pub(crate) fn check_user_id(user: &str) -> Result<UserId, mfa_record::Error> {
    UserId::new(user)
}

/// [`check_user_id`] as a store error: empty or too long is
/// [`Error::FieldLength`] (as for every other field), a control character
/// [`Error::Record`] naming it.
pub(crate) fn user_id_error(user: &str) -> Result<UserId, Error> {
    check_user_id(user).map_err(|e| match e {
        mfa_record::Error::Empty { .. } | mfa_record::Error::TooLong { .. } => Error::FieldLength {
            field: "user id",
            len: user.chars().count(),
            max: UserId::MAX_LEN,
        },
        e => Error::Record(e),
    })
}

/// Creates the user row if it does not exist. A user that an unfinished
/// all-or-nothing import created is claimed: it stays if that import is
/// refused.
pub(crate) fn ensure_user(tx: &mut dyn Tx, user: &str, now: UnixTime) -> Result<(), Error> {
    user_id_error(user)?;
    tx.exec(
        "INSERT INTO users (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) \
         DO UPDATE SET import_id = NULL WHERE users.import_id IS NOT NULL",
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
pub(crate) fn log_event(
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
    LogRow::new(fields, now, user, profile, mode, result, serial, ctx)?.insert(tx)
}

/// The number of columns in `log_cols!()`.
const LOG_LEN: usize = 14;

/// The columns of an `auth_log` row, in [`LogRow`]'s order: a macro, so
/// that every statement is a `&'static str` built at compile time (a
/// statement string on the heap in a `static` is reported as a leak when
/// `pam_mfa.so` is unloaded).
macro_rules! log_cols {
    () => {
        "at, user_id, mode, result, reason, detail, serial, server_name, \
         server_ip, client_ip, first_name, last_name, email, phone"
    };
}
pub(crate) use log_cols;

/// The values of one authentication log event (`log_cols!()`), built by
/// mfa-record under the store's field policy: a switched-off field is
/// never in it. [`log_event`] writes one; a consumed OATH step writes its
/// approval's in the statement that consumes it
/// ([`tokens::consume_step`]).
pub(crate) struct LogRow([Val; LOG_LEN]);

impl LogRow {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        fields: &FieldPolicy,
        now: UnixTime,
        user: &str,
        profile: Option<&UserProfile>,
        mode: AuthMode,
        result: AuthResult,
        serial: Option<&str>,
        ctx: &VerifyContext,
    ) -> Result<LogRow, Error> {
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
        Ok(LogRow([
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
        ]))
    }

    /// Appends the event.
    pub(crate) fn insert(&self, tx: &mut dyn Tx) -> Result<(), Error> {
        const INSERT: &str = concat!(
            "INSERT INTO auth_log (",
            log_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        tx.exec(INSERT, self.values())?;
        Ok(())
    }

    /// The values, in `log_cols!()`'s order.
    pub(crate) fn values(&self) -> &[Val] {
        &self.0
    }
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
            Pool::sqlite(PathBuf::from(path), config.busy_timeout, config.durability)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Pool::postgres(url.to_owned(), config.busy_timeout)
        } else {
            return Err(Error::UrlScheme {
                scheme: url.split(':').next().unwrap_or_default().to_owned(),
            });
        };
        let path_for_errors = url.strip_prefix("sqlite:").map(str::to_owned);
        let r = pool.run(Mode::Write, |tx| crate::schema::migrate(tx, key));
        let data = match (r, path_for_errors) {
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
        };
        // Settings stored by `set_settings` (any server) override the
        // caller's configuration.
        let mut effective = config.clone();
        pool.run(Mode::Snapshot, |tx| {
            crate::settings::apply_stored(tx, &mut effective)
        })?;
        Ok(Store {
            pool,
            keys: RwLock::new(Arc::new(data.keys())),
            master: RwLock::new(Arc::new(key.wrapping())),
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

    /// How many write transactions this handle has committed. On SQLite,
    /// concurrent writes share one transaction and one commit (one fsync at
    /// [`crate::Durability::Full`]), so this grows more slowly than the
    /// number of writes under load; on PostgreSQL it counts every write.
    pub fn write_commits(&self) -> u64 {
        self.pool.commits()
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The working keys in force. The lock guards a pointer swap that
    /// cannot panic, so a poisoned lock still holds a whole `Arc`.
    pub(crate) fn keys(&self) -> Arc<Keys> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn master(&self) -> Arc<MasterWrap> {
        self.master
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_keys(&self, keys: Keys) {
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
    }

    pub(crate) fn set_master(&self, master: MasterWrap) {
        *self
            .master
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(master);
    }

    /// Refuses a write when the store's master key changed under this
    /// handle (another process ran `rekey`): restart with the new key.
    pub(crate) fn ensure_current_master(&self, tx: &mut dyn Tx) -> Result<(), Error> {
        let master = self.master();
        let rows = tx.query("mfa_keys", "SELECT key_id FROM mfa_keys", &[])?;
        let current = rows.first().map(|r| r.i64(0, "key_id")).transpose()?;
        if current == Some(i64::from(master.id)) && rows.len() == 1 {
            return Ok(());
        }
        Err(Error::WrongMasterKey {
            expected: current
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or_default(),
            given: master.id,
        })
    }
}
