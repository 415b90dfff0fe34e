//! The two backends behind one small transaction interface.
//!
//! All SQL in this crate is written once, in the dialect both SQLite and
//! PostgreSQL understand: numbered parameters `$1, $2, …` (SQLite binds them
//! by order of first appearance, so every statement names them in increasing
//! order), `INSERT … ON CONFLICT`, `UPDATE … RETURNING`. Where the two differ
//! (row locks, column types in DDL) the [`Tx::kind`] tells the caller.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::Error;
use crate::tls::PgTarget;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// Embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Val::Blob(v)
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Self {
        Val::Blob(v.to_vec())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// Converts a `u64` (time, step, counter) to the signed 64-bit integer both
/// databases store, saturating (times and steps never get near 2^63).
pub(crate) fn int(v: u64) -> Val {
    Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) vals: Vec<Val>,
    pub(crate) table: &'static str,
}

impl Row {
    fn get(&self, i: usize) -> &Val {
        self.vals.get(i).unwrap_or(&Val::Null)
    }
    fn corrupt(&self, column: &'static str) -> Error {
        Error::Corrupt {
            table: self.table,
            column,
        }
    }
    pub(crate) fn opt_i64(&self, i: usize, column: &'static str) -> Result<Option<i64>, Error> {
        match self.get(i) {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            _ => Err(self.corrupt(column)),
        }
    }
    pub(crate) fn i64(&self, i: usize, column: &'static str) -> Result<i64, Error> {
        self.opt_i64(i, column)?.ok_or_else(|| self.corrupt(column))
    }
    pub(crate) fn u64(&self, i: usize, column: &'static str) -> Result<u64, Error> {
        u64::try_from(self.i64(i, column)?).map_err(|_| self.corrupt(column))
    }
    pub(crate) fn opt_u64(&self, i: usize, column: &'static str) -> Result<Option<u64>, Error> {
        self.opt_i64(i, column)?
            .map(|v| u64::try_from(v).map_err(|_| self.corrupt(column)))
            .transpose()
    }
    pub(crate) fn opt_text(&self, i: usize, column: &'static str) -> Result<Option<String>, Error> {
        match self.get(i) {
            Val::Null => Ok(None),
            Val::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.corrupt(column)),
        }
    }
    pub(crate) fn text(&self, i: usize, column: &'static str) -> Result<String, Error> {
        self.opt_text(i, column)?
            .ok_or_else(|| self.corrupt(column))
    }
    pub(crate) fn blob(&self, i: usize, column: &'static str) -> Result<Vec<u8>, Error> {
        self.opt_blob(i, column)?
            .ok_or_else(|| self.corrupt(column))
    }
    pub(crate) fn opt_blob(
        &self,
        i: usize,
        column: &'static str,
    ) -> Result<Option<Vec<u8>>, Error> {
        match self.get(i) {
            Val::Null => Ok(None),
            Val::Blob(v) => Ok(Some(v.clone())),
            _ => Err(self.corrupt(column)),
        }
    }
}

/// A transaction on either backend.
pub(crate) trait Tx {
    /// Runs a statement, returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error>;
    /// Runs a query, returns its rows; `table` names the table in errors.
    fn query(&mut self, table: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error>;
    /// Which backend this is.
    fn kind(&self) -> BackendKind;
    /// Runs DDL text that may hold several statements.
    fn batch(&mut self, sql: &str) -> Result<(), Error>;

    /// The first row of a query, if any.
    fn query_opt(
        &mut self,
        table: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Option<Row>, Error> {
        Ok(self.query(table, sql, params)?.into_iter().next())
    }

    /// Whether the transaction this runs in was ended by the database
    /// itself (SQLite rolls back the whole transaction on some errors, e.g.
    /// disk full): nothing more may run in it, not even a savepoint.
    fn lost(&self) -> bool {
        false
    }

    /// `" FOR UPDATE"` on PostgreSQL (row lock), nothing on SQLite, whose
    /// `BEGIN IMMEDIATE` already holds the write lock for the transaction.
    fn for_update(&self) -> &'static str {
        match self.kind() {
            BackendKind::Sqlite => "",
            BackendKind::Postgres => " FOR UPDATE",
        }
    }
}

/// Runs `f` inside the nested savepoint `name` of the transaction `tx` is
/// in (both backends): `Ok` releases it, `Err` rolls back to it, so `f`'s
/// writes vanish and the transaction's others stay; the inner result is
/// `f`'s. `name` must differ from the savepoints open around it (the SQLite
/// group commit's member is `m`).
///
/// The outer `Err` means the whole transaction must end: the savepoint
/// could not be used, the database ended the transaction itself
/// ([`Tx::lost`]), or `f` failed with a PostgreSQL serialization failure or
/// deadlock, which [`Pool::run`] retries from the start (as it retries a
/// transaction without savepoints).
pub(crate) fn savepoint<T>(
    tx: &mut dyn Tx,
    name: &str,
    f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>,
) -> Result<Result<T, Error>, Error> {
    control(tx, &format!("SAVEPOINT {name}"))?;
    let out = f(tx);
    if tx.lost() {
        return Err(out.err().unwrap_or(Error::CommitFailed));
    }
    match out {
        Ok(v) => {
            control(tx, &format!("RELEASE SAVEPOINT {name}"))?;
            Ok(Ok(v))
        }
        Err(Error::Postgres(e)) if retryable(&e) => Err(Error::Postgres(e)),
        Err(e) => {
            control(tx, &format!("ROLLBACK TO SAVEPOINT {name}"))?;
            control(tx, &format!("RELEASE SAVEPOINT {name}"))?;
            Ok(Err(e))
        }
    }
}

/// Runs one savepoint statement: on SQLite as a cached prepared statement
/// (a batch of sign-ins takes a savepoint per sign-in, and parsing the
/// statement each time was most of its cost), on PostgreSQL as a simple
/// query (one round trip, nothing prepared).
fn control(tx: &mut dyn Tx, sql: &str) -> Result<(), Error> {
    match tx.kind() {
        BackendKind::Sqlite => tx.exec(sql, &[]).map(|_| ()),
        BackendKind::Postgres => tx.batch(sql),
    }
}

// ---------------------------------------------------------------- SQLite

fn to_sqlite(v: &Val) -> rusqlite::types::ToSqlOutput<'_> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    match v {
        Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        Val::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        Val::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(to_sqlite(self))
    }
}

struct SqliteTx<'a> {
    conn: &'a rusqlite::Connection,
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }

    fn query(&mut self, table: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error> {
        use rusqlite::types::ValueRef;
        let mut st = self.conn.prepare_cached(sql)?;
        let ncol = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(ncol);
            for i in 0..ncol {
                vals.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(_) => return Err(Error::Corrupt { table, column: "?" }),
                    ValueRef::Text(t) => Val::Text(
                        std::str::from_utf8(t)
                            .map_err(|_| Error::Corrupt { table, column: "?" })?
                            .to_owned(),
                    ),
                    ValueRef::Blob(b) => Val::Blob(b.to_vec()),
                });
            }
            out.push(Row { vals, table });
        }
        Ok(out)
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    fn lost(&self) -> bool {
        self.conn.is_autocommit()
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.conn.execute_batch(sql)?;
        Ok(())
    }
}

// ------------------------------------------------------------ PostgreSQL

impl postgres::types::ToSql for Val {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Val::Int(v) => v.to_sql(ty, out),
            Val::Text(t) => t.as_str().to_sql(ty, out),
            Val::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_ty: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

pub(crate) struct PgConn {
    client: postgres::Client,
    stmts: HashMap<String, postgres::Statement>,
}

struct PgTx<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    stmts: &'a mut HashMap<String, postgres::Statement>,
}

impl PgTx<'_, '_> {
    fn stmt(&mut self, sql: &str) -> Result<postgres::Statement, Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

fn pg_params(params: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Tx for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        let st = self.stmt(sql)?;
        Ok(self.tx.execute(&st, &pg_params(params))?)
    }

    fn query(&mut self, table: &'static str, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error> {
        use postgres::types::Type;
        let st = self.stmt(sql)?;
        let rows = self.tx.query(&st, &pg_params(params))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                let v = if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?.map(Val::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?.map(|v| Val::Int(v.into()))
                } else if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)?.map(|v| Val::Int(v.into()))
                } else if *t == Type::BYTEA {
                    r.try_get::<_, Option<Vec<u8>>>(i)?.map(Val::Blob)
                } else if *t == Type::TEXT || *t == Type::VARCHAR || *t == Type::NAME {
                    r.try_get::<_, Option<String>>(i)?.map(Val::Text)
                } else {
                    return Err(Error::Corrupt { table, column: "?" });
                };
                vals.push(v.unwrap_or(Val::Null));
            }
            out.push(Row { vals, table });
        }
        Ok(out)
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.tx.batch_execute(sql)?;
        Ok(())
    }
}

// --------------------------------------------------------------- the pool

/// How a transaction locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Writes: SQLite `BEGIN IMMEDIATE`, PostgreSQL READ COMMITTED with row locks.
    Write,
    /// A consistent snapshot for reading: SQLite deferred, PostgreSQL
    /// REPEATABLE READ READ ONLY.
    Snapshot,
}

enum Target {
    Sqlite {
        path: PathBuf,
        synchronous: &'static str,
    },
    /// The URL is parsed (and its `sslrootcert` read) at the first
    /// connection, then kept: a URL that cannot be used fails every time.
    Postgres {
        url: String,
        parsed: OnceLock<Box<PgTarget>>,
    },
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

/// Connections to one database, opened on demand and reused.
pub(crate) struct Pool {
    target: Target,
    idle: Mutex<Vec<Conn>>,
    busy_timeout: Duration,
    /// SQLite: the one connection that writes (see [`Pool::run`]).
    group: GroupCommit,
    /// Write transactions committed (a group commit counts once).
    commits: AtomicU64,
}

/// A group commit closes after this many members...
const GROUP_MAX_MEMBERS: usize = 64;
/// ...or when it has been open this long, even if more writers wait.
const GROUP_MAX_OPEN: Duration = Duration::from_millis(4);

/// The SQLite writer connection and the transaction open on it.
struct GroupCommit {
    /// [`GROUP_MAX_OPEN`] (tests lengthen it to build groups on purpose).
    max_open: Duration,
    writer: Mutex<Writer>,
    /// Threads waiting to lock `writer`: while there are any, a member
    /// leaves the transaction open for them instead of committing.
    waiting: AtomicUsize,
}

impl GroupCommit {
    fn new() -> GroupCommit {
        GroupCommit {
            max_open: GROUP_MAX_OPEN,
            writer: Mutex::default(),
            waiting: AtomicUsize::new(0),
        }
    }
}

#[derive(Default)]
struct Writer {
    /// Opened at the first write.
    conn: Option<rusqlite::Connection>,
    /// The group whose transaction is open on `conn`, if any.
    group: Option<Group>,
}

struct Group {
    members: usize,
    opened: Instant,
    outcome: Arc<Outcome>,
}

/// How a group ended, with its own lock and condition variable: the members
/// wait for it without the `writer` lock, so a commit wakes each of them
/// once (waiting on the `writer` lock's condition variable made every woken
/// member queue for that lock again, behind the next group's statements:
/// a second sleep and wake-up per sign-in).
#[derive(Default)]
struct Outcome {
    state: Mutex<u8>,
    done: Condvar,
}

const PENDING: u8 = 0;
const COMMITTED: u8 = 1;
const FAILED: u8 = 2;

impl Outcome {
    /// Records how the group ended and wakes its members. The lock guards
    /// a plain value and no code that can panic runs under it, so a
    /// poisoned lock is used on.
    fn set(&self, v: u8) {
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = v;
        self.done.notify_all();
    }

    /// Waits until the group has ended: [`COMMITTED`] or [`FAILED`].
    fn wait(&self) -> u8 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *state == PENDING {
            state = self
                .done
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *state
    }
}

impl Writer {
    fn conn(&self) -> Result<&rusqlite::Connection, Error> {
        self.conn.as_ref().ok_or(Error::CommitFailed)
    }

    /// The writer connection of `pool`, opened at the first write.
    fn open(&mut self, pool: &Pool) -> Result<&rusqlite::Connection, Error> {
        if self.conn.is_none() {
            match pool.connect()? {
                Conn::Sqlite(c) => self.conn = Some(c),
                // Not reached: only a SQLite pool writes through a Writer.
                Conn::Postgres(_) => return Err(Error::CommitFailed),
            }
        }
        self.conn()
    }

    /// Ends the open group: COMMIT (if `commit`) or ROLLBACK, records how
    /// it ended for its members and wakes them. `Ok` only if it committed.
    fn finish(&mut self, commit: bool) -> Result<(), Error> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let mut result = Err(Error::CommitFailed);
        if let Some(c) = &self.conn {
            if commit {
                result = c.execute_batch("COMMIT").map_err(Error::from);
            }
            if result.is_err() && !c.is_autocommit() {
                // Best effort: a connection that cannot roll back is
                // dropped below, which rolls back.
                if c.execute_batch("ROLLBACK").is_err() {
                    self.conn = None;
                }
            }
        }
        group
            .outcome
            .set(if result.is_ok() { COMMITTED } else { FAILED });
        result
    }
}

/// Rolls the whole open group back if a member's closure unwinds (panics)
/// while it holds the writer: the other members get
/// [`Error::CommitFailed`], none waits forever, nothing half-done is
/// committed; then the panic goes on.
struct AbortOnUnwind<'a> {
    writer: Option<MutexGuard<'a, Writer>>,
}

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        if let Some(w) = &mut self.writer {
            let _ = w.finish(false);
        }
    }
}

/// PostgreSQL retries of a transaction that failed with a serialization
/// failure or deadlock.
const PG_RETRIES: u32 = 20;

impl Pool {
    pub(crate) fn sqlite(
        path: PathBuf,
        busy_timeout: Duration,
        durability: crate::Durability,
    ) -> Pool {
        Pool {
            target: Target::Sqlite {
                path,
                synchronous: durability.sqlite_pragma(),
            },
            idle: Mutex::new(Vec::new()),
            busy_timeout,
            group: GroupCommit::new(),
            commits: AtomicU64::new(0),
        }
    }

    pub(crate) fn postgres(url: String, busy_timeout: Duration) -> Pool {
        Pool {
            target: Target::Postgres {
                url,
                parsed: OnceLock::new(),
            },
            idle: Mutex::new(Vec::new()),
            busy_timeout,
            group: GroupCommit::new(),
            commits: AtomicU64::new(0),
        }
    }

    pub(crate) fn kind(&self) -> BackendKind {
        match self.target {
            Target::Sqlite { .. } => BackendKind::Sqlite,
            Target::Postgres { .. } => BackendKind::Postgres,
        }
    }

    fn connect(&self) -> Result<Conn, Error> {
        match &self.target {
            Target::Sqlite { path, synchronous } => {
                let not_db = |e: rusqlite::Error| match e.sqlite_error_code() {
                    Some(
                        rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt,
                    ) => Error::NotADatabase {
                        path: path.display().to_string(),
                    },
                    _ => Error::from(e),
                };
                let c = rusqlite::Connection::open(path).map_err(not_db)?;
                c.busy_timeout(self.busy_timeout).map_err(not_db)?;
                // WAL: readers never block the writer. Sync per
                // StoreConfig::durability: FULL makes every commit durable
                // against power loss; NORMAL only against a process crash
                // until the WAL is checkpointed (see docs/store.md). The journal mode
                // is switched only on a new, empty file: an existing file that
                // is not in WAL mode is another application's database (or was
                // converted on purpose) and is not modified here.
                let pages: i64 = c
                    .query_row("PRAGMA page_count", [], |r| r.get(0))
                    .map_err(not_db)?;
                if pages == 0 {
                    c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
                        .map_err(not_db)?;
                }
                c.pragma_update(None, "synchronous", *synchronous)
                    .map_err(not_db)?;
                c.pragma_update(None, "foreign_keys", "ON")
                    .map_err(not_db)?;
                // The query planner stability guarantee: with it off (the
                // default) this build of SQLite (STAT4) re-prepares every
                // statement whose plan could depend on a bound value each
                // time that value changes; on, the plans are fixed. Measured
                // by benches/benches/store_floor.rs: a sign-in at NORMAL went
                // from 116 to 64 µs.
                c.set_db_config(
                    rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                    true,
                )
                .map_err(not_db)?;
                // 16 MiB page cache per connection (the default is 2 MiB).
                c.pragma_update(None, "cache_size", -16_384)
                    .map_err(not_db)?;
                c.set_prepared_statement_cache_capacity(64);
                Ok(Conn::Sqlite(c))
            }
            Target::Postgres { url, parsed } => {
                let target = match parsed.get() {
                    Some(t) => t,
                    None => {
                        // Two threads may both parse; either result is the same.
                        let t = Box::new(PgTarget::new(url)?);
                        parsed.get_or_init(|| t)
                    }
                };
                let client = target.connect()?;
                Ok(Conn::Postgres(Box::new(PgConn {
                    client,
                    stmts: HashMap::new(),
                })))
            }
        }
    }

    fn take(&self) -> Result<Conn, Error> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(Conn::Postgres(c)) if c.client.is_closed() => self.connect(),
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn give_back(&self, c: Conn) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < 64
        {
            v.push(c);
        }
    }

    /// The number of write transactions committed through this pool.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` in one transaction: commits when it returns `Ok`, rolls back
    /// when it returns `Err`. PostgreSQL transactions that fail with a
    /// serialization failure or a deadlock are retried from the start.
    ///
    /// SQLite writes ([`Mode::Write`]) are group-committed: see
    /// [`Pool::write_sqlite`]. **Invariant: a result is returned only after
    /// the COMMIT that contains its writes succeeded** (or, for an `Err`,
    /// after the group it ran in ended).
    pub(crate) fn run<T>(
        &self,
        mode: Mode,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if mode == Mode::Write && self.kind() == BackendKind::Sqlite {
            return self.write_sqlite(&mut f);
        }
        let mut conn = self.take()?;
        let result = match &mut conn {
            Conn::Sqlite(c) => run_sqlite(c, &mut f),
            Conn::Postgres(c) => {
                let mut attempt = 0;
                loop {
                    match run_pg(c, mode, &mut f) {
                        Err(Error::Postgres(e)) if retryable(&e) && attempt < PG_RETRIES => {
                            attempt += 1;
                        }
                        Err(Error::Postgres(e)) if retryable(&e) => break Err(Error::Busy),
                        other => break other,
                    }
                }
            }
        };
        self.give_back(conn);
        if mode == Mode::Write && result.is_ok() {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// A SQLite write in a group commit. Concurrent writers of this pool
    /// share one transaction (`BEGIN IMMEDIATE` on the one writer
    /// connection, so the busy timeout against other processes applies as
    /// before) and one COMMIT, so one fsync at [`crate::Durability::Full`].
    /// Each member runs alone under the writer lock inside a savepoint: `Ok`
    /// releases it, `Err` rolls back to it (its writes vanish, the other
    /// members' stay). The member that finds nobody waiting for the lock,
    /// or the group full ([`GROUP_MAX_MEMBERS`], [`GROUP_MAX_OPEN`]),
    /// commits; the others wait for that commit.
    ///
    /// **A result is returned only after the COMMIT that contains its
    /// writes succeeded**; if it failed (or a member panicked, which rolls
    /// the whole group back) every member gets an error
    /// ([`Error::CommitFailed`] or the commit's own), never its `Ok` value.
    ///
    /// The lock is poisoned only by a member that panicked, and its
    /// [`AbortOnUnwind`] has already rolled the group back and woken the
    /// members, so a poisoned lock is cleared and used on.
    fn write_sqlite<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let g = &self.group;
        g.waiting.fetch_add(1, Ordering::SeqCst);
        let locked = g.writer.lock();
        g.waiting.fetch_sub(1, Ordering::SeqCst);
        let mut w = locked.unwrap_or_else(|p| {
            g.writer.clear_poison();
            p.into_inner()
        });
        if w.group.is_none() {
            // On failure (busy past the timeout) no group is open: only
            // this caller gets the error.
            w.open(self)?.execute_batch("BEGIN IMMEDIATE")?;
            w.group = Some(Group {
                members: 0,
                opened: Instant::now(),
                outcome: Arc::default(),
            });
        }
        let mut guard = AbortOnUnwind { writer: Some(w) };
        let (out, outcome, commit_now) = {
            let Some(w) = guard.writer.as_mut() else {
                return Err(Error::CommitFailed);
            };
            let member = member(w.conn()?, f);
            let Some(group) = w.group.as_mut() else {
                return Err(Error::CommitFailed);
            };
            group.members += 1;
            let outcome = Arc::clone(&group.outcome);
            let commit_now = g.waiting.load(Ordering::SeqCst) == 0
                || group.members >= GROUP_MAX_MEMBERS
                || group.opened.elapsed() >= g.max_open;
            match member {
                Ok(out) => (out, outcome, commit_now),
                // The savepoint could not be used, or SQLite rolled the
                // whole transaction back itself (e.g. disk full): the
                // group is lost.
                Err(e) => {
                    let _ = w.finish(false);
                    return Err(e);
                }
            }
        };
        let Some(mut w) = guard.writer.take() else {
            return Err(Error::CommitFailed);
        };
        if commit_now {
            w.finish(true)?;
            self.commits.fetch_add(1, Ordering::Relaxed);
            return out;
        }
        // The writer lock is released before waiting: the next members run
        // while this one sleeps until its group's COMMIT.
        drop(w);
        if outcome.wait() == COMMITTED {
            out
        } else {
            Err(Error::CommitFailed)
        }
    }

    /// A SQLite write that never waits for another writer, for a caller
    /// that has something better to do than wait (a server's receive
    /// loop). `Ok(None)`: nothing ran, because the write would have had to
    /// wait: another thread of this process holds the writer, or waits for
    /// it, or has a group open; another connection (an import in another
    /// process) holds the database's write lock; or the store is
    /// PostgreSQL, where every statement is a round trip to the server.
    ///
    /// Otherwise `f` runs alone in its own transaction (a savepoint inside
    /// `BEGIN IMMEDIATE`, as a group's member), which is committed before
    /// this returns, whatever other writers have started waiting
    /// meanwhile: the caller never waits for anyone's commit but its own.
    /// `Ok(Some(_))` only after that COMMIT succeeded; `f`'s `Err` after
    /// its writes were rolled back.
    pub(crate) fn try_write<T>(
        &self,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        if self.kind() != BackendKind::Sqlite {
            return Ok(None);
        }
        let g = &self.group;
        if g.waiting.load(Ordering::SeqCst) > 0 {
            return Ok(None);
        }
        let mut w = match g.writer.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
            // As in write_sqlite: the group of the member that panicked
            // was rolled back before the lock was released.
            Err(std::sync::TryLockError::Poisoned(p)) => {
                g.writer.clear_poison();
                p.into_inner()
            }
        };
        if w.group.is_some() {
            // Its members wait for a commit by whoever takes the lock next.
            return Ok(None);
        }
        let c = w.open(self)?;
        c.busy_timeout(Duration::ZERO)?;
        let begun = c.execute_batch("BEGIN IMMEDIATE");
        c.busy_timeout(self.busy_timeout)?;
        if let Err(e) = begun {
            return match Error::from(e) {
                Error::Busy => Ok(None),
                e => Err(e),
            };
        }
        w.group = Some(Group {
            members: 1,
            opened: Instant::now(),
            outcome: Arc::default(),
        });
        let mut guard = AbortOnUnwind { writer: Some(w) };
        let Some(w) = guard.writer.as_mut() else {
            return Err(Error::CommitFailed);
        };
        let out = match member(w.conn()?, &mut f) {
            Ok(out) => out,
            Err(e) => {
                let _ = w.finish(false);
                return Err(e);
            }
        };
        w.finish(true)?;
        guard.writer = None;
        self.commits.fetch_add(1, Ordering::Relaxed);
        out.map(Some)
    }
}

/// One member of a group: `f` inside `SAVEPOINT m`. The outer `Err` means
/// the group's transaction is lost; the inner result is `f`'s.
fn member<T>(
    c: &rusqlite::Connection,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Error>,
) -> Result<Result<T, Error>, Error> {
    c.execute_batch("SAVEPOINT m")?;
    let out = f(&mut SqliteTx { conn: c });
    if c.is_autocommit() {
        return Err(out.err().unwrap_or(Error::CommitFailed));
    }
    match &out {
        Ok(_) => c.execute_batch("RELEASE m")?,
        Err(_) => c.execute_batch("ROLLBACK TO m; RELEASE m")?,
    }
    Ok(out)
}

fn retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// A SQLite read snapshot (writes go through [`Pool::write_sqlite`]).
fn run_sqlite<T>(
    c: &mut rusqlite::Connection,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Error>,
) -> Result<T, Error> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    let out = f(&mut SqliteTx { conn: &tx })?;
    tx.commit()?;
    Ok(out)
}

fn run_pg<T>(
    c: &mut PgConn,
    mode: Mode,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Error>,
) -> Result<T, Error> {
    let PgConn { client, stmts } = c;
    let mut b = client.build_transaction();
    if mode == Mode::Snapshot {
        b = b
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true);
    }
    let mut tx = b.start()?;
    let out = f(&mut PgTx { tx: &mut tx, stmts })?;
    tx.commit()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::sync::mpsc;

    /// How long a test waits for a thread that must not hang.
    const BOUND: Duration = Duration::from_secs(20);

    fn pool() -> (tempfile::TempDir, Arc<Pool>) {
        let dir = tempfile::tempdir().unwrap();
        let mut pool = Pool::sqlite(
            dir.path().join("t.db"),
            Duration::from_secs(5),
            crate::Durability::Full,
        );
        // The groups these tests build wait for a thread to start.
        pool.group.max_open = BOUND;
        pool.run(Mode::Write, |tx| {
            tx.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        })
        .unwrap();
        (dir, Arc::new(pool))
    }

    fn insert(tx: &mut dyn Tx, id: i64) -> Result<u64, Error> {
        tx.exec("INSERT INTO t (id, v) VALUES ($1, 'x')", &[Val::Int(id)])
    }

    /// The ids in `t`, read on a fresh connection (committed rows only).
    fn committed(dir: &std::path::Path) -> Vec<i64> {
        let c = rusqlite::Connection::open(dir.join("t.db")).unwrap();
        let mut st = c.prepare("SELECT id FROM t ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Runs a first member that writes row 1 and holds the writer until a
    /// second writer waits for it, so that both share one group; the second
    /// member is `second`. Returns the first member's result (received
    /// within [`BOUND`]) with the committed rows a fresh connection saw the
    /// moment it returned, and the second's result (`None` if it panicked).
    #[allow(clippy::type_complexity)]
    fn two_member_group<T: Send + 'static>(
        dir: &tempfile::TempDir,
        pool: &Arc<Pool>,
        second: impl FnMut(&mut dyn Tx) -> Result<T, Error> + Send + 'static,
    ) -> ((Result<u64, Error>, Vec<i64>), Option<Result<T, Error>>) {
        let (first_tx, first_rx) = mpsc::channel();
        let (p, path) = (pool.clone(), dir.path().to_owned());
        std::thread::spawn(move || {
            let r = p.run(Mode::Write, |tx| {
                let n = insert(tx, 1)?;
                while p.group.waiting.load(Ordering::SeqCst) == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(n)
            });
            let _ = first_tx.send((r, committed(&path)));
        });
        // Started once the first member holds the writer.
        while pool.group.writer.try_lock().is_ok() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let p = pool.clone();
        let h = std::thread::spawn(move || p.run(Mode::Write, second));
        let first = first_rx.recv_timeout(BOUND).expect("the first member hung");
        (first, h.join().ok())
    }

    #[test]
    fn a_failing_member_does_not_undo_the_other_members_writes() {
        let (dir, pool) = pool();
        let before = pool.commits();
        let ((first, _), second) = two_member_group(&dir, &pool, |tx| {
            insert(tx, 2)?;
            Err::<(), _>(Error::Busy)
        });
        assert_eq!(first.unwrap(), 1);
        assert!(matches!(second, Some(Err(Error::Busy))));
        assert_eq!(committed(dir.path()), [1]);
        assert_eq!(pool.commits() - before, 1, "one group, one commit");
    }

    #[test]
    fn a_panicking_member_fails_its_group_without_a_hang_and_the_pool_works_on() {
        let (dir, pool) = pool();
        let ((first, _), second) = two_member_group(&dir, &pool, |tx| -> Result<(), Error> {
            insert(tx, 2)?;
            panic!("member panics");
        });
        assert!(second.is_none(), "the panic went on");
        assert!(matches!(first, Err(Error::CommitFailed)), "{first:?}");
        assert_eq!(
            committed(dir.path()),
            Vec::<i64>::new(),
            "the group rolled back"
        );
        pool.run(Mode::Write, |tx| insert(tx, 3)).unwrap();
        assert_eq!(committed(dir.path()), [3]);
    }

    #[test]
    fn a_follower_returns_only_after_the_commit_of_its_group() {
        let (dir, pool) = pool();
        let ((first, seen), second) = two_member_group(&dir, &pool, |tx| {
            // Long enough that a follower returning early would be seen.
            std::thread::sleep(Duration::from_millis(200));
            insert(tx, 2)
        });
        // The first member followed (the second committed both): the
        // moment it returned, its row and the second's were on the disk.
        assert_eq!(first.unwrap(), 1);
        assert_eq!(seen, [1, 2]);
        assert_eq!(second.unwrap().unwrap(), 1);
    }

    #[test]
    fn a_failed_savepoint_rolls_back_only_its_own_writes() {
        let (dir, pool) = pool();
        let inner = pool
            .run(Mode::Write, |tx| {
                insert(tx, 1)?;
                let failed = savepoint(tx, "item", |tx| {
                    insert(tx, 2)?;
                    Err::<(), _>(Error::Busy)
                })?;
                let kept = savepoint(tx, "item", |tx| insert(tx, 3))?;
                Ok((failed, kept))
            })
            .unwrap();
        assert!(matches!(inner.0, Err(Error::Busy)), "{:?}", inner.0);
        assert_eq!(inner.1.unwrap(), 1);
        assert_eq!(committed(dir.path()), [1, 3]);
    }

    #[test]
    fn a_member_reads_the_writes_of_the_members_before_it() {
        let (dir, pool) = pool();
        let ((first, _), second) = two_member_group(&dir, &pool, |tx| {
            Ok(tx.query("t", "SELECT id FROM t WHERE id = 1", &[])?.len())
        });
        assert_eq!(first.unwrap(), 1);
        assert_eq!(second.unwrap().unwrap(), 1);
    }

    #[test]
    fn try_write_commits_alone_when_nobody_holds_the_writer() {
        let (dir, pool) = pool();
        let before = pool.commits();
        assert_eq!(pool.try_write(|tx| insert(tx, 1)).unwrap(), Some(1));
        assert_eq!(committed(dir.path()), [1], "committed before it returned");
        assert_eq!(pool.commits() - before, 1);
        // An Err of f: its writes rolled back, the writer usable after.
        let failed = pool.try_write(|tx| {
            insert(tx, 2)?;
            Err::<(), _>(Error::CommitFailed)
        });
        assert!(matches!(failed, Err(Error::CommitFailed)), "{failed:?}");
        assert_eq!(pool.try_write(|tx| insert(tx, 3)).unwrap(), Some(1));
        pool.run(Mode::Write, |tx| insert(tx, 4)).unwrap();
        assert_eq!(committed(dir.path()), [1, 3, 4]);
    }

    #[test]
    fn try_write_runs_nothing_while_another_connection_holds_the_write_lock() {
        let (dir, pool) = pool();
        // Another process's writer (an import), by its own connection.
        let other = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = Instant::now();
        let mut ran = false;
        let r = pool.try_write(|tx| {
            ran = true;
            insert(tx, 1)
        });
        assert!(matches!(r, Ok(None)), "{r:?}");
        assert!(!ran, "f must not run");
        // Not the pool's busy timeout (5 s): no wait at all.
        assert!(started.elapsed() < Duration::from_secs(2));
        other.execute_batch("COMMIT").unwrap();
        // The busy timeout was restored for the blocking writes: one that
        // starts while the lock is held waits for it instead of failing.
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let p = pool.clone();
        let h = std::thread::spawn(move || p.run(Mode::Write, |tx| insert(tx, 2)));
        std::thread::sleep(Duration::from_millis(100));
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(h.join().unwrap().unwrap(), 1);
        assert_eq!(pool.try_write(|tx| insert(tx, 3)).unwrap(), Some(1));
        assert_eq!(committed(dir.path()), [2, 3]);
    }

    #[test]
    fn try_write_runs_nothing_while_a_thread_of_this_process_writes() {
        let (dir, pool) = pool();
        let (held_tx, held_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let p = pool.clone();
        let h = std::thread::spawn(move || {
            p.run(Mode::Write, |tx| {
                let n = insert(tx, 1)?;
                held_tx.send(()).unwrap();
                release_rx.recv_timeout(BOUND).unwrap();
                Ok(n)
            })
        });
        held_rx.recv_timeout(BOUND).unwrap();
        assert!(matches!(pool.try_write(|tx| insert(tx, 2)), Ok(None)));
        release_tx.send(()).unwrap();
        assert_eq!(h.join().unwrap().unwrap(), 1);
        assert_eq!(pool.try_write(|tx| insert(tx, 2)).unwrap(), Some(1));
        assert_eq!(committed(dir.path()), [1, 2]);
    }
}
