//! `mfa otp …`: codes and otpauth URIs from a secret given on the command line.

use std::io::{BufRead, Write};

use clap::{Args, Subcommand, ValueEnum};
use mfa_oath::{
    Algorithm, Digits, Hotp, HotpParams, HotpState, OtpAuthUri, Period, Secret, Totp, TotpParams,
    UnixTime,
};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use zeroize::Zeroizing;

use crate::Failure;
use crate::ctx::now;
use crate::output::{Output, Report};

#[derive(Debug, Subcommand)]
pub(crate) enum OtpCommand {
    /// Print the code a token shows.
    #[command(after_help = "Examples:\n  \
        mfa otp code --secret JBSWY3DPEHPK3PXP --totp\n  \
        mfa otp code --secret JBSWY3DPEHPK3PXP --totp --time 1700000000 --digits 8 --algorithm sha256\n  \
        mfa otp code --secret - --hotp --counter 5 < secret.txt")]
    Code(TokenArgs),
    /// Print an otpauth:// URI for an authenticator app, optionally as a QR code.
    #[command(after_help = "Examples:\n  \
        mfa otp uri --issuer Contoso --account helga@contoso.com --secret JBSWY3DPEHPK3PXP --qr\n  \
        mfa otp uri --issuer Contoso --account helga --secret JBSWY3DPEHPK3PXP --hotp --counter 0")]
    Uri {
        /// The service name shown in the app.
        #[arg(long)]
        issuer: String,
        /// The account name shown in the app (user name or e-mail address).
        #[arg(long)]
        account: String,
        /// Also draw the URI as a QR code in the terminal.
        #[arg(long)]
        qr: bool,
        #[command(flatten)]
        token: TokenArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AlgorithmArg {
    Sha1,
    Sha256,
    Sha512,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Algorithm {
        match a {
            AlgorithmArg::Sha1 => Algorithm::Sha1,
            AlgorithmArg::Sha256 => Algorithm::Sha256,
            AlgorithmArg::Sha512 => Algorithm::Sha512,
        }
    }
}

#[derive(Debug, Args)]
#[group(skip)]
pub(crate) struct TokenArgs {
    /// The secret in base32 (spaces, dashes, lower case and padding are
    /// fine), or `-` to read it from the first line of standard input so it
    /// does not appear in the process list.
    #[arg(long)]
    secret: String,
    /// HMAC algorithm.
    #[arg(long, value_enum, default_value = "sha1")]
    algorithm: AlgorithmArg,
    /// Digits per code (6 to 9).
    #[arg(long, default_value_t = 6)]
    digits: u32,
    /// A time-based token (RFC 6238).
    #[arg(long, required_unless_present = "hotp", conflicts_with = "hotp")]
    totp: bool,
    /// A counter-based token (RFC 4226).
    #[arg(long, requires = "counter")]
    hotp: bool,
    /// TOTP time step in seconds.
    #[arg(long, default_value_t = 30, conflicts_with = "hotp")]
    period: u64,
    /// TOTP T0 (Unix seconds at which step 0 starts).
    #[arg(long, default_value_t = 0, conflicts_with = "hotp")]
    t0: u64,
    /// TOTP: the time (Unix seconds) to compute the code for; default now.
    #[arg(long, conflicts_with = "hotp")]
    time: Option<u64>,
    /// HOTP: the counter.
    #[arg(long, conflicts_with = "totp")]
    counter: Option<u64>,
}

enum Token {
    Totp(Totp),
    Hotp(Hotp, u64),
}

impl TokenArgs {
    fn token(&self) -> Result<Token, Failure> {
        let secret = read_secret(&self.secret)?;
        if secret.is_weak() {
            // A warning, not an error: many deployed tokens use 80-bit keys.
            let _ = writeln!(
                std::io::stderr(),
                "mfa: warning: the secret is {} bits; 128 or more is recommended",
                secret.bits()
            );
        }
        let algorithm = Algorithm::from(self.algorithm);
        let digits =
            Digits::new(self.digits).map_err(|e| Failure::input(format!("--digits: {e}")))?;
        if self.hotp {
            let counter = self
                .counter
                .ok_or_else(|| Failure::input("--hotp needs --counter"))?;
            return Ok(Token::Hotp(
                Hotp::new(secret, HotpParams { algorithm, digits }),
                counter,
            ));
        }
        let period =
            Period::new(self.period).map_err(|e| Failure::input(format!("--period: {e}")))?;
        Ok(Token::Totp(Totp::new(
            secret,
            TotpParams {
                algorithm,
                digits,
                period,
                t0: UnixTime::from_secs(self.t0),
            },
        )))
    }
}

fn read_secret(arg: &str) -> Result<Secret, Failure> {
    let text = if arg == "-" {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::input(format!("--secret -: cannot read standard input: {e}")))?;
        Zeroizing::new(line.trim().to_string())
    } else {
        Zeroizing::new(arg.to_string())
    };
    Secret::from_base32(&text).map_err(|e| Failure::input(format!("--secret: {e}")))
}

pub(crate) fn run(cmd: OtpCommand, out: &mut Output<'_>) -> Result<(), Failure> {
    match cmd {
        OtpCommand::Code(args) => {
            let code = match args.token()? {
                Token::Totp(t) => t
                    .generate(args.time.map_or_else(now, UnixTime::from_secs))
                    .map_err(Failure::input)?,
                Token::Hotp(h, counter) => h.generate(counter),
            };
            let code = code.to_string();
            out.print(&Report::new(serde_json::json!({"code": code}), code))
        }
        OtpCommand::Uri {
            issuer,
            account,
            qr,
            token,
        } => {
            let issuer = Some(issuer.as_str()).filter(|i| !i.is_empty());
            let uri = match token.token()? {
                Token::Totp(t) => OtpAuthUri::totp(issuer, &account, &t),
                Token::Hotp(h, counter) => {
                    OtpAuthUri::hotp(issuer, &account, &h, HotpState::from_next_counter(counter))
                }
            };
            let text = uri.to_uri();
            let mut shown = Zeroizing::new(format!("{}\n", text.as_str()));
            if qr && !out.json() {
                shown.push_str(render_qr(&text)?.as_str());
            }
            out.print(&Report::new(
                serde_json::json!({"uri": text.as_str()}),
                shown.as_str(),
            ))
        }
    }
}

/// A QR code drawn with Unicode half blocks (two modules per character
/// cell), dark on light with the quiet zone, as terminal scanners expect.
pub(crate) fn render_qr(text: &str) -> Result<Zeroizing<String>, Failure> {
    let code = QrCode::new(text.as_bytes())
        .map_err(|e| Failure::input(format!("cannot draw a QR code: {e}")))?;
    Ok(Zeroizing::new(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    ))
}
