//! Every decoding limit, the password and secret bounds, and properties of
//! the codec and the authenticators.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use mfa_radius::{
    Attribute, Code, Error, Limits, MAX_PACKET_LEN, MessageAuthenticator, Mode, Packet,
    SharedSecret, attr, split_trailing_code,
};
use proptest::prelude::*;

fn header(code: u8, length: u16) -> Vec<u8> {
    let mut v = vec![code, 1];
    v.extend_from_slice(&length.to_be_bytes());
    v.extend_from_slice(&[0xab; 16]);
    v
}

fn with_length(mut v: Vec<u8>) -> Vec<u8> {
    let len = u16::try_from(v.len()).unwrap().to_be_bytes();
    v[2..4].copy_from_slice(&len);
    v
}

#[test]
fn datagram_shorter_than_the_header_is_refused() {
    for len in 0..20 {
        let v = vec![1u8; len];
        assert_eq!(Packet::decode(&v, &limits()), Err(Error::TooShort { len }));
    }
}

#[test]
fn datagram_longer_than_4096_is_refused() {
    let mut v = header(1, 20);
    v.resize(4097, 0);
    assert_eq!(
        Packet::decode(&v, &limits()),
        Err(Error::DatagramTooLong {
            len: 4097,
            max: 4096
        })
    );
}

#[test]
fn length_field_outside_20_to_4096_is_refused() {
    for length in [0u16, 1, 19, 4097, u16::MAX] {
        let mut v = header(1, length);
        v.resize(4096, 0);
        assert_eq!(
            Packet::decode(&v, &limits()),
            Err(Error::LengthField {
                length: usize::from(length),
                max: 4096
            })
        );
    }
}

#[test]
fn length_field_beyond_the_datagram_is_truncation() {
    let v = header(1, 21);
    assert_eq!(
        Packet::decode(&v, &limits()),
        Err(Error::Truncated {
            length: 21,
            received: 20
        })
    );
}

#[test]
fn octets_after_the_length_field_are_padding() {
    let mut v = with_length([header(1, 0), vec![attr::USER_NAME, 3, b'x']].concat());
    let p = Packet::decode(&v, &limits()).unwrap();
    v.extend_from_slice(&[0xee; 100]);
    assert_eq!(Packet::decode(&v, &limits()).unwrap(), p);
    assert_eq!(p.encode().unwrap().len(), 23);
}

#[test]
fn attribute_limits_name_the_offset() {
    let lone = with_length([header(1, 0), vec![attr::USER_NAME, 3, b'x', 7]].concat());
    assert_eq!(
        Packet::decode(&lone, &limits()),
        Err(Error::AttributeHeaderTruncated { offset: 23 })
    );
    for bad in [0u8, 1] {
        let v = with_length([header(1, 0), vec![attr::USER_NAME, 3, b'x', 7, bad, 0]].concat());
        assert_eq!(
            Packet::decode(&v, &limits()),
            Err(Error::AttributeTooShort {
                offset: 23,
                length: bad
            })
        );
    }
    let over = with_length([header(1, 0), vec![attr::USER_NAME, 3, b'x', 7, 5, 0]].concat());
    assert_eq!(
        Packet::decode(&over, &limits()),
        Err(Error::AttributeOverrun {
            offset: 23,
            length: 5,
            end: 26
        })
    );
    // An empty value (Length 2) decodes; it is not this layer's business.
    let empty = with_length([header(1, 0), vec![attr::CLASS, 2]].concat());
    assert_eq!(
        Packet::decode(&empty, &limits())
            .unwrap()
            .first(attr::CLASS),
        Some(&[][..])
    );
}

#[test]
fn attribute_count_limit_default_and_configured() {
    let n = Limits::default().max_attributes;
    let build = |count: usize| {
        let mut v = header(1, 0);
        for _ in 0..count {
            v.extend_from_slice(&[attr::CLASS, 2]);
        }
        with_length(v)
    };
    assert_eq!(
        Packet::decode(&build(n), &limits())
            .unwrap()
            .attributes()
            .len(),
        n
    );
    assert_eq!(
        Packet::decode(&build(n + 1), &limits()),
        Err(Error::TooManyAttributes {
            offset: 20 + 2 * n,
            max: n
        })
    );
    let mut strict = Limits::default();
    strict.max_attributes = 3;
    assert!(Packet::decode(&build(3), &strict).is_ok());
    assert_eq!(
        Packet::decode(&build(4), &strict),
        Err(Error::TooManyAttributes { offset: 26, max: 3 })
    );
}

#[test]
fn largest_packet_encodes_and_one_more_octet_does_not() {
    let mut p = Packet::new(Code::ACCESS_ACCEPT, 1, [0; 16]);
    // 16 attributes of 255 octets = 4080, + 20 header = 4100; trim the last.
    for _ in 0..15 {
        p.push(Attribute::new(attr::CLASS, vec![1; 253]).unwrap());
    }
    p.push(Attribute::new(attr::CLASS, vec![1; 4096 - 20 - 15 * 255 - 2]).unwrap());
    let wire = p.encode().unwrap();
    assert_eq!(wire.len(), MAX_PACKET_LEN);
    assert_eq!(Packet::decode(&wire, &limits()).unwrap(), p);
    p.push(Attribute::new(attr::CLASS, vec![]).unwrap());
    assert_eq!(
        p.encode(),
        Err(Error::PacketTooLong {
            len: 4098,
            max: 4096
        })
    );
}

#[test]
fn attribute_values_are_at_most_253_octets() {
    assert!(Attribute::new(attr::CLASS, vec![0; 253]).is_ok());
    assert_eq!(
        Attribute::new(attr::CLASS, vec![0; 254]),
        Err(Error::AttributeValueTooLong {
            attribute_type: attr::CLASS,
            len: 254
        })
    );
}

#[test]
fn user_password_is_at_most_128_octets_in_multiples_of_16() {
    let s = secret();
    let mut p = Packet::new(Code::ACCESS_REQUEST, 1, [7; 16]);
    p.set_user_password(&[b'a'; 128], &s).unwrap();
    assert_eq!(p.first(attr::USER_PASSWORD).unwrap().len(), 128);
    assert_eq!(
        p.user_password(&s).unwrap().unwrap().as_slice(),
        &[b'a'; 128][..]
    );
    assert_eq!(
        p.set_user_password(&[b'a'; 129], &s),
        Err(Error::PasswordTooLong { len: 129 })
    );
    // Empty: one block of NULs, and back to empty.
    p.set_user_password(b"", &s).unwrap();
    assert_eq!(p.first(attr::USER_PASSWORD).unwrap().len(), 16);
    assert_eq!(p.user_password(&s).unwrap().unwrap().as_slice(), b"");
    assert_eq!(p.attributes().len(), 1, "replaced in place");
    for len in [0usize, 8, 15, 17, 144] {
        let mut q = Packet::new(Code::ACCESS_REQUEST, 1, [7; 16]);
        q.push(Attribute::new(attr::USER_PASSWORD, vec![1; len]).unwrap());
        assert_eq!(
            q.user_password(&s),
            Err(Error::HiddenPasswordLength { offset: 20, len })
        );
    }
}

#[test]
fn user_password_trailing_nuls_are_stripped_inner_ones_kept() {
    let s = secret();
    let mut p = Packet::new(Code::ACCESS_REQUEST, 1, [7; 16]);
    p.set_user_password(b"ab\0cd\0\0", &s).unwrap();
    assert_eq!(p.user_password(&s).unwrap().unwrap().as_slice(), b"ab\0cd");
    p.set_user_password(&[b'x'; 16], &s).unwrap();
    assert_eq!(p.first(attr::USER_PASSWORD).unwrap().len(), 16);
    p.set_user_password(&[b'x'; 17], &s).unwrap();
    assert_eq!(p.first(attr::USER_PASSWORD).unwrap().len(), 32);
}

#[test]
fn shared_secret_length_bounds() {
    assert_eq!(
        SharedSecret::new(b"").unwrap_err(),
        Error::SecretLength { len: 0, max: 1024 }
    );
    assert!(SharedSecret::new(&[1; 1024]).is_ok());
    assert!(SharedSecret::new(&[1; 1025]).is_err());
}

#[test]
fn errors_never_contain_secret_material() {
    let e = SharedSecret::new(&[b'z'; 2000]).unwrap_err();
    assert!(!e.to_string().contains("zzz"));
}

fn arb_attribute() -> impl Strategy<Value = Attribute> {
    (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..=253))
        .prop_map(|(k, v)| Attribute::new(k, v).unwrap())
}

fn arb_packet() -> impl Strategy<Value = Packet> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 16]>(),
        proptest::collection::vec(arb_attribute(), 0..12),
    )
        .prop_map(|(code, id, auth, attrs)| {
            let mut p = Packet::new(Code(code), id, auth);
            for a in attrs {
                p.push(a);
            }
            p
        })
}

proptest! {
    #[test]
    fn decode_never_panics_and_what_decodes_encodes_back(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(p) = Packet::decode(&bytes, &limits()) {
            let wire = p.encode().unwrap();
            let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
            prop_assert_eq!(&wire[..], &bytes[..length]);
            prop_assert_eq!(Packet::decode(&wire, &limits()).unwrap(), p);
        }
    }

    #[test]
    fn well_formed_datagrams_decode(p in arb_packet()) {
        let wire = p.encode().unwrap();
        prop_assert_eq!(Packet::decode(&wire, &limits()).unwrap(), p);
    }

    #[test]
    fn password_hiding_round_trips(
        password in proptest::collection::vec(any::<u8>(), 0..=128),
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        auth in any::<[u8; 16]>(),
    ) {
        let s = SharedSecret::new(&secret).unwrap();
        let mut p = Packet::new(Code::ACCESS_REQUEST, 0, auth);
        p.set_user_password(&password, &s).unwrap();
        let hidden = p.first(attr::USER_PASSWORD).unwrap();
        prop_assert_eq!(hidden.len(), password.len().div_ceil(16).max(1) * 16);
        let mut expected = password.clone();
        while expected.last() == Some(&0) { expected.pop(); }
        let back = p.user_password(&s).unwrap().unwrap();
        prop_assert_eq!(back.as_slice(), &expected[..]);
    }

    #[test]
    fn signed_responses_verify_and_any_flipped_bit_is_caught(
        p in arb_packet(),
        auth in any::<[u8; 16]>(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let s = secret();
        let mut p = p;
        p.retain(|a| a.kind() != attr::MESSAGE_AUTHENTICATOR);
        if p.wire_len() + 18 > MAX_PACKET_LEN { return Ok(()); }
        let wire = p.encode_response(&auth, &s).unwrap();
        let d = Packet::decode(&wire, &limits()).unwrap();
        prop_assert_eq!(d.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
        d.verify_response_authenticator(&auth, &s).unwrap();
        prop_assert_eq!(d.verify_message_authenticator(&s, Some(&auth)), Ok(MessageAuthenticator::Valid));
        let mut bad = wire.clone();
        bad[flip.index(wire.len())] ^= 1 << bit;
        if let Ok(d) = Packet::decode(&bad, &limits()) {
            let ra = d.verify_response_authenticator(&auth, &s);
            prop_assert!(ra.is_err(), "a flipped bit passed the Response Authenticator");
        }
    }

    #[test]
    fn signed_requests_verify_and_any_flipped_bit_is_caught(
        p in arb_packet(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let s = secret();
        if p.wire_len() + 18 > MAX_PACKET_LEN { return Ok(()); }
        let wire = p.encode_request(&s).unwrap();
        let d = Packet::decode(&wire, &limits()).unwrap();
        prop_assert_eq!(d.verify_message_authenticator(&s, None), Ok(MessageAuthenticator::Valid));
        let mut bad = wire.clone();
        bad[flip.index(wire.len())] ^= 1 << bit;
        if let Ok(d) = Packet::decode(&bad, &limits()) {
            prop_assert_ne!(d.verify_message_authenticator(&s, None), Ok(MessageAuthenticator::Valid));
        }
    }

    #[test]
    fn endpoint_never_panics_on_junk(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..20)) {
        let mut ep = endpoint::<()>();
        let c = client(Mode::Challenge).require_message_authenticator(false);
        for (i, d) in datagrams.iter().enumerate() {
            let _ = ep.handle(t(i as u64), nas(), Some(&c), d);
        }
        prop_assert_eq!(ep.stats().datagrams, datagrams.len() as u64);
    }

    #[test]
    fn split_trailing_code_puts_it_back_together(
        password in proptest::collection::vec(any::<u8>(), 1..40),
        code in "[0-9]{6,8}",
    ) {
        let digits = code.len();
        let input = [password.clone(), code.clone().into_bytes()].concat();
        let (p, c) = split_trailing_code(&input, digits).unwrap();
        prop_assert_eq!(p.as_slice(), &password[..]);
        prop_assert_eq!(c.as_slice(), code.as_bytes());
    }
}
