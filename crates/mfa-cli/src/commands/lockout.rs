//! `mfa lockout …`: status and unblock.

use clap::Subcommand;
use mfa_store::mfa_lockout::{Decision, FactorClass};
use serde_json::json;

use super::actor;
use crate::Failure;
use crate::ctx::{Global, format_time, now};
use crate::output::{Output, Report};

/// `mfa lockout …`
#[derive(Debug, Subcommand)]
pub(crate) enum LockoutCommand {
    #[command(after_help = "Example:\n  mfa lockout status helga@contoso.com")]
    /// Failure count and lock of a user.
    Status {
        /// The user id.
        user: String,
    },
    #[command(
        after_help = "Example:\n  mfa lockout unblock helga@contoso.com --reason \"identity checked by phone\""
    )]
    /// Unblock a user at once; the reason is logged.
    Unblock {
        /// The user id.
        user: String,
        /// Why (logged).
        #[arg(long)]
        reason: String,
    },
}

pub(crate) fn run(g: &Global, cmd: LockoutCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        LockoutCommand::Status { user } => {
            let d = store
                .lockout_decision(&user, FactorClass::Otp, now())
                .map_err(db)?;
            let mut v = decision_json(&d);
            if let Some(map) = v.as_object_mut() {
                map.insert("user".into(), json!(user));
            }
            out.print(&Report::new(v, format!("{user}: {}", decision_text(&d))))
        }
        LockoutCommand::Unblock { user, reason } => {
            store
                .lockout_unblock(&user, FactorClass::Otp, &actor(), &reason, now())
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": user, "unblocked": true}),
                format!("{user}: unblocked ({reason})"),
            ))
        }
    }
}

pub(super) fn decision_json(d: &Decision) -> serde_json::Value {
    match d {
        Decision::Allowed { failures, .. } => json!({"locked": false, "failures": failures}),
        Decision::Locked {
            until, failures, ..
        } => {
            json!({"locked": true, "until": until.secs(), "failures": failures})
        }
        Decision::LockedUntilAdmin { failures, .. } => {
            json!({"locked": true, "until": null, "failures": failures})
        }
        #[allow(unreachable_patterns)]
        _ => json!({"locked": !d.is_allowed()}),
    }
}

pub(super) fn decision_text(d: &Decision) -> String {
    match d {
        Decision::Allowed { failures, .. } => format!("not locked, {failures} recent failure(s)"),
        Decision::Locked {
            until, failures, ..
        } => {
            format!("locked until {} ({failures} failures)", format_time(*until))
        }
        Decision::LockedUntilAdmin { failures, .. } => {
            format!("locked until an administrator unblocks ({failures} failures)")
        }
        #[allow(unreachable_patterns)]
        _ => format!("{d:?}"),
    }
}
