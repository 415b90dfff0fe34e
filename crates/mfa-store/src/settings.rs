//! Named settings kept in the store, so every server that shares it applies
//! the same policy (`mfa config set lockout.denials=5` on one host is seen
//! by all of them on their next open).
//!
//! A stored setting overrides the corresponding part of the
//! [`StoreConfig`] given to [`Store::open_with`]; a setting that is not
//! stored keeps the caller's value.

use mfa_fraud::ReportingCode;
use mfa_lockout::{FactorClass, Policies, Policy};
use mfa_oath::UnixTime;

use crate::db::{Mode, Tx, Val};
use crate::{Error, Store, StoreConfig};

/// One named setting: its name, what it means and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setting {
    /// The name, e.g. `lockout.denials`.
    pub name: &'static str,
    /// What it means, for `mfa config show`.
    pub description: &'static str,
    /// The value when nothing is stored (the library default).
    pub default: &'static str,
}

const fn s(name: &'static str, description: &'static str, default: &'static str) -> Setting {
    Setting {
        name,
        description,
        default,
    }
}

/// Every setting, in the order `mfa config show` lists them.
pub const SETTINGS: &[Setting] = &[
    s(
        "lockout.denials",
        "MFA denials that lock the account (every factor class)",
        "10",
    ),
    s(
        "lockout.reset_minutes",
        "minutes after which the denial counter restarts",
        "10",
    ),
    s(
        "lockout.unblock_minutes",
        "minutes until a lock ends by itself (0: only an administrator unblocks)",
        "10",
    ),
    s("fraud.alert", "users can report fraud (on/off)", "on"),
    s(
        "fraud.auto_block",
        "a fraud report blocks the user (on/off)",
        "on",
    ),
    s("fraud.block_days", "days a fraud block lasts", "90"),
    s(
        "fraud.code",
        "phone fraud code (applies only with custom greetings)",
        "0",
    ),
    s(
        "fraud.custom_greetings",
        "custom voice greetings are uploaded (on/off)",
        "off",
    ),
    s(
        "fraud.report_suspicious",
        "users can report suspicious activity (on/off)",
        "on",
    ),
    s(
        "fraud.suspicious_code",
        "phone code for suspicious activity (wins over fraud.code)",
        "0",
    ),
    s(
        "log.name",
        "record first and last names in log events (on/off)",
        "on",
    ),
    s(
        "log.email",
        "record e-mail addresses in log events (on/off)",
        "on",
    ),
    s(
        "log.phone",
        "record phone numbers in log events (on/off)",
        "on",
    ),
    s(
        "log.device_token",
        "record device tokens in log events (on/off)",
        "on",
    ),
    s(
        "log.client_ip",
        "record client IP addresses in log events (on/off)",
        "on",
    ),
    s(
        "sms.code_ttl_seconds",
        "lifetime of SMS and voice one-time codes",
        "300",
    ),
    s(
        "remember_device.days",
        "days MFA is remembered on a device (0: off)",
        "0",
    ),
];

/// Looks a setting up by name.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

fn invalid(name: &str, value: &str, expected: &'static str) -> Error {
    Error::InvalidSetting {
        name: name.to_owned(),
        value: value.chars().take(64).collect(),
        expected,
    }
}

fn switch(name: &str, value: &str) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(invalid(name, value, "on or off")),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "a whole number"))
}

impl StoreConfig {
    /// Applies one named setting (see [`SETTINGS`]).
    ///
    /// # Errors
    /// [`Error::UnknownSetting`], [`Error::InvalidSetting`].
    ///
    /// ```
    /// let mut c = mfa_store::StoreConfig::default();
    /// c.apply_setting("lockout.denials", "5")?;
    /// assert_eq!(c.lockout.get(mfa_lockout::FactorClass::Otp).threshold(), 5);
    /// assert!(c.apply_setting("lockout.denials", "0").is_err());
    /// assert!(c.apply_setting("no.such", "1").is_err());
    /// # Ok::<(), mfa_store::Error>(())
    /// ```
    pub fn apply_setting(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let current = *self.lockout.get(FactorClass::Otp);
        let minutes = |secs: u64| u32::try_from(secs / 60).unwrap_or(u32::MAX);
        let (mut denials, mut reset, mut unblock) = (
            current.threshold(),
            minutes(current.reset_window_secs()),
            minutes(current.unblock_after_secs()),
        );
        let fraud = self.fraud.clone();
        match name {
            "lockout.denials" => denials = number(name, value)?,
            "lockout.reset_minutes" => reset = number(name, value)?,
            "lockout.unblock_minutes" => unblock = number(name, value)?,
            "fraud.alert" => self.fraud = fraud.with_fraud_alert(switch(name, value)?),
            "fraud.auto_block" => self.fraud = fraud.with_auto_block(switch(name, value)?),
            "fraud.block_days" => {
                let days: u64 = number(name, value)?;
                self.fraud = fraud
                    .with_block_period(days.saturating_mul(86_400))
                    .map_err(|_| invalid(name, value, "1 or more days"))?;
            }
            "fraud.code" => {
                let code = ReportingCode::new(value.trim())
                    .map_err(|_| invalid(name, value, "1 to 8 digits"))?;
                self.fraud = fraud.with_fraud_code(code);
            }
            "fraud.custom_greetings" => {
                self.fraud = fraud.with_custom_greetings(switch(name, value)?);
            }
            "fraud.report_suspicious" => {
                self.fraud = fraud.with_suspicious_activity(switch(name, value)?);
            }
            "fraud.suspicious_code" => {
                let code = ReportingCode::new(value.trim())
                    .map_err(|_| invalid(name, value, "1 to 8 digits"))?;
                self.fraud = fraud.with_suspicious_activity_code(code);
            }
            "log.name" => self.fields.name = switch(name, value)?,
            "log.email" => self.fields.email = switch(name, value)?,
            "log.phone" => self.fields.phone = switch(name, value)?,
            "log.device_token" => self.fields.device_token = switch(name, value)?,
            "log.client_ip" => self.fields.client_ip = switch(name, value)?,
            "sms.code_ttl_seconds" => {
                let ttl: u64 = number(name, value)?;
                if !(30..=86_400).contains(&ttl) {
                    return Err(invalid(name, value, "30 to 86400 seconds"));
                }
                self.code_ttl = ttl;
            }
            "remember_device.days" => {
                let days: u32 = number(name, value)?;
                if days > 365 {
                    return Err(invalid(name, value, "0 to 365 days"));
                }
                self.remember_device_days = days;
            }
            _ => {
                return Err(Error::UnknownSetting {
                    name: name.to_owned(),
                });
            }
        }
        if name.starts_with("lockout.") {
            let policy = Policy::from_minutes(denials, reset, unblock).map_err(|_| {
                invalid(
                    name,
                    value,
                    "a valid lockout policy (denials and reset minutes at least 1)",
                )
            })?;
            self.lockout = Policies::uniform(policy);
        }
        Ok(())
    }
}

pub(crate) fn load(tx: &mut dyn Tx) -> Result<Vec<(String, String)>, Error> {
    tx.query(
        "settings",
        "SELECT name, value FROM settings ORDER BY name",
        &[],
    )?
    .iter()
    .map(|r| Ok((r.text(0, "name")?, r.text(1, "value")?)))
    .collect()
}

/// Applies the stored settings over `config`.
pub(crate) fn apply_stored(tx: &mut dyn Tx, config: &mut StoreConfig) -> Result<(), Error> {
    for (name, value) in load(tx)? {
        config.apply_setting(&name, &value)?;
    }
    Ok(())
}

impl Store {
    /// Every setting with its value in force (stored, or the default) and
    /// whether it is stored.
    ///
    /// # Errors
    /// Database errors.
    pub fn settings(&self) -> Result<Vec<(&'static Setting, String, bool)>, Error> {
        let stored = self.pool.run(Mode::Snapshot, |tx| load(tx))?;
        Ok(SETTINGS
            .iter()
            .map(|s| match stored.iter().find(|(n, _)| n == s.name) {
                Some((_, v)) => (s, v.clone(), true),
                None => (s, s.default.to_owned(), false),
            })
            .collect())
    }

    /// Stores settings, all or nothing: every pair is checked first; an
    /// empty value removes the stored setting (back to the default). Each
    /// change is written to the audit log with `actor`. This handle's
    /// configuration is updated; other servers see the change when they
    /// next open the store.
    ///
    /// # Errors
    /// [`Error::UnknownSetting`], [`Error::InvalidSetting`] (nothing is
    /// stored), database errors.
    pub fn set_settings(
        &mut self,
        pairs: &[(&str, &str)],
        actor: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        let mut check = self.config.clone();
        for (name, value) in pairs {
            if setting(name).is_none() {
                return Err(Error::UnknownSetting {
                    name: (*name).to_owned(),
                });
            }
            if !value.is_empty() {
                check.apply_setting(name, value)?;
            }
        }
        let config = self.pool.run(Mode::Write, |tx| {
            self.ensure_current_master(tx)?;
            for (name, value) in pairs {
                tx.exec("DELETE FROM settings WHERE name = $1", &[(*name).into()])?;
                if !value.is_empty() {
                    tx.exec(
                        "INSERT INTO settings (name, value) VALUES ($1, $2)",
                        &[(*name).into(), Val::Text(value.trim().to_owned())],
                    )?;
                }
                let reason = format!("{name}={value}");
                crate::store::audit(tx, now, None, "setting", Some(actor), Some(&reason))?;
            }
            // The configuration in force: this handle's base with every
            // stored setting (including other servers' changes) over it.
            let mut config = self.base_config.clone();
            apply_stored(tx, &mut config)?;
            Ok(config)
        })?;
        self.config = config;
        Ok(())
    }
}
