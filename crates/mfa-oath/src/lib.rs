#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod error;
mod otp;
mod params;
mod secret;
mod uri;

pub use error::{Error, UriError};
pub use otp::{
    Code, Hotp, HotpAccepted, HotpParams, HotpState, MAX_RESYNC_WINDOW, Totp, TotpAccepted,
    TotpParams, TotpState, Window,
};
pub use params::{Algorithm, Digits, Period};
pub use secret::Secret;
pub use uri::{MAX_LABEL_LEN, MAX_URI_LEN, OtpAuthUri, OtpKind, ParsedUri, UriWarning, redact_uri};

/// The time every function here takes as an argument (whole seconds since the
/// Unix epoch), re-exported from [`mfa_time`] so that `mfa_oath::UnixTime` and
/// `mfa_time::UnixTime` are one type.
///
/// ```
/// let t: mfa_time::UnixTime = mfa_oath::UnixTime::from_secs(59);
/// assert_eq!(t.secs(), 59);
/// ```
pub use mfa_time::UnixTime;
