//! The worked examples of the RFCs, octet for octet.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use mfa_radius::{
    Attribute, Client, Code, Dropped, Event, MessageAuthenticator, Mode, Packet, SharedSecret, attr,
};

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// RFC 2865 §7.1 "User Telnet to Specified Host", shared secret "xyzzy5461".
const RFC2865_7_1_REQUEST: &str = "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
    98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
    93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
    01 10 05 06 00 00 00 03";
const RFC2865_7_1_ACCEPT: &str = "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
    9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
    0e 06 c0 a8 01 03";
/// RFC 5997 §6.1, shared secret "xyzzy5461".
const RFC5997_6_1_REQUEST: &str = "0c da 00 26 8a 54 f4 68 6f b3 94 c5 28 66 e3 02
    18 5d 06 23 50 12 5a 66 5e 2e 1e 84 11 f3 e2 43
    82 20 97 c8 4f a3";
const RFC5997_6_1_RESPONSE: &str = "02 da 00 14 ef 0d 55 2a 4b f2 d6 93 ec 2b 6f e8
    b5 41 1d 66";

fn xyzzy() -> SharedSecret {
    SharedSecret::new(b"xyzzy5461").unwrap()
}

#[test]
fn rfc2865_7_1_request_decodes_to_its_attributes_and_password() {
    let wire = hex(RFC2865_7_1_REQUEST);
    let p = Packet::decode(&wire, &limits()).unwrap();
    assert_eq!(p.code, Code::ACCESS_REQUEST);
    assert_eq!(p.identifier, 0);
    assert_eq!(p.attributes().len(), 4);
    assert_eq!(p.first(attr::USER_NAME), Some(&b"nemo"[..]));
    assert_eq!(p.first(attr::NAS_IP_ADDRESS), Some(&[192, 168, 1, 16][..]));
    assert_eq!(p.first(attr::NAS_PORT), Some(&[0, 0, 0, 3][..]));
    let password = p.user_password(&xyzzy()).unwrap().unwrap();
    assert_eq!(password.as_slice(), b"arctangent");
    assert_eq!(p.encode().unwrap(), wire);
}

#[test]
fn rfc2865_7_1_password_hides_to_the_rfc_octets() {
    let wire = hex(RFC2865_7_1_REQUEST);
    let p = Packet::decode(&wire, &limits()).unwrap();
    let mut rebuilt = Packet::new(Code::ACCESS_REQUEST, 0, p.authenticator);
    rebuilt.push(Attribute::new(attr::USER_NAME, b"nemo".to_vec()).unwrap());
    rebuilt.set_user_password(b"arctangent", &xyzzy()).unwrap();
    rebuilt.push(Attribute::new(attr::NAS_IP_ADDRESS, vec![192, 168, 1, 16]).unwrap());
    rebuilt.push(Attribute::new(attr::NAS_PORT, vec![0, 0, 0, 3]).unwrap());
    assert_eq!(rebuilt.encode().unwrap(), wire);
}

#[test]
fn rfc2865_7_1_accept_has_the_rfc_response_authenticator() {
    let request = Packet::decode(&hex(RFC2865_7_1_REQUEST), &limits()).unwrap();
    let mut accept = Packet::new(Code::ACCESS_ACCEPT, 0, [0; 16]);
    accept.push(Attribute::new(6, vec![0, 0, 0, 1]).unwrap()); // Service-Type = Login
    accept.push(Attribute::new(15, vec![0, 0, 0, 0]).unwrap()); // Login-Service = Telnet
    accept.push(Attribute::new(14, vec![192, 168, 1, 3]).unwrap()); // Login-IP-Host
    let wire = accept
        .encode_response_as_is(&request.authenticator, &xyzzy())
        .unwrap();
    assert_eq!(wire, hex(RFC2865_7_1_ACCEPT));
    // and the check the other way round
    let decoded = Packet::decode(&wire, &limits()).unwrap();
    decoded
        .verify_response_authenticator(&request.authenticator, &xyzzy())
        .unwrap();
    let wrong = SharedSecret::new(b"xyzzy5460").unwrap();
    assert_eq!(
        decoded.verify_response_authenticator(&request.authenticator, &wrong),
        Err(mfa_radius::Error::ResponseAuthenticatorMismatch)
    );
}

#[test]
fn rfc5997_6_1_status_server_message_authenticator_verifies() {
    let wire = hex(RFC5997_6_1_REQUEST);
    let p = Packet::decode(&wire, &limits()).unwrap();
    assert_eq!(p.code, Code::STATUS_SERVER);
    assert_eq!(p.identifier, 0xda);
    assert_eq!(
        p.verify_message_authenticator(&xyzzy(), None),
        Ok(MessageAuthenticator::Valid)
    );
    assert_eq!(p.encode().unwrap(), wire);
}

#[test]
fn rfc5997_6_1_response_without_attributes_matches_the_rfc() {
    let request = Packet::decode(&hex(RFC5997_6_1_REQUEST), &limits()).unwrap();
    let accept = Packet::new(Code::ACCESS_ACCEPT, 0xda, [0; 16]);
    let wire = accept
        .encode_response_as_is(&request.authenticator, &xyzzy())
        .unwrap();
    assert_eq!(wire, hex(RFC5997_6_1_RESPONSE));
}

#[test]
fn rfc5997_status_server_is_answered_with_a_signed_accept() {
    let client = Client::new("probe", xyzzy(), Mode::Otp);
    let mut ep = endpoint::<()>();
    let wire = hex(RFC5997_6_1_REQUEST);
    let (transmit, reason) = expect_reply(ep.handle(t(0), nas(), Some(&client), &wire));
    assert_eq!(reason, mfa_radius::Answered::StatusServer);
    let reply = decode(&transmit.contents);
    let request = decode(&wire);
    assert_eq!((reply.code, reply.identifier), (Code::ACCESS_ACCEPT, 0xda));
    assert_eq!(reply.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    reply
        .verify_response_authenticator(&request.authenticator, &xyzzy())
        .unwrap();
    assert_eq!(
        reply.verify_message_authenticator(&xyzzy(), Some(&request.authenticator)),
        Ok(MessageAuthenticator::Valid)
    );
    assert_eq!(ep.stats().status_server, 1);
}

#[test]
fn rfc5997_status_server_without_message_authenticator_is_dropped_even_if_not_required() {
    let client = Client::new("probe", xyzzy(), Mode::Otp).require_message_authenticator(false);
    let mut ep = endpoint::<()>();
    let mut p = Packet::new(Code::STATUS_SERVER, 1, [9; 16]);
    p.push(Attribute::new(attr::NAS_IDENTIFIER, b"probe".to_vec()).unwrap());
    let wire = p.encode().unwrap();
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &wire)),
        Dropped::MessageAuthenticatorMissing
    );
}

#[test]
fn rfc2865_7_1_request_without_message_authenticator_is_dropped_by_default() {
    let client = Client::new("nas", xyzzy(), Mode::Otp);
    let mut ep = endpoint::<()>();
    let wire = hex(RFC2865_7_1_REQUEST);
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &wire)),
        Dropped::MessageAuthenticatorMissing
    );
    assert_eq!(ep.stats().message_authenticator_missing, 1);
    // A legacy client that cannot send one: the request goes to the caller.
    let legacy = client.require_message_authenticator(false);
    let pending = match ep.handle(t(0), nas(), Some(&legacy), &wire) {
        Event::Request(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(pending.request().user_name, "nemo");
    assert!(!pending.request().message_authenticator);
    assert_eq!(
        pending.request().nas.ip_address,
        Some(std::net::Ipv4Addr::new(192, 168, 1, 16))
    );
    assert_eq!(pending.request().nas.port, Some(3));
}
