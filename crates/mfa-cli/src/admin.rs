//! The store commands: init, tokens, users, enroll, verify, lockout, fraud,
//! risk, report, backup, restore, rekey, demo.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use mfa_oath::{Algorithm, OtpAuthUri, Secret, Totp, TotpParams, UnixTime};
use mfa_store::mfa_fraud::{self, Effect, Remediation};
use mfa_store::mfa_lockout::{Decision, FactorClass};
use mfa_store::mfa_record::AuthResult;
use mfa_store::{
    ApprovedBy, AuthOutcome, AuthRequest, Channel, NewToken, Presented, Store, TokenInfo,
    TokenKind, UserProfile, VerifyContext,
};
use serde_json::json;

use crate::Failure;
use crate::ctx::{
    Global, create_key_file, create_secret_file, decode_hex, format_time, now, parse_time,
    read_key_file, read_passphrase,
};
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
pub(crate) enum ChannelArg {
    App,
    Phone,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    Table,
    Csv,
    Json,
}

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

/// `mfa users …`
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// Add a user, or update the fields given.
    #[command(
        after_help = "Example:\n  mfa users add helga@contoso.com --first Helga --last Lind --email helga@contoso.com"
    )]
    Add {
        /// Unique user id (user name or e-mail address).
        id: String,
        /// First name.
        #[arg(long)]
        first: Option<String>,
        /// Last name.
        #[arg(long)]
        last: Option<String>,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Phone number.
        #[arg(long)]
        phone: Option<String>,
    },
    /// Create an app password (for applications that cannot do MFA); it is
    /// shown once and only a keyed hash of it is stored.
    #[command(
        after_help = "Example:\n  mfa users add-app-password helga@contoso.com mail-on-phone"
    )]
    AddAppPassword {
        /// The user id.
        id: String,
        /// A name for it (which application uses it).
        name: String,
    },
    /// Delete all of a user's app passwords at once (e.g. after a lost phone).
    #[command(
        after_help = "Example:\n  mfa users delete-app-passwords helga@contoso.com --reason \"phone lost\""
    )]
    DeleteAppPasswords {
        /// The user id.
        id: String,
        /// Why (logged).
        #[arg(long, default_value = "deleted by an administrator")]
        reason: String,
    },
    /// Show a user, their tokens, lockout and fraud state.
    #[command(after_help = "Example:\n  mfa users show helga@contoso.com --json")]
    Show {
        /// The user id.
        id: String,
    },
}

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

/// `mfa fraud …`
#[derive(Debug, Subcommand)]
pub(crate) enum FraudCommand {
    /// Record a fraud report by the user, as the app or the phone call
    /// delivers it (the configured policy decides whether it blocks), and
    /// e-mail it to `notify.fraud_emails` (and, with
    /// `notify.fraud_user_email=on`, to the blocked user), printing the
    /// outcome per recipient. Exit status 1 when the report was recorded
    /// but an e-mail due was not delivered.
    #[command(
        after_help = "Examples:\n  mfa fraud report helga@contoso.com --channel app\n  \
        mfa fraud report helga@contoso.com --channel phone --keys '0#1'   (fraud code, #, 1 to confirm the block)"
    )]
    Report {
        /// The user id.
        user: String,
        /// Where the report came from.
        #[arg(long, value_enum, default_value = "app")]
        channel: ChannelArg,
        /// Phone: the keys the user pressed (`0#` reports, a following `1`
        /// confirms the block when auto-block is on).
        #[arg(long)]
        keys: Option<String>,
        /// App: the user confirmed the block.
        #[arg(long)]
        confirm_block: bool,
    },
    #[command(
        after_help = "Example:\n  mfa fraud block helga@contoso.com --reason \"phone reported stolen\""
    )]
    /// Block a user by hand; the reason is logged.
    Block {
        /// The user id.
        user: String,
        /// Why (logged).
        #[arg(long)]
        reason: String,
    },
    #[command(
        after_help = "Example:\n  mfa fraud unblock helga@contoso.com --reason \"reviewed with the user\""
    )]
    /// Unblock a user; the reason is logged.
    Unblock {
        /// The user id.
        user: String,
        /// Why (logged).
        #[arg(long)]
        reason: String,
    },
    #[command(after_help = "Example:\n  mfa fraud status helga@contoso.com")]
    /// Whether a user is at high risk.
    Status {
        /// The user id.
        user: String,
    },
}

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

/// Arguments of `mfa enroll`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  mfa enroll helga@contoso.com --issuer Contoso\n  \
    then: mfa tokens activate <serial> <first code from the app>"
)]
pub(crate) struct EnrollArgs {
    /// The user id.
    user: String,
    /// The service name shown in the app.
    #[arg(long)]
    issuer: String,
    /// Serial for the new software token (default: app-USER-UNIXTIME).
    #[arg(long)]
    serial: Option<String>,
    /// Do not draw the QR code.
    #[arg(long)]
    no_qr: bool,
}

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

fn decision_json(d: &Decision) -> serde_json::Value {
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

fn decision_text(d: &Decision) -> String {
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

fn effects_text(effects: &[Effect]) -> String {
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

fn actor() -> String {
    std::env::var("USER").unwrap_or_else(|_| "admin".into())
}

fn token_json(t: &TokenInfo) -> serde_json::Value {
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
        ])
        .map_err(|x| e(&x))?;
    }
    let bytes = w.into_inner().map_err(|x| e(&x))?;
    String::from_utf8(bytes).map_err(|x| e(&x))
}

/// `mfa tokens list`: the table for people.
fn tokens_table(tokens: &[TokenInfo]) -> String {
    let mut text = format!(
        "{:<20} {:<5} {:<30} {:<6} {:>12}  VALID\n",
        "SERIAL", "KIND", "USER", "ACTIVE", "LAST STEP"
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
        text.push_str(&format!(
            "{:<20} {:<5} {:<30} {:<6} {:>12}  {valid}\n",
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

pub(crate) fn init(g: &Global, out: &mut Output<'_>) -> Result<(), Failure> {
    let key = if std::env::var(crate::ctx::KEY_ENV).is_ok() {
        g.master_key()?
    } else if g.key_file.exists() {
        read_key_file(&g.key_file)?
    } else {
        create_key_file(&g.key_file, 1)?
    };
    let store = Store::open(&g.db, &key).map_err(|e| Failure::store(&g.db, e))?;
    let version = store
        .schema_version()
        .map_err(|e| Failure::store(&g.db, e))?;
    // A PostgreSQL URL may hold a password: never printed.
    let db = mfa_store::redact_url(&g.db);
    out.print(&Report::new(json!({"db": db.as_str(), "key_file": g.key_file, "key_id": key.id(), "schema_version": version}), format!(
            "store {} ready (schema version {version}); master key {} (id {}) — keep it safe and backed up apart from the store",
            db,
            g.key_file.display(),
            key.id()
        )))
}

pub(crate) fn tokens(g: &Global, cmd: TokensCommand, out: &mut Output<'_>) -> Result<(), Failure> {
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
                let kind = match info.kind {
                    TokenKind::Totp(params) => mfa_import::TokenKind::Totp {
                        params,
                        state: mfa_oath::TotpState {
                            last_step: info.last_step,
                            drift: info.drift,
                        },
                    },
                    TokenKind::Hotp(params) => mfa_import::TokenKind::Hotp {
                        params,
                        state: mfa_oath::HotpState {
                            last_counter: info.last_step,
                        },
                    },
                };
                let mut t = mfa_import::ImportedToken::new(secret.clone(), kind);
                t.serial = Some(info.serial.clone());
                t.user = info.user.clone();
                t.not_before = info.not_before;
                t.not_after = info.not_after;
                t.issuer = info.issuer.clone();
                t.manufacturer = info.manufacturer.clone();
                t.model = info.model.clone();
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

pub(crate) fn users(g: &Global, cmd: UsersCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        UsersCommand::Add {
            id,
            first,
            last,
            email,
            phone,
        } => {
            let mut u = store
                .user(&id)
                .map_err(db)?
                .unwrap_or_else(|| UserProfile::new(id.clone()));
            u.first_name = first.or(u.first_name);
            u.last_name = last.or(u.last_name);
            u.email = email.or(u.email);
            u.phone = phone.or(u.phone);
            store.put_user(&u, now()).map_err(db)?;
            out.print(&Report::new(
                json!({"user": id, "saved": true}),
                format!("user {id} saved"),
            ))
        }
        UsersCommand::AddAppPassword { id, name } => {
            // Generated by the store: 128 random bits, kept only as a keyed hash.
            let password = store.add_app_password(&id, &name, now()).map_err(db)?;
            let password = password.expose();
            out.print(&Report::new(
                json!({"user": id, "name": name, "password": password}),
                format!("app password {name:?} for {id} (shown only now):\n  {password}"),
            ))
        }
        UsersCommand::DeleteAppPasswords { id, reason } => {
            let n = store
                .delete_app_passwords(&id, &actor(), &reason, now())
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": id, "deleted": n}),
                format!("{n} app password(s) of {id} deleted"),
            ))
        }
        UsersCommand::Show { id } => {
            let u = store
                .user(&id)
                .map_err(db)?
                .ok_or_else(|| Failure::input(format!("unknown user {id}")))?;
            let tokens = store.user_tokens(&id).map_err(db)?;
            let app_passwords = store.app_passwords(&id).map_err(db)?;
            let decision = store
                .lockout_decision(&id, FactorClass::Otp, now())
                .map_err(db)?;
            let fraud = store.fraud_state(&id).map_err(db)?;
            let at_risk = fraud.risk.is_some();
            let blocked = fraud
                .block
                .as_ref()
                .map(|b| format!("blocked until {}", format_time(b.until)));
            let mut text = format!(
                "user {}\n  name: {} {}\n  e-mail: {}\n  phone: {}\n  lockout (OTP): {}\n  fraud: {}\n  high risk: {}\n  tokens:",
                u.user_id,
                u.first_name.as_deref().unwrap_or("-"),
                u.last_name.as_deref().unwrap_or(""),
                u.email.as_deref().unwrap_or("-"),
                u.phone.as_deref().unwrap_or("-"),
                decision_text(&decision),
                blocked.as_deref().unwrap_or("not blocked"),
                if at_risk { "yes" } else { "no" },
            );
            for t in &tokens {
                text.push_str(&format!(
                    "\n    {} ({})",
                    t.serial,
                    if t.active { "active" } else { "not activated" }
                ));
            }
            if tokens.is_empty() {
                text.push_str(" none");
            }
            text.push_str("\n  app passwords:");
            for (name, created) in &app_passwords {
                text.push_str(&format!("\n    {name} (created {})", format_time(*created)));
            }
            if app_passwords.is_empty() {
                text.push_str(" none");
            }
            out.print(&Report::new(json!({
                    "user": u.user_id, "first_name": u.first_name, "last_name": u.last_name,
                    "email": u.email, "phone": u.phone, "lockout": decision_json(&decision),
                    "blocked_until": fraud.block.as_ref().map(|b| b.until.secs()),
                    "high_risk": at_risk, "tokens": tokens.iter().map(token_json).collect::<Vec<_>>(),
                    "app_passwords": app_passwords.iter().map(|(n, c)| json!({"name": n, "created": c.secs()})).collect::<Vec<_>>(),
                }), text))
        }
    }
}

pub(crate) fn enroll(g: &Global, args: EnrollArgs, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    let at = now();
    let secret = Secret::generate(&mut getrandom::SysRng, Algorithm::Sha1)
        .map_err(|e| Failure::input(format!("cannot make a secret: {e}")))?;
    let serial = args
        .serial
        .unwrap_or_else(|| format!("app-{}-{}", args.user, at.secs()));
    let params = TotpParams::default();
    let totp = Totp::new(secret.clone(), params);
    let token =
        NewToken::new(serial.clone(), TokenKind::Totp(params), secret).with_user(args.user.clone());
    let report = store
        .import([token], mfa_store::ImportMode::AllOrNothing, at)
        .map_err(db)?;
    if let Some(r) = report.rejected.first() {
        return Err(Failure::input(format!("token {}: {}", r.serial, r.reason)));
    }
    let uri = OtpAuthUri::totp(Some(&args.issuer), &args.user, &totp).to_uri();
    let mut text = format!("{}\n", uri.as_str());
    if !args.no_qr && !out.json() {
        text.push_str(crate::otp::render_qr(&uri)?.as_str());
        text.push('\n');
    }
    text.push_str(&format!(
        "software token {serial} created for {}; scan the code, then activate it with:\n  mfa tokens activate {serial} <code shown by the app>",
        args.user
    ));
    out.print(&Report::new(
        json!({"serial": serial, "user": args.user, "uri": uri.as_str()}),
        text,
    ))
}

pub(crate) fn verify(g: &Global, args: VerifyArgs, out: &mut Output<'_>) -> Result<(), Failure> {
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

pub(crate) fn lockout(
    g: &Global,
    cmd: LockoutCommand,
    out: &mut Output<'_>,
) -> Result<(), Failure> {
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

pub(crate) fn fraud(g: &Global, cmd: FraudCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let db = |e| Failure::store(&g.db, e);
    match cmd {
        FraudCommand::Report {
            user,
            channel,
            keys,
            confirm_block,
        } => {
            let (channel, confirmed) = match (channel, keys) {
                (ChannelArg::Phone, Some(keys)) => {
                    match mfa_fraud::parse_keypad(&store.config().fraud, &keys)
                        .map_err(|e| Failure::input(format!("--keys {keys:?}: {e}")))?
                    {
                        mfa_fraud::Keypad::Report { block_confirmed } => {
                            (mfa_fraud::Channel::Phone, block_confirmed)
                        }
                        other => {
                            return Err(Failure::input(format!(
                                "--keys {keys:?} is not a fraud report ({other:?})"
                            )));
                        }
                    }
                }
                (ChannelArg::Phone, None) => {
                    return Err(Failure::input("--channel phone needs --keys (e.g. '0#1')"));
                }
                (ChannelArg::App, Some(_)) => {
                    return Err(Failure::input("--keys is for --channel phone"));
                }
                (ChannelArg::App, None) => (mfa_fraud::Channel::App, confirm_block),
            };
            let (store, mail) = crate::notify::prepare_fraud(g, store)?;
            let effects = store
                .report_fraud(&user, channel, confirmed, now(), &ctx()?)
                .map_err(db)?;
            let state = store.fraud_state(&user).map_err(db)?;
            let sent = crate::notify::deliver_fraud(&store, &g.db, &user, &effects, mail)?;
            out.print(&Report::new(json!({"user": user, "reported": true, "blocked": state.block.is_some(), "high_risk": state.risk.is_some(),
                    "effects": effects.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>(),
                    "delivery": sent.json, "delivery_note": sent.note}), format!(
                    "{user}: fraud reported{}\n{}",
                    effects_text(&effects),
                    sent.text
                )))?;
            match sent.failure {
                None => Ok(()),
                Some(why) => Err(Failure::denied(why)),
            }
        }
        FraudCommand::Block { user, reason } => {
            let effects = store
                .fraud_block(&user, &actor(), &reason, now(), &ctx()?)
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": user, "blocked": true}),
                format!("{user}: blocked ({reason}){}", effects_text(&effects)),
            ))
        }
        FraudCommand::Unblock { user, reason } => {
            let effects = store
                .fraud_unblock(&user, &actor(), &reason, now(), &ctx()?)
                .map_err(db)?;
            out.print(&Report::new(
                json!({"user": user, "blocked": false}),
                format!("{user}: unblocked ({reason}){}", effects_text(&effects)),
            ))
        }
        FraudCommand::Status { user } => {
            let state = store.fraud_state(&user).map_err(db)?;
            let block = state
                .block
                .as_ref()
                .map(|b| format!("blocked until {}", format_time(b.until)));
            out.print(&Report::new(json!({"user": user, "blocked": state.block.is_some(), "blocked_until": state.block.as_ref().map(|b| b.until.secs()), "high_risk": state.risk.is_some()}), format!(
                    "{user}: {}, {}",
                    block.as_deref().unwrap_or("not blocked"),
                    if state.risk.is_some() {
                        "high risk"
                    } else {
                        "no risk"
                    }
                )))
        }
    }
}

pub(crate) fn risk(g: &Global, cmd: RiskCommand, out: &mut Output<'_>) -> Result<(), Failure> {
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

pub(crate) fn report(g: &Global, cmd: ReportCommand, out: &mut Output<'_>) -> Result<(), Failure> {
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

pub(crate) fn backup(
    g: &Global,
    file: PathBuf,
    force: bool,
    out: &mut Output<'_>,
) -> Result<(), Failure> {
    if !force && file.exists() {
        return Err(crate::ctx::exists(&file, ""));
    }
    let store = g.open()?;
    let tmp = file.with_extension("partial");
    // A `.partial` file is this command's own, left by an interrupted run.
    let f = create_secret_file(&tmp, true, "")?;
    let fail = |p: &std::path::Path, e: &dyn std::fmt::Display| {
        let _ = std::fs::remove_file(&tmp);
        Failure::input(format!("{}: {e}", p.display()))
    };
    let mut w = std::io::BufWriter::new(f);
    if let Err(e) = store.backup(&mut w) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Failure::store(&g.db, e));
    }
    let f = w.into_inner().map_err(|e| fail(&tmp, &e))?;
    f.sync_all().map_err(|e| fail(&tmp, &e))?;
    if force {
        std::fs::rename(&tmp, &file).map_err(|e| fail(&file, &e))?;
    } else {
        // A hard link never replaces an existing file (a file made since the
        // check above is refused too), then the temporary name goes.
        match std::fs::hard_link(&tmp, &file) {
            Ok(()) => std::fs::remove_file(&tmp).map_err(|e| fail(&tmp, &e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&tmp);
                return Err(crate::ctx::exists(&file, ""));
            }
            Err(e) => return Err(fail(&file, &e)),
        }
    }
    out.print(&Report::new(
        json!({"backup": file}),
        format!("backup written to {}", file.display()),
    ))
}

pub(crate) fn restore(g: &Global, file: PathBuf, out: &mut Output<'_>) -> Result<(), Failure> {
    let store = g.open()?;
    let f = std::fs::File::open(&file)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    store
        .restore(std::io::BufReader::new(f))
        .map_err(|e| Failure::store(&g.db, e))?;
    out.print(&Report::new(
        json!({"restored": file}),
        format!(
            "restored {} into {}",
            file.display(),
            mfa_store::redact_url(&g.db)
        ),
    ))
}

pub(crate) fn rekey(
    g: &Global,
    new_key_file: PathBuf,
    out: &mut Output<'_>,
) -> Result<(), Failure> {
    let store = g.open()?;
    let old = g.master_key()?;
    let new = if new_key_file.exists() {
        read_key_file(&new_key_file)?
    } else {
        create_key_file(&new_key_file, old.id().saturating_add(1))?
    };
    let n = store.rekey(&new).map_err(|e| Failure::store(&g.db, e))?;
    out.print(&Report::new(
        json!({"tokens": n, "key_id": new.id(), "key_file": new_key_file}),
        format!(
            "data key re-wrapped under master key {} ({}); {n} token(s), app passwords, codes and \
             remembered devices stay usable; use the new key from now on",
            new.id(),
            new_key_file.display()
        ),
    ))
}

pub(crate) fn config(g: &Global, cmd: ConfigCommand, out: &mut Output<'_>) -> Result<(), Failure> {
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
