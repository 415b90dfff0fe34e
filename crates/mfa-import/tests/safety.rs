//! XML safety: DOCTYPE/entities refused, truncation detected, limits hold.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mfa_import::{Error, LimitKind, Limits, Location, PskcOptions, PskcReader};

const ONE: &str = r#"<?xml version="1.0"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
  <KeyPackage>
    <DeviceInfo><SerialNo>42</SerialNo></DeviceInfo>
    <Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
      <Data>
        <Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>
        <Counter><PlainValue>7</PlainValue></Counter>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>
"#;

fn errors(xml: &str, options: PskcOptions) -> Vec<Error> {
    PskcReader::new(xml.as_bytes(), options)
        .filter_map(Result::err)
        .map(|r| r.error)
        .collect()
}

#[test]
fn a_good_file_reads() {
    let keys: Vec<_> = PskcReader::new(ONE.as_bytes(), PskcOptions::new()).collect();
    assert_eq!(keys.len(), 1);
    let k = keys[0].as_ref().unwrap();
    assert_eq!(k.counter, Some(7));
    assert_eq!(
        k.location,
        Some(Location::KeyPackage {
            index: 1,
            line: 3,
            serial: Some("42".into()),
            key_id: Some("k1".into())
        })
    );
    let t = k.to_token().unwrap();
    assert_eq!(t.next_counter(), Some(7));
}

#[test]
fn doctype_is_refused() {
    let xml = ONE.replace(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>",
    );
    assert_eq!(
        errors(&xml, PskcOptions::new()),
        vec![Error::DoctypeForbidden]
    );
}

#[test]
fn undeclared_entities_are_refused() {
    let xml = ONE.replace("<SerialNo>42", "<SerialNo>&a;42");
    assert_eq!(
        errors(&xml, PskcOptions::new()),
        vec![Error::UnknownEntity { name: "a".into() }]
    );
    // The predefined ones are fine.
    let xml = ONE.replace("<SerialNo>42", "<SerialNo>&lt;&#52;2");
    let k = PskcReader::new(xml.as_bytes(), PskcOptions::new())
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(k.serial.as_deref(), Some("<42"));
}

#[test]
fn every_truncation_is_an_error() {
    // Cut the document at every byte: never a panic, never a silent success.
    let full = ONE.trim_end();
    let root_end = full.rfind("</KeyContainer>").unwrap();
    for cut in 0..full.len() {
        if !full.is_char_boundary(cut) {
            continue;
        }
        let items: Vec<_> = PskcReader::new(&full.as_bytes()[..cut], PskcOptions::new()).collect();
        if cut < root_end + "</KeyContainer>".len() {
            let last = items
                .last()
                .unwrap_or_else(|| panic!("cut at {cut}: nothing yielded"));
            let err = last
                .as_ref()
                .err()
                .unwrap_or_else(|| panic!("cut at {cut}: no error"));
            assert!(err.is_fatal(), "cut at {cut}: {err}");
        }
    }
    let items: Vec<_> = PskcReader::new(&full.as_bytes()[..root_end], PskcOptions::new()).collect();
    assert!(matches!(
        items.last().unwrap().as_ref().unwrap_err().error,
        Error::Truncated { ref root } if root == "KeyContainer"
    ));
}

#[test]
fn depth_limit() {
    let mut deep = String::new();
    for _ in 0..100 {
        deep.push_str("<x>");
    }
    for _ in 0..100 {
        deep.push_str("</x>");
    }
    let xml = ONE.replace("<DeviceInfo>", &format!("{deep}<DeviceInfo>"));
    assert_eq!(
        errors(&xml, PskcOptions::new()),
        vec![Error::LimitExceeded {
            kind: LimitKind::Depth,
            max: 32
        }]
    );
}

#[test]
fn value_length_limit() {
    let mut limits = Limits::default();
    limits.max_value_bytes = 10;
    assert_eq!(
        errors(ONE, PskcOptions::new().limits(limits)),
        vec![Error::LimitExceeded {
            kind: LimitKind::ValueBytes,
            max: 10
        }]
    );
}

#[test]
fn package_count_limit() {
    let pkg =
        "<KeyPackage><Key Algorithm=\"urn:ietf:params:xml:ns:keyprov:pskc:totp\"/></KeyPackage>";
    let xml = format!(
        "<KeyContainer Version=\"1.0\">{}</KeyContainer>",
        pkg.repeat(5)
    );
    let mut limits = Limits::default();
    limits.max_packages = 3;
    let items: Vec<_> =
        PskcReader::new(xml.as_bytes(), PskcOptions::new().limits(limits)).collect();
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[3].as_ref().unwrap_err().error,
        Error::LimitExceeded {
            kind: LimitKind::Packages,
            max: 3
        }
    );
}

#[test]
fn document_size_limit() {
    let mut limits = Limits::default();
    limits.max_document_bytes = 100;
    let errs = errors(ONE, PskcOptions::new().limits(limits));
    assert_eq!(
        errs,
        vec![Error::LimitExceeded {
            kind: LimitKind::DocumentBytes,
            max: 100
        }]
    );
}

#[test]
fn pbkdf2_iteration_limit() {
    let xml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/pskc/rfc6030/figure7.pskcxml"
    ))
    .unwrap();
    let mut limits = Limits::default();
    limits.max_pbkdf2_iterations = 999;
    assert_eq!(
        errors(&xml, PskcOptions::new().passphrase("qwerty").limits(limits)),
        vec![Error::LimitExceeded {
            kind: LimitKind::Pbkdf2Iterations,
            max: 999
        }]
    );
}

#[test]
fn trailing_content_and_empty_input() {
    assert_eq!(
        errors(&format!("{ONE}<x/>"), PskcOptions::new()),
        vec![Error::TrailingContent]
    );
    assert_eq!(errors("", PskcOptions::new()), vec![Error::EmptyDocument]);
    assert_eq!(
        errors("   \n", PskcOptions::new()),
        vec![Error::EmptyDocument]
    );
    assert!(matches!(
        errors("garbage", PskcOptions::new())[0],
        Error::XmlSyntax { .. }
    ));
}

#[test]
fn empty_container_yields_nothing() {
    let items: Vec<_> =
        PskcReader::new(&b"<KeyContainer Version=\"1\"/>"[..], PskcOptions::new()).collect();
    assert!(items.is_empty());
}

#[test]
fn per_key_errors_do_not_stop_the_stream() {
    let bad = ONE.replace("MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", "!!notbase64!!");
    let pkg_start = ONE.find("<KeyPackage>").unwrap();
    let pkg_end = ONE.find("</KeyContainer>").unwrap();
    let good_pkg = &ONE[pkg_start..pkg_end];
    let xml = bad.replace("</KeyContainer>", &format!("{good_pkg}</KeyContainer>"));
    let items: Vec<_> = PskcReader::new(xml.as_bytes(), PskcOptions::new()).collect();
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!(
        e.error,
        Error::InvalidBase64 {
            element: "Secret".into()
        }
    );
    assert!(!e.is_fatal());
    assert!(items[1].is_ok());
}

#[test]
fn pbkdf2_limit_is_per_key_and_not_fatal() {
    let xml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/pskc/rfc6030/figure7.pskcxml"
    ))
    .unwrap();
    let start = xml.find("<pskc:KeyPackage>").unwrap();
    let end = xml.find("</pskc:KeyContainer>").unwrap();
    let two = xml.replace(
        "</pskc:KeyContainer>",
        &format!("{}</pskc:KeyContainer>", &xml[start..end]),
    );
    let mut limits = Limits::default();
    limits.max_pbkdf2_iterations = 999;
    let items: Vec<_> = PskcReader::new(
        two.as_bytes(),
        PskcOptions::new().passphrase("qwerty").limits(limits),
    )
    .collect();
    assert_eq!(items.len(), 2);
    for item in items {
        let e = item.unwrap_err();
        assert!(!e.is_fatal());
        assert_eq!(
            e.error,
            Error::LimitExceeded {
                kind: LimitKind::Pbkdf2Iterations,
                max: 999
            }
        );
    }
}

#[test]
fn one_huge_event_is_stopped_before_it_is_buffered_whole() {
    // quick-xml hands over a text node, tag or comment only once it has read
    // all of it; the reader stops it at about twice the value limit.
    let big = "A".repeat(20 << 20);
    for xml in [
        ONE.replace("<SerialNo>42", &format!("<SerialNo>{big}")),
        ONE.replace("<KeyPackage>", &format!("<KeyPackage><!--{big}-->")),
        ONE.replace("<Key Id=\"k1\"", &format!("<Key Id=\"{big}\"")),
        ONE.replace(
            "<?xml version=\"1.0\"?>",
            &format!("<?xml version=\"1.0\"?><!--{big}-->"),
        ),
    ] {
        assert_eq!(
            errors(&xml, PskcOptions::new()),
            vec![Error::LimitExceeded {
                kind: LimitKind::ValueBytes,
                max: 64 * 1024
            }]
        );
    }
}
