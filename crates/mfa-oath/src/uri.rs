//! `otpauth://` Key URIs, as authenticator apps scan them from QR codes.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use zeroize::Zeroizing;

use crate::{
    Algorithm, Digits, Error, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams,
    UnixTime, UriError,
};

/// Characters left as they are in labels and parameter values: the RFC 3986
/// unreserved set. Everything else (including `:` inside an issuer or
/// account, `@`, space, `&`, `=`, `/`) is percent-encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest URI accepted by [`OtpAuthUri::parse`], in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// The longest issuer and account name accepted by [`OtpAuthUri::parse`], in
/// bytes once decoded. `to_uri` percent-encodes them (up to three bytes per
/// byte, the issuer twice), so without this bound a URI that parses could be
/// written back longer than [`MAX_URI_LEN`] and then refused. With it, the
/// written URI of any parsed one (at most 2 × 768 + 768 bytes of labels,
/// 1639 of base32 secret and about 90 of parameters) parses again.
pub const MAX_LABEL_LEN: usize = 256;

/// Whether a URI describes a TOTP or an HOTP token, with the parameter that
/// only that kind has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtpKind {
    /// `otpauth://totp/…` with its `period`.
    Totp {
        /// Time step.
        period: Period,
    },
    /// `otpauth://hotp/…` with its `counter` (the next counter to use).
    Hotp {
        /// The counter of the next code.
        counter: u64,
    },
}

/// A parsed `otpauth://` URI (the "Key Uri Format" of authenticator apps).
///
/// The label is `issuer:account` or `account` (the separator a literal or
/// encoded colon; the account itself may not contain one); an `issuer`
/// parameter, when both are present, should equal the label's prefix (if
/// it does not, the parameter wins, with a warning). Parameters: `secret`
/// (required, base32), `issuer`, `algorithm` (`SHA1`, `SHA256`, `SHA512`),
/// `digits` (6–9), `period` (TOTP, default 30), `counter` (HOTP, required).
/// Duplicated known parameters are rejected; unknown ones (`image`, …)
/// are ignored.
///
/// ```
/// use mfa_oath::{OtpAuthUri, OtpKind};
/// let uri = OtpAuthUri::parse(
///     "otpauth://totp/Contoso:helga%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso&digits=8",
/// )?;
/// assert_eq!(uri.issuer.as_deref(), Some("Contoso"));
/// assert_eq!(uri.account, "helga@contoso.com");
/// assert_eq!(uri.digits.get(), 8);
/// assert!(matches!(uri.kind, OtpKind::Totp { .. }));
/// // And back (the secret is in the URI, so the string is wiped on drop):
/// assert_eq!(
///     uri.to_uri().as_str(),
///     "otpauth://totp/Contoso:helga%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso&algorithm=SHA1&digits=8&period=30"
/// );
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct OtpAuthUri {
    /// TOTP or HOTP, with period or counter.
    pub kind: OtpKind,
    /// The service provider, if any.
    pub issuer: Option<String>,
    /// The account name (user name or e-mail address).
    pub account: String,
    /// The shared secret.
    pub secret: Secret,
    /// The HMAC hash.
    pub algorithm: Algorithm,
    /// Digits per code.
    pub digits: Digits,
}

impl OtpAuthUri {
    /// A URI for a TOTP token.
    pub fn totp(issuer: Option<&str>, account: &str, totp: &Totp) -> OtpAuthUri {
        let p = totp.params();
        OtpAuthUri {
            kind: OtpKind::Totp { period: p.period },
            issuer: issuer.map(ToString::to_string),
            account: account.to_string(),
            secret: totp.secret().clone(),
            algorithm: p.algorithm,
            digits: p.digits,
        }
    }

    /// A URI for an HOTP token whose next code is for counter `state.next_counter()`.
    pub fn hotp(issuer: Option<&str>, account: &str, hotp: &Hotp, state: HotpState) -> OtpAuthUri {
        let p = hotp.params();
        OtpAuthUri {
            kind: OtpKind::Hotp {
                counter: state.next_counter().unwrap_or(u64::MAX),
            },
            issuer: issuer.map(ToString::to_string),
            account: account.to_string(),
            secret: hotp.secret().clone(),
            algorithm: p.algorithm,
            digits: p.digits,
        }
    }

    /// Parses a URI, dropping the warnings (see
    /// [`OtpAuthUri::parse_with_warnings`] for what is accepted with one).
    ///
    /// # Errors
    /// [`Error::Uri`] with a [`UriError`] naming the problem; a bad secret
    /// is [`UriError::Secret`] wrapping the secret's own error.
    pub fn parse(uri: &str) -> Result<OtpAuthUri, Error> {
        OtpAuthUri::parse_with_warnings(uri).map(|p| p.uri)
    }

    /// Parses a URI as authenticator apps write them, and says what was
    /// accepted only by leniency.
    ///
    /// Lenient where apps differ: `+` in the query is a space
    /// (`application/x-www-form-urlencoded`, as in `issuer=Air+Canada`); an
    /// `issuer` parameter that differs from the label's prefix wins
    /// ([`UriWarning::IssuerMismatch`]); `period` on an `hotp` URI and
    /// `counter` on a `totp` URI are ignored
    /// ([`UriWarning::IgnoredParameter`]); algorithm names in any case.
    /// Strict where it matters: the secret, `digits`, `period`, `counter`
    /// values and any known parameter given twice.
    ///
    /// ```
    /// use mfa_oath::{OtpAuthUri, UriWarning};
    /// let p = OtpAuthUri::parse_with_warnings(
    ///     "otpauth://totp/AirCanada:alice?secret=JBSWY3DPEHPK3PXP&issuer=Air+Canada&counter=3",
    /// )?;
    /// assert_eq!(p.uri.issuer.as_deref(), Some("Air Canada"));
    /// assert_eq!(p.warnings, [
    ///     UriWarning::IgnoredParameter { name: "counter", kind: "totp" },
    ///     UriWarning::IssuerMismatch { label: "AirCanada".into(), parameter: "Air Canada".into() },
    /// ]);
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`OtpAuthUri::parse`].
    pub fn parse_with_warnings(uri: &str) -> Result<ParsedUri, Error> {
        if uri.len() > MAX_URI_LEN {
            return Err(UriError::TooLong {
                len: uri.len(),
                max: MAX_URI_LEN,
            }
            .into());
        }
        let rest = strip_prefix_ignore_case(uri, "otpauth://").ok_or(UriError::Scheme)?;
        let (kind_name, rest) = rest.split_once('/').ok_or(UriError::MissingLabel)?;
        let is_totp = if kind_name.eq_ignore_ascii_case("totp") {
            true
        } else if kind_name.eq_ignore_ascii_case("hotp") {
            false
        } else {
            return Err(UriError::Type(shown_value(kind_name, true)).into());
        };
        // A fragment is not part of the Key URI format; drop it as URL
        // parsers do.
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        // The issuer prefix ends at a literal colon, or, if there is none, at
        // an encoded one (`%3A`); split before decoding, so that a colon
        // encoded inside the issuer (as `to_uri` writes it) stays inside it.
        let split = label
            .split_once(':')
            .or_else(|| split_once_ignore_case(label, "%3A"));
        let (label_issuer, account) = match split {
            Some((i, a)) => (
                Some(decode(i, "label")?.trim().to_string()),
                decode(a, "label")?.trim().to_string(),
            ),
            None => (None, decode(label, "label")?.trim().to_string()),
        };
        if account.is_empty() {
            return Err(UriError::MissingLabel.into());
        }
        label_len("account", &account)?;
        if let Some(i) = &label_issuer {
            label_len("issuer", i)?;
        }
        // The Key URI format forbids a colon in the account name: with one,
        // the label cannot be written back unambiguously. Control characters
        // (NUL, escapes) have no place in a name that is shown to people.
        if account.contains(':') || account.chars().any(char::is_control) {
            return Err(invalid("account", &account));
        }
        if label_issuer
            .as_deref()
            .is_some_and(|i| i.chars().any(char::is_control))
        {
            return Err(invalid(
                "issuer",
                label_issuer.as_deref().unwrap_or_default(),
            ));
        }

        let mut warnings = Vec::new();
        let mut secret = None;
        let mut issuer: Option<String> = None;
        let mut algorithm = None;
        let mut digits = None;
        let mut period = None;
        let mut counter = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode_query(name, "parameter name")?;
            let lname = name.to_ascii_lowercase();
            match lname.as_str() {
                "secret" => set_once(&mut secret, &lname, || {
                    let v = Zeroizing::new(decode_query(value, "secret")?.into_owned());
                    Secret::from_base32(&v).map_err(|e| UriError::Secret(Box::new(e)).into())
                })?,
                "issuer" => set_once(&mut issuer, &lname, || {
                    let v = decode_query(value, "issuer")?.trim().to_string();
                    label_len("issuer", &v)?;
                    if v.chars().any(char::is_control) {
                        return Err(invalid("issuer", &v));
                    }
                    Ok(v)
                })?,
                "algorithm" => set_once(&mut algorithm, &lname, || {
                    param(value, "algorithm", |v| v.parse::<Algorithm>().ok())
                })?,
                "digits" => set_once(&mut digits, &lname, || {
                    param(value, "digits", |v| {
                        v.parse().ok().and_then(|n| Digits::new(n).ok())
                    })
                })?,
                "period" => set_once(&mut period, &lname, || {
                    param(value, "period", |v| {
                        v.parse().ok().and_then(|n| Period::new(n).ok())
                    })
                })?,
                "counter" => set_once(&mut counter, &lname, || {
                    param(value, "counter", |v| v.parse::<u64>().ok())
                })?,
                _ => {} // image, color, … are for apps; ignored.
            }
        }
        let secret = secret.ok_or(UriError::MissingParameter("secret"))?;
        // An empty issuer parameter says nothing.
        let issuer = issuer.filter(|s| !s.is_empty());
        let label_issuer = label_issuer.filter(|s| !s.is_empty());
        let issuer = match (label_issuer, issuer) {
            (Some(l), Some(p)) if l != p => {
                warnings.push(UriWarning::IssuerMismatch {
                    label: truncated(&l),
                    parameter: truncated(&p),
                });
                Some(p)
            }
            (l, p) => p.or(l),
        };
        let kind = if is_totp {
            if counter.is_some() {
                warnings.insert(
                    0,
                    UriWarning::IgnoredParameter {
                        name: "counter",
                        kind: "totp",
                    },
                );
            }
            OtpKind::Totp {
                period: period.unwrap_or_default(),
            }
        } else {
            if period.is_some() {
                warnings.insert(
                    0,
                    UriWarning::IgnoredParameter {
                        name: "period",
                        kind: "hotp",
                    },
                );
            }
            OtpKind::Hotp {
                counter: counter.ok_or(UriError::MissingParameter("counter"))?,
            }
        };
        Ok(ParsedUri {
            uri: OtpAuthUri {
                kind,
                issuer,
                account,
                secret,
                algorithm: algorithm.unwrap_or_default(),
                digits: digits.unwrap_or_default(),
            },
            warnings,
        })
    }

    /// The URI text, refused when [`OtpAuthUri::parse`] would refuse it:
    /// longer than [`MAX_URI_LEN`] once written (labels are
    /// percent-encoded, so a URI that parsed can grow), or an account that
    /// is empty or holds a colon, or an issuer or account with surrounding
    /// whitespace (the parser trims it) or a control character. What this returns parses back to
    /// the same token.
    ///
    /// ```
    /// use mfa_oath::{Error, OtpAuthUri, UriError};
    /// let mut uri = OtpAuthUri::parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP")?;
    /// assert!(uri.try_to_uri().is_ok());
    /// uri.account = "ä".repeat(1000); // 6 bytes each once encoded
    /// assert!(matches!(uri.try_to_uri(), Err(Error::Uri(UriError::TooLong { .. }))));
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`UriError::TooLong`], or [`UriError::InvalidParameter`] naming the
    /// `account` or `issuer`.
    pub fn try_to_uri(&self) -> Result<Zeroizing<String>, Error> {
        if self.account.is_empty()
            || self.account.contains(':')
            || self.account.chars().any(char::is_control)
        {
            return Err(invalid("account", &self.account));
        }
        if self.account.trim() != self.account {
            return Err(invalid("account", &self.account));
        }
        if let Some(i) = &self.issuer
            && (i.is_empty() || i.trim() != i || i.chars().any(char::is_control))
        {
            return Err(invalid("issuer", i));
        }
        let text = self.to_uri();
        if text.len() > MAX_URI_LEN {
            return Err(UriError::TooLong {
                len: text.len(),
                max: MAX_URI_LEN,
            }
            .into());
        }
        Ok(text)
    }

    /// The label only (`issuer:account`, decoded), which is what a report
    /// may show of a URI: it never holds the secret.
    ///
    /// ```
    /// let uri = mfa_oath::OtpAuthUri::parse("otpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXP")?;
    /// assert_eq!(uri.label(), "ACME:bob");
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn label(&self) -> String {
        match &self.issuer {
            Some(i) => format!("{i}:{}", self.account),
            None => self.account.clone(),
        }
    }

    /// The URI text. It contains the secret, so it is wiped when dropped.
    /// Every parameter is written out explicitly (apps differ in their
    /// defaults). It is not checked against the parser's limits: use
    /// [`OtpAuthUri::try_to_uri`] for text that must parse back.
    pub fn to_uri(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(128));
        out.push_str(match self.kind {
            OtpKind::Totp { .. } => "otpauth://totp/",
            OtpKind::Hotp { .. } => "otpauth://hotp/",
        });
        if let Some(issuer) = &self.issuer {
            out.extend(utf8_percent_encode(issuer, ENCODE));
            out.push(':');
        }
        out.extend(utf8_percent_encode(&self.account, ENCODE));
        out.push_str("?secret=");
        out.push_str(&self.secret.to_base32());
        if let Some(issuer) = &self.issuer {
            out.push_str("&issuer=");
            out.extend(utf8_percent_encode(issuer, ENCODE));
        }
        out.push_str("&algorithm=");
        out.push_str(self.algorithm.name());
        out.push_str("&digits=");
        out.push_str(&self.digits.get().to_string());
        match self.kind {
            OtpKind::Totp { period } => {
                out.push_str("&period=");
                out.push_str(&period.seconds().to_string());
            }
            OtpKind::Hotp { counter } => {
                out.push_str("&counter=");
                out.push_str(&counter.to_string());
            }
        }
        out
    }

    /// The TOTP token this URI describes (T0 is the epoch, as apps assume),
    /// or `None` for an HOTP URI.
    pub fn to_totp(&self) -> Option<Totp> {
        match self.kind {
            OtpKind::Totp { period } => Some(Totp::new(
                self.secret.clone(),
                TotpParams {
                    algorithm: self.algorithm,
                    digits: self.digits,
                    period,
                    t0: UnixTime::EPOCH,
                },
            )),
            OtpKind::Hotp { .. } => None,
        }
    }

    /// The HOTP token and its state, or `None` for a TOTP URI.
    pub fn to_hotp(&self) -> Option<(Hotp, HotpState)> {
        match self.kind {
            OtpKind::Hotp { counter } => Some((
                Hotp::new(
                    self.secret.clone(),
                    HotpParams {
                        algorithm: self.algorithm,
                        digits: self.digits,
                    },
                ),
                HotpState::from_next_counter(counter),
            )),
            OtpKind::Totp { .. } => None,
        }
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Fills `slot` from `value`, refusing a parameter given twice.
fn set_once<T>(
    slot: &mut Option<T>,
    name: &str,
    value: impl FnOnce() -> Result<T, Error>,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(UriError::DuplicateParameter(name.into()).into());
    }
    *slot = Some(value()?);
    Ok(())
}

/// Decodes a parameter value and parses it, naming it when it is invalid.
fn param<T>(
    raw: &str,
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, Error> {
    let v = decode_query(raw, name)?;
    parse(&v).ok_or_else(|| invalid(name, &v))
}

fn split_once_ignore_case<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let at = s.to_ascii_uppercase().find(sep)?;
    Some((s.get(..at)?, s.get(at + sep.len()..)?))
}

fn decode<'a>(s: &'a str, what: &'static str) -> Result<Cow<'a, str>, UriError> {
    percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| UriError::Encoding(what))
}

fn label_len(name: &'static str, value: &str) -> Result<(), Error> {
    if value.len() > MAX_LABEL_LEN {
        return Err(UriError::InvalidParameter {
            name,
            value: format!("{} bytes (at most {MAX_LABEL_LEN})", value.len()),
        }
        .into());
    }
    Ok(())
}

fn invalid(name: &'static str, value: &str) -> Error {
    UriError::InvalidParameter {
        name,
        value: shown_value(value, !matches!(name, "account" | "issuer")),
    }
    .into()
}

/// A value as an error or a redacted URI may show it: at most 64
/// characters, and nothing that could hold a secret. A value with
/// `secret`, `://`, `=`, `?` or `&` in it (two URIs run together on one
/// line), or, for a parameter whose values are short words (`algorithm`,
/// `digits`, `period`, `counter`, the type), anything but a short word, is
/// shown by its length only.
fn shown_value(value: &str, word_only: bool) -> String {
    let lower = value.to_ascii_lowercase();
    let risky = lower.contains("secret")
        || lower.contains("://")
        || value.contains(['=', '?', '&'])
        || value.chars().any(char::is_control);
    let word = value.chars().count() <= 12
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ' | '+'));
    if risky || (word_only && !word) {
        format!("<{} characters, not shown>", value.chars().count())
    } else {
        truncated(value)
    }
}

/// At most 64 characters of a value for an error or warning.
fn truncated(value: &str) -> String {
    let mut v: String = value.chars().take(64).collect();
    if value.chars().count() > 64 {
        v.push('…');
    }
    v
}

/// Decodes a query name or value: `+` is a space
/// (`application/x-www-form-urlencoded`), then percent-decoding.
fn decode_query<'a>(s: &'a str, what: &'static str) -> Result<Cow<'a, str>, UriError> {
    if s.contains('+') {
        let spaced = s.replace('+', " ");
        return percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| Cow::Owned(c.into_owned()))
            .map_err(|_| UriError::Encoding(what));
    }
    decode(s, what)
}

/// A parsed URI and what was accepted only by leniency.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ParsedUri {
    /// The URI.
    pub uri: OtpAuthUri,
    /// What the administrator should be told (never the secret).
    pub warnings: Vec<UriWarning>,
}

impl ParsedUri {
    /// A parse result built by another reader of the same data (e.g. a
    /// Google Authenticator migration entry).
    pub fn new(uri: OtpAuthUri, warnings: Vec<UriWarning>) -> ParsedUri {
        ParsedUri { uri, warnings }
    }
}

/// Something in a URI that was accepted but not as written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriWarning {
    /// The `issuer` parameter differs from the label's issuer prefix; the
    /// parameter was taken (the Key Uri Format says they should be equal).
    IssuerMismatch {
        /// Issuer from the label prefix.
        label: String,
        /// Issuer from the `issuer=` parameter (the one used).
        parameter: String,
    },
    /// A parameter that the URI's type does not have was ignored
    /// (`period` on `hotp`, `counter` on `totp`).
    IgnoredParameter {
        /// The parameter.
        name: &'static str,
        /// The URI's type.
        kind: &'static str,
    },
}

impl core::fmt::Display for UriWarning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UriWarning::IssuerMismatch { label, parameter } => write!(
                f,
                "the issuer parameter {parameter:?} differs from the label's issuer prefix {label:?}; the parameter was used"
            ),
            UriWarning::IgnoredParameter { name, kind } => {
                write!(f, "the {name} parameter was ignored: a {kind} URI has none")
            }
        }
    }
}

/// A form of `text` (an `otpauth://` or `otpauth-migration://` URI, or
/// anything that may hold one) that is safe to show: the query keeps only
/// the values of `issuer`, `algorithm`, `digits`, `period` and `counter`
/// (when they are short words, or for `issuer` plain text);
/// every other parameter (`secret`, `data`, and anything unknown or
/// malformed, which could be a misspelt secret) shows its name, if it is a
/// short plain word, with the value `REDACTED`, or is `REDACTED` as a
/// whole. A label that holds `secret`, `=` or `&` (a query run into the
/// path) is replaced too, and the result is
/// cut to 160 characters. Use it for error messages and reports about URIs
/// that did not parse.
///
/// ```
/// assert_eq!(
///     mfa_oath::redact_uri("otpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXP&issuer=ACME"),
///     "otpauth://totp/ACME:bob?secret=REDACTED&issuer=ACME"
/// );
/// assert_eq!(
///     mfa_oath::redact_uri("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8"),
///     "otpauth-migration://offline?data=REDACTED"
/// );
/// assert_eq!(
///     mfa_oath::redact_uri("otpauth://totp/a?scret=JBSWY3DPEHPK3PXP&x?secret=JBSWY3DPEHPK3PXP"),
///     "otpauth://totp/a?scret=REDACTED&REDACTED"
/// );
/// // Two URIs run together: the second one's secret is not shown either.
/// assert_eq!(
///     mfa_oath::redact_uri("otpauth://totp/a?digits=6otpauth://totp/b%3Fsecret%3DJBSWY3DPEHPK3PXP"),
///     "otpauth://totp/a?digits=REDACTED"
/// );
/// ```
pub fn redact_uri(text: &str) -> String {
    let (head, query) = match text.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (text, None),
    };
    let lower_head = head.to_ascii_lowercase();
    let suspicious = lower_head.contains("secret")
        || lower_head.contains(['=', '&'])
        || lower_head.contains("%3d")
        || lower_head.contains("%26");
    let mut out = if suspicious {
        // A parameter-like or secret-like label (a query run into the path):
        // show the scheme and type only.
        let cut = head.find("//").map_or(0, |i| i + 2);
        let scheme: String = head
            .get(..cut)
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-'))
            .take(24)
            .collect();
        let kind: String = head
            .get(cut..)
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        format!("{scheme}{kind}/REDACTED")
    } else {
        head.to_string()
    };
    if let Some(q) = query {
        for (i, seg) in q.split('&').enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            match seg.split_once('=') {
                Some((name, value)) if is_shown_parameter(name) => {
                    let word_only = !name.eq_ignore_ascii_case("issuer");
                    let safe = |v: &str| shown_value(v, word_only) == truncated(v);
                    // Shown only if it decodes and both forms are harmless.
                    let ok = decode_query(value, "value").is_ok_and(|d| safe(&d)) && safe(value);
                    if ok {
                        out.push_str(seg);
                    } else {
                        out.push_str(name);
                        out.push_str("=REDACTED");
                    }
                }
                Some((name, _)) if is_plain_word(name) => {
                    out.push_str(name);
                    out.push_str("=REDACTED");
                }
                None if seg.is_empty() => {}
                _ => out.push_str("REDACTED"),
            }
        }
    }
    if out.chars().count() > 160 {
        out = out.chars().take(160).collect();
        out.push('…');
    }
    out
}

/// Parameters whose values never hold a secret.
fn is_shown_parameter(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "issuer" | "algorithm" | "digits" | "period" | "counter"
    )
}

fn is_plain_word(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 16
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
