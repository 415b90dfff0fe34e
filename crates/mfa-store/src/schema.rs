//! Versioned schema migrations, run on open inside one write transaction.

use crate::crypto::{DataKey, MasterWrap};
use crate::db::{BackendKind, Tx, Val, int};
use crate::{Error, MasterKey};

/// The schema version this code writes and understands.
pub const SCHEMA_VERSION: u32 = 7;

/// Migration `i` takes the schema from version `i` to `i + 1`. `{BLOB}` and
/// `{ID}` are replaced per backend. Never edit a released migration: append.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "
CREATE TABLE mfa_keys (
    key_id BIGINT PRIMARY KEY,
    check_value {BLOB} NOT NULL
);
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    created_at BIGINT NOT NULL,
    block_cause TEXT,
    block_since BIGINT,
    block_until BIGINT,
    block_comment TEXT,
    risk_detections BIGINT,
    risk_recent TEXT
);
CREATE TABLE lockout (
    user_id TEXT NOT NULL,
    factor TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure BIGINT,
    consecutive BIGINT NOT NULL,
    lockouts BIGINT NOT NULL,
    lock_kind TEXT NOT NULL,
    lock_until BIGINT,
    PRIMARY KEY (user_id, factor)
);
CREATE TABLE tokens (
    serial TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digits BIGINT NOT NULL,
    period BIGINT NOT NULL,
    t0 BIGINT NOT NULL,
    key_id BIGINT NOT NULL,
    sealed {BLOB} NOT NULL,
    user_id TEXT REFERENCES users (user_id),
    active BIGINT NOT NULL DEFAULT 0,
    last_step BIGINT,
    drift BIGINT NOT NULL DEFAULT 0,
    manufacturer TEXT,
    model TEXT,
    imported_at BIGINT NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);
CREATE TABLE auth_log (
    id {ID},
    at BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT,
    detail BIGINT,
    serial TEXT,
    server_name TEXT NOT NULL,
    server_ip TEXT NOT NULL,
    client_ip TEXT,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT
);
CREATE INDEX auth_log_at ON auth_log (at);
CREATE TABLE audit_log (
    id {ID},
    at BIGINT NOT NULL,
    user_id TEXT,
    action TEXT NOT NULL,
    actor TEXT,
    reason TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TABLE one_time_codes (
    user_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    hash {BLOB} NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    PRIMARY KEY (user_id, channel)
);
CREATE TABLE trusted_ranges (
    cidr TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE TABLE devices (
    user_id TEXT NOT NULL,
    hash {BLOB} NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, hash)
);
",
    // 1 -> 2: settings shared by every server (mfa config set), and app
    // passwords (only a keyed hash of each).
    "
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE app_passwords (
    user_id TEXT NOT NULL REFERENCES users (user_id),
    name TEXT NOT NULL,
    hash {BLOB} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);
",
    // 2 -> 3: the key hierarchy (the data key, wrapped by the master key)
    // and a MAC over each token row's security-relevant columns. `migrate`
    // fills both in the same transaction.
    "
ALTER TABLE mfa_keys ADD COLUMN data_key_id BIGINT;
ALTER TABLE mfa_keys ADD COLUMN wrapped {BLOB};
ALTER TABLE tokens ADD COLUMN row_mac {BLOB};
CREATE TABLE import_staging (
    import_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    serial TEXT NOT NULL,
    kind TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    digits BIGINT NOT NULL,
    period BIGINT NOT NULL,
    t0 BIGINT NOT NULL,
    key_id BIGINT NOT NULL,
    sealed {BLOB} NOT NULL,
    user_id TEXT,
    last_step BIGINT,
    drift BIGINT NOT NULL,
    manufacturer TEXT,
    model TEXT,
    imported_at BIGINT NOT NULL,
    row_mac {BLOB} NOT NULL,
    PRIMARY KEY (import_id, serial)
);
CREATE INDEX import_staging_user ON import_staging (import_id, user_id);
",
    // 3 -> 4: the key validity period (RFC 6030 §5, PSKC StartDate /
    // ExpiryDate; Unix seconds, NULL for an open end) and the issuer. The
    // period is covered by the row MAC (`token-row/v2` when set); rows
    // without one keep their v1 MAC, so nothing needs recomputing.
    "
ALTER TABLE tokens ADD COLUMN not_before BIGINT;
ALTER TABLE tokens ADD COLUMN not_after BIGINT;
ALTER TABLE tokens ADD COLUMN issuer TEXT;
ALTER TABLE import_staging ADD COLUMN not_before BIGINT;
ALTER TABLE import_staging ADD COLUMN not_after BIGINT;
ALTER TABLE import_staging ADD COLUMN issuer TEXT;
",
    // 4 -> 5: the PSKC device serial (DeviceInfo/SerialNo) and Key Id of
    // an imported key as the file gave them (RFC 6030 §8: several keys of
    // one device share the serial), so an export writes them back; NULL
    // for tokens that did not come from PSKC. Covered by the row MAC
    // (`token-row/v3` when either is set; see `row_mac`); rows without
    // them keep their v1/v2 MAC.
    "
ALTER TABLE tokens ADD COLUMN device_serial TEXT;
ALTER TABLE tokens ADD COLUMN pskc_key_id TEXT;
ALTER TABLE import_staging ADD COLUMN device_serial TEXT;
ALTER TABLE import_staging ADD COLUMN pskc_key_id TEXT;
",
    // 5 -> 6: all-or-nothing imports write their rows straight into
    // `tokens`, marked with the import's id, and they count only once the
    // import's row in `imports` is committed: the commit is one small
    // update, however large the import. Every read that decides what a
    // token is reads `live_tokens`; serials and per-user slots are taken
    // by pending rows too. Users an import creates carry its id until it
    // ends, so a refused import can take them away again; `live_users`
    // leaves out those that have nothing else yet (for counts and
    // backups). PostgreSQL fixes a view's `*` when it is created: a later
    // migration that adds a column to `tokens` or `users` re-creates the
    // view. The `import_id` indexes are not partial: with a partial index
    // on a table, SQLite re-prepares every statement on it whose WHERE has
    // a bound parameter each time the value changes (it checks the
    // parameter against the index's condition), a third of a sign-in's
    // CPU.
    "
CREATE TABLE imports (
    import_id BIGINT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    heartbeat BIGINT NOT NULL,
    committed_at BIGINT
);
ALTER TABLE tokens ADD COLUMN import_id BIGINT;
ALTER TABLE users ADD COLUMN import_id BIGINT;
CREATE INDEX tokens_import ON tokens (import_id);
CREATE INDEX users_import ON users (import_id);
CREATE VIEW live_tokens AS SELECT * FROM tokens WHERE import_id IS NULL
    OR import_id IN (SELECT import_id FROM imports WHERE committed_at IS NOT NULL);
CREATE VIEW live_users AS SELECT * FROM users WHERE NOT (import_id IS NOT NULL
    AND import_id IN (SELECT import_id FROM imports WHERE committed_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM live_tokens t WHERE t.user_id = users.user_id)
    AND NOT EXISTS (SELECT 1 FROM app_passwords a WHERE a.user_id = users.user_id));
DROP TABLE import_staging;
",
    // 6 -> 7: `live_tokens` asks `imports` about each row's own import
    // (`EXISTS`, a primary-key lookup) instead of `IN` a list of every
    // committed import: SQLite built that list as a temporary table on every
    // read of the view, a tenth of a sign-in's instructions. The same rows;
    // `live_users` reads `live_tokens` and is re-created with it.
    "
DROP VIEW live_users;
DROP VIEW live_tokens;
CREATE VIEW live_tokens AS SELECT * FROM tokens WHERE import_id IS NULL
    OR EXISTS (SELECT 1 FROM imports i WHERE i.import_id = tokens.import_id
        AND i.committed_at IS NOT NULL);
CREATE VIEW live_users AS SELECT * FROM users WHERE NOT (import_id IS NOT NULL
    AND import_id IN (SELECT import_id FROM imports WHERE committed_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM live_tokens t WHERE t.user_id = users.user_id)
    AND NOT EXISTS (SELECT 1 FROM app_passwords a WHERE a.user_id = users.user_id));
",
];

fn dialect(kind: BackendKind, sql: &str) -> String {
    let (blob, id) = match kind {
        BackendKind::Sqlite => ("BLOB", "INTEGER PRIMARY KEY"),
        BackendKind::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY"),
    };
    sql.replace("{BLOB}", blob).replace("{ID}", id)
}

fn meta_exists(tx: &mut dyn Tx) -> Result<(bool, u64), Error> {
    let (sql_meta, sql_any) = match tx.kind() {
        BackendKind::Sqlite => (
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'mfa_meta'",
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        ),
        BackendKind::Postgres => (
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'mfa_meta' AND table_schema = current_schema()",
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        ),
    };
    let meta = tx
        .query_opt("mfa_meta", sql_meta, &[])?
        .map(|r| r.i64(0, "count"))
        .transpose()?
        .unwrap_or(0);
    let any = tx
        .query_opt("mfa_meta", sql_any, &[])?
        .map(|r| r.u64(0, "count"))
        .transpose()?
        .unwrap_or(0);
    Ok((meta > 0, any))
}

/// Reads the schema version (0 for an empty database).
pub(crate) fn version(tx: &mut dyn Tx) -> Result<u32, Error> {
    let (exists, _) = meta_exists(tx)?;
    if !exists {
        return Ok(0);
    }
    let row = tx.query_opt(
        "mfa_meta",
        "SELECT value FROM mfa_meta WHERE name = 'schema_version'",
        &[],
    )?;
    let Some(row) = row else {
        return Err(Error::Corrupt {
            table: "mfa_meta",
            column: "schema_version",
        });
    };
    row.text(0, "value")?.parse().map_err(|_| Error::Corrupt {
        table: "mfa_meta",
        column: "schema_version",
    })
}

/// Checks the master key against the store's key check value.
pub(crate) fn check_key(tx: &mut dyn Tx, key: &MasterKey) -> Result<(), Error> {
    let rows = tx.query("mfa_keys", "SELECT key_id, check_value FROM mfa_keys", &[])?;
    let mut expected = None;
    for r in &rows {
        let id = u32::try_from(r.i64(0, "key_id")?).map_err(|_| Error::Corrupt {
            table: "mfa_keys",
            column: "key_id",
        })?;
        expected = Some(id);
        if id == key.id() {
            let cv = r.blob(1, "check_value")?;
            if subtle::ConstantTimeEq::ct_eq(cv.as_slice(), key.check_value().as_slice()).into() {
                return Ok(());
            }
            break;
        }
    }
    match expected {
        Some(expected) => Err(Error::WrongMasterKey {
            expected,
            given: key.id(),
        }),
        // A store without a key yet (fresh): adopt this one.
        None => {
            tx.exec(
                "INSERT INTO mfa_keys (key_id, check_value) VALUES ($1, $2)",
                &[int(key.id().into()), Val::Blob(key.check_value())],
            )?;
            Ok(())
        }
    }
}

/// Brings the schema up to date, checks the key and returns the store's
/// data key, in the caller's write transaction (so on any error nothing is
/// changed).
pub(crate) fn migrate(tx: &mut dyn Tx, key: &MasterKey) -> Result<DataKey, Error> {
    if tx.kind() == BackendKind::Postgres {
        // Serialise concurrent first opens of the same schema.
        tx.exec("SELECT pg_advisory_xact_lock(7236001)", &[])?;
    }
    let (exists, tables) = meta_exists(tx)?;
    if !exists && tables > 0 && tx.kind() == BackendKind::Sqlite {
        // Some other application's database: do not write into it.
        return Err(Error::Corrupt {
            table: "mfa_meta",
            column: "schema_version",
        });
    }
    let found = version(tx)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found >= 1 {
        check_key(tx, key)?;
    }
    if found == 0 {
        tx.batch("CREATE TABLE mfa_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")?;
        tx.exec(
            "INSERT INTO mfa_meta (name, value) VALUES ('schema_version', '0')",
            &[],
        )?;
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch(&dialect(tx.kind(), sql))?;
        tx.exec(
            "UPDATE mfa_meta SET value = $1 WHERE name = 'schema_version'",
            &[Val::Text((i + 1).to_string())],
        )?;
    }
    if found == 0 {
        check_key(tx, key)?;
    }
    let wrap = key.wrapping();
    if let Some(data) = read_data_key(tx, &wrap)? {
        return Ok(data);
    }
    // No data key yet: a new store gets a random one; a store from before
    // schema 3 keeps deriving from its master key's bytes, so nothing it
    // sealed or hashed changes, and its token rows get their MACs now.
    let data = if found == 0 {
        DataKey::random(key.id())?
    } else {
        key.legacy_data_key()
    };
    tx.exec(
        "UPDATE mfa_keys SET data_key_id = $1, wrapped = $2 WHERE key_id = $3",
        &[
            int(data.id.into()),
            Val::Blob(wrap.wrap(&data)?),
            int(key.id().into()),
        ],
    )?;
    if found > 0 {
        crate::store::mac_every_token(tx, &data.keys())?;
    }
    Ok(data)
}

/// The store's data key unwrapped with `wrap`, or `None` if there is none
/// yet (a store before schema 3).
pub(crate) fn read_data_key(tx: &mut dyn Tx, wrap: &MasterWrap) -> Result<Option<DataKey>, Error> {
    let row = tx.query_opt(
        "mfa_keys",
        "SELECT data_key_id, wrapped FROM mfa_keys WHERE key_id = $1",
        &[int(wrap.id.into())],
    )?;
    let Some(r) = row else {
        return Err(Error::WrongMasterKey {
            expected: 0,
            given: wrap.id,
        });
    };
    let (Some(id), Some(wrapped)) = (r.opt_u64(0, "data_key_id")?, r.opt_blob(1, "wrapped")?)
    else {
        return Ok(None);
    };
    let id = u32::try_from(id).map_err(|_| Error::Corrupt {
        table: "mfa_keys",
        column: "data_key_id",
    })?;
    wrap.unwrap(id, &wrapped).map(Some)
}
