//! The module arguments of a service file line.

use std::path::PathBuf;
use std::time::Duration;

use crate::Error;

/// The prompt when `prompt=` is not given.
pub const DEFAULT_PROMPT: &str = "Verification code: ";
/// The prompt with `password-otp` when `prompt=` is not given.
pub const DEFAULT_PASSWORD_OTP_PROMPT: &str = "Password followed by verification code: ";
/// The store timeout when `timeout=` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest `timeout=` accepted, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 300;
/// The longest `prompt=` accepted, in bytes.
pub const MAX_PROMPT_LEN: usize = 256;

/// Where the code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeSource {
    /// Asked for through the conversation (the default).
    Prompt,
    /// `use_first_pass`: the password an earlier module read
    /// (`PAM_AUTHTOK`); none is a failure.
    UseFirstPass,
    /// `try_first_pass`: `PAM_AUTHTOK` if set, else asked for.
    TryFirstPass,
}

/// The module arguments.
///
/// ```
/// use pam_mfa::{CodeSource, Config};
/// let c = Config::parse(["db=sqlite:/var/lib/mfa/mfa.db", "key_file=/etc/mfa/master.key",
///     "try_first_pass", "password-otp", "prompt=OTP: ", "timeout=5"].map(str::as_bytes))?;
/// assert_eq!(c.source, CodeSource::TryFirstPass);
/// assert!(c.password_otp && !c.nullok);
/// assert_eq!(c.prompt, "OTP: ");
/// assert_eq!(c.timeout.as_secs(), 5);
/// // A typo is refused, never ignored.
/// assert!(Config::parse(["db=sqlite:x", "key_file=k", "nulok"].map(str::as_bytes)).is_err());
/// # Ok::<(), pam_mfa::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `db=`: the store URL (`sqlite:<path>` or `postgres://…`). Required.
    pub db: String,
    /// `key_file=`: the master key file. Required.
    pub key_file: PathBuf,
    /// `prompt=`: the conversation prompt.
    pub prompt: String,
    /// `use_first_pass` / `try_first_pass`.
    pub source: CodeSource,
    /// `password-otp`: what is entered is the password followed by the
    /// code; the password is left in `PAM_AUTHTOK` for the next module.
    pub password_otp: bool,
    /// `nullok`: a user the store knows no second factor for passes.
    pub nullok: bool,
    /// `debug`: more in the log (never a code or password).
    pub debug: bool,
    /// `timeout=` (seconds): how long the store may wait for a lock
    /// (SQLite) or a connection (PostgreSQL `connect_timeout`, added to
    /// the URL when it has none).
    pub timeout: Duration,
}

impl Config {
    /// Parses the arguments of the service file line.
    ///
    /// # Errors
    /// [`Error::UnknownArgument`], [`Error::BadValue`],
    /// [`Error::MissingArgument`] (`db=`, `key_file=`),
    /// [`Error::ConflictingArguments`].
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Result<Config, Error> {
        let mut db = None;
        let mut key_file = None;
        let mut prompt = None;
        let mut timeout = DEFAULT_TIMEOUT;
        let (mut use_first, mut try_first) = (false, false);
        let (mut password_otp, mut nullok, mut debug) = (false, false, false);
        for raw in args {
            let arg = std::str::from_utf8(raw).map_err(|_| Error::UnknownArgument {
                arg: String::from_utf8_lossy(raw).into_owned(),
            })?;
            let bad = |name: &'static str, expected: &'static str| Error::BadValue {
                name,
                value: arg.split_once('=').map(|(_, v)| v).unwrap_or("").to_owned(),
                expected,
            };
            match arg.split_once('=') {
                Some(("db", v)) if !v.is_empty() => db = Some(v.to_owned()),
                Some(("db", _)) => return Err(bad("db", "a store URL")),
                Some(("key_file", v)) if !v.is_empty() => key_file = Some(PathBuf::from(v)),
                Some(("key_file", _)) => return Err(bad("key_file", "a file path")),
                Some(("prompt", v)) => {
                    if v.len() > MAX_PROMPT_LEN || v.chars().any(char::is_control) {
                        return Err(bad("prompt", "at most 256 bytes, no control characters"));
                    }
                    prompt = Some(v.to_owned());
                }
                Some(("timeout", v)) => {
                    let secs: u64 = v
                        .parse()
                        .ok()
                        .filter(|s| (1..=MAX_TIMEOUT_SECS).contains(s))
                        .ok_or_else(|| bad("timeout", "whole seconds from 1 to 300"))?;
                    timeout = Duration::from_secs(secs);
                }
                Some(_) => {
                    return Err(Error::UnknownArgument {
                        arg: arg.to_owned(),
                    });
                }
                None => match arg {
                    "use_first_pass" => use_first = true,
                    "try_first_pass" => try_first = true,
                    "password-otp" => password_otp = true,
                    "nullok" => nullok = true,
                    "debug" => debug = true,
                    _ => {
                        return Err(Error::UnknownArgument {
                            arg: arg.to_owned(),
                        });
                    }
                },
            }
        }
        let source = match (use_first, try_first) {
            (true, true) => return Err(Error::ConflictingArguments),
            (true, false) => CodeSource::UseFirstPass,
            (false, true) => CodeSource::TryFirstPass,
            (false, false) => CodeSource::Prompt,
        };
        Ok(Config {
            db: db.ok_or(Error::MissingArgument { name: "db" })?,
            key_file: key_file.ok_or(Error::MissingArgument { name: "key_file" })?,
            prompt: prompt.unwrap_or_else(|| {
                if password_otp {
                    DEFAULT_PASSWORD_OTP_PROMPT
                } else {
                    DEFAULT_PROMPT
                }
                .to_owned()
            }),
            source,
            password_otp,
            nullok,
            debug,
            timeout,
        })
    }

    /// The store URL to open: `db=`, with `connect_timeout` added to a
    /// PostgreSQL URL that has none, so a server that does not answer
    /// cannot hold the login past `timeout=`.
    ///
    /// ```
    /// use pam_mfa::Config;
    /// let c = Config::parse(["db=postgres://mfa@db/mfa", "key_file=k", "timeout=4"].map(str::as_bytes))?;
    /// assert_eq!(c.store_url(), "postgres://mfa@db/mfa?connect_timeout=4");
    /// # Ok::<(), pam_mfa::Error>(())
    /// ```
    pub fn store_url(&self) -> String {
        let pg = self.db.starts_with("postgres://") || self.db.starts_with("postgresql://");
        if !pg || self.db.contains("connect_timeout=") {
            return self.db.clone();
        }
        let sep = if self.db.contains('?') { '&' } else { '?' };
        format!("{}{sep}connect_timeout={}", self.db, self.timeout.as_secs())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, Error> {
        Config::parse(args.iter().map(|a| a.as_bytes()))
    }

    #[test]
    fn defaults_apply_when_only_db_and_key_are_given() {
        let c = parse(&["db=sqlite:/x", "key_file=/k"]).unwrap();
        assert_eq!(c.prompt, DEFAULT_PROMPT);
        assert_eq!(c.source, CodeSource::Prompt);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert!(!c.nullok && !c.debug && !c.password_otp);
        let c = parse(&["db=sqlite:/x", "key_file=/k", "password-otp"]).unwrap();
        assert_eq!(c.prompt, DEFAULT_PASSWORD_OTP_PROMPT);
    }

    #[test]
    fn missing_conflicting_and_bad_arguments_are_refused() {
        assert!(matches!(
            parse(&["key_file=/k"]),
            Err(Error::MissingArgument { name: "db" })
        ));
        assert!(matches!(
            parse(&["db=sqlite:/x"]),
            Err(Error::MissingArgument { name: "key_file" })
        ));
        assert!(matches!(
            parse(&[
                "db=sqlite:/x",
                "key_file=/k",
                "use_first_pass",
                "try_first_pass"
            ]),
            Err(Error::ConflictingArguments)
        ));
        for bad in [
            "timeout=0",
            "timeout=301",
            "timeout=x",
            "db=",
            "prompt=a\nb",
        ] {
            assert!(
                matches!(
                    parse(&["db=sqlite:/x", "key_file=/k", bad]),
                    Err(Error::BadValue { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse(&["db=sqlite:/x", "key_file=/k", "nulok"]),
            Err(Error::UnknownArgument { .. })
        ));
    }

    #[test]
    fn store_url_keeps_an_explicit_connect_timeout() {
        let c = parse(&["db=postgres://h/d?sslmode=require", "key_file=/k"]).unwrap();
        assert_eq!(
            c.store_url(),
            "postgres://h/d?sslmode=require&connect_timeout=10"
        );
        let c = parse(&["db=postgres://h/d?connect_timeout=2", "key_file=/k"]).unwrap();
        assert_eq!(c.store_url(), "postgres://h/d?connect_timeout=2");
        let c = parse(&["db=sqlite:/x", "key_file=/k"]).unwrap();
        assert_eq!(c.store_url(), "sqlite:/x");
    }
}
