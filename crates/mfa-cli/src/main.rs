//! `mfa`: the administration command of mfa-kit.
//!
//! Exit status: 0 on success, 1 for a denied verification, 2 for bad input
//! or a failed command (one line on standard error naming the problem;
//! nothing is changed by a failed command).

mod commands;
mod ctx;
mod demo;
mod import;
mod notify;
mod otp;
mod output;
mod radius;
mod serve;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The mfa-kit administration command: token import, assignment and
/// activation, verification, lockout, fraud reports and reports, on an
/// embedded SQLite store (default `sqlite:mfa.db`) or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "mfa", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: ctx::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the store and a master key file (never overwrites a key).
    #[command(
        after_help = "Examples:\n  mfa init\n  mfa init --db postgres://mfa@db.example/mfa --key-file /etc/mfa/master.key"
    )]
    Init,
    /// Import a token file (PSKC, CSV, or otpauth URIs one a line).
    Import(import::ImportArgs),
    /// List, assign, unassign and activate tokens.
    #[command(subcommand)]
    Tokens(commands::tokens::TokensCommand),
    /// Add and show users.
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// Create a software token for a user and show its QR code.
    Enroll(commands::enroll::EnrollArgs),
    /// Verify a user's code (exit 0 approved, 1 denied).
    Verify(commands::verify::VerifyArgs),
    /// Show and change the settings every server sharing the store applies.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Check the e-mail and SMS/voice delivery settings (`notify.*`).
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
    /// Lockout status and unblock.
    #[command(subcommand)]
    Lockout(commands::lockout::LockoutCommand),
    /// Fraud reports, block and unblock.
    #[command(subcommand)]
    Fraud(commands::fraud::FraudCommand),
    /// User risk.
    #[command(subcommand)]
    Risk(commands::risk::RiskCommand),
    /// Authentication log and usage reports.
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// Write a backup of the whole store to one file.
    #[command(after_help = "Example:\n  mfa backup /var/backups/mfa-2026-11-22.backup")]
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into an empty store (either backend).
    #[command(
        after_help = "Examples:\n  mfa --db sqlite:new.db restore mfa.backup\n  mfa --db postgres://mfa@db.example/mfa restore mfa.backup"
    )]
    Restore(commands::backup::RestoreArgs),
    /// Re-seal every token secret under a new master key.
    #[command(
        after_help = "Example:\n  mfa rekey --new-key-file /etc/mfa/master-2.key   (then use --key-file /etc/mfa/master-2.key)"
    )]
    Rekey(commands::backup::RekeyArgs),
    /// The whole job on a fresh embedded store: import a sample PSKC file,
    /// assign and activate a token, verify a code for the current time.
    #[command(after_help = "Example:\n  mfa demo\n  mfa demo --dir ./demo")]
    Demo {
        /// Directory for the demo store and key (default: a new temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// One-time passwords without a store: compute codes, make otpauth URIs.
    #[command(subcommand)]
    Otp(otp::OtpCommand),
    /// The RADIUS server (`mfa radius serve --config FILE`).
    #[command(subcommand)]
    Radius(radius::RadiusCommand),
    /// Serve the validate API (privacyIDEA's /validate/*) over HTTP(S).
    #[command(
        after_help = "Example:\n  mfa serve --config /etc/mfa/http.toml   (see docs/http.md)"
    )]
    Serve(serve::ServeArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  mfa completions bash > /etc/bash_completion.d/mfa")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// A failure the user must see: one line, and the exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// Bad input or a failed command (exit status 2).
    pub(crate) fn input(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            status: 2,
        }
    }

    /// A denied verification (exit status 1).
    pub(crate) fn denied(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            status: 1,
        }
    }

    /// Standard output could not be written. A closed pipe (`mfa … | head`)
    /// is not an error worth a message: the reader has what it wanted.
    pub(crate) fn write(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure {
                message: String::new(),
                status: 0,
            }
        } else {
            Failure::input(format!("cannot write the output: {e}"))
        }
    }

    /// A store error, with advice where there is some.
    pub(crate) fn store(db: &str, e: mfa_store::Error) -> Failure {
        use mfa_store::Error as E;
        let advice = match &e {
            E::WrongMasterKey { .. } => {
                " (is --key-file / MFA_MASTER_KEY the key this store was made with?)"
            }
            E::NotADatabase { .. } => " (check --db)",
            E::SchemaTooNew { .. } => " (upgrade mfa to open this store)",
            E::UnknownUser { .. } => " (add it with `mfa users add`)",
            E::UnknownToken { .. } => " (see `mfa tokens list`)",
            E::TokenNotAssigned { .. } => " (assign it first with `mfa tokens assign`)",
            E::KeyOutsideValidity { .. } => {
                " (see its validity period in `mfa tokens list`; import a new key)"
            }
            _ => "",
        };
        // A PostgreSQL URL may hold a password: never echoed.
        let db = mfa_store::redact_url(db);
        Failure::input(format!("{db}: {e}{advice}"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let g = &cli.global;
    let out = &mut output::Output::new(&mut stdout, g.json);
    let result = match cli.command {
        Command::Init => commands::init::run(g, out),
        Command::Import(args) => import::run(g, args, out),
        Command::Tokens(cmd) => commands::tokens::run(g, cmd, out),
        Command::Users(cmd) => commands::users::run(g, cmd, out),
        Command::Enroll(args) => commands::enroll::run(g, args, out),
        Command::Verify(args) => commands::verify::run(g, args, out),
        Command::Config(cmd) => commands::config::run(g, cmd, out),
        Command::Notify(cmd) => notify::run(g, cmd, out),
        Command::Lockout(cmd) => commands::lockout::run(g, cmd, out),
        Command::Fraud(cmd) => commands::fraud::run(g, cmd, out),
        Command::Risk(cmd) => commands::risk::run(g, cmd, out),
        Command::Report(cmd) => commands::report::run(g, cmd, out),
        Command::Backup(args) => commands::backup::backup(g, args, out),
        Command::Restore(args) => commands::backup::restore(g, args, out),
        Command::Rekey(args) => commands::backup::rekey(g, args, out),
        Command::Demo { dir } => demo::run(dir, out),
        Command::Otp(cmd) => otp::run(cmd, out),
        Command::Radius(cmd) => radius::run(cmd, out),
        Command::Serve(args) => serve::run(args),
        Command::Completions { shell } => {
            // Rendered into a buffer: clap_complete panics if its writer fails
            // (e.g. a closed pipe); our write reports the error instead.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mfa", &mut script);
            out.verbatim(&script)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = stdout.flush();
            if !f.message.is_empty() {
                let _ = writeln!(std::io::stderr(), "mfa: {}", f.message);
            }
            ExitCode::from(f.status)
        }
    }
}
