//! The calendar edges: leap days, month ends, the year range, leap seconds,
//! offsets, and far-future formatting.
#![allow(clippy::unwrap_used)]

use mfa_time::{Date, Error, UnixTime, parse_timestamp};

#[test]
fn leap_days_only_in_leap_years() {
    assert!(Date::parse("2024-02-29").is_ok());
    assert!(Date::parse("2000-02-29").is_ok());
    assert_eq!(
        Date::parse("2023-02-29"),
        Err(Error::InvalidDate {
            year: 2023,
            month: 2,
            day: 29
        })
    );
    assert!(Date::parse("1900-02-29").is_err());
    assert!(Date::parse("2024-02-31").is_err());
    assert!(Date::parse("2024-04-31").is_err());
    assert!(Date::parse("2024-13-01").is_err());
    assert!(Date::parse("2024-00-10").is_err());
    assert!(Date::parse("2024-01-00").is_err());
}

#[test]
fn only_four_digit_unsigned_years() {
    assert_eq!(Date::parse("9999-12-31").unwrap().to_string(), "9999-12-31");
    assert_eq!(Date::parse("0000-01-01").unwrap().year(), 0);
    for bad in [
        "-001-01-01",
        "-0001-01-01",
        "+2024-01-01",
        "10000-01-01",
        "224-01-01",
        "2024-1-01",
        "2024-01-1",
        " 2024-01-01",
        "2024-01-01 ",
        "2024/01/01",
        "",
    ] {
        assert_eq!(Date::parse(bad), Err(Error::DateSyntax), "{bad:?}");
    }
    assert!(Date::new(-1, 1, 1).is_err());
    assert!(Date::new(10_000, 1, 1).is_err());
}

#[test]
fn dates_before_1970_are_not_unix_times() {
    assert!(matches!(
        UnixTime::parse_date("1969-12-31"),
        Err(Error::BeforeEpoch { secs: -86_400 })
    ));
    assert_eq!(UnixTime::parse_date("1970-01-01").unwrap(), UnixTime::EPOCH);
    assert_eq!(
        UnixTime::parse_date("9999-12-31").unwrap().secs(),
        253_402_214_400
    );
}

#[test]
fn rfc3339_needs_a_time_and_an_offset() {
    let t = UnixTime::parse_rfc3339("2009-02-13T23:31:30Z").unwrap();
    assert_eq!(t.secs(), 1_234_567_890);
    assert_eq!(
        UnixTime::parse_rfc3339("2009-02-14T00:31:30+01:00").unwrap(),
        t
    );
    assert_eq!(
        UnixTime::parse_rfc3339("2009-02-13T23:31:30.999Z").unwrap(),
        t
    );
    assert_eq!(
        UnixTime::parse_rfc3339("2009-02-13T23:31:30"),
        Err(Error::TimeSyntax)
    );
    assert_eq!(
        UnixTime::parse_rfc3339("2009-02-13"),
        Err(Error::TimeSyntax)
    );
    for bad in ["2009-02-13T23Z", "2009-02-13T23:31Z", "2009-02-13T23:31:3Z"] {
        assert_eq!(
            UnixTime::parse_rfc3339(bad),
            Err(Error::TimeSyntax),
            "{bad}"
        );
    }
    assert_eq!(UnixTime::parse_rfc3339("2009-02-13t23:31:30z").unwrap(), t);
    assert_eq!(UnixTime::parse_rfc3339("yesterday"), Err(Error::TimeSyntax));
    assert_eq!(
        UnixTime::parse_rfc3339("2009-02-13T23:31:30Z[Europe/Paris]"),
        Err(Error::TimeSyntax)
    );
    assert!(matches!(
        UnixTime::parse_rfc3339("2023-02-29T00:00:00Z"),
        Err(Error::InvalidDate { year: 2023, .. })
    ));
    assert!(matches!(
        UnixTime::parse_rfc3339("1969-12-31T23:59:59Z"),
        Err(Error::BeforeEpoch { secs: -1 })
    ));
    assert!(UnixTime::parse_rfc3339("2009-02-13T24:00:00Z").is_err());
    assert!(UnixTime::parse_rfc3339("2009-02-13T23:60:00Z").is_err());
}

#[test]
fn a_leap_second_counts_as_the_second_before() {
    let leap = UnixTime::parse_rfc3339("2016-12-31T23:59:60Z").unwrap();
    let before = UnixTime::parse_rfc3339("2016-12-31T23:59:59Z").unwrap();
    assert_eq!(leap, before);
}

#[test]
fn formatting_round_trips() {
    for secs in [
        0,
        59,
        951_782_400,
        1_234_567_890,
        1_709_164_800,
        253_402_300_799,
    ] {
        let t = UnixTime::from_secs(secs);
        let text = t.rfc3339().to_string();
        assert_eq!(UnixTime::parse_rfc3339(&text).unwrap(), t, "{text}");
    }
    assert_eq!(
        UnixTime::EPOCH.rfc3339().to_string(),
        "1970-01-01T00:00:00Z"
    );
    assert_eq!(
        UnixTime::from_secs(951_782_400).rfc3339().to_string(),
        "2000-02-29T00:00:00Z"
    );
    assert_eq!(
        UnixTime::from_secs(253_402_300_799).rfc3339().to_string(),
        "9999-12-31T23:59:59Z"
    );
}

#[test]
fn past_9999_years_get_more_digits() {
    // One second after 9999-12-31T23:59:59Z.
    let t = UnixTime::from_secs(253_402_300_800);
    assert_eq!(t.rfc3339().to_string(), "10000-01-01T00:00:00Z");
    assert_eq!(t.date().unix_secs(), 253_402_300_800);
    // 400 years later, the same day of the cycle.
    let cycle = 146_097 * 86_400;
    assert_eq!(
        UnixTime::from_secs(1_709_164_800 + cycle)
            .rfc3339()
            .to_string(),
        "2424-02-29T00:00:00Z"
    );
    // The largest time formats without overflow.
    let max = UnixTime::from_secs(u64::MAX).rfc3339().to_string();
    assert!(max.ends_with("T07:00:15Z"), "{max}");
    let d = UnixTime::from_secs(u64::MAX).date();
    assert!(d.year() > 500_000_000_000, "{d}");
}

#[test]
fn civil_dates_match_day_arithmetic() {
    // Every day from 1970 to 2100: the date of midnight is a valid day whose
    // midnight is the same second, and consecutive midnights are one day apart.
    let mut last: Option<Date> = None;
    for day in 0..47_847u64 {
        let t = UnixTime::from_secs(day * 86_400);
        let d = t.date();
        assert_eq!(d.midnight().unwrap(), t);
        assert_eq!(Date::new(d.year(), d.month(), d.day()).unwrap(), d);
        if let Some(prev) = last {
            assert!(prev < d);
        }
        last = Some(d);
    }
}

#[test]
fn xs_datetime_forms() {
    assert_eq!(
        parse_timestamp("2023-11-14T22:13:20").unwrap(),
        1_700_000_000
    );
    assert_eq!(
        parse_timestamp("2023-11-14t22:13:20z").unwrap(),
        1_700_000_000
    );
    assert_eq!(
        parse_timestamp("2023-11-14 22:13:20").unwrap(),
        1_700_000_000
    );
    assert_eq!(
        parse_timestamp("2023-11-14T23:13:20+01:00").unwrap(),
        1_700_000_000
    );
    assert_eq!(
        parse_timestamp("2023-11-14T23:13:20+0100").unwrap(),
        1_700_000_000
    );
    assert_eq!(
        parse_timestamp("2023-11-14T22:13:20.25Z").unwrap(),
        1_700_000_000
    );
    assert_eq!(parse_timestamp("2023-11-14").unwrap(), 1_699_920_000);
    assert_eq!(parse_timestamp("1969-12-31T23:59:59Z").unwrap(), -1);
    assert!(parse_timestamp("2024-02-30T00:00:00").is_err());
    assert!(parse_timestamp("11/14/2023").is_err());
    assert!(parse_timestamp("-002023-11-14").is_err());
}
