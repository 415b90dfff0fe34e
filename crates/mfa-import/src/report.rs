//! The import report and the errors CSV.

use std::collections::HashMap;
use std::io::Write;

use crate::{Error, ImportedToken, Location, Rejection};

/// Something the administrator should know that does not reject a token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A CSV column that is not part of the format was ignored.
    IgnoredColumn {
        /// The column as named in the header.
        column: String,
    },
    /// The token's secret is under 128 bits (accepted, but below RFC 4226's
    /// requirement).
    WeakSecret {
        /// Where the token is.
        location: Location,
    },
    /// The PSKC file is signed (`<ds:Signature>`), and the signature was
    /// **not** checked: nothing says the file comes from its signer.
    SignatureNotChecked,
    /// An otpauth URI was accepted only by leniency (see
    /// [`mfa_oath::OtpAuthUri::parse_with_warnings`]).
    Uri {
        /// Where the URI is.
        location: Location,
        /// What was accepted.
        warning: mfa_oath::UriWarning,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::IgnoredColumn { column } => write!(f, "column {column:?} ignored"),
            Warning::WeakSecret { location } => {
                write!(f, "{location}: the secret is shorter than 128 bits")
            }
            Warning::SignatureNotChecked => f.write_str(
                "the file is signed (<ds:Signature>), but the signature was NOT checked",
            ),
            Warning::Uri { location, warning } => write!(f, "{location}: {warning}"),
        }
    }
}

/// One accepted token in the report (the token itself goes to the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Where the token was found.
    pub location: Location,
    /// Its serial number.
    pub serial: Option<String>,
}

/// What happened to every token of one import: accepted ones with their
/// location, rejected ones with location and typed reason, warnings.
/// Duplicate serial numbers inside one file are detected here: the second
/// and later occurrences are rejected with [`Error::DuplicateSerial`].
///
/// The report is plain values; applying the accepted tokens (all in one
/// transaction, or none) is the caller's choice.
///
/// ```
/// use mfa_import::{CloudCsvReader, ImportReport};
/// let csv = "upn,serial number,secret key,time interval,manufacturer,model,Enabled\n\
///            a@example.com,1,JBSWY3DPEHPK3PXP,30,C,M,true\n\
///            b@example.com,1,JBSWY3DPEHPK3PXP,30,C,M,true\n\
///            c@example.com,2,JBSWY3DPEHPK3PXP,45,C,M,true\n";
/// let mut reader = CloudCsvReader::new(csv.as_bytes());
/// let mut report = ImportReport::new();
/// let mut tokens = Vec::new();
/// while let Some(item) = reader.next() {
///     tokens.extend(report.record(item));
/// }
/// report.ignored_columns(reader.ignored_columns());
/// assert_eq!(tokens.len(), 1);
/// assert_eq!(report.rejected.len(), 2);
/// assert_eq!(report.rejected[0].to_string(),
///     "line 3 (serial \"1\"): duplicate serial number \"1\" (first seen at line 2 (serial \"1\"))");
///
/// let mut out = Vec::new();
/// mfa_import::write_errors_csv(&mut out, reader.header(), &report.rejected)?;
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("upn,serial number,secret key,time interval,manufacturer,model,Enabled,line,error\n"));
/// # Ok::<(), mfa_import::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Accepted tokens, in input order.
    pub accepted: Vec<Accepted>,
    /// Rejected tokens (and a fatal problem, if reading stopped), in input order.
    pub rejected: Vec<Rejection>,
    /// Warnings.
    pub warnings: Vec<Warning>,
    /// Every identity accepted so far, and where.
    serials: HashMap<String, Location>,
    /// Key Ids seen per serial number (a device may have several keys).
    devices: HashMap<String, Vec<(Option<String>, Location)>>,
}

impl ImportReport {
    /// An empty report.
    pub fn new() -> ImportReport {
        ImportReport::default()
    }

    /// Records one item of a reader; returns the token if it is accepted
    /// (not rejected by the reader and not a duplicate).
    ///
    /// Gives each token its [`ImportedToken::identity`]: a further key of a
    /// device already seen (same serial, another Key Id) becomes
    /// `serial:KeyId`; the same serial with the same Key Id (or without one)
    /// is a true duplicate, [`Error::DuplicateSerial`]. A fatal rejection
    /// (see [`ImportReport::fatal`]) is recorded among the rejections too.
    pub fn record(&mut self, item: Result<ImportedToken, Rejection>) -> Option<ImportedToken> {
        match item {
            Err(r) => {
                self.rejected.push(r);
                None
            }
            Ok(mut token) => {
                self.warnings.append(&mut token.warnings);
                if let Err(first) = self.assign_identity(&mut token) {
                    let identity = token.identity().unwrap_or_default().to_owned();
                    self.rejected.push(Rejection {
                        location: token.location.clone(),
                        error: Error::DuplicateSerial {
                            serial: identity,
                            first: Box::new(first),
                        },
                        row: token.raw.take(),
                    });
                    return None;
                }
                if token.secret.is_weak() {
                    self.warnings.push(Warning::WeakSecret {
                        location: token.location.clone(),
                    });
                }
                self.accepted.push(Accepted {
                    location: token.location.clone(),
                    serial: token.serial.clone(),
                });
                token.raw = None;
                Some(token)
            }
        }
    }

    /// Sets `token.identity` for a further key of a known device; `Err`
    /// with the first location for a true duplicate.
    fn assign_identity(&mut self, token: &mut ImportedToken) -> Result<(), Location> {
        if let Some(serial) = &token.serial {
            let keys = self.devices.entry(serial.clone()).or_default();
            if let Some((_, first)) = keys.iter().find(|(k, _)| *k == token.key_id) {
                return Err(first.clone());
            }
            match (&token.key_id, keys.first()) {
                (Some(k), Some(_)) => token.identity = Some(format!("{serial}:{k}")),
                // A second key without a Key Id cannot be told apart.
                (None, Some((_, first))) => return Err(first.clone()),
                (_, None) => {}
            }
            keys.push((token.key_id.clone(), token.location.clone()));
        }
        if let Some(id) = token.identity() {
            if let Some(first) = self.serials.get(id) {
                return Err(first.clone());
            }
            self.serials.insert(id.to_owned(), token.location.clone());
        }
        Ok(())
    }

    /// The problem that stopped reading, if any: malformed or truncated
    /// XML, a limit, a wrong root, content before the XML declaration, a
    /// broken CSV header. Such a document must be refused **as a whole**,
    /// whatever the import mode: the tokens accepted before it are only
    /// the part of the file that happened to come first. It is also in
    /// [`ImportReport::rejected`] (so the errors CSV lists it); its
    /// location is a [`Location::Position`] (line and byte offset) for XML.
    ///
    /// ```
    /// use mfa_import::{ImportReport, PskcOptions, PskcReader};
    /// let xml = b"<?xml version=\"1.0\"?>\n<KeyContainer Version=\"1.0\"><KeyPackage>";
    /// let mut report = ImportReport::new();
    /// for item in PskcReader::new(&xml[..], PskcOptions::new()).tokens() {
    ///     report.record(item);
    /// }
    /// let fatal = report.fatal().expect("truncated");
    /// assert_eq!(fatal.location.line(), 2);
    /// assert!(fatal.location.offset().is_some());
    /// assert!(fatal.to_string().contains("truncated"));
    /// ```
    pub fn fatal(&self) -> Option<&Rejection> {
        self.rejected.iter().find(|r| r.is_fatal())
    }

    /// The rejections of single tokens or rows, without the fatal one.
    pub fn rejected_rows(&self) -> impl Iterator<Item = &Rejection> {
        self.rejected.iter().filter(|r| !r.is_fatal())
    }

    /// Adds a reader's document-level warnings (e.g.
    /// [`crate::PskcReader::warnings`]: a signature that was not checked).
    pub fn add_warnings<'a>(&mut self, warnings: impl IntoIterator<Item = &'a Warning>) {
        for w in warnings {
            if !self.warnings.contains(w) {
                self.warnings.push(w.clone());
            }
        }
    }

    /// Records a CSV reader's ignored columns as warnings.
    pub fn ignored_columns(&mut self, columns: &[String]) {
        self.warnings.extend(
            columns
                .iter()
                .map(|c| Warning::IgnoredColumn { column: c.clone() }),
        );
    }

    /// True if nothing was rejected.
    pub fn is_clean(&self) -> bool {
        self.rejected.is_empty()
    }

    /// True if reading stopped early on a fatal problem.
    pub fn is_incomplete(&self) -> bool {
        self.rejected.iter().any(Rejection::is_fatal)
    }
}

/// Makes a cell safe to open in a spreadsheet (OWASP CSV injection): a
/// cell starting with `=`, `+`, `-`, `@`, tab, CR, LF, `'` or a full-width
/// `＝ ＋ － ＠` gets a leading `'`. The one guard of mfa-kit, from
/// [`mfa_csv`], shared with mfa-record's log export.
///
/// ```
/// assert_eq!(mfa_import::neutralise_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
/// assert_eq!(mfa_import::neutralise_cell("＠SUM(A1)"), "'＠SUM(A1)");
/// assert_eq!(mfa_import::neutralise_cell("1234567"), "1234567");
/// ```
pub fn neutralise_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    mfa_csv::neutralise_cell(cell)
}

/// What [`write_errors_csv_with`] writes.
///
/// ```
/// let o = mfa_import::ErrorsCsvOptions::new();
/// assert!(!o.secrets());
/// assert!(o.with_secrets(true).secrets());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorsCsvOptions {
    secrets: bool,
}

impl ErrorsCsvOptions {
    /// The default: the secret column of a CSV upload is left empty.
    pub const fn new() -> ErrorsCsvOptions {
        ErrorsCsvOptions { secrets: false }
    }

    /// Whether to write the rejected rows' secrets as uploaded (the errors
    /// file then holds secrets: create it readable by its owner only).
    #[must_use]
    pub const fn with_secrets(self, secrets: bool) -> ErrorsCsvOptions {
        ErrorsCsvOptions { secrets }
    }

    /// Whether secrets are written.
    pub const fn secrets(&self) -> bool {
        self.secrets
    }
}

/// The columns of a CSV upload that hold secrets: every column whose
/// header names a secret (`secret key`, `secret`, `base32 secret`), or, if
/// none does, column 1 (the server CSV format's fixed secret position).
fn secret_columns(header: &[String]) -> Vec<usize> {
    let named: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| h.to_ascii_lowercase().contains("secret"))
        .map(|(i, _)| i)
        .collect();
    if named.is_empty() { vec![1] } else { named }
}

/// [`write_errors_csv_with`] with the default options: the rejected rows'
/// secrets are **not** written (their cells are empty).
///
/// # Errors
/// [`Error::Write`] if writing fails.
pub fn write_errors_csv<W: Write>(
    out: W,
    upload_header: Option<&[String]>,
    rejections: &[Rejection],
) -> Result<(), Error> {
    write_errors_csv_with(out, upload_header, rejections, ErrorsCsvOptions::new())
}

/// Writes the errors CSV: for CSV uploads, the rejected rows as uploaded
/// (under `upload_header`, the upload's header) plus `line` and `error`
/// columns, the secret column left empty unless
/// [`ErrorsCsvOptions::with_secrets`]; for PSKC files and otpauth lists
/// (`upload_header` `None`), the columns `line,package,serial,key_id,error`
/// (`package` is the migration entry for an otpauth list). Every cell is
/// neutralised against formula injection. Whatever the options, any cell
/// outside the secret column that looks like it holds a secret (an otpauth
/// URI, `secret=`) is redacted (a file of otpauth URIs read as CSV has its
/// secrets in the serial column).
///
/// ```
/// use mfa_import::{ErrorsCsvOptions, ImportReport, ServerCsvReader};
/// let csv = "serial,secret,interval\n1,JBSWY3DPEHPK3PXP,45\n";
/// let mut reader = ServerCsvReader::new(csv.as_bytes());
/// let mut report = ImportReport::new();
/// for item in reader.by_ref() {
///     report.record(item);
/// }
/// let mut out = Vec::new();
/// mfa_import::write_errors_csv_with(&mut out, reader.header(), &report.rejected, ErrorsCsvOptions::new())?;
/// assert!(!String::from_utf8(out).unwrap().contains("JBSWY3DPEHPK3PXP"));
/// # Ok::<(), mfa_import::Error>(())
/// ```
///
/// ```
/// use mfa_import::{ErrorsCsvOptions, ImportReport, ServerCsvReader};
/// let csv = "serial,secret,interval\n\
///            1234567,JBSWY3DPEHPK3PXQ,0\n\
///            otpauth://totp/a?secret=JBSWY3DPEHPK3PXP,x,30\n";
/// let mut reader = ServerCsvReader::new(csv.as_bytes());
/// let mut report = ImportReport::new();
/// while let Some(item) = reader.next() {
///     report.record(item);
/// }
/// let mut out = Vec::new();
/// let with = ErrorsCsvOptions::new().with_secrets(true);
/// mfa_import::write_errors_csv_with(&mut out, reader.header(), &report.rejected, with)?;
/// let text = String::from_utf8(out).unwrap();
/// // The secret column as uploaded, the URI in the serial column redacted.
/// assert!(text.contains("JBSWY3DPEHPK3PXQ"), "{text}");
/// assert!(!text.contains("JBSWY3DPEHPK3PXP"), "{text}");
/// assert!(text.contains("otpauth://totp/a?secret=REDACTED"), "{text}");
/// # Ok::<(), mfa_import::Error>(())
/// ```
///
/// # Errors
/// [`Error::Write`] if writing fails.
pub fn write_errors_csv_with<W: Write>(
    out: W,
    upload_header: Option<&[String]>,
    rejections: &[Rejection],
    options: ErrorsCsvOptions,
) -> Result<(), Error> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let werr = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Write(io.kind()),
        _ => Error::Write(std::io::ErrorKind::Other),
    };
    match upload_header {
        Some(header) => {
            let mut cells: Vec<String> = header
                .iter()
                .map(|h| neutralise_cell(h).into_owned())
                .collect();
            cells.push("line".to_owned());
            cells.push("error".to_owned());
            w.write_record(&cells).map_err(werr)?;
            for r in rejections {
                let mut cells: Vec<String> = r
                    .row
                    .as_ref()
                    .map(|row| {
                        row.fields()
                            .iter()
                            .enumerate()
                            .map(|(i, f)| {
                                if row.secret_column() == Some(i) {
                                    if options.secrets {
                                        neutralise_cell(f).into_owned()
                                    } else {
                                        String::new()
                                    }
                                } else {
                                    neutralise_cell(&crate::redact::cell(f)).into_owned()
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                cells.resize(header.len().max(cells.len()), String::new());
                if !options.secrets {
                    for i in &secret_columns(header) {
                        if let Some(cell) = cells.get_mut(*i) {
                            zeroize::Zeroize::zeroize(cell);
                        }
                    }
                }
                cells.push(r.location.line().to_string());
                cells.push(neutralise_cell(&r.error.to_string()).into_owned());
                w.write_record(&cells).map_err(werr)?;
                for c in &mut cells {
                    zeroize::Zeroize::zeroize(c);
                }
            }
        }
        None => {
            w.write_record(["line", "package", "serial", "key_id", "error"])
                .map_err(werr)?;
            for r in rejections {
                let (package, serial, key_id) = match &r.location {
                    Location::KeyPackage {
                        index,
                        serial,
                        key_id,
                        ..
                    } => (
                        index.to_string(),
                        serial.as_deref().unwrap_or_default().to_owned(),
                        key_id.as_deref().unwrap_or_default().to_owned(),
                    ),
                    Location::Entry { entry, serial, .. } => (
                        entry.to_string(),
                        serial.as_deref().unwrap_or_default().to_owned(),
                        String::new(),
                    ),
                    Location::Row { serial, .. } => (
                        String::new(),
                        serial.as_deref().unwrap_or_default().to_owned(),
                        String::new(),
                    ),
                    Location::Document { .. } | Location::Position { .. } => {
                        (String::new(), String::new(), String::new())
                    }
                };
                w.write_record([
                    r.location.line().to_string(),
                    package,
                    neutralise_cell(&serial).into_owned(),
                    neutralise_cell(&key_id).into_owned(),
                    neutralise_cell(&r.error.to_string()).into_owned(),
                ])
                .map_err(werr)?;
            }
        }
    }
    w.flush().map_err(|e| Error::Write(e.kind()))?;
    Ok(())
}
