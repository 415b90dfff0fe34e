//! The two CSV token formats of SPEC §2: the on-premises server format
//! (serial, base32 secret, time interval; header optional; delimiter
//! detected) and the cloud format (header required:
//! `upn,serial number,secret key,time interval,manufacturer,model`).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, Read};

use mfa_oath::{Period, Secret};

use crate::{Error, ImportedToken, LimitKind, Limits, Location, RawRow, Rejection};

/// The longest base32 secret accepted (reference rule: 128 characters).
pub const MAX_SECRET_CHARS: usize = 128;

/// The cloud format's header, as documented.
pub const CLOUD_HEADER: &str = "upn,serial number,secret key,time interval,manufacturer,model";

/// Picks the delimiter from the first line: the most frequent of `,` `;`
/// and tab (comma when none appears).
fn detect_delimiter<R: BufRead>(input: &mut R) -> u8 {
    let buf = input.fill_buf().unwrap_or_default();
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let first = buf.get(..line_end).unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    let mut best = (b',', count(b','));
    for d in [b';', b'\t'] {
        let c = count(d);
        if c > best.1 {
            best = (d, c);
        }
    }
    best.0
}

/// A header name normalised: lower case, no spaces, dashes or underscores,
/// a UTF-8 BOM dropped.
fn norm(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn secret_from(field: &str) -> Result<Secret, Error> {
    let t = field.trim();
    if t.is_empty() {
        return Err(Error::EmptyField {
            column: "secret key",
        });
    }
    let chars = t.chars().count();
    if chars > MAX_SECRET_CHARS {
        return Err(Error::SecretTooLong { chars });
    }
    Ok(Secret::from_base32(t)?)
}

fn csv_error(e: &csv::Error) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        return Error::Io(io.kind());
    }
    Error::Csv {
        detail: e.to_string(),
    }
}

/// Remembers where the newlines are in the bytes the CSV parser has read
/// but not yet reported, so that a record's byte offset becomes a line
/// number (the csv crate's own line count is off after CRLF and blank
/// lines). Holds at most one read-ahead buffer's worth of offsets.
///
/// It also bounds memory: the csv crate buffers a whole record, so a record
/// may not span more than `max_record` bytes, nor the input more than the
/// document limit.
struct Lines<R> {
    inner: R,
    offset: u64,
    newlines: VecDeque<u64>,
    before: u64,
    record_start: u64,
    max_record: u64,
    max_total: u64,
    over: Option<(LimitKind, u64)>,
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset.saturating_sub(self.record_start) > self.max_record {
            self.over = Some((LimitKind::ValueBytes, self.max_record));
            return Err(io::Error::other("record size limit exceeded"));
        }
        if self.offset > self.max_total {
            self.over = Some((LimitKind::DocumentBytes, self.max_total));
            return Err(io::Error::other("document size limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        for (i, &b) in buf.get(..n).unwrap_or_default().iter().enumerate() {
            if b == b'\n' {
                self.newlines.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> Lines<R> {
    /// The 1-based line of a record starting at `offset` (offsets must not
    /// decrease). After a CR LF the csv crate reports the LF as the start.
    fn line_of(&mut self, offset: u64) -> u64 {
        while self.newlines.front().is_some_and(|&p| p <= offset) {
            self.newlines.pop_front();
            self.before += 1;
        }
        self.before + 1
    }
}

struct Rows<R: BufRead> {
    csv: csv::Reader<Lines<R>>,
    record: csv::StringRecord,
    rows: usize,
    limits: Limits,
    done: bool,
}

impl<R: BufRead> Rows<R> {
    fn new(mut input: R, limits: Limits) -> Rows<R> {
        let delimiter = detect_delimiter(&mut input);
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Lines {
                inner: input,
                offset: 0,
                newlines: VecDeque::new(),
                before: 0,
                record_start: 0,
                // A row of the formats has 3 to a handful of fields of at
                // most max_value_bytes each; allow generous room.
                max_record: (limits.max_value_bytes as u64)
                    .saturating_mul(8)
                    .saturating_add(4096),
                max_total: limits.max_document_bytes,
                over: None,
            });
        Rows {
            csv,
            record: csv::StringRecord::new(),
            rows: 0,
            limits,
            done: false,
        }
    }

    /// The next non-empty record and its line, or a fatal error.
    fn next_record(&mut self) -> Option<Result<u64, Rejection>> {
        if self.done {
            return None;
        }
        loop {
            match self.csv.read_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    let next_start = self.csv.position().byte();
                    self.csv.get_mut().record_start = next_start;
                    if self.record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    self.rows += 1;
                    let byte = self.record.position().map_or(0, csv::Position::byte);
                    let line = self.csv.get_mut().line_of(byte);
                    if self.rows > self.limits.max_packages {
                        self.done = true;
                        return Some(Err(Rejection::new(
                            Location::Document { line },
                            Error::LimitExceeded {
                                kind: LimitKind::Packages,
                                max: self.limits.max_packages as u64,
                            },
                        )));
                    }
                    if self
                        .record
                        .iter()
                        .any(|f| f.len() > self.limits.max_value_bytes)
                    {
                        self.done = true;
                        return Some(Err(Rejection::new(
                            Location::Document { line },
                            Error::LimitExceeded {
                                kind: LimitKind::ValueBytes,
                                max: self.limits.max_value_bytes as u64,
                            },
                        )));
                    }
                    return Some(Ok(line));
                }
                Err(e) => {
                    // Malformed quoting or bad UTF-8: we cannot trust where
                    // the following rows start, so stop here.
                    self.done = true;
                    let offset = match e.position() {
                        Some(p) => p.byte(),
                        None => self.csv.get_ref().record_start,
                    };
                    let line = self.csv.get_mut().line_of(offset);
                    let error = match self.csv.get_ref().over {
                        Some((kind, max)) => Error::LimitExceeded { kind, max },
                        None => csv_error(&e),
                    };
                    return Some(Err(Rejection::new(
                        Location::Position { line, offset },
                        error,
                    )));
                }
            }
        }
    }

    fn raw(&self, secret: Option<usize>) -> RawRow {
        RawRow {
            fields: self.record.iter().map(str::to_owned).collect(),
            secret,
        }
    }

    fn field(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("")
    }
}

/// Reader for the on-premises server format: rows of serial number, base32
/// secret and time interval (seconds), with or without a header row, the
/// delimiter (`,` `;` or tab) detected from the first line. Yields one
/// SHA-1, 6-digit TOTP token or one located rejection per row.
///
/// ```
/// use mfa_import::ServerCsvReader;
/// let csv = "serial;secret;interval\n1234567;JBSWY3DPEHPK3PXP;30\n7654321;JBSW1;60\n";
/// let rows: Vec<_> = ServerCsvReader::new(csv.as_bytes()).collect();
/// let token = rows[0].as_ref().unwrap();
/// assert_eq!(token.serial.as_deref(), Some("1234567"));
/// assert_eq!(token.period(), Some(30));
/// let bad = rows[1].as_ref().unwrap_err();
/// assert_eq!(bad.location.line(), 3);
/// assert_eq!(bad.to_string(),
///     "line 3 (serial \"7654321\"): invalid secret: invalid base32 encoding due to illegal character '1' at position 5");
/// ```
pub struct ServerCsvReader<R: BufRead> {
    rows: Rows<R>,
    header: Option<Vec<String>>,
    started: bool,
}

impl<R: BufRead> fmt::Debug for ServerCsvReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCsvReader")
            .field("rows", &self.rows.rows)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> ServerCsvReader<R> {
    /// A reader with the default [`Limits`].
    pub fn new(input: R) -> ServerCsvReader<R> {
        ServerCsvReader::with_limits(input, Limits::default())
    }

    /// A reader with explicit limits (`max_packages` bounds the rows,
    /// `max_value_bytes` each field).
    pub fn with_limits(input: R, limits: Limits) -> ServerCsvReader<R> {
        ServerCsvReader {
            rows: Rows::new(input, limits),
            header: None,
            started: false,
        }
    }

    /// The header row as uploaded, once it has been read (`None` if the file
    /// has none).
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    fn looks_like_header(&self) -> bool {
        let f0 = norm(self.rows.field(0));
        let f1 = norm(self.rows.field(1));
        let f2 = norm(self.rows.field(2));
        f0.contains("serial")
            || f1.contains("secret")
            || f2.contains("interval")
            || f2.contains("period")
    }

    fn row(&self, line: u64) -> Result<ImportedToken, Rejection> {
        let serial = self.rows.field(0).trim();
        let location = Location::Row {
            line,
            // A one-field row is a line of something else (maybe a bare
            // secret): it has no serial to show.
            serial: (!serial.is_empty() && self.rows.record.len() > 1)
                .then(|| Box::from(crate::redact::cell(serial).as_ref())),
        };
        let reject = |error| Rejection {
            location: location.clone(),
            error,
            row: Some(Box::new(self.rows.raw(Some(1)))),
        };
        let n = self.rows.record.len();
        if n != 3 {
            return Err(reject(Error::FieldCount {
                expected: 3,
                found: n,
            }));
        }
        if serial.is_empty() {
            return Err(reject(Error::EmptyField {
                column: "serial number",
            }));
        }
        let secret = secret_from(self.rows.field(1)).map_err(reject)?;
        let interval = self.rows.field(2).trim();
        let period = interval
            .parse::<u64>()
            .ok()
            .filter(|p| (1..=3600).contains(p))
            .and_then(|p| Period::new(p).ok())
            .ok_or_else(|| {
                reject(Error::InvalidInterval {
                    value: interval.chars().take(32).collect(),
                    allowed: "1 to 3600 seconds",
                })
            })?;
        let mut token = ImportedToken::totp(location.clone(), secret, period);
        token.raw = Some(Box::new(self.rows.raw(Some(1))));
        Ok(token)
    }
}

impl<R: BufRead> Iterator for ServerCsvReader<R> {
    type Item = Result<ImportedToken, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.rows.next_record()? {
            Ok(line) => line,
            Err(r) => return Some(Err(r)),
        };
        if !self.started {
            self.started = true;
            if self.looks_like_header() {
                self.header = Some(self.rows.record.iter().map(str::to_owned).collect());
                self.rows.rows -= 1;
                return self.next();
            }
        }
        Some(self.row(line))
    }
}

/// Column positions of the cloud format.
#[derive(Clone, Copy)]
struct CloudColumns {
    upn: usize,
    serial: usize,
    secret: usize,
    interval: usize,
    manufacturer: usize,
    model: usize,
}

/// Reader for the cloud format: a header row is required with the columns
/// `upn,serial number,secret key,time interval,manufacturer,model` (any
/// order; case and spacing in names tolerated, `timeinterval` accepted;
/// other columns such as `Enabled` are ignored and listed by
/// [`CloudCsvReader::ignored_columns`]). Secrets per SPEC §1 (at most 128
/// base32 characters), time interval 30 or 60. Yields one SHA-1, 6-digit
/// TOTP token (with its user) or one located rejection per row.
///
/// ```
/// use mfa_import::CloudCsvReader;
/// let csv = "upn,serial number,secret key,time interval,manufacturer,model\n\
///            Helga@contoso.com,1234567,2234567abcdef2234567abcdef,60,Contoso,HardwareKey\n\
///            Helga@contoso.com,1234568,1234567abcdef1234567abcdef,60,Contoso,HardwareKey\n";
/// let rows: Vec<_> = CloudCsvReader::new(csv.as_bytes()).collect();
/// let t = rows[0].as_ref().unwrap();
/// assert_eq!(t.user.as_deref(), Some("Helga@contoso.com"));
/// assert_eq!(t.period(), Some(60));
/// // The old documentation's example row is not base32 (it holds a `1`).
/// assert!(rows[1].as_ref().unwrap_err().to_string().contains("illegal character '1' at position 1"));
/// ```
pub struct CloudCsvReader<R: BufRead> {
    rows: Rows<R>,
    header: Option<Vec<String>>,
    columns: Option<CloudColumns>,
    ignored: Vec<String>,
    failed: bool,
}

impl<R: BufRead> fmt::Debug for CloudCsvReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudCsvReader")
            .field("rows", &self.rows.rows)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> CloudCsvReader<R> {
    /// A reader with the default [`Limits`].
    pub fn new(input: R) -> CloudCsvReader<R> {
        CloudCsvReader::with_limits(input, Limits::default())
    }

    /// A reader with explicit limits.
    pub fn with_limits(input: R, limits: Limits) -> CloudCsvReader<R> {
        CloudCsvReader {
            rows: Rows::new(input, limits),
            header: None,
            columns: None,
            ignored: Vec::new(),
            failed: false,
        }
    }

    /// The header row as uploaded, once read.
    pub fn header(&self) -> Option<&[String]> {
        self.header.as_deref()
    }

    /// Header columns that are not part of the format and were ignored
    /// (a warning for the administrator), once the header has been read.
    pub fn ignored_columns(&self) -> &[String] {
        &self.ignored
    }

    fn read_header(&mut self, line: u64) -> Result<(), Rejection> {
        let fatal = |error| Rejection::new(Location::Document { line }, error);
        let names: Vec<String> = self.rows.record.iter().map(norm).collect();
        let known = [
            "upn",
            "serialnumber",
            "secretkey",
            "timeinterval",
            "manufacturer",
            "model",
        ];
        if !names.iter().any(|n| known.contains(&n.as_str())) {
            return Err(fatal(Error::MissingHeader {
                expected: CLOUD_HEADER,
            }));
        }
        let find = |want: &'static str, column: &'static str| -> Result<usize, Rejection> {
            let mut hits = names.iter().enumerate().filter(|(_, n)| n.as_str() == want);
            let first = hits
                .next()
                .map(|(i, _)| i)
                .ok_or_else(|| fatal(Error::MissingColumn { column }))?;
            if hits.next().is_some() {
                return Err(fatal(Error::DuplicateColumn { column }));
            }
            Ok(first)
        };
        let columns = CloudColumns {
            upn: find("upn", "upn")?,
            serial: find("serialnumber", "serial number")?,
            secret: find("secretkey", "secret key")?,
            interval: find("timeinterval", "time interval")?,
            manufacturer: find("manufacturer", "manufacturer")?,
            model: find("model", "model")?,
        };
        self.ignored = self
            .rows
            .record
            .iter()
            .zip(&names)
            .filter(|(_, n)| !known.contains(&n.as_str()))
            .map(|(raw, _)| raw.to_owned())
            .collect();
        self.header = Some(self.rows.record.iter().map(str::to_owned).collect());
        self.columns = Some(columns);
        Ok(())
    }

    fn row(&self, c: CloudColumns, line: u64) -> Result<ImportedToken, Rejection> {
        let serial = self.rows.field(c.serial).trim();
        let location = Location::Row {
            line,
            // A one-field row is a line of something else (maybe a bare
            // secret): it has no serial to show.
            serial: (!serial.is_empty() && self.rows.record.len() > 1)
                .then(|| Box::from(crate::redact::cell(serial).as_ref())),
        };
        let reject = |error| Rejection {
            location: location.clone(),
            error,
            row: Some(Box::new(self.rows.raw(Some(c.secret)))),
        };
        let expected = self.header.as_ref().map_or(6, Vec::len);
        let n = self.rows.record.len();
        if n != expected {
            return Err(reject(Error::FieldCount { expected, found: n }));
        }
        let upn = self.rows.field(c.upn).trim();
        if upn.is_empty() {
            return Err(reject(Error::EmptyField { column: "upn" }));
        }
        if serial.is_empty() {
            return Err(reject(Error::EmptyField {
                column: "serial number",
            }));
        }
        let secret = secret_from(self.rows.field(c.secret)).map_err(reject)?;
        let interval = self.rows.field(c.interval).trim();
        let period = match interval {
            "30" => Period::THIRTY,
            "60" => Period::SIXTY,
            other => {
                return Err(reject(Error::InvalidInterval {
                    value: other.chars().take(32).collect(),
                    allowed: "30 or 60",
                }));
            }
        };
        let mut token = ImportedToken::totp(location.clone(), secret, period);
        token.user = Some(upn.to_owned());
        let opt = |i: usize| {
            let v = self.rows.field(i).trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        token.manufacturer = opt(c.manufacturer);
        token.model = opt(c.model);
        token.raw = Some(Box::new(self.rows.raw(Some(c.secret))));
        Ok(token)
    }
}

impl<R: BufRead> Iterator for CloudCsvReader<R> {
    type Item = Result<ImportedToken, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let line = match self.rows.next_record()? {
            Ok(line) => line,
            Err(r) => return Some(Err(r)),
        };
        let Some(columns) = self.columns else {
            if let Err(r) = self.read_header(line) {
                self.failed = true;
                return Some(Err(r));
            }
            self.rows.rows -= 1;
            return self.next();
        };
        Some(self.row(columns, line))
    }
}
