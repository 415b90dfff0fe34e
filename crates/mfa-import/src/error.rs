//! The one error type of the crate, and where a problem was found.

use std::fmt;

use zeroize::Zeroize;

/// Which configurable limit was exceeded (see [`crate::Limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// The document is larger than [`crate::Limits::max_document_bytes`].
    DocumentBytes,
    /// Elements are nested deeper than [`crate::Limits::max_depth`].
    Depth,
    /// More KeyPackages (or CSV rows) than [`crate::Limits::max_packages`].
    Packages,
    /// A text value or attribute is longer than [`crate::Limits::max_value_bytes`].
    ValueBytes,
    /// One KeyPackage holds more elements than [`crate::Limits::max_package_elements`].
    PackageElements,
    /// PBKDF2 asks for more iterations than [`crate::Limits::max_pbkdf2_iterations`].
    Pbkdf2Iterations,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::DocumentBytes => "document size in bytes",
            LimitKind::Depth => "element nesting depth",
            LimitKind::Packages => "number of key packages or rows",
            LimitKind::ValueBytes => "value length in bytes",
            LimitKind::PackageElements => "number of elements in one key package",
            LimitKind::Pbkdf2Iterations => "PBKDF2 iteration count",
        })
    }
}

/// Everything that can go wrong while reading or writing token files.
///
/// Variants carry data (the element, the value, the limit); where in the
/// file the problem is comes with it in a [`Rejection`]'s [`Location`].
/// No variant ever carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- whole document (fatal: reading stops) -----
    /// Reading the input failed.
    #[error("I/O error while reading: {0:?}")]
    Io(std::io::ErrorKind),
    /// The input is not well-formed XML.
    #[error("not well-formed XML: {detail}")]
    XmlSyntax {
        /// What the XML parser reported.
        detail: String,
    },
    /// A DOCTYPE (and with it any entity declaration) is refused.
    #[error("DOCTYPE and entity declarations are not allowed in PSKC files")]
    DoctypeForbidden,
    /// A reference to an entity other than the five predefined ones.
    #[error("reference to an undeclared entity &{name};")]
    UnknownEntity {
        /// The entity name.
        name: String,
    },
    /// The input ended before the root element was closed.
    #[error("the document is truncated: it ends before </{root}>")]
    Truncated {
        /// The root element that was never closed.
        root: String,
    },
    /// The input holds no root element at all.
    #[error("the document is empty (no root element)")]
    EmptyDocument,
    /// The root element is not `KeyContainer` (or the pre-RFC `SecretContainer`).
    #[error("missing KeyContainer: the root element is <{found}>")]
    WrongRoot {
        /// Local name of the root element found.
        found: String,
    },
    /// The KeyContainer `Version` is not 1.0.
    #[error("unsupported PSKC version {version:?} (only 1.0 is supported)")]
    UnsupportedVersion {
        /// The version attribute.
        version: String,
    },
    /// Something (even whitespace or a blank line) comes before the XML
    /// declaration, which XML requires to be the very first thing in the
    /// document (a UTF-8 byte order mark is allowed). libxml2 (pskctool)
    /// and python-pskc refuse such a file too.
    #[error("{bytes} byte(s) before the XML declaration: the declaration must come first")]
    ContentBeforeDeclaration {
        /// How many bytes precede `<?xml`.
        bytes: u64,
    },
    /// Content after the root element was closed.
    #[error("unexpected content after the root element")]
    TrailingContent,
    /// A configured limit was exceeded.
    #[error("limit exceeded: {kind} is more than {max}")]
    LimitExceeded {
        /// Which limit.
        kind: LimitKind,
        /// Its configured value.
        max: u64,
    },

    // ----- one key package / one row -----
    /// A value is not valid base64.
    #[error("<{element}> is not valid base64")]
    InvalidBase64 {
        /// The element holding the value.
        element: String,
    },
    /// A value is not an integer in any encoding PSKC files use.
    #[error("<{element}> value {value:?} is not an integer")]
    InvalidInteger {
        /// The element or attribute.
        element: String,
        /// The text found (never a secret).
        value: String,
    },
    /// An integer does not fit the field.
    #[error("<{element}> value is out of range")]
    IntegerRange {
        /// The element or attribute.
        element: String,
    },
    /// A boolean attribute is neither true/false nor 1/0.
    #[error("<{element}> value {value:?} is not a boolean")]
    InvalidBoolean {
        /// The element and attribute, as `Element@Attribute`.
        element: String,
        /// The text found.
        value: String,
    },
    /// A date is neither ISO 8601 nor MM/DD/YYYY.
    #[error("<{element}> value {value:?} is not a date")]
    InvalidDate {
        /// The element.
        element: String,
        /// The text found.
        value: String,
    },
    /// A value is encrypted but no key or passphrase was given.
    #[error("the value of <{element}> is encrypted, but no pre-shared key or passphrase was given")]
    NoDecryptionKey {
        /// The element holding the encrypted value.
        element: String,
    },
    /// Encrypted data without any encryption algorithm in the file.
    #[error("no encryption algorithm is specified for <{element}>")]
    MissingEncryptionAlgorithm {
        /// The element holding the encrypted value.
        element: String,
    },
    /// An encryption algorithm this crate does not implement.
    #[error("unsupported encryption algorithm {algorithm:?}")]
    UnsupportedEncryption {
        /// The algorithm URI.
        algorithm: String,
    },
    /// The key given has the wrong length for the algorithm.
    #[error("the decryption key is {len} bytes long; {algorithm} needs {expected}")]
    KeyLength {
        /// Canonical algorithm name.
        algorithm: &'static str,
        /// Length given.
        len: usize,
        /// Length(s) accepted.
        expected: &'static str,
    },
    /// The ValueMAC does not match: the key or passphrase is wrong, or the
    /// file was modified. The secret is not used.
    #[error(
        "MAC mismatch: wrong pre-shared key or passphrase? (or the file was modified) at <{element}>"
    )]
    MacMismatch {
        /// The element whose MAC failed.
        element: String,
    },
    /// Decryption failed (bad padding or failed key-wrap integrity check),
    /// which almost always means a wrong key or passphrase.
    #[error("decryption of <{element}> failed: wrong pre-shared key or passphrase?")]
    DecryptionFailed {
        /// The element.
        element: String,
    },
    /// A CBC-encrypted value without a ValueMAC: neither its integrity nor
    /// the key can be checked, so a wrong key could yield a wrong value.
    /// Refused unless [`crate::PskcOptions::allow_unauthenticated`].
    #[error(
        "<{element}> is CBC-encrypted without a ValueMAC, so the key and the value cannot be verified"
    )]
    UnauthenticatedValue {
        /// The element.
        element: String,
    },
    /// A ValueMAC is present but the file names no MAC algorithm.
    #[error("<{element}> has a ValueMAC but the file has no MACMethod")]
    MissingMacAlgorithm {
        /// The element.
        element: String,
    },
    /// An unknown or unsupported MAC algorithm.
    #[error("unsupported MAC algorithm {algorithm:?}")]
    UnsupportedMac {
        /// The algorithm URI.
        algorithm: String,
    },
    /// A passphrase was given but the file has no (supported) key derivation.
    #[error("unsupported key derivation {algorithm:?}")]
    UnsupportedKeyDerivation {
        /// The algorithm URI, empty if there is none.
        algorithm: String,
    },
    /// PBKDF2 parameters are incomplete (salt, iteration count or key length missing).
    #[error("incomplete PBKDF2 parameters: {missing} missing")]
    IncompletePbkdf2 {
        /// The missing parameter.
        missing: &'static str,
    },
    /// An unsupported PBKDF2 pseudorandom function.
    #[error("unsupported PBKDF2 pseudorandom function {prf:?}")]
    UnsupportedPrf {
        /// The PRF as written.
        prf: String,
    },
    /// The key uses an algorithm that is not HOTP or TOTP (OCRA, PIN, vendor).
    #[error("unsupported algorithm {algorithm:?}: only HOTP and TOTP tokens can be imported")]
    UnsupportedAlgorithm {
        /// The algorithm URI or name.
        algorithm: String,
    },
    /// The key names no algorithm.
    #[error("the key has no Algorithm, and neither a TimeInterval nor a Counter says which")]
    MissingAlgorithm,
    /// The key holds no secret.
    #[error("the key has no secret")]
    MissingSecret,
    /// The secret is rejected by the OATH rules (length, base32).
    #[error("invalid secret: {0}")]
    Secret(mfa_oath::Error),
    /// A response length outside 6..=9.
    #[error("response length {length} is not supported (6 to 9 digits)")]
    UnsupportedDigits {
        /// The length given.
        length: u64,
    },
    /// A response encoding other than DECIMAL.
    #[error("response encoding {encoding:?} is not supported (only DECIMAL)")]
    UnsupportedResponseEncoding {
        /// The encoding given.
        encoding: String,
    },
    /// An unsupported hash in the algorithm Suite.
    #[error("unsupported hash {suite:?} in the algorithm suite")]
    UnsupportedSuite {
        /// The suite text.
        suite: String,
    },
    /// A TOTP time interval that is not allowed.
    #[error("time interval {value:?} is not allowed (expected {allowed})")]
    InvalidInterval {
        /// The text found.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The key's policy does not allow OTP use.
    #[error("the key policy does not allow OTP use (KeyUsage {usage:?})")]
    UsageNotOtp {
        /// The KeyUsage values.
        usage: Vec<String>,
    },
    /// A serial number seen before in the same file.
    #[error("duplicate serial number {serial:?} (first seen at {first})")]
    DuplicateSerial {
        /// The serial number.
        serial: String,
        /// Where it was first seen.
        first: Box<Location>,
    },

    // ----- otpauth URI lists -----
    /// A line of an otpauth list is neither an `otpauth://` nor an
    /// `otpauth-migration://` URI (its text is never shown: it could be a
    /// secret).
    #[error("the line is not an otpauth:// or otpauth-migration:// URI")]
    NotAnOtpauthUri,
    /// An `otpauth://` URI that the OATH rules refuse.
    #[error("invalid otpauth URI: {0}")]
    InvalidUri(mfa_oath::UriError),
    /// An `otpauth-migration://` URI whose payload cannot be read.
    #[error("invalid otpauth-migration payload: {reason}")]
    InvalidMigration {
        /// What is wrong.
        reason: &'static str,
    },
    /// A migration entry with an enum value this crate cannot use
    /// (unknown, MD5, or an unspecified type).
    #[error("unsupported {field} value {value} in the otpauth-migration entry")]
    MigrationValue {
        /// `algorithm`, `digits` or `type`.
        field: &'static str,
        /// The number found.
        value: i32,
    },

    // ----- CSV -----
    /// The CSV parser failed (e.g. bad quoting or invalid UTF-8).
    #[error("malformed CSV: {detail}")]
    Csv {
        /// What the CSV parser reported.
        detail: String,
    },
    /// The cloud format requires a header row.
    #[error("the header row is missing; expected {expected}")]
    MissingHeader {
        /// The header expected.
        expected: &'static str,
    },
    /// A required column is absent from the header.
    #[error("the header has no {column:?} column")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// A column appears twice in the header.
    #[error("the header has the column {column:?} twice")]
    DuplicateColumn {
        /// The column name.
        column: &'static str,
    },
    /// A row has the wrong number of fields.
    #[error("the row has {found} fields; expected {expected}")]
    FieldCount {
        /// Expected count.
        expected: usize,
        /// Found count.
        found: usize,
    },
    /// A required field is empty.
    #[error("the {column} field is empty")]
    EmptyField {
        /// The column.
        column: &'static str,
    },
    /// A base32 secret longer than 128 characters.
    #[error("the secret key has {chars} characters; at most 128 are allowed")]
    SecretTooLong {
        /// Its length.
        chars: usize,
    },

    // ----- writing -----
    /// Writing failed.
    #[error("I/O error while writing: {0:?}")]
    Write(std::io::ErrorKind),
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// Writer configuration rejected (e.g. a key of the wrong length).
    #[error("invalid writer configuration: {reason}")]
    WriterConfig {
        /// What is wrong.
        reason: &'static str,
    },
}

impl Error {
    /// True for errors that end reading of the whole document (malformed
    /// XML or CSV, truncation, limits, wrong root or version, content before
    /// the XML declaration, a broken CSV header); false for problems of
    /// one key package or one row, after which reading continues (the
    /// PBKDF2 iteration limit is reported per key).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::Io(_)
                | Error::XmlSyntax { .. }
                | Error::DoctypeForbidden
                | Error::UnknownEntity { .. }
                | Error::Truncated { .. }
                | Error::EmptyDocument
                | Error::WrongRoot { .. }
                | Error::UnsupportedVersion { .. }
                | Error::TrailingContent
                | Error::ContentBeforeDeclaration { .. }
                | Error::Csv { .. }
                | Error::MissingHeader { .. }
                | Error::MissingColumn { .. }
                | Error::DuplicateColumn { .. }
        ) || matches!(self, Error::LimitExceeded { kind, .. } if *kind != LimitKind::Pbkdf2Iterations)
    }
}

impl From<mfa_oath::Error> for Error {
    fn from(e: mfa_oath::Error) -> Self {
        Error::Secret(e)
    }
}

/// Where in an input a token or a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// The document as a whole (line of the problem, 1-based; 0 if unknown).
    Document {
        /// 1-based line number.
        line: u64,
    },
    /// One key of a PSKC file.
    KeyPackage {
        /// 1-based index of the KeyPackage (or pre-RFC `Device`) in the file.
        index: usize,
        /// 1-based line of the KeyPackage's start tag.
        line: u64,
        /// DeviceInfo/SerialNo, if present.
        serial: Option<Box<str>>,
        /// The Key's Id, if present.
        key_id: Option<Box<str>>,
    },
    /// A place in the document as a whole, with its byte offset (fatal
    /// document errors: malformed XML, truncation, limits).
    Position {
        /// 1-based line number.
        line: u64,
        /// 0-based byte offset from the start of the input.
        offset: u64,
    },
    /// One account of an `otpauth-migration://` URI in an otpauth list.
    Entry {
        /// 1-based line of the URI.
        line: u64,
        /// 1-based index of the account in the URI's payload.
        entry: usize,
        /// The account's label (`issuer:account`), when it could be read.
        serial: Option<Box<str>>,
    },
    /// One data row of a CSV file (or one line of an otpauth list).
    Row {
        /// 1-based line number (the header is line 1 when there is one).
        line: u64,
        /// The serial number field, if the row has one.
        serial: Option<Box<str>>,
    },
}

impl Location {
    /// The byte offset, for [`Location::Position`].
    pub fn offset(&self) -> Option<u64> {
        match self {
            Location::Position { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// The 1-based line number.
    pub fn line(&self) -> u64 {
        match self {
            Location::Document { line }
            | Location::Position { line, .. }
            | Location::KeyPackage { line, .. }
            | Location::Entry { line, .. }
            | Location::Row { line, .. } => *line,
        }
    }

    /// The serial number, if known.
    pub fn serial(&self) -> Option<&str> {
        match self {
            Location::Document { .. } | Location::Position { .. } => None,
            Location::KeyPackage { serial, .. }
            | Location::Entry { serial, .. }
            | Location::Row { serial, .. } => serial.as_deref(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Document { line } => write!(f, "line {line}"),
            Location::Position { line, offset } => write!(f, "line {line}, byte offset {offset}"),
            Location::KeyPackage {
                index,
                line,
                serial,
                key_id,
            } => {
                write!(f, "KeyPackage #{index} (line {line}")?;
                if let Some(s) = serial {
                    write!(f, ", serial {s:?}")?;
                }
                if let Some(k) = key_id {
                    write!(f, ", key {k:?}")?;
                }
                f.write_str(")")
            }
            Location::Entry {
                line,
                entry,
                serial,
            } => {
                write!(f, "line {line}, migration entry {entry}")?;
                if let Some(s) = serial {
                    write!(f, " ({s:?})")?;
                }
                Ok(())
            }
            Location::Row { line, serial } => {
                write!(f, "line {line}")?;
                if let Some(s) = serial {
                    write!(f, " (serial {s:?})")?;
                }
                Ok(())
            }
        }
    }
}

/// The fields of a CSV row exactly as uploaded, kept so that rejected rows
/// can be written to an errors CSV. They may hold a secret, so they are
/// wiped on drop and `Debug` hides them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawRow {
    pub(crate) fields: Vec<String>,
    /// Which field is the secret column of the format, if any.
    pub(crate) secret: Option<usize>,
}

impl RawRow {
    /// The fields, as uploaded (may contain a secret: handle with care).
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The index of the format's secret column (server CSV: 1; cloud CSV:
    /// the `secret key` column), so that a writer can leave it out.
    pub fn secret_column(&self) -> Option<usize> {
        self.secret
    }
}

impl fmt::Debug for RawRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawRow([{} fields REDACTED])", self.fields.len())
    }
}

impl Drop for RawRow {
    fn drop(&mut self) {
        for s in &mut self.fields {
            s.zeroize();
        }
    }
}

/// A token (or the whole input) that was not accepted: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {error}")]
pub struct Rejection {
    /// Where the problem is.
    pub location: Location,
    /// What the problem is.
    pub error: Error,
    /// For CSV input, the row as uploaded.
    pub row: Option<Box<RawRow>>,
}

impl Rejection {
    pub(crate) fn new(location: Location, error: Error) -> Rejection {
        Rejection {
            location,
            error,
            row: None,
        }
    }

    /// True if reading stopped here (see [`Error::is_fatal`]).
    pub fn is_fatal(&self) -> bool {
        self.error.is_fatal()
    }
}

#[cfg(test)]
mod tests {
    /// Results carrying a Rejection stay under clippy's `result_large_err`
    /// threshold (128 bytes), so callers need no `allow`.
    #[test]
    fn rejection_is_small() {
        assert!(
            size_of::<super::Rejection>() < 128,
            "{}",
            size_of::<super::Rejection>()
        );
    }
}
