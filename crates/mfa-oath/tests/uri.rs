//! otpauth:// URI parsing: accepted forms and every rejection.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use mfa_oath::{Algorithm, Error, OtpAuthUri, OtpKind, UriError, UriWarning};

fn err(uri: &str) -> UriError {
    match OtpAuthUri::parse(uri) {
        Err(Error::Uri(e)) => e,
        other => panic!("expected a URI error for {uri}, got {other:?}"),
    }
}

#[test]
fn google_authenticator_example() {
    let u = OtpAuthUri::parse(
        "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
    )
    .unwrap();
    assert_eq!(u.issuer.as_deref(), Some("Example"));
    assert_eq!(u.account, "alice@google.com");
    assert_eq!(u.algorithm, Algorithm::Sha1);
    assert_eq!(u.digits.get(), 6);
    assert!(matches!(u.kind, OtpKind::Totp { period } if period.seconds() == 30));
    assert!(u.to_totp().is_some() && u.to_hotp().is_none());
}

#[test]
fn encoded_issuer_prefix_and_spaces() {
    let u = OtpAuthUri::parse(
        "otpauth://totp/ACME%20Co%3Ajohn.doe%40email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA256&digits=7&period=60",
    )
    .unwrap();
    assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
    assert_eq!(u.account, "john.doe@email.com");
    assert_eq!(u.algorithm, Algorithm::Sha256);
    assert_eq!(u.digits.get(), 7);
    assert!(matches!(u.kind, OtpKind::Totp { period } if period.seconds() == 60));
    // Round trip keeps the issuer's space and the account's @ encoded.
    let text = u.to_uri();
    assert!(text.starts_with("otpauth://totp/ACME%20Co:john.doe%40email.com?"));
}

#[test]
fn hotp_requires_counter() {
    let u = OtpAuthUri::parse("otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP&counter=42").unwrap();
    let (h, state) = u.to_hotp().unwrap();
    assert_eq!(state.next_counter(), Some(42));
    assert_eq!(h.params().digits.get(), 6);
    assert_eq!(
        err("otpauth://hotp/alice?secret=JBSWY3DPEHPK3PXP"),
        UriError::MissingParameter("counter")
    );
}

#[test]
fn rejections() {
    assert_eq!(
        err("https://totp/a?secret=JBSWY3DPEHPK3PXP"),
        UriError::Scheme
    );
    assert_eq!(
        err("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP"),
        UriError::Type("motp".into())
    );
    assert_eq!(
        err("otpauth://totp/?secret=JBSWY3DPEHPK3PXP"),
        UriError::MissingLabel
    );
    assert_eq!(
        err("otpauth://totp/Issuer:?secret=JBSWY3DPEHPK3PXP"),
        UriError::MissingLabel
    );
    assert_eq!(
        err("otpauth://totp/a"),
        UriError::MissingParameter("secret")
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP"),
        UriError::DuplicateParameter("secret".into())
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=6&digits=8"),
        UriError::DuplicateParameter("digits".into())
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"),
        UriError::InvalidParameter {
            name: "algorithm",
            value: "MD5".into()
        }
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5"),
        UriError::InvalidParameter {
            name: "digits",
            value: "5".into()
        }
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0"),
        UriError::InvalidParameter {
            name: "period",
            value: "0".into()
        }
    );
    assert_eq!(
        err(&format!(
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&x={}",
            "y".repeat(4096)
        )),
        UriError::TooLong {
            len: 4139,
            max: 4096
        }
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSW1Y3DPEHPK3PXP"),
        UriError::Secret(Box::new(Error::Base32Char {
            ch: '1',
            position: 5
        }))
    );
    assert_eq!(
        err("otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP"),
        UriError::Encoding("label")
    );
    // The error text never contains the secret.
    let e = OtpAuthUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PX8").unwrap_err();
    assert!(!e.to_string().contains("JBSWY3DPEHPK3PX"));
}

#[test]
fn unknown_parameters_are_ignored() {
    let u = OtpAuthUri::parse(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fexample.com%2Fa.png&color=red",
    )
    .unwrap();
    assert_eq!(u.account, "a");
}

#[test]
fn debug_does_not_leak_the_secret() {
    let u = OtpAuthUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP").unwrap();
    let dbg = format!("{u:?}");
    assert!(dbg.contains("Secret([REDACTED])"));
    assert!(!dbg.contains("JBSWY3DPEHPK3PXP"));
}

#[test]
fn colon_inside_issuer_round_trips() {
    let u = OtpAuthUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=A%3AB").unwrap();
    assert_eq!(u.issuer.as_deref(), Some("A:B"));
    let text = u.to_uri();
    assert!(
        text.starts_with("otpauth://totp/A%3AB:a?"),
        "{}",
        text.as_str()
    );
    let back = OtpAuthUri::parse(&text).unwrap();
    assert_eq!(back.issuer.as_deref(), Some("A:B"));
    assert_eq!(back.account, "a");
    // An encoded colon is the separator when there is no literal one.
    let u = OtpAuthUri::parse("otpauth://totp/Foo%3Abar?secret=JBSWY3DPEHPK3PXP").unwrap();
    assert_eq!(u.issuer.as_deref(), Some("Foo"));
    assert_eq!(u.account, "bar");
}

#[test]
fn issuer_whitespace_is_trimmed_on_both_sides() {
    let u = OtpAuthUri::parse("otpauth://totp/Acme%20:a?secret=JBSWY3DPEHPK3PXP&issuer=Acme%09")
        .unwrap();
    assert_eq!(u.issuer.as_deref(), Some("Acme"));
    let back = OtpAuthUri::parse(&u.to_uri()).unwrap();
    assert_eq!(back.issuer.as_deref(), Some("Acme"));
}

/// Found by the oath_uri fuzz target running in CI: a label of raw bytes
/// that `to_uri` percent-encodes grew past MAX_URI_LEN when written, so our
/// own URI did not parse again. Labels are now bounded so that it always
/// does, even at the largest secret and every label at its limit.
#[test]
fn what_parses_is_written_back_within_the_limit() {
    use mfa_oath::{MAX_LABEL_LEN, MAX_URI_LEN};
    let secret = "A".repeat(1638) + "A"; // 1639 symbols: a 1024-byte secret
    let issuer = "@".repeat(MAX_LABEL_LEN);
    let account = "^".repeat(MAX_LABEL_LEN);
    let uri = format!(
        "otpauth://hotp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA512&digits=9&counter={}",
        u64::MAX
    );
    assert!(uri.len() <= MAX_URI_LEN, "{}", uri.len());
    let parsed = OtpAuthUri::parse(&uri).unwrap();
    let written = parsed.to_uri();
    assert!(written.len() > uri.len(), "percent-encoding grows it");
    assert!(written.len() <= MAX_URI_LEN, "{}", written.len());
    let again = OtpAuthUri::parse(&written).unwrap();
    assert_eq!(again.account, parsed.account);
    assert_eq!(again.issuer, parsed.issuer);

    // One byte more in any label is refused, naming the field.
    let long = "a".repeat(MAX_LABEL_LEN + 1);
    for (bad, field) in [
        (
            format!("otpauth://totp/{long}?secret=JBSWY3DPEHPK3PXP"),
            "account",
        ),
        (
            format!("otpauth://totp/{long}:bob?secret=JBSWY3DPEHPK3PXP"),
            "issuer",
        ),
        (
            format!("otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&issuer={long}"),
            "issuer",
        ),
    ] {
        match err(&bad) {
            UriError::InvalidParameter { name, value } => {
                assert_eq!(name, field);
                assert_eq!(value, "257 bytes (at most 256)");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn plus_in_the_query_is_a_space() {
    // As Aegis / 2FAS exports write it (issue 12, class 6).
    let p = OtpAuthUri::parse_with_warnings(
        "otpauth://totp/Air%20Canada:alice?secret=JBSWY3DPEHPK3PXP&issuer=Air+Canada",
    )
    .unwrap();
    assert_eq!(p.uri.issuer.as_deref(), Some("Air Canada"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // In the label (a path) `+` is a plus, as pyotp and URL parsers read it.
    let u = OtpAuthUri::parse("otpauth://totp/a+b?secret=JBSWY3DPEHPK3PXP").unwrap();
    assert_eq!(u.account, "a+b");
    // An encoded plus stays a plus.
    let u = OtpAuthUri::parse("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=C%2B%2B").unwrap();
    assert_eq!(u.issuer.as_deref(), Some("C++"));
}

#[test]
fn issuer_mismatch_takes_the_parameter_and_warns() {
    let p =
        OtpAuthUri::parse_with_warnings("otpauth://totp/Foo:a?secret=JBSWY3DPEHPK3PXP&issuer=Bar")
            .unwrap();
    assert_eq!(p.uri.issuer.as_deref(), Some("Bar"));
    assert_eq!(
        p.warnings,
        [UriWarning::IssuerMismatch {
            label: "Foo".into(),
            parameter: "Bar".into()
        }]
    );
    assert!(p.warnings[0].to_string().contains("parameter was used"));
    // An empty issuer parameter says nothing: the label's prefix stays.
    let p = OtpAuthUri::parse_with_warnings("otpauth://totp/Foo:a?secret=JBSWY3DPEHPK3PXP&issuer=")
        .unwrap();
    assert_eq!(p.uri.issuer.as_deref(), Some("Foo"));
    assert!(p.warnings.is_empty());
}

#[test]
fn foreign_parameters_are_ignored_with_a_warning() {
    let p = OtpAuthUri::parse_with_warnings(
        "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=3&period=30",
    )
    .unwrap();
    assert!(matches!(p.uri.kind, OtpKind::Hotp { counter: 3 }));
    assert_eq!(
        p.warnings,
        [UriWarning::IgnoredParameter {
            name: "period",
            kind: "hotp"
        }]
    );
    let p = OtpAuthUri::parse_with_warnings(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&counter=0&algorithm=sha256",
    )
    .unwrap();
    assert_eq!(p.uri.algorithm, Algorithm::Sha256);
    assert_eq!(
        p.warnings,
        [UriWarning::IgnoredParameter {
            name: "counter",
            kind: "totp"
        }]
    );
    // Still strict: an invalid value of an ignored parameter, or a duplicate.
    assert_eq!(
        err("otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=3&period=x"),
        UriError::InvalidParameter {
            name: "period",
            value: "x".into()
        }
    );
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&counter=1&counter=1"),
        UriError::DuplicateParameter("counter".into())
    );
}

#[test]
fn the_writer_refuses_what_the_reader_would() {
    // A label that fits the URI limit but not the label limit is refused
    // by the reader, and the writer refuses to write one too: nothing we
    // write is longer than what we read.
    let label = "ü".repeat(2000);
    let text = format!("otpauth://totp/{label}?secret=JBSWY3DPEHPK3PXP");
    assert!(text.len() <= mfa_oath::MAX_URI_LEN);
    assert!(OtpAuthUri::parse(&text).is_err());
    let mut u = OtpAuthUri::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap();
    u.account = label;
    assert!(u.to_uri().len() > mfa_oath::MAX_URI_LEN);
    match u.try_to_uri() {
        Err(Error::Uri(UriError::TooLong { max, .. })) => assert_eq!(max, mfa_oath::MAX_URI_LEN),
        Err(Error::Uri(UriError::InvalidParameter { name, .. })) => assert_eq!(name, "account"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // What it does write parses back.
    let ok = OtpAuthUri::parse("otpauth://totp/A%20B:c?secret=JBSWY3DPEHPK3PXP").unwrap();
    let again = OtpAuthUri::parse(&ok.try_to_uri().unwrap()).unwrap();
    assert_eq!(again.label(), "A B:c");
    // Constructed values the parser could not read back are refused.
    let mut bad = ok.clone();
    bad.account = "a:b".into();
    assert!(bad.try_to_uri().is_err());
    bad.account = " a".into();
    assert!(bad.try_to_uri().is_err());
}

#[test]
fn error_values_never_show_a_second_uri_run_into_the_first() {
    // A missing newline: the algorithm value holds the next URI's secret.
    let e = err(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1otpauth://totp/b?secret=KUVJJOM753IHTNDSZVCNKL7GII",
    );
    let shown = e.to_string();
    assert!(!shown.contains("KUVJJOM753IHTNDSZVCNKL7GII"), "{shown}");
    assert!(shown.contains("characters, not shown"), "{shown}");
    let e =
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=SHA51ret=KUVJJOM753IHTNDSZVCNKL7GII");
    assert!(!e.to_string().contains("KUVJJOM7"), "{e}");
    // Short values are still shown, to say what is wrong.
    assert_eq!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"),
        UriError::InvalidParameter {
            name: "algorithm",
            value: "MD5".into()
        }
    );
    let r = mfa_oath::redact_uri(
        "otpauth://totp/a?algorithm=SHA51ret=KUVJJOM753IHTNDSZVCNKL7GII&issuer=Air+Canada",
    );
    assert_eq!(r, "otpauth://totp/a?algorithm=REDACTED&issuer=Air+Canada");
}

#[test]
fn a_query_run_into_the_label_is_redacted() {
    let r = mfa_oath::redact_uri("otpauth://hot/Decret=5OM4WOOGPLQEF6UGN3CPEOOLWU&issuer=SPDX");
    assert_eq!(r, "otpauth://hot/REDACTED");
}

#[test]
fn an_undecodable_shown_value_is_redacted() {
    let r = mfa_oath::redact_uri(
        "otpauth://totp/a?issuer=x%C3%8otpauth://hotp/b?secret=KUVJJOM753IHTNDSZVCNKL7GII",
    );
    assert_eq!(r, "otpauth://totp/a?issuer=REDACTED");
}

#[test]
fn control_characters_in_names_are_refused() {
    assert!(matches!(
        err("otpauth://totp/a%00b?secret=JBSWY3DPEHPK3PXP"),
        UriError::InvalidParameter {
            name: "account",
            ..
        }
    ));
    assert!(matches!(
        err("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer=x%1B%5B31m"),
        UriError::InvalidParameter { name: "issuer", .. }
    ));
    assert!(matches!(
        err("otpauth://totp/x%07:a?secret=JBSWY3DPEHPK3PXP"),
        UriError::InvalidParameter { name: "issuer", .. }
    ));
}

#[test]
fn a_query_without_a_path_is_redacted() {
    let r = mfa_oath::redact_uri("otpauth://to30&secret=5VAML3X35THCEBVRLV24CGBKOY&counter=1");
    assert_eq!(r, "otpauth://to30/REDACTED");
}
