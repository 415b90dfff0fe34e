//! The one error type of this crate.

use core::fmt;
use std::path::PathBuf;

/// A way of delivering a message, as named in errors and log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// E-mail over SMTP.
    Smtp,
    /// The SMS/voice gateway's HTTP webhook.
    Webhook,
    /// The external SMS/voice command.
    Command,
}

impl Transport {
    /// `smtp`, `webhook` or `command`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Smtp => "smtp",
            Transport::Webhook => "webhook",
            Transport::Command => "command",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cause underneath a connection or TLS failure (the underlying
/// library's error, kept as the [`std::error::Error::source`]).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong configuring or delivering.
///
/// No variant carries a one-time code, a password, a bearer token or a
/// phone number; recipients' e-mail addresses are named (an administrator
/// needs to know which address failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting name that does not exist.
    #[error("unknown setting {name}")]
    UnknownSetting {
        /// The name given.
        name: String,
    },
    /// A setting value that does not fit the setting.
    #[error("invalid value {value:?} for {name}: expected {expected}")]
    InvalidSetting {
        /// The setting.
        name: String,
        /// The value given (at most its first 64 characters).
        value: String,
        /// What the setting accepts.
        expected: &'static str,
    },
    /// A template names a placeholder this template does not offer.
    #[error("{name}: unknown placeholder {{{placeholder}}} (this template offers: {offered})")]
    UnknownPlaceholder {
        /// The template setting.
        name: String,
        /// The placeholder (at most its first 32 characters).
        placeholder: String,
        /// The placeholders this template offers, e.g. `{code}, {minutes}`.
        offered: &'static str,
    },
    /// Two settings that cannot both be used, or one that needs another.
    #[error("{name}: {problem}")]
    Inconsistent {
        /// The setting at fault.
        name: &'static str,
        /// What is wrong, e.g. `needs notify.smtp.from`.
        problem: &'static str,
    },
    /// A file named by a `*_file` setting could not be read or is not
    /// usable (empty, not PEM).
    #[error("{name}: cannot use {}", path.display())]
    File {
        /// The setting naming the file.
        name: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An e-mail address that is not a valid SMTP mailbox.
    #[error("invalid e-mail address {address:?}")]
    InvalidAddress {
        /// The address (at most its first 64 characters).
        address: String,
    },
    /// A one-time code that is empty, over-long or not ASCII letters and
    /// digits (the code itself is not shown).
    #[error("invalid one-time code ({len} characters; 1 to 64 ASCII letters or digits)")]
    InvalidCode {
        /// Its length.
        len: usize,
    },
    /// The delivery needs a transport that is not configured.
    #[error("no {what} is configured")]
    NotConfigured {
        /// What is missing, e.g. `SMTP server (notify.smtp.host)`.
        what: &'static str,
    },
    /// The server could not be reached (refused, unreachable, DNS, TLS
    /// handshake or authentication failure). Nothing was delivered.
    #[error("{transport}: connection failed")]
    Connect {
        /// Where.
        transport: Transport,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The delivery did not finish within `notify.timeout_seconds`. The
    /// message may or may not have gone out, so it is not retried.
    #[error("{transport}: timed out after {seconds} s")]
    Timeout {
        /// Where.
        transport: Transport,
        /// The limit.
        seconds: u64,
    },
    /// The SMTP server refused the message for this recipient.
    #[error("smtp: {recipient}: refused with {code}")]
    SmtpRefused {
        /// The recipient.
        recipient: String,
        /// The SMTP reply code, e.g. 550 (4xx: try later, 5xx: permanent).
        code: u16,
    },
    /// Another SMTP failure: the server does not offer STARTTLS although
    /// `notify.smtp.tls = starttls` requires it, no authentication
    /// mechanism in common, a malformed reply. Nothing was sent.
    #[error("smtp: delivery failed")]
    Smtp {
        /// Why.
        #[source]
        source: Cause,
    },
    /// The webhook answered with a status other than 2xx.
    #[error("webhook: HTTP status {status}")]
    WebhookStatus {
        /// The HTTP status, e.g. 500.
        status: u16,
    },
    /// Another webhook failure (protocol error, redirect).
    #[error("webhook: request failed")]
    Webhook {
        /// Why.
        #[source]
        source: Cause,
    },
    /// The command could not be started.
    #[error("command: cannot start {program}")]
    CommandSpawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The command failed: a non-zero exit status, or killed by a signal
    /// (`code` is `None`).
    #[error("command: {}", match code { Some(c) => format!("exit status {c}"), None => "killed by a signal".to_owned() })]
    CommandStatus {
        /// The exit status, if it exited.
        code: Option<i32>,
    },
    /// Not attempted: an earlier recipient of the same batch found the
    /// server unreachable or unusable, so the rest were not tried (each
    /// would have failed the same way, or waited for the same timeout).
    #[error("{transport}: not attempted (server unreachable or unusable)")]
    NotAttempted {
        /// Where.
        transport: Transport,
    },
}

impl Error {
    /// Whether the failure says nothing was delivered, so one retry cannot
    /// deliver twice: a connection failure, an SMTP 4xx reply, an HTTP
    /// 5xx or 429 status, a command's non-zero exit status. Timeouts are
    /// not retried (the message may have gone out).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::SmtpRefused { code, .. } => (400..500).contains(code),
            Error::WebhookStatus { status } => *status == 429 || (500..600).contains(status),
            Error::CommandStatus { code } => code.is_some(),
            _ => false,
        }
    }

    /// Whether the failure says the server is unreachable, so that the
    /// other recipients of a batch need not be tried.
    pub(crate) fn is_unreachable(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::NotConfigured { .. }
            // STARTTLS not offered, no usable authentication mechanism.
            | Error::Smtp { .. } => true,
            // Service closing; authentication required or refused.
            Error::SmtpRefused { code, .. } => *code == 421 || (530..=538).contains(code),
            _ => false,
        }
    }
}

/// At most the first `n` characters of `s` (for values echoed in errors).
pub(crate) fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
