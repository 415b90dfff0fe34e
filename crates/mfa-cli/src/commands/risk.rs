//! `mfa risk …`: remediate a user's high risk.

use clap::{Subcommand, ValueEnum};
use mfa_store::mfa_fraud::Remediation;
use serde_json::json;

use super::{actor, ctx, effects_text};
use crate::Failure;
use crate::ctx::{Global, now};
use crate::output::{Output, Report};

/// `mfa risk …`
#[derive(Debug, Subcommand)]
pub(crate) enum RiskCommand {
    #[command(after_help = "Example:\n  mfa risk remediate helga@contoso.com --how password-reset")]
    /// Clear a user's high risk (after a password reset or review).
    Remediate {
        /// The user id.
        user: String,
        /// How the risk was remediated.
        #[arg(long, value_enum, default_value = "dismissal")]
        how: HowArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HowArg {
    /// The user reset their password.
    PasswordReset,
    /// An administrator reviewed and dismissed the risk.
    Dismissal,
}

pub(crate) fn run(g: &Global, cmd: RiskCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    match cmd {
        RiskCommand::Remediate { user, how } => {
            let how = match how {
                HowArg::PasswordReset => Remediation::PasswordReset,
                HowArg::Dismissal => Remediation::AdminDismissal,
            };
            let effects = store
                .remediate_risk(&user, &actor(), how, now(), &ctx()?)
                .map_err(|e| Failure::store(&g.db, e))?;
            out.print(&Report::new(
                json!({"user": user, "high_risk": false}),
                format!("{user}: risk remediated{}", effects_text(&effects)),
            ))
        }
    }
}
