//! `mfa`: the administration command of mfa-kit.
//!
//! Exit status: 0 on success, 1 for a denied verification, 2 for bad input
//! (one line on standard error naming the problem).

mod otp;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The mfa-kit administration command.
#[derive(Debug, Parser)]
#[command(name = "mfa", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One-time passwords without a store: compute codes, make otpauth URIs.
    #[command(subcommand)]
    Otp(otp::OtpCommand),
}

/// A failure the user must see: one line, and the exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    /// Bad input (exit status 2).
    pub(crate) fn input(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            status: 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Otp(cmd) => otp::run(cmd, &mut stdout),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = stdout.flush();
            let _ = writeln!(std::io::stderr(), "mfa: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}
