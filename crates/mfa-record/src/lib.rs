#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod denial;
mod error;
mod event;
mod export;
mod policy;
mod record;
#[cfg(feature = "serde")]
mod serde_time;
mod summary;
mod text;

pub use denial::{DenialKind, DenialReason};
pub use error::Error;
pub use event::{AuthAttempt, AuthEvent, AuthMode, AuthResult};
pub use export::{
    CsvLimits, LogCsvWriter, LogRow, neutralise_cell, read_log_csv, unneutralise_cell, utc,
    write_log_csv,
};
pub use policy::{DeviceTokenExport, Field, FieldPolicy, MethodPolicy, PhoneExport};
pub use record::{
    AppPassword, AppPasswordVerifier, MAX_APP_PASSWORDS, MAX_DEVICE_TOKENS, MAX_OATH_TOKENS,
    MAX_PHONES, MfaStatus, OathToken, OathTokenKind, PhoneKind, RegisteredPhone,
    RegistrationReason, RegistrationStatus, UserDirectory, UserRecord,
};
pub use summary::{ModeCounts, Period, UsageSummary};
pub use text::{
    AppPasswordName, DeviceToken, Email, PersonName, PhoneNumber, ServerName, TokenSerial, UserId,
};
