//! Configuration: which features are on, block period, reporting codes,
//! notification recipients.

use core::fmt;

use crate::{ConfigField, Error};

/// The longest reporting code, in digits.
pub const MAX_CODE_LEN: usize = 8;

/// The default block period: 90 days, as in the reference system.
pub const DEFAULT_BLOCK_PERIOD_SECS: u64 = 90 * 24 * 60 * 60;

const MAX_RECIPIENTS: usize = 100;
const MAX_RECIPIENT_LEN: usize = 320;

/// A phone reporting code: 1 to [`MAX_CODE_LEN`] digits, entered before `#`.
///
/// ```
/// use mfa_fraud::ReportingCode;
/// assert_eq!(ReportingCode::new("42")?.as_str(), "42");
/// assert!(ReportingCode::new("4a").is_err());
/// assert!(ReportingCode::new("").is_err());
/// assert_eq!(ReportingCode::DEFAULT.as_str(), "0");
/// # Ok::<(), mfa_fraud::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportingCode {
    digits: [u8; MAX_CODE_LEN],
    len: u8,
}

impl ReportingCode {
    /// The code of the reference system's standard greetings: `0` (so `0#`).
    pub const DEFAULT: ReportingCode = ReportingCode {
        digits: *b"00000000",
        len: 1,
    };

    /// A code from its digits.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] with [`ConfigField::ReportingCode`] unless the
    /// code is 1 to [`MAX_CODE_LEN`] ASCII digits.
    pub fn new(code: &str) -> Result<ReportingCode, Error> {
        let bytes = code.as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_CODE_LEN || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidConfig {
                field: ConfigField::ReportingCode,
            });
        }
        let mut digits = [b'0'; MAX_CODE_LEN];
        for (slot, b) in digits.iter_mut().zip(bytes) {
            *slot = *b;
        }
        Ok(ReportingCode {
            digits,
            len: bytes.len() as u8,
        })
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        let digits = self.digits.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII digits are ever stored.
        core::str::from_utf8(digits).unwrap_or_default()
    }
}

impl fmt::Display for ReportingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configuration of both reference features, which can run side by side.
///
/// Defaults ([`FraudConfig::default`]): fraud alert on, auto-block on, block
/// period 90 days, code `0`, no custom greetings, suspicious-activity
/// reporting on, no notification recipients. (The reference defaults both
/// features to off; an MFA server that ignores a user's "this was not me" is
/// a poor default, so we turn them on. Set them off explicitly to match the
/// reference.)
///
/// ```
/// use mfa_fraud::{FraudConfig, ReportingCode};
///
/// let config = FraudConfig::default()
///     .with_fraud_code(ReportingCode::new("9")?)
///     .with_suspicious_activity_code(ReportingCode::new("7")?);
/// // Custom codes only apply once custom greetings are uploaded.
/// assert_eq!(config.phone_reporting_code().map(|c| c.to_string()), Some("0".into()));
/// // Then the suspicious-activity code wins over the fraud alert code.
/// let config = config.with_custom_greetings(true);
/// assert_eq!(config.phone_reporting_code().map(|c| c.to_string()), Some("7".into()));
/// # Ok::<(), mfa_fraud::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FraudConfig {
    fraud_alert: bool,
    auto_block: bool,
    block_period: u64,
    fraud_code: Option<ReportingCode>,
    custom_greetings: bool,
    suspicious_activity: bool,
    suspicious_activity_code: Option<ReportingCode>,
    recipients: Vec<String>,
}

impl Default for FraudConfig {
    fn default() -> FraudConfig {
        FraudConfig {
            fraud_alert: true,
            auto_block: true,
            block_period: DEFAULT_BLOCK_PERIOD_SECS,
            fraud_code: None,
            custom_greetings: false,
            suspicious_activity: true,
            suspicious_activity_code: None,
            recipients: Vec::new(),
        }
    }
}

impl FraudConfig {
    /// Both features off, as the reference ships (reports are then refused
    /// with [`Error::ReportingDisabled`]).
    ///
    /// ```
    /// let c = mfa_fraud::FraudConfig::disabled();
    /// assert!(!c.fraud_alert() && !c.suspicious_activity());
    /// ```
    pub fn disabled() -> FraudConfig {
        FraudConfig {
            fraud_alert: false,
            auto_block: false,
            suspicious_activity: false,
            ..FraudConfig::default()
        }
    }

    /// Fraud alert on or off ("allow users to submit fraud alerts").
    #[must_use]
    pub fn with_fraud_alert(self, on: bool) -> FraudConfig {
        FraudConfig {
            fraud_alert: on,
            ..self
        }
    }

    /// Auto-block on or off ("automatically block users who report fraud").
    /// Only acts when fraud alert is on.
    #[must_use]
    pub fn with_auto_block(self, on: bool) -> FraudConfig {
        FraudConfig {
            auto_block: on,
            ..self
        }
    }

    /// The block period in seconds (default [`DEFAULT_BLOCK_PERIOD_SECS`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] with [`ConfigField::BlockPeriod`] for 0.
    ///
    /// ```
    /// assert!(mfa_fraud::FraudConfig::default().with_block_period(0).is_err());
    /// ```
    pub fn with_block_period(self, secs: u64) -> Result<FraudConfig, Error> {
        if secs == 0 {
            return Err(Error::InvalidConfig {
                field: ConfigField::BlockPeriod,
            });
        }
        Ok(FraudConfig {
            block_period: secs,
            ..self
        })
    }

    /// A custom fraud alert code (takes effect only with custom greetings).
    #[must_use]
    pub fn with_fraud_code(self, code: ReportingCode) -> FraudConfig {
        FraudConfig {
            fraud_code: Some(code),
            ..self
        }
    }

    /// Whether custom voice greetings are uploaded (custom codes need them:
    /// the standard greetings tell users to press `0#`).
    #[must_use]
    pub fn with_custom_greetings(self, uploaded: bool) -> FraudConfig {
        FraudConfig {
            custom_greetings: uploaded,
            ..self
        }
    }

    /// Suspicious-activity reporting on or off.
    #[must_use]
    pub fn with_suspicious_activity(self, on: bool) -> FraudConfig {
        FraudConfig {
            suspicious_activity: on,
            ..self
        }
    }

    /// A custom suspicious-activity code (takes effect only with custom
    /// greetings; wins over the fraud alert code when both are set).
    #[must_use]
    pub fn with_suspicious_activity_code(self, code: ReportingCode) -> FraudConfig {
        FraudConfig {
            suspicious_activity_code: Some(code),
            ..self
        }
    }

    /// The administrators notified when fraud is reported (fraud alert).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] with [`ConfigField::Recipient`] for an empty
    /// or over-long recipient, one with a control character, or more than
    /// 100 recipients.
    ///
    /// ```
    /// let c = mfa_fraud::FraudConfig::default().with_recipients(["secops@example.com"])?;
    /// assert_eq!(c.recipients(), ["secops@example.com"]);
    /// # Ok::<(), mfa_fraud::Error>(())
    /// ```
    pub fn with_recipients<I, S>(self, recipients: I) -> Result<FraudConfig, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let recipients: Vec<String> = recipients.into_iter().map(Into::into).collect();
        let bad = |r: &String| {
            r.trim().is_empty() || r.len() > MAX_RECIPIENT_LEN || r.chars().any(char::is_control)
        };
        if recipients.len() > MAX_RECIPIENTS || recipients.iter().any(bad) {
            return Err(Error::InvalidConfig {
                field: ConfigField::Recipient,
            });
        }
        Ok(FraudConfig { recipients, ..self })
    }

    /// Fraud alert on?
    pub const fn fraud_alert(&self) -> bool {
        self.fraud_alert
    }

    /// Auto-block on (and fraud alert on, without which it does nothing)?
    pub const fn auto_block(&self) -> bool {
        self.fraud_alert && self.auto_block
    }

    /// The block period in seconds.
    pub const fn block_period_secs(&self) -> u64 {
        self.block_period
    }

    /// Suspicious-activity reporting on?
    pub const fn suspicious_activity(&self) -> bool {
        self.suspicious_activity
    }

    /// Custom greetings uploaded?
    pub const fn custom_greetings(&self) -> bool {
        self.custom_greetings
    }

    /// The notification recipients.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The code a user enters before `#` on the phone to report, or `None`
    /// when neither feature is on.
    ///
    /// `0` unless custom greetings are uploaded; with them, the
    /// suspicious-activity code if that feature is on and has one, else the
    /// fraud alert code if that feature is on and has one, else `0`.
    pub fn phone_reporting_code(&self) -> Option<ReportingCode> {
        if !self.fraud_alert && !self.suspicious_activity {
            return None;
        }
        if !self.custom_greetings {
            return Some(ReportingCode::DEFAULT);
        }
        let sa = self
            .suspicious_activity_code
            .filter(|_| self.suspicious_activity);
        let fa = self.fraud_code.filter(|_| self.fraud_alert);
        Some(sa.or(fa).unwrap_or(ReportingCode::DEFAULT))
    }
}
