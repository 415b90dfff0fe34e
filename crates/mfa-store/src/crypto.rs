//! The key hierarchy and what it protects.
//!
//! The caller's 256-bit **master key** (key file or environment) never
//! seals data itself. It wraps the store's **data key** (AES-256-GCM, stored
//! wrapped in `mfa_keys`) and gives the key check value that recognises it.
//! From the data key, with HMAC-SHA256 under distinct labels:
//! - the AES-256-GCM key that seals token secrets,
//! - the HMAC key for one-time codes, remembered devices and app passwords,
//! - the HMAC key of the token row MACs and of the backup MAC.
//!
//! `rekey` re-wraps the data key under a new master key, so every sealed
//! secret and keyed hash stays usable. A store created before schema 3 takes
//! its master key's bytes as its data key, so its rows need no re-sealing.

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
        derive(self.key.as_slice(), label)
    }

    /// The key check value stored in the store: recognises the key without
    /// revealing it (a PRF output under a fixed label).
    pub(crate) fn check_value(&self) -> Vec<u8> {
        self.derive(b"key-check").to_vec()
    }

    /// What a store handle keeps of the master key: its id and the key
    /// that wraps the data key.
    pub(crate) fn wrapping(&self) -> MasterWrap {
        MasterWrap {
            id: self.id,
            wrap: aes(&self.derive(b"data-key-wrap")),
        }
    }

    /// The data key of a store created before schema 3: the master key's
    /// own bytes (its sealed rows and hashes were derived from them).
    pub(crate) fn legacy_data_key(&self) -> DataKey {
        DataKey {
            id: self.id,
            key: self.key.clone(),
        }
    }
}

fn derive(key: &[u8], label: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    let mut m = hmac_sha256(key);
    m.update(b"mfa-store/v1/");
    m.update(label);
    out.copy_from_slice(&m.finalize().into_bytes());
    out
}

/// AES-256-GCM with a 256-bit key. `new_from_slice` fails only for a key of
/// another length, and every key here is 32 bytes.
fn aes(key: &Zeroizing<[u8; 32]>) -> Aes256Gcm {
    #[allow(clippy::expect_used)] // a [u8; 32] is an AES-256 key by construction.
    Aes256Gcm::new_from_slice(key.as_slice()).expect("a 32-byte key is an AES-256 key")
}

/// The store's data key: random for a store created with schema 3 or later.
pub(crate) struct DataKey {
    pub(crate) id: u32,
    key: Zeroizing<[u8; 32]>,
}

impl DataKey {
    /// A new random data key with id `id`.
    pub(crate) fn random(id: u32) -> Result<DataKey, Error> {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut_slice()).map_err(|_| Error::Rng)?;
        Ok(DataKey { id, key })
    }

    /// The working keys derived from the data key.
    pub(crate) fn keys(&self) -> Keys {
        Keys {
            key_id: self.id,
            cipher: aes(&derive(self.key.as_slice(), b"token-seal")),
            hash: derive(self.key.as_slice(), b"code-hash"),
            mac: derive(self.key.as_slice(), b"row-mac"),
        }
    }
}

/// What a store handle keeps of the master key.
pub(crate) struct MasterWrap {
    pub(crate) id: u32,
    wrap: Aes256Gcm,
}

fn wrap_aad(data_key_id: u32) -> Vec<u8> {
    let mut a = b"mfa-store/v1/data-key:".to_vec();
    a.extend_from_slice(&data_key_id.to_be_bytes());
    a
}

impl MasterWrap {
    /// Wraps the data key: `1 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, its id
    /// bound as associated data.
    pub(crate) fn wrap(&self, data: &DataKey) -> Result<Vec<u8>, Error> {
        seal_with(&self.wrap, &wrap_aad(data.id), data.key.as_slice())
    }

    /// Unwraps a data key wrapped by [`MasterWrap::wrap`].
    pub(crate) fn unwrap(&self, data_key_id: u32, wrapped: &[u8]) -> Result<DataKey, Error> {
        let raw = open_with(&self.wrap, &wrap_aad(data_key_id), wrapped).ok_or(
            Error::WrongMasterKey {
                expected: data_key_id,
                given: self.id,
            },
        )?;
        let key: [u8; 32] = raw.as_slice().try_into().map_err(|_| Error::Corrupt {
            table: "mfa_keys",
            column: "wrapped",
        })?;
        Ok(DataKey {
            id: data_key_id,
            key: Zeroizing::new(key),
        })
    }
}

fn seal_with(cipher: &Aes256Gcm, aad: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| Error::Rng)?;
    // AES-GCM encryption fails only for messages over 64 GiB.
    let ct = cipher
        .encrypt(&nonce.into(), Payload { msg, aad })
        .map_err(|_| Error::Rng)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(SEAL_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_with(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (&version, rest) = sealed.split_first()?;
    if version != SEAL_V1 || rest.len() < NONCE_LEN + 16 {
        return None;
    }
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    cipher
        .decrypt(&nonce.into(), Payload { msg: ct, aad })
        .ok()
        .map(Zeroizing::new)
}

/// The working keys derived from the data key.
pub(crate) struct Keys {
    /// The data key's id, stored with every sealed secret.
    pub(crate) key_id: u32,
    /// The AES-256-GCM key schedule, built once (its key is wiped on drop).
    cipher: Aes256Gcm,
    hash: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

fn aad(key_id: u32, serial: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(32 + serial.len());
    a.extend_from_slice(b"mfa-store/v1/token:");
    a.extend_from_slice(&key_id.to_be_bytes());
    a.extend_from_slice(serial.as_bytes());
    a
}

/// One field of a MAC'd record: absent, a number, or bytes.
pub(crate) enum MacField<'a> {
    None,
    Int(i64),
    Bytes(&'a [u8]),
}

impl Keys {
    /// Seals `secret` for the token `serial`: `1 ‖ nonce(12) ‖ ciphertext ‖ tag(16)`.
    /// The serial and key id are bound as associated data, so a sealed
    /// secret moved to another row does not open.
    pub(crate) fn seal(&self, serial: &str, secret: &[u8]) -> Result<Vec<u8>, Error> {
        seal_with(&self.cipher, &aad(self.key_id, serial), secret)
    }

    /// Opens a sealed secret.
    pub(crate) fn open(&self, serial: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        open_with(&self.cipher, &aad(self.key_id, serial), sealed).ok_or_else(|| Error::Unseal {
            serial: serial.to_owned(),
        })
    }

    /// HMAC-SHA256 under the MAC key of `purpose` and the length-prefixed
    /// `fields` (so no two field lists give the same input).
    pub(crate) fn mac(&self, purpose: &[u8], fields: &[MacField<'_>]) -> [u8; 32] {
        let mut m = hmac_sha256(self.mac.as_slice());
        m.update(&(purpose.len() as u64).to_be_bytes());
        m.update(purpose);
        for f in fields {
            match f {
                MacField::None => m.update(&[0]),
                MacField::Int(i) => {
                    m.update(&[1]);
                    m.update(&i.to_be_bytes());
                }
                MacField::Bytes(b) => {
                    m.update(&[2]);
                    m.update(&(b.len() as u64).to_be_bytes());
                    m.update(b);
                }
            }
        }
        m.finalize().into_bytes().into()
    }

    /// A MAC that covers a stream (the backup file).
    pub(crate) fn stream_mac(&self, purpose: &[u8]) -> Hmac<Sha256> {
        let mut m = hmac_sha256(self.mac.as_slice());
        m.update(&(purpose.len() as u64).to_be_bytes());
        m.update(purpose);
        m
    }

    /// Keyed hash (HMAC-SHA256) of a one-time code or device token, bound to
    /// its purpose and user: only the hash is stored.
    pub(crate) fn code_hash(&self, purpose: &str, user: &str, code: &str) -> Vec<u8> {
        let mut m = hmac_sha256(self.hash.as_slice());
        for part in [purpose.as_bytes(), user.as_bytes(), code.as_bytes()] {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part);
        }
        m.finalize().into_bytes().to_vec()
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
    fn data_key_wraps_under_the_master_key_only() {
        let m = MasterKey::new(1, [1; 32]).wrapping();
        let d = DataKey::random(1).unwrap();
        let w = m.wrap(&d).unwrap();
        assert_eq!(m.unwrap(1, &w).unwrap().key.as_slice(), d.key.as_slice());
        // Another master key, or the blob bound to another id, does not open.
        let other = MasterKey::new(1, [2; 32]).wrapping();
        assert!(matches!(
            other.unwrap(1, &w),
            Err(Error::WrongMasterKey { .. })
        ));
        assert!(m.unwrap(2, &w).is_err());
        // Two random data keys differ.
        assert_ne!(d.key.as_slice(), DataKey::random(1).unwrap().key.as_slice());
    }

    #[test]
    fn legacy_data_key_keeps_the_schema_2_derivation() {
        // Schema 2 sealed with HMAC(master, "mfa-store/v1/token-seal").
        let master = MasterKey::new(3, [9; 32]);
        let k = master.legacy_data_key().keys();
        let old = aes(&derive(&[9; 32], b"token-seal"));
        let sealed = seal_with(&old, &aad(3, "T1"), b"secret").unwrap();
        assert_eq!(k.open("T1", &sealed).unwrap().as_slice(), b"secret");
    }

    #[test]
    fn macs_bind_every_field() {
        let k = MasterKey::new(1, [1; 32]).legacy_data_key().keys();
        let a = k.mac(b"p", &[MacField::Bytes(b"ab"), MacField::Bytes(b"c")]);
        assert_ne!(
            a,
            k.mac(b"p", &[MacField::Bytes(b"a"), MacField::Bytes(b"bc")])
        );
        assert_ne!(
            a,
            k.mac(b"q", &[MacField::Bytes(b"ab"), MacField::Bytes(b"c")])
        );
        assert_ne!(
            k.mac(b"p", &[MacField::None]),
            k.mac(b"p", &[MacField::Int(0)])
        );
    }

    #[test]
    fn random_digits_are_digits() {
        for n in 6..=9 {
            let c = random_digits(n).unwrap();
            assert_eq!(c.expose().len(), n as usize);
            assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(random_token().unwrap().expose().len(), 26);
    }

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let k = MasterKey::new(7, [3; 32]).legacy_data_key().keys();
        let s = k.seal("T1", b"12345678901234567890").unwrap();
        assert_eq!(
            k.open("T1", &s).unwrap().as_slice(),
            b"12345678901234567890"
        );
        // Bound to the serial.
        assert!(matches!(k.open("T2", &s), Err(Error::Unseal { .. })));
        // Another key does not open it.
        let other = MasterKey::new(7, [4; 32]).legacy_data_key().keys();
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
