#![doc = include_str!("../README.md")]
// This crate is the one place in mfa-kit where `unsafe` is allowed: a C ABI
// cannot be written without dereferencing the raw pointers C hands us. Every
// `unsafe` block carries a `// SAFETY:` comment, every exported function is an
// `unsafe extern "C" fn` with a `# Safety` section, and every body runs inside
// `ffi_panic_boundary!` so that no panic unwinds into C.
#![allow(unsafe_code)]
// The exported names follow C conventions (`mfa_secret`, `mfa_result`), as
// rustls-ffi's do; they are what C programs see.
#![allow(non_camel_case_types)]

#[macro_use]
mod panic;
#[macro_use]
mod ffi;

pub mod error;
pub mod fraud;
pub mod import;
pub mod lockout;
pub mod otp;
pub mod secret;
pub mod store;
pub mod store_admin;
pub mod store_auth;
pub mod uri;

pub use error::{mfa_result, mfa_result_message, mfa_version};
