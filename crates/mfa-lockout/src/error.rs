//! The one error type of this crate.

use core::fmt;

use mfa_time::UnixTime;

use crate::AdminLockCause;

/// Everything that can go wrong in this crate.
///
/// The two "locked" variants are not faults: they are the answer to an event
/// that does not apply while the account is locked (a success, which must not
/// be approved, or a failure, which is not counted). They carry the same
/// counter values as the matching [`Decision`](crate::Decision), so the caller
/// can log why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The account is locked until `until`; the event was refused.
    #[error(
        "locked until {} (Unix seconds) after {failures} denials (lockout number {lockouts})",
        until.secs()
    )]
    Locked {
        /// The first instant at which the lock no longer applies.
        until: UnixTime,
        /// Denials counted when the lock was set.
        failures: u32,
        /// Lockouts since the last success or administrator unblock.
        lockouts: u32,
    },
    /// The account is locked until an administrator unblocks it; the event
    /// was refused.
    #[error(
        "locked until an administrator unblocks it ({cause}); {consecutive} consecutive denials"
    )]
    LockedUntilAdmin {
        /// Why only an administrator can unblock.
        cause: AdminLockCause,
        /// Denials counted in the current reset window when the lock was set.
        failures: u32,
        /// Consecutive denials since the last success or administrator unblock.
        consecutive: u32,
    },
    /// An administrator unblock was asked for an account that is not locked
    /// at that time (an expired lock counts as not locked).
    #[error("the account is not locked ({failures} denials counted): nothing to unblock")]
    NotLocked {
        /// Denials counted in the current reset window.
        failures: u32,
    },
    /// A policy setting is out of range.
    #[error("invalid lockout policy: {field} = {value}")]
    InvalidPolicy {
        /// The offending setting.
        field: PolicyField,
        /// Its rejected value.
        value: u64,
    },
    /// An administrator unblock was given an empty (or all-blank) reason.
    #[error("an administrator unblock needs a reason for the log")]
    EmptyReason,
    /// An administrator unblock reason is longer than
    /// [`MAX_REASON_LEN`](crate::MAX_REASON_LEN) bytes.
    #[error("the unblock reason is {len} bytes long; at most {max} bytes are allowed")]
    ReasonTooLong {
        /// Length of the rejected reason in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An administrator unblock reason contains a control character (which
    /// could forge log lines).
    #[error("the unblock reason contains a control character at byte {position}")]
    ReasonControlChar {
        /// Byte offset of the character in the trimmed reason.
        position: usize,
    },
    /// Stored parts do not describe a state this crate can produce.
    #[error("inconsistent stored lockout state: {field}")]
    InvalidState {
        /// The part that is inconsistent.
        field: StateField,
    },
}

/// The policy setting named by [`Error::InvalidPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyField {
    /// The number of denials that locks must be at least 1.
    Threshold,
    /// The reset window must be at least one second.
    ResetWindow,
    /// The escalation factor must be at least 2.
    EscalationFactor,
    /// The escalation cap must be at least the automatic unblock time, and
    /// escalation needs an automatic unblock time (not 0).
    EscalationCap,
    /// The hard cap must be between 1 and [`MAX_HARD_CAP`](crate::MAX_HARD_CAP).
    HardCap,
}

impl fmt::Display for PolicyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyField::Threshold => "threshold (denials that lock, at least 1)",
            PolicyField::ResetWindow => "reset window (seconds, at least 1)",
            PolicyField::EscalationFactor => "escalation factor (at least 2)",
            PolicyField::EscalationCap => {
                "escalation cap (seconds, at least the unblock time, which must not be 0)"
            }
            PolicyField::HardCap => "hard cap (consecutive denials, 1 to 100)",
        })
    }
}

/// The stored part named by [`Error::InvalidState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StateField {
    /// Denials are counted but no time of the last denial is given.
    LastFailure,
    /// More denials in the window than consecutive denials.
    Consecutive,
}

impl fmt::Display for StateField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateField::LastFailure => "denials counted without the time of the last denial",
            StateField::Consecutive => "fewer consecutive denials than denials in the window",
        })
    }
}
