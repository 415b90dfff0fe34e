//! `mfa verify`: a sign-in through the store's one entry point.

use std::net::IpAddr;

use clap::Args;
use mfa_oath::UnixTime;
use mfa_store::{ApprovedBy, AuthOutcome, AuthRequest, Channel, Presented};
use serde_json::json;

use super::ctx;
use crate::Failure;
use crate::ctx::{Global, now};
use crate::output::{Output, Report};

/// Arguments of `mfa verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every sign-in goes through the store's one entry point: fraud block, lockout, trusted IP \
    (from --client-ip), the factor, counters, one log event.\n\n\
    Exit status: 0 approved, 1 denied (reason on stderr), 2 bad input.\n\nExamples:\n  \
    mfa verify helga@contoso.com 287082 --client-ip 203.0.113.7\n  \
    mfa verify helga@contoso.com - --method app-password   # the password on standard input\n  \
    mfa verify helga@contoso.com 493021 --method sms"
)]
pub(crate) struct VerifyArgs {
    /// The user id.
    user: String,
    /// The code or app password; `-` reads it from standard input (keeps it
    /// out of the process list).
    code: String,
    /// What the secret is: an OATH code, an app password, or a one-time
    /// code sent by SMS or voice.
    #[arg(long, value_enum, default_value_t = VerifyMethod::Oath)]
    method: VerifyMethod,
    /// Unix time to verify at (default: now).
    #[arg(long)]
    time: Option<u64>,
    /// The client's IP address, for the log.
    #[arg(long)]
    client_ip: Option<IpAddr>,
}

/// What `mfa verify` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VerifyMethod {
    /// An OATH code (hardware token or authenticator app).
    Oath,
    /// An app password.
    AppPassword,
    /// A one-time code sent by SMS.
    Sms,
    /// A one-time code read out by a voice call.
    Voice,
}

pub(crate) fn run(g: &Global, args: VerifyArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let at = args.time.map_or_else(now, UnixTime::from_secs);
    let mut context = ctx()?;
    if let Some(ip) = args.client_ip {
        context = context.with_client(ip);
    }
    let secret = crate::ctx::secret_arg(args.code.clone())?;
    let presented = match args.method {
        VerifyMethod::Oath => Presented::OathCode(&secret),
        VerifyMethod::AppPassword => Presented::AppPassword(&secret),
        VerifyMethod::Sms => Presented::OneTimeCode {
            channel: Channel::Sms,
            code: &secret,
        },
        VerifyMethod::Voice => Presented::OneTimeCode {
            channel: Channel::Voice,
            code: &secret,
        },
    };
    let outcome = store
        .authenticate(&AuthRequest::new(&args.user, presented), at, &context)
        .map_err(|e| Failure::store(&g.db, e))?;
    match outcome {
        AuthOutcome::Approved { by, .. } => {
            let (what, serial, step) = match &by {
                ApprovedBy::OathCode { serial, step } => {
                    (format!("token {serial}"), Some(serial.clone()), Some(*step))
                }
                ApprovedBy::AppPassword { name } => (format!("app password {name:?}"), None, None),
                ApprovedBy::OneTimeCode { channel } => {
                    (format!("{channel:?} code").to_lowercase(), None, None)
                }
                ApprovedBy::TrustedIp { range } => (
                    format!("trusted IP range {range}, no second factor"),
                    None,
                    None,
                ),
                ApprovedBy::RememberedDevice => {
                    ("remembered device, no second factor".to_owned(), None, None)
                }
                _ => ("an approved method".to_owned(), None, None),
            };
            out.print(&Report::new(json!({"user": args.user, "result": "approved", "by": approved_by_name(&by), "serial": serial, "step": step}), format!("approved ({what})")))
        }
        AuthOutcome::Denied { reason, .. } => {
            out.print(&Report::new(json!({"user": args.user, "result": "denied", "reason": reason.kind().as_str(), "detail": reason.to_string()}), ""))?;
            Err(Failure::denied(format!("{}: denied: {reason}", args.user)))
        }
        _ => Err(Failure::denied(format!(
            "{}: denied: a second factor is needed",
            args.user
        ))),
    }
}

/// The stable name of what approved a sign-in (`--json` `by`).
fn approved_by_name(by: &ApprovedBy) -> &'static str {
    match by {
        ApprovedBy::OathCode { .. } => "oath_code",
        ApprovedBy::AppPassword { .. } => "app_password",
        ApprovedBy::OneTimeCode { .. } => "one_time_code",
        ApprovedBy::TrustedIp { .. } => "trusted_ip",
        ApprovedBy::RememberedDevice => "remembered_device",
        _ => "other",
    }
}
