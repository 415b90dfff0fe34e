//! The store commands, one module per command group, each with its clap
//! arguments and its handler; every handler prints its result through
//! [`crate::output::Output`].

pub(crate) mod backup;
pub(crate) mod config;
pub(crate) mod enroll;
pub(crate) mod fraud;
pub(crate) mod init;
pub(crate) mod lockout;
pub(crate) mod report;
pub(crate) mod risk;
pub(crate) mod tokens;
pub(crate) mod users;
pub(crate) mod verify;

use std::net::IpAddr;

use mfa_store::VerifyContext;
use mfa_store::mfa_fraud::Effect;

use crate::Failure;

/// The context of requests made from this command: it acts as the MFA
/// server, named after the host, on the loopback address.
pub(crate) fn ctx() -> Result<VerifyContext, Failure> {
    let name = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "mfa-cli".into());
    VerifyContext::new(&name, IpAddr::from([127, 0, 0, 1]))
        .or_else(|_| VerifyContext::new("mfa-cli", IpAddr::from([127, 0, 0, 1])))
        .map_err(|e| Failure::input(format!("server name: {e}")))
}

pub(super) fn effects_text(effects: &[Effect]) -> String {
    effects
        .iter()
        .map(|e| match e {
            Effect::Audit { activity, .. } => format!("\n  audit: {activity}"),
            Effect::SignIn { result, .. } => format!("\n  sign-in log: {result:?}"),
            Effect::RiskDetected(r) => format!("\n  risk detection: {r:?}"),
            Effect::NotifyAdministrators { recipients, .. } => {
                format!("\n  administrators to e-mail: {}", recipients.len())
            }
            #[allow(unreachable_patterns)]
            other => format!("\n  {other:?}"),
        })
        .collect()
}

pub(super) fn actor() -> String {
    std::env::var("USER").unwrap_or_else(|_| "admin".into())
}
