//! `mfa config …`: show and set the settings every server sharing the
//! store applies.

use clap::Subcommand;
use serde_json::json;

use super::actor;
use crate::Failure;
use crate::ctx::{Global, now};
use crate::output::{Output, Report};

/// `mfa config …`
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Every setting with its value, whether it is stored, and what it means.
    #[command(after_help = "Example:\n  mfa config show\n  mfa config show --json")]
    Show,
    /// Store settings for every server that shares the store, in one
    /// transaction (all or nothing, audited). An empty value (`name=`) goes
    /// back to the default. A `lockout.*` setting changes that one field of
    /// every factor class's policy. `trusted_ips` takes a comma-separated
    /// list of CIDR ranges (IPv4 or IPv6, at most 50) that replaces the
    /// current one. `notify.*` settings (e-mail and SMS/voice delivery,
    /// docs/notify.md) are checked by mfa-notify and stored in the same
    /// transaction.
    #[command(
        after_help = "Examples:\n  mfa config set lockout.denials=5 lockout.reset_minutes=15 lockout.unblock_minutes=30\n  \
        mfa config set lockout.hard_cap=50 lockout.escalation=2,1440\n  \
        mfa config set fraud.auto_block=on fraud.block_days=30 log.phone=off sms.code_ttl_seconds=180\n  \
        mfa config set trusted_ips=10.0.0.0/8,2001:db8::/32\n  \
        mfa config set notify.smtp.host=smtp.example.com notify.smtp.from=mfa@example.com notify.fraud_emails=secops@example.com"
    )]
    Set {
        /// `name=value` pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
    },
}

pub(crate) fn run(g: &Global, cmd: ConfigCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let mut store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        ConfigCommand::Show => {
            let settings = store.settings().map_err(db)?;
            let ranges = store.trusted_ranges().map_err(db)?;
            let ranges: Vec<String> = ranges.iter().map(ToString::to_string).collect();
            let mut text = String::new();
            for (s, value, stored) in &settings {
                text.push_str(&format!(
                    "{:<28} {:<8} {}{}\n",
                    s.name,
                    value,
                    s.description,
                    if *stored { "" } else { " (default)" }
                ));
            }
            text.push_str(&format!(
                "{:<28} {:<8} ranges that bypass MFA ({} of at most {})",
                "trusted_ips",
                if ranges.is_empty() {
                    "-".to_string()
                } else {
                    ranges.join(",")
                },
                ranges.len(),
                mfa_store::MAX_TRUSTED_RANGES
            ));
            let mut v = serde_json::Map::new();
            for (s, value, stored) in &settings {
                v.insert(
                    s.name.to_string(),
                    json!({"value": value, "stored": stored, "default": s.default}),
                );
            }
            v.insert("trusted_ips".into(), json!(ranges));
            text.push('\n');
            crate::notify::show(&store, &g.db, &mut text, &mut v)?;
            out.print(&Report::new(serde_json::Value::Object(v), text))
        }
        ConfigCommand::Set { pairs } => {
            let mut parsed: Vec<(&str, &str)> = Vec::new();
            let mut trusted: Option<Vec<&str>> = None;
            for p in &pairs {
                let (name, value) = p
                    .split_once('=')
                    .ok_or_else(|| Failure::input(format!("{p:?}: expected name=value")))?;
                let name = name.trim();
                if name == "trusted_ips" {
                    trusted = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|r| !r.is_empty())
                            .collect(),
                    );
                } else {
                    parsed.push((name, value.trim()));
                }
            }
            // `notify.*` values are mfa-notify's to judge; the store keeps
            // them as text.
            crate::notify::validate(&parsed)?;
            // One store call, one transaction: every setting and the new
            // list of trusted ranges, or nothing.
            store
                .set_config(&parsed, trusted.as_deref(), &actor(), now())
                .map_err(db)?;
            crate::notify::warn_if_inconsistent(&store, &g.db, &parsed);
            out.print(&Report::new(
                json!({"set": pairs}),
                format!("{} setting(s) stored", pairs.len()),
            ))
        }
    }
}
