//! Sealing token secrets at rest and keyed hashes of one-time codes.
//!
//! Everything is derived from one caller-provided 256-bit master key with
//! HMAC-SHA256 under distinct labels:
//! - the AES-256-GCM key that seals token secrets,
//! - the HMAC key for one-time SMS/voice codes and remembered devices,
//! - the key check value stored in the database to recognise the key.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;

/// Bytes of an AES-GCM nonce.
const NONCE_LEN: usize = 12;
/// Version byte at the start of a sealed blob.
const SEAL_V1: u8 = 1;

/// The 256-bit master key that seals token secrets, with the id stored next
/// to every sealed row so keys can be rotated ([`crate::Store::rekey`]).
///
/// The caller reads it from a key file or an environment variable; the store
/// never writes it anywhere. `Debug` does not show the key.
///
/// ```
/// use mfa_store::MasterKey;
/// let key = MasterKey::from_hex(1, &"11".repeat(32))?;
/// assert_eq!(key.id(), 1);
/// assert_eq!(format!("{key:?}"), "MasterKey { id: 1, key: [REDACTED] }");
/// # Ok::<(), mfa_store::Error>(())
/// ```
#[derive(Clone)]
pub struct MasterKey {
    id: u32,
    key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "MasterKey {{ id: {}, key: [REDACTED] }}", self.id)
    }
}

impl MasterKey {
    /// A key with id `id` from 32 raw bytes.
    pub fn new(id: u32, key: [u8; 32]) -> MasterKey {
        MasterKey {
            id,
            key: Zeroizing::new(key),
        }
    }

    /// A key from a slice, which must be exactly 32 bytes.
    ///
    /// # Errors
    /// [`Error::MasterKeyLength`].
    pub fn from_slice(id: u32, key: &[u8]) -> Result<MasterKey, Error> {
        let arr: [u8; 32] = key
            .try_into()
            .map_err(|_| Error::MasterKeyLength { len: key.len() })?;
        Ok(MasterKey::new(id, arr))
    }

    /// A key from 64 hex digits (surrounding whitespace, e.g. the newline of
    /// a key file, is ignored).
    ///
    /// # Errors
    /// [`Error::MasterKeyLength`] if the text is not 64 hex digits.
    pub fn from_hex(id: u32, hex: &str) -> Result<MasterKey, Error> {
        let t = hex.trim();
        let mut bytes = Zeroizing::new(
            data_encoding::HEXLOWER_PERMISSIVE
                .decode(t.as_bytes())
                .map_err(|_| Error::MasterKeyLength { len: t.len() / 2 })?,
        );
        let r = MasterKey::from_slice(id, &bytes);
        bytes.zeroize();
        r
    }

    /// The key id.
    pub fn id(&self) -> u32 {
        self.id
    }

    fn derive(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let mut m = hmac_sha256(self.key.as_slice());
        m.update(b"mfa-store/v1/");
        m.update(label);
        out.copy_from_slice(&m.finalize().into_bytes());
        out
    }

    /// The key check value stored in the store: recognises the key without
    /// revealing it (a PRF output under a fixed label).
    pub(crate) fn check_value(&self) -> Vec<u8> {
        self.derive(b"key-check").to_vec()
    }

    pub(crate) fn keys(&self) -> Keys {
        let seal = self.derive(b"token-seal");
        Keys {
            key_id: self.id,
            cipher: Aes256Gcm::new_from_slice(seal.as_slice()).ok(),
            hash: self.derive(b"code-hash"),
            check: self.check_value(),
        }
    }
}

/// The working keys derived from a master key.
pub(crate) struct Keys {
    pub(crate) key_id: u32,
    /// The AES-256-GCM key schedule, built once (its key is wiped on drop).
    cipher: Option<Aes256Gcm>,
    hash: Zeroizing<[u8; 32]>,
    /// The key check value of the master key.
    pub(crate) check: Vec<u8>,
}

fn aad(key_id: u32, serial: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(32 + serial.len());
    a.extend_from_slice(b"mfa-store/v1/token:");
    a.extend_from_slice(&key_id.to_be_bytes());
    a.extend_from_slice(serial.as_bytes());
    a
}

impl Keys {
    /// Seals `secret` for the token `serial`: `1 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`.
    /// The serial and key id are bound as associated data, so a sealed
    /// secret moved to another row does not open.
    pub(crate) fn seal(&self, serial: &str, secret: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| Error::Rng)?;
        let cipher = self.cipher.as_ref().ok_or(Error::Rng)?;
        let aad = aad(self.key_id, serial);
        let ct = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Rng)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEAL_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed secret.
    pub(crate) fn open(&self, serial: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let unseal = || Error::Unseal {
            serial: serial.to_owned(),
        };
        let (&version, rest) = sealed.split_first().ok_or_else(unseal)?;
        if version != SEAL_V1 || rest.len() < NONCE_LEN + 16 {
            return Err(unseal());
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| unseal())?;
        let cipher = self.cipher.as_ref().ok_or_else(unseal)?;
        let aad = aad(self.key_id, serial);
        cipher
            .decrypt(&nonce.into(), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| unseal())
    }

    /// Keyed hash (HMAC-SHA256) of a one-time code or device token, bound to
    /// its purpose and user: only the hash is stored.
    pub(crate) fn code_hash(
        &self,
        purpose: &str,
        user: &str,
        code: &str,
    ) -> Result<Vec<u8>, Error> {
        let mut m = hmac_sha256(self.hash.as_slice());
        for part in [purpose.as_bytes(), user.as_bytes(), code.as_bytes()] {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part);
        }
        Ok(m.finalize().into_bytes().to_vec())
    }
}

/// HMAC-SHA256 keyed with `key`. HMAC accepts keys of any length, so
/// `new_from_slice` cannot fail; there is no fallback key.
fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    #[allow(clippy::expect_used)] // HMAC takes keys of every length (RFC 2104 §2).
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// A secret the store issues to a person or client and keeps only as a
/// keyed hash: an app password, a remembered-device token, a one-time code.
/// Show or send it once. Wiped on drop; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(Zeroizing<String>);

impl Credential {
    /// The text, to hand to the user or client once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Credential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Credential([REDACTED])")
    }
}

/// 128 random bits from the operating system as 26 lower-case base32
/// characters.
pub(crate) fn random_token() -> Result<Credential, Error> {
    let mut bytes = Zeroizing::new([0u8; 16]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| Error::Rng)?;
    let text = data_encoding::BASE32_NOPAD
        .encode(bytes.as_slice())
        .to_ascii_lowercase();
    Ok(Credential(Zeroizing::new(text)))
}

/// `digits` uniformly random decimal digits (rejection sampling, no modulo bias).
pub(crate) fn random_digits(digits: u32) -> Result<Credential, Error> {
    let mut out = Zeroizing::new(String::with_capacity(digits as usize));
    let mut buf = Zeroizing::new([0u8; 32]);
    while out.len() < digits as usize {
        getrandom::fill(buf.as_mut_slice()).map_err(|_| Error::Rng)?;
        for &b in buf.iter() {
            // 250 = 25 * 10: bytes 250..=255 would bias the digits.
            if b < 250 && out.len() < digits as usize {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    Ok(Credential(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let k = MasterKey::new(7, [3; 32]).keys();
        let s = k.seal("T1", b"12345678901234567890").unwrap();
        assert_eq!(
            k.open("T1", &s).unwrap().as_slice(),
            b"12345678901234567890"
        );
        // Bound to the serial.
        assert!(matches!(k.open("T2", &s), Err(Error::Unseal { .. })));
        // Another key does not open it.
        let other = MasterKey::new(7, [4; 32]).keys();
        assert!(other.open("T1", &s).is_err());
        // Tampering is detected.
        let mut t = s.clone();
        if let Some(b) = t.last_mut() {
            *b ^= 1;
        }
        assert!(k.open("T1", &t).is_err());
        // Fresh nonce per seal.
        assert_ne!(s, k.seal("T1", b"12345678901234567890").unwrap());
    }

    #[test]
    fn check_values_differ_per_key() {
        assert_ne!(
            MasterKey::new(1, [1; 32]).check_value(),
            MasterKey::new(1, [2; 32]).check_value()
        );
    }
}
