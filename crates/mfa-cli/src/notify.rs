//! Delivery through mfa-notify: `mfa notify test`, the `notify.*` part of
//! `mfa config set` / `mfa config show`, and the e-mails of
//! `mfa fraud report`.
//!
//! The `notify.*` settings live in the store as opaque text (the store does
//! not depend on mfa-notify); this module validates them before they are
//! stored and builds the [`Notifier`] from them.

use std::io::Write;

use clap::{Args, Subcommand};
use mfa_notify::{CodeChannel, FraudDelivery, Notifier, NotifyConfig, RecipientOutcome};
use mfa_store::mfa_fraud::Effect;
use mfa_store::mfa_record::PhoneNumber;
use mfa_store::{OPAQUE_PREFIX, Store, StoreConfig};
use serde_json::json;

use crate::Failure;
use crate::ctx::Global;
use crate::output::{Output, Report};

/// `mfa notify …`
#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Send a test message (no code) with the stored `notify.*` settings.
    /// Exit status 0: handed to the SMTP server or the gateway; 1: the
    /// delivery failed (the reason on standard error); 2: the settings are
    /// unusable or the address/number is not valid.
    #[command(
        after_help = "Examples:\n  mfa notify test --email secops@example.com\n  \
        mfa notify test --sms +31612345678\n  mfa notify test --voice +31612345678 --json"
    )]
    Test(TestArgs),
}

/// Where `mfa notify test` sends its message: exactly one of the three.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct TestArgs {
    /// An e-mail address (through `notify.smtp.*`).
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// A phone number for an SMS (through the webhook or the command).
    #[arg(long, value_name = "NUMBER")]
    sms: Option<String>,
    /// A phone number for a voice call (through the webhook or the command).
    #[arg(long, value_name = "NUMBER")]
    voice: Option<String>,
}

/// An error with its causes, `a: b: c` (mfa-notify's errors name no secret).
/// A cause whose text its parent already ends with is not repeated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

/// The stored `notify.*` settings, as stored.
fn stored(store: &Store, db: &str) -> Result<Vec<(String, String)>, Failure> {
    store
        .stored_settings(OPAQUE_PREFIX)
        .map_err(|e| Failure::store(db, e))
}

/// The delivery configuration from the stored settings.
fn load_config(store: &Store, db: &str) -> Result<NotifyConfig, Failure> {
    let pairs = stored(store, db)?;
    NotifyConfig::from_settings(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).map_err(|e| {
        Failure::input(format!(
            "stored notify settings: {} (change it with `mfa config set`)",
            chain(&e)
        ))
    })
}

/// Checks each `notify.*` pair of `mfa config set` with mfa-notify before
/// anything is stored (exit status 2 naming the first bad one).
pub(crate) fn validate(pairs: &[(&str, &str)]) -> Result<(), Failure> {
    for (name, value) in pairs.iter().filter(|(n, _)| n.starts_with(OPAQUE_PREFIX)) {
        NotifyConfig::validate(name, value).map_err(|e| {
            let text = chain(&e);
            if text.contains(name) {
                Failure::input(text)
            } else {
                Failure::input(format!("{name}: {text}"))
            }
        })?;
    }
    Ok(())
}

/// After `mfa config set` stored `notify.*` settings: a warning on standard
/// error when they do not fit together yet (each was valid alone, and
/// several commands may be needed to get there), so the administrator
/// knows `mfa notify test` would refuse them.
pub(crate) fn warn_if_inconsistent(store: &Store, db: &str, pairs: &[(&str, &str)]) {
    if !pairs.iter().any(|(n, _)| n.starts_with(OPAQUE_PREFIX)) {
        return;
    }
    let problem = match load_config(store, db) {
        Ok(config) => config.check().err().map(|e| chain(&e)),
        Err(f) => Some(f.message),
    };
    if let Some(p) = problem {
        let _ = writeln!(
            std::io::stderr(),
            "mfa: warning: the notify settings do not fit together yet: {p}"
        );
    }
}

/// A value on one line: line feeds and tabs written as `\n` and `\t`.
fn one_line(value: &str) -> String {
    value.replace('\n', "\\n").replace('\t', "\\t")
}

/// The `notify.*` lines of `mfa config show`: every setting mfa-notify
/// knows with its value (stored, or the default) and meaning, and any
/// stored name it does not know.
pub(crate) fn show(
    store: &Store,
    db: &str,
    text: &mut String,
    map: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), Failure> {
    let stored = stored(store, db)?;
    for s in mfa_notify::SETTINGS {
        let value = stored.iter().find(|(n, _)| n == s.name).map(|(_, v)| v);
        let shown = value.map_or(s.default, String::as_str);
        text.push_str(&format!(
            "{:<28} {:<8} {}{}\n",
            s.name,
            if shown.is_empty() {
                "-".to_owned()
            } else {
                one_line(shown)
            },
            s.description,
            if value.is_some() { "" } else { " (default)" }
        ));
        map.insert(
            s.name.to_owned(),
            json!({"value": shown, "stored": value.is_some(), "default": s.default, "description": s.description}),
        );
    }
    for (name, value) in stored
        .iter()
        .filter(|(n, _)| mfa_notify::setting(n).is_none())
    {
        text.push_str(&format!(
            "{name:<28} {:<8} not a setting of this mfa (remove it with `mfa config set {name}=`)\n",
            one_line(value)
        ));
        map.insert(
            name.clone(),
            json!({"value": value, "stored": true, "known": false}),
        );
    }
    Ok(())
}

/// `mfa notify test`.
pub(crate) fn run(g: &Global, cmd: NotifyCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let NotifyCommand::Test(args) = cmd;
    let store = g.open()?;
    let config = load_config(&store, &g.db)?;
    let notifier = Notifier::new(config)
        .map_err(|e| Failure::input(format!("notify settings: {}", chain(&e))))?;
    let phone = |number: &str| {
        PhoneNumber::new(number).map_err(|e| Failure::input(format!("{number:?}: {e}")))
    };
    let (channel, to, result) = match (args.email, args.sms, args.voice) {
        (Some(address), _, _) => {
            let r = notifier.send_test_email(&address);
            ("email", address, r)
        }
        (None, Some(number), _) => {
            let to = phone(&number)?;
            let r = notifier.send_test_message(&to, CodeChannel::Sms);
            ("sms", to.masked(), r)
        }
        (None, None, Some(number)) => {
            let to = phone(&number)?;
            let r = notifier.send_test_message(&to, CodeChannel::Voice);
            ("voice", to.masked(), r)
        }
        // clap's group requires one of the three.
        (None, None, None) => return Err(Failure::input("give --email, --sms or --voice")),
    };
    let error = result.as_ref().err().map(|e| chain(e));
    out.print(&Report::new(
        json!({"channel": channel, "to": to, "delivered": result.is_ok(), "error": error}),
        match &error {
            None => format!("test {channel} to {to}: delivered"),
            // The reason goes to standard error with the exit status.
            Some(_) => String::new(),
        },
    ))?;
    match result {
        Ok(()) => Ok(()),
        // A configuration the delivery found missing or an address it
        // refused is bad input, not a failed delivery.
        Err(
            e
            @ (mfa_notify::Error::NotConfigured { .. } | mfa_notify::Error::InvalidAddress { .. }),
        ) => Err(Failure::input(format!(
            "test {channel} to {to}: {}",
            chain(&e)
        ))),
        Err(e) => Err(Failure::denied(format!(
            "test {channel} to {to}: not delivered: {}",
            chain(&e)
        ))),
    }
}

/// How `mfa fraud report` will deliver its e-mails.
pub(crate) enum FraudMail {
    /// E-mail is configured: the notifier to deliver with.
    Ready(Box<Notifier>),
    /// No SMTP server is configured: nothing is sent, and the output says so.
    NotConfigured,
    /// The stored settings cannot be used (the report is still recorded;
    /// the output says why nobody was notified, exit status 1).
    Unusable(String),
}

/// Before a fraud report: the notifier from the stored settings and, when
/// `notify.fraud_emails` names administrators, the store opened again with
/// them as the fraud configuration's recipients (otherwise mfa-fraud emits
/// no `NotifyAdministrators`). A broken notify configuration does not stop
/// the report from being recorded.
pub(crate) fn prepare_fraud(g: &Global, store: Store) -> Result<(Store, FraudMail), Failure> {
    let config = match load_config(&store, &g.db) {
        Ok(c) => c,
        Err(f) => return Ok((store, FraudMail::Unusable(f.message))),
    };
    if !config.has_email() {
        return Ok((store, FraudMail::NotConfigured));
    }
    let store = if config.fraud_emails().is_empty() {
        store
    } else {
        let mut base = StoreConfig::default();
        base.fraud = base
            .fraud
            .with_recipients(config.fraud_emails())
            .map_err(|e| Failure::input(format!("notify.fraud_emails: {e}")))?;
        drop(store);
        Store::open_with(&g.db, &g.master_key()?, base).map_err(|e| Failure::store(&g.db, e))?
    };
    match Notifier::new(config) {
        Ok(n) => Ok((store, FraudMail::Ready(Box::new(n)))),
        Err(e) => Ok((
            store,
            FraudMail::Unusable(format!("notify settings: {}", chain(&e))),
        )),
    }
}

/// What a fraud report's delivery printed and whether everything due went out.
pub(crate) struct FraudOutcome {
    /// `{"administrators": […], "user": …}`, or `null` when nothing could be
    /// sent.
    pub(crate) json: serde_json::Value,
    /// Why nothing was sent, if so.
    pub(crate) note: Option<String>,
    /// One line per recipient, or the note.
    pub(crate) text: String,
    /// Why not everything due went out, for standard error with exit
    /// status 1; `None` when it did (or nothing was due).
    pub(crate) failure: Option<String>,
}

fn outcome_line(role: &str, o: &RecipientOutcome) -> String {
    match &o.result {
        Ok(()) => format!("  e-mail to {} ({role}): delivered", o.address),
        Err(e) => format!(
            "  e-mail to {} ({role}): not delivered: {}",
            o.address,
            chain(e)
        ),
    }
}

/// Carries out the e-mail effects of one fraud report.
pub(crate) fn deliver_fraud(
    store: &Store,
    db: &str,
    user: &str,
    effects: &[Effect],
    mail: FraudMail,
) -> Result<FraudOutcome, Failure> {
    let notifier = match mail {
        FraudMail::Ready(n) => n,
        FraudMail::NotConfigured => {
            let note =
                "no notification e-mail sent: no SMTP server is configured (notify.smtp.host)";
            return Ok(FraudOutcome {
                json: serde_json::Value::Null,
                note: Some(note.to_owned()),
                text: format!("  {note}"),
                failure: None,
            });
        }
        FraudMail::Unusable(why) => {
            let note = format!("no notification e-mail sent: {why}");
            return Ok(FraudOutcome {
                json: serde_json::Value::Null,
                text: format!("  {note}"),
                note: Some(note),
                failure: Some(format!(
                    "fraud report recorded, but nobody was e-mailed: {why}"
                )),
            });
        }
    };
    let email = store
        .user(user)
        .map_err(|e| Failure::store(db, e))?
        .and_then(|p| p.email);
    let delivery: FraudDelivery = notifier.notify_fraud(user, email.as_deref(), effects);
    let mut lines: Vec<String> = delivery
        .administrators
        .iter()
        .map(|o| outcome_line("administrator", o))
        .collect();
    lines.extend(delivery.user.iter().map(|o| outcome_line("user", o)));
    let note = if lines.is_empty() {
        let n = "no notification e-mail due (notify.fraud_emails is empty, and no e-mail to the user: \
                 notify.fraud_user_email off, no address, or not blocked)";
        lines.push(format!("  {n}"));
        Some(n.to_owned())
    } else {
        None
    };
    let failed = delivery
        .administrators
        .iter()
        .chain(delivery.user.as_ref())
        .filter(|o| o.result.is_err())
        .count();
    let json = serde_json::to_value(&delivery)
        .map_err(|e| Failure::input(format!("cannot write the delivery outcome: {e}")))?;
    Ok(FraudOutcome {
        json,
        note,
        text: lines.join("\n"),
        failure: (failed > 0).then(|| {
            format!("fraud report recorded, but {failed} notification e-mail(s) not delivered")
        }),
    })
}
