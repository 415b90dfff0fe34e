//! `mfa report …`: the authentication log and monthly usage.

use std::path::PathBuf;

use clap::Subcommand;
use mfa_oath::UnixTime;
use mfa_store::mfa_record::AuthResult;
use serde_json::json;

use crate::Failure;
use crate::ctx::{Global, create_secret_file, format_time, now, parse_time};
use crate::output::{Output, Report};

/// `mfa report …`
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// The authentication log of a period.
    #[command(
        after_help = "Example:\n  mfa report auth --since 2026-11-01 --until 2026-12-01 --csv november.csv"
    )]
    Auth {
        /// From (YYYY-MM-DD or Unix seconds), inclusive.
        #[arg(long)]
        since: String,
        /// Until (YYYY-MM-DD or Unix seconds), exclusive; default now.
        #[arg(long)]
        until: Option<String>,
        /// Write the log as CSV to this file (mode 0600; an existing file
        /// is not overwritten).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Replace the --csv file if it exists.
        #[arg(long, requires = "csv")]
        force: bool,
    },
    #[command(after_help = "Example:\n  mfa report usage --month 2026-11 --json")]
    /// Usage of a month: users configured for MFA, sign-ins, denials by reason.
    Usage {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
    },
}

pub(crate) fn run(g: &Global, cmd: ReportCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        ReportCommand::Auth {
            since,
            until,
            csv,
            force,
        } => {
            let from = parse_time(&since)?;
            let to = until
                .as_deref()
                .map(parse_time)
                .transpose()?
                .unwrap_or_else(|| UnixTime::from_secs(now().secs() + 1));
            if let Some(path) = csv {
                let file = create_secret_file(&path, force, "--csv ")?;
                store
                    .export_auth_log_csv(from, to, std::io::BufWriter::new(file))
                    .map_err(db)?;
            }
            let events = store.auth_log(from, to).map_err(db)?;
            let mut text = String::new();
            let result_text = |r: &AuthResult| match r {
                AuthResult::Success => "approved".to_string(),
                AuthResult::Denied(d) => format!("denied: {d}"),
            };
            for e in &events {
                text.push_str(&format!(
                    "{}  {:<30} {:<24} {}\n",
                    format_time(e.time()),
                    e.user().as_str(),
                    format!("{:?}", e.mode()),
                    result_text(e.result())
                ));
            }
            text.push_str(&format!("{} event(s)", events.len()));
            let v: Vec<_> = events
                .iter()
                .map(|e| json!({"at": e.time().secs(), "user": e.user().as_str(), "mode": format!("{:?}", e.mode()),
                    "approved": matches!(e.result(), AuthResult::Success),
                    "reason": match e.result() { AuthResult::Denied(r) => Some(r.kind().as_str()), AuthResult::Success => None },
                    "client_ip": e.client_ip().map(|ip| ip.to_string())}))
                .collect();
            out.print(&Report::new(serde_json::Value::Array(v), text))
        }
        ReportCommand::Usage { month } => {
            let (y, m) = month
                .split_once('-')
                .and_then(|(y, m)| Some((y.parse::<i64>().ok()?, m.parse::<u8>().ok()?)))
                .filter(|(_, m)| (1..=12).contains(m))
                .ok_or_else(|| Failure::input(format!("--month {month:?}: expected YYYY-MM")))?;
            let from = crate::ctx::month_start(y, m)?;
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            let to = crate::ctx::month_start(ny, nm)?;
            let s = store.usage_summary(from, to).map_err(db)?;
            let mut text = format!(
                "usage {month}\n  users configured for MFA (billed): {}\n  users who signed in: {}\n  approved: {}\n  denied: {}",
                s.users_configured(),
                s.users_signed_in(),
                s.successes(),
                s.denials()
            );
            for (r, n) in s.denials_by_reason() {
                text.push_str(&format!("\n    {n:>7}  {}", r.as_str()));
            }
            out.print(&Report::new(json!({"month": month, "users_configured": s.users_configured(), "users_signed_in": s.users_signed_in(),
                    "approved": s.successes(), "denied": s.denials(),
                    "denied_by_reason": s.denials_by_reason().iter().map(|(r, n)| (r.as_str().to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>()}), text))
        }
    }
}
