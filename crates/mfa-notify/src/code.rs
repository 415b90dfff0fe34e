//! One-time codes and the channels that carry them.

use core::fmt;

use mfa_oath::UnixTime;
use zeroize::Zeroizing;

use crate::Error;

/// How a one-time code reaches the user's phone (mfa-store's
/// `Channel::Sms` / `Channel::Voice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeChannel {
    /// A text message.
    Sms,
    /// A phone call reading the code out.
    Voice,
}

impl CodeChannel {
    /// `sms` or `voice`, as in the webhook payload and on the command's
    /// stdin.
    pub const fn as_str(self) -> &'static str {
        match self {
            CodeChannel::Sms => "sms",
            CodeChannel::Voice => "voice",
        }
    }
}

impl fmt::Display for CodeChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A one-time code to deliver: 1 to 64 ASCII letters or digits (the
/// store's limit), wiped from memory when dropped, `Debug` without the
/// value, no `Display`. (A [`mfa_oath::Secret`] is a key of at least 80
/// bits, so a six-digit code does not fit it.)
///
/// ```
/// let code = mfa_notify::OneTimeCode::new("042917")?;
/// assert_eq!(format!("{code:?}"), "OneTimeCode([REDACTED])");
/// assert!(mfa_notify::OneTimeCode::new("12 34").is_err());
/// # Ok::<(), mfa_notify::Error>(())
/// ```
#[derive(Clone)]
pub struct OneTimeCode(Zeroizing<String>);

impl OneTimeCode {
    /// The longest code accepted (as mfa-store's `create_code`).
    pub const MAX_LEN: usize = 64;

    /// Checks and copies `code`.
    ///
    /// # Errors
    /// [`Error::InvalidCode`] (without the code).
    pub fn new(code: &str) -> Result<OneTimeCode, Error> {
        if code.is_empty()
            || code.len() > Self::MAX_LEN
            || !code.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(Error::InvalidCode {
                len: code.chars().count(),
            });
        }
        Ok(OneTimeCode(Zeroizing::new(code.to_owned())))
    }

    /// The code, for the message only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The code with a space between characters (`0 4 2 9 1 7`), so that
    /// text-to-speech reads digits rather than a number.
    pub(crate) fn spaced(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(self.0.len() * 2));
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode([REDACTED])")
    }
}

/// Whole minutes from `now` until `expires`, rounded up, at least 1.
pub(crate) fn minutes_left(now: UnixTime, expires: UnixTime) -> u64 {
    expires
        .secs()
        .saturating_sub(now.secs())
        .div_ceil(60)
        .max(1)
}

/// `YYYY-MM-DD HH:MM:SS UTC`, through the one calendar (mfa-time).
pub(crate) fn format_time(t: UnixTime) -> String {
    t.utc().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_and_minutes() {
        assert_eq!(
            format_time(UnixTime::from_secs(0)),
            "1970-01-01 00:00:00 UTC"
        );
        assert_eq!(
            format_time(UnixTime::from_secs(1_700_000_000)),
            "2023-11-14 22:13:20 UTC"
        );
        assert_eq!(
            format_time(UnixTime::from_secs(951_782_400)),
            "2000-02-29 00:00:00 UTC"
        );
        let t = |s| UnixTime::from_secs(s);
        assert_eq!(minutes_left(t(100), t(400)), 5);
        assert_eq!(minutes_left(t(100), t(401)), 6);
        assert_eq!(minutes_left(t(500), t(400)), 1);
    }

    #[test]
    fn codes() {
        let c = OneTimeCode::new("12ab").unwrap();
        assert_eq!(&*c.spaced(), "1 2 a b");
        assert!(matches!(
            OneTimeCode::new(""),
            Err(Error::InvalidCode { len: 0 })
        ));
        assert!(OneTimeCode::new(&"1".repeat(65)).is_err());
        let e = OneTimeCode::new("12345\n").unwrap_err().to_string();
        assert!(!e.contains("12345"), "{e}");
    }
}
