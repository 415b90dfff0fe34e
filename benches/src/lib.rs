//! Criterion benches of mfa-kit; see `benches/`.
//!
//! What the benches and load generators share: the secret of their `i`th
//! token.

use mfa_oath::Secret;

/// The secret of bench token `i`: the RFC 4226 test key with its first 8
/// bytes replaced by `i`, so every token's codes differ.
///
/// ```
/// assert_ne!(
///     mfa_benches::token_secret(1).expose_secret(),
///     mfa_benches::token_secret(2).expose_secret()
/// );
/// ```
pub fn token_secret(i: u64) -> Secret {
    let mut b = *b"12345678901234567890";
    b[..8].copy_from_slice(&i.to_be_bytes());
    #[allow(clippy::expect_used)] // 20 bytes: always a valid secret
    Secret::from_bytes(&b).expect("a 20-byte secret")
}
