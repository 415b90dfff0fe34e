//! Every flow of the endpoint, replayed with a deterministic generator and
//! explicit times.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mfa_radius::{
    Answered, Attribute, Client, Code, Config, Credentials, Decision, Dropped, Endpoint, Error,
    MAX_REPLY_MESSAGE_LEN, MessageAuthenticator, Mode, OutgoingRequest, Packet, RejectReason,
    STATE_LEN, SharedSecret, StateError, attr, split_trailing_code,
};

fn accept() -> Decision<u32> {
    Decision::Accept { message: None }
}

fn state_of(reply: &Packet) -> Attribute {
    Attribute::new(attr::STATE, reply.first(attr::STATE).unwrap().to_vec()).unwrap()
}

/// The first half of a challenge flow: returns the Access-Challenge.
fn challenge(ep: &mut Endpoint<u32>, rng: &mut TestRng, client: &Client, data: u32) -> Packet {
    let first = request(rng, 1, "nemo", "hunter2", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(client), first.bytes()));
    match &pending.request().credentials {
        Credentials::Password(p) | Credentials::Code(p) => assert_eq!(p.as_slice(), b"hunter2"),
        other => panic!("{other:?}"),
    }
    let decision = Decision::Challenge {
        message: "Enter the code from your authenticator app".into(),
        session: data,
    };
    let reply = ep.respond(t(0), pending, decision, rng).unwrap();
    first
        .verify_response(&reply.contents, &secret(), &limits(), true)
        .unwrap()
}

#[test]
fn otp_mode_passes_the_code_and_sends_a_verified_accept() {
    let mut rng = TestRng(1);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 7, "nemo", "123456", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let r = pending.request();
    assert_eq!(
        (r.user_name.as_str(), r.client.as_str(), r.mode),
        ("nemo", "vpn", Mode::Otp)
    );
    assert!(r.message_authenticator);
    match &r.credentials {
        Credentials::Code(c) => assert_eq!(c.as_slice(), b"123456"),
        other => panic!("{other:?}"),
    }
    let transmit = ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    assert_eq!(transmit.destination, nas());
    let reply = req
        .verify_response(&transmit.contents, &secret(), &limits(), true)
        .unwrap();
    assert_eq!(reply.code, Code::ACCESS_ACCEPT);
    assert_eq!(reply.identifier, 7);
    assert_eq!(reply.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    assert_eq!(ep.stats().accepts, 1);
}

#[test]
fn otp_mode_reject_carries_the_reply_message() {
    let mut rng = TestRng(2);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 8, "nemo", "000000", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let decision = Decision::Reject {
        message: Some("Wrong code".into()),
    };
    let transmit = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    let reply = req
        .verify_response(&transmit.contents, &secret(), &limits(), true)
        .unwrap();
    assert_eq!(reply.code, Code::ACCESS_REJECT);
    assert_eq!(reply.first(attr::REPLY_MESSAGE), Some(&b"Wrong code"[..]));
    assert_eq!(reply.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    assert_eq!(ep.stats().rejects, 1);
}

#[test]
fn long_reply_message_is_split_into_253_octet_attributes_and_capped() {
    let mut rng = TestRng(3);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    for (len, expect_len) in [
        (253, 253),
        (254, 254),
        (600, 600),
        (MAX_REPLY_MESSAGE_LEN + 500, MAX_REPLY_MESSAGE_LEN),
    ] {
        let req = request(&mut rng, 9, "nemo", "1", vec![]);
        let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
        // Multi-octet characters: the cap must not cut one in half.
        let message: String = "é".repeat(len / 2) + &"x".repeat(len % 2);
        let decision = Decision::Reject {
            message: Some(message.clone()),
        };
        let transmit = ep.respond(t(0), pending, decision, &mut rng).unwrap();
        let reply = decode(&transmit.contents);
        let parts: Vec<&[u8]> = reply.all(attr::REPLY_MESSAGE).collect();
        assert!(parts.iter().all(|p| p.len() <= 253));
        assert!(parts[..parts.len() - 1].iter().all(|p| p.len() == 253));
        let joined: Vec<u8> = parts.concat();
        let text = String::from_utf8(joined).unwrap();
        assert_eq!(text.len(), expect_len.min(message.len()));
        assert!(message.starts_with(&text));
    }
}

#[test]
fn password_otp_mode_passes_the_input_whole_and_the_helper_splits_it() {
    let mut rng = TestRng(4);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::PasswordOtp);
    let req = request(&mut rng, 1, "nemo", "correct horse287082", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let Credentials::PasswordAndCode(input) = &pending.request().credentials else {
        panic!("{:?}", pending.request().credentials)
    };
    let (password, code) = split_trailing_code(input, 6).unwrap();
    assert_eq!(password.as_slice(), b"correct horse");
    assert_eq!(code.as_slice(), b"287082");
    assert!(split_trailing_code(input, 8).is_none()); // "horse287082" has only 6 digits at the end
    assert!(split_trailing_code(b"12345678", 8).is_none());
    assert!(split_trailing_code(b"pw", 0).is_none());
    ep.respond(t(0), pending, accept(), &mut rng).unwrap();
}

#[test]
fn challenge_mode_password_then_code_with_the_state() {
    let mut rng = TestRng(5);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 42);
    assert_eq!(ch.code, Code::ACCESS_CHALLENGE);
    assert_eq!(ch.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    assert_eq!(
        ch.first(attr::REPLY_MESSAGE),
        Some(&b"Enter the code from your authenticator app"[..])
    );
    assert_eq!(ch.first(attr::STATE).unwrap().len(), STATE_LEN);
    assert_eq!(ep.sessions(), 1);
    assert_eq!(ep.stats().challenges, 1);

    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    let mut pending = expect_request(ep.handle(t(30), nas(), Some(&client), second.bytes()));
    let Credentials::ChallengeResponse { response, session } =
        &mut pending.request_mut().credentials
    else {
        panic!()
    };
    assert_eq!(response.as_slice(), b"287082");
    assert_eq!(session.user_name, "nemo");
    assert_eq!(session.client, "vpn");
    assert_eq!(session.source, nas().ip());
    assert_eq!(session.created, t(0));
    assert_eq!(session.data, 42);
    assert_eq!(ep.sessions(), 0, "single use: taken out");
    let transmit = ep.respond(t(30), pending, accept(), &mut rng).unwrap();
    let reply = second
        .verify_response(&transmit.contents, &secret(), &limits(), true)
        .unwrap();
    assert_eq!(reply.code, Code::ACCESS_ACCEPT);
    assert_eq!(reply.first(attr::STATE), None);
}

#[test]
fn challenge_state_works_from_another_source_port_of_the_same_client() {
    let mut rng = TestRng(6);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let other_port = "192.0.2.10:40001".parse().unwrap();
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    let pending = expect_request(ep.handle(t(1), other_port, Some(&client), second.bytes()));
    assert!(matches!(
        pending.request().credentials,
        Credentials::ChallengeResponse { .. }
    ));
}

#[allow(clippy::too_many_arguments)]
fn answer_is_rejected(
    ep: &mut Endpoint<u32>,
    rng: &mut TestRng,
    at: u64,
    source: std::net::SocketAddr,
    client: &Client,
    user: &str,
    state: Attribute,
    expected: StateError,
) -> Packet {
    let req = request(rng, 3, user, "287082", vec![state]);
    let (transmit, reason) = expect_reply(ep.handle(t(at), source, Some(client), req.bytes()));
    assert_eq!(
        reason,
        Answered::Rejected {
            user_name: Some(user.into()),
            reason: RejectReason::State(expected)
        }
    );
    let reply = req
        .verify_response(&transmit.contents, &secret(), &limits(), true)
        .unwrap();
    assert_eq!(reply.code, Code::ACCESS_REJECT);
    reply
}

#[test]
fn challenge_state_replayed_is_rejected() {
    let mut rng = TestRng(7);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    let pending = expect_request(ep.handle(t(5), nas(), Some(&client), second.bytes()));
    ep.respond(t(5), pending, accept(), &mut rng).unwrap();
    // The same State in a new request (new authenticator): used up.
    answer_is_rejected(
        &mut ep,
        &mut rng,
        6,
        nas(),
        &client,
        "nemo",
        state_of(&ch),
        StateError::Unknown,
    );
    assert_eq!(ep.stats().requests, 2);
    assert_eq!(ep.stats().protocol_rejects, 1);
}

#[test]
fn challenge_state_expired_is_rejected() {
    let mut rng = TestRng(8);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let ttl = Config::default().session_ttl;
    answer_is_rejected(
        &mut ep,
        &mut rng,
        ttl,
        nas(),
        &client,
        "nemo",
        state_of(&ch),
        StateError::Expired,
    );
    // Gone now, and long after it is simply unknown.
    answer_is_rejected(
        &mut ep,
        &mut rng,
        ttl + 1,
        nas(),
        &client,
        "nemo",
        state_of(&ch),
        StateError::Unknown,
    );
}

#[test]
fn challenge_state_one_second_before_expiry_is_accepted() {
    let mut rng = TestRng(9);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let ttl = Config::default().session_ttl;
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    expect_request(ep.handle(t(ttl - 1), nas(), Some(&client), second.bytes()));
}

#[test]
fn challenge_state_from_another_client_is_rejected_and_used_up() {
    let mut rng = TestRng(10);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let other = Client::new("firewall", secret(), Mode::Challenge);
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &other,
        "nemo",
        state_of(&ch),
        StateError::WrongClient,
    );
    // It has leaked: not even the right client can use it now.
    answer_is_rejected(
        &mut ep,
        &mut rng,
        2,
        nas(),
        &client,
        "nemo",
        state_of(&ch),
        StateError::Unknown,
    );
}

#[test]
fn challenge_state_from_another_address_is_rejected() {
    let mut rng = TestRng(11);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let elsewhere = "198.51.100.7:40000".parse().unwrap();
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        elsewhere,
        &client,
        "nemo",
        state_of(&ch),
        StateError::WrongClient,
    );
}

#[test]
fn challenge_state_for_another_user_is_rejected() {
    let mut rng = TestRng(12);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &client,
        "mallory",
        state_of(&ch),
        StateError::WrongUser,
    );
}

#[test]
fn forged_state_is_rejected_and_leaves_the_real_session_alone() {
    let mut rng = TestRng(13);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let real = ch.first(attr::STATE).unwrap().to_vec();
    // Same lookup id, wrong tag.
    let mut forged = real.clone();
    forged[STATE_LEN - 1] ^= 1;
    let forged = Attribute::new(attr::STATE, forged).unwrap();
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &client,
        "nemo",
        forged,
        StateError::Unknown,
    );
    // Wrong length, and a state this endpoint never issued.
    let short = Attribute::new(attr::STATE, real[..STATE_LEN - 1].to_vec()).unwrap();
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &client,
        "nemo",
        short,
        StateError::Unknown,
    );
    let random = Attribute::new(attr::STATE, vec![0x5a; STATE_LEN]).unwrap();
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &client,
        "nemo",
        random,
        StateError::Unknown,
    );
    // The real one still works.
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    expect_request(ep.handle(t(2), nas(), Some(&client), second.bytes()));
}

#[test]
fn state_in_otp_mode_is_checked_like_any_other() {
    // A server may challenge in any mode (a code sent by SMS); an answer
    // with a State we did not issue is rejected, not passed on as a code.
    let mut rng = TestRng(14);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let random = Attribute::new(attr::STATE, vec![1; 10]).unwrap();
    answer_is_rejected(
        &mut ep,
        &mut rng,
        0,
        nas(),
        &client,
        "nemo",
        random,
        StateError::Unknown,
    );
    let ch = challenge(&mut ep, &mut rng, &client, 5);
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), second.bytes()));
    assert!(matches!(
        pending.request().credentials,
        Credentials::ChallengeResponse { .. }
    ));
}

#[test]
fn retransmission_gets_identical_bytes_and_no_second_decision() {
    let mut rng = TestRng(15);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 1, "nemo", "000000", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let decision = Decision::Reject {
        message: Some("Wrong code".into()),
    };
    let first = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    for i in 1..=5 {
        let (transmit, reason) = expect_reply(ep.handle(t(i), nas(), Some(&client), req.bytes()));
        assert_eq!(reason, Answered::Retransmission);
        assert_eq!(transmit, first);
    }
    assert_eq!(ep.stats().requests, 1);
    assert_eq!(ep.stats().rejects, 1);
    assert_eq!(ep.stats().retransmissions, 5);
}

#[test]
fn retransmission_while_deciding_is_dropped_until_answered_or_abandoned() {
    let mut rng = TestRng(16);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    assert_eq!(
        expect_dropped(ep.handle(t(1), nas(), Some(&client), req.bytes())),
        Dropped::InProgress
    );
    ep.abandon(pending);
    let pending = expect_request(ep.handle(t(2), nas(), Some(&client), req.bytes()));
    let first = ep.respond(t(2), pending, accept(), &mut rng).unwrap();
    let (again, _) = expect_reply(ep.handle(t(3), nas(), Some(&client), req.bytes()));
    assert_eq!(again, first);
    assert_eq!(ep.stats().in_progress, 1);
    assert_eq!(ep.stats().abandoned, 1);
}

#[test]
fn retransmission_of_a_challenge_answer_is_answered_from_the_cache() {
    let mut rng = TestRng(17);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    let second = request(&mut rng, 2, "nemo", "287082", vec![state_of(&ch)]);
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), second.bytes()));
    let first = ep.respond(t(1), pending, accept(), &mut rng).unwrap();
    // The State is used up, but the retransmission never gets that far.
    let (again, reason) = expect_reply(ep.handle(t(2), nas(), Some(&client), second.bytes()));
    assert_eq!((again, reason), (first, Answered::Retransmission));
}

#[test]
fn retransmission_of_a_protocol_reject_gets_the_same_bytes() {
    let mut rng = TestRng(18);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let random = Attribute::new(attr::STATE, vec![1; STATE_LEN]).unwrap();
    let req = request(&mut rng, 4, "nemo", "1", vec![random]);
    let (first, _) = expect_reply(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let (again, reason) = expect_reply(ep.handle(t(1), nas(), Some(&client), req.bytes()));
    assert_eq!((again, reason), (first, Answered::Retransmission));
    assert_eq!(ep.stats().protocol_rejects, 1);
}

#[test]
fn same_identifier_and_authenticator_from_another_port_is_a_new_request() {
    let mut rng = TestRng(19);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    let other_port = "192.0.2.10:40001".parse().unwrap();
    expect_request(ep.handle(t(0), other_port, Some(&client), req.bytes()));
}

#[test]
fn cached_replies_expire() {
    let mut rng = TestRng(20);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let ttl = Config::default().reply_cache_ttl;
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    assert_eq!(ep.poll_timeout(), Some(t(ttl)));
    expect_reply(ep.handle(t(ttl - 1), nas(), Some(&client), req.bytes()));
    ep.handle_timeout(t(ttl));
    assert_eq!(ep.cached_replies(), 0);
    assert_eq!(ep.poll_timeout(), None);
    expect_request(ep.handle(t(ttl), nas(), Some(&client), req.bytes()));
}

#[test]
fn missing_message_authenticator_is_dropped_never_answered() {
    let mut rng = TestRng(21);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let mut p = Packet::new(Code::ACCESS_REQUEST, 1, [3; 16]);
    p.push(Attribute::new(attr::USER_NAME, b"nemo".to_vec()).unwrap());
    p.set_user_password(b"123456", &secret()).unwrap();
    let wire = p.encode().unwrap();
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &wire)),
        Dropped::MessageAuthenticatorMissing
    );
    // Retransmitted: dropped again, nothing cached.
    expect_dropped(ep.handle(t(1), nas(), Some(&client), &wire));
    assert_eq!(ep.stats().message_authenticator_missing, 2);
    assert_eq!(ep.cached_replies(), 0);
    let _ = &mut rng;
}

#[test]
fn wrong_message_authenticator_is_dropped_never_answered() {
    let mut rng = TestRng(22);
    let mut ep = endpoint::<u32>();
    // A client configured with another secret: a wrong secret on one side.
    let wrong = Client::new(
        "vpn",
        SharedSecret::new(b"not the secret").unwrap(),
        Mode::Otp,
    )
    .require_message_authenticator(false);
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    assert!(matches!(
        expect_dropped(ep.handle(t(0), nas(), Some(&wrong), req.bytes())),
        Dropped::MessageAuthenticatorInvalid(Error::MessageAuthenticatorMismatch { offset: 20 })
    ));
    // An altered packet (one octet of the User-Name) with the right secret.
    let client = client(Mode::Otp);
    let mut altered = req.bytes().to_vec();
    let at = altered.len() - 1 - 18;
    altered[at] ^= 0x20;
    let p = decode(&altered);
    assert_eq!(
        p.verify_message_authenticator(&secret(), None),
        Err(Error::MessageAuthenticatorMismatch { offset: 20 })
    );
    assert!(matches!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &altered)),
        Dropped::MessageAuthenticatorInvalid(_)
    ));
    // A Message-Authenticator of the wrong size, and two of them.
    let mut p = Packet::new(Code::ACCESS_REQUEST, 2, [4; 16]);
    p.push(Attribute::new(attr::MESSAGE_AUTHENTICATOR, vec![0; 15]).unwrap());
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &p.encode().unwrap())),
        Dropped::MessageAuthenticatorInvalid(Error::MessageAuthenticatorLength {
            offset: 20,
            len: 15
        })
    );
    let mut p = Packet::new(Code::ACCESS_REQUEST, 2, [4; 16]);
    p.push(Attribute::new(attr::MESSAGE_AUTHENTICATOR, vec![0; 16]).unwrap());
    p.push(Attribute::new(attr::MESSAGE_AUTHENTICATOR, vec![0; 16]).unwrap());
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &p.encode().unwrap())),
        Dropped::MessageAuthenticatorInvalid(Error::DuplicateMessageAuthenticator { offset: 38 })
    );
    assert_eq!(ep.stats().message_authenticator_invalid, 4);
    assert_eq!(ep.stats().requests, 0);
}

#[test]
fn present_message_authenticator_is_checked_even_when_not_required() {
    let mut rng = TestRng(23);
    let mut ep = endpoint::<u32>();
    let legacy = client(Mode::Otp).require_message_authenticator(false);
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    let mut altered = req.bytes().to_vec();
    altered[22] ^= 1; // inside the Message-Authenticator value
    assert!(matches!(
        expect_dropped(ep.handle(t(0), nas(), Some(&legacy), &altered)),
        Dropped::MessageAuthenticatorInvalid(_)
    ));
    // Replies to a legacy client still carry one, first.
    let pending = expect_request(ep.handle(t(0), nas(), Some(&legacy), req.bytes()));
    let transmit = ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    assert_eq!(
        decode(&transmit.contents).attributes()[0].kind(),
        attr::MESSAGE_AUTHENTICATOR
    );
}

#[test]
fn unknown_client_is_dropped_and_counted() {
    let mut rng = TestRng(24);
    let mut ep = endpoint::<u32>();
    let req = request(&mut rng, 1, "nemo", "123456", vec![]);
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), None, req.bytes())),
        Dropped::UnknownClient
    );
    assert_eq!(ep.stats().unknown_client, 1);
    assert_eq!(ep.stats().datagrams, 1);
}

#[test]
fn malformed_and_unsupported_packets_are_dropped() {
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), &[1, 2, 3])),
        Dropped::Malformed(Error::TooShort { len: 3 })
    );
    for code in [Code::ACCOUNTING_REQUEST, Code::ACCESS_ACCEPT, Code(250)] {
        let wire = Packet::new(code, 1, [0; 16])
            .encode_request(&secret())
            .unwrap();
        assert_eq!(
            expect_dropped(ep.handle(t(0), nas(), Some(&client), &wire)),
            Dropped::UnsupportedCode(code)
        );
    }
    assert_eq!(ep.stats().malformed, 1);
    assert_eq!(ep.stats().unsupported_code, 3);
}

#[test]
fn requests_without_usable_user_name_or_password_are_rejected() {
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let cases: Vec<(Vec<Attribute>, Option<&str>, RejectReason)> = vec![
        (vec![], None, RejectReason::MissingUserName),
        (
            vec![Attribute::new(attr::USER_NAME, vec![]).unwrap()],
            None,
            RejectReason::InvalidUserName,
        ),
        (
            vec![Attribute::new(attr::USER_NAME, vec![0xff, 0xfe]).unwrap()],
            None,
            RejectReason::InvalidUserName,
        ),
        (
            vec![Attribute::new(attr::USER_NAME, b"nemo".to_vec()).unwrap()],
            Some("nemo"),
            RejectReason::MissingUserPassword,
        ),
        (
            vec![
                Attribute::new(attr::USER_NAME, b"nemo".to_vec()).unwrap(),
                Attribute::new(attr::USER_PASSWORD, vec![0; 17]).unwrap(),
            ],
            Some("nemo"),
            RejectReason::InvalidUserPassword(Error::HiddenPasswordLength {
                offset: 44,
                len: 17,
            }),
        ),
    ];
    for (i, (attrs, user, reason)) in cases.into_iter().enumerate() {
        let mut p = Packet::new(Code::ACCESS_REQUEST, i as u8, [i as u8; 16]);
        for a in attrs {
            p.push(a);
        }
        let wire = p.clone().encode_request(&secret()).unwrap();
        let (transmit, answered) = expect_reply(ep.handle(t(0), nas(), Some(&client), &wire));
        assert_eq!(
            answered,
            Answered::Rejected {
                user_name: user.map(String::from),
                reason
            }
        );
        let reply = decode(&transmit.contents);
        assert_eq!(reply.code, Code::ACCESS_REJECT);
        reply
            .verify_response_authenticator(&p.authenticator, &secret())
            .unwrap();
    }
}

#[test]
fn proxy_state_is_copied_unchanged_and_in_order_into_every_reply() {
    let mut rng = TestRng(25);
    let mut ep = endpoint::<u32>();
    let proxy = |v: &[u8]| Attribute::new(attr::PROXY_STATE, v.to_vec()).unwrap();
    let states: Vec<&[u8]> = vec![b"first", b"\x00\x01binary\xff", b"third", b"first"];
    let extra = vec![
        proxy(states[0]),
        Attribute::new(attr::NAS_IDENTIFIER, b"vpn-1".to_vec()).unwrap(),
        proxy(states[1]),
        proxy(states[2]),
        Attribute::new(attr::CALLING_STATION_ID, b"203.0.113.9".to_vec()).unwrap(),
        proxy(states[3]),
    ];
    let check = |bytes: &[u8]| {
        let reply = decode(bytes);
        assert_eq!(reply.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
        let got: Vec<&[u8]> = reply.all(attr::PROXY_STATE).collect();
        assert_eq!(got, states);
    };
    let client = client(Mode::Challenge);
    // Challenge, then accept, reject, and a protocol reject.
    let first = request(&mut rng, 1, "nemo", "pw", extra.clone());
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), first.bytes()));
    assert_eq!(pending.request().nas.identifier.as_deref(), Some("vpn-1"));
    assert_eq!(
        pending.request().nas.calling_station_id.as_deref(),
        Some("203.0.113.9")
    );
    let decision = Decision::Challenge {
        message: "Code?".into(),
        session: 0,
    };
    let ch = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    check(&ch.contents);
    let mut extra2 = extra.clone();
    extra2.push(state_of(&decode(&ch.contents)));
    let second = request(&mut rng, 2, "nemo", "1", extra2);
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), second.bytes()));
    check(
        &ep.respond(t(1), pending, accept(), &mut rng)
            .unwrap()
            .contents,
    );
    let third = request(&mut rng, 3, "nemo", "1", extra.clone());
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), third.bytes()));
    let reject = Decision::Reject {
        message: Some("no".into()),
    };
    check(
        &ep.respond(t(1), pending, reject, &mut rng)
            .unwrap()
            .contents,
    );
    let mut extra4 = extra.clone();
    extra4.push(Attribute::new(attr::STATE, vec![9; 3]).unwrap());
    let fourth = request(&mut rng, 4, "nemo", "1", extra4);
    let (transmit, _) = expect_reply(ep.handle(t(1), nas(), Some(&client), fourth.bytes()));
    check(&transmit.contents);
    // The upstream-side check accepts them too (they are what it sent).
    fourth
        .verify_response(&transmit.contents, &secret(), &limits(), true)
        .unwrap();
}

#[test]
fn too_much_proxy_state_is_dropped() {
    let mut rng = TestRng(26);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let max = Config::default().max_proxy_state_octets;
    let big = |n| Attribute::new(attr::PROXY_STATE, vec![7; n]).unwrap();
    // Exactly at the limit: fine.
    let n = max / 255;
    let mut at_limit: Vec<Attribute> = (0..n).map(|_| big(253)).collect();
    at_limit.push(big(max - n * 255 - 2));
    let req = request(&mut rng, 1, "nemo", "1", at_limit.clone());
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let transmit = ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    assert!(transmit.contents.len() <= 4096);
    at_limit.push(big(1));
    let req = request(&mut rng, 2, "nemo", "1", at_limit);
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), req.bytes())),
        Dropped::ProxyStateTooLong { octets: max + 3 }
    );
}

#[test]
fn largest_replies_fit_into_a_packet() {
    let mut rng = TestRng(27);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let max = Config::default().max_proxy_state_octets;
    let n = max / 255;
    let mut states: Vec<Attribute> = (0..n)
        .map(|_| Attribute::new(attr::PROXY_STATE, vec![7; 253]).unwrap())
        .collect();
    states.push(Attribute::new(attr::PROXY_STATE, vec![7; max - n * 255 - 2]).unwrap());
    let req = request(&mut rng, 1, "nemo", "1", states);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let decision = Decision::Challenge {
        message: "x".repeat(10_000),
        session: 0,
    };
    let transmit = ep.respond(t(0), pending, decision, &mut rng).unwrap();
    assert!(
        transmit.contents.len() <= 4096,
        "{}",
        transmit.contents.len()
    );
}

#[test]
fn full_cache_of_undecided_requests_drops_new_ones() {
    let mut rng = TestRng(28);
    let mut config = Config::default();
    config.reply_cache_capacity = 2;
    let mut ep: Endpoint<u32> = Endpoint::new(config);
    let client = client(Mode::Otp);
    let a = request(&mut rng, 1, "a", "1", vec![]);
    let b = request(&mut rng, 2, "b", "1", vec![]);
    let c = request(&mut rng, 3, "c", "1", vec![]);
    let pa = expect_request(ep.handle(t(0), nas(), Some(&client), a.bytes()));
    let _pb = expect_request(ep.handle(t(0), nas(), Some(&client), b.bytes()));
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&client), c.bytes())),
        Dropped::Busy
    );
    // Once the oldest is answered its reply may be evicted for a new request.
    ep.respond(t(0), pa, accept(), &mut rng).unwrap();
    expect_request(ep.handle(t(0), nas(), Some(&client), c.bytes()));
    assert_eq!(ep.stats().busy, 1);
    assert!(ep.cached_replies() <= 2);
}

#[test]
fn sessions_are_bounded_and_the_oldest_goes() {
    let mut rng = TestRng(29);
    let mut config = Config::default();
    config.session_capacity = 2;
    let mut ep: Endpoint<u32> = Endpoint::new(config);
    let client = client(Mode::Challenge);
    let first = challenge(&mut ep, &mut rng, &client, 1);
    let _second = challenge(&mut ep, &mut rng, &client, 2);
    let third = challenge(&mut ep, &mut rng, &client, 3);
    assert_eq!(ep.sessions(), 2);
    assert_eq!(ep.stats().sessions_evicted, 1);
    answer_is_rejected(
        &mut ep,
        &mut rng,
        1,
        nas(),
        &client,
        "nemo",
        state_of(&first),
        StateError::Unknown,
    );
    let answer = request(&mut rng, 9, "nemo", "1", vec![state_of(&third)]);
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), answer.bytes()));
    match &pending.request().credentials {
        Credentials::ChallengeResponse { session, .. } => assert_eq!(session.data, 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failing_generator_sends_nothing_and_the_retransmission_is_handled_afresh() {
    let mut rng = TestRng(30);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let req = request(&mut rng, 1, "nemo", "pw", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let decision = Decision::Challenge {
        message: "Code?".into(),
        session: 0,
    };
    assert_eq!(
        ep.respond(t(0), pending, decision, &mut FailingRng),
        Err(Error::Rng)
    );
    assert_eq!(ep.sessions(), 0);
    assert_eq!(ep.stats().rng_failures, 1);
    expect_request(ep.handle(t(1), nas(), Some(&client), req.bytes()));
    assert!(
        OutgoingRequest::access_request(1, b"u", b"p", vec![], &secret(), &mut FailingRng).is_err()
    );
}

#[test]
fn vendor_specific_and_unknown_attributes_reach_the_caller_unchanged() {
    let mut rng = TestRng(31);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let vsa = Attribute::new(
        attr::VENDOR_SPECIFIC,
        vec![0, 0, 0x0c, 0x04, 1, 5, b'a', b'b', b'c'],
    )
    .unwrap();
    let unknown = Attribute::new(241, vec![1, 2, 3]).unwrap();
    let req = request(&mut rng, 1, "nemo", "1", vec![vsa.clone(), unknown.clone()]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let attrs = &pending.request().attributes;
    assert!(attrs.contains(&vsa) && attrs.contains(&unknown));
    let got = attrs
        .iter()
        .find(|a| a.kind() == attr::VENDOR_SPECIFIC)
        .unwrap();
    assert_eq!(
        got.vendor_specific(),
        Some((3076, &[1, 5, b'a', b'b', b'c'][..]))
    );
}

#[test]
fn debug_output_never_shows_passwords_or_secrets() {
    let mut rng = TestRng(32);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::PasswordOtp);
    let req = request(&mut rng, 1, "nemo", "sup3rs3cret123456", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let text = format!("{pending:?} {client:?} {ep:?}");
    assert!(!text.contains("sup3rs3cret"), "{text}");
    assert!(!text.contains("shared secret of 32"), "{text}");
    assert!(text.contains("REDACTED"));
}

/// One scripted run of every flow; returns every octet sent.
fn script(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = TestRng(seed);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Challenge);
    let mut out = vec![];
    let ch = challenge(&mut ep, &mut rng, &client, 1);
    out.push(ch.encode().unwrap());
    let second = request(&mut rng, 2, "nemo", "1", vec![state_of(&ch)]);
    let pending = expect_request(ep.handle(t(1), nas(), Some(&client), second.bytes()));
    out.push(
        ep.respond(t(1), pending, accept(), &mut rng)
            .unwrap()
            .contents,
    );
    out.push(
        expect_reply(ep.handle(t(2), nas(), Some(&client), second.bytes()))
            .0
            .contents,
    );
    out
}

#[test]
fn flows_replay_exactly_from_the_same_seed() {
    assert_eq!(script(99), script(99));
    assert_ne!(script(99), script(100));
}

#[test]
fn message_authenticator_of_replies_verifies_with_the_request_authenticator() {
    let mut rng = TestRng(33);
    let mut ep = endpoint::<u32>();
    let client = client(Mode::Otp);
    let req = request(&mut rng, 1, "nemo", "1", vec![]);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&client), req.bytes()));
    let transmit = ep.respond(t(0), pending, accept(), &mut rng).unwrap();
    let reply = decode(&transmit.contents);
    assert_eq!(
        reply.verify_message_authenticator(&secret(), Some(req.authenticator())),
        Ok(MessageAuthenticator::Valid)
    );
    // With the Response Authenticator in place of the request's, it fails:
    // the HMAC was computed before the Response Authenticator.
    assert!(reply.verify_message_authenticator(&secret(), None).is_err());
}

#[test]
fn unsigned_proxy_state_is_dropped_unless_the_client_allows_it() {
    let mut rng = TestRng(34);
    let mut ep = endpoint::<u32>();
    let legacy = client(Mode::Otp).require_message_authenticator(false);
    let mut p = Packet::new(Code::ACCESS_REQUEST, 1, [3; 16]);
    p.push(Attribute::new(attr::USER_NAME, b"nemo".to_vec()).unwrap());
    p.set_user_password(b"123456", &secret()).unwrap();
    p.push(Attribute::new(attr::PROXY_STATE, b"injected".to_vec()).unwrap());
    let wire = p.encode().unwrap();
    assert_eq!(
        expect_dropped(ep.handle(t(0), nas(), Some(&legacy), &wire)),
        Dropped::ProxyStateWithoutMessageAuthenticator
    );
    assert_eq!(ep.stats().proxy_state_without_message_authenticator, 1);
    // Signed, it is fine; unsigned from a proxy allowed to, too.
    let signed = request(
        &mut rng,
        2,
        "nemo",
        "1",
        vec![Attribute::new(attr::PROXY_STATE, b"p".to_vec()).unwrap()],
    );
    expect_request(ep.handle(t(0), nas(), Some(&legacy), signed.bytes()));
    let proxy = legacy.limit_proxy_state(false);
    let pending = expect_request(ep.handle(t(0), nas(), Some(&proxy), &wire));
    let transmit = ep
        .respond(t(0), pending, Decision::Accept { message: None }, &mut rng)
        .unwrap();
    let reply = decode(&transmit.contents);
    assert_eq!(reply.first(attr::PROXY_STATE), Some(&b"injected"[..]));
}
