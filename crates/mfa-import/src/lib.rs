#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod crypto;
mod csv_import;
mod error;
mod otpauth;
mod pskc;
mod redact;
mod report;
mod token;
mod writer;
mod xml;

pub use csv_import::{CLOUD_HEADER, CloudCsvReader, MAX_SECRET_CHARS, ServerCsvReader};
pub use error::{Error, LimitKind, Location, RawRow, Rejection};
pub use otpauth::{
    Format, MAX_MIGRATION_URI_LEN, MigrationBatch, OtpauthListReader, detect_format,
    parse_migration_payload, parse_migration_uri,
};
pub use pskc::{
    ChallengeFormat, PinPolicy, Policy, PskcDate, PskcKey, PskcOptions, PskcReader, RawSecret,
    parse_date,
};
pub use report::{
    Accepted, ErrorsCsvOptions, ImportReport, Warning, neutralise_cell, write_errors_csv,
    write_errors_csv_with,
};
pub use token::{ImportedToken, TokenKind};
pub use writer::{Protection, PskcWriter};

/// Safety limits for readers, with safe defaults. Every limit is checked
/// while streaming, before the data it guards is held in memory.
///
/// ```
/// let mut limits = mfa_import::Limits::default();
/// assert_eq!(limits.max_depth, 32);
/// limits.max_document_bytes = 1 << 20;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest input accepted, in bytes (default 1 GiB: about two million
    /// plain KeyPackages).
    pub max_document_bytes: u64,
    /// Deepest element nesting (default 32; RFC 6030 files need about 8).
    pub max_depth: usize,
    /// Most KeyPackages in a PSKC file or data rows in a CSV file
    /// (default 2,000,000).
    pub max_packages: usize,
    /// Longest text value or attribute, in bytes (default 64 KiB).
    pub max_value_bytes: usize,
    /// Most elements in one KeyPackage (default 4,096).
    pub max_package_elements: usize,
    /// Most PBKDF2 iterations a file may ask for (default 10,000,000), so
    /// a hostile file cannot stall the importer.
    pub max_pbkdf2_iterations: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 1 << 30,
            max_depth: 32,
            max_packages: 2_000_000,
            max_value_bytes: 64 * 1024,
            max_package_elements: 4096,
            max_pbkdf2_iterations: 10_000_000,
        }
    }
}
