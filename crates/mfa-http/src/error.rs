//! The crate's error type.

/// What can go wrong setting up or running the validate API. Request
/// errors are HTTP answers, never this type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An API token hash is not 64 hex digits.
    #[error("an API token hash must be 64 hex digits (SHA-256), got {len} characters")]
    ApiTokenHash {
        /// The length given.
        len: usize,
    },
    /// The configured server name is not one the authentication log
    /// accepts.
    #[error("the server name is not valid for the authentication log")]
    ServerName,
    /// Accepting a connection or binding failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}
