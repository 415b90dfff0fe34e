//! `mfa radius serve`: the RADIUS front end, a thin composition of
//! mfa-radius (the protocol), mfa-store (every decision) and mfa-notify
//! (SMS codes). See docs/radius.md.

mod config;
mod decide;
mod server;

use std::io::Write;
use std::path::PathBuf;

use crate::Failure;
use crate::output::{Output, Report};

/// The RADIUS server.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RadiusCommand {
    /// Serve RADIUS (Access-Request, Access-Challenge, Status-Server) on UDP.
    #[command(
        after_help = "Examples:\n  mfa radius serve --config /etc/mfa/radius.toml\n  mfa radius serve --config /etc/mfa/radius.toml --check-config"
    )]
    Serve {
        /// The configuration file (TOML; see docs/radius.md).
        #[arg(long)]
        config: PathBuf,
        /// Check the configuration (secrets, files, ranges, the store) and exit.
        #[arg(long)]
        check_config: bool,
        /// Log every dropped datagram and answered retransmission too.
        #[arg(long)]
        verbose: bool,
    },
}

/// Runs a `mfa radius` command.
pub(crate) fn run(cmd: RadiusCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let RadiusCommand::Serve {
        config,
        check_config,
        verbose,
    } = cmd;
    let settings = config::load(&config).map_err(Failure::input)?;
    for w in &settings.warnings {
        let _ = writeln!(std::io::stderr(), "mfa: WARNING: {w}");
    }
    let key = crate::ctx::read_key_file(&settings.key_file)?;
    let store =
        mfa_store::Store::open(&settings.db, &key).map_err(|e| Failure::store(&settings.db, e))?;
    let notifier = settings
        .notify
        .clone()
        .map(mfa_notify::Notifier::new)
        .transpose()
        .map_err(|e| Failure::input(format!("[notify]: {e}")))?;
    let context = mfa_store::VerifyContext::new(&settings.server_name, settings.listen.ip())
        .map_err(|e| Failure::input(format!("server_name: {e}")))?;
    if check_config {
        // A PostgreSQL URL may hold a password: never printed.
        let db = mfa_store::redact_url(&settings.db);
        let upstream = settings.upstream.as_ref().map(|u| u.address.to_string());
        let text = format!(
            "configuration OK: listen {}, {} client(s), challenge timeout {} s, store {db}, upstream {}, {} warning(s)",
            settings.listen,
            settings.clients.len(),
            settings.challenge_timeout,
            upstream.as_deref().unwrap_or("none"),
            settings.warnings.len()
        );
        return out.print(&Report::new(
            serde_json::json!({
                "ok": true,
                "listen": settings.listen.to_string(),
                "clients": settings.clients.len(),
                "challenge_timeout": settings.challenge_timeout,
                "db": db,
                "upstream": upstream,
                "warnings": settings.warnings,
            }),
            text,
        ));
    }
    let level = if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let shared = decide::Shared {
        store,
        context,
        upstream: settings.upstream.clone(),
        notifier,
    };
    server::run(settings, shared).map_err(Failure::input)
}
