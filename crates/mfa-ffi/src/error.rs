//! `mfa_result`: the outcome of every fallible function, and its messages.
//!
//! Numbers are part of the ABI: a code, once published, keeps its meaning
//! forever and is never reused, even if the error it names goes away (it is
//! then listed as reserved). Codes are grouped in ranges of 100 by area so
//! that new ones can be added without renumbering.

use core::ffi::{CStr, c_char};

/// The outcome of a fallible mfa-kit function. `MFA_RESULT_OK` (0) is
/// success; anything else is an error, described by `mfa_result_message()`.
///
/// The numbers are stable and are never reused. Ranges: 0–99 general, 100–199
/// secrets and token parameters, 200–299 verification outcomes, 300–399
/// otpauth URIs, 400–499 token import, 500–599 lockout, 600–699 fraud
/// reports, 700–799 the store, 800–899 the sign-in entry point
/// (`mfa_store_authenticate`) and store administration.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum mfa_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// The caller's output buffer is too small; `*out_len` holds the length
    /// needed (without the terminating NUL).
    BufferTooSmall = 2,
    /// A text argument is not valid UTF-8.
    InvalidUtf8 = 3,
    /// A bug inside the library panicked; the panic was caught at the
    /// boundary. Please report it.
    Panic = 4,
    /// An argument is out of range or not one of the documented constants.
    InvalidParameter = 5,
    /// An input/output error (file system, database connection).
    Io = 6,
    /// An error this version of the C ABI does not know how to name (a newer
    /// Rust library added it); treat as a generic failure.
    Unknown = 7,
    /// The system random number generator failed.
    Rng = 8,
    /// The requested item is absent (for example an otpauth URI without an
    /// issuer).
    NotFound = 9,
    /// The token is of the other kind (an HOTP token asked for as TOTP, or the
    /// reverse).
    WrongTokenKind = 10,
    /// A flag field (`has_...`) of a caller-stored state struct
    /// (`mfa_hotp_state`, `mfa_totp_state`, `mfa_lockout_state`) is neither
    /// 0 nor 1.
    InvalidFlag = 11,

    /// A base32 secret contains a character outside A-Z, a-z, 2-7.
    InvalidBase32Char = 100,
    /// A base32 secret has a number of symbols that cannot encode whole bytes.
    InvalidBase32Length = 101,
    /// A hex secret contains a character that is not a hex digit.
    InvalidHexChar = 102,
    /// A hex secret has an odd number of digits.
    InvalidHexLength = 103,
    /// The secret is empty.
    SecretEmpty = 104,
    /// The secret is shorter than 80 bits.
    SecretTooShort = 105,
    /// The secret is longer than 1024 bytes.
    SecretTooLong = 106,
    /// A digit count outside 6..9.
    InvalidDigits = 107,
    /// A TOTP period of zero seconds.
    InvalidPeriod = 108,
    /// A verification or resynchronisation window larger than allowed
    /// (1000 steps for verification, 100000 for resynchronisation).
    WindowTooLarge = 109,
    /// An algorithm that is not SHA1, SHA256 or SHA512.
    UnknownAlgorithm = 110,
    /// The time given is before the token's T0.
    TimeBeforeT0 = 111,
    /// The counter or time step would overflow.
    CounterOverflow = 112,
    /// The operation is not supported for this algorithm.
    UnsupportedAlgorithm = 113,
    /// Resynchronisation needs 2 codes (TOTP) or 2 to 3 codes (HOTP).
    ResyncCodeCount = 114,
    /// The codes are not consecutive codes of this token inside the
    /// resynchronisation window.
    ResyncFailed = 115,

    /// The code is malformed: not exactly the token's number of ASCII digits.
    CodeMalformed = 200,
    /// The code does not match any step or counter in the window.
    CodeNotInWindow = 201,
    /// The code was already used (replay): its step or counter, or a later
    /// one, was already accepted.
    CodeReplayed = 202,
    /// The code has expired (a one-time passcode held past its lifetime).
    CodeExpired = 203,
    /// The authentication request is not for an activated account: the
    /// token was never activated or was removed.
    NotActivated = 204,
    /// The account is locked out after repeated denials.
    Locked = 205,
    /// The user is blocked by a fraud report.
    BlockedByFraud = 206,
    /// No token with this serial number or id is known.
    UnknownToken = 207,
    /// No user with this name is known.
    UnknownUser = 208,

    /// The URI does not start with otpauth://.
    UriScheme = 300,
    /// The URI type is not totp or hotp.
    UriType = 301,
    /// The URI has no label (account name).
    UriMissingLabel = 302,
    /// A required URI parameter (secret, counter) is missing.
    UriMissingParameter = 303,
    /// A URI parameter occurs more than once.
    UriDuplicateParameter = 304,
    /// A URI parameter has an invalid value (or the URI is too long).
    UriInvalidParameter = 305,
    /// Percent-encoding in the URI does not decode to UTF-8.
    UriEncoding = 306,
    /// The issuer parameter differs from the label's issuer prefix.
    UriIssuerMismatch = 307,
    /// The secret parameter of the URI is not a valid base32 secret.
    UriInvalidSecret = 308,
    /// The URI is for the other kind of token (an HOTP URI asked for a TOTP
    /// token, or the reverse).
    UriWrongKind = 309,

    /// The token file is malformed: not well-formed XML, no KeyContainer, content
    /// after the root, a CSV syntax error, a row with the wrong number of fields.
    ImportMalformedFile = 400,
    /// Decryption failed or the ValueMAC does not match: wrong pre-shared key or
    /// passphrase (or the file was modified).
    ImportWrongPassphrase = 401,
    /// A value is encrypted but no pre-shared key or passphrase was given.
    ImportKeyRequired = 402,
    /// A safety limit was exceeded (document size, nesting depth, number of
    /// packages or rows, value length, PBKDF2 iterations).
    ImportLimitExceeded = 403,
    /// The PSKC file has a DOCTYPE or entity declaration (refused for safety).
    ImportForbiddenDoctype = 404,
    /// The document ends before its root element is closed.
    ImportTruncated = 405,
    /// The file uses something this importer does not support (algorithm,
    /// encryption, MAC, key derivation, response format, PSKC version, key usage).
    ImportUnsupported = 406,
    /// A value in the file is invalid (base64, integer, date, boolean, time
    /// interval) or a required one (algorithm, secret, field) is missing.
    ImportInvalidValue = 407,
    /// The serial number was already seen earlier in the same file.
    ImportDuplicateSerial = 408,
    /// The CSV header row is missing or has a missing or duplicated column.
    ImportBadHeader = 409,
    /// The pre-shared key has the wrong length for the file's encryption algorithm.
    ImportKeyLength = 410,

    /// The account is locked until an administrator unblocks it (no automatic
    /// unblock, or the hard cap on consecutive denials was reached).
    LockedUntilAdmin = 500,
    /// An administrator unblock was asked for, but the account is not locked.
    NotLocked = 501,
    /// A lockout policy setting is out of range (threshold 0, reset window 0,
    /// escalation factor or cap, hard cap above 100).
    LockoutInvalidPolicy = 502,
    /// A stored lockout state is inconsistent (it cannot come from this library).
    LockoutInvalidState = 503,
    /// An administrator action needs a reason comment, and it is empty.
    ReasonEmpty = 504,
    /// The administrator's reason comment is longer than 1024 bytes.
    ReasonTooLong = 505,
    /// The administrator's reason comment contains a control character.
    ReasonControlChar = 506,
    /// The user is at high risk after reporting suspicious activity, until the
    /// risk is remediated.
    HighRisk = 600,
    /// Fraud reporting is off (neither fraud alert nor suspicious-activity
    /// reporting is on).
    FraudReportingDisabled = 601,
    /// A block confirmation arrived but auto-block is off.
    FraudUnexpectedConfirmation = 602,
    /// The user is already blocked.
    AlreadyBlocked = 603,
    /// The user is not blocked.
    NotBlocked = 604,
    /// The block has not expired yet.
    BlockNotExpired = 605,
    /// The user is not at risk: nothing to remediate.
    NoRisk = 606,
    /// A fraud setting is invalid (block period 0, reporting code not 1 to 8
    /// digits, bad notification recipient).
    FraudInvalidConfig = 607,
    /// Keypad input contains something other than 0-9, * and #.
    KeypadInvalidKey = 608,
    /// Keypad input is longer than 32 keys.
    KeypadTooLong = 609,
    /// Keypad input is neither an approval (#) nor the fraud code.
    KeypadUnrecognized = 610,
    /// The user is blocked for MFA by an administrator.
    BlockedByAdmin = 611,
    /// The user entered the fraud code: the sign-in is denied.
    FraudCodeEntered = 612,
    /// The token's stored configuration cannot be used.
    TokenMisconfigured = 700,
    /// Wrong PIN.
    WrongPin = 701,
    /// The user declined the request.
    Declined = 702,
    /// No response from the user.
    NoResponse = 703,
    /// The hard cap of consecutive failures was reached; an administrator must
    /// unblock.
    FailureCapReached = 704,
    /// The method is disabled; the user must register again.
    MethodDisabled = 705,
    /// The user has not registered for MFA.
    RegistrationRequired = 706,
    /// The store URL is not `sqlite:<path>` or `postgres://...`.
    StoreUrl = 707,
    /// The SQLite file is not an mfa-store database or is corrupt.
    StoreNotADatabase = 708,
    /// The database was written by a newer version of mfa-store.
    StoreSchemaTooNew = 709,
    /// The store holds a value this library cannot read (corrupt).
    StoreCorrupt = 710,
    /// The master key does not match the one the store's secrets are sealed with.
    WrongMasterKey = 711,
    /// A token's sealed secret does not authenticate (tampered, or sealed with
    /// another key).
    StoreUnseal = 712,
    /// A master key must be 32 bytes.
    MasterKeyLength = 713,
    /// The token is already assigned to another user.
    TokenAssigned = 714,
    /// The token is not assigned to a user.
    TokenNotAssigned = 715,
    /// The user already has the most OATH tokens allowed (5).
    TooManyTokens = 716,
    /// An all-or-nothing import was refused because some tokens cannot be
    /// imported; nothing was imported.
    ImportRefused = 717,
    /// A user id, serial number or name is empty or too long.
    FieldLength = 718,
    /// The store is busy; try again.
    StoreBusy = 719,
    /// The database reported an error (SQLite or PostgreSQL).
    Database = 720,

    /// Not an error: nothing was presented and a second factor is needed;
    /// the `mfa_auth_outcome` says what the user can use.
    SecondFactorNeeded = 800,
    /// The user already has an app password with this name.
    AppPasswordExists = 801,
    /// The user already has the most app passwords allowed (40).
    TooManyAppPasswords = 802,
    /// No setting has this name.
    UnknownSetting = 803,
    /// A setting's value cannot be used, or a line of a settings text is not
    /// `name=value`; nothing was stored.
    InvalidSetting = 804,
    /// The store already has the most trusted IP ranges allowed.
    TooManyTrustedRanges = 805,
    /// A backup is restored only into an empty store.
    RestoreTargetNotEmpty = 806,
    /// The backup file is malformed or truncated.
    BackupFormat = 807,
    /// The backup's integrity check does not match its content (altered or
    /// truncated); nothing was restored.
    BackupChecksum = 808,
    /// The file already exists; it is never overwritten.
    FileExists = 809,
    /// A token row was changed in the database without the store's key; it
    /// is never used (the attempt is logged and audited).
    TokenTampered = 810,
    /// The token's key is outside its validity period (PSKC StartDate /
    /// ExpiryDate, RFC 6030 §5): not yet valid or expired. It neither
    /// activates nor signs anyone in.
    KeyOutsideValidity = 811,
}

impl mfa_result {
    /// Every code, in numeric order (used by tests and documentation).
    pub fn all() -> &'static [mfa_result] {
        // Keep in sync with the enum (a test checks that numbers and
        // messages are distinct and round-trip).
        const ALL: &[mfa_result] = &[
            mfa_result::Ok,
            mfa_result::NullParameter,
            mfa_result::BufferTooSmall,
            mfa_result::InvalidUtf8,
            mfa_result::Panic,
            mfa_result::InvalidParameter,
            mfa_result::Io,
            mfa_result::Unknown,
            mfa_result::Rng,
            mfa_result::NotFound,
            mfa_result::WrongTokenKind,
            mfa_result::InvalidFlag,
            mfa_result::InvalidBase32Char,
            mfa_result::InvalidBase32Length,
            mfa_result::InvalidHexChar,
            mfa_result::InvalidHexLength,
            mfa_result::SecretEmpty,
            mfa_result::SecretTooShort,
            mfa_result::SecretTooLong,
            mfa_result::InvalidDigits,
            mfa_result::InvalidPeriod,
            mfa_result::WindowTooLarge,
            mfa_result::UnknownAlgorithm,
            mfa_result::TimeBeforeT0,
            mfa_result::CounterOverflow,
            mfa_result::UnsupportedAlgorithm,
            mfa_result::ResyncCodeCount,
            mfa_result::ResyncFailed,
            mfa_result::CodeMalformed,
            mfa_result::CodeNotInWindow,
            mfa_result::CodeReplayed,
            mfa_result::CodeExpired,
            mfa_result::NotActivated,
            mfa_result::Locked,
            mfa_result::BlockedByFraud,
            mfa_result::UnknownToken,
            mfa_result::UnknownUser,
            mfa_result::UriScheme,
            mfa_result::UriType,
            mfa_result::UriMissingLabel,
            mfa_result::UriMissingParameter,
            mfa_result::UriDuplicateParameter,
            mfa_result::UriInvalidParameter,
            mfa_result::UriEncoding,
            mfa_result::UriIssuerMismatch,
            mfa_result::UriInvalidSecret,
            mfa_result::UriWrongKind,
            mfa_result::ImportMalformedFile,
            mfa_result::ImportWrongPassphrase,
            mfa_result::ImportKeyRequired,
            mfa_result::ImportLimitExceeded,
            mfa_result::ImportForbiddenDoctype,
            mfa_result::ImportTruncated,
            mfa_result::ImportUnsupported,
            mfa_result::ImportInvalidValue,
            mfa_result::ImportDuplicateSerial,
            mfa_result::ImportBadHeader,
            mfa_result::ImportKeyLength,
            mfa_result::BlockedByAdmin,
            mfa_result::FraudCodeEntered,
            mfa_result::TokenMisconfigured,
            mfa_result::WrongPin,
            mfa_result::Declined,
            mfa_result::NoResponse,
            mfa_result::FailureCapReached,
            mfa_result::MethodDisabled,
            mfa_result::RegistrationRequired,
            mfa_result::StoreUrl,
            mfa_result::StoreNotADatabase,
            mfa_result::StoreSchemaTooNew,
            mfa_result::StoreCorrupt,
            mfa_result::WrongMasterKey,
            mfa_result::StoreUnseal,
            mfa_result::MasterKeyLength,
            mfa_result::TokenAssigned,
            mfa_result::TokenNotAssigned,
            mfa_result::TooManyTokens,
            mfa_result::ImportRefused,
            mfa_result::FieldLength,
            mfa_result::StoreBusy,
            mfa_result::Database,
            mfa_result::LockedUntilAdmin,
            mfa_result::NotLocked,
            mfa_result::LockoutInvalidPolicy,
            mfa_result::LockoutInvalidState,
            mfa_result::ReasonEmpty,
            mfa_result::ReasonTooLong,
            mfa_result::ReasonControlChar,
            mfa_result::HighRisk,
            mfa_result::FraudReportingDisabled,
            mfa_result::FraudUnexpectedConfirmation,
            mfa_result::AlreadyBlocked,
            mfa_result::NotBlocked,
            mfa_result::BlockNotExpired,
            mfa_result::NoRisk,
            mfa_result::FraudInvalidConfig,
            mfa_result::KeypadInvalidKey,
            mfa_result::KeypadTooLong,
            mfa_result::KeypadUnrecognized,
            mfa_result::SecondFactorNeeded,
            mfa_result::AppPasswordExists,
            mfa_result::TooManyAppPasswords,
            mfa_result::UnknownSetting,
            mfa_result::InvalidSetting,
            mfa_result::TooManyTrustedRanges,
            mfa_result::RestoreTargetNotEmpty,
            mfa_result::BackupFormat,
            mfa_result::BackupChecksum,
            mfa_result::FileExists,
            mfa_result::TokenTampered,
            mfa_result::KeyOutsideValidity,
        ];
        ALL
    }

    /// The code for a number, if it is one.
    pub fn from_u32(n: u32) -> Option<mfa_result> {
        mfa_result::all().iter().copied().find(|r| *r as u32 == n)
    }
}

impl mfa_result {
    /// The static description of this code.
    pub fn message(self) -> &'static CStr {
        use mfa_result as R;
        match self {
            R::Ok => c"success",
            R::NullParameter => c"a required pointer argument was NULL",
            R::BufferTooSmall => c"the output buffer is too small; *out_len holds the length needed",
            R::InvalidUtf8 => c"a text argument is not valid UTF-8",
            R::Panic => c"internal error: a panic was caught at the C boundary (please report this bug)",
            R::InvalidParameter => c"an argument is out of range or not a documented constant",
            R::Io => c"input/output error",
            R::Unknown => c"an error this version of the C ABI cannot name",
            R::Rng => c"the system random number generator failed",
            R::NotFound => c"the requested item is absent",
            R::WrongTokenKind => c"the token is of the other kind (totp/hotp)",
            R::InvalidFlag => c"a has_ flag of a stored state struct is neither 0 nor 1",
            R::InvalidBase32Char => c"invalid base32 encoding due to an illegal character (only A-Z, a-z, 2-7)",
            R::InvalidBase32Length => c"invalid base32 length: the symbols cannot encode whole bytes",
            R::InvalidHexChar => c"invalid hex encoding due to an illegal character",
            R::InvalidHexLength => c"invalid hex length: an odd number of digits",
            R::SecretEmpty => c"the secret is empty",
            R::SecretTooShort => c"the secret is shorter than 80 bits",
            R::SecretTooLong => c"the secret is longer than 1024 bytes",
            R::InvalidDigits => c"codes have 6 to 9 digits",
            R::InvalidPeriod => c"the TOTP period must be at least one second",
            R::WindowTooLarge => c"the window is larger than the maximum allowed",
            R::UnknownAlgorithm => c"unknown algorithm; expected SHA1, SHA256 or SHA512",
            R::TimeBeforeT0 => c"the time is before the token's T0",
            R::CounterOverflow => c"the counter is exhausted",
            R::UnsupportedAlgorithm => c"the operation is not supported for this algorithm",
            R::ResyncCodeCount => c"resynchronisation needs 2 consecutive codes (2 or 3 for HOTP)",
            R::ResyncFailed => c"the codes are not consecutive codes of this token inside the resynchronisation window",
            R::CodeMalformed => c"the code is malformed: it must be exactly the token's number of digits",
            R::CodeNotInWindow => c"the code is not valid at this time",
            R::CodeReplayed => c"the code was already used",
            R::CodeExpired => c"the code has expired",
            R::NotActivated => c"authentication request is not for an activated account",
            R::Locked => c"the account is locked out after repeated denials",
            R::BlockedByFraud => c"the user is blocked by a fraud report",
            R::UnknownToken => c"unknown token",
            R::UnknownUser => c"unknown user",
            R::UriScheme => c"invalid otpauth URI: the scheme must be otpauth://",
            R::UriType => c"invalid otpauth URI: the type must be totp or hotp",
            R::UriMissingLabel => c"invalid otpauth URI: the label (account name) is missing",
            R::UriMissingParameter => c"invalid otpauth URI: a required parameter is missing",
            R::UriDuplicateParameter => c"invalid otpauth URI: a parameter occurs more than once",
            R::UriInvalidParameter => c"invalid otpauth URI: a parameter has an invalid value",
            R::UriEncoding => c"invalid otpauth URI: percent-encoding is not valid UTF-8",
            R::UriIssuerMismatch => c"invalid otpauth URI: the issuer parameter differs from the label's issuer",
            R::UriInvalidSecret => c"invalid otpauth URI: the secret parameter is not a valid base32 secret",
            R::UriWrongKind => c"the otpauth URI is for the other kind of token (totp/hotp)",
            R::ImportMalformedFile => c"malformed file",
            R::ImportWrongPassphrase => c"MAC mismatch: wrong pre-shared key or passphrase, or the file was modified",
            R::ImportKeyRequired => c"the file is encrypted, but no pre-shared key or passphrase was given",
            R::ImportLimitExceeded => c"a safety limit of the importer was exceeded",
            R::ImportForbiddenDoctype => c"DOCTYPE and entity declarations are not allowed in PSKC files",
            R::ImportTruncated => c"the document is truncated",
            R::ImportUnsupported => c"the file uses an unsupported algorithm, encryption or format",
            R::ImportInvalidValue => c"a value in the file is invalid or missing",
            R::ImportDuplicateSerial => c"duplicate serial number in the file",
            R::ImportBadHeader => c"the CSV header row is missing or wrong",
            R::ImportKeyLength => c"the pre-shared key has the wrong length for the encryption algorithm",
            R::BlockedByAdmin => c"the user is blocked for MFA by an administrator",
            R::FraudCodeEntered => c"MFA denied, fraud code entered",
            R::TokenMisconfigured => c"the token's configuration cannot be used",
            R::WrongPin => c"wrong PIN",
            R::Declined => c"the user declined the request",
            R::NoResponse => c"no response from the user",
            R::FailureCapReached => c"hard cap of consecutive failures reached; an administrator must unblock",
            R::MethodDisabled => c"the method is disabled; the user must register again",
            R::RegistrationRequired => c"the user has not registered for MFA",
            R::StoreUrl => c"unsupported store URL; expected sqlite:<path> or postgres://...",
            R::StoreNotADatabase => c"the file is not an mfa-store database or is corrupt",
            R::StoreSchemaTooNew => c"the database schema is newer than this library",
            R::StoreCorrupt => c"the store is corrupt",
            R::WrongMasterKey => c"wrong master key for this store",
            R::StoreUnseal => c"a sealed token secret does not authenticate",
            R::MasterKeyLength => c"a master key must be 32 bytes",
            R::TokenAssigned => c"the token is already assigned to another user",
            R::TokenNotAssigned => c"the token is not assigned to a user",
            R::TooManyTokens => c"the user already has the most OATH tokens allowed",
            R::ImportRefused => c"import refused: some tokens cannot be imported; nothing was imported",
            R::FieldLength => c"a user id, serial number or name is empty or too long",
            R::StoreBusy => c"the store is busy; try again",
            R::Database => c"database error",
            R::LockedUntilAdmin => c"the account is locked until an administrator unblocks it",
            R::NotLocked => c"the account is not locked: nothing to unblock",
            R::LockoutInvalidPolicy => c"invalid lockout policy setting",
            R::LockoutInvalidState => c"inconsistent stored lockout state",
            R::ReasonEmpty => c"an administrator action needs a reason comment",
            R::ReasonTooLong => c"the reason comment is longer than 1024 bytes",
            R::ReasonControlChar => c"the reason comment contains a control character",
            R::HighRisk => c"the user is at high risk until the risk is remediated",
            R::FraudReportingDisabled => c"fraud reporting is off",
            R::FraudUnexpectedConfirmation => c"a block confirmation arrived but auto-block is off",
            R::AlreadyBlocked => c"the user is already blocked",
            R::NotBlocked => c"the user is not blocked",
            R::BlockNotExpired => c"the block has not expired yet",
            R::NoRisk => c"the user is not at risk: nothing to remediate",
            R::FraudInvalidConfig => c"invalid fraud reporting configuration",
            R::KeypadInvalidKey => c"keypad input contains a key that is not 0-9, * or #",
            R::KeypadTooLong => c"keypad input is too long",
            R::KeypadUnrecognized => c"keypad input is neither an approval nor the fraud code",
            R::SecondFactorNeeded => c"a second factor is needed",
            R::AppPasswordExists => c"the user already has an app password with this name",
            R::TooManyAppPasswords => c"the user already has the most app passwords allowed",
            R::UnknownSetting => c"no setting has this name",
            R::InvalidSetting => c"invalid setting value or a line that is not name=value; nothing stored",
            R::TooManyTrustedRanges => c"the store already has the most trusted IP ranges allowed",
            R::RestoreTargetNotEmpty => c"a backup is restored only into an empty store",
            R::BackupFormat => c"the backup file is malformed or truncated",
            R::BackupChecksum => c"the backup does not match its integrity check; nothing restored",
            R::FileExists => c"the file already exists and is not overwritten",
            R::TokenTampered => c"a token row was changed without the store's key; it is not used",
            R::KeyOutsideValidity => c"the token's key is outside its validity period",
        }
    }
}

impl From<mfa_oath::Error> for mfa_result {
    fn from(e: mfa_oath::Error) -> mfa_result {
        use mfa_oath::Error as E;
        use mfa_result as R;
        match e {
            E::Base32Char { .. } => R::InvalidBase32Char,
            E::Base32Length { .. } => R::InvalidBase32Length,
            E::HexChar { .. } => R::InvalidHexChar,
            E::HexLength { .. } => R::InvalidHexLength,
            E::EmptySecret => R::SecretEmpty,
            E::SecretTooShort { .. } => R::SecretTooShort,
            E::SecretTooLong { .. } => R::SecretTooLong,
            E::Rng => R::Rng,
            E::Digits(_) => R::InvalidDigits,
            E::Period => R::InvalidPeriod,
            E::WindowTooLarge { .. } => R::WindowTooLarge,
            E::UnknownAlgorithm(_) => R::UnknownAlgorithm,
            E::TimeBeforeT0 { .. } => R::TimeBeforeT0,
            E::CounterOverflow => R::CounterOverflow,
            E::CodeFormat { .. } => R::CodeMalformed,
            E::CodeNotInWindow => R::CodeNotInWindow,
            E::CodeReplayed { .. } => R::CodeReplayed,
            E::ResyncCodeCount(_) => R::ResyncCodeCount,
            E::ResyncFailed => R::ResyncFailed,
            E::Unsupported(_) => R::UnsupportedAlgorithm,
            E::Uri(u) => u.into(),
            _ => R::Unknown,
        }
    }
}

impl From<mfa_oath::UriError> for mfa_result {
    fn from(e: mfa_oath::UriError) -> mfa_result {
        use mfa_oath::UriError as U;
        use mfa_result as R;
        match e {
            U::Scheme => R::UriScheme,
            U::Type(_) => R::UriType,
            U::MissingLabel => R::UriMissingLabel,
            U::MissingParameter(_) => R::UriMissingParameter,
            U::DuplicateParameter(_) => R::UriDuplicateParameter,
            U::InvalidParameter { .. } => R::UriInvalidParameter,
            U::Encoding(_) => R::UriEncoding,
            U::IssuerMismatch { .. } => R::UriIssuerMismatch,
            // Too long (mfa-oath 0.1 reported it as an invalid `uri` parameter).
            U::TooLong { .. } => R::UriInvalidParameter,
            U::Secret(_) => R::UriInvalidSecret,
            _ => R::Unknown,
        }
    }
}

/// Returns a static, NUL-terminated English description of `result` (any
/// number; unknown numbers get a generic text). Never NULL; the string must
/// not be freed or modified.
///
/// Thread safety: may be called from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn mfa_result_message(result: u32) -> *const c_char {
    ffi_panic_boundary! {
        match mfa_result::from_u32(result) {
            Some(r) => r.message().as_ptr(),
            None => c"unknown mfa_result code".as_ptr(),
        }
    }
}

/// The version string, NUL-terminated.
fn version() -> &'static CStr {
    const VERSION: &CStr = match CStr::from_bytes_with_nul(
        concat!("mfa-ffi/", env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"mfa-ffi",
    };
    VERSION
}

/// Returns the library's name and version, e.g. `"mfa-ffi/0.1.0"`, as a
/// static NUL-terminated string. Never NULL; must not be freed.
///
/// Thread safety: may be called from any thread at any time.
#[unsafe(no_mangle)]
pub extern "C" fn mfa_version() -> *const c_char {
    ffi_panic_boundary! {
        version().as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_messages_are_distinct() {
        let numbers: HashSet<u32> = mfa_result::all().iter().map(|r| *r as u32).collect();
        assert_eq!(numbers.len(), mfa_result::all().len());
        let messages: HashSet<&CStr> = mfa_result::all().iter().map(|r| r.message()).collect();
        assert_eq!(messages.len(), mfa_result::all().len());
        for r in mfa_result::all() {
            assert_eq!(mfa_result::from_u32(*r as u32), Some(*r));
        }
    }

    /// `MFA_RESULT_NULL_PARAMETER` for `NullParameter`: cbindgen's
    /// `ScreamingSnakeCase` with the enum's prefix.
    fn header_name(r: mfa_result) -> String {
        let mut out = String::from("MFA_RESULT");
        for c in format!("{r:?}").chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }

    #[test]
    fn published_numbers_never_change() {
        // The ABI promise: every published number keeps its name forever.
        // tests/result_codes.txt lists every code, generated once and checked
        // in; a new code gets a new line there (with its header name and a
        // number never used before), no line is ever changed or removed.
        let table = include_str!("../tests/result_codes.txt");
        let mut pinned = Vec::new();
        for line in table
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (name, number) = line.split_once(" = ").expect("`NAME = number`");
            let number: u32 = number.parse().expect("a number");
            let code = mfa_result::from_u32(number)
                .unwrap_or_else(|| panic!("published code {name} = {number} is gone"));
            assert_eq!(header_name(code), name, "code {number} was renamed");
            pinned.push((name, number));
        }
        let numbers: HashSet<u32> = pinned.iter().map(|(_, n)| *n).collect();
        assert_eq!(numbers.len(), pinned.len(), "a number is listed twice");
        for r in mfa_result::all() {
            let (name, number) = (header_name(*r), *r as u32);
            assert!(
                pinned.contains(&(name.as_str(), number)),
                "{name} = {number} is not in tests/result_codes.txt: append the line `{name} = {number}`"
            );
        }
        // Spot checks that the table itself was generated right.
        assert!(pinned.contains(&("MFA_RESULT_OK", 0)));
        assert!(pinned.contains(&("MFA_RESULT_CODE_REPLAYED", 202)));
        assert!(pinned.contains(&("MFA_RESULT_INVALID_FLAG", 11)));
    }

    #[test]
    fn unknown_numbers_get_a_message() {
        // SAFETY: the function returns a static NUL-terminated string.
        let m = unsafe { CStr::from_ptr(mfa_result_message(99_999)) };
        assert_eq!(m, c"unknown mfa_result code");
        // SAFETY: as above.
        let v = unsafe { CStr::from_ptr(mfa_version()) };
        assert!(v.to_bytes().starts_with(b"mfa-ffi/"));
    }
}

#[cfg(test)]
mod header_tests {
    use super::mfa_result;

    /// Every `MFA_RESULT_*` constant of the checked-in header is a code this
    /// library knows (so `mfa_result::all()` and the enum cannot drift apart).
    #[test]
    fn every_header_code_round_trips() {
        let header = include_str!("../include/mfa.h");
        let mut seen = 0;
        for line in header.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("MFA_RESULT_") else {
                continue;
            };
            let (_, number) = rest.split_once(" = ").expect("a numbered constant");
            let number: u32 = number.trim_end_matches(',').parse().expect("a number");
            assert!(
                mfa_result::from_u32(number).is_some(),
                "code {number} unknown"
            );
            seen += 1;
        }
        assert_eq!(seen, mfa_result::all().len());
    }
}

impl From<mfa_lockout::Error> for mfa_result {
    fn from(e: mfa_lockout::Error) -> mfa_result {
        use mfa_lockout::Error as E;
        use mfa_result as R;
        match e {
            E::Locked { .. } => R::Locked,
            E::LockedUntilAdmin { .. } => R::LockedUntilAdmin,
            E::NotLocked { .. } => R::NotLocked,
            E::InvalidPolicy { .. } => R::LockoutInvalidPolicy,
            E::EmptyReason => R::ReasonEmpty,
            E::ReasonTooLong { .. } => R::ReasonTooLong,
            E::InvalidState { .. } => R::LockoutInvalidState,
            _ => R::Unknown,
        }
    }
}

impl From<mfa_fraud::Error> for mfa_result {
    fn from(e: mfa_fraud::Error) -> mfa_result {
        use mfa_fraud::Error as E;
        use mfa_result as R;
        match e {
            E::Blocked { .. } => R::BlockedByFraud,
            E::HighRisk { .. } => R::HighRisk,
            E::ReportingDisabled => R::FraudReportingDisabled,
            E::UnexpectedConfirmation => R::FraudUnexpectedConfirmation,
            E::AlreadyBlocked { .. } => R::AlreadyBlocked,
            E::NotBlocked => R::NotBlocked,
            E::NotExpired { .. } => R::BlockNotExpired,
            E::NoRisk => R::NoRisk,
            E::EmptyReason => R::ReasonEmpty,
            E::ReasonTooLong { .. } => R::ReasonTooLong,
            E::ReasonControlChar { .. } => R::ReasonControlChar,
            E::InvalidConfig { .. } => R::FraudInvalidConfig,
            E::KeypadKey { .. } => R::KeypadInvalidKey,
            E::KeypadTooLong { .. } => R::KeypadTooLong,
            E::KeypadUnrecognized { .. } => R::KeypadUnrecognized,
            _ => R::Unknown,
        }
    }
}

impl From<mfa_import::Error> for mfa_result {
    fn from(e: mfa_import::Error) -> mfa_result {
        use mfa_import::Error as E;
        use mfa_result as R;
        match e {
            E::Io(_) | E::Write(_) => R::Io,
            E::XmlSyntax { .. }
            | E::EmptyDocument
            | E::WrongRoot { .. }
            | E::TrailingContent
            | E::Csv { .. }
            | E::FieldCount { .. } => R::ImportMalformedFile,
            E::DoctypeForbidden | E::UnknownEntity { .. } => R::ImportForbiddenDoctype,
            E::Truncated { .. } => R::ImportTruncated,
            E::LimitExceeded { .. } => R::ImportLimitExceeded,
            E::MacMismatch { .. } | E::DecryptionFailed { .. } => R::ImportWrongPassphrase,
            E::NoDecryptionKey { .. } => R::ImportKeyRequired,
            E::KeyLength { .. } => R::ImportKeyLength,
            E::UnsupportedVersion { .. }
            | E::MissingEncryptionAlgorithm { .. }
            | E::UnsupportedEncryption { .. }
            | E::MissingMacAlgorithm { .. }
            | E::UnsupportedMac { .. }
            | E::UnsupportedKeyDerivation { .. }
            | E::IncompletePbkdf2 { .. }
            | E::UnsupportedPrf { .. }
            | E::UnsupportedAlgorithm { .. }
            | E::UnsupportedDigits { .. }
            | E::UnsupportedResponseEncoding { .. }
            | E::UnsupportedSuite { .. }
            | E::UsageNotOtp { .. } => R::ImportUnsupported,
            E::InvalidBase64 { .. }
            | E::InvalidInteger { .. }
            | E::IntegerRange { .. }
            | E::InvalidBoolean { .. }
            | E::InvalidDate { .. }
            | E::InvalidInterval { .. }
            | E::MissingAlgorithm
            | E::MissingSecret
            | E::EmptyField { .. } => R::ImportInvalidValue,
            E::DuplicateSerial { .. } => R::ImportDuplicateSerial,
            E::MissingHeader { .. } | E::MissingColumn { .. } | E::DuplicateColumn { .. } => {
                R::ImportBadHeader
            }
            E::SecretTooLong { .. } => R::SecretTooLong,
            E::Secret(inner) => inner.into(),
            E::Rng => R::Rng,
            E::WriterConfig { .. } => R::InvalidParameter,
            _ => R::Unknown,
        }
    }
}

impl From<mfa_store::Error> for mfa_result {
    fn from(e: mfa_store::Error) -> mfa_result {
        use mfa_result as R;
        use mfa_store::Error as E;
        match e {
            E::UrlScheme { .. } => R::StoreUrl,
            E::NotADatabase { .. } => R::StoreNotADatabase,
            E::SchemaTooNew { .. } => R::StoreSchemaTooNew,
            E::Corrupt { .. } => R::StoreCorrupt,
            E::WrongMasterKey { .. } => R::WrongMasterKey,
            E::Unseal { .. } => R::StoreUnseal,
            E::TokenTampered { .. } => R::TokenTampered,
            E::KeyOutsideValidity { .. } => R::KeyOutsideValidity,
            E::MasterKeyLength { .. } => R::MasterKeyLength,
            E::Rng => R::Rng,
            E::UnknownToken { .. } => R::UnknownToken,
            E::UnknownUser { .. } => R::UnknownUser,
            E::TokenAssigned { .. } => R::TokenAssigned,
            E::TokenNotAssigned { .. } => R::TokenNotAssigned,
            E::TooManyTokens { .. } => R::TooManyTokens,
            E::ImportRefused { .. } | E::ImportAbandoned => R::ImportRefused,
            E::ActivationFailed { reason, .. } => reason.into(),
            E::ResyncFailed { reason, .. } => reason.into(),
            E::TokenParams { .. } => R::TokenMisconfigured,
            E::FieldLength { .. } => R::FieldLength,
            E::Lockout(e) => e.into(),
            E::Fraud(e) => e.into(),
            E::AppPasswordExists { .. } => R::AppPasswordExists,
            E::TooManyAppPasswords { .. } => R::TooManyAppPasswords,
            E::UnknownSetting { .. } => R::UnknownSetting,
            E::InvalidSetting { .. } | E::SecretSetting { .. } => R::InvalidSetting,
            E::TooManyTrustedRanges { .. } => R::TooManyTrustedRanges,
            E::RestoreTargetNotEmpty { .. } => R::RestoreTargetNotEmpty,
            E::BackupFormat { .. } => R::BackupFormat,
            E::BackupChecksum => R::BackupChecksum,
            E::Record(_) | E::SameKeyId { .. } | E::Cidr { .. } => R::InvalidParameter,
            E::Io(_) => R::Io,
            E::Busy => R::StoreBusy,
            E::Sqlite(_) | E::Postgres(_) | E::Tls { .. } | E::CommitFailed => R::Database,
            _ => R::Unknown,
        }
    }
}

impl From<mfa_store::mfa_record::DenialKind> for mfa_result {
    fn from(k: mfa_store::mfa_record::DenialKind) -> mfa_result {
        use mfa_result as R;
        use mfa_store::mfa_record::DenialKind as D;
        match k {
            D::NotActivated => R::NotActivated,
            D::UnknownUser => R::UnknownUser,
            D::UnknownToken => R::UnknownToken,
            D::CodeMalformed => R::CodeMalformed,
            D::CodeWrong => R::CodeNotInWindow,
            D::CodeReplayed => R::CodeReplayed,
            D::CodeExpired => R::CodeExpired,
            D::TimeBeforeT0 => R::TimeBeforeT0,
            D::CounterExhausted => R::CounterOverflow,
            D::TokenMisconfigured => R::TokenMisconfigured,
            D::WrongPin => R::WrongPin,
            D::Declined => R::Declined,
            D::NoResponse => R::NoResponse,
            D::Locked => R::Locked,
            D::LockedUntilAdmin => R::LockedUntilAdmin,
            D::FailureCapReached => R::FailureCapReached,
            D::FraudBlocked => R::BlockedByFraud,
            D::AdminBlocked => R::BlockedByAdmin,
            D::FraudCodeEntered => R::FraudCodeEntered,
            D::HighUserRisk => R::HighRisk,
            D::MethodDisabled => R::MethodDisabled,
            D::RegistrationRequired => R::RegistrationRequired,
            D::KeyOutsideValidity => R::KeyOutsideValidity,
            _ => R::Unknown,
        }
    }
}
