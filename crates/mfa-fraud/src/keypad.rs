//! Keypad input on the phone channel.

use crate::{Error, FraudConfig};

/// The longest keypad input accepted, in keys.
pub const MAX_KEYPAD_LEN: usize = 32;

/// What the keys a user pressed during the verification call mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keypad {
    /// `#`: the user approves the sign-in (the caller still re-checks the
    /// block and the risk, and the lockout, before approving).
    Approve,
    /// `<code>#`: the user reports the prompt. With auto-block on, the call
    /// then asks for `1` to confirm the block; `block_confirmed` says whether
    /// the user pressed it.
    Report {
        /// `1` pressed after `<code>#` while auto-block is on.
        block_confirmed: bool,
    },
}

/// Parses the keys pressed during a verification call.
///
/// * `#` approves.
/// * `<code>#` reports, where `<code>` is
///   [`FraudConfig::phone_reporting_code`] (`0` unless custom greetings are
///   uploaded).
/// * With auto-block on, one more key may follow: `1` confirms the block,
///   any other key declines it.
///
/// # Errors
///
/// [`Error::KeypadTooLong`] over [`MAX_KEYPAD_LEN`] keys; [`Error::KeypadKey`]
/// for a character that is not `0-9`, `*` or `#`; [`Error::ReportingDisabled`]
/// for a report when neither feature is on; [`Error::KeypadUnrecognized`] for
/// anything else (a wrong code, no `#`, keys after the end). The sign-in is
/// not approved on any error.
///
/// ```
/// use mfa_fraud::{FraudConfig, Keypad, parse_keypad};
///
/// let config = FraudConfig::default(); // fraud alert with auto-block on
/// assert_eq!(parse_keypad(&config, "#")?, Keypad::Approve);
/// assert_eq!(parse_keypad(&config, "0#")?, Keypad::Report { block_confirmed: false });
/// assert_eq!(parse_keypad(&config, "0#1")?, Keypad::Report { block_confirmed: true });
/// assert!(parse_keypad(&config, "5#").is_err());
///
/// let no_block = FraudConfig::default().with_auto_block(false);
/// assert!(parse_keypad(&no_block, "0#1").is_err()); // no confirmation asked
/// # Ok::<(), mfa_fraud::Error>(())
/// ```
pub fn parse_keypad(config: &FraudConfig, keys: &str) -> Result<Keypad, Error> {
    let len = keys.chars().count();
    if len > MAX_KEYPAD_LEN {
        return Err(Error::KeypadTooLong {
            len,
            max: MAX_KEYPAD_LEN,
        });
    }
    if let Some((i, ch)) = keys
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '*' || *c == '#'))
    {
        return Err(Error::KeypadKey {
            ch,
            position: i + 1,
        });
    }
    // Only ASCII from here on, so byte offsets are key positions.
    let Some((prefix, rest)) = keys.split_once('#') else {
        return Err(Error::KeypadUnrecognized { position: len + 1 });
    };
    let hash = prefix.len();
    if prefix.is_empty() {
        return if rest.is_empty() {
            Ok(Keypad::Approve)
        } else {
            Err(Error::KeypadUnrecognized { position: 2 })
        };
    }
    let Some(code) = config.phone_reporting_code() else {
        return Err(Error::ReportingDisabled);
    };
    if prefix != code.as_str() {
        let position = prefix
            .bytes()
            .zip(code.as_str().bytes())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| prefix.len().min(code.as_str().len()));
        return Err(Error::KeypadUnrecognized {
            position: position + 1,
        });
    }
    match rest.as_bytes() {
        [] => Ok(Keypad::Report {
            block_confirmed: false,
        }),
        [key] if config.auto_block() => Ok(Keypad::Report {
            block_confirmed: *key == b'1',
        }),
        _ => Err(Error::KeypadUnrecognized {
            position: hash + 2 + usize::from(config.auto_block()),
        }),
    }
}
