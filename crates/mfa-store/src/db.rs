//! The two backends behind one small transaction interface.
//!
//! All SQL in this crate is written once, in the dialect both SQLite and
//! PostgreSQL understand: numbered parameters `$1, $2, …` (SQLite binds them
//! by order of first appearance, so every statement names them in increasing
//! order), `INSERT … ON CONFLICT`, `UPDATE … RETURNING`. Where the two differ
//! (row locks, column types in DDL) the [`Tx::kind`] tells the caller.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

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

    /// `" FOR UPDATE"` on PostgreSQL (row lock), nothing on SQLite, whose
    /// `BEGIN IMMEDIATE` already holds the write lock for the transaction.
    fn for_update(&self) -> &'static str {
        match self.kind() {
            BackendKind::Sqlite => "",
            BackendKind::Postgres => " FOR UPDATE",
        }
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

    /// Runs `f` in one transaction: commits when it returns `Ok`, rolls back
    /// when it returns `Err`. PostgreSQL transactions that fail with a
    /// serialization failure or a deadlock are retried from the start.
    pub(crate) fn run<T>(
        &self,
        mode: Mode,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.take()?;
        let result = match &mut conn {
            Conn::Sqlite(c) => run_sqlite(c, mode, &mut f),
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
        result
    }
}

fn retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

fn run_sqlite<T>(
    c: &mut rusqlite::Connection,
    mode: Mode,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<T, Error>,
) -> Result<T, Error> {
    let behavior = match mode {
        Mode::Write => rusqlite::TransactionBehavior::Immediate,
        Mode::Snapshot => rusqlite::TransactionBehavior::Deferred,
    };
    let tx = c.transaction_with_behavior(behavior)?;
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
