#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod api;
mod config;
mod error;
mod metrics;
mod params;
mod rate;
mod server;
mod txn;

pub use api::{Clock, VERSION, Validate};
pub use config::{ApiTokenHash, HttpConfig, RateLimit};
pub use error::Error;
pub use server::{ServeOptions, serve};

// The crates whose types appear in this API.
pub use axum;
pub use mfa_store;
