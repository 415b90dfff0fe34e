//! The one error type of this crate.

use std::io;

use crate::{AuthMode, Field, TokenSerial, UserId};

/// Everything that can go wrong in `mfa-record`.
///
/// Variants carry the data that explains the problem (which field, which
/// token, which user, which CSV line) so callers can match on them and
/// translate them; the `Display` text is meant for an administrator.
///
/// `Error` is not `Clone` or `PartialEq` because [`Error::Io`] carries the
/// writer's or reader's [`io::Error`]; match with `matches!`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required text field is empty.
    #[error("the {field} is empty")]
    Empty {
        /// The field.
        field: Field,
    },
    /// A text field is longer than its limit (counted in characters).
    #[error("the {field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: Field,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field contains a character it may not contain (control characters
    /// anywhere; for phone numbers anything but digits, a leading `+` and the
    /// separators ` -.()`; for device tokens anything but printable ASCII).
    #[error("the {field} contains the illegal character {ch:?} at position {position}")]
    InvalidCharacter {
        /// The field.
        field: Field,
        /// The offending character.
        ch: char,
        /// Its 1-based position, counted in characters.
        position: usize,
    },
    /// An e-mail address without exactly one `@` between a non-empty local
    /// part and a non-empty domain.
    #[error("the e-mail address is not of the form local@domain")]
    EmailFormat,
    /// A phone number with too few or too many digits.
    #[error("the phone number has {digits} digits; {min} to {max} are allowed")]
    PhoneDigits {
        /// How many digits were given.
        digits: usize,
        /// The least allowed.
        min: usize,
        /// The most allowed (E.164: 15).
        max: usize,
    },
    /// The user already has the maximum number of OATH tokens (hardware
    /// tokens and authenticator apps together).
    #[error("user {user} already has {max} OATH tokens, the most a user may have")]
    TooManyOathTokens {
        /// The user.
        user: UserId,
        /// The limit ([`crate::MAX_OATH_TOKENS`]).
        max: usize,
    },
    /// The token is assigned to another user; a token belongs to one user only.
    #[error("token {serial} is already assigned to user {owner}")]
    TokenAssignedToOtherUser {
        /// The token.
        serial: TokenSerial,
        /// Its current owner.
        owner: UserId,
    },
    /// The token is already assigned to this user.
    #[error("token {serial} is already assigned to this user")]
    TokenAlreadyAssigned {
        /// The token.
        serial: TokenSerial,
    },
    /// No token with this serial number is assigned (to this user).
    #[error("unknown token {serial}")]
    UnknownToken {
        /// The token.
        serial: TokenSerial,
    },
    /// No user with this ID exists.
    #[error("unknown user {user}")]
    UnknownUser {
        /// The user.
        user: UserId,
    },
    /// A user with this ID already exists.
    #[error("user {user} already exists")]
    DuplicateUser {
        /// The user.
        user: UserId,
    },
    /// A list of the record (phones, device tokens, app passwords) is full.
    #[error("the user already has {max} {what}, the most allowed")]
    LimitReached {
        /// Which list.
        what: Field,
        /// Its limit.
        max: usize,
    },
    /// The value is already in the user's list.
    #[error("this {what} is already registered for the user")]
    AlreadyPresent {
        /// Which list.
        what: Field,
    },
    /// The value is not in the user's list.
    #[error("this {what} is not registered for the user")]
    NotPresent {
        /// Which list.
        what: Field,
    },
    /// The method is disabled by the administrator's method policy.
    #[error("the method {mode} is disabled by policy")]
    MethodDisabled {
        /// The method.
        mode: AuthMode,
    },
    /// The user has nothing registered that this method needs (a phone for
    /// calls and SMS, a device token for app notifications, an activated
    /// OATH token for codes).
    #[error("the user has not registered what the method {mode} needs")]
    MethodNotRegistered {
        /// The method.
        mode: AuthMode,
    },
    /// A field was given for an authentication mode that does not use it (a
    /// phone number for an OATH code, a device token for a phone call).
    #[error("the {field} does not apply to the authentication mode {mode}")]
    FieldNotApplicable {
        /// The field.
        field: Field,
        /// The event's mode.
        mode: AuthMode,
    },
    /// Reading or writing CSV failed in the underlying reader or writer.
    #[error("I/O error: {0}")]
    Io(#[source] io::Error),
    /// A CSV header names a column twice.
    #[error("the CSV header names the {column} column twice")]
    DuplicateColumn {
        /// The column.
        column: Field,
    },
    /// A CSV header lacks a required column.
    #[error("the CSV header lacks the required {column} column")]
    MissingColumn {
        /// The column.
        column: Field,
    },
    /// A CSV header names a column this crate does not know.
    #[error("the CSV header has an unknown column {name:?} (column {index})")]
    UnknownColumn {
        /// The header cell, as found, cut to [`Error::MAX_QUOTED_CHARS`] characters.
        name: String,
        /// Its 1-based position.
        index: usize,
    },
    /// A CSV line does not have as many cells as the header.
    #[error("line {line}: {found} cells where the header has {expected}")]
    CsvCellCount {
        /// 1-based line number.
        line: u64,
        /// Cells in the header.
        expected: usize,
        /// Cells on this line.
        found: usize,
    },
    /// A CSV line is not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    CsvUtf8 {
        /// 1-based line number.
        line: u64,
    },
    /// A CSV cell holds a value that is not valid for its column.
    #[error("line {line}, column {column}: {problem}")]
    CsvCell {
        /// 1-based line number.
        line: u64,
        /// The column.
        column: Field,
        /// What is wrong with the value.
        problem: Box<Error>,
    },
    /// A CSV cell that must hold a known keyword (mode, result, reason) or a
    /// number holds something else.
    #[error("the value {value:?} is not valid here")]
    InvalidValue {
        /// The value found (already un-neutralised), cut to its first
        /// [`Error::MAX_QUOTED_CHARS`] characters.
        value: String,
    },
    /// A denial without a reason, a success with one, or a reason detail
    /// that does not fit the reason.
    #[error("the result, reason and reason detail do not fit together")]
    InconsistentResult,
    /// The CSV input is larger than the reader's limit.
    #[error("the CSV input is larger than the limit of {max_bytes} bytes")]
    InputTooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// The CSV input has more rows than the reader's limit.
    #[error("the CSV input has more than {max_rows} rows")]
    TooManyRows {
        /// The limit.
        max_rows: usize,
    },
    /// The period of a report ends before it starts.
    #[error("the report period ends before it starts")]
    EmptyPeriod,
}

impl Error {
    /// How much of an invalid value an error quotes, in characters.
    pub const MAX_QUOTED_CHARS: usize = 64;

    pub(crate) fn invalid_value(value: &str) -> Error {
        Error::InvalidValue {
            value: value.chars().take(Self::MAX_QUOTED_CHARS).collect(),
        }
    }

    pub(crate) fn cell(line: u64, column: Field, problem: Error) -> Error {
        Error::CsvCell {
            line,
            column,
            problem: Box::new(problem),
        }
    }
}
