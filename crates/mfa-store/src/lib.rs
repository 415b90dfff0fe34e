#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod backup;
mod crypto;
mod db;
mod error;
mod model;
mod net;
mod schema;
mod settings;
mod state;
mod store;
mod tls;

// The crates whose types appear in this API, so callers use the same versions.
pub use mfa_fraud;
pub use mfa_import;
pub use mfa_lockout;
pub use mfa_oath;
pub use mfa_record;

pub use crypto::{Credential, MasterKey};
pub use db::BackendKind;
pub use error::{BackupProblem, Error, TlsProblem};
pub use model::{
    AuditEntry, Channel, DEFAULT_CODE_TTL, DEFAULT_RETENTION_DAYS, Durability, ImportMode,
    ImportRejection, ImportReport, MAX_TOKENS_PER_USER, MAX_TRUSTED_RANGES, NewToken,
    RejectedToken, StoreConfig, StoreStats, TokenInfo, TokenKind, UserProfile, VerifyContext,
    VerifyOutcome,
};
pub use net::Cidr;
pub use schema::SCHEMA_VERSION;
pub use settings::{
    MAX_OPAQUE_NAME_LEN, MAX_OPAQUE_VALUE_LEN, OPAQUE_PREFIX, SETTINGS, Setting, setting,
};
pub use store::{
    ApprovedBy, AuthOutcome, AuthRequest, CodeIssue, DEAD_IMPORT_SECS, IMPORT_BATCH,
    MAX_APP_PASSWORDS, MAX_SERIAL_LEN, MAX_USER_ID_LEN, Method, Presented, Store,
};
pub use tls::{SslMode, connect_postgres, redact_url};
