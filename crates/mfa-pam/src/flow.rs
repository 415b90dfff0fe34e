//! The sign-in: PAM items and the conversation in, one PAM return code out.
//! Every decision is the store's ([`Store::authenticate`]); this module only
//! translates.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use mfa_store::mfa_oath::UnixTime;
use mfa_store::mfa_record::DenialReason;
use mfa_store::{
    AuthOutcome, AuthRequest, Method, Presented, Store, StoreConfig, TokenKind, VerifyContext,
};
use zeroize::Zeroizing;

use crate::{CodeSource, Config, Error, read_key_file};

/// The PAM return codes this module gives (values of Linux-PAM's
/// `_pam_types.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// `PAM_SUCCESS`: approved (or `nullok` for a user without a factor).
    Success,
    /// `PAM_SERVICE_ERR`: the module arguments are wrong.
    ServiceErr,
    /// `PAM_SYSTEM_ERR`: the module panicked.
    SystemErr,
    /// `PAM_AUTH_ERR`: wrong, replayed or malformed code; blocked.
    AuthErr,
    /// `PAM_AUTHINFO_UNAVAIL`: the key or the store cannot be used.
    AuthinfoUnavail,
    /// `PAM_USER_UNKNOWN`: the store does not know the user.
    UserUnknown,
    /// `PAM_MAXTRIES`: locked out after too many failed codes.
    MaxTries,
    /// `PAM_CONV_ERR`: the conversation failed.
    ConvErr,
    /// Another code, from libpam itself (`pam_get_user`).
    Other(i32),
}

impl Code {
    /// The Linux-PAM value.
    ///
    /// ```
    /// assert_eq!(pam_mfa::Code::MaxTries.raw(), 11);
    /// ```
    pub fn raw(self) -> i32 {
        match self {
            Code::Success => 0,
            Code::ServiceErr => 3,
            Code::SystemErr => 4,
            Code::AuthErr => 7,
            Code::AuthinfoUnavail => 9,
            Code::UserUnknown => 10,
            Code::MaxTries => 11,
            Code::ConvErr => 19,
            Code::Other(c) => c,
        }
    }
}

/// A message to the user through the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageKind {
    /// `PAM_ERROR_MSG`.
    Error,
    /// `PAM_TEXT_INFO`.
    Info,
}

/// A syslog priority for [`Pam::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// `LOG_ERR`: the module cannot work (configuration, key, store).
    Error,
    /// `LOG_NOTICE`: a denial, or `nullok` used.
    Notice,
    /// `LOG_INFO`: an approval.
    Info,
    /// `LOG_DEBUG`: only with `debug`.
    Debug,
}

/// What the sign-in needs from PAM: the handle's items, the conversation
/// and the log. The module implements it over the PAM handle; tests
/// implement it in memory.
pub trait Pam {
    /// The user (`pam_get_user`).
    ///
    /// # Errors
    /// The PAM code to return.
    fn user(&mut self) -> Result<String, Code>;
    /// `PAM_RHOST`, if set.
    fn rhost(&self) -> Option<String>;
    /// `PAM_AUTHTOK`, if set.
    fn authtok(&self) -> Option<Zeroizing<String>>;
    /// Sets `PAM_AUTHTOK` for the next module.
    ///
    /// # Errors
    /// The PAM code to return.
    fn set_authtok(&mut self, value: &str) -> Result<(), Code>;
    /// Asks with `PAM_PROMPT_ECHO_OFF`; `None`: no answer.
    ///
    /// # Errors
    /// The PAM code to return.
    fn prompt_hidden(&mut self, prompt: &str) -> Result<Option<Zeroizing<String>>, Code>;
    /// Tells the user something (not with `PAM_SILENT`).
    fn message(&mut self, kind: MessageKind, text: &str);
    /// Writes a line to the system log (`pam_syslog`).
    fn log(&mut self, level: Level, text: &str);
}

/// Decides one sign-in: reads the key, opens the store, asks the store
/// (first with nothing presented, so a bypass, a lock or a block is known
/// before the user types anything; then with the code), and drops the
/// store before returning, so no connection, thread or runtime outlives
/// the call.
///
/// # Example
/// ```
/// use pam_mfa::{Code, Config, Level, MessageKind, Pam};
/// use zeroize::Zeroizing;
///
/// struct NoPam;
/// impl Pam for NoPam {
///     fn user(&mut self) -> Result<String, Code> { Ok("alice".into()) }
///     fn rhost(&self) -> Option<String> { None }
///     fn authtok(&self) -> Option<Zeroizing<String>> { None }
///     fn set_authtok(&mut self, _: &str) -> Result<(), Code> { Ok(()) }
///     fn prompt_hidden(&mut self, _: &str) -> Result<Option<Zeroizing<String>>, Code> { Ok(None) }
///     fn message(&mut self, _: MessageKind, _: &str) {}
///     fn log(&mut self, _: Level, _: &str) {}
/// }
/// // A missing key file is never success.
/// let c = Config::parse(["db=sqlite:/nonexistent/mfa.db", "key_file=/nonexistent/key"].map(str::as_bytes))?;
/// let now = pam_mfa::UnixTime::from_secs(1_700_000_000);
/// assert_eq!(pam_mfa::sign_in(&mut NoPam, &c, now), Code::AuthinfoUnavail);
/// # Ok::<(), pam_mfa::Error>(())
/// ```
pub fn sign_in(pam: &mut dyn Pam, config: &Config, now: UnixTime) -> Code {
    let user = match pam.user() {
        Ok(u) if !u.is_empty() => u,
        Ok(_) => return Code::UserUnknown,
        Err(code) => {
            pam.log(Level::Error, "cannot get the user name");
            return code;
        }
    };
    let rhost = pam.rhost();
    let client = rhost.as_deref().and_then(client_ip);
    let ctx = context(client);
    let store = match open(config) {
        Ok(s) => s,
        Err(e) => {
            pam.log(Level::Error, &format!("{e}; refusing user {user:?}"));
            return Code::AuthinfoUnavail;
        }
    };
    let mut run = Run {
        pam,
        config,
        store: &store,
        user: &user,
        rhost: rhost.as_deref(),
        ctx: &ctx,
        now,
    };
    run.log(
        Level::Debug,
        &format!(
            "store {:?}, client {client:?}, code from {:?}{}",
            store.backend(),
            config.source,
            if config.password_otp {
                " after the password"
            } else {
                ""
            }
        ),
    );
    let code = run.decide();
    drop(store);
    code
}

/// Reads the key and opens the store (never creating an SQLite file).
fn open(config: &Config) -> Result<Store, Error> {
    let key = read_key_file(&config.key_file)?;
    let url = config.store_url();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = Path::new(path.strip_prefix("//").unwrap_or(path));
        if !path.is_file() {
            return Err(Error::StoreMissing {
                path: path.to_owned(),
            });
        }
    }
    let mut store_config = StoreConfig::default();
    store_config.busy_timeout = config.timeout;
    Ok(Store::open_with(&url, &key, store_config)?)
}

/// `PAM_RHOST` as an IP address, when it is one (`[…]` around IPv6 allowed).
fn client_ip(rhost: &str) -> Option<IpAddr> {
    let h = rhost.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.parse().ok()
}

/// The log context: the host name (or "pam") as the server name; the
/// server address is not known to a PAM module and is logged as 0.0.0.0.
fn context(client: Option<IpAddr>) -> VerifyContext {
    let server_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let ctx = VerifyContext::new(host.trim(), server_ip)
        .or_else(|_| VerifyContext::new("pam", server_ip));
    #[allow(clippy::expect_used)]
    let ctx = ctx.expect("invariant: \"pam\" is a valid server name");
    match client {
        Some(ip) => ctx.with_client(ip),
        None => ctx,
    }
}

struct Run<'a> {
    pam: &'a mut dyn Pam,
    config: &'a Config,
    store: &'a Store,
    user: &'a str,
    rhost: Option<&'a str>,
    ctx: &'a VerifyContext,
    now: UnixTime,
}

impl Run<'_> {
    fn decide(&mut self) -> Code {
        let first = AuthRequest::new(self.user, Presented::Nothing);
        let methods = match self.ask(&first) {
            Err(code) => return code,
            Ok(AuthOutcome::SecondFactorNeeded(methods)) => methods,
            Ok(other) => return self.answer(&other, true),
        };
        let first_token = methods.iter().find_map(|m| match m {
            Method::Oath { serial, .. } => Some(serial.as_str()),
            _ => None,
        });
        let Some(serial) = first_token else {
            // Only a phone: SMS and voice codes are not offered over PAM.
            self.log(Level::Notice, "denied: the user has no OATH token");
            return Code::AuthErr;
        };
        let serial = serial.to_owned();
        self.log(Level::Debug, &format!("second factor needed: {methods:?}"));
        let entered = match self.entered() {
            Ok(e) => e,
            Err(code) => return code,
        };
        let code = if self.config.password_otp {
            let digits = match self.store.token(&serial) {
                Ok(Some(info)) => code_digits(info.kind),
                Ok(None) => 6,
                Err(e) => {
                    self.log(Level::Error, &format!("store: {e}"));
                    return Code::AuthinfoUnavail;
                }
            };
            let (password, code) = split_password_otp(&entered, digits);
            // Set before the code is checked, so the password module sees
            // the same thing whether the code was right or not.
            if let Err(c) = self.pam.set_authtok(password) {
                self.log(Level::Error, "cannot set PAM_AUTHTOK");
                return c;
            }
            Zeroizing::new(code.to_owned())
        } else {
            Zeroizing::new(entered.trim().to_owned())
        };
        let req = AuthRequest::new(self.user, Presented::OathCode(&code));
        match self.ask(&req) {
            Ok(outcome) => self.answer(&outcome, false),
            Err(code) => code,
        }
    }

    fn ask(&mut self, req: &AuthRequest<'_>) -> Result<AuthOutcome, Code> {
        self.store
            .authenticate(req, self.now, self.ctx)
            .map_err(|e| {
                let code = match e {
                    mfa_store::Error::Record(_) => Code::UserUnknown,
                    _ => Code::AuthinfoUnavail,
                };
                self.log(Level::Error, &format!("store: {e}"));
                code
            })
    }

    /// The code, from `PAM_AUTHTOK` or the conversation.
    fn entered(&mut self) -> Result<Zeroizing<String>, Code> {
        let stacked = match self.config.source {
            CodeSource::UseFirstPass | CodeSource::TryFirstPass => self.pam.authtok(),
            CodeSource::Prompt => None,
        };
        match (stacked, self.config.source) {
            (Some(t), _) => Ok(t),
            (None, CodeSource::UseFirstPass) => {
                self.log(Level::Notice, "use_first_pass: no PAM_AUTHTOK was set");
                Err(Code::AuthErr)
            }
            (None, _) => match self.pam.prompt_hidden(&self.config.prompt) {
                Ok(Some(t)) => Ok(t),
                Ok(None) => Err(Code::ConvErr),
                Err(c) => {
                    self.log(Level::Error, "the conversation failed");
                    Err(c)
                }
            },
        }
    }

    /// The PAM code (and message to the user) for the store's decision.
    fn answer(&mut self, outcome: &AuthOutcome, before_code: bool) -> Code {
        let reason = match outcome {
            AuthOutcome::Approved { by, .. } => {
                self.log(Level::Info, &format!("approved ({by:?})"));
                return Code::Success;
            }
            AuthOutcome::Denied { reason, .. } => *reason,
            _ => {
                self.log(Level::Error, "the store asked for a factor after a code");
                return Code::AuthErr;
            }
        };
        if before_code
            && self.config.nullok
            && matches!(
                reason,
                DenialReason::UnknownUser | DenialReason::NotActivated
            )
        {
            self.log(
                Level::Notice,
                &format!(
                    "nullok: passing without a second factor ({})",
                    reason.kind().as_str()
                ),
            );
            return Code::Success;
        }
        self.log(
            Level::Notice,
            &format!("denied: {}", reason.kind().as_str()),
        );
        let (code, message) = denial(reason);
        if let Some(text) = message {
            self.pam.message(MessageKind::Error, &text);
        }
        code
    }

    fn log(&mut self, level: Level, what: &str) {
        if level == Level::Debug && !self.config.debug {
            return;
        }
        let rhost = self.rhost.unwrap_or("-");
        let line = format!("user={:?} rhost={rhost:?}: {what}", self.user);
        self.pam.log(level, &line);
    }
}

/// The digits of a token's codes.
fn code_digits(kind: TokenKind) -> usize {
    usize::from(match kind {
        TokenKind::Totp(p) => p.digits.get(),
        TokenKind::Hotp(p) => p.digits.get(),
    })
}

/// Splits `password-otp` input into the password and the last `digits`
/// characters (the code). Input shorter than that is all code.
///
/// ```
/// assert_eq!(pam_mfa::split_password_otp("hunter2123456", 6), ("hunter2", "123456"));
/// assert_eq!(pam_mfa::split_password_otp("12345", 6), ("", "12345"));
/// ```
pub fn split_password_otp(entered: &str, digits: usize) -> (&str, &str) {
    match entered.len().checked_sub(digits) {
        Some(at) if entered.is_char_boundary(at) => entered.split_at(at),
        _ => ("", entered),
    }
}

/// The PAM code and the message to the user for a denial. Never a secret:
/// only whether and until when the account is locked or blocked.
fn denial(reason: DenialReason) -> (Code, Option<String>) {
    match reason {
        DenialReason::UnknownUser => (Code::UserUnknown, None),
        DenialReason::Locked { until } => (
            Code::MaxTries,
            Some(format!(
                "Too many wrong codes: locked until {}.",
                format_time(until)
            )),
        ),
        DenialReason::LockedUntilAdmin | DenialReason::FailureCapReached => (
            Code::MaxTries,
            Some("Too many wrong codes: locked until an administrator unlocks it.".to_owned()),
        ),
        DenialReason::FraudBlocked { until } | DenialReason::AdminBlocked { until } => (
            Code::AuthErr,
            Some(match until {
                Some(t) => format!(
                    "Sign-in is blocked for this account until {}.",
                    format_time(t)
                ),
                None => "Sign-in is blocked for this account.".to_owned(),
            }),
        ),
        DenialReason::HighUserRisk => (
            Code::AuthErr,
            Some("Sign-in is blocked for this account.".to_owned()),
        ),
        _ => (Code::AuthErr, None),
    }
}

/// `YYYY-MM-DD HH:MM UTC`, through the one calendar (mfa-time).
fn format_time(t: UnixTime) -> String {
    t.utc().minutes().to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn format_time_matches_known_dates() {
        assert_eq!(format_time(UnixTime::from_secs(0)), "1970-01-01 00:00 UTC");
        assert_eq!(
            format_time(UnixTime::from_secs(1_700_000_000)),
            "2023-11-14 22:13 UTC"
        );
        assert_eq!(
            format_time(UnixTime::from_secs(951_782_400)),
            "2000-02-29 00:00 UTC"
        );
    }

    #[test]
    fn client_ip_accepts_addresses_only() {
        assert_eq!(client_ip("10.0.0.7"), Some("10.0.0.7".parse().unwrap()));
        assert_eq!(client_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(client_ip("host.example"), None);
        assert_eq!(client_ip(""), None);
    }

    #[test]
    fn split_never_cuts_a_character() {
        assert_eq!(
            split_password_otp("pässwörd123456", 6),
            ("pässwörd", "123456")
        );
        assert_eq!(
            split_password_otp("ab\u{e9}12345", 6),
            ("", "ab\u{e9}12345")
        );
    }

    #[test]
    fn locks_are_maxtries_and_blocks_auth_err_with_a_message() {
        let (c, m) = denial(DenialReason::Locked {
            until: UnixTime::from_secs(1_700_000_000),
        });
        assert_eq!(c, Code::MaxTries);
        assert!(m.unwrap().contains("2023-11-14 22:13 UTC"));
        assert_eq!(denial(DenialReason::LockedUntilAdmin).0, Code::MaxTries);
        let (c, m) = denial(DenialReason::AdminBlocked { until: None });
        assert_eq!(c, Code::AuthErr);
        assert!(m.unwrap().contains("blocked"));
        assert_eq!(denial(DenialReason::CodeWrong), (Code::AuthErr, None));
        assert_eq!(denial(DenialReason::UnknownUser), (Code::UserUnknown, None));
    }
}
