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
pub use params::{Algorithm, Digits, Period, UnixTime};
pub use secret::Secret;
pub use uri::{MAX_URI_LEN, OtpAuthUri, OtpKind, ParsedUri, UriWarning, redact_uri};
