//! Named settings kept in the store, so every server that shares it applies
//! the same policy (`mfa config set lockout.denials=5` on one host is seen
//! by all of them on their next open).
//!
//! A stored setting overrides the corresponding part of the
//! [`StoreConfig`] given to [`Store::open_with`]; a setting that is not
//! stored keeps the caller's value.
//!
//! Settings under [`OPAQUE_PREFIX`] (`notify.`) belong to a crate above the
//! store (mfa-notify): the store keeps them as text without interpreting
//! them, and front ends read them with [`Store::stored_settings`].

use mfa_fraud::ReportingCode;
use mfa_lockout::{Escalation, FactorClass, Policy, PolicyField};
use mfa_oath::UnixTime;

use crate::db::{Mode, Tx, Val};
use crate::{Cidr, Error, MAX_TRUSTED_RANGES, Store, StoreConfig};

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

impl Setting {
    /// A setting of another crate's table (e.g. mfa-notify's), described
    /// the same way as the store's own.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        default: &'static str,
    ) -> Setting {
        Setting {
            name,
            description,
            default,
        }
    }
}

const fn s(name: &'static str, description: &'static str, default: &'static str) -> Setting {
    Setting::new(name, description, default)
}

/// Every setting, in the order `mfa config show` lists them.
pub const SETTINGS: &[Setting] = &[
    // The lockout settings change that one field of every factor class's
    // policy and keep the rest (including per-class differences in the
    // caller's configuration). They are applied in this order, so a
    // setting can depend on the ones before it (escalation on the unblock
    // time).
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
    s(
        "lockout.escalation",
        "each further lock lasts FACTOR times longer, up to CAP minutes: FACTOR,CAP_MINUTES or off",
        "off",
    ),
    s(
        "lockout.hard_cap",
        "consecutive denials after which only an administrator unblocks (1 to 100)",
        "100",
    ),
    s(
        "lockout.extend_while_locked",
        "a denial while locked counts and pushes the lock out (on/off)",
        "off",
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

/// Names under this prefix are stored as opaque text: the store checks
/// their shape ([`MAX_OPAQUE_NAME_LEN`], [`MAX_OPAQUE_VALUE_LEN`]) but not
/// their meaning, which is the business of the crate that reads them
/// (mfa-notify's `NotifyConfig::validate`; `mfa config set` calls it first).
pub const OPAQUE_PREFIX: &str = "notify.";

/// The longest name of an opaque setting, in bytes (prefix included).
pub const MAX_OPAQUE_NAME_LEN: usize = 64;

/// The longest value of an opaque setting, in bytes.
pub const MAX_OPAQUE_VALUE_LEN: usize = 4096;

/// Checks an opaque setting (a name under [`OPAQUE_PREFIX`]) before it is
/// stored.
///
/// The name is 1 to 64 bytes of `a-z`, `0-9`, `_` and `.` with no empty
/// segment. A name that says it holds a secret (a word `password`,
/// `passwd`, `secret`, `token` or `key` in its last segment, unless that
/// segment ends in `_file`) is refused: settings are readable by anyone
/// with database access and are written to the audit log, so secrets stay
/// in files and settings name the file. The value is at most 4096 bytes
/// with no control character but line feed and tab (templates have
/// lines).
fn check_opaque(name: &str, value: &str) -> Result<(), Error> {
    let segments_ok = name.split('.').all(|seg| !seg.is_empty());
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    if name.len() > MAX_OPAQUE_NAME_LEN || !segments_ok || !chars_ok {
        return Err(Error::InvalidSetting {
            name: name.chars().take(64).collect(),
            value: String::new(),
            expected: "a name of at most 64 characters a-z, 0-9, '_' and '.' (no empty part)",
        });
    }
    let last = name.rsplit('.').next().unwrap_or_default();
    let mut words = last.split('_');
    let names_a_secret = words
        .clone()
        .any(|w| matches!(w, "password" | "passwd" | "secret" | "token" | "key"));
    if names_a_secret && words.next_back() != Some("file") {
        // The value is a secret: it is not echoed.
        return Err(Error::SecretSetting {
            name: name.to_owned(),
        });
    }
    if value.len() > MAX_OPAQUE_VALUE_LEN
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            name,
            value,
            "at most 4096 bytes without control characters (line feed and tab allowed)",
        ));
    }
    Ok(())
}

fn is_opaque(name: &str) -> bool {
    name.starts_with(OPAQUE_PREFIX)
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
        let fraud = self.fraud.clone();
        match name {
            "lockout.denials" => {
                let denials: u32 = number(name, value)?;
                self.change_lockout(name, value, |p| {
                    rebuild(p, denials, p.reset_window_secs(), p.unblock_after_secs())
                })?;
            }
            "lockout.reset_minutes" => {
                let reset = minutes(name, value)?;
                self.change_lockout(name, value, |p| {
                    rebuild(p, p.threshold(), reset, p.unblock_after_secs())
                })?;
            }
            "lockout.unblock_minutes" => {
                let unblock = minutes(name, value)?;
                self.change_lockout(name, value, |p| {
                    rebuild(p, p.threshold(), p.reset_window_secs(), unblock)
                })?;
            }
            "lockout.escalation" => {
                let escalation = escalation(name, value)?;
                self.change_lockout(name, value, |p| {
                    let plain = without_escalation(p)?;
                    match escalation {
                        // Without automatic unblock a lock never ends, so
                        // there is nothing to escalate in that class.
                        Some(e) if p.unblock_after_secs() > 0 => plain.with_escalation(e),
                        _ => Ok(plain),
                    }
                })?;
            }
            "lockout.hard_cap" => {
                let cap: u32 = number(name, value)?;
                self.change_lockout(name, value, |p| p.with_hard_cap(cap))?;
            }
            "lockout.extend_while_locked" => {
                let extend = switch(name, value)?;
                self.change_lockout(name, value, |p| Ok(p.with_extend_while_locked(extend)))?;
            }
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
        Ok(())
    }

    /// Changes every factor class's lockout policy with `change`, all or
    /// nothing.
    fn change_lockout(
        &mut self,
        name: &str,
        value: &str,
        change: impl Fn(&Policy) -> Result<Policy, mfa_lockout::Error>,
    ) -> Result<(), Error> {
        let mut policies = self.lockout;
        for class in FactorClass::ALL {
            let next = change(policies.get(class)).map_err(|e| {
                invalid(
                    name,
                    value,
                    match e {
                        mfa_lockout::Error::InvalidPolicy {
                            field: PolicyField::Threshold,
                            ..
                        } => "1 or more denials",
                        mfa_lockout::Error::InvalidPolicy {
                            field: PolicyField::ResetWindow,
                            ..
                        } => "1 or more minutes",
                        mfa_lockout::Error::InvalidPolicy {
                            field: PolicyField::HardCap,
                            ..
                        } => "1 to 100 consecutive denials",
                        mfa_lockout::Error::InvalidPolicy {
                            field: PolicyField::EscalationFactor,
                            ..
                        } => "a factor of 2 or more",
                        mfa_lockout::Error::InvalidPolicy {
                            field: PolicyField::EscalationCap,
                            ..
                        } => "an escalation cap no shorter than lockout.unblock_minutes",
                        _ => "a valid lockout policy",
                    },
                )
            })?;
            policies = policies.with(class, next);
        }
        self.lockout = policies;
        Ok(())
    }
}

/// `policy` with new threshold, reset window and unblock time (seconds),
/// keeping its escalation, hard cap and counting while locked. Escalation
/// is dropped when there is no automatic unblock any more (a lock that
/// never ends by itself has nothing to escalate).
fn rebuild(
    policy: &Policy,
    threshold: u32,
    reset_secs: u64,
    unblock_secs: u64,
) -> Result<Policy, mfa_lockout::Error> {
    let mut next = Policy::new(threshold, reset_secs, unblock_secs)?
        .with_extend_while_locked(policy.extend_while_locked());
    if let Some(cap) = policy.hard_cap() {
        next = next.with_hard_cap(cap)?;
    }
    match policy.escalation() {
        Some(e) if unblock_secs > 0 => next.with_escalation(e),
        _ => Ok(next),
    }
}

fn without_escalation(policy: &Policy) -> Result<Policy, mfa_lockout::Error> {
    let plain = Policy::new(
        policy.threshold(),
        policy.reset_window_secs(),
        policy.unblock_after_secs(),
    )?
    .with_extend_while_locked(policy.extend_while_locked());
    match policy.hard_cap() {
        Some(cap) => plain.with_hard_cap(cap),
        None => Ok(plain),
    }
}

fn minutes(name: &str, value: &str) -> Result<u64, Error> {
    let m: u32 = number(name, value)?;
    Ok(u64::from(m) * 60)
}

/// `off`, or `FACTOR,CAP_MINUTES`.
fn escalation(name: &str, value: &str) -> Result<Option<Escalation>, Error> {
    let expected = "off, or FACTOR,CAP_MINUTES (factor 2 or more, cap 1 minute or more)";
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (factor, cap) = value
        .split_once(',')
        .ok_or_else(|| invalid(name, value, expected))?;
    let factor: u32 = factor
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, expected))?;
    let cap: u64 = cap
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, expected))?;
    Escalation::new(factor, cap.saturating_mul(60))
        .map(Some)
        .map_err(|_| invalid(name, value, expected))
}

/// The stored settings in the order of [`SETTINGS`] (the order they are
/// applied in; names this version does not know last).
pub(crate) fn load(tx: &mut dyn Tx) -> Result<Vec<(String, String)>, Error> {
    let mut stored = tx
        .query(
            "settings",
            "SELECT name, value FROM settings ORDER BY name",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.text(0, "name")?, r.text(1, "value")?)))
        .collect::<Result<Vec<_>, Error>>()?;
    stored.sort_by_key(|(name, _)| {
        SETTINGS
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(usize::MAX)
    });
    Ok(stored)
}

/// Applies the stored settings over `config`, in the order of [`SETTINGS`]
/// (opaque settings are not the store's to apply).
pub(crate) fn apply_stored(tx: &mut dyn Tx, config: &mut StoreConfig) -> Result<(), Error> {
    for (name, value) in load(tx)? {
        if !is_opaque(&name) {
            config.apply_setting(&name, &value)?;
        }
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

    /// The stored settings whose names start with `prefix`, sorted by name,
    /// as stored (value trimmed). This is how a front end reads the opaque
    /// settings ([`OPAQUE_PREFIX`]) it interprets itself, e.g.
    /// `stored_settings("notify.")` for mfa-notify's `NotifyConfig::from_settings`.
    /// A setting not stored is not listed (its default is the reader's).
    ///
    /// # Errors
    /// Database errors.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    /// let mut store = mfa_store::Store::open(&url, &mfa_store::MasterKey::new(1, [7; 32]))?;
    /// let now = mfa_oath::UnixTime::from_secs(1_700_000_000);
    /// store.set_settings(
    ///     &[("notify.smtp.host", "smtp.example.com"), ("lockout.denials", "5")],
    ///     "root",
    ///     now,
    /// )?;
    /// assert_eq!(
    ///     store.stored_settings("notify.")?,
    ///     [("notify.smtp.host".to_owned(), "smtp.example.com".to_owned())]
    /// );
    /// // Secrets are kept in files; a setting names the file.
    /// assert!(store.set_settings(&[("notify.smtp.password", "hunter2")], "root", now).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stored_settings(&self, prefix: &str) -> Result<Vec<(String, String)>, Error> {
        let mut stored = self.pool.run(Mode::Snapshot, |tx| load(tx))?;
        stored.retain(|(name, _)| name.starts_with(prefix));
        stored.sort();
        Ok(stored)
    }

    /// Stores settings, all or nothing: [`Store::set_config`] without a
    /// change to the trusted ranges.
    ///
    /// # Errors
    /// As [`Store::set_config`].
    pub fn set_settings(
        &mut self,
        pairs: &[(&str, &str)],
        actor: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.set_config(pairs, None, actor, now)
    }

    /// Stores settings and, when `trusted_ranges` is `Some`, replaces the
    /// trusted IP ranges with it — one transaction, all or nothing (what
    /// `mfa config set` does).
    ///
    /// The settings in force after the change (this handle's base
    /// configuration with every stored setting over it, in the order of
    /// [`SETTINGS`]) are checked before the transaction commits. Settings
    /// under [`OPAQUE_PREFIX`] (`notify.*`) are stored in the same
    /// transaction as text the store does not interpret (checked only for
    /// shape; see [`OPAQUE_PREFIX`]), for the front ends to read with
    /// [`Store::stored_settings`]. An empty value removes the stored
    /// setting (back to the default). Values are stored trimmed. Every
    /// setting changed, range added and range removed is written to the
    /// audit log with `actor` (`name=value`: no setting holds a secret). This handle's configuration is updated;
    /// other servers see settings when they next open the store (and the
    /// trusted ranges at once).
    ///
    /// # Errors
    /// [`Error::UnknownSetting`], [`Error::InvalidSetting`],
    /// [`Error::SecretSetting`], [`Error::Cidr`],
    /// [`Error::TooManyTrustedRanges`] (nothing is changed), database
    /// errors.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    /// let key = mfa_store::MasterKey::new(1, [7; 32]);
    /// let mut store = mfa_store::Store::open(&url, &key)?;
    /// let now = mfa_oath::UnixTime::from_secs(1_700_000_000);
    /// store.set_config(&[("lockout.denials", "5")], Some(&["10.0.0.0/8"]), "root", now)?;
    /// // The last range is not a CIDR: nothing of the call is stored.
    /// let bad = store.set_config(&[("lockout.denials", "3")], Some(&["192.0.2.0/24", "10.0.0.0/40"]), "root", now);
    /// assert!(matches!(bad, Err(mfa_store::Error::Cidr { .. })));
    /// assert_eq!(store.config().lockout.get(mfa_lockout::FactorClass::Otp).threshold(), 5);
    /// assert_eq!(store.trusted_ranges()?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_config(
        &mut self,
        pairs: &[(&str, &str)],
        trusted_ranges: Option<&[&str]>,
        actor: &str,
        now: UnixTime,
    ) -> Result<(), Error> {
        check_values(pairs)?;
        let ranges = trusted_ranges
            .map(|list| {
                let nets = list
                    .iter()
                    .map(|r| r.parse::<Cidr>())
                    .collect::<Result<Vec<_>, _>>()?;
                let mut distinct: Vec<String> = nets.iter().map(ToString::to_string).collect();
                distinct.sort();
                distinct.dedup();
                if distinct.len() > MAX_TRUSTED_RANGES {
                    return Err(Error::TooManyTrustedRanges {
                        max: MAX_TRUSTED_RANGES,
                    });
                }
                Ok(nets)
            })
            .transpose()?;
        let config = self.pool.run(Mode::Write, |tx| {
            // A server still holding a rotated-out master key does not write.
            self.ensure_current_master(tx)?;
            store_pairs(tx, pairs, actor, now)?;
            if let Some(nets) = &ranges {
                crate::store::network::replace_ranges(tx, nets, actor, now)?;
            }
            // The configuration in force: this handle's base with every
            // stored setting (including other servers' changes) over it.
            // An error here rolls the whole change back.
            let mut config = self.base_config.clone();
            apply_stored(tx, &mut config)?;
            forget_switched_off_fields(tx, pairs, &config)?;
            Ok(config)
        })?;
        self.config = config;
        Ok(())
    }
}

/// Clears the user profile fields this call switches off (`log.name=off`,
/// `log.email=off`), so what was stored before goes too. (Phone numbers
/// stay: SMS and voice codes need them.)
fn forget_switched_off_fields(
    tx: &mut dyn Tx,
    pairs: &[(&str, &str)],
    config: &StoreConfig,
) -> Result<(), Error> {
    let named = |name: &str| pairs.iter().any(|(n, _)| *n == name);
    if named("log.name") && !config.fields.name {
        tx.exec(
            "UPDATE users SET first_name = NULL, last_name = NULL \
             WHERE first_name IS NOT NULL OR last_name IS NOT NULL",
            &[],
        )?;
    }
    if named("log.email") && !config.fields.email {
        tx.exec("UPDATE users SET email = NULL WHERE email IS NOT NULL", &[])?;
    }
    Ok(())
}

/// Checks every name, and the shape of every opaque value, before the
/// database is touched (the store's own values are checked together, in
/// the transaction).
fn check_values(pairs: &[(&str, &str)]) -> Result<(), Error> {
    for (name, value) in pairs {
        if is_opaque(name) {
            check_opaque(name, value)?;
        } else if setting(name).is_none() {
            return Err(Error::UnknownSetting {
                name: (*name).to_owned(),
            });
        }
    }
    Ok(())
}

/// Writes the settings and their audit entries in the caller's transaction.
fn store_pairs(
    tx: &mut dyn Tx,
    pairs: &[(&str, &str)],
    actor: &str,
    now: UnixTime,
) -> Result<(), Error> {
    for (name, value) in pairs {
        tx.exec("DELETE FROM settings WHERE name = $1", &[(*name).into()])?;
        if !value.trim().is_empty() {
            tx.exec(
                "INSERT INTO settings (name, value) VALUES ($1, $2)",
                &[(*name).into(), Val::Text(value.trim().to_owned())],
            )?;
        }
        let reason = format!("{name}={value}");
        crate::store::audit(tx, now, None, "setting", Some(actor), Some(&reason))?;
    }
    Ok(())
}
