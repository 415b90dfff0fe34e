//! Keypad input on the phone channel and the choice of the reporting code.

// Test helpers outside #[test] functions may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use mfa_fraud::{Error, FraudConfig, Keypad, MAX_KEYPAD_LEN, ReportingCode, parse_keypad};
use proptest::prelude::*;

fn code(s: &str) -> ReportingCode {
    ReportingCode::new(s).unwrap()
}

const REPORT: Keypad = Keypad::Report {
    block_confirmed: false,
};
const CONFIRMED: Keypad = Keypad::Report {
    block_confirmed: true,
};

#[test]
fn reporting_code_selection_matrix() {
    // (fraud alert, its code, suspicious activity, its code, custom greetings) -> code
    type Case = (
        bool,
        Option<&'static str>,
        bool,
        Option<&'static str>,
        bool,
        Option<&'static str>,
    );
    let cases: [Case; 12] = [
        (false, None, false, None, false, None),
        (false, Some("9"), false, Some("7"), true, None),
        (true, None, false, None, false, Some("0")),
        (true, Some("9"), false, None, false, Some("0")), // no greetings: stays 0
        (true, Some("9"), false, None, true, Some("9")),
        (false, None, true, Some("7"), false, Some("0")),
        (false, None, true, Some("7"), true, Some("7")),
        (true, Some("9"), true, Some("7"), true, Some("7")), // suspicious activity wins
        (true, Some("9"), true, None, true, Some("9")),      // only one defines a code
        (true, None, true, Some("7"), true, Some("7")),
        (true, Some("9"), true, Some("7"), false, Some("0")),
        (false, Some("9"), true, None, true, Some("0")), // fraud alert off: its code unused
    ];
    for (fa, fa_code, sa, sa_code, greetings, want) in cases {
        let mut c = FraudConfig::disabled()
            .with_fraud_alert(fa)
            .with_suspicious_activity(sa)
            .with_custom_greetings(greetings);
        if let Some(x) = fa_code {
            c = c.with_fraud_code(code(x));
        }
        if let Some(x) = sa_code {
            c = c.with_suspicious_activity_code(code(x));
        }
        let got = c.phone_reporting_code();
        assert_eq!(
            got.as_ref().map(ReportingCode::as_str),
            want,
            "fa={fa} {fa_code:?} sa={sa} {sa_code:?} greetings={greetings}"
        );
    }
}

#[test]
fn keypad_table() {
    let auto = FraudConfig::default();
    let no_auto = FraudConfig::default().with_auto_block(false);
    let custom = FraudConfig::default()
        .with_custom_greetings(true)
        .with_fraud_code(code("123"));
    let off = FraudConfig::disabled();
    let cases: Vec<(&FraudConfig, &str, Result<Keypad, Error>)> = vec![
        (&auto, "#", Ok(Keypad::Approve)),
        (&auto, "0#", Ok(REPORT)),
        (&auto, "0#1", Ok(CONFIRMED)),
        (&auto, "0#2", Ok(REPORT)), // any other key declines the block
        (&auto, "0#*", Ok(REPORT)),
        (
            &auto,
            "0#11",
            Err(Error::KeypadUnrecognized { position: 4 }),
        ),
        (&auto, "#1", Err(Error::KeypadUnrecognized { position: 2 })),
        (&auto, "5#", Err(Error::KeypadUnrecognized { position: 1 })),
        (&auto, "00#", Err(Error::KeypadUnrecognized { position: 2 })),
        (&auto, "", Err(Error::KeypadUnrecognized { position: 1 })),
        (&auto, "0", Err(Error::KeypadUnrecognized { position: 2 })),
        (
            &auto,
            "0#a",
            Err(Error::KeypadKey {
                ch: 'a',
                position: 3,
            }),
        ),
        (
            &auto,
            "٠#",
            Err(Error::KeypadKey {
                ch: '٠',
                position: 1,
            }),
        ),
        (&no_auto, "0#", Ok(REPORT)),
        (
            &no_auto,
            "0#1",
            Err(Error::KeypadUnrecognized { position: 3 }),
        ),
        (&no_auto, "#", Ok(Keypad::Approve)),
        (&custom, "123#1", Ok(CONFIRMED)),
        (
            &custom,
            "0#",
            Err(Error::KeypadUnrecognized { position: 1 }),
        ),
        (
            &custom,
            "12#",
            Err(Error::KeypadUnrecognized { position: 3 }),
        ),
        (
            &custom,
            "1234#",
            Err(Error::KeypadUnrecognized { position: 4 }),
        ),
        (&off, "#", Ok(Keypad::Approve)),
        (&off, "0#", Err(Error::ReportingDisabled)),
    ];
    for (config, keys, want) in cases {
        assert_eq!(parse_keypad(config, keys), want, "{keys:?}");
    }
    let long = "#".repeat(MAX_KEYPAD_LEN + 1);
    assert_eq!(
        parse_keypad(&auto, &long),
        Err(Error::KeypadTooLong {
            len: MAX_KEYPAD_LEN + 1,
            max: MAX_KEYPAD_LEN
        })
    );
}

#[test]
fn reporting_code_limits() {
    assert!(ReportingCode::new("12345678").is_ok());
    assert!(ReportingCode::new("123456789").is_err());
    assert!(ReportingCode::new("-1").is_err());
    assert!(ReportingCode::new("１").is_err()); // full-width digit
}

proptest! {
    /// Arbitrary input never panics; whatever parses is exactly one of the
    /// accepted shapes.
    #[test]
    fn arbitrary_keypad_input(keys in ".{0,40}", custom in any::<bool>(), auto in any::<bool>()) {
        let config = FraudConfig::default()
            .with_auto_block(auto)
            .with_custom_greetings(custom)
            .with_fraud_code(code("42"));
        let code = config.phone_reporting_code().unwrap();
        match parse_keypad(&config, &keys) {
            Ok(Keypad::Approve) => prop_assert_eq!(keys.as_str(), "#"),
            Ok(Keypad::Report { block_confirmed }) => {
                let prefix = format!("{code}#");
                prop_assert!(keys.starts_with(&prefix));
                let rest = &keys[prefix.len()..];
                prop_assert!(rest.len() <= usize::from(auto));
                prop_assert_eq!(block_confirmed, rest == "1");
            }
            Err(_) => {}
        }
    }

    /// Every well-formed report parses.
    #[test]
    fn well_formed_reports_parse(c in "[0-9]{1,8}", confirm in any::<bool>()) {
        let config = FraudConfig::default()
            .with_custom_greetings(true)
            .with_suspicious_activity_code(code(&c));
        let keys = format!("{c}#{}", if confirm { "1" } else { "" });
        prop_assert_eq!(
            parse_keypad(&config, &keys),
            Ok(Keypad::Report { block_confirmed: confirm })
        );
    }
}
