//! `mfa tokens …`: list, add, assign, export, unassign, activate.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use mfa_oath::UnixTime;
use mfa_store::{TokenInfo, TokenKind};
use serde_json::json;

use super::actor;
use crate::Failure;
use crate::ctx::{Global, create_secret_file, decode_hex, format_time, now, read_passphrase};
use crate::output::{Output, Report};

/// `mfa tokens …`
#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// List tokens (all, or one user's).
    #[command(
        after_help = "Examples:\n  mfa tokens list\n  mfa tokens list --user helga@contoso.com --format csv"
    )]
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Add one token from an otpauth URI (an authenticator app's export or
    /// QR code) and assign it to a user; activate it afterwards. Its serial
    /// is the URI's label (`issuer:account`) unless --serial is given.
    #[command(
        after_help = "Examples:\n  mfa tokens add --uri 'otpauth://totp/Contoso:helga?secret=…&issuer=Contoso' --user helga@contoso.com\n  \
        mfa tokens add --uri - --user helga@contoso.com --serial APP-0001 < uri.txt"
    )]
    Add {
        /// The otpauth:// URI, or `-` to read it from the first line of
        /// standard input (so the secret is not in the process list). An
        /// `otpauth-migration://` URI is taken if it holds one account.
        #[arg(long)]
        uri: String,
        /// The user to assign it to (created if new).
        #[arg(long)]
        user: String,
        /// The serial to store it under (default: the URI's label).
        #[arg(long)]
        serial: Option<String>,
    },
    /// Assign a token to a user (at most five per user; a token has one user).
    #[command(after_help = "Example:\n  mfa tokens assign 1234567 helga@contoso.com")]
    Assign {
        /// The token's serial number.
        serial: String,
        /// The user.
        user: String,
    },
    /// Write every token, with its secret and state, to a PSKC file that
    /// another system (or `mfa import`) reads. Encrypted with a pre-shared
    /// key or a passphrase (AES-CBC + HMAC-SHA256); `--plain` must be asked
    /// for explicitly. The export is recorded in the audit log.
    #[command(
        after_help = "Examples:\n  mfa tokens export tokens.pskcxml --passphrase-file pass.txt\n  \
        mfa tokens export tokens.pskcxml --psk 000102030405060708090a0b0c0d0e0f"
    )]
    Export {
        /// The PSKC file to write (mode 0600; not overwritten if it exists).
        file: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Pre-shared AES key (16, 24 or 32 bytes in hex).
        #[arg(long, conflicts_with_all = ["passphrase_file", "plain"])]
        psk: Option<String>,
        /// A file whose first line is the passphrase (PBKDF2-HMAC-SHA256).
        #[arg(long, conflicts_with = "plain")]
        passphrase_file: Option<PathBuf>,
        /// Write the secrets unencrypted.
        #[arg(long)]
        plain: bool,
    },
    /// Take a token away from its user (it must be assigned and activated again).
    #[command(after_help = "Example:\n  mfa tokens unassign 1234567")]
    Unassign {
        /// The token's serial number.
        serial: String,
    },
    /// Activate an assigned token with the code it shows now.
    #[command(after_help = "Example:\n  mfa tokens activate 1234567 287082")]
    Activate {
        /// The token's serial number.
        serial: String,
        /// The code the token shows.
        code: String,
        /// Unix time to verify at (default: now).
        #[arg(long)]
        time: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    Table,
    Csv,
    Json,
}

pub(crate) fn run(g: &Global, cmd: TokensCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        TokensCommand::List { user, format } => {
            let tokens = match &user {
                Some(u) => store.user_tokens(u).map_err(db)?,
                None => store.tokens().map_err(db)?,
            };
            let json: Vec<_> = tokens.iter().map(token_json).collect();
            let json = serde_json::Value::Array(json);
            // What --format asks for is the text; --json prints the JSON whatever it is.
            let text = match format {
                ListFormat::Json => json.to_string(),
                ListFormat::Csv => tokens_csv(&tokens)?,
                ListFormat::Table => tokens_table(&tokens),
            };
            out.print(&Report::new(json, text))
        }
        TokensCommand::Assign { serial, user } => {
            store.assign(&serial, &user, now()).map_err(db)?;
            out.print(&Report::new(json!({"serial": serial, "user": user, "assigned": true}), format!(
                    "token {serial} assigned to {user}; activate it with `mfa tokens activate {serial} <code>`"
                )))
        }
        TokensCommand::Export {
            file,
            force,
            psk,
            passphrase_file,
            plain,
        } => {
            let protection = match (psk, passphrase_file, plain) {
                (Some(hex), None, false) => {
                    let key =
                        decode_hex(&hex).map_err(|e| Failure::input(format!("--psk: {e}")))?;
                    if ![16, 24, 32].contains(&key.len()) {
                        return Err(Failure::input(
                            "--psk: an AES key is 16, 24 or 32 bytes (32, 48 or 64 hex digits)",
                        ));
                    }
                    mfa_import::Protection::pre_shared_key(&key, "Pre-shared-key")
                }
                (None, Some(p), false) => {
                    let line = read_passphrase(&p)?;
                    if line.is_empty() {
                        return Err(Failure::input(format!(
                            "--passphrase-file {}: the first line is empty",
                            p.display()
                        )));
                    }
                    mfa_import::Protection::passphrase(&line, 100_000)
                }
                (None, None, true) => mfa_import::Protection::None,
                _ => {
                    return Err(Failure::input(
                        "say how to protect the secrets: --psk HEX, --passphrase-file FILE, or --plain",
                    ));
                }
            };
            if !force && file.exists() {
                // Refused before the secrets are read (and the export audited).
                return Err(crate::ctx::exists(&file, ""));
            }
            let tokens = store.export_tokens(&actor(), now()).map_err(db)?;
            let f = create_secret_file(&file, force, "")?;
            let fail =
                |e: &dyn std::fmt::Display| Failure::input(format!("{}: {e}", file.display()));
            let mut w = mfa_import::PskcWriter::new(
                std::io::BufWriter::new(f),
                protection,
                getrandom::SysRng,
            )
            .map_err(|e| fail(&e))?;
            for (info, secret) in tokens.iter() {
                // mfa-store's one mapping back to PSKC (device serial and
                // Key Id as imported).
                let t = info.to_pskc(secret.clone());
                w.write_token(&t).map_err(|e| fail(&e))?;
            }
            let out_file = w.finish().map_err(|e| fail(&e))?;
            out_file
                .into_inner()
                .map_err(|e| fail(&e))?
                .sync_all()
                .map_err(|e| fail(&e))?;
            out.print(&Report::new(
                json!({"file": file, "exported": tokens.len()}),
                format!("{} token(s) exported to {}", tokens.len(), file.display()),
            ))
        }
        TokensCommand::Add { uri, user, serial } => {
            let uri = crate::ctx::secret_arg(uri)?;
            let token = crate::import::token_from_uri(&uri, serial)?.with_user(user.clone());
            let serial = token.serial.clone();
            match store.import([token], mfa_store::ImportMode::AllOrNothing, now()) {
                Ok(_) => {}
                Err(mfa_store::Error::ImportRefused { report }) => {
                    let reason = report
                        .rejected
                        .first()
                        .map(|r| r.reason.to_string())
                        .unwrap_or_default();
                    return Err(Failure::input(format!(
                        "token {serial} not added: {reason}"
                    )));
                }
                Err(e) => return Err(db(e)),
            }
            out.print(&Report::new(json!({"serial": serial, "user": user, "added": true}), format!(
                    "token {serial} added and assigned to {user}; activate it with `mfa tokens activate '{serial}' <code>`"
                )))
        }
        TokensCommand::Unassign { serial } => {
            store.unassign(&serial, now()).map_err(db)?;
            out.print(&Report::new(
                json!({"serial": serial, "assigned": false}),
                format!("token {serial} unassigned"),
            ))
        }
        TokensCommand::Activate { serial, code, time } => {
            let at = time.map_or_else(now, UnixTime::from_secs);
            let step = store.activate(&serial, &code, at).map_err(db)?;
            out.print(&Report::new(
                json!({"serial": serial, "active": true, "step": step}),
                format!("token {serial} activated (step {step})"),
            ))
        }
    }
}

pub(super) fn token_json(t: &TokenInfo) -> serde_json::Value {
    let (kind, params) = match t.kind {
        TokenKind::Totp(p) => (
            "totp",
            json!({"algorithm": p.algorithm.name(), "digits": p.digits.get(), "period": p.period.seconds(), "t0": p.t0.secs()}),
        ),
        TokenKind::Hotp(p) => (
            "hotp",
            json!({"algorithm": p.algorithm.name(), "digits": p.digits.get()}),
        ),
    };
    json!({
        "serial": t.serial, "kind": kind, "params": params, "user": t.user,
        "active": t.active, "last_step": t.last_step, "drift": t.drift,
        "not_before": t.not_before, "not_after": t.not_after,
        "valid_now": t.valid_at(now()),
        "issuer": t.issuer, "manufacturer": t.manufacturer, "model": t.model,
        "device_serial": t.device_serial, "pskc_key_id": t.pskc_key_id,
    })
}

/// One end of a key validity period for people: RFC 3339 (UTC), `-` when
/// open, the raw Unix seconds for a time before 1970.
fn period_end(t: Option<i64>) -> String {
    match t {
        None => "-".into(),
        Some(s) => {
            u64::try_from(s).map_or_else(|_| s.to_string(), |u| format_time(UnixTime::from_secs(u)))
        }
    }
}

/// `mfa tokens list --format csv`: the rows, every cell that a spreadsheet
/// could run as a formula neutralised.
fn tokens_csv(tokens: &[TokenInfo]) -> Result<String, Failure> {
    let e = |e: &dyn std::fmt::Display| Failure::input(format!("cannot write the output: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "serial",
        "kind",
        "user",
        "active",
        "last_step",
        "drift",
        "not_before",
        "not_after",
        "device_serial",
        "pskc_key_id",
    ])
    .map_err(|x| e(&x))?;
    for t in tokens {
        w.write_record([
            mfa_import::neutralise_cell(&t.serial).as_ref(),
            kind_name(t),
            mfa_import::neutralise_cell(t.user.as_deref().unwrap_or("")).as_ref(),
            if t.active { "yes" } else { "no" },
            &t.last_step.map(|s| s.to_string()).unwrap_or_default(),
            &t.drift.to_string(),
            &t.not_before.map(|s| s.to_string()).unwrap_or_default(),
            &t.not_after.map(|s| s.to_string()).unwrap_or_default(),
            mfa_import::neutralise_cell(t.device_serial.as_deref().unwrap_or("")).as_ref(),
            mfa_import::neutralise_cell(t.pskc_key_id.as_deref().unwrap_or("")).as_ref(),
        ])
        .map_err(|x| e(&x))?;
    }
    let bytes = w.into_inner().map_err(|x| e(&x))?;
    String::from_utf8(bytes).map_err(|x| e(&x))
}

/// `mfa tokens list`: the table for people.
fn tokens_table(tokens: &[TokenInfo]) -> String {
    let mut text = format!(
        "{:<20} {:<5} {:<30} {:<6} {:>12}  {:<24} VALID\n",
        "SERIAL", "KIND", "USER", "ACTIVE", "LAST STEP", "DEVICE / KEY ID"
    );
    let at = now();
    for t in tokens {
        let valid = if t.not_before.is_none() && t.not_after.is_none() {
            "-".to_owned()
        } else {
            format!(
                "{} .. {}{}",
                period_end(t.not_before),
                period_end(t.not_after),
                if t.valid_at(at) {
                    ""
                } else {
                    " (outside: refused)"
                }
            )
        };
        // The PSKC device serial and Key Id a key was imported with.
        let device = match (t.device_serial.as_deref(), t.pskc_key_id.as_deref()) {
            (None, None) => "-".to_owned(),
            (d, k) => format!("{} / {}", d.unwrap_or("-"), k.unwrap_or("-")),
        };
        text.push_str(&format!(
            "{:<20} {:<5} {:<30} {:<6} {:>12}  {device:<24} {valid}\n",
            t.serial,
            kind_name(t),
            t.user.as_deref().unwrap_or("-"),
            if t.active { "yes" } else { "no" },
            t.last_step
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into())
        ));
    }
    text
}

/// `totp` or `hotp`.
fn kind_name(t: &TokenInfo) -> &'static str {
    match t.kind {
        TokenKind::Totp(_) => "totp",
        TokenKind::Hotp(_) => "hotp",
    }
}
