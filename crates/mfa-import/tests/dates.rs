//! PSKC dates go through mfa-time's calendar: days that do not exist are
//! refused instead of being counted into the next month.
#![allow(clippy::unwrap_used)]

use mfa_import::parse_date;

#[test]
fn pskc_dates_use_the_one_calendar() {
    assert_eq!(parse_date("2006-05-01T00:00:00Z"), Some(1_146_441_600));
    assert_eq!(parse_date("2006-05-01T02:00:00+02:00"), Some(1_146_441_600));
    assert_eq!(parse_date("2006-05-01"), Some(1_146_441_600));
    assert_eq!(parse_date(" 05/01/2006 "), Some(1_146_441_600));
    assert_eq!(parse_date("2024-02-29T00:00:00Z"), Some(1_709_164_800));
    assert_eq!(parse_date("1969-12-31"), Some(-86_400));
    for bad in [
        "2023-02-29",
        "2024-02-31T00:00:00Z",
        "02/30/2024",
        "13/01/2024",
        "2024-13-01",
        "yesterday",
        "",
    ] {
        assert_eq!(parse_date(bad), None, "{bad:?}");
    }
}
