#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

use jiff::civil;
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;

/// A point in time as whole seconds since the Unix epoch.
///
/// No mfa-kit crate below the front ends reads a clock: callers pass the
/// time in, so tests and replays are deterministic.
///
/// ```
/// use mfa_time::UnixTime;
/// let t = UnixTime::from_secs(59);
/// assert_eq!(t.secs(), 59);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The epoch itself.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn from_secs(secs: u64) -> UnixTime {
        UnixTime(secs)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// Parses an RFC 3339 time with its offset (`2024-02-29T12:00:00Z`,
    /// `2024-02-29T13:00:00+01:00`); a fraction of a second is dropped and a
    /// leap second (`:60`) counts as `:59`.
    ///
    /// ```
    /// use mfa_time::UnixTime;
    /// let t = UnixTime::parse_rfc3339("2023-11-14T23:13:20+01:00")?;
    /// assert_eq!(t.secs(), 1_700_000_000);
    /// # Ok::<(), mfa_time::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TimeSyntax`] for anything else (a missing offset included),
    /// [`Error::InvalidDate`] for a day the calendar does not have,
    /// [`Error::BeforeEpoch`] for a time before 1970.
    pub fn parse_rfc3339(text: &str) -> Result<UnixTime, Error> {
        let pieces = pieces(text)?;
        // RFC 3339's full-time: `hh:mm:ss` after `T` (or `t`, or a space).
        let b = text.as_bytes();
        let clock = b.get(10..19).is_some_and(|c| {
            c.iter().enumerate().all(|(i, x)| match i {
                0 => matches!(x, b'T' | b't' | b' '),
                3 | 6 => *x == b':',
                _ => x.is_ascii_digit(),
            })
        });
        if !clock || pieces.offset().is_none() || pieces.time().is_none() {
            return Err(Error::TimeSyntax);
        }
        UnixTime::try_from_signed(seconds_of(&pieces)?)
    }

    /// Parses a date `YYYY-MM-DD` (exactly four, two and two digits) as the
    /// midnight (UTC) it starts with.
    ///
    /// ```
    /// use mfa_time::{Error, UnixTime};
    /// assert_eq!(UnixTime::parse_date("2024-02-29")?.secs(), 1_709_164_800);
    /// assert!(matches!(UnixTime::parse_date("2024-02-31"), Err(Error::InvalidDate { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Date::parse`], and [`Error::BeforeEpoch`] for a day before 1970.
    pub fn parse_date(text: &str) -> Result<UnixTime, Error> {
        Date::parse(text)?.midnight()
    }

    /// The calendar day (UTC, proleptic Gregorian) this time falls on.
    ///
    /// ```
    /// use mfa_time::UnixTime;
    /// let d = UnixTime::from_secs(1_709_164_800 + 86_399).date();
    /// assert_eq!((d.year(), d.month(), d.day()), (2024, 2, 29));
    /// ```
    pub fn date(self) -> Date {
        self.civil().0
    }

    /// This time as `YYYY-MM-DDThh:mm:ssZ` (RFC 3339, UTC). Years past 9999
    /// get more digits.
    ///
    /// ```
    /// use mfa_time::UnixTime;
    /// let t = UnixTime::from_secs(1_700_000_000);
    /// assert_eq!(t.rfc3339().to_string(), "2023-11-14T22:13:20Z");
    /// ```
    pub fn rfc3339(self) -> Rfc3339 {
        Rfc3339(self)
    }

    /// The time as people read it in messages and reports:
    /// `YYYY-MM-DD hh:mm:ss UTC`; [`Utc::minutes`] drops the seconds.
    ///
    /// ```
    /// use mfa_time::UnixTime;
    /// let t = UnixTime::from_secs(1_700_000_000);
    /// assert_eq!(t.utc().to_string(), "2023-11-14 22:13:20 UTC");
    /// assert_eq!(t.utc().minutes().to_string(), "2023-11-14 22:13 UTC");
    /// ```
    pub fn utc(self) -> Utc {
        Utc {
            time: self,
            seconds: true,
        }
    }

    fn try_from_signed(secs: i64) -> Result<UnixTime, Error> {
        u64::try_from(secs)
            .map(UnixTime)
            .map_err(|_| Error::BeforeEpoch { secs })
    }

    /// The civil date and time of day (hour, minute, second).
    fn civil(self) -> (Date, [u8; 3]) {
        // jiff's calendar ends with 9999; the Gregorian calendar repeats
        // every 400 years (146,097 days exactly), so a later time is shifted
        // back by whole cycles and the year shifted forward again.
        let over = self.0.saturating_sub(MAX_JIFF_SECS);
        let cycles = over.div_ceil(CYCLE_SECS);
        let secs = self.0 - cycles * CYCLE_SECS;
        #[allow(clippy::expect_used)]
        let ts = i64::try_from(secs)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .expect("0 <= secs <= MAX_JIFF_SECS, inside jiff's range");
        let (mut date, clock) = utc_parts(ts);
        date.year += 400 * i64::try_from(cycles).unwrap_or(i64::MAX / 800);
        (date, clock)
    }
}

/// The UTC date and time of day (hour, minute, second) of a jiff
/// timestamp: the one place that reads jiff's civil fields.
fn utc_parts(ts: jiff::Timestamp) -> (Date, [u8; 3]) {
    let dt = Offset::UTC.to_datetime(ts);
    (
        Date {
            year: i64::from(dt.year()),
            month: unsigned(dt.month()),
            day: unsigned(dt.day()),
        },
        [
            unsigned(dt.hour()),
            unsigned(dt.minute()),
            unsigned(dt.second()),
        ],
    )
}

impl From<u64> for UnixTime {
    fn from(secs: u64) -> Self {
        UnixTime(secs)
    }
}

/// 9999-12-30T22:00:00Z, the last second of jiff's `Timestamp` (its civil
/// calendar goes to 9999-12-31, so that every offset fits).
const MAX_JIFF_SECS: u64 = 253_402_207_200;
/// 400 Gregorian years in seconds.
const CYCLE_SECS: u64 = 146_097 * 86_400;

/// jiff's month, day, hour, minute and second are small and non-negative.
fn unsigned(v: i8) -> u8 {
    u8::try_from(v).unwrap_or(0)
}

/// [`UnixTime::rfc3339`]: displays as `YYYY-MM-DDThh:mm:ssZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(UnixTime);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, [h, mi, s]) = self.0.civil();
        write!(f, "{d}T{h:02}:{mi:02}:{s:02}Z")
    }
}

/// [`UnixTime::utc`]: displays as `YYYY-MM-DD hh:mm:ss UTC`, or without
/// the seconds after [`Utc::minutes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    time: UnixTime,
    seconds: bool,
}

impl Utc {
    /// The same time to the minute (`YYYY-MM-DD hh:mm UTC`), for messages
    /// such as "locked until".
    pub fn minutes(self) -> Utc {
        Utc {
            seconds: false,
            ..self
        }
    }
}

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (d, [h, mi, s]) = self.time.civil();
        if self.seconds {
            write!(f, "{d} {h:02}:{mi:02}:{s:02} UTC")
        } else {
            write!(f, "{d} {h:02}:{mi:02} UTC")
        }
    }
}

/// Writes seconds since the epoch (negative before 1970) as an XML Schema
/// `xs:dateTime` in UTC, `YYYY-MM-DDThh:mm:ssZ`: the form
/// [`parse_timestamp`] reads back.
///
/// ```
/// assert_eq!(mfa_time::format_timestamp(1_146_441_600)?.to_string(), "2006-05-01T00:00:00Z");
/// assert_eq!(mfa_time::format_timestamp(-1)?.to_string(), "1969-12-31T23:59:59Z");
/// let back = mfa_time::format_timestamp(-86_399)?.to_string();
/// assert_eq!(mfa_time::parse_timestamp(&back)?, -86_399);
/// assert!(mfa_time::format_timestamp(i64::MIN).is_err());
/// # Ok::<(), mfa_time::Error>(())
/// ```
///
/// # Errors
/// [`Error::OutOfRange`] for a time outside the years 0 to 9999 (which
/// [`parse_timestamp`] never returns).
pub fn format_timestamp(secs: i64) -> Result<Timestamp, Error> {
    let ts = jiff::Timestamp::from_second(secs).map_err(|_| Error::OutOfRange { secs })?;
    let (date, clock) = utc_parts(ts);
    if date.year < 0 {
        return Err(Error::OutOfRange { secs });
    }
    Ok(Timestamp { date, clock })
}

/// [`format_timestamp`]: displays as `YYYY-MM-DDThh:mm:ssZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    date: Date,
    clock: [u8; 3],
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [h, mi, s] = self.clock;
        write!(f, "{}T{h:02}:{mi:02}:{s:02}Z", self.date)
    }
}

/// A day of the proleptic Gregorian calendar.
///
/// ```
/// use mfa_time::Date;
/// let d = Date::new(2024, 2, 29)?;
/// assert_eq!(d.to_string(), "2024-02-29");
/// assert_eq!(d.midnight()?.secs(), 1_709_164_800);
/// assert!(Date::new(2023, 2, 29).is_err());
/// # Ok::<(), mfa_time::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: i64,
    month: u8,
    day: u8,
}

impl Date {
    /// The day `day` of month `month` (1 = January) of `year` (0 to 9999).
    ///
    /// # Errors
    /// [`Error::InvalidDate`] if the calendar has no such day.
    pub fn new(year: i64, month: u8, day: u8) -> Result<Date, Error> {
        let invalid = Error::InvalidDate { year, month, day };
        if !(0..=9999).contains(&year) {
            return Err(invalid);
        }
        let (y, m, d) = (
            i16::try_from(year).map_err(|_| invalid.clone())?,
            i8::try_from(month).map_err(|_| invalid.clone())?,
            i8::try_from(day).map_err(|_| invalid.clone())?,
        );
        civil::Date::new(y, m, d).map_err(|_| invalid)?;
        Ok(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`: exactly four digits, a dash, two digits, a dash,
    /// two digits; no sign, no spaces.
    ///
    /// ```
    /// use mfa_time::{Date, Error};
    /// assert_eq!(Date::parse("9999-12-31")?.year(), 9999);
    /// assert!(matches!(Date::parse("-001-01-01"), Err(Error::DateSyntax)));
    /// assert!(matches!(Date::parse("2023-02-29"), Err(Error::InvalidDate { year: 2023, month: 2, day: 29 })));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DateSyntax`] if the text is not of that form,
    /// [`Error::InvalidDate`] if the calendar has no such day.
    pub fn parse(text: &str) -> Result<Date, Error> {
        let b = text.as_bytes();
        let shape = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape {
            return Err(Error::DateSyntax);
        }
        let num = |r: core::ops::Range<usize>| {
            text.get(r)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or(Error::DateSyntax)
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::new(
            i64::from(y),
            u8::try_from(m).map_err(|_| Error::DateSyntax)?,
            u8::try_from(d).map_err(|_| Error::DateSyntax)?,
        )
    }

    /// The year.
    pub fn year(self) -> i64 {
        self.year
    }

    /// The month, 1 (January) to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Seconds from 1970-01-01T00:00:00Z to this day's midnight (UTC);
    /// negative before 1970.
    ///
    /// ```
    /// use mfa_time::Date;
    /// assert_eq!(Date::new(1969, 12, 31)?.unix_secs(), -86_400);
    /// # Ok::<(), mfa_time::Error>(())
    /// ```
    pub fn unix_secs(self) -> i64 {
        // jiff's timestamps end within 9999-12-30 and days past 9999 exist
        // only as `UnixTime::date` of a far future time: shift by whole
        // 400-year cycles as `UnixTime::civil` does.
        let cycles = if self.year >= 9999 {
            (self.year - 9999) / 400 + 1
        } else {
            0
        };
        let (y, m, d) = (self.year - 400 * cycles, self.month, self.day);
        #[allow(clippy::expect_used)]
        let date = i16::try_from(y)
            .ok()
            .and_then(|y| civil::Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok())
            .expect("a Date is a valid day; shifted into jiff's years 0..=9999");
        #[allow(clippy::expect_used)]
        let ts = Offset::UTC
            .to_timestamp(date.to_datetime(civil::Time::midnight()))
            .expect("midnight of a day in 0..=9999 is inside jiff's range");
        ts.as_second()
            .saturating_add(cycles.saturating_mul(CYCLE_SECS as i64))
    }

    /// This day's midnight (UTC).
    ///
    /// # Errors
    /// [`Error::BeforeEpoch`] for a day before 1970-01-01.
    pub fn midnight(self) -> Result<UnixTime, Error> {
        UnixTime::try_from_signed(self.unix_secs())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Parses an ISO 8601 date or date and time as XML Schema's `xs:date` /
/// `xs:dateTime` write them (`2024-02-29`, `2024-02-29T12:00:00`,
/// `2024-02-29 12:00:00.5+01:00`, `...Z`) into seconds since the epoch,
/// negative before 1970. Without an offset the time is UTC; a fraction of a
/// second is dropped and a leap second (`:60`) counts as `:59`.
///
/// An `xs:date` may carry a zone too (`2006-05-01Z`, `2006-05-01+02:00`:
/// midnight there); zones are at most ±14:00, as XML Schema says.
///
/// ```
/// assert_eq!(mfa_time::parse_timestamp("2023-11-14T22:13:20")?, 1_700_000_000);
/// assert_eq!(mfa_time::parse_timestamp("1969-12-31")?, -86_400);
/// assert_eq!(mfa_time::parse_timestamp("2006-05-01Z")?, 1_146_441_600);
/// assert!(mfa_time::parse_timestamp("2006-05-01T00:00:00+15:00").is_err());
/// # Ok::<(), mfa_time::Error>(())
/// ```
///
/// # Errors
/// [`Error::TimeSyntax`] if the text is not of that form,
/// [`Error::InvalidDate`] for a day the calendar does not have.
pub fn parse_timestamp(text: &str) -> Result<i64, Error> {
    // `xs:date` with a zone: the same instant as midnight with that zone.
    if let (Some(date), Some(zone)) = (text.get(..10), text.get(10..))
        && !zone.is_empty()
        && !zone.starts_with(['T', 't', ' '])
    {
        let mut buf = [0u8; 40];
        let parts = [date.as_bytes(), b"T00:00:00", zone.as_bytes()];
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut at = 0;
        for part in parts {
            buf.get_mut(at..at + part.len())
                .ok_or(Error::TimeSyntax)?
                .copy_from_slice(part);
            at += part.len();
        }
        let full = core::str::from_utf8(buf.get(..len).ok_or(Error::TimeSyntax)?)
            .map_err(|_| Error::TimeSyntax)?;
        return seconds_of(&pieces(full)?);
    }
    seconds_of(&pieces(text)?)
}

fn pieces(text: &str) -> Result<Pieces<'_>, Error> {
    let b = text.as_bytes();
    // Four-digit years only: jiff also reads signed six-digit years.
    if b.len() < 10 || !b.iter().take(4).all(u8::is_ascii_digit) || b.get(4) != Some(&b'-') {
        return Err(Error::TimeSyntax);
    }
    // The date part is checked by `Date::parse` first so that a day the
    // calendar does not have is reported as such, not as bad syntax.
    if let Some(date) = text.get(..10) {
        match Date::parse(date) {
            Err(Error::InvalidDate { year, month, day }) => {
                return Err(Error::InvalidDate { year, month, day });
            }
            Err(_) => return Err(Error::TimeSyntax),
            Ok(_) => {}
        }
    }
    let pieces = Pieces::parse(text).map_err(|_| Error::TimeSyntax)?;
    if pieces.time_zone_annotation().is_some() {
        return Err(Error::TimeSyntax);
    }
    Ok(pieces)
}

fn seconds_of(pieces: &Pieces<'_>) -> Result<i64, Error> {
    let time = pieces.time().unwrap_or(civil::Time::midnight());
    let offset = pieces
        .offset()
        .map_or(Offset::UTC, |o| o.to_numeric_offset());
    // XML Schema: a zone is at most 14 hours from UTC.
    if offset.seconds().abs() > 14 * 3600 {
        return Err(Error::TimeSyntax);
    }
    let d = pieces.date();
    let date = Date::new(i64::from(d.year()), unsigned(d.month()), unsigned(d.day()))?;
    let clock =
        i64::from(time.hour()) * 3600 + i64::from(time.minute()) * 60 + i64::from(time.second());
    Ok(date.unix_secs() + clock - i64::from(offset.seconds()))
}

/// Why a date or time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not a date of the form `YYYY-MM-DD`.
    #[error("not a date of the form YYYY-MM-DD")]
    DateSyntax,
    /// Not a time of the accepted form (RFC 3339; see the function).
    #[error("not an RFC 3339 date and time (YYYY-MM-DDThh:mm:ssZ)")]
    TimeSyntax,
    /// The calendar has no such day (2023-02-29, 2024-02-31, month 13) or
    /// the year is outside 0 to 9999.
    #[error("{year:04}-{month:02}-{day:02} is not a day of the calendar")]
    InvalidDate {
        /// The year given.
        year: i64,
        /// The month given.
        month: u8,
        /// The day given.
        day: u8,
    },
    /// The time is outside the years 0 to 9999, the calendar's range.
    #[error("{secs} s is outside the years 0 to 9999")]
    OutOfRange {
        /// Seconds since the epoch.
        secs: i64,
    },
    /// The time is before 1970-01-01T00:00:00Z, which a [`UnixTime`] cannot
    /// hold.
    #[error("{secs} s is before 1970-01-01T00:00:00Z")]
    BeforeEpoch {
        /// Seconds since the epoch (negative).
        secs: i64,
    },
}
