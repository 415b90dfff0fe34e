//! The one error type of this crate.

use crate::Algorithm;

/// Everything that can go wrong in `mfa-oath`.
///
/// Variants carry the data needed to explain the problem (the offending
/// character and its position, the expected length, the step that was
/// replayed) rather than preformatted strings, so callers can match on them
/// and translate them. The `Display` text is meant for an administrator.
///
/// Verification rejections ([`Error::CodeFormat`], [`Error::CodeNotInWindow`],
/// [`Error::CodeReplayed`]) are part of this enum too: an authentication
/// server maps each to its own denial reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A base32 secret contains a character outside `A-Z`, `a-z`, `2-7`
    /// (separators ` ` and `-` and trailing `=` padding are allowed).
    #[error("invalid base32 encoding due to illegal character {ch:?} at position {position}")]
    Base32Char {
        /// The offending character.
        ch: char,
        /// Its 1-based position in the input, counted in characters.
        position: usize,
    },
    /// A base32 secret has a number of symbols that no whole number of bytes
    /// can produce (1, 3 or 6 symbols in the last group of 8).
    #[error("invalid base32 length: {symbols} symbols cannot encode whole bytes")]
    Base32Length {
        /// How many base32 symbols (excluding separators and padding) were given.
        symbols: usize,
    },
    /// A hex secret contains a character that is not a hex digit.
    #[error("invalid hex encoding due to illegal character {ch:?} at position {position}")]
    HexChar {
        /// The offending character.
        ch: char,
        /// Its 1-based position in the input, counted in characters.
        position: usize,
    },
    /// A hex secret has an odd number of digits.
    #[error("invalid hex length: {digits} digits is not a whole number of bytes")]
    HexLength {
        /// How many hex digits were given.
        digits: usize,
    },
    /// The secret is empty.
    #[error("the secret is empty")]
    EmptySecret,
    /// The secret is shorter than 80 bits, the least this crate accepts.
    #[error(
        "the secret is {bits} bits long; at least 80 bits are required (128 or more recommended)"
    )]
    SecretTooShort {
        /// Length of the rejected secret in bits.
        bits: usize,
    },
    /// The secret is longer than [`crate::Secret::MAX_LEN`] bytes.
    #[error("the secret is {bytes} bytes long; at most {max} bytes are accepted")]
    SecretTooLong {
        /// Length of the rejected secret in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The injected random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// A digit count outside 6..=9.
    #[error("{0} digits is not supported; codes have 6 to 9 digits")]
    Digits(u32),
    /// A TOTP period of zero seconds.
    #[error("the TOTP period must be at least one second")]
    Period,
    /// A verification or resynchronisation window larger than the crate allows.
    #[error("a window of {requested} steps is larger than the maximum of {max}")]
    WindowTooLarge {
        /// The size that was asked for.
        requested: u32,
        /// The limit.
        max: u32,
    },
    /// An algorithm name that is not SHA1, SHA256 or SHA512.
    #[error("unknown algorithm {0:?}; expected SHA1, SHA256 or SHA512")]
    UnknownAlgorithm(alloc::string::String),
    /// The time given is before the token's T0, so it has no time step.
    #[error("time {now} is before the token's T0 ({t0})")]
    TimeBeforeT0 {
        /// The time passed in (Unix seconds).
        now: u64,
        /// The token's T0 (Unix seconds).
        t0: u64,
    },
    /// The counter or step would overflow `u64`.
    #[error("the counter is exhausted")]
    CounterOverflow,
    /// The code entered does not have the token's number of digits, or
    /// contains something other than ASCII digits. Checked before any HMAC is
    /// computed.
    #[error("the code must be exactly {expected} digits")]
    CodeFormat {
        /// The number of digits the token produces.
        expected: u8,
    },
    /// The code does not match any step or counter in the window.
    #[error("the code is not valid at this time")]
    CodeNotInWindow,
    /// The code matches a step or counter that was already accepted (or is
    /// older than one that was): RFC 6238 §5.2 forbids accepting it again.
    #[error("the code was already used (step or counter {step})")]
    CodeReplayed {
        /// The already-used step (TOTP) or counter (HOTP) it matched.
        step: u64,
    },
    /// Resynchronisation needs two or three consecutive codes.
    #[error("resynchronisation needs 2 or 3 consecutive codes, {0} given")]
    ResyncCodeCount(usize),
    /// No run of consecutive codes matched inside the resynchronisation window.
    #[error(
        "the codes are not consecutive codes of this token inside the resynchronisation window"
    )]
    ResyncFailed,
    /// An `otpauth://` URI could not be parsed or is inconsistent.
    #[error("invalid otpauth URI: {0}")]
    Uri(UriError),
    /// The algorithm was valid but the operation is not defined for it.
    #[error("the algorithm {0} is not supported here")]
    Unsupported(Algorithm),
}

/// What is wrong with an `otpauth://` URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The URI does not start with `otpauth://`.
    #[error("the scheme must be otpauth://")]
    Scheme,
    /// The type is not `totp` or `hotp`.
    #[error("unknown type {0:?}; expected totp or hotp")]
    Type(alloc::string::String),
    /// The label (account name) is missing or empty.
    #[error("the label (account name) is missing")]
    MissingLabel,
    /// A required parameter is missing.
    #[error("the {0} parameter is missing")]
    MissingParameter(&'static str),
    /// A parameter occurs twice.
    #[error("the {0} parameter occurs more than once")]
    DuplicateParameter(alloc::string::String),
    /// A parameter has a value that cannot be used.
    #[error("the {name} parameter has an invalid value {value:?}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value found (never the secret).
        value: alloc::string::String,
    },
    /// Percent-encoding that does not decode to UTF-8.
    #[error("the {0} is not valid percent-encoded UTF-8")]
    Encoding(&'static str),
    /// The issuer parameter differs from the issuer prefix of the label.
    /// No longer returned by the parser (the parameter wins, with a
    /// [`crate::UriWarning::IssuerMismatch`]); kept for callers that match it.
    #[error("the issuer parameter {parameter:?} differs from the label's issuer prefix {label:?}")]
    IssuerMismatch {
        /// Issuer from the label prefix.
        label: alloc::string::String,
        /// Issuer from the `issuer=` parameter.
        parameter: alloc::string::String,
    },
    /// The URI is longer than [`crate::MAX_URI_LEN`] (when parsed), or
    /// would be once written ([`crate::OtpAuthUri::try_to_uri`]).
    #[error("the URI is {len} bytes long; at most {max} are allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The secret parameter is not valid.
    #[error("the secret parameter is invalid: {0}")]
    Secret(alloc::boxed::Box<Error>),
}

impl From<UriError> for Error {
    fn from(e: UriError) -> Self {
        Error::Uri(e)
    }
}
