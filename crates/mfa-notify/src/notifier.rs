//! The [`Notifier`]: the configured transports and what they send.

use std::path::Path;

use mfa_fraud::{AuditActivity, Effect};
use mfa_oath::UnixTime;
use mfa_record::PhoneNumber;
use zeroize::Zeroizing;

use crate::code::{format_time, minutes_left};
use crate::command::Command;
use crate::config::NotifyConfig;
use crate::error::{Error, Transport};
use crate::smtp::Smtp;
use crate::template::{Placeholder, Template};
use crate::webhook::Webhook;
use crate::{CodeChannel, OneTimeCode};

/// The outcome of one e-mail of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct RecipientOutcome {
    /// The address.
    pub address: String,
    /// Delivered to the SMTP server, or why not.
    pub result: Result<(), Error>,
}

/// What [`Notifier::notify_fraud`] did: one outcome per administrator (in
/// the order of the effect's recipients) and, if it was due, the e-mail
/// to the user.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FraudDelivery {
    /// One per recipient of [`Effect::NotifyAdministrators`]; empty when
    /// the effects hold none.
    pub administrators: Vec<RecipientOutcome>,
    /// The e-mail telling the user that the report blocked the account:
    /// `None` unless `notify.fraud_user_email` is on, the user has an
    /// address and the report blocked the account.
    pub user: Option<RecipientOutcome>,
}

/// `{"address": …, "delivered": true|false, "error": null|"…"}`, for
/// `mfa fraud report --json` (the error's text, as `Display` gives it).
impl serde::Serialize for RecipientOutcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("RecipientOutcome", 3)?;
        st.serialize_field("address", &self.address)?;
        st.serialize_field("delivered", &self.result.is_ok())?;
        st.serialize_field(
            "error",
            &self.result.as_ref().err().map(ToString::to_string),
        )?;
        st.end()
    }
}

/// `{"administrators": [outcome, …], "user": outcome|null}`.
impl serde::Serialize for FraudDelivery {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("FraudDelivery", 2)?;
        st.serialize_field("administrators", &self.administrators)?;
        st.serialize_field("user", &self.user)?;
        st.end()
    }
}

impl FraudDelivery {
    /// Whether every e-mail due was handed to the SMTP server.
    pub fn all_delivered(&self) -> bool {
        self.administrators
            .iter()
            .chain(self.user.as_ref())
            .all(|o| o.result.is_ok())
    }
}

enum Gateway {
    Webhook(Webhook),
    Command(Command),
}

/// Delivers fraud e-mails and one-time codes as configured. Building one
/// reads the password, token and CA files; no connection is opened until a
/// message is sent, and none is kept afterwards. Sending blocks the
/// calling thread for at most `notify.timeout_seconds` per attempt.
pub struct Notifier {
    config: NotifyConfig,
    smtp: Option<Smtp>,
    gateway: Option<Gateway>,
}

impl core::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The password and token stay out; the configuration holds none.
        f.debug_struct("Notifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn read_file(name: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| Error::File {
            name,
            path: path.to_owned(),
            source,
        })
}

/// The first line of a secret file, without its line ending. A file that
/// others can read is used, with a warning.
fn read_secret(name: &'static str, path: &Path) -> Result<Zeroizing<String>, Error> {
    let bytes = read_file(name, path)?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(setting = name, path = %path.display(), "secret file is readable by group or others (chmod 600)");
        }
    }
    let bad = |why: &str| Error::File {
        name,
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned()),
    };
    let text = core::str::from_utf8(&bytes).map_err(|_| bad("not UTF-8"))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(bad("the first line is empty"));
    }
    if line.chars().any(char::is_control) {
        return Err(bad("control character in the first line"));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

impl Notifier {
    /// Checks `config` ([`NotifyConfig::check`]) and reads the files it
    /// names (`notify.smtp.password_file`, `notify.sms.webhook_token_file`,
    /// the CA files).
    ///
    /// # Errors
    /// [`Error::Inconsistent`], [`Error::File`] (the path and the I/O
    /// error, never the content), [`Error::InvalidAddress`].
    ///
    /// ```
    /// let notifier = mfa_notify::Notifier::new(mfa_notify::NotifyConfig::default())?;
    /// assert!(!notifier.config().has_email());
    /// # Ok::<(), mfa_notify::Error>(())
    /// ```
    pub fn new(config: NotifyConfig) -> Result<Notifier, Error> {
        config.check()?;
        let smtp = if config.smtp_host.is_empty() {
            None
        } else {
            let password = match &config.smtp_password_file {
                Some(p) => Some(read_secret("notify.smtp.password_file", p)?),
                None => None,
            };
            let ca = match &config.smtp_ca_file {
                Some(p) => Some(read_file("notify.smtp.ca_file", p)?),
                None => None,
            };
            Some(Smtp::new(
                &config,
                password,
                ca.as_deref().map(|v| v.as_slice()),
            )?)
        };
        let gateway = if !config.webhook_url.is_empty() {
            let token = match &config.webhook_token_file {
                Some(p) => Some(read_secret("notify.sms.webhook_token_file", p)?),
                None => None,
            };
            let ca = match &config.webhook_ca_file {
                Some(p) => Some(read_file("notify.sms.webhook_ca_file", p)?),
                None => None,
            };
            Some(Gateway::Webhook(Webhook::new(
                &config,
                token,
                ca.as_deref().map(|v| v.as_slice()),
            )?))
        } else if !config.command.is_empty() {
            Some(Gateway::Command(Command::new(
                config.command.clone(),
                config.timeout_secs,
            )))
        } else {
            None
        };
        Ok(Notifier {
            config,
            smtp,
            gateway,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &NotifyConfig {
        &self.config
    }

    /// Runs `attempt` once, and once more if it failed in a way that
    /// certainly delivered nothing and `notify.retries` is 1.
    fn with_retry(&self, mut attempt: impl FnMut(u8) -> Result<(), Error>) -> Result<(), Error> {
        let mut n = 1;
        loop {
            match attempt(n) {
                Err(e) if n <= self.config.retries && e.is_retryable() => {
                    tracing::debug!(error = %e, attempt = n, "delivery failed, retrying once");
                    n += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends a one-time code to `to` by SMS or voice, through the webhook
    /// or the command, with the `notify.template.sms` / `.voice` text.
    /// `expires` is what mfa-store's `create_code` returned; the message
    /// says the minutes from `now` until then.
    ///
    /// **At most once per code:** call this only right after `create_code`
    /// stored a new code. A retransmitted RADIUS request or a repeated HTTP
    /// call for a challenge whose code is still valid must not call it
    /// again (the front end keeps the challenge; see docs/notify.md). On
    /// error, deny the sign-in with the error as the logged reason; the code
    /// stays stored but the user never received it, so it cannot be used by
    /// anyone but whoever can read the gateway's traffic. Callers that want
    /// it gone create a fresh code on the next attempt, which replaces it.
    ///
    /// Logged (tracing, target `mfa_notify`): the channel, the masked
    /// number, the transport, the attempt and the outcome. Never the code
    /// or the message.
    ///
    /// # Errors
    /// [`Error::NotConfigured`], [`Error::Connect`], [`Error::Timeout`],
    /// [`Error::WebhookStatus`], [`Error::Webhook`],
    /// [`Error::CommandSpawn`], [`Error::CommandStatus`].
    ///
    /// ```
    /// use mfa_notify::{CodeChannel, Notifier, NotifyConfig, OneTimeCode};
    /// use mfa_oath::UnixTime;
    /// let mut config = NotifyConfig::default();
    /// config.apply_setting("notify.sms.command", "/bin/sh -c cat>/dev/null")?;
    /// let notifier = Notifier::new(config)?;
    /// let to = mfa_record::PhoneNumber::new("+31 6 1234 5678").unwrap();
    /// let now = UnixTime::from_secs(1_700_000_000);
    /// let code = OneTimeCode::new("042917")?;
    /// notifier.send_code(&to, CodeChannel::Sms, &code, now, UnixTime::from_secs(now.secs() + 300))?;
    /// # Ok::<(), mfa_notify::Error>(())
    /// ```
    pub fn send_code(
        &self,
        to: &PhoneNumber,
        channel: CodeChannel,
        code: &OneTimeCode,
        now: UnixTime,
        expires: UnixTime,
    ) -> Result<(), Error> {
        let template = match channel {
            CodeChannel::Sms => &self.config.templates.sms,
            CodeChannel::Voice => &self.config.templates.voice,
        };
        let masked = to.masked();
        let minutes = minutes_left(now, expires).to_string();
        let message = template.render(&|p| match p {
            Placeholder::Code => Zeroizing::new(code.expose().to_owned()),
            Placeholder::CodeSpaced => code.spaced(),
            Placeholder::Phone => Zeroizing::new(masked.clone()),
            Placeholder::Minutes => Zeroizing::new(minutes.clone()),
            // Not offered by code templates (refused when configured).
            _ => Zeroizing::new(String::new()),
        });
        self.send_phone(to, &masked, channel, &message, "code")
    }

    /// Sends a test message (no code) by SMS or voice, for
    /// `mfa notify test --sms NUMBER`.
    ///
    /// # Errors
    /// As [`Notifier::send_code`].
    pub fn send_test_message(&self, to: &PhoneNumber, channel: CodeChannel) -> Result<(), Error> {
        let message = Zeroizing::new("This is a test message from the MFA server.".to_owned());
        self.send_phone(to, &to.masked(), channel, &message, "test")
    }

    fn send_phone(
        &self,
        to: &PhoneNumber,
        masked: &str,
        channel: CodeChannel,
        message: &str,
        what: &'static str,
    ) -> Result<(), Error> {
        let Some(gateway) = &self.gateway else {
            let e = Error::NotConfigured {
                what: "SMS/voice gateway (notify.sms.webhook_url or notify.sms.command)",
            };
            tracing::warn!(channel = %channel, to = masked, error = %e, "{what} not sent");
            return Err(e);
        };
        let transport = match gateway {
            Gateway::Webhook(_) => Transport::Webhook,
            Gateway::Command(_) => Transport::Command,
        };
        self.with_retry(|attempt| {
            let outcome = match gateway {
                Gateway::Webhook(w) => {
                    let body = serde_json::json!({
                        "to": to.as_str(),
                        "channel": channel.as_str(),
                        "message": message,
                        "attempt": attempt,
                    });
                    let body = Zeroizing::new(body.to_string().into_bytes());
                    w.post(&body)
                }
                Gateway::Command(c) => {
                    let input = Zeroizing::new(format!(
                        "{}\n{}\n{}",
                        to.as_str(),
                        channel.as_str(),
                        message
                    ));
                    c.run(input.as_bytes())
                }
            };
            match &outcome {
                Ok(()) => tracing::info!(
                    channel = %channel, to = masked, transport = %transport, attempt,
                    "{what} sent"
                ),
                Err(e) => tracing::warn!(
                    channel = %channel, to = masked, transport = %transport, attempt, error = %e,
                    "{what} not sent"
                ),
            }
            outcome
        })
    }

    fn send_email(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        what: &'static str,
    ) -> Result<(), Error> {
        let Some(smtp) = &self.smtp else {
            return Err(Error::NotConfigured {
                what: "SMTP server (notify.smtp.host)",
            });
        };
        self.with_retry(|attempt| {
            let outcome = smtp.send(to, subject, body);
            match &outcome {
                Ok(()) => tracing::info!(to, attempt, "{what} e-mail sent"),
                Err(e) => tracing::warn!(to, attempt, error = %e, "{what} e-mail not sent"),
            }
            outcome
        })
    }

    /// Sends a test e-mail, for `mfa notify test --email ADDRESS`.
    ///
    /// # Errors
    /// [`Error::NotConfigured`], [`Error::InvalidAddress`] and the SMTP
    /// errors of [`RecipientOutcome::result`].
    pub fn send_test_email(&self, to: &str) -> Result<(), Error> {
        self.send_email(
            to,
            "MFA notification test",
            "This is a test message from the MFA server. E-mail notifications work.\n",
            "test",
        )
    }

    /// Carries out the e-mail effects of a fraud report: every
    /// [`Effect::NotifyAdministrators`] in `effects` (one e-mail per
    /// recipient, so one refused address does not stop the others, and no
    /// administrator sees the others' addresses), and, when
    /// `notify.fraud_user_email` is on, `user_email` is given and the
    /// effects say the report blocked the account
    /// ([`AuditActivity::FraudReportedUserBlocked`]), one e-mail to the
    /// user. Other effects are ignored. Pass exactly the effects that
    /// `FraudState::apply` returned for one report, once.
    ///
    /// When a recipient finds the server unreachable or unusable
    /// (connection failure, timeout, no STARTTLS, 421, authentication
    /// refused), the remaining recipients are not tried and get
    /// [`Error::NotAttempted`].
    ///
    /// Logged: each recipient's address and outcome, never a secret.
    ///
    /// ```
    /// use mfa_fraud::{Channel, Event, FraudConfig, FraudState};
    /// use mfa_notify::{Notifier, NotifyConfig};
    /// let config = FraudConfig::default().with_recipients(["secops@example.com"])?;
    /// let now = mfa_oath::UnixTime::from_secs(1_700_000_000);
    /// let event = Event::UserReport { channel: Channel::App, block_confirmed: false, passwordless: false };
    /// let (_, effects) = FraudState::default().apply(&config, event, now)?;
    /// // No SMTP server configured: each recipient's outcome says so.
    /// let delivery = Notifier::new(NotifyConfig::default()).unwrap().notify_fraud("helga", None, &effects);
    /// assert_eq!(delivery.administrators.len(), 1);
    /// assert!(!delivery.all_delivered());
    /// # Ok::<(), mfa_fraud::Error>(())
    /// ```
    pub fn notify_fraud(
        &self,
        user: &str,
        user_email: Option<&str>,
        effects: &[Effect],
    ) -> FraudDelivery {
        let mut delivery = FraudDelivery::default();
        let mut unreachable = false;
        let mut send = |to: &str,
                        subject: &Template,
                        body: &Template,
                        value: &dyn Fn(Placeholder) -> Zeroizing<String>,
                        what| {
            let result = if unreachable {
                Err(Error::NotAttempted {
                    transport: Transport::Smtp,
                })
            } else {
                let subject = subject.render(value);
                let body = body.render(value);
                self.send_email(to, &subject, &body, what)
            };
            if result.as_ref().is_err_and(Error::is_unreachable) {
                unreachable = true;
            }
            RecipientOutcome {
                address: to.to_owned(),
                result,
            }
        };
        let t = &self.config.templates;
        for effect in effects {
            if let Effect::NotifyAdministrators {
                recipients,
                channel,
                user_blocked,
                at,
            } = effect
            {
                let time = format_time(*at);
                let channel = channel.to_string();
                let status = if *user_blocked {
                    "blocked"
                } else {
                    "not blocked"
                };
                let value = |p| {
                    Zeroizing::new(
                        match p {
                            Placeholder::User => user,
                            Placeholder::Time => &time,
                            Placeholder::Channel => &channel,
                            Placeholder::Status => status,
                            _ => "",
                        }
                        .to_owned(),
                    )
                };
                for to in recipients {
                    let outcome = send(to, &t.fraud_subject, &t.fraud_body, &value, "fraud alert");
                    delivery.administrators.push(outcome);
                }
            }
        }
        if self.config.fraud_user_email
            && let Some(to) = user_email
            && let Some(at) = effects.iter().find_map(|e| match e {
                Effect::Audit {
                    activity: AuditActivity::FraudReportedUserBlocked,
                    at,
                    ..
                } => Some(*at),
                _ => None,
            })
        {
            let time = format_time(at);
            let value = |p| {
                Zeroizing::new(
                    match p {
                        Placeholder::User => user,
                        Placeholder::Time => &time,
                        _ => "",
                    }
                    .to_owned(),
                )
            };
            delivery.user = Some(send(
                to,
                &t.blocked_subject,
                &t.blocked_body,
                &value,
                "account blocked",
            ));
        }
        delivery
    }
}
