//! The authentication log as CSV.

use std::borrow::Cow;
use std::io;
use std::net::IpAddr;

use mfa_oath::UnixTime;

use crate::{
    AuthEvent, AuthMode, AuthResult, DenialKind, DenialReason, DeviceTokenExport, Email, Error,
    Field, FieldPolicy, PersonName, PhoneExport, ServerName, UserId,
};

/// Makes a cell safe to open in a spreadsheet (see [`mfa_csv`], the one
/// guard shared with mfa-import): a cell that starts with `=`, `+`, `-`,
/// `@`, tab, carriage return, line feed, `'` or a full-width `＝ ＋ － ＠`
/// gets a leading `'`, so it is shown as text instead of being evaluated as
/// a formula; [`unneutralise_cell`] restores every value exactly.
///
/// ```
/// use mfa_record::{neutralise_cell, unneutralise_cell};
/// assert_eq!(neutralise_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(neutralise_cell("+14255551234"), "'+14255551234");
/// assert_eq!(neutralise_cell("helga"), "helga");
/// assert_eq!(unneutralise_cell(&neutralise_cell("'quoted")), "'quoted");
/// ```
pub fn neutralise_cell(value: &str) -> Cow<'_, str> {
    mfa_csv::neutralise_cell(value)
}

/// Undoes [`neutralise_cell`]: removes one leading `'`.
pub fn unneutralise_cell(cell: &str) -> &str {
    mfa_csv::unneutralise_cell(cell)
}

/// One row of an exported authentication log: an [`AuthEvent`] as the
/// [`FieldPolicy`] lets it be shown — switched-off fields absent, the phone
/// number masked and the device token hashed unless the policy says
/// otherwise.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use mfa_oath::UnixTime;
/// use mfa_record::{
///     AuthAttempt, AuthEvent, AuthMode, AuthResult, DeviceToken, FieldPolicy, LogRow,
///     ServerName, UserId,
/// };
///
/// let mut attempt = AuthAttempt::new(
///     UnixTime::from_secs(1_700_000_000),
///     UserId::new("helga")?,
///     AuthMode::MobileAppNotification,
///     AuthResult::Success,
///     ServerName::new("mfa01")?,
///     IpAddr::V4(Ipv4Addr::LOCALHOST),
/// );
/// attempt.device_token = Some(DeviceToken::new("abc")?);
/// let policy = FieldPolicy::default();
/// let row = LogRow::from_event(&AuthEvent::record(attempt, &policy)?, &policy);
/// assert_eq!(
///     row.device_token.as_deref(),
///     Some("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
/// );
/// # Ok::<(), mfa_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogRow {
    /// When the authentication happened.
    pub time: UnixTime,
    /// The user's unique ID.
    pub user: UserId,
    /// First name, if recorded and exported.
    pub first_name: Option<PersonName>,
    /// Last name, if recorded and exported.
    pub last_name: Option<PersonName>,
    /// E-mail address, if recorded and exported.
    pub email: Option<Email>,
    /// The phone number as exported (masked by default).
    pub phone: Option<String>,
    /// The device token as exported (`sha256:<hex>` by default).
    pub device_token: Option<String>,
    /// The authentication mode.
    pub mode: AuthMode,
    /// Success, or denied with the reason.
    pub result: AuthResult,
    /// The MFA server's name.
    pub server_name: ServerName,
    /// The MFA server's IP.
    pub server_ip: IpAddr,
    /// The client's IP, if available, recorded and exported.
    pub client_ip: Option<IpAddr>,
}

impl LogRow {
    /// The longest exported phone or device token cell accepted when
    /// reading, in characters.
    pub const MAX_EXPORTED_LEN: usize = 4200;

    /// `event` as `policy` lets it be exported. The policy is applied again
    /// here, so a field switched off after the event was stored is not
    /// exported either.
    pub fn from_event(event: &AuthEvent, policy: &FieldPolicy) -> LogRow {
        let phone = event
            .phone()
            .filter(|_| policy.phone)
            .map(|p| match policy.phone_export {
                PhoneExport::Masked => p.masked(),
                PhoneExport::Full => p.as_str().to_owned(),
            });
        let device_token =
            event
                .device_token()
                .filter(|_| policy.device_token)
                .map(|t| match policy.device_token_export {
                    DeviceTokenExport::Hashed => format!("sha256:{}", t.sha256_hex()),
                    DeviceTokenExport::Full => t.as_str().to_owned(),
                });
        LogRow {
            time: event.time(),
            user: event.user().clone(),
            first_name: event.first_name().filter(|_| policy.name).cloned(),
            last_name: event.last_name().filter(|_| policy.name).cloned(),
            email: event.email().filter(|_| policy.email).cloned(),
            phone,
            device_token,
            mode: event.mode(),
            result: *event.result(),
            server_name: event.server_name().clone(),
            server_ip: event.server_ip(),
            client_ip: event.client_ip().filter(|_| policy.client_ip),
        }
    }
}

/// The CSV columns, in order; optional ones are left out when the policy
/// switches them off.
const COLUMNS: [Field; 15] = [
    Field::Time,
    Field::TimeUtc,
    Field::UserId,
    Field::FirstName,
    Field::LastName,
    Field::Email,
    Field::Phone,
    Field::DeviceToken,
    Field::Mode,
    Field::Result,
    Field::Reason,
    Field::ReasonDetail,
    Field::ServerName,
    Field::ServerIp,
    Field::ClientIp,
];

fn columns(policy: &FieldPolicy) -> Vec<Field> {
    COLUMNS.into_iter().filter(|f| policy.records(*f)).collect()
}

/// `t` as `YYYY-MM-DDThh:mm:ssZ` (proleptic Gregorian calendar, UTC; years
/// past 9999 get more digits): [`mfa_time::UnixTime::rfc3339`], the
/// workspace's one calendar.
///
/// ```
/// use mfa_oath::UnixTime;
/// assert_eq!(mfa_record::utc(UnixTime::from_secs(1_700_000_000)), "2023-11-14T22:13:20Z");
/// ```
pub fn utc(t: UnixTime) -> String {
    t.rfc3339().to_string()
}

fn csv_error(e: csv::Error) -> Error {
    Error::Io(io::Error::from(e))
}

fn result_code(r: &AuthResult) -> &'static str {
    match r {
        AuthResult::Success => "success",
        AuthResult::Denied(_) => "denied",
    }
}

fn cell(row: &LogRow, column: Field) -> Cow<'_, str> {
    fn opt<T: AsRef<str>>(v: Option<&T>) -> Cow<'_, str> {
        v.map_or(Cow::Borrowed(""), |v| Cow::Borrowed(v.as_ref()))
    }
    match column {
        Field::Time => Cow::Owned(row.time.secs().to_string()),
        Field::TimeUtc => Cow::Owned(utc(row.time)),
        Field::UserId => Cow::Borrowed(row.user.as_str()),
        Field::FirstName => opt(row.first_name.as_ref()),
        Field::LastName => opt(row.last_name.as_ref()),
        Field::Email => opt(row.email.as_ref()),
        Field::Phone => opt(row.phone.as_ref()),
        Field::DeviceToken => opt(row.device_token.as_ref()),
        Field::Mode => Cow::Borrowed(row.mode.as_str()),
        Field::Result => Cow::Borrowed(result_code(&row.result)),
        Field::Reason => Cow::Borrowed(row.result.denial().map_or("", |r| r.kind().as_str())),
        Field::ReasonDetail => row
            .result
            .denial()
            .and_then(DenialReason::detail)
            .map_or(Cow::Borrowed(""), |d| Cow::Owned(d.to_string())),
        Field::ServerName => Cow::Borrowed(row.server_name.as_str()),
        Field::ServerIp => Cow::Owned(row.server_ip.to_string()),
        Field::ClientIp => row
            .client_ip
            .map_or(Cow::Borrowed(""), |ip| Cow::Owned(ip.to_string())),
        _ => Cow::Borrowed(""),
    }
}

/// Writes the authentication log as CSV: a header row, then one row per
/// event. Columns a [`FieldPolicy`] switches off are left out entirely;
/// every cell is passed through [`neutralise_cell`], so no cell can start a
/// spreadsheet formula.
///
/// Columns: `time` (Unix seconds), `time_utc` (the same as
/// `YYYY-MM-DDThh:mm:ssZ`, for people; checked but not needed when reading),
/// `user_id`, `first_name`, `last_name`,
/// `email`, `phone`, `device_token`, `mode` ([`AuthMode::as_str`]), `result`
/// (`success` or `denied`), `reason` ([`DenialKind::as_str`]),
/// `reason_detail` ([`DenialReason::detail`]), `server_name`, `server_ip`,
/// `client_ip`.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use mfa_oath::UnixTime;
/// use mfa_record::{
///     AuthAttempt, AuthEvent, AuthMode, AuthResult, DenialReason, FieldPolicy, LogCsvWriter,
///     ServerName, UserId,
/// };
///
/// let attempt = AuthAttempt::new(
///     UnixTime::from_secs(1_700_000_000),
///     UserId::new("=cmd|' /C calc'!A0")?,
///     AuthMode::OathCode,
///     AuthResult::Denied(DenialReason::Locked { until: UnixTime::from_secs(1_700_000_900) }),
///     ServerName::new("mfa01")?,
///     IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
/// );
/// let policy = FieldPolicy::minimal();
/// let mut w = LogCsvWriter::new(Vec::new(), &policy)?;
/// w.write(&AuthEvent::record(attempt, &policy)?)?;
/// let csv = String::from_utf8(w.finish()?).unwrap();
/// assert_eq!(
///     csv,
///     "time,time_utc,user_id,mode,result,reason,reason_detail,server_name,server_ip\n\
///      1700000000,2023-11-14T22:13:20Z,'=cmd|' /C calc'!A0,oath_code,denied,locked,1700000900,\
///      mfa01,10.0.0.5\n"
/// );
/// # Ok::<(), mfa_record::Error>(())
/// ```
pub struct LogCsvWriter<W: io::Write> {
    writer: csv::Writer<W>,
    policy: FieldPolicy,
    columns: Vec<Field>,
}

impl<W: io::Write> LogCsvWriter<W> {
    /// Starts a log export to `out` and writes the header row.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing fails.
    pub fn new(out: W, policy: &FieldPolicy) -> Result<LogCsvWriter<W>, Error> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let columns = columns(policy);
        writer
            .write_record(columns.iter().map(|c| c.column_name()))
            .map_err(csv_error)?;
        Ok(LogCsvWriter {
            writer,
            policy: *policy,
            columns,
        })
    }

    /// Writes one event.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing fails.
    pub fn write(&mut self, event: &AuthEvent) -> Result<(), Error> {
        self.write_row(&LogRow::from_event(event, &self.policy))
    }

    /// Writes one row. Fields the writer's policy switches off are not
    /// written even if the row has them.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing fails.
    pub fn write_row(&mut self, row: &LogRow) -> Result<(), Error> {
        let cells = self.columns.iter().map(|c| match cell(row, *c) {
            Cow::Borrowed(v) => neutralise_cell(v),
            Cow::Owned(v) => match neutralise_cell(&v) {
                Cow::Borrowed(_) => Cow::Owned(v),
                Cow::Owned(n) => Cow::Owned(n),
            },
        });
        self.writer
            .write_record(cells.map(|c| match c {
                Cow::Borrowed(v) => Cow::Borrowed(v.as_bytes()),
                Cow::Owned(v) => Cow::Owned(v.into_bytes()),
            }))
            .map_err(csv_error)
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if flushing fails.
    pub fn finish(self) -> Result<W, Error> {
        self.writer
            .into_inner()
            .map_err(|e| Error::Io(e.into_error()))
    }
}

/// Writes `events` as a CSV log to `out` (see [`LogCsvWriter`]) and returns
/// how many rows were written.
///
/// # Errors
///
/// [`Error::Io`] if writing fails.
pub fn write_log_csv<'a, W: io::Write>(
    out: W,
    events: impl IntoIterator<Item = &'a AuthEvent>,
    policy: &FieldPolicy,
) -> Result<usize, Error> {
    let mut w = LogCsvWriter::new(out, policy)?;
    let mut n = 0;
    for e in events {
        w.write(e)?;
        n += 1;
    }
    w.finish()?;
    Ok(n)
}

/// Limits for [`read_log_csv`], with safe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvLimits {
    /// The most bytes read (default 256 MiB).
    pub max_bytes: u64,
    /// The most data rows (default 1 000 000).
    pub max_rows: usize,
}

impl Default for CsvLimits {
    fn default() -> Self {
        CsvLimits {
            max_bytes: 256 * 1024 * 1024,
            max_rows: 1_000_000,
        }
    }
}

/// A reader that stops at a byte limit and remembers that it did.
struct Limited<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: io::Read> io::Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Probe one byte to tell "exactly at the limit" from "over it".
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.exceeded = true;
            }
            return Ok(0);
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(buf.get_mut(..max).unwrap_or_default())?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads a CSV log written by [`LogCsvWriter`] (or by hand, with the same
/// columns in any order) back into rows. The optional columns may be
/// missing; cells are un-neutralised ([`unneutralise_cell`]) and validated
/// like the values they came from.
///
/// Nothing half-read: either every row or an error naming the line and
/// column.
///
/// # Errors
///
/// [`Error::UnknownColumn`], [`Error::DuplicateColumn`],
/// [`Error::MissingColumn`] for the header; [`Error::CsvCellCount`],
/// [`Error::CsvUtf8`] and [`Error::CsvCell`] (with the line, the column and
/// the value's own error) for rows; [`Error::InputTooLarge`] and
/// [`Error::TooManyRows`] past the limits; [`Error::Io`] if reading fails.
///
/// ```
/// use mfa_record::{read_log_csv, AuthMode, CsvLimits, DenialReason};
/// let csv = "time,user_id,mode,result,reason,reason_detail,server_name,server_ip\n\
///            1700000000,helga,sms_one_way,denied,code_expired,,mfa01,10.0.0.5\n";
/// let rows = read_log_csv(csv.as_bytes(), &CsvLimits::default())?;
/// assert_eq!(rows[0].mode, AuthMode::SmsOneWay);
/// assert_eq!(rows[0].result.denial(), Some(&DenialReason::CodeExpired));
/// # Ok::<(), mfa_record::Error>(())
/// ```
pub fn read_log_csv<R: io::Read>(input: R, limits: &CsvLimits) -> Result<Vec<LogRow>, Error> {
    let limited = Limited {
        inner: input,
        left: limits.max_bytes,
        exceeded: false,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(limited);
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    let mut header: Option<Vec<Field>> = None;
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(match e.into_kind() {
                    csv::ErrorKind::Utf8 { .. } => Error::CsvUtf8 { line },
                    csv::ErrorKind::Io(io) => Error::Io(io),
                    other => Error::Io(io::Error::other(format!("{other:?}"))),
                });
            }
        };
        if reader.get_ref().exceeded {
            return Err(Error::InputTooLarge {
                max_bytes: limits.max_bytes,
            });
        }
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv::Position::line);
        match &header {
            None => header = Some(parse_header(&record)?),
            Some(columns) => {
                if record.len() != columns.len() {
                    return Err(Error::CsvCellCount {
                        line,
                        expected: columns.len(),
                        found: record.len(),
                    });
                }
                if rows.len() >= limits.max_rows {
                    return Err(Error::TooManyRows {
                        max_rows: limits.max_rows,
                    });
                }
                rows.push(parse_row(columns, &record, line)?);
            }
        }
    }
    if reader.get_ref().exceeded {
        return Err(Error::InputTooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    if header.is_none() {
        return Err(Error::MissingColumn {
            column: Field::Time,
        });
    }
    Ok(rows)
}

fn parse_header(record: &csv::StringRecord) -> Result<Vec<Field>, Error> {
    let mut columns = Vec::with_capacity(record.len());
    for (i, name) in record.iter().enumerate() {
        let name = unneutralise_cell(name);
        let field = COLUMNS
            .into_iter()
            .find(|f| f.column_name() == name)
            .ok_or_else(|| Error::UnknownColumn {
                name: name.chars().take(Error::MAX_QUOTED_CHARS).collect(),
                index: i + 1,
            })?;
        if columns.contains(&field) {
            return Err(Error::DuplicateColumn { column: field });
        }
        columns.push(field);
    }
    for f in COLUMNS {
        if !f.is_optional() && f != Field::TimeUtc && !columns.contains(&f) {
            return Err(Error::MissingColumn { column: f });
        }
    }
    Ok(columns)
}

fn exported_text(field: Field, s: &str) -> Result<String, Error> {
    if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(Error::InvalidCharacter {
            field,
            ch,
            position: i + 1,
        });
    }
    let len = s.chars().count();
    if len > LogRow::MAX_EXPORTED_LEN {
        return Err(Error::TooLong {
            field,
            len,
            max: LogRow::MAX_EXPORTED_LEN,
        });
    }
    Ok(s.to_owned())
}

fn parse_row(columns: &[Field], record: &csv::StringRecord, line: u64) -> Result<LogRow, Error> {
    #[derive(Default)]
    struct Cells<'a> {
        time: &'a str,
        time_utc: Option<&'a str>,
        user: &'a str,
        first: &'a str,
        last: &'a str,
        email: &'a str,
        phone: &'a str,
        device: &'a str,
        mode: &'a str,
        result: &'a str,
        reason: &'a str,
        detail: &'a str,
        server_name: &'a str,
        server_ip: &'a str,
        client_ip: &'a str,
    }
    let mut c = Cells::default();
    for (field, raw) in columns.iter().zip(record.iter()) {
        let v = unneutralise_cell(raw);
        match field {
            Field::Time => c.time = v,
            Field::TimeUtc => c.time_utc = Some(v),
            Field::UserId => c.user = v,
            Field::FirstName => c.first = v,
            Field::LastName => c.last = v,
            Field::Email => c.email = v,
            Field::Phone => c.phone = v,
            Field::DeviceToken => c.device = v,
            Field::Mode => c.mode = v,
            Field::Result => c.result = v,
            Field::Reason => c.reason = v,
            Field::ReasonDetail => c.detail = v,
            Field::ServerName => c.server_name = v,
            Field::ServerIp => c.server_ip = v,
            Field::ClientIp => c.client_ip = v,
            _ => {}
        }
    }
    let at = |column: Field| move |e: Error| Error::cell(line, column, e);
    let invalid = Error::invalid_value;
    let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());

    let time = c
        .time
        .parse::<u64>()
        .map(UnixTime::from_secs)
        .map_err(|_| invalid(c.time))
        .map_err(at(Field::Time))?;
    if let Some(shown) = c.time_utc.filter(|shown| *shown != utc(time)) {
        return Err(Error::cell(line, Field::TimeUtc, invalid(shown)));
    }
    let user = UserId::new(c.user).map_err(at(Field::UserId))?;
    let first_name = optional(c.first)
        .map(PersonName::new)
        .transpose()
        .map_err(at(Field::FirstName))?;
    let last_name = optional(c.last)
        .map(PersonName::new)
        .transpose()
        .map_err(at(Field::LastName))?;
    let email = optional(c.email)
        .map(Email::new)
        .transpose()
        .map_err(at(Field::Email))?;
    let mode = c.mode.parse::<AuthMode>().map_err(at(Field::Mode))?;
    let phone = optional(c.phone)
        .map(|p| exported_text(Field::Phone, &p))
        .transpose()
        .map_err(at(Field::Phone))?;
    if phone.is_some() && !mode.uses_phone() {
        return Err(Error::cell(
            line,
            Field::Phone,
            Error::FieldNotApplicable {
                field: Field::Phone,
                mode,
            },
        ));
    }
    let device_token = optional(c.device)
        .map(|t| exported_text(Field::DeviceToken, &t))
        .transpose()
        .map_err(at(Field::DeviceToken))?;
    if device_token.is_some() && !mode.uses_device_token() {
        return Err(Error::cell(
            line,
            Field::DeviceToken,
            Error::FieldNotApplicable {
                field: Field::DeviceToken,
                mode,
            },
        ));
    }
    let detail = optional(c.detail)
        .map(|d| d.parse::<u64>().map_err(|_| invalid(&d)))
        .transpose()
        .map_err(at(Field::ReasonDetail))?;
    let result = match (c.result, c.reason) {
        ("success", "") if detail.is_none() => AuthResult::Success,
        ("success", _) => return Err(Error::cell(line, Field::Reason, Error::InconsistentResult)),
        ("denied", "") => return Err(Error::cell(line, Field::Reason, Error::InconsistentResult)),
        ("denied", reason) => {
            let kind = reason.parse::<DenialKind>().map_err(at(Field::Reason))?;
            AuthResult::Denied(
                DenialReason::from_parts(kind, detail).map_err(at(Field::ReasonDetail))?,
            )
        }
        (other, _) => return Err(Error::cell(line, Field::Result, invalid(other))),
    };
    let server_name = ServerName::new(c.server_name).map_err(at(Field::ServerName))?;
    let server_ip = c
        .server_ip
        .parse::<IpAddr>()
        .map_err(|_| invalid(c.server_ip))
        .map_err(at(Field::ServerIp))?;
    let client_ip = optional(c.client_ip)
        .map(|ip| ip.parse::<IpAddr>().map_err(|_| invalid(&ip)))
        .transpose()
        .map_err(at(Field::ClientIp))?;
    Ok(LogRow {
        time,
        user,
        first_name,
        last_name,
        email,
        phone,
        device_token,
        mode,
        result,
        server_name,
        server_ip,
        client_ip,
    })
}
