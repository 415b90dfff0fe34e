//! The one error type of this crate.

/// Everything that can go wrong in `mfa-store`.
///
/// Denials of a sign-in (wrong code, locked account, fraud block, ...) are
/// *not* errors: [`crate::Store::verify`] returns them as a
/// [`crate::VerifyOutcome`] because they are recorded in the log and the
/// transaction commits. Errors are for requests the store refuses outright
/// (nothing is changed) and for infrastructure failures.
///
/// Variants carry data (the serial, the user, the versions, the line) so
/// callers can match on them; the `Display` text is for an administrator and
/// never contains a secret or a code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL is neither `sqlite:<path>` nor `postgres://…`/`postgresql://…`.
    #[error("unsupported store URL scheme {scheme:?}; expected sqlite:<path> or postgres://…")]
    UrlScheme {
        /// The scheme found (text before the first `:`).
        scheme: String,
    },
    /// The SQLite file exists but is not a database (or is corrupt).
    #[error("{path} is not an mfa-store SQLite database or is corrupt")]
    NotADatabase {
        /// The file that was opened.
        path: String,
    },
    /// The database was written by a newer version of this crate.
    #[error(
        "the store has schema version {found}, newer than the {supported} this version of mfa-store understands; upgrade the software"
    )]
    SchemaTooNew {
        /// Version found in the store.
        found: u32,
        /// Newest version this code knows.
        supported: u32,
    },
    /// The store holds something that this crate did not write (a value of
    /// the wrong type, an unknown enum name, a bad sealed blob length).
    #[error("the store is corrupt: table {table}, column {column}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
    },
    /// The master key given is not the one the store's secrets are sealed
    /// with (its key check value differs, or its key id is unknown).
    #[error(
        "wrong master key: the store's secrets are sealed with key id {expected}, key id {given} was given (or its bytes differ)"
    )]
    WrongMasterKey {
        /// The key id the store is sealed with.
        expected: u32,
        /// The key id of the key given.
        given: u32,
    },
    /// A sealed token secret did not authenticate under the master key.
    #[error(
        "the sealed secret of token {serial} does not authenticate (tampered or sealed with another key)"
    )]
    Unseal {
        /// The token's serial.
        serial: String,
    },
    /// A token row changed in the database without the store's key (its
    /// owner, kind, parameters, active flag, last step or drift do not match
    /// the row's MAC): it is never used to approve a sign-in.
    #[error(
        "token {serial} was changed in the database without the store's key (its row MAC does not match); it is not used"
    )]
    TokenTampered {
        /// The token's serial.
        serial: String,
    },
    /// A master key file or value is not 32 bytes (64 hex digits).
    #[error("a master key must be 32 bytes (64 hex digits); got {len} bytes")]
    MasterKeyLength {
        /// Bytes (or hex digits / 2) found.
        len: usize,
    },
    /// `rekey` was asked to re-seal under the key id already in use.
    #[error("key id {key_id} is already the current key; a new key needs a new id")]
    SameKeyId {
        /// The key id.
        key_id: u32,
    },
    /// The operating system's random number generator failed (nonces).
    #[error("the random number generator failed")]
    Rng,
    /// No token with this serial number.
    #[error("unknown token {serial}")]
    UnknownToken {
        /// The serial asked for.
        serial: String,
    },
    /// No user with this id.
    #[error("unknown user {user}")]
    UnknownUser {
        /// The user id asked for.
        user: String,
    },
    /// The token is assigned to another user (a token belongs to one user).
    #[error("token {serial} is already assigned to {user}")]
    TokenAssigned {
        /// The token's serial.
        serial: String,
        /// The user it belongs to.
        user: String,
    },
    /// The token is not assigned to anyone (activation needs a user).
    #[error("token {serial} is not assigned to a user")]
    TokenNotAssigned {
        /// The token's serial.
        serial: String,
    },
    /// The user already has the maximum number of OATH tokens.
    #[error("user {user} already has {max} OATH tokens, the most allowed")]
    TooManyTokens {
        /// The user.
        user: String,
        /// The limit ([`crate::MAX_TOKENS_PER_USER`]).
        max: usize,
    },
    /// An import in all-or-nothing mode found duplicates or rejected tokens;
    /// nothing was imported. The report names each.
    #[error("import refused: {} of the tokens cannot be imported; nothing was imported", .report.rejected.len())]
    ImportRefused {
        /// Which tokens were refused and why.
        report: crate::ImportReport,
    },
    /// An all-or-nothing import could not go on or commit because its rows
    /// were taken away meanwhile as those of an import whose process had
    /// ended (it wrote no batch for [`crate::DEAD_IMPORT_SECS`]); nothing
    /// was imported.
    #[error("import abandoned: its rows were purged before it could commit; nothing was imported")]
    ImportAbandoned,
    /// Activation: the code shown by the token was not accepted.
    #[error("activation of token {serial} failed: {reason}")]
    ActivationFailed {
        /// The token's serial.
        serial: String,
        /// Why the code was refused.
        reason: mfa_oath::Error,
    },
    /// Activation: the token's key is outside its validity period (RFC 6030
    /// §5, PSKC `StartDate`/`ExpiryDate`); its code was not checked.
    #[error("token {serial} is outside its key validity period")]
    KeyOutsideValidity {
        /// The token's serial.
        serial: String,
    },
    /// Resynchronisation: the codes were not accepted.
    #[error("resynchronisation of token {serial} failed: {reason}")]
    ResyncFailed {
        /// The token's serial.
        serial: String,
        /// Why the codes were refused.
        reason: mfa_oath::Error,
    },
    /// A token's stored parameters are not valid OATH parameters.
    #[error("token {serial} has invalid OATH parameters: {source}")]
    TokenParams {
        /// The token's serial.
        serial: String,
        /// What mfa-oath said.
        source: mfa_oath::Error,
    },
    /// Too many trusted IP ranges.
    #[error("at most {max} trusted IP ranges are allowed")]
    TooManyTrustedRanges {
        /// The limit ([`crate::MAX_TRUSTED_RANGES`]).
        max: usize,
    },
    /// A CIDR range that cannot be parsed.
    #[error("invalid CIDR range {text:?}")]
    Cidr {
        /// The text given.
        text: String,
    },
    /// The user already has an app password with this name.
    #[error("user {user} already has an app password named {name:?}")]
    AppPasswordExists {
        /// The user.
        user: String,
        /// The name.
        name: String,
    },
    /// The user has the most app passwords allowed.
    #[error("user {user} already has {max} app passwords")]
    TooManyAppPasswords {
        /// The user.
        user: String,
        /// The limit.
        max: usize,
    },
    /// No setting has this name (see [`crate::SETTINGS`]).
    #[error("unknown setting {name:?} (see `mfa config show` for the names)")]
    UnknownSetting {
        /// The name given.
        name: String,
    },
    /// An opaque setting (`notify.*`) whose name says it holds a secret
    /// (`notify.smtp.password`): secrets are kept in files, and a setting
    /// names the file (`notify.smtp.password_file`). The value is not
    /// shown.
    #[error(
        "setting {name}: secrets are not stored in settings; keep it in a file and set the setting naming the file (..._file)"
    )]
    SecretSetting {
        /// The name given.
        name: String,
    },
    /// A setting's value cannot be used.
    #[error("setting {name}: {value:?} is not valid; expected {expected}")]
    InvalidSetting {
        /// The setting.
        name: String,
        /// The value given (cut to 64 characters).
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// A text field (user id, serial, ...) is empty or longer than allowed.
    #[error("the {field} must be 1 to {max} bytes long; got {len}")]
    FieldLength {
        /// Field name.
        field: &'static str,
        /// Length given.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The store is not empty, so a backup is not restored into it.
    #[error("restore needs an empty store; this one holds {tokens} tokens and {users} users")]
    RestoreTargetNotEmpty {
        /// Tokens present.
        tokens: u64,
        /// Users present.
        users: u64,
    },
    /// A backup file is malformed.
    #[error("backup line {line}: {problem}")]
    BackupFormat {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: BackupProblem,
    },
    /// A backup file's checksum does not match its content.
    #[error(
        "the backup's MAC does not match its content (file truncated or altered, or not written under this master key); nothing restored"
    )]
    BackupChecksum,
    /// mfa-record refused a value (a user id or server name it does not
    /// accept, an inverted report period) or failed to write a report.
    #[error("record: {0}")]
    Record(#[source] mfa_record::Error),
    /// mfa-lockout refused an event (e.g. unblocking an account that is not
    /// locked).
    #[error("lockout: {0}")]
    Lockout(#[source] mfa_lockout::Error),
    /// mfa-fraud refused an event that does not apply in the user's state
    /// (e.g. unblocking a user who is not blocked).
    #[error("fraud: {0}")]
    Fraud(#[source] mfa_fraud::Error),
    /// Reading or writing a backup stream failed.
    #[error("backup I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The database is busy beyond the configured timeout (SQLite lock held
    /// by another process for too long, or a PostgreSQL serialization
    /// failure that persisted through the retries).
    #[error("the store is busy; try again")]
    Busy,
    /// SQLite: the write was done, but the commit of the group of concurrent
    /// writes it shared a transaction with failed (disk error, or another
    /// member panicked), so nothing of it was kept. Try again.
    #[error("the write was not committed (its group commit failed); try again")]
    CommitFailed,
    /// An error from SQLite.
    #[error("SQLite: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// An error from PostgreSQL. The text adds the server's message and
    /// SQLSTATE (e.g. `pg_hba.conf` refusing a connection without TLS), never
    /// its detail, which may quote row values.
    #[error("PostgreSQL: {}{}", .0, server_message(.0))]
    Postgres(#[source] postgres::Error),
    /// PostgreSQL over TLS: the URL's TLS parameters cannot be used, or the
    /// handshake failed (certificate refused). No user name or password was
    /// sent; the text never holds the password.
    #[error("PostgreSQL TLS: {problem}")]
    Tls {
        /// What is wrong.
        problem: TlsProblem,
    },
}

/// Why a PostgreSQL connection over TLS was not made (see
/// [`crate::SslMode`] and docs/store.md).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsProblem {
    /// `sslmode` is not one of libpq's `disable`, `prefer`, `require`,
    /// `verify-ca`, `verify-full`.
    #[error(
        "unknown sslmode {value:?}; expected disable, prefer, require, verify-ca or verify-full"
    )]
    UnknownSslMode {
        /// The value given (cut to 32 characters).
        value: String,
    },
    /// A mode that verifies the server, but no `sslrootcert` to verify it
    /// against (`verify-full` is also the mode when the URL names none).
    #[error(
        "sslmode={mode} verifies the server and needs sslrootcert=<PEM file of CA certificates> in the URL \
         (verify-full is the default; sslmode=require encrypts without verifying, sslmode=disable does not encrypt)"
    )]
    RootCertRequired {
        /// The mode in force.
        mode: crate::SslMode,
    },
    /// A file named by `sslrootcert`, `sslcert` or `sslkey` cannot be read.
    #[error("cannot read {parameter} {path}: {kind}")]
    Unreadable {
        /// The URL parameter.
        parameter: &'static str,
        /// The path given.
        path: String,
        /// What the operating system said.
        kind: std::io::ErrorKind,
    },
    /// The `sslrootcert` or `sslcert` file holds no PEM `CERTIFICATE`.
    #[error("{parameter} {path} holds no PEM certificate")]
    NoCertificate {
        /// The URL parameter.
        parameter: &'static str,
        /// The path given.
        path: String,
    },
    /// A certificate of the `sslrootcert` or `sslcert` file cannot be parsed
    /// (or, in `sslrootcert`, used as a trust anchor).
    #[error("{parameter} {path}: certificate {index} is not usable")]
    InvalidCertificate {
        /// The URL parameter.
        parameter: &'static str,
        /// The path given.
        path: String,
        /// Which certificate of the file, from 1.
        index: usize,
    },
    /// The `sslkey` file holds no usable private key (PEM PKCS#8, PKCS#1 or
    /// SEC1, not encrypted).
    #[error(
        "sslkey {path} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1, not encrypted)"
    )]
    InvalidKey {
        /// The path given.
        path: String,
    },
    /// The `sslkey` file may be read by other users (libpq's rule: at most
    /// 0600, or 0640 when owned by root).
    #[error("sslkey {path} has mode {mode:03o}, readable by others; make it 0600")]
    KeyPermissions {
        /// The path given.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// `sslcert` without `sslkey` or the other way round.
    #[error("{given} is given without {missing}")]
    ClientCertIncomplete {
        /// The parameter given.
        given: &'static str,
        /// The one missing.
        missing: &'static str,
    },
    /// A libpq TLS parameter this crate does not implement (encrypted
    /// keys, CRLs): refused rather than ignored.
    #[error("the URL parameter {name} is not supported by mfa-store")]
    UnsupportedParameter {
        /// The parameter.
        name: &'static str,
    },
    /// A URL parameter that is not percent-encoded UTF-8.
    #[error("the URL parameter {name} is not valid percent-encoded UTF-8")]
    NotUtf8 {
        /// The parameter.
        name: &'static str,
    },
    /// The URL lists a Unix-socket host, which never uses TLS, next to TCP
    /// hosts, with a mode that requires TLS.
    #[error(
        "sslmode={mode} requires TLS, but the URL also names a Unix-socket host, which never uses TLS"
    )]
    UnixSocketWithTls {
        /// The mode in force.
        mode: crate::SslMode,
    },
    /// The mode requires TLS and the server (or something in between)
    /// answered that it does not speak it; nothing else was sent.
    #[error("{host} does not offer TLS, and the sslmode requires it")]
    NotOffered {
        /// The host name(s) of the URL.
        host: String,
    },
    /// rustls refused the client configuration.
    #[error("TLS configuration: {reason}")]
    Config {
        /// What rustls said.
        reason: rustls::Error,
    },
    /// The TLS handshake failed: the server's certificate was refused
    /// (unknown issuer, wrong name, expired) or the handshake broke off.
    #[error("TLS handshake with {host} failed: {reason}")]
    Handshake {
        /// The host name(s) of the URL.
        host: String,
        /// What rustls said.
        reason: rustls::Error,
    },
}

/// What is wrong with a line of a backup file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackupProblem {
    /// The first line is not a backup header of a known version.
    #[error("not an mfa-store backup header")]
    Header,
    /// A table name this version does not know.
    #[error("unknown table")]
    Table,
    /// A row with the wrong number of fields for its table.
    #[error("wrong number of fields")]
    FieldCount,
    /// A field that is not `N`, `i<int>`, `t<hex>` or `b<hex>`.
    #[error("malformed field")]
    Field,
    /// The file ends without the MAC trailer.
    #[error("missing MAC trailer")]
    Truncated,
    /// A backup of format 1 (before mfa-store 0.2), whose SHA-256 checksum
    /// anyone can recompute: it is not restored. Take a new backup with this
    /// version.
    #[error(
        "backup format 1 is not authenticated (plain SHA-256); take a new backup with this version"
    )]
    Unauthenticated,
    /// The backup's `mfa_keys` table has no row for the master key this
    /// store was opened with.
    #[error("no data key for this master key")]
    NoDataKey,
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Error::Busy
            }
            _ => Error::Sqlite(e),
        }
    }
}

/// `": <message> (SQLSTATE <code>)"` for an error the server reported.
fn server_message(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| format!(": {} (SQLSTATE {})", d.message(), d.code().code()))
        .unwrap_or_default()
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Postgres(e)
    }
}
