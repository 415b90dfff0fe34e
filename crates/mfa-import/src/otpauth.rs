//! Files of otpauth URIs, one a line (the plain-text export of Aegis, 2FAS,
//! Ente Auth, andOTP, FreeOTP+), and Google Authenticator's
//! `otpauth-migration://offline?data=…` export (a protobuf payload).

use std::collections::VecDeque;
use std::fmt;
use std::io::BufRead;

use mfa_oath::{
    Algorithm, Digits, HotpState, OtpAuthUri, OtpKind, ParsedUri, Secret, TotpParams, TotpState,
    UnixTime, UriWarning,
};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, ImportedToken, LimitKind, Limits, Location, Rejection, TokenKind, Warning};

// ----- the migration payload (Google Authenticator's MigrationPayload) -----

/// `MigrationPayload.Algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum PbAlgorithm {
    Unspecified = 0,
    Sha1 = 1,
    Sha256 = 2,
    Sha512 = 3,
    Md5 = 4,
}

/// `MigrationPayload.DigitCount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum PbDigits {
    Unspecified = 0,
    Six = 1,
    Eight = 2,
}

/// `MigrationPayload.OtpType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum PbType {
    Unspecified = 0,
    Hotp = 1,
    Totp = 2,
}

/// `MigrationPayload.OtpParameters`. Its secret is wiped on drop and its
/// `Debug` is redacted (`skip_debug`).
#[derive(Clone, PartialEq, prost::Message)]
#[prost(skip_debug)]
struct PbOtpParameters {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    #[prost(enumeration = "PbAlgorithm", tag = "4")]
    algorithm: i32,
    #[prost(enumeration = "PbDigits", tag = "5")]
    digits: i32,
    #[prost(enumeration = "PbType", tag = "6")]
    r#type: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
}

impl fmt::Debug for PbOtpParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpParameters")
            .field("secret", &"[REDACTED]")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for PbOtpParameters {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// `MigrationPayload`.
#[derive(Clone, PartialEq, prost::Message)]
struct PbPayload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<PbOtpParameters>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

/// One Google Authenticator export QR code: the batch information and
/// each account, as an otpauth URI or the reason it cannot be used.
///
/// Google Authenticator splits a large export over several QR codes
/// (`batch_index` of `batch_size`, all with the same `batch_id`); each is
/// read on its own.
#[derive(Debug)]
#[non_exhaustive]
pub struct MigrationBatch {
    /// Payload format version (1 in the exports seen).
    pub version: i32,
    /// Number of QR codes in the export.
    pub batch_size: i32,
    /// 0-based index of this QR code in the export.
    pub batch_index: i32,
    /// Identifies the export the QR codes belong to.
    pub batch_id: i32,
    /// Every account in order: a URI (with what was accepted only by
    /// leniency) or why it was refused ([`Error::MigrationValue`] for an
    /// unknown or unusable enum value, [`Error::Secret`],
    /// [`Error::InvalidUri`]).
    pub entries: Vec<Result<ParsedUri, Error>>,
}

/// Decodes an `otpauth-migration://offline?data=…` URI (Google
/// Authenticator's "Transfer accounts" QR code).
///
/// The `data` parameter is percent-decoded (a literal `+` is base64, not a
/// space) and base64-decoded (standard or URL-safe alphabet, padding
/// optional), then read as a protobuf `MigrationPayload`. Unspecified
/// algorithm and digits mean SHA-1 and 6 (the app's defaults); an
/// unspecified type, MD5 or an unknown value refuses that entry only. The
/// account name may carry an `issuer:` prefix, handled as in an otpauth
/// label.
///
/// ```
/// // From dim13/otpauth's tests: one TOTP account.
/// let batch = mfa_import::parse_migration_uri(
///     "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC",
/// )?;
/// let entry = batch.entries[0].as_ref().unwrap();
/// assert_eq!(entry.uri.issuer.as_deref(), Some("Example"));
/// assert_eq!(entry.uri.account, "alice@google.com");
/// assert_eq!(entry.uri.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
/// # Ok::<(), mfa_import::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidMigration`] when the URI is not an
/// `otpauth-migration://offline` URI with one `data` parameter, or the
/// data is not base64 or not a `MigrationPayload`;
/// [`Error::LimitExceeded`] for a URI over [`MAX_MIGRATION_URI_LEN`].
pub fn parse_migration_uri(uri: &str) -> Result<MigrationBatch, Error> {
    if uri.len() > MAX_MIGRATION_URI_LEN {
        return Err(Error::LimitExceeded {
            kind: LimitKind::ValueBytes,
            max: MAX_MIGRATION_URI_LEN as u64,
        });
    }
    let bad = |reason| Error::InvalidMigration { reason };
    let rest = strip_prefix_ignore_case(uri.trim(), "otpauth-migration://")
        .ok_or(bad("the scheme must be otpauth-migration://"))?;
    let (host, query) = rest.split_once('?').ok_or(bad("no data parameter"))?;
    if !host.trim_end_matches('/').eq_ignore_ascii_case("offline") {
        return Err(bad("the host must be offline"));
    }
    let mut data = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name.eq_ignore_ascii_case("data") {
            if data.is_some() {
                return Err(bad("the data parameter occurs more than once"));
            }
            data = Some(value);
        }
    }
    let data = data.ok_or(bad("no data parameter"))?;
    let text = Zeroizing::new(
        percent_encoding::percent_decode_str(data)
            .decode_utf8()
            .map_err(|_| bad("the data parameter is not valid percent-encoded UTF-8"))?
            .into_owned(),
    );
    let b64 = text.trim().trim_end_matches('=');
    let engine = if b64.contains(['-', '_']) {
        data_encoding::BASE64URL_NOPAD
    } else {
        data_encoding::BASE64_NOPAD
    };
    let bytes = Zeroizing::new(
        engine
            .decode(b64.as_bytes())
            .map_err(|_| bad("the data parameter is not base64"))?,
    );
    parse_migration_payload(&bytes)
}

/// The longest `otpauth-migration://` URI read (64 KiB: Google
/// Authenticator puts at most about ten accounts in one QR code, under
/// 3 KB).
pub const MAX_MIGRATION_URI_LEN: usize = 64 * 1024;

/// Decodes the protobuf `MigrationPayload` itself (the base64-decoded
/// `data` of an `otpauth-migration://` URI); see [`parse_migration_uri`].
///
/// # Errors
/// [`Error::InvalidMigration`] if the bytes are not a `MigrationPayload`.
pub fn parse_migration_payload(bytes: &[u8]) -> Result<MigrationBatch, Error> {
    let payload =
        <PbPayload as prost::Message>::decode(bytes).map_err(|_| Error::InvalidMigration {
            reason: "the data is not a MigrationPayload (protobuf)",
        })?;
    Ok(MigrationBatch {
        version: payload.version,
        batch_size: payload.batch_size,
        batch_index: payload.batch_index,
        batch_id: payload.batch_id,
        entries: payload.otp_parameters.iter().map(entry).collect(),
    })
}

fn entry(p: &PbOtpParameters) -> Result<ParsedUri, Error> {
    let value = |field, value| Error::MigrationValue { field, value };
    let algorithm = match PbAlgorithm::try_from(p.algorithm) {
        Ok(PbAlgorithm::Unspecified | PbAlgorithm::Sha1) => Algorithm::Sha1,
        Ok(PbAlgorithm::Sha256) => Algorithm::Sha256,
        Ok(PbAlgorithm::Sha512) => Algorithm::Sha512,
        Ok(PbAlgorithm::Md5) | Err(_) => return Err(value("algorithm", p.algorithm)),
    };
    let digits = match PbDigits::try_from(p.digits) {
        Ok(PbDigits::Unspecified | PbDigits::Six) => Digits::SIX,
        Ok(PbDigits::Eight) => Digits::new(8).map_err(|_| value("digits", p.digits))?,
        Err(_) => return Err(value("digits", p.digits)),
    };
    let kind = match PbType::try_from(p.r#type) {
        Ok(PbType::Totp) => OtpKind::Totp {
            period: mfa_oath::Period::THIRTY,
        },
        Ok(PbType::Hotp) => OtpKind::Hotp {
            counter: u64::try_from(p.counter).map_err(|_| Error::InvalidInteger {
                element: "counter".into(),
                value: p.counter.to_string(),
            })?,
        },
        Ok(PbType::Unspecified) | Err(_) => return Err(value("type", p.r#type)),
    };
    let secret = Secret::from_bytes(&p.secret)?;
    let mut warnings = Vec::new();
    let name = p.name.trim();
    let (label_issuer, account) = match name.split_once(':') {
        Some((i, a)) => (Some(i.trim()), a.trim()),
        None => (None, name),
    };
    if account.is_empty() {
        return Err(Error::InvalidUri(mfa_oath::UriError::MissingLabel));
    }
    // As the otpauth parser: no colon in the account, no control characters
    // in names shown to people.
    if account.contains(':') || account.chars().any(char::is_control) {
        return Err(Error::InvalidUri(mfa_oath::UriError::InvalidParameter {
            name: "account",
            value: format!("<{} characters, not shown>", account.chars().count()),
        }));
    }
    let issuer_field = p.issuer.trim();
    if issuer_field.chars().any(char::is_control)
        || label_issuer.is_some_and(|i| i.chars().any(char::is_control))
    {
        return Err(Error::InvalidUri(mfa_oath::UriError::InvalidParameter {
            name: "issuer",
            value: format!("<{} characters, not shown>", issuer_field.chars().count()),
        }));
    }
    let issuer = match (label_issuer.filter(|s| !s.is_empty()), issuer_field) {
        (Some(l), p) if !p.is_empty() && l != p => {
            warnings.push(UriWarning::IssuerMismatch {
                label: l.to_owned(),
                parameter: p.to_owned(),
            });
            Some(p.to_owned())
        }
        (l, "") => l.map(str::to_owned),
        (_, p) => Some(p.to_owned()),
    };
    let mut uri = OtpAuthUri::totp(
        issuer.as_deref(),
        account,
        &mfa_oath::Totp::new(secret, TotpParams::default()),
    );
    uri.kind = kind;
    uri.algorithm = algorithm;
    uri.digits = digits;
    Ok(ParsedUri::new(uri, warnings))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

// ----- the list reader -----

/// A token from an otpauth URI: TOTP with T0 at the epoch (as apps assume)
/// or HOTP whose next counter is the URI's `counter`. The serial (and
/// friendly name) is the label `issuer:account`.
fn token_from_uri(parsed: ParsedUri, location: Location) -> Result<ImportedToken, Rejection> {
    let uri = parsed.uri;
    let kind = match uri.kind {
        OtpKind::Hotp { counter } => TokenKind::Hotp {
            params: mfa_oath::HotpParams {
                algorithm: uri.algorithm,
                digits: uri.digits,
            },
            state: HotpState::from_next_counter(counter),
        },
        OtpKind::Totp { period } => TokenKind::Totp {
            params: TotpParams {
                algorithm: uri.algorithm,
                digits: uri.digits,
                period,
                t0: UnixTime::EPOCH,
            },
            state: TotpState::default(),
        },
        // A kind a later mfa-oath may add is refused, not guessed.
        _ => {
            return Err(Rejection::new(
                location,
                Error::InvalidUri(mfa_oath::UriError::Type("unknown".into())),
            ));
        }
    };
    let label = uri.label();
    let mut token = ImportedToken::new(uri.secret.clone(), kind);
    token.warnings = parsed
        .warnings
        .into_iter()
        .map(|warning| Warning::Uri {
            location: location.clone(),
            warning,
        })
        .collect();
    token.location = location;
    token.serial = Some(label.clone());
    token.friendly_name = Some(label);
    token.issuer = uri.issuer.clone();
    Ok(token)
}

/// Reader for a file of otpauth URIs, one a line: the plain-text export of
/// Aegis, 2FAS, Ente Auth, andOTP and FreeOTP+, and lines of Google
/// Authenticator `otpauth-migration://` URIs (each may hold several
/// accounts). Blank lines and lines starting with `#` are skipped; CRLF and
/// a UTF-8 byte order mark are accepted.
///
/// Streaming, with the same shape as the CSV readers: one token or one
/// located [`Rejection`] per URI (per account of a migration URI). A line
/// that is not a URI, or a URI the OATH rules refuse (e.g. Steam's
/// `otpauth://steam/…`, 5 digits), rejects that line only; the message and
/// the location never show a secret (a rejected line shows its label, or
/// the URI with `secret` and `data` redacted). What was accepted only by
/// leniency (issuer parameter ≠ label, `period` on hotp) becomes a
/// [`Warning::Uri`] in the report. A line over
/// [`Limits::max_value_bytes`], more than [`Limits::max_packages`] tokens or
/// more than [`Limits::max_document_bytes`] bytes end reading (fatal).
///
/// Tokens have no Key Id; their serial (their [`ImportedToken::identity`])
/// is the label `issuer:account`, so two accounts with the same label are
/// reported as duplicates. There is no upload header: write the errors CSV
/// with `upload_header` `None`.
///
/// ```
/// use mfa_import::{ImportReport, OtpauthListReader};
/// let text = "otpauth://totp/Deno:Mason?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ&issuer=Deno\n\
///             otpauth://hotp/Air%20Canada:Benjamin?secret=KUVJJOM753IHTNDSZVCNKL7GII&issuer=Air+Canada&counter=50\n\
///             otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Boeing&digits=5\n";
/// let mut report = ImportReport::new();
/// let tokens: Vec<_> = OtpauthListReader::new(text.as_bytes())
///     .filter_map(|item| report.record(item))
///     .collect();
/// assert_eq!(tokens.len(), 2);
/// assert_eq!(tokens[1].identity(), Some("Air Canada:Benjamin"));
/// assert_eq!(tokens[1].next_counter(), Some(50));
/// assert_eq!(report.rejected[0].to_string(),
///     "line 3 (serial \"otpauth://steam/Boeing:Sophia?secret=REDACTED&issuer=Boeing&digits=5\"): \
///      invalid otpauth URI: unknown type \"steam\"; expected totp or hotp");
/// ```
pub struct OtpauthListReader<R: BufRead> {
    input: R,
    limits: Limits,
    line: u64,
    bytes: u64,
    tokens: usize,
    buf: Zeroizing<Vec<u8>>,
    pending: VecDeque<Result<ImportedToken, Rejection>>,
    done: bool,
}

impl<R: BufRead> fmt::Debug for OtpauthListReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpauthListReader")
            .field("line", &self.line)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> OtpauthListReader<R> {
    /// A reader with the default [`Limits`].
    pub fn new(input: R) -> OtpauthListReader<R> {
        OtpauthListReader::with_limits(input, Limits::default())
    }

    /// A reader with the given limits.
    pub fn with_limits(input: R, limits: Limits) -> OtpauthListReader<R> {
        OtpauthListReader {
            input,
            limits,
            line: 0,
            bytes: 0,
            tokens: 0,
            buf: Zeroizing::new(Vec::new()),
            pending: VecDeque::new(),
            done: false,
        }
    }

    fn fatal(&mut self, error: Error) -> Option<Result<ImportedToken, Rejection>> {
        self.done = true;
        self.pending.clear();
        Some(Err(Rejection::new(
            Location::Position {
                line: self.line,
                offset: self.bytes,
            },
            error,
        )))
    }

    /// Reads the next line into `buf` (without its newline); `Ok(false)`
    /// at the end of the input.
    fn read_line(&mut self) -> Result<bool, Error> {
        self.buf.clear();
        let max = self.limits.max_value_bytes;
        let mut any = false;
        loop {
            let chunk = self.input.fill_buf().map_err(|e| Error::Io(e.kind()))?;
            if chunk.is_empty() {
                return Ok(any);
            }
            any = true;
            let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if self.buf.len() + take > max {
                return Err(Error::LimitExceeded {
                    kind: LimitKind::ValueBytes,
                    max: max as u64,
                });
            }
            self.buf
                .extend_from_slice(chunk.get(..take).unwrap_or_default());
            let consumed = take + usize::from(end);
            self.input.consume(consumed);
            self.bytes += consumed as u64;
            if self.bytes > self.limits.max_document_bytes {
                return Err(Error::LimitExceeded {
                    kind: LimitKind::DocumentBytes,
                    max: self.limits.max_document_bytes,
                });
            }
            if end {
                return Ok(true);
            }
        }
    }

    fn push(&mut self, item: Result<ImportedToken, Rejection>) -> Result<(), Error> {
        self.tokens += 1;
        if self.tokens > self.limits.max_packages {
            return Err(Error::LimitExceeded {
                kind: LimitKind::Packages,
                max: self.limits.max_packages as u64,
            });
        }
        self.pending.push_back(item);
        Ok(())
    }

    /// Turns one line into pending items.
    fn parse_line(&mut self, text: &str) -> Result<(), Error> {
        let line = self.line;
        let row = |serial: Option<String>| Location::Row {
            line,
            serial: serial.map(Box::from),
        };
        let lower: String = text
            .chars()
            .take(24)
            .collect::<String>()
            .to_ascii_lowercase();
        if lower.starts_with("otpauth://") {
            let item = match OtpAuthUri::parse_with_warnings(text) {
                Ok(p) => {
                    let location = row(Some(p.uri.label()));
                    token_from_uri(p, location)
                }
                Err(e) => Err(Rejection::new(
                    row(Some(mfa_oath::redact_uri(text))),
                    uri_error(e),
                )),
            };
            return self.push(item);
        }
        if lower.starts_with("otpauth-migration://") {
            let batch = match parse_migration_uri(text) {
                Ok(b) => b,
                Err(e) => {
                    return self.push(Err(Rejection::new(
                        row(Some(mfa_oath::redact_uri(text))),
                        e,
                    )));
                }
            };
            if batch.entries.is_empty() {
                return self.push(Err(Rejection::new(
                    row(Some(mfa_oath::redact_uri(text))),
                    Error::InvalidMigration {
                        reason: "the payload holds no account",
                    },
                )));
            }
            for (i, e) in batch.entries.into_iter().enumerate() {
                let item = match e {
                    Ok(p) => {
                        let location = Location::Entry {
                            line,
                            entry: i + 1,
                            serial: Some(p.uri.label().into()),
                        };
                        token_from_uri(p, location)
                    }
                    Err(e) => Err(Rejection::new(
                        Location::Entry {
                            line,
                            entry: i + 1,
                            serial: None,
                        },
                        e,
                    )),
                };
                self.push(item)?;
            }
            return Ok(());
        }
        // Not a URI: never echo the text (it could be a bare secret).
        self.push(Err(Rejection::new(row(None), Error::NotAnOtpauthUri)))
    }
}

fn uri_error(e: mfa_oath::Error) -> Error {
    match e {
        mfa_oath::Error::Uri(u) => Error::InvalidUri(u),
        other => Error::Secret(other),
    }
}

impl<R: BufRead> Iterator for OtpauthListReader<R> {
    type Item = Result<ImportedToken, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.line += 1;
            match self.read_line() {
                Err(e) => return self.fatal(e),
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {}
            }
            let buf = std::mem::take(&mut *self.buf);
            let buf = Zeroizing::new(buf);
            let Ok(text) = std::str::from_utf8(&buf) else {
                let line = self.line;
                if let Err(e) = self.push(Err(Rejection::new(
                    Location::Row { line, serial: None },
                    Error::NotAnOtpauthUri,
                ))) {
                    return self.fatal(e);
                }
                continue;
            };
            let text = if self.line == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            if let Err(e) = self.parse_line(text) {
                return self.fatal(e);
            }
        }
    }
}

/// A token file format, as [`detect_format`] tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// PSKC (XML): read with [`crate::PskcReader`].
    Pskc,
    /// The on-premises server CSV: [`crate::ServerCsvReader`].
    ServerCsv,
    /// The cloud CSV (header starting with `upn`): [`crate::CloudCsvReader`].
    CloudCsv,
    /// otpauth URIs, one a line: [`OtpauthListReader`].
    OtpauthList,
}

/// Tells the format of a token file from its first bytes (e.g. what
/// `BufRead::fill_buf` returns; 8 KiB is plenty): XML (`<` after an
/// optional byte order mark and whitespace) is PSKC; a file whose first
/// line that is neither blank nor a `#` comment starts with `otpauth://`
/// or `otpauth-migration://` (any case) is an otpauth list; a first line
/// starting with `upn` is the cloud CSV; anything else the server CSV.
///
/// ```
/// use mfa_import::{Format, detect_format};
/// assert_eq!(detect_format(b"\xEF\xBB\xBF<?xml version=\"1.0\"?>"), Format::Pskc);
/// assert_eq!(detect_format(b"# export\notpauth://totp/a?secret=JBSWY3DPEHPK3PXP\n"), Format::OtpauthList);
/// assert_eq!(detect_format(b"otpauth-migration://offline?data=CjEK"), Format::OtpauthList);
/// assert_eq!(detect_format(b"UPN,serial number,secret key\n"), Format::CloudCsv);
/// assert_eq!(detect_format(b"1234567,JBSWY3DPEHPK3PXP,30\n"), Format::ServerCsv);
/// ```
pub fn detect_format(head: &[u8]) -> Format {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return Format::Pskc;
    }
    let content = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    let lower: String = content
        .chars()
        .take(24)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("otpauth://") || lower.starts_with("otpauth-migration://") {
        return Format::OtpauthList;
    }
    let first = text.lines().next().unwrap_or_default().trim_start();
    if first.to_ascii_lowercase().starts_with("upn") {
        Format::CloudCsv
    } else {
        Format::ServerCsv
    }
}
