#![doc = include_str!("../README.md")]
// The PAM ABI needs `unsafe`: it is allowed only where it is used (the
// entry points in `ffi`, `geteuid` in `key`), each with a `// SAFETY:` note.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod error;
#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod ffi;
mod flow;
mod key;

pub use config::{
    CodeSource, Config, DEFAULT_PASSWORD_OTP_PROMPT, DEFAULT_PROMPT, DEFAULT_TIMEOUT,
    MAX_PROMPT_LEN, MAX_TIMEOUT_SECS,
};
pub use error::{Error, KeyProblem};
pub use flow::{Code, Level, MessageKind, Pam, sign_in, split_password_otp};
pub use key::{MAX_KEY_FILE_LEN, read_key_file};
pub use mfa_store::mfa_oath::UnixTime;
