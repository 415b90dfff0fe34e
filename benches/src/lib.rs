//! Criterion benches of mfa-kit; see `benches/`.
//!
//! What the benches and load generators share: the secret of their `i`th
//! token, and a store of HOTP users.

use mfa_oath::{Hotp, HotpParams, Secret, UnixTime};
use mfa_store::{ImportMode, NewToken, Store, TokenKind};

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

/// Gives `store` `users` HOTP tokens `L-0`, `L-1`, … with the secrets of
/// [`token_secret`], assigned to users `u0`, `u1`, … and activated with
/// counter 0 at `t0`: the next code of user `ui` is counter 1 of
/// `Hotp::new(token_secret(i), HotpParams::default())`.
///
/// # Errors
/// The store's, from the import, assignment or activation.
pub fn hotp_users(store: &Store, users: u64, t0: UnixTime) -> Result<(), mfa_store::Error> {
    let tokens = (0..users).map(|i| {
        NewToken::new(
            format!("L-{i}"),
            TokenKind::Hotp(HotpParams::default()),
            token_secret(i),
        )
    });
    store.import(tokens, ImportMode::AllOrNothing, t0)?;
    for i in 0..users {
        let serial = format!("L-{i}");
        store.assign(&serial, &format!("u{i}"), t0)?;
        let code = Hotp::new(token_secret(i), HotpParams::default()).generate(0);
        store.activate(&serial, &code.to_string(), t0)?;
    }
    Ok(())
}
