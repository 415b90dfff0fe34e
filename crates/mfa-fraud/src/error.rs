//! The one error type of this crate.

use core::fmt;

use mfa_time::UnixTime;

use crate::BlockCause;

/// Everything that can go wrong in this crate. Every event that does not
/// apply in the current state gets its own variant, with the data that
/// explains why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user is blocked for MFA: deny without prompting.
    #[error("the user is blocked for MFA ({cause}) until {} (Unix seconds)", until.secs())]
    Blocked {
        /// Why the user is blocked.
        cause: BlockCause,
        /// The first instant at which the block no longer applies.
        until: UnixTime,
    },
    /// The user is at high risk: deny until the risk is remediated.
    #[error("the user is at high risk ({detections} detections) until the risk is remediated")]
    HighRisk {
        /// Number of risk detections since the last remediation.
        detections: u32,
    },
    /// A user report arrived but neither fraud alert nor suspicious-activity
    /// reporting is on.
    #[error("fraud reporting is off (neither fraud alert nor suspicious-activity reporting is on)")]
    ReportingDisabled,
    /// A block confirmation (`1` on the phone) arrived, but auto-block is
    /// off, so no confirmation was asked for.
    #[error("a block confirmation arrived but auto-block is off")]
    UnexpectedConfirmation,
    /// An administrator block for a user who is already blocked.
    #[error("the user is already blocked ({cause}) until {} (Unix seconds)", until.secs())]
    AlreadyBlocked {
        /// Why the user is blocked.
        cause: BlockCause,
        /// The first instant at which the block no longer applies.
        until: UnixTime,
    },
    /// An unblock or expiry for a user who is not blocked (an expired block
    /// counts as not blocked for an unblock).
    #[error("the user is not blocked")]
    NotBlocked,
    /// An expiry event before the block period has passed.
    #[error("the block lasts until {} (Unix seconds); it has not expired", until.secs())]
    NotExpired {
        /// The first instant at which the block no longer applies.
        until: UnixTime,
    },
    /// A risk remediation for a user who is not at risk.
    #[error("the user is not at risk: nothing to remediate")]
    NoRisk,
    /// An administrator action was given an empty (or all-blank) reason.
    #[error("an administrator block or unblock needs a reason comment")]
    EmptyReason,
    /// A reason is longer than [`MAX_REASON_LEN`](crate::MAX_REASON_LEN) bytes.
    #[error("the reason is {len} bytes long; at most {max} bytes are allowed")]
    ReasonTooLong {
        /// Length of the rejected reason in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A reason contains a control character (which could forge log lines).
    #[error("the reason contains a control character at byte {position}")]
    ReasonControlChar {
        /// Byte offset of the character in the trimmed reason.
        position: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid fraud configuration: {field}")]
    InvalidConfig {
        /// The offending setting.
        field: ConfigField,
    },
    /// Keypad input contains a key that is not on a phone keypad.
    #[error("keypad input has {ch:?} at position {position}, which is not a phone key (0-9, *, #)")]
    KeypadKey {
        /// The offending character.
        ch: char,
        /// Its 1-based position in the input, counted in characters.
        position: usize,
    },
    /// Keypad input is longer than [`MAX_KEYPAD_LEN`](crate::MAX_KEYPAD_LEN).
    #[error("keypad input is {len} keys long; at most {max} are accepted")]
    KeypadTooLong {
        /// Length of the input in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Keypad input that is neither `#` (approve) nor the reporting code
    /// followed by `#` (report); the sign-in is not approved.
    #[error(
        "keypad input is neither an approval nor the fraud code (problem at position {position})"
    )]
    KeypadUnrecognized {
        /// 1-based position of the first key that does not fit (input length
        /// + 1 when the input ends too early).
        position: usize,
    },
}

/// The configuration setting named by [`Error::InvalidConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigField {
    /// The block period must be at least one second.
    BlockPeriod,
    /// A reporting code must be 1 to [`MAX_CODE_LEN`](crate::MAX_CODE_LEN)
    /// digits `0-9`.
    ReportingCode,
    /// A notification recipient must be non-empty, without control
    /// characters, at most 320 bytes; at most 100 recipients.
    Recipient,
}

impl fmt::Display for ConfigField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigField::BlockPeriod => "block period (seconds, at least 1)",
            ConfigField::ReportingCode => "reporting code (1 to 8 digits 0-9)",
            ConfigField::Recipient => {
                "notification recipient (non-empty, no control characters, at most 320 bytes; at most 100 recipients)"
            }
        })
    }
}
