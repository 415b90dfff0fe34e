#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod backup;
mod crypto;
mod db;
mod error;
mod model;
mod net;
mod policy;
mod schema;
mod store;

pub use crypto::MasterKey;
pub use db::BackendKind;
pub use error::{BackupProblem, Error};
pub use model::{
    AuditEntry, AuthEvent, AuthMode, AuthResult, Channel, DEFAULT_CODE_TTL, DEFAULT_FRAUD_BLOCK,
    DEFAULT_RETENTION_DAYS, DenialReason, Factor, ImportMode, ImportRejection, ImportReport,
    MAX_TOKENS_PER_USER, MAX_TRUSTED_RANGES, NewToken, RejectedToken, StoreConfig, StoreStats,
    TokenInfo, TokenKind, UsageSummary, UserRecord, VerifyContext, VerifyOutcome,
};
pub use net::Cidr;
pub use policy::LockoutPolicy;
pub use schema::SCHEMA_VERSION;
pub use store::{MAX_SERIAL_LEN, MAX_USER_ID_LEN, Store};
