//! `mfa enroll`: a software token for a user, shown as a QR code.

use clap::Args;
use mfa_oath::{Algorithm, OtpAuthUri, Secret, Totp, TotpParams};
use mfa_store::{NewToken, TokenKind};
use serde_json::json;

use crate::Failure;
use crate::ctx::{Global, now};
use crate::output::{Output, Report};

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

pub(crate) fn run(g: &Global, args: EnrollArgs, out: &mut Output<'_>) -> Result<(), Failure> {
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
