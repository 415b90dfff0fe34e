//! The configuration: named settings (`notify.smtp.host`, ...) kept as
//! `name → string` pairs in the store or as a TOML table in a front end's
//! configuration file, parsed into a typed [`NotifyConfig`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, clip};
use crate::template::{Kind, Placeholder, Template};

/// The most addresses `notify.fraud_emails` accepts.
pub const MAX_FRAUD_EMAILS: usize = 50;

/// One named setting: mfa-store's type, so that `mfa config show` lists
/// the store's and these the same way.
pub use mfa_store::Setting;

const fn s(name: &'static str, description: &'static str, default: &'static str) -> Setting {
    Setting::new(name, description, default)
}

/// The default SMS text.
pub const DEFAULT_SMS: &str = "Your verification code is {code}. It expires in {minutes} minutes.";
/// The default voice text (read out by the gateway's text-to-speech).
pub const DEFAULT_VOICE: &str = "Your verification code is {code_spaced}. Again: {code_spaced}.";
/// The default subject of the administrators' fraud e-mail.
pub const DEFAULT_FRAUD_SUBJECT: &str = "MFA fraud alert: {user}";
/// The default body of the administrators' fraud e-mail.
pub const DEFAULT_FRAUD_BODY: &str = "User {user} reported a sign-in request they did not make as fraud, via the {channel}, at {time}.\n\nThe account is {status}.\n\nThis message was sent by the MFA server.";
/// The default subject of the e-mail to a blocked user.
pub const DEFAULT_BLOCKED_SUBJECT: &str = "Your multi-factor sign-in is blocked";
/// The default body of the e-mail to a blocked user.
pub const DEFAULT_BLOCKED_BODY: &str = "You reported a sign-in request as fraud at {time}.\n\nTo protect you, multi-factor sign-in for {user} is blocked. Contact your administrator to have it unblocked.\n\nThis message was sent by the MFA server.";

/// Every setting, in the order `mfa config show` lists them.
pub const SETTINGS: &[Setting] = &[
    s(
        "notify.fraud_emails",
        "administrators e-mailed when a user reports fraud (comma-separated, at most 50)",
        "",
    ),
    s(
        "notify.fraud_user_email",
        "e-mail the user when a fraud report blocks their account (on/off)",
        "off",
    ),
    s(
        "notify.timeout_seconds",
        "limit for one delivery attempt (connect, TLS, send), 1 to 120",
        "10",
    ),
    s(
        "notify.retries",
        "retries of a failed delivery that certainly delivered nothing (0 or 1)",
        "1",
    ),
    s("notify.smtp.host", "SMTP server (empty: no e-mail)", ""),
    s(
        "notify.smtp.port",
        "SMTP port (0: 587 for starttls, 465 for tls, 25 for none)",
        "0",
    ),
    s(
        "notify.smtp.tls",
        "starttls (required), tls (implicit, SMTPS) or none (loopback or no authentication only)",
        "starttls",
    ),
    s(
        "notify.smtp.ca_file",
        "PEM file of the CA certificates to trust for SMTP (empty: the system's)",
        "",
    ),
    s(
        "notify.smtp.user",
        "SMTP user name (empty: no authentication)",
        "",
    ),
    s(
        "notify.smtp.password_file",
        "file holding the SMTP password (first line)",
        "",
    ),
    s("notify.smtp.from", "sender address of the e-mails", ""),
    s(
        "notify.sms.webhook_url",
        "SMS/voice gateway URL receiving a JSON POST (https, or http on loopback)",
        "",
    ),
    s(
        "notify.sms.webhook_token_file",
        "file holding the gateway's bearer token (first line; empty: none)",
        "",
    ),
    s(
        "notify.sms.webhook_ca_file",
        "PEM file of the CA certificates to trust for the webhook (empty: the system's)",
        "",
    ),
    s(
        "notify.sms.command",
        "SMS/voice command: absolute path and arguments, split at spaces (number and message on stdin)",
        "",
    ),
    s("notify.template.sms", "SMS text", DEFAULT_SMS),
    s("notify.template.voice", "voice call text", DEFAULT_VOICE),
    s(
        "notify.template.fraud_subject",
        "subject of the administrators' fraud e-mail",
        DEFAULT_FRAUD_SUBJECT,
    ),
    s(
        "notify.template.fraud_body",
        "body of the administrators' fraud e-mail",
        DEFAULT_FRAUD_BODY,
    ),
    s(
        "notify.template.blocked_subject",
        "subject of the e-mail to a blocked user",
        DEFAULT_BLOCKED_SUBJECT,
    ),
    s(
        "notify.template.blocked_body",
        "body of the e-mail to a blocked user",
        DEFAULT_BLOCKED_BODY,
    ),
];

/// Looks a setting up by name.
///
/// ```
/// assert_eq!(mfa_notify::setting("notify.smtp.tls").unwrap().default, "starttls");
/// assert!(mfa_notify::setting("notify.smtp.password").is_none());
/// ```
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (a
    /// server that does not offer it is an error). Port 587.
    #[default]
    StartTls,
    /// TLS from the first byte (SMTPS). Port 465.
    Implicit,
    /// No TLS: only for a relay on loopback, or without authentication.
    None,
}

impl SmtpTls {
    /// The port used when `notify.smtp.port` is 0.
    pub const fn default_port(self) -> u16 {
        match self {
            SmtpTls::StartTls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Templates {
    pub(crate) sms: Template,
    pub(crate) voice: Template,
    pub(crate) fraud_subject: Template,
    pub(crate) fraud_body: Template,
    pub(crate) blocked_subject: Template,
    pub(crate) blocked_body: Template,
}

/// The delivery configuration. Build it from settings
/// ([`NotifyConfig::from_settings`], [`NotifyConfig::apply_setting`]) or
/// deserialise it from a table of the same names without the `notify.`
/// prefix (TOML below). It holds no secret: passwords and tokens stay in
/// the files it names until [`crate::Notifier::new`] reads them.
///
/// ```
/// let c: mfa_notify::NotifyConfig = toml::from_str(r#"
///     fraud_emails = ["secops@example.com", "it@example.com"]
///     timeout_seconds = 5
///     [smtp]
///     host = "smtp.example.com"
///     from = "mfa@example.com"
///     [template]
///     sms = "{code} is your code"
/// "#)?;
/// assert_eq!(c.fraud_emails(), ["secops@example.com", "it@example.com"]);
/// assert_eq!(c.smtp_port(), 587);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    pub(crate) fraud_emails: Vec<String>,
    pub(crate) fraud_user_email: bool,
    pub(crate) timeout_secs: u64,
    pub(crate) retries: u8,
    pub(crate) smtp_host: String,
    pub(crate) smtp_port: u16,
    pub(crate) smtp_tls: SmtpTls,
    pub(crate) smtp_ca_file: Option<PathBuf>,
    pub(crate) smtp_user: String,
    pub(crate) smtp_password_file: Option<PathBuf>,
    pub(crate) smtp_from: String,
    pub(crate) webhook_url: String,
    pub(crate) webhook_token_file: Option<PathBuf>,
    pub(crate) webhook_ca_file: Option<PathBuf>,
    pub(crate) command: Vec<String>,
    pub(crate) templates: Templates,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        let t = |name, source, kind| {
            #[allow(clippy::expect_used)] // the defaults are constants checked by a test
            Template::parse(name, source, kind).expect("default templates parse")
        };
        NotifyConfig {
            fraud_emails: Vec::new(),
            fraud_user_email: false,
            timeout_secs: 10,
            retries: 1,
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_tls: SmtpTls::StartTls,
            smtp_ca_file: None,
            smtp_user: String::new(),
            smtp_password_file: None,
            smtp_from: String::new(),
            webhook_url: String::new(),
            webhook_token_file: None,
            webhook_ca_file: None,
            command: Vec::new(),
            templates: Templates {
                sms: t("notify.template.sms", DEFAULT_SMS, Kind::Code),
                voice: t("notify.template.voice", DEFAULT_VOICE, Kind::Code),
                fraud_subject: t(
                    "notify.template.fraud_subject",
                    DEFAULT_FRAUD_SUBJECT,
                    Kind::Fraud,
                ),
                fraud_body: t(
                    "notify.template.fraud_body",
                    DEFAULT_FRAUD_BODY,
                    Kind::Fraud,
                ),
                blocked_subject: t(
                    "notify.template.blocked_subject",
                    DEFAULT_BLOCKED_SUBJECT,
                    Kind::Blocked,
                ),
                blocked_body: t(
                    "notify.template.blocked_body",
                    DEFAULT_BLOCKED_BODY,
                    Kind::Blocked,
                ),
            },
        }
    }
}

fn invalid(name: &str, value: &str, expected: &'static str) -> Error {
    Error::InvalidSetting {
        name: name.to_owned(),
        value: clip(value, 64),
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
        .parse()
        .map_err(|_| invalid(name, value, "a whole number"))
}

fn path(name: &str, value: &str) -> Result<Option<PathBuf>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    let p = PathBuf::from(value);
    if !p.is_absolute() || value.chars().any(char::is_control) {
        return Err(invalid(name, value, "an absolute file path"));
    }
    Ok(Some(p))
}

/// Checks an e-mail address as an SMTP mailbox.
pub(crate) fn address(value: &str) -> Result<lettre::Address, Error> {
    let bad = || Error::InvalidAddress {
        address: clip(value, 64),
    };
    mfa_record::Email::new(value).map_err(|_| bad())?;
    value.parse::<lettre::Address>().map_err(|_| bad())
}

/// Whether `host` (as in a URL or `notify.smtp.host`) is this machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn webhook_url(name: &str, value: &str) -> Result<String, Error> {
    const EXPECTED: &str = "an https:// URL (http:// only on loopback), without user:password@";
    if value.is_empty() {
        return Ok(String::new());
    }
    let uri: ureq::http::Uri = value.parse().map_err(|_| invalid(name, value, EXPECTED))?;
    let authority = uri
        .authority()
        .ok_or_else(|| invalid(name, value, EXPECTED))?;
    let ok = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => is_loopback(authority.host()),
        _ => false,
    };
    if !ok || authority.as_str().contains('@') || value.chars().any(char::is_control) {
        return Err(invalid(name, value, EXPECTED));
    }
    Ok(value.to_owned())
}

fn command(name: &str, value: &str) -> Result<Vec<String>, Error> {
    let argv: Vec<String> = value.split_whitespace().map(str::to_owned).collect();
    match argv.first() {
        None => Ok(argv),
        Some(program) if program.starts_with('/') && argv.len() <= 32 => Ok(argv),
        Some(_) => Err(invalid(
            name,
            value,
            "an absolute program path and at most 31 arguments, separated by spaces",
        )),
    }
}

fn fraud_emails(name: &str, value: &str) -> Result<Vec<String>, Error> {
    let list: Vec<String> = value
        .split([',', ';'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if list.len() > MAX_FRAUD_EMAILS {
        return Err(invalid(name, value, "at most 50 addresses"));
    }
    for (i, a) in list.iter().enumerate() {
        address(a)?;
        if list.iter().take(i).any(|b| b.eq_ignore_ascii_case(a)) {
            return Err(invalid(name, a, "each address once"));
        }
    }
    Ok(list)
}

/// A code template must carry the code.
fn code_template(name: &str, value: &str) -> Result<Template, Error> {
    let t = Template::parse(name, value, Kind::Code)?;
    if !t.uses(Placeholder::Code) && !t.uses(Placeholder::CodeSpaced) {
        return Err(invalid(
            name,
            value,
            "a text containing {code} or {code_spaced}",
        ));
    }
    Ok(t)
}

impl NotifyConfig {
    /// Applies one named setting (see [`SETTINGS`]). An empty value (after
    /// trimming) means the default.
    ///
    /// # Errors
    /// [`Error::UnknownSetting`], [`Error::InvalidSetting`],
    /// [`Error::InvalidAddress`] (a `notify.fraud_emails` entry),
    /// [`Error::UnknownPlaceholder`] (a template). On error `self` is
    /// unchanged.
    ///
    /// ```
    /// let mut c = mfa_notify::NotifyConfig::default();
    /// c.apply_setting("notify.smtp.tls", "tls")?;
    /// assert_eq!(c.smtp_port(), 465);
    /// assert!(c.apply_setting("notify.smtp.tls", "ssl").is_err());
    /// assert!(c.apply_setting("notify.template.sms", "{code} {secret}").is_err());
    /// assert!(c.apply_setting("notify.fraud_emails", "a@example.com, not-an-address").is_err());
    /// assert!(c.apply_setting("no.such", "1").is_err());
    /// # Ok::<(), mfa_notify::Error>(())
    /// ```
    pub fn apply_setting(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let Some(setting) = setting(name) else {
            return Err(Error::UnknownSetting {
                name: name.to_owned(),
            });
        };
        // Surrounding white space is dropped (the store keeps values
        // trimmed), but a template keeps its own.
        let value = match value.trim() {
            "" => setting.default,
            _ if name.starts_with("notify.template.") => value,
            v => v,
        };
        let template = |kind| Template::parse(name, value, kind);
        match name {
            "notify.fraud_emails" => self.fraud_emails = fraud_emails(name, value)?,
            "notify.fraud_user_email" => self.fraud_user_email = switch(name, value)?,
            "notify.timeout_seconds" => {
                let secs: u64 = number(name, value)?;
                if !(1..=120).contains(&secs) {
                    return Err(invalid(name, value, "1 to 120 seconds"));
                }
                self.timeout_secs = secs;
            }
            "notify.retries" => {
                let n: u8 = number(name, value)?;
                if n > 1 {
                    return Err(invalid(name, value, "0 or 1"));
                }
                self.retries = n;
            }
            "notify.smtp.host" => {
                if value
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '/')
                    || value.len() > 253
                {
                    return Err(invalid(name, value, "a host name or IP address"));
                }
                self.smtp_host = value.to_owned();
            }
            "notify.smtp.port" => self.smtp_port = number(name, value)?,
            "notify.smtp.tls" => {
                self.smtp_tls = match value.to_ascii_lowercase().as_str() {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Implicit,
                    "none" => SmtpTls::None,
                    _ => return Err(invalid(name, value, "starttls, tls or none")),
                }
            }
            "notify.smtp.ca_file" => self.smtp_ca_file = path(name, value)?,
            "notify.smtp.user" => {
                if value.len() > 256 || value.chars().any(char::is_control) {
                    return Err(invalid(name, value, "at most 256 characters"));
                }
                self.smtp_user = value.to_owned();
            }
            "notify.smtp.password_file" => self.smtp_password_file = path(name, value)?,
            "notify.smtp.from" => {
                if !value.is_empty() {
                    address(value)?;
                }
                self.smtp_from = value.to_owned();
            }
            "notify.sms.webhook_url" => self.webhook_url = webhook_url(name, value)?,
            "notify.sms.webhook_token_file" => self.webhook_token_file = path(name, value)?,
            "notify.sms.webhook_ca_file" => self.webhook_ca_file = path(name, value)?,
            "notify.sms.command" => self.command = command(name, value)?,
            "notify.template.sms" => self.templates.sms = code_template(name, value)?,
            "notify.template.voice" => self.templates.voice = code_template(name, value)?,
            "notify.template.fraud_subject" => {
                self.templates.fraud_subject = template(Kind::Fraud)?;
            }
            "notify.template.fraud_body" => self.templates.fraud_body = template(Kind::Fraud)?,
            "notify.template.blocked_subject" => {
                self.templates.blocked_subject = template(Kind::Blocked)?;
            }
            "notify.template.blocked_body" => {
                self.templates.blocked_body = template(Kind::Blocked)?;
            }
            // A setting in SETTINGS without a branch here is a bug the
            // `every_setting_applies` test catches; refuse rather than ignore.
            _ => {
                return Err(Error::UnknownSetting {
                    name: name.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Applies several settings, all or nothing: on error `self` is
    /// unchanged.
    ///
    /// # Errors
    /// As [`NotifyConfig::apply_setting`], for the first pair that fails.
    pub fn apply_settings<'a, I>(&mut self, pairs: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut next = self.clone();
        for (name, value) in pairs {
            next.apply_setting(name, value)?;
        }
        *self = next;
        Ok(())
    }

    /// The configuration from the defaults and `pairs`, e.g. every setting
    /// the store keeps: names outside `notify.` are skipped, so the whole
    /// list can be passed.
    ///
    /// # Errors
    /// As [`NotifyConfig::apply_setting`].
    ///
    /// ```
    /// let c = mfa_notify::NotifyConfig::from_settings([
    ///     ("lockout.denials", "5"),
    ///     ("notify.smtp.host", "smtp.example.com"),
    ///     ("notify.smtp.from", "mfa@example.com"),
    /// ])?;
    /// assert_eq!(c.smtp_port(), 587);
    /// assert!(c.check().is_ok());
    /// # Ok::<(), mfa_notify::Error>(())
    /// ```
    pub fn from_settings<'a, I>(pairs: I) -> Result<NotifyConfig, Error>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut c = NotifyConfig::default();
        c.apply_settings(pairs.into_iter().filter(|(n, _)| n.starts_with("notify.")))?;
        Ok(c)
    }

    /// Checks a setting's value without keeping it (for `mfa config set`
    /// before storing).
    ///
    /// # Errors
    /// As [`NotifyConfig::apply_setting`].
    pub fn validate(name: &str, value: &str) -> Result<(), Error> {
        NotifyConfig::default().apply_setting(name, value)
    }

    /// Checks that the settings fit together (each setting alone is checked
    /// when applied): an SMTP host needs a sender, a user needs a password
    /// file and the other way round, authentication without TLS only on
    /// loopback, the fraud list and the user e-mail need an SMTP host, and
    /// the webhook and the command exclude each other. [`crate::Notifier::new`]
    /// calls this.
    ///
    /// # Errors
    /// [`Error::Inconsistent`] naming the setting at fault.
    pub fn check(&self) -> Result<(), Error> {
        let bad = |name, problem| Err(Error::Inconsistent { name, problem });
        if !self.smtp_host.is_empty() && self.smtp_from.is_empty() {
            return bad("notify.smtp.from", "is needed with notify.smtp.host");
        }
        if self.smtp_user.is_empty() != self.smtp_password_file.is_none() {
            return bad(
                "notify.smtp.user",
                "and notify.smtp.password_file go together",
            );
        }
        if !self.smtp_user.is_empty()
            && self.smtp_tls == SmtpTls::None
            && !is_loopback(&self.smtp_host)
        {
            return bad(
                "notify.smtp.tls",
                "none sends the password in the clear: only to a loopback host",
            );
        }
        if self.smtp_host.is_empty() && (!self.fraud_emails.is_empty() || self.fraud_user_email) {
            return bad(
                "notify.smtp.host",
                "is needed for notify.fraud_emails and notify.fraud_user_email",
            );
        }
        if !self.webhook_url.is_empty() && !self.command.is_empty() {
            return bad(
                "notify.sms.command",
                "and notify.sms.webhook_url exclude each other",
            );
        }
        if self.webhook_url.is_empty()
            && (self.webhook_token_file.is_some() || self.webhook_ca_file.is_some())
        {
            return bad(
                "notify.sms.webhook_url",
                "is needed with notify.sms.webhook_token_file or _ca_file",
            );
        }
        Ok(())
    }

    /// The administrators to e-mail about a fraud report
    /// (`notify.fraud_emails`, each a valid address). Hand them to
    /// [`mfa_fraud::FraudConfig::with_recipients`] so that the fraud
    /// machine's [`mfa_fraud::Effect::NotifyAdministrators`] names them.
    pub fn fraud_emails(&self) -> &[String] {
        &self.fraud_emails
    }

    /// Whether a user whose account a fraud report blocked is e-mailed.
    pub fn fraud_user_email(&self) -> bool {
        self.fraud_user_email
    }

    /// The limit for one delivery attempt, in seconds.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout_secs
    }

    /// Retries after a failure that certainly delivered nothing (0 or 1).
    pub fn retries(&self) -> u8 {
        self.retries
    }

    /// The SMTP port in force (the TLS mode's default when 0 is set).
    pub fn smtp_port(&self) -> u16 {
        match self.smtp_port {
            0 => self.smtp_tls.default_port(),
            p => p,
        }
    }

    /// How the SMTP connection is secured.
    pub fn smtp_tls(&self) -> SmtpTls {
        self.smtp_tls
    }

    /// Whether e-mail is configured (`notify.smtp.host`).
    pub fn has_email(&self) -> bool {
        !self.smtp_host.is_empty()
    }

    /// Whether SMS and voice codes can be sent (a webhook or a command).
    pub fn has_phone(&self) -> bool {
        !self.webhook_url.is_empty() || !self.command.is_empty()
    }
}

/// A TOML (or JSON, ...) value of a configuration table.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Node {
    Text(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
    Table(BTreeMap<String, Node>),
}

fn flatten(prefix: &str, table: BTreeMap<String, Node>, out: &mut Vec<(String, String)>) {
    for (key, node) in table {
        let name = format!("{prefix}.{key}");
        match node {
            Node::Text(s) => out.push((name, s)),
            Node::Int(i) => out.push((name, i.to_string())),
            Node::Bool(b) => out.push((name, if b { "on" } else { "off" }.to_owned())),
            Node::List(l) => out.push((name, l.join(","))),
            Node::Table(t) => flatten(&name, t, out),
        }
    }
}

impl<'de> serde::Deserialize<'de> for NotifyConfig {
    /// A table with the setting names without `notify.` (`smtp.host` is
    /// `host` in a `smtp` table); lists for `fraud_emails`, numbers and
    /// booleans where the setting takes them. Unknown keys are errors.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NotifyConfig, D::Error> {
        let table = BTreeMap::<String, Node>::deserialize(d)?;
        let mut pairs = Vec::new();
        flatten("notify", table, &mut pairs);
        let mut c = NotifyConfig::default();
        c.apply_settings(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .map_err(serde::de::Error::custom)?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_for(name: &str) -> &'static str {
        match name {
            "notify.fraud_emails" => "a@example.com, b@example.com",
            "notify.fraud_user_email" => "on",
            "notify.timeout_seconds" => "3",
            "notify.retries" => "0",
            "notify.smtp.host" => "127.0.0.1",
            "notify.smtp.port" => "2525",
            "notify.smtp.tls" => "none",
            "notify.smtp.user" => "mfa",
            "notify.smtp.from" => "mfa@example.com",
            "notify.sms.webhook_url" => "https://sms.example.com/send",
            "notify.sms.command" => "/usr/local/bin/send-sms --fast",
            n if n.ends_with("_file") => "/etc/mfa/x",
            "notify.template.sms" | "notify.template.voice" => "changed {code}",
            n if n.starts_with("notify.template.") => "changed",
            other => panic!("no test value for {other}"),
        }
    }

    #[test]
    fn every_setting_applies_and_its_default_is_the_default() {
        let default = NotifyConfig::default();
        for s in SETTINGS {
            let mut c = NotifyConfig::default();
            c.apply_setting(s.name, s.default).unwrap();
            assert_eq!(c, default, "{}: default", s.name);
            c.apply_setting(s.name, value_for(s.name)).unwrap();
            assert_ne!(c, default, "{}: a value changes something", s.name);
            c.apply_setting(s.name, "").unwrap();
            assert_eq!(c, default, "{}: empty is the default", s.name);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_applies_or_is_refused_and_a_refusal_changes_nothing(
            i in 0..SETTINGS.len(),
            value in "\\PC{0,80}",
        ) {
            let name = SETTINGS[i].name;
            let mut c = NotifyConfig::default();
            if c.apply_setting(name, &value).is_err() {
                proptest::prop_assert_eq!(c, NotifyConfig::default());
            }
        }
    }

    #[test]
    fn values_refused() {
        let bad = [
            ("notify.timeout_seconds", "0"),
            ("notify.timeout_seconds", "121"),
            ("notify.retries", "2"),
            ("notify.smtp.port", "65536"),
            ("notify.smtp.host", "a b"),
            ("notify.smtp.from", "nobody"),
            ("notify.smtp.ca_file", "relative.pem"),
            ("notify.sms.webhook_url", "http://sms.example.com/send"),
            ("notify.sms.webhook_url", "https://user:pw@sms.example.com/"),
            ("notify.sms.webhook_url", "ftp://127.0.0.1/"),
            ("notify.sms.command", "send-sms"),
            ("notify.fraud_emails", "a@example.com, A@example.com"),
            ("notify.fraud_emails", "a@example.com\nb@example.com"),
            ("notify.template.fraud_body", "{code}"),
            ("notify.template.sms", "no code here"),
        ];
        for (name, value) in bad {
            assert!(
                NotifyConfig::validate(name, value).is_err(),
                "{name}={value:?}"
            );
        }
        let many: Vec<String> = (0..51).map(|i| format!("a{i}@example.com")).collect();
        assert!(NotifyConfig::validate("notify.fraud_emails", &many.join(",")).is_err());
        assert!(NotifyConfig::validate("notify.fraud_emails", &many[..50].join(",")).is_ok());
        assert!(
            NotifyConfig::validate("notify.sms.webhook_url", "http://127.0.0.1:8080/sms").is_ok()
        );
        assert!(NotifyConfig::validate("notify.sms.webhook_url", "http://[::1]/sms").is_ok());
    }

    #[test]
    fn all_or_nothing() {
        let mut c = NotifyConfig::default();
        let err = c.apply_settings([
            ("notify.smtp.host", "smtp.example.com"),
            ("notify.smtp.tls", "ssl"),
        ]);
        assert!(
            matches!(err, Err(Error::InvalidSetting { name, .. }) if name == "notify.smtp.tls")
        );
        assert_eq!(c, NotifyConfig::default());
    }

    #[test]
    fn consistency() {
        let check = |pairs: &[(&str, &str)]| {
            NotifyConfig::from_settings(pairs.iter().copied())
                .unwrap()
                .check()
        };
        assert!(check(&[]).is_ok());
        assert!(check(&[("notify.smtp.host", "smtp.example.com")]).is_err());
        assert!(check(&[("notify.fraud_emails", "a@example.com")]).is_err());
        let relay = [
            ("notify.smtp.host", "smtp.example.com"),
            ("notify.smtp.from", "mfa@example.com"),
        ];
        assert!(check(&relay).is_ok());
        let mut clear = relay.to_vec();
        clear.extend([
            ("notify.smtp.tls", "none"),
            ("notify.smtp.user", "mfa"),
            ("notify.smtp.password_file", "/etc/mfa/smtp.pw"),
        ]);
        assert!(matches!(
            check(&clear),
            Err(Error::Inconsistent {
                name: "notify.smtp.tls",
                ..
            })
        ));
        assert!(
            check(&[
                ("notify.sms.webhook_url", "https://sms.example.com/"),
                ("notify.sms.command", "/bin/true"),
            ])
            .is_err()
        );
    }

    #[test]
    fn toml_table_is_the_settings() {
        let c: NotifyConfig = toml::from_str(
            r#"
            fraud_emails = ["a@example.com"]
            fraud_user_email = true
            retries = 0
            [smtp]
            host = "127.0.0.1"
            port = 2525
            tls = "none"
            from = "mfa@example.com"
            "#,
        )
        .unwrap();
        let d = NotifyConfig::from_settings([
            ("notify.fraud_emails", "a@example.com"),
            ("notify.fraud_user_email", "on"),
            ("notify.retries", "0"),
            ("notify.smtp.host", "127.0.0.1"),
            ("notify.smtp.port", "2525"),
            ("notify.smtp.tls", "none"),
            ("notify.smtp.from", "mfa@example.com"),
        ])
        .unwrap();
        assert_eq!(c, d);
        let err = toml::from_str::<NotifyConfig>("[smtp]\npassword = \"hunter2\"\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown setting notify.smtp.password"),
            "{err}"
        );
        assert!(!err.to_string().contains("hunter2"));
    }
}
