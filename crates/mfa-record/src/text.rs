//! Validated text values: user IDs, names, e-mail addresses, server names,
//! token serial numbers, app password names, phone numbers, device tokens.

use core::fmt;
use core::str::FromStr;

use sha2::{Digest, Sha256};

use crate::{Error, Field};

/// Checks the rules every text value shares: not empty, at most `max`
/// characters, no control characters.
fn check_text(field: Field, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty { field });
    }
    let mut len = 0usize;
    for (i, ch) in s.chars().enumerate() {
        if ch.is_control() {
            return Err(Error::InvalidCharacter {
                field,
                ch,
                position: i + 1,
            });
        }
        len += 1;
    }
    if len > max {
        return Err(Error::TooLong { field, len, max });
    }
    Ok(())
}

macro_rules! text_type {
    (
        $(#[$meta:meta])*
        $name:ident, $field:ident, $max:expr, $check:path, $example:literal
    ) => {
        $(#[$meta])*
        ///
        /// Not empty, at most
        #[doc = concat!("[`", stringify!($name), "::MAX_LEN`]")]
        /// characters, no control characters.
        ///
        /// ```
        #[doc = concat!("use mfa_record::", stringify!($name), ";")]
        #[doc = concat!("let v = ", stringify!($name), "::new(\"", $example, "\")?;")]
        #[doc = concat!("assert_eq!(v.as_str(), \"", $example, "\");")]
        #[doc = concat!("assert!(", stringify!($name), "::new(\"\").is_err());")]
        /// # Ok::<(), mfa_record::Error>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters.
            pub const MAX_LEN: usize = $max;

            /// Validates `value`.
            ///
            /// # Errors
            ///
            /// [`Error::Empty`], [`Error::TooLong`] or
            /// [`Error::InvalidCharacter`] (a control character), naming
            #[doc = concat!("[`Field::", stringify!($field), "`].")]
            pub fn new(value: impl Into<String>) -> Result<$name, Error> {
                let value = value.into();
                check_text(Field::$field, &value, Self::MAX_LEN)?;
                $check(&value)?;
                Ok($name(value))
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(value: String) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(value: &str) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(value: &str) -> Result<Self, Error> {
                $name::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

text_type!(
    /// The unique ID of a user: the user name or the server's internal ID.
    UserId, UserId, 256, no_extra_check, "helga@contoso.com"
);
text_type!(
    /// A first or last name (an optional field: see [`crate::FieldPolicy`]).
    PersonName, Name, 128, no_extra_check, "Helga"
);
text_type!(
    /// An e-mail address (an optional field: see [`crate::FieldPolicy`]).
    ///
    /// Only the shape `local@domain` is checked (one `@`, both sides
    /// non-empty, no white space); deliverability is not this crate's
    /// business.
    Email, Email, 254, email_shape, "helga@contoso.com"
);
text_type!(
    /// The name of the MFA server that handled a request.
    ServerName, ServerName, 255, no_extra_check, "mfa01.contoso.com"
);
text_type!(
    /// The serial number of an OATH token (hardware token or authenticator
    /// app), unique across all users.
    TokenSerial, TokenSerial, 128, no_extra_check, "1234567"
);
text_type!(
    /// The name a user gave one of their app passwords (unique per user).
    AppPasswordName, AppPassword, 64, no_extra_check, "Outlook 2010"
);

fn no_extra_check(_: &str) -> Result<(), Error> {
    Ok(())
}

fn email_shape(s: &str) -> Result<(), Error> {
    if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| c.is_whitespace()) {
        return Err(Error::InvalidCharacter {
            field: Field::Email,
            ch,
            position: i + 1,
        });
    }
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(Error::EmailFormat),
    }
}

/// The rules of opaque ASCII values (device tokens, app password
/// verifiers): not empty, at most `max` bytes, printable ASCII `!`..=`~` only.
pub(crate) fn check_printable_ascii(field: Field, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty { field });
    }
    if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !matches!(c, '!'..='~')) {
        return Err(Error::InvalidCharacter {
            field,
            ch,
            position: i + 1,
        });
    }
    if s.len() > max {
        return Err(Error::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    Ok(())
}

/// A phone number used for voice calls and SMS.
///
/// Input may contain digits, one leading `+` (international form) and the
/// separators space, `-`, `.`, `(` and `)`; it is stored normalised as the
/// optional `+` followed by the digits only. 3 to 15 digits (E.164 allows
/// 15).
///
/// ```
/// use mfa_record::PhoneNumber;
/// let p = PhoneNumber::new("+1 (425) 555-1234")?;
/// assert_eq!(p.as_str(), "+14255551234");
/// assert_eq!(p.masked(), "+*******1234");
/// assert!(PhoneNumber::new("+1 425 CALL-ME").is_err());
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// The fewest digits accepted.
    pub const MIN_DIGITS: usize = 3;
    /// The most digits accepted (E.164).
    pub const MAX_DIGITS: usize = 15;
    /// The longest input accepted, separators included, in characters.
    pub const MAX_LEN: usize = 32;

    /// Validates and normalises `value`.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::TooLong`], [`Error::InvalidCharacter`]
    /// (anything but digits, a leading `+` and the separators) or
    /// [`Error::PhoneDigits`], each naming [`Field::Phone`].
    pub fn new(value: impl AsRef<str>) -> Result<PhoneNumber, Error> {
        let value = value.as_ref();
        check_text(Field::Phone, value, Self::MAX_LEN)?;
        let mut out = String::with_capacity(value.len());
        let mut digits = 0usize;
        for (i, ch) in value.chars().enumerate() {
            match ch {
                '0'..='9' => {
                    out.push(ch);
                    digits += 1;
                }
                '+' if i == 0 => out.push('+'),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(Error::InvalidCharacter {
                        field: Field::Phone,
                        ch,
                        position: i + 1,
                    });
                }
            }
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            return Err(Error::PhoneDigits {
                digits,
                min: Self::MIN_DIGITS,
                max: Self::MAX_DIGITS,
            });
        }
        Ok(PhoneNumber(out))
    }

    /// The normalised number: an optional `+`, then digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its digits replaced by `*`, except the last four
    /// when it has at least eight digits (so short numbers reveal nothing);
    /// the leading `+` is kept. This is what exported logs show by default.
    ///
    /// ```
    /// use mfa_record::PhoneNumber;
    /// assert_eq!(PhoneNumber::new("+31 20 123 4567")?.masked(), "+*******4567");
    /// assert_eq!(PhoneNumber::new("112")?.masked(), "***");
    /// # Ok::<(), mfa_record::Error>(())
    /// ```
    pub fn masked(&self) -> String {
        let digits = self.0.chars().filter(char::is_ascii_digit).count();
        let keep = if digits >= 8 { 4 } else { 0 };
        let mut seen = 0usize;
        self.0
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    seen += 1;
                    if seen + keep > digits { c } else { '*' }
                } else {
                    c
                }
            })
            .collect()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        PhoneNumber::new(value)
    }
}

impl FromStr for PhoneNumber {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self, Error> {
        PhoneNumber::new(value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> String {
        value.0
    }
}

/// The push-notification token of a user's mobile app installation.
///
/// Printable ASCII only (no spaces), 1 to [`DeviceToken::MAX_LEN`] bytes.
/// Exported logs show [`DeviceToken::sha256_hex`] instead of the token by
/// default, and so does `Debug`, so the token does not leak into debug logs.
///
/// ```
/// use mfa_record::DeviceToken;
/// let t = DeviceToken::new("abc")?;
/// assert_eq!(
///     t.sha256_hex(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// assert!(!format!("{t:?}").contains("abc"));
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct DeviceToken(String);

impl DeviceToken {
    /// The longest token accepted, in bytes.
    pub const MAX_LEN: usize = 4096;

    /// Validates `value`.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::TooLong`] or [`Error::InvalidCharacter`]
    /// (anything outside printable ASCII `!`..=`~`), naming
    /// [`Field::DeviceToken`].
    pub fn new(value: impl Into<String>) -> Result<DeviceToken, Error> {
        let value = value.into();
        check_printable_ascii(Field::DeviceToken, &value, Self::MAX_LEN)?;
        Ok(DeviceToken(value))
    }

    /// The token itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token's bytes, as 64 lower-case hex digits.
    pub fn sha256_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceToken(sha256:{})", self.sha256_hex())
    }
}

impl TryFrom<String> for DeviceToken {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Error> {
        DeviceToken::new(value)
    }
}

impl FromStr for DeviceToken {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self, Error> {
        DeviceToken::new(value)
    }
}

impl From<DeviceToken> for String {
    fn from(value: DeviceToken) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(matches!(
            UserId::new(""),
            Err(Error::Empty {
                field: Field::UserId
            })
        ));
        assert!(matches!(
            PersonName::new("Hel\nga"),
            Err(Error::InvalidCharacter {
                field: Field::Name,
                ch: '\n',
                position: 4
            })
        ));
        let long = "x".repeat(UserId::MAX_LEN + 1);
        assert!(matches!(
            UserId::new(long),
            Err(Error::TooLong {
                len: 257,
                max: 256,
                ..
            })
        ));
        assert!(UserId::new("x".repeat(UserId::MAX_LEN)).is_ok());
        // Characters, not bytes, are counted.
        assert!(PersonName::new("é".repeat(PersonName::MAX_LEN)).is_ok());
    }

    #[test]
    fn email_shape() {
        assert!(Email::new("a@b").is_ok());
        for bad in ["ab", "@b", "a@", "a@b@c"] {
            assert!(matches!(Email::new(bad), Err(Error::EmailFormat)), "{bad}");
        }
        assert!(matches!(
            Email::new("a b@c"),
            Err(Error::InvalidCharacter {
                ch: ' ',
                position: 2,
                ..
            })
        ));
    }

    #[test]
    fn phone_normalised_and_checked() {
        assert_eq!(
            PhoneNumber::new("020-123.45 67").unwrap().as_str(),
            "0201234567"
        );
        assert!(matches!(
            PhoneNumber::new("12+3"),
            Err(Error::InvalidCharacter {
                ch: '+',
                position: 3,
                ..
            })
        ));
        assert!(matches!(
            PhoneNumber::new("+12"),
            Err(Error::PhoneDigits { digits: 2, .. })
        ));
        assert!(matches!(
            PhoneNumber::new("1234567890123456"),
            Err(Error::PhoneDigits { digits: 16, .. })
        ));
        assert!(PhoneNumber::new("123456789012345").is_ok());
    }

    #[test]
    fn phone_masking() {
        let p = PhoneNumber::new("+14255551234").unwrap();
        assert_eq!(p.masked(), "+*******1234");
        assert!(!p.masked().contains("425555"));
        // Seven digits: nothing revealed.
        assert_eq!(PhoneNumber::new("5551234").unwrap().masked(), "*******");
        // Eight digits: the last four.
        assert_eq!(PhoneNumber::new("55512345").unwrap().masked(), "****2345");
    }

    #[test]
    fn device_token_hash_and_debug() {
        // FIPS 180-2 "abc" vector.
        let t = DeviceToken::new("abc").unwrap();
        assert_eq!(
            t.sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let secret_looking =
            DeviceToken::new("APA91bHPRgkF3JUikC4ENAHEeMrd41Zxv3hVZjC9KtT8").unwrap();
        let dbg = format!("{secret_looking:?}");
        assert!(!dbg.contains("APA91b"), "{dbg}");
        assert!(matches!(
            DeviceToken::new("ab cd"),
            Err(Error::InvalidCharacter {
                ch: ' ',
                position: 3,
                ..
            })
        ));
    }
}
