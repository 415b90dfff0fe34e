//! Token parameters: hash algorithm, number of digits, TOTP period and T0.

use core::fmt;
use core::num::NonZeroU64;
use core::str::FromStr;

use crate::Error;

/// The HMAC hash function of a token.
///
/// ```
/// use mfa_oath::Algorithm;
/// assert_eq!("sha256".parse::<Algorithm>()?, Algorithm::Sha256);
/// assert_eq!(Algorithm::Sha512.to_string(), "SHA512");
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA-1, the RFC 4226 default and what nearly every token uses.
    #[default]
    Sha1,
    /// HMAC-SHA-256 (RFC 6238).
    Sha256,
    /// HMAC-SHA-512 (RFC 6238).
    Sha512,
}

impl Algorithm {
    /// The canonical name used in `otpauth://` URIs: `SHA1`, `SHA256`, `SHA512`.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Output size of the hash in bytes, which is also the size of a
    /// generated secret.
    ///
    /// ```
    /// assert_eq!(mfa_oath::Algorithm::Sha1.output_len(), 20);
    /// ```
    pub const fn output_len(self) -> usize {
        match self {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Accepts `SHA1`, `SHA256`, `SHA512` in any case, with or without a dash
    /// (`sha-256`) or an `HMAC-` prefix (as PSKC suites write them).
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut buf = [0u8; 16];
        let mut n = 0;
        let t = s.trim();
        let t = t
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("hmac-"))
            .map_or(t, |_| t.get(5..).unwrap_or_default());
        for b in t.bytes().filter(|&b| b != b'-') {
            let slot = buf
                .get_mut(n)
                .ok_or_else(|| Error::UnknownAlgorithm(s.into()))?;
            *slot = b.to_ascii_uppercase();
            n += 1;
        }
        match buf.get(..n) {
            Some(b"SHA1") => Ok(Algorithm::Sha1),
            Some(b"SHA256") => Ok(Algorithm::Sha256),
            Some(b"SHA512") => Ok(Algorithm::Sha512),
            _ => Err(Error::UnknownAlgorithm(s.into())),
        }
    }
}

/// The number of decimal digits in a code: 6 to 9.
///
/// ```
/// use mfa_oath::Digits;
/// assert_eq!(Digits::new(8)?.get(), 8);
/// assert!(Digits::new(5).is_err());
/// assert_eq!(Digits::default(), Digits::SIX);
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digits(u8);

impl Digits {
    /// Six digits, the default.
    pub const SIX: Digits = Digits(6);
    /// Eight digits, as the RFC 6238 test vectors use.
    pub const EIGHT: Digits = Digits(8);

    /// Digits from a count.
    ///
    /// # Errors
    /// [`Error::Digits`] unless `6 <= n <= 9`.
    pub const fn new(n: u32) -> Result<Digits, Error> {
        if n >= 6 && n <= 9 {
            Ok(Digits(n as u8))
        } else {
            Err(Error::Digits(n))
        }
    }

    /// The count.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// `10^digits`, the modulus of the truncated HMAC.
    pub(crate) const fn modulus(self) -> u32 {
        10u32.pow(self.0 as u32)
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::SIX
    }
}

/// A TOTP time step length in seconds (at least 1).
///
/// ```
/// use mfa_oath::Period;
/// assert_eq!(Period::new(60)?.seconds(), 60);
/// assert!(Period::new(0).is_err());
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period(NonZeroU64);

impl Period {
    /// 30 seconds, the RFC 6238 default.
    pub const THIRTY: Period = Period(NonZeroU64::new(30).unwrap());
    /// 60 seconds.
    pub const SIXTY: Period = Period(NonZeroU64::new(60).unwrap());

    /// A period of `seconds`.
    ///
    /// # Errors
    /// [`Error::Period`] if `seconds` is 0.
    pub const fn new(seconds: u64) -> Result<Period, Error> {
        match NonZeroU64::new(seconds) {
            Some(p) => Ok(Period(p)),
            None => Err(Error::Period),
        }
    }

    /// The length in seconds.
    pub const fn seconds(self) -> u64 {
        self.0.get()
    }
}

impl Default for Period {
    fn default() -> Self {
        Period::THIRTY
    }
}
