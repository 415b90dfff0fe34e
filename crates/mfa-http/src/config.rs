//! What the router is configured with.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;

/// The configuration of the validate API.
///
/// Every limit has a safe default; change fields on
/// [`HttpConfig::default()`].
///
/// ```
/// use std::time::Duration;
/// let mut config = mfa_http::HttpConfig::default();
/// config.store_timeout = Duration::from_secs(2);
/// config.api_tokens.push(mfa_http::ApiTokenHash::of_token("a long random token"));
/// assert_eq!(config.max_body, 16 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// The server name written to the authentication log.
    pub server_name: String,
    /// The server address written to the authentication log.
    pub server_ip: IpAddr,
    /// How many store calls may run at once on the blocking pool (the
    /// rest wait, up to [`HttpConfig::store_timeout`]).
    pub store_concurrency: usize,
    /// The time limit of one store call, waiting for a slot included:
    /// past it the request is answered 503.
    pub store_timeout: Duration,
    /// The largest request body read (413 above).
    pub max_body: usize,
    /// The largest total size of the request headers, names and values
    /// (431 above).
    pub max_header_bytes: usize,
    /// The most parameters a request may carry (400 above).
    pub max_params: usize,
    /// The longest parameter value (400 above).
    pub max_param_len: usize,
    /// The time a client has to send its body (408 after).
    pub body_timeout: Duration,
    /// The per-client-address rate limit of the `/validate/*` endpoints
    /// (`None`: off).
    pub rate_limit: Option<RateLimit>,
    /// How long a challenge transaction lives, in seconds.
    pub transaction_ttl: u64,
    /// The most open transactions kept in memory (a challenge beyond it is
    /// answered 503).
    pub max_transactions: usize,
    /// The digits of an SMS code.
    pub code_digits: u32,
    /// The SHA-256 hashes of the API tokens that may call
    /// `/validate/triggerchallenge` and `/validate/polltransaction` (empty:
    /// those endpoints answer 401 to everyone).
    pub api_tokens: Vec<ApiTokenHash>,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            server_name: "mfa-http".to_owned(),
            server_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            store_concurrency: 8,
            store_timeout: Duration::from_secs(5),
            max_body: 16 * 1024,
            max_header_bytes: 8 * 1024,
            max_params: 32,
            max_param_len: 1024,
            body_timeout: Duration::from_secs(10),
            rate_limit: Some(RateLimit::default()),
            transaction_ttl: 120,
            max_transactions: 10_000,
            code_digits: 6,
            api_tokens: Vec::new(),
        }
    }
}

/// A token bucket per client address (IPv6 addresses by /64).
///
/// ```
/// let limit = mfa_http::RateLimit { per_second: 5, burst: 20, max_clients: 1000 };
/// assert!(limit.burst >= limit.per_second);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second refilled.
    pub per_second: u32,
    /// Requests a client may send at once.
    pub burst: u32,
    /// The most client addresses tracked; a new address beyond it (once
    /// the idle ones are dropped) is refused with 429.
    pub max_clients: usize,
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit {
            per_second: 20,
            burst: 40,
            max_clients: 10_000,
        }
    }
}

/// The SHA-256 hash of an API token: the only form a token is kept in.
/// Tokens are long random strings, so one unsalted hash is enough;
/// a presented token is compared in constant time.
///
/// ```
/// use mfa_http::ApiTokenHash;
/// let hash = ApiTokenHash::of_token("s3cr3t-token");
/// let again = ApiTokenHash::from_hex(&hash.to_hex())?;
/// assert!(again.matches("s3cr3t-token"));
/// assert!(!again.matches("s3cr3t-tokem"));
/// # Ok::<(), mfa_http::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiTokenHash([u8; 32]);

impl fmt::Debug for ApiTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiTokenHash(..)")
    }
}

impl ApiTokenHash {
    /// The hash of `token`.
    pub fn of_token(token: &str) -> ApiTokenHash {
        ApiTokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// A hash written as 64 hex digits (`sha256sum`'s output).
    ///
    /// # Errors
    /// [`Error::ApiTokenHash`] when it is not 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<ApiTokenHash, Error> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.trim().as_bytes())
            .map_err(|_| Error::ApiTokenHash { len: hex.len() })?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::ApiTokenHash { len: hex.len() })?;
        Ok(ApiTokenHash(bytes))
    }

    /// The hash as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Whether `token` hashes to this hash (constant-time comparison).
    pub fn matches(&self, token: &str) -> bool {
        let other: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        bool::from(self.0.ct_eq(&other))
    }
}
