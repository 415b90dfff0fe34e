//! PSKC cryptography: algorithm URIs, CBC and key-wrap decryption and
//! encryption, ValueMAC, PBKDF2. All RustCrypto, digest 0.11 / cipher 0.5.

use aes::{Aes128, Aes192, Aes256};
use camellia::{Camellia128, Camellia192, Camellia256};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, BlockSizeUser,
    KeyInit, KeyIvInit,
};
use des::{TdesEde2, TdesEde3};
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use sha2::{Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::Error;

/// The fragment of an algorithm URI (after the last `#`), lower case, with
/// the aliases older files use mapped to the canonical name.
fn fragment(uri: &str) -> String {
    let frag = uri
        .rsplit('#')
        .next()
        .unwrap_or(uri)
        .trim()
        .to_ascii_lowercase();
    let canon = match frag.as_str() {
        "3des-cbc" | "3des112-cbc" | "3des168-cbc" | "pbe-3des112-cbc" | "pbe-3des168-cbc" => {
            "tripledes-cbc"
        }
        "pbe-aes128-cbc" => "aes128-cbc",
        "pbe-aes192-cbc" => "aes192-cbc",
        "pbe-aes256-cbc" => "aes256-cbc",
        "kw-3des" => "kw-tripledes",
        "camellia128" => "camellia128-cbc",
        "camellia192" => "camellia192-cbc",
        "camellia256" => "camellia256-cbc",
        "hmac-sha-1" => "hmac-sha1",
        "hmac-sha-224" => "hmac-sha224",
        "hmac-sha-256" => "hmac-sha256",
        "hmac-sha-384" => "hmac-sha384",
        "hmac-sha-512" => "hmac-sha512",
        other => other,
    };
    canon.to_owned()
}

/// True for a missing algorithm or the legacy `NONE`.
pub(crate) fn is_none_algorithm(uri: &str) -> bool {
    uri.trim().is_empty() || uri.trim().eq_ignore_ascii_case("none")
}

/// A supported value-encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    TripleDesCbc,
    Camellia128Cbc,
    Camellia192Cbc,
    Camellia256Cbc,
    KwAes128,
    KwAes192,
    KwAes256,
    KwTripleDes,
    KwCamellia128,
    KwCamellia192,
    KwCamellia256,
}

impl Cipher {
    pub(crate) fn from_uri(uri: &str) -> Result<Cipher, Error> {
        Ok(match fragment(uri).as_str() {
            "aes128-cbc" => Cipher::Aes128Cbc,
            "aes192-cbc" => Cipher::Aes192Cbc,
            "aes256-cbc" => Cipher::Aes256Cbc,
            "tripledes-cbc" => Cipher::TripleDesCbc,
            "camellia128-cbc" => Cipher::Camellia128Cbc,
            "camellia192-cbc" => Cipher::Camellia192Cbc,
            "camellia256-cbc" => Cipher::Camellia256Cbc,
            "kw-aes128" => Cipher::KwAes128,
            "kw-aes192" => Cipher::KwAes192,
            "kw-aes256" => Cipher::KwAes256,
            "kw-tripledes" => Cipher::KwTripleDes,
            "kw-camellia128" => Cipher::KwCamellia128,
            "kw-camellia192" => Cipher::KwCamellia192,
            "kw-camellia256" => Cipher::KwCamellia256,
            _ => {
                return Err(Error::UnsupportedEncryption {
                    algorithm: uri.to_owned(),
                });
            }
        })
    }

    /// The canonical URI (as RFC 6030 / XML Encryption name it).
    pub(crate) fn uri(self) -> &'static str {
        match self {
            Cipher::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Cipher::Aes192Cbc => "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
            Cipher::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            Cipher::TripleDesCbc => "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
            Cipher::Camellia128Cbc => "http://www.w3.org/2001/04/xmldsig-more#camellia128-cbc",
            Cipher::Camellia192Cbc => "http://www.w3.org/2001/04/xmldsig-more#camellia192-cbc",
            Cipher::Camellia256Cbc => "http://www.w3.org/2001/04/xmldsig-more#camellia256-cbc",
            Cipher::KwAes128 => "http://www.w3.org/2001/04/xmlenc#kw-aes128",
            Cipher::KwAes192 => "http://www.w3.org/2001/04/xmlenc#kw-aes192",
            Cipher::KwAes256 => "http://www.w3.org/2001/04/xmlenc#kw-aes256",
            Cipher::KwTripleDes => "http://www.w3.org/2001/04/xmlenc#kw-tripledes",
            Cipher::KwCamellia128 => "http://www.w3.org/2001/04/xmldsig-more#kw-camellia128",
            Cipher::KwCamellia192 => "http://www.w3.org/2001/04/xmldsig-more#kw-camellia192",
            Cipher::KwCamellia256 => "http://www.w3.org/2001/04/xmldsig-more#kw-camellia256",
        }
    }

    fn name(self) -> &'static str {
        self.uri().rsplit('#').next().unwrap_or("")
    }

    /// Accepted key lengths (the first is the one PBE derivation uses).
    pub(crate) fn key_lengths(self) -> &'static [usize] {
        match self {
            Cipher::Aes128Cbc
            | Cipher::KwAes128
            | Cipher::Camellia128Cbc
            | Cipher::KwCamellia128 => &[16],
            Cipher::Aes192Cbc
            | Cipher::KwAes192
            | Cipher::Camellia192Cbc
            | Cipher::KwCamellia192 => &[24],
            Cipher::Aes256Cbc
            | Cipher::KwAes256
            | Cipher::Camellia256Cbc
            | Cipher::KwCamellia256 => &[32],
            Cipher::TripleDesCbc | Cipher::KwTripleDes => &[16, 24],
        }
    }

    fn expected(self) -> &'static str {
        match self.key_lengths() {
            [16] => "16 bytes",
            [24] => "24 bytes",
            [32] => "32 bytes",
            _ => "16 or 24 bytes",
        }
    }

    /// True for CBC modes, whose values need a ValueMAC to be authentic.
    pub(crate) fn is_cbc(self) -> bool {
        matches!(
            self,
            Cipher::Aes128Cbc
                | Cipher::Aes192Cbc
                | Cipher::Aes256Cbc
                | Cipher::TripleDesCbc
                | Cipher::Camellia128Cbc
                | Cipher::Camellia192Cbc
                | Cipher::Camellia256Cbc
        )
    }

    fn check_key(self, key: &[u8]) -> Result<(), Error> {
        if self.key_lengths().contains(&key.len()) {
            Ok(())
        } else {
            Err(Error::KeyLength {
                algorithm: self.name(),
                len: key.len(),
                expected: self.expected(),
            })
        }
    }

    /// Decrypts `data` (IV first for CBC unless `iv` is given).
    /// `Err(None)` means the key is wrong or the data is damaged (padding or
    /// integrity check failed); `Err(Some(e))` a configuration error.
    pub(crate) fn decrypt(
        self,
        key: &[u8],
        data: &[u8],
        iv: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, Option<Error>> {
        self.check_key(key).map_err(Some)?;
        let out = match self {
            Cipher::Aes128Cbc => cbc_decrypt::<Aes128>(key, data, iv),
            Cipher::Aes192Cbc => cbc_decrypt::<Aes192>(key, data, iv),
            Cipher::Aes256Cbc => cbc_decrypt::<Aes256>(key, data, iv),
            Cipher::Camellia128Cbc => cbc_decrypt::<Camellia128>(key, data, iv),
            Cipher::Camellia192Cbc => cbc_decrypt::<Camellia192>(key, data, iv),
            Cipher::Camellia256Cbc => cbc_decrypt::<Camellia256>(key, data, iv),
            Cipher::TripleDesCbc if key.len() == 16 => cbc_decrypt::<TdesEde2>(key, data, iv),
            Cipher::TripleDesCbc => cbc_decrypt::<TdesEde3>(key, data, iv),
            Cipher::KwAes128 => kw_unwrap::<Aes128>(key, data),
            Cipher::KwAes192 => kw_unwrap::<Aes192>(key, data),
            Cipher::KwAes256 => kw_unwrap::<Aes256>(key, data),
            Cipher::KwCamellia128 => kw_unwrap::<Camellia128>(key, data),
            Cipher::KwCamellia192 => kw_unwrap::<Camellia192>(key, data),
            Cipher::KwCamellia256 => kw_unwrap::<Camellia256>(key, data),
            Cipher::KwTripleDes if key.len() == 16 => tdes_kw_unwrap::<TdesEde2>(key, data),
            Cipher::KwTripleDes => tdes_kw_unwrap::<TdesEde3>(key, data),
        };
        out.ok_or(None)
    }

    /// Encrypts `plain` (CBC: a fresh IV from `iv`, written first; PKCS#7
    /// padding). Key wrap needs a multiple of 8 bytes, at least 16.
    pub(crate) fn encrypt(self, key: &[u8], plain: &[u8], iv: &[u8]) -> Result<Vec<u8>, Error> {
        self.check_key(key)?;
        let bad = || Error::WriterConfig {
            reason: "the value cannot be encrypted with this algorithm (key wrap needs a multiple of 8 bytes, at least 16)",
        };
        match self {
            Cipher::Aes128Cbc => cbc_encrypt::<Aes128>(key, plain, iv),
            Cipher::Aes192Cbc => cbc_encrypt::<Aes192>(key, plain, iv),
            Cipher::Aes256Cbc => cbc_encrypt::<Aes256>(key, plain, iv),
            Cipher::Camellia128Cbc => cbc_encrypt::<Camellia128>(key, plain, iv),
            Cipher::Camellia192Cbc => cbc_encrypt::<Camellia192>(key, plain, iv),
            Cipher::Camellia256Cbc => cbc_encrypt::<Camellia256>(key, plain, iv),
            Cipher::TripleDesCbc if key.len() == 16 => cbc_encrypt::<TdesEde2>(key, plain, iv),
            Cipher::TripleDesCbc => cbc_encrypt::<TdesEde3>(key, plain, iv),
            Cipher::KwAes128 => kw_wrap::<Aes128>(key, plain),
            Cipher::KwAes192 => kw_wrap::<Aes192>(key, plain),
            Cipher::KwAes256 => kw_wrap::<Aes256>(key, plain),
            Cipher::KwCamellia128 => kw_wrap::<Camellia128>(key, plain),
            Cipher::KwCamellia192 => kw_wrap::<Camellia192>(key, plain),
            Cipher::KwCamellia256 => kw_wrap::<Camellia256>(key, plain),
            Cipher::KwTripleDes => None,
        }
        .ok_or_else(bad)
    }

    /// The IV / block length for CBC modes.
    pub(crate) fn block_len(self) -> usize {
        match self {
            Cipher::TripleDesCbc | Cipher::KwTripleDes => 8,
            _ => 16,
        }
    }
}

fn cbc_decrypt<C>(key: &[u8], data: &[u8], iv: Option<&[u8]>) -> Option<Zeroizing<Vec<u8>>>
where
    C: BlockCipherDecrypt + KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    let bs = <C as BlockSizeUser>::block_size();
    let (iv, ct) = match iv {
        Some(iv) => (iv, data),
        None => (data.get(..bs)?, data.get(bs..)?),
    };
    if ct.is_empty() || ct.len() % bs != 0 {
        return None;
    }
    let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let len = dec.decrypt_padded::<Pkcs7>(&mut buf).ok()?.len();
    buf.truncate(len);
    Some(buf)
}

fn cbc_encrypt<C>(key: &[u8], plain: &[u8], iv: &[u8]) -> Option<Vec<u8>>
where
    C: BlockCipherEncrypt + KeyInit,
    cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
{
    let bs = <C as BlockSizeUser>::block_size();
    let enc = cbc::Encryptor::<C>::new_from_slices(key, iv.get(..bs)?).ok()?;
    let mut buf = Zeroizing::new(vec![0u8; (plain.len() / bs + 1) * bs]);
    buf.get_mut(..plain.len())?.copy_from_slice(plain);
    let ct = enc.encrypt_padded::<Pkcs7>(&mut buf, plain.len()).ok()?;
    let mut out = Vec::with_capacity(bs + ct.len());
    out.extend_from_slice(iv.get(..bs)?);
    out.extend_from_slice(ct);
    Some(out)
}

/// RFC 3394 key unwrap, then RFC 5649 (padded) key unwrap: python-pskc
/// writes values whose length is not a multiple of 8 with RFC 5649. Works
/// over any 128-bit block cipher (AES, Camellia).
fn kw_unwrap<C>(key: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16> + BlockCipherEncrypt + KeyInit,
{
    let mut buf = Zeroizing::new(vec![0u8; data.len()]);
    if data.len() >= 24
        && let Ok(kw) = aes_kw::AesKw::<C>::new_from_slice(key)
        && let Ok(out) = kw.unwrap_key(data, &mut buf)
    {
        let len = out.len();
        buf.truncate(len);
        return Some(buf);
    }
    let kwp = aes_kw::AesKwp::<C>::new_from_slice(key).ok()?;
    let len = kwp.unwrap_key(data, &mut buf).ok()?.len();
    buf.truncate(len);
    Some(buf)
}

/// RFC 3394 key wrap, or RFC 5649 when the length is not a multiple of 8
/// (or under 16 bytes), as python-pskc does.
fn kw_wrap<C>(key: &[u8], plain: &[u8]) -> Option<Vec<u8>>
where
    C: BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16> + BlockCipherEncrypt + KeyInit,
{
    if plain.is_empty() {
        return None;
    }
    let mut buf = vec![0u8; plain.len().div_ceil(8) * 8 + 8];
    let len = if plain.len().is_multiple_of(8) && plain.len() >= 16 {
        aes_kw::AesKw::<C>::new_from_slice(key)
            .ok()?
            .wrap_key(plain, &mut buf)
            .ok()?
            .len()
    } else {
        aes_kw::AesKwp::<C>::new_from_slice(key)
            .ok()?
            .wrap_key(plain, &mut buf)
            .ok()?
            .len()
    };
    buf.truncate(len);
    Some(buf)
}

/// RFC 3217 Triple-DES key wrap, unwrap direction.
fn tdes_kw_unwrap<C>(key: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>>
where
    C: BlockCipherDecrypt + KeyInit,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    const IV: [u8; 8] = [0x4a, 0xdd, 0xa2, 0x2c, 0x79, 0xe8, 0x21, 0x05];
    if data.len() < 24 || !data.len().is_multiple_of(8) {
        return None;
    }
    let mut temp3 = Zeroizing::new(data.to_vec());
    cbc::Decryptor::<C>::new_from_slices(key, &IV)
        .ok()?
        .decrypt_padded::<cbc::cipher::block_padding::NoPadding>(&mut temp3)
        .ok()?;
    temp3.reverse();
    let (iv, temp1) = temp3.split_at(8);
    let mut wkcks = Zeroizing::new(temp1.to_vec());
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded::<cbc::cipher::block_padding::NoPadding>(&mut wkcks)
        .ok()?;
    let (cek, icv) = wkcks.split_at(wkcks.len().checked_sub(8)?);
    let digest = Sha1::digest(cek);
    let check = digest.get(..8)?;
    if subtle::ConstantTimeEq::ct_eq(check, icv).into() {
        Some(Zeroizing::new(cek.to_vec()))
    } else {
        None
    }
}

/// A ValueMAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacAlgorithm {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlgorithm {
    pub(crate) fn from_uri(uri: &str) -> Result<MacAlgorithm, Error> {
        Ok(match fragment(uri).as_str() {
            "hmac-sha1" => MacAlgorithm::Sha1,
            "hmac-sha224" => MacAlgorithm::Sha224,
            "hmac-sha256" => MacAlgorithm::Sha256,
            "hmac-sha384" => MacAlgorithm::Sha384,
            "hmac-sha512" => MacAlgorithm::Sha512,
            _ => {
                return Err(Error::UnsupportedMac {
                    algorithm: uri.to_owned(),
                });
            }
        })
    }

    pub(crate) fn uri(self) -> &'static str {
        match self {
            MacAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
            MacAlgorithm::Sha224 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha224",
            MacAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
            MacAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha384",
            MacAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512",
        }
    }

    pub(crate) fn output_len(self) -> usize {
        match self {
            MacAlgorithm::Sha1 => 20,
            MacAlgorithm::Sha224 => 28,
            MacAlgorithm::Sha256 => 32,
            MacAlgorithm::Sha384 => 48,
            MacAlgorithm::Sha512 => 64,
        }
    }

    /// Constant-time check of `tag` over `data`.
    pub(crate) fn verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        fn v<M: Mac + KeyInit>(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.verify_slice(tag).is_ok()
                }
                Err(_) => false,
            }
        }
        match self {
            MacAlgorithm::Sha1 => v::<Hmac<Sha1>>(key, data, tag),
            MacAlgorithm::Sha224 => v::<Hmac<Sha224>>(key, data, tag),
            MacAlgorithm::Sha256 => v::<Hmac<Sha256>>(key, data, tag),
            MacAlgorithm::Sha384 => v::<Hmac<Sha384>>(key, data, tag),
            MacAlgorithm::Sha512 => v::<Hmac<Sha512>>(key, data, tag),
        }
    }

    /// The MAC of `data`.
    pub(crate) fn compute(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn c<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            MacAlgorithm::Sha1 => c::<Hmac<Sha1>>(key, data),
            MacAlgorithm::Sha224 => c::<Hmac<Sha224>>(key, data),
            MacAlgorithm::Sha256 => c::<Hmac<Sha256>>(key, data),
            MacAlgorithm::Sha384 => c::<Hmac<Sha384>>(key, data),
            MacAlgorithm::Sha512 => c::<Hmac<Sha512>>(key, data),
        }
    }

    /// PBKDF2 with this HMAC as PRF.
    pub(crate) fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
        match self {
            MacAlgorithm::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, rounds, out),
            MacAlgorithm::Sha224 => pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, rounds, out),
            MacAlgorithm::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, rounds, out),
            MacAlgorithm::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, rounds, out),
            MacAlgorithm::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, rounds, out),
        }
    }
}

/// True if the URI names PBKDF2.
pub(crate) fn is_pbkdf2(uri: &str) -> bool {
    fragment(uri) == "pbkdf2"
}

/// The PBKDF2 URI written by [`crate::PskcWriter`].
pub(crate) const PBKDF2_URI: &str =
    "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";

/// Lenient base64 (RFC 4648 with padding; ASCII whitespace ignored).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut clean: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(text.len()));
    clean.extend(text.bytes().filter(|b| !b.is_ascii_whitespace()));
    data_encoding::BASE64.decode(&clean).ok()
}

/// Standard base64 with padding.
pub(crate) fn b64_encode(data: &[u8]) -> String {
    data_encoding::BASE64.encode(data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap()
    }

    /// Vectors computed with python-pskc 1.4 / cryptography (`encrypt`).
    #[test]
    fn triple_des_cbc_two_and_three_key() {
        let k3: Vec<u8> = (1..=24).collect();
        let k2: Vec<u8> = (1..=16).collect();
        let ct3 = hex("0000000000000000bdf5d74d7d008d0b6c506c69ceb0031b639a867fa3d26088");
        let ct2 = hex("0000000000000000092d46063c61e9aad6dd6a623122cba9db57102d6ae4afc4");
        assert_eq!(
            &*Cipher::TripleDesCbc.decrypt(&k3, &ct3, None).unwrap(),
            b"12345678901234567890"
        );
        assert_eq!(
            &*Cipher::TripleDesCbc.decrypt(&k2, &ct2, None).unwrap(),
            b"12345678901234567890"
        );
        assert_eq!(
            Cipher::TripleDesCbc
                .encrypt(&k3, b"12345678901234567890", &[0; 8])
                .unwrap(),
            ct3
        );
    }
}
