//! The one type that holds key material.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{Algorithm, Error};

/// A token's shared secret (the HMAC key).
///
/// * wiped from memory when dropped ([`ZeroizeOnDrop`]);
/// * `Debug` prints `Secret([REDACTED])`, and there is no `Display`;
/// * equality is only available in constant time ([`Secret::ct_eq`]);
/// * at least 80 bits and at most [`Secret::MAX_LEN`] bytes; keys under 128
///   bits are accepted (many deployed tokens use 80-bit keys) but flagged by
///   [`Secret::is_weak`].
///
/// ```
/// use mfa_oath::Secret;
///
/// // Lenient base32: lower case, spaces, dashes and padding are fine.
/// let s = Secret::from_base32("jbsw y3dp-ehpk 3pxp")?;
/// assert_eq!(s.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
/// assert!(s.is_weak()); // 80 bits
/// assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
///
/// // Errors name the character and where it is.
/// let err = Secret::from_base32("1234567abcdef1234567abcdef").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid base32 encoding due to illegal character '1' at position 1"
/// );
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// The shortest secret accepted: 10 bytes (80 bits).
    pub const MIN_LEN: usize = 10;
    /// Secrets shorter than this (16 bytes, 128 bits, the RFC 4226 minimum)
    /// are accepted but reported as weak.
    pub const STRONG_LEN: usize = 16;
    /// The longest secret accepted: 1024 bytes. HMAC hashes longer keys
    /// anyway; the bound keeps hostile input from allocating without limit.
    pub const MAX_LEN: usize = 1024;

    /// A secret from raw bytes (copied).
    ///
    /// # Errors
    /// [`Error::EmptySecret`], [`Error::SecretTooShort`] (under 80 bits) or
    /// [`Error::SecretTooLong`].
    ///
    /// ```
    /// let s = mfa_oath::Secret::from_bytes(b"12345678901234567890")?;
    /// assert_eq!(s.len(), 20);
    /// assert!(!s.is_weak());
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Secret, Error> {
        check_len(bytes.len())?;
        Ok(Secret {
            bytes: bytes.to_vec(),
        })
    }

    /// A secret that takes ownership of `bytes`. On error the bytes are wiped.
    ///
    /// # Errors
    /// As [`Secret::from_bytes`].
    pub fn from_vec(mut bytes: Vec<u8>) -> Result<Secret, Error> {
        if let Err(e) = check_len(bytes.len()) {
            bytes.zeroize();
            return Err(e);
        }
        Ok(Secret { bytes })
    }

    /// A secret from RFC 4648 base32, leniently: upper or lower case,
    /// spaces and dashes anywhere as separators, optional trailing `=`
    /// padding, and any value in the unused bits of the last symbol (as
    /// Python's decoder and authenticator apps accept).
    ///
    /// # Errors
    /// [`Error::Base32Char`] naming the first illegal character and its
    /// 1-based position (a `=` followed by data counts as illegal),
    /// [`Error::Base32Length`] for a symbol count that cannot encode whole
    /// bytes, then the length errors of [`Secret::from_bytes`].
    ///
    /// ```
    /// use mfa_oath::{Error, Secret};
    /// // The example key of the cloud reference: 26 symbols with 2 leftover bits set.
    /// assert_eq!(Secret::from_base32("2234567abcdef2234567abcdef")?.len(), 16);
    /// assert_eq!(
    ///     Secret::from_base32("ABCD8EFG").unwrap_err(),
    ///     Error::Base32Char { ch: '8', position: 5 }
    /// );
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn from_base32(text: &str) -> Result<Secret, Error> {
        Secret::from_vec(decode_base32(text)?)
    }

    /// A secret from hexadecimal, upper or lower case (spaces allowed as
    /// separators).
    ///
    /// # Errors
    /// [`Error::HexChar`], [`Error::HexLength`], then the length errors of
    /// [`Secret::from_bytes`].
    ///
    /// ```
    /// let s = mfa_oath::Secret::from_hex("3132333435363738393031323334353637383930")?;
    /// assert_eq!(s.expose_secret(), b"12345678901234567890");
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn from_hex(text: &str) -> Result<Secret, Error> {
        let mut digits: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(text.len()));
        for (i, ch) in text.chars().enumerate() {
            match ch {
                ' ' => {}
                c if c.is_ascii_hexdigit() => digits.push(c as u8),
                c => {
                    return Err(Error::HexChar {
                        ch: c,
                        position: i + 1,
                    });
                }
            }
        }
        if !digits.len().is_multiple_of(2) {
            return Err(Error::HexLength {
                digits: digits.len(),
            });
        }
        check_len(digits.len() / 2)?;
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(&digits)
            .map_err(|_| Error::HexLength {
                digits: digits.len(),
            })?;
        Secret::from_vec(bytes)
    }

    /// A new random secret of the size of `algorithm`'s output (160 bits for
    /// SHA-1, 256 for SHA-256, 512 for SHA-512), from an injected
    /// cryptographic random number generator.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails.
    ///
    /// ```
    /// use mfa_oath::{Algorithm, Secret};
    /// # struct Fixed; impl rand_core::TryRng for Fixed { type Error = core::convert::Infallible;
    /// # fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
    /// # fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
    /// # fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(7); Ok(()) } }
    /// # impl rand_core::TryCryptoRng for Fixed {}
    /// # let mut rng = Fixed; // a real caller passes e.g. getrandom::SysRng
    /// let s = Secret::generate(&mut rng, Algorithm::Sha256)?;
    /// assert_eq!(s.len(), 32);
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn generate<R>(rng: &mut R, algorithm: Algorithm) -> Result<Secret, Error>
    where
        R: rand_core::TryCryptoRng + ?Sized,
    {
        let mut bytes = alloc::vec![0u8; algorithm.output_len()];
        if rng.try_fill_bytes(&mut bytes).is_err() {
            bytes.zeroize();
            return Err(Error::Rng);
        }
        Secret::from_vec(bytes)
    }

    /// The canonical text form: upper-case base32 without padding.
    /// The returned string is wiped when dropped.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.bytes))
    }

    /// Lower-case hexadecimal. The returned string is wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::HEXLOWER.encode(&self.bytes))
    }

    /// The raw key bytes. Named loudly so that every use is easy to audit.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    #[allow(clippy::len_without_is_empty)] // a Secret is never empty
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Length in bits.
    pub fn bits(&self) -> usize {
        self.bytes.len() * 8
    }

    /// True for keys under 128 bits: accepted, but below RFC 4226's
    /// requirement; worth a warning to the administrator.
    pub fn is_weak(&self) -> bool {
        self.bytes.len() < Secret::STRONG_LEN
    }

    /// Constant-time equality (in the contents; the length is not secret).
    ///
    /// ```
    /// use mfa_oath::Secret;
    /// let a = Secret::from_base32("JBSWY3DPEHPK3PXP")?;
    /// let b = Secret::from_hex("48656c6c6f21deadbeef")?;
    /// assert!(a.ct_eq(&b));
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn ct_eq(&self, other: &Secret) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

fn check_len(len: usize) -> Result<(), Error> {
    if len == 0 {
        Err(Error::EmptySecret)
    } else if len < Secret::MIN_LEN {
        Err(Error::SecretTooShort { bits: len * 8 })
    } else if len > Secret::MAX_LEN {
        Err(Error::SecretTooLong {
            bytes: len,
            max: Secret::MAX_LEN,
        })
    } else {
        Ok(())
    }
}

/// Lenient RFC 4648 base32 decoding, see [`Secret::from_base32`].
///
/// The validation pass (which names the offending character) and the
/// normalisation to canonical upper-case symbols are ours; the decoding
/// itself is `data-encoding`'s. Leftover bits in the last symbol are cleared
/// first, because `data-encoding` (rightly, for a strict decoder) refuses them.
pub(crate) fn decode_base32(text: &str) -> Result<Vec<u8>, Error> {
    // Bound the work before allocating: 8 symbols make 5 bytes.
    let max_symbols = Secret::MAX_LEN * 8 / 5 + 8;
    let mut symbols: Zeroizing<Vec<u8>> =
        Zeroizing::new(Vec::with_capacity(text.len().min(max_symbols)));
    let mut padding_at: Option<usize> = None;
    for (i, ch) in text.chars().enumerate() {
        let position = i + 1;
        match ch {
            ' ' | '-' => {}
            '=' => {
                padding_at.get_or_insert(position);
            }
            'A'..='Z' | '2'..='7' | 'a'..='z' if padding_at.is_none() => {
                if symbols.len() >= max_symbols {
                    return Err(Error::SecretTooLong {
                        bytes: symbols.len() * 5 / 8,
                        max: Secret::MAX_LEN,
                    });
                }
                symbols.push(ch.to_ascii_uppercase() as u8);
            }
            c => return Err(Error::Base32Char { ch: c, position }),
        }
    }
    // Symbols in the last (partial) group of 8, and the bits they leave over.
    let leftover_bits = match symbols.len() % 8 {
        0 => 0,
        2 => 2,
        4 => 4,
        5 => 1,
        7 => 3,
        _ => {
            return Err(Error::Base32Length {
                symbols: symbols.len(),
            });
        }
    };
    if let Some(last) = symbols.last_mut() {
        let value = symbol_value(*last);
        let mask: u8 = !((1u8 << leftover_bits) - 1);
        *last = SYMBOLS
            .get(usize::from(value & mask))
            .copied()
            .unwrap_or(b'A');
    }
    data_encoding::BASE32_NOPAD
        .decode(&symbols)
        .map_err(|e| Error::Base32Length {
            symbols: e.position,
        })
}

const SYMBOLS: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn symbol_value(s: u8) -> u8 {
    match s {
        b'A'..=b'Z' => s - b'A',
        b'2'..=b'7' => s - b'2' + 26,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_digit_one_and_eight_with_position() {
        assert_eq!(
            Secret::from_base32("1234567abcdef1234567abcdef").unwrap_err(),
            Error::Base32Char {
                ch: '1',
                position: 1
            }
        );
        assert_eq!(
            Secret::from_base32("ABCDEFG8").unwrap_err(),
            Error::Base32Char {
                ch: '8',
                position: 8
            }
        );
        assert_eq!(
            Secret::from_base32("ABCDEFGHIJKLMNOP0").unwrap_err(),
            Error::Base32Char {
                ch: '0',
                position: 17
            }
        );
        assert_eq!(
            Secret::from_base32("ABCDEFGHIJKLMNOPé").unwrap_err(),
            Error::Base32Char {
                ch: 'é',
                position: 17
            }
        );
    }

    #[test]
    fn newer_reference_example_is_valid_with_leftover_bits() {
        let s = Secret::from_base32("2234567abcdef2234567abcdef").unwrap();
        assert_eq!(s.len(), 16);
        // Same bytes as the strict encoding with the leftover bits cleared.
        let canonical = s.to_base32();
        assert_eq!(canonical.as_str(), "2234567ABCDEF2234567ABCDEE");
        let again = Secret::from_base32(&canonical).unwrap();
        assert!(again.ct_eq(&s));
    }

    #[test]
    fn padding_and_separators() {
        let a = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        let b = Secret::from_base32("gezd-gnbv gy3t-qojq gezd gnbv gy3t qojq").unwrap();
        assert!(a.ct_eq(&b));
        assert_eq!(a.expose_secret(), b"12345678901234567890");
        let c = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let d = Secret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEA======").unwrap();
        assert_eq!(c.len(), 10);
        assert_eq!(d.len(), 16);
        // Data after padding is illegal, at the data's position.
        assert_eq!(
            Secret::from_base32("JBSWY3DPEHPK3PXP==AB").unwrap_err(),
            Error::Base32Char {
                ch: 'A',
                position: 19
            }
        );
    }

    #[test]
    fn impossible_lengths() {
        assert_eq!(
            Secret::from_base32("JBSWY3DPEHPK3PXPA").unwrap_err(),
            Error::Base32Length { symbols: 17 }
        );
        assert_eq!(Secret::from_base32("").unwrap_err(), Error::EmptySecret);
        assert_eq!(Secret::from_base32(" - ").unwrap_err(), Error::EmptySecret);
        assert_eq!(
            Secret::from_base32("JBSWY3DP").unwrap_err(),
            Error::SecretTooShort { bits: 40 }
        );
    }

    #[test]
    fn too_long_input_is_bounded() {
        let long = "A".repeat(100_000);
        assert!(matches!(
            Secret::from_base32(&long).unwrap_err(),
            Error::SecretTooLong { .. }
        ));
    }

    #[test]
    fn hex() {
        assert_eq!(
            Secret::from_hex("31323g").unwrap_err(),
            Error::HexChar {
                ch: 'g',
                position: 6
            }
        );
        assert_eq!(
            Secret::from_hex("313").unwrap_err(),
            Error::HexLength { digits: 3 }
        );
        let s = Secret::from_hex("48656C6C6F21DEADBEEF").unwrap();
        assert_eq!(s.to_hex().as_str(), "48656c6c6f21deadbeef");
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(alloc::format!("{s:?}"), "Secret([REDACTED])");
        assert!(!alloc::format!("{s:?}").contains("3132"));
    }
}
