//! radclient (FreeRADIUS 3.2 `freeradius-utils`), a client nobody here
//! wrote, against the endpoint behind a minimal UDP loop on 127.0.0.1:
//! otp accept and reject, the two-step challenge with the State taken from
//! the first reply, Status-Server, and a request without a
//! Message-Authenticator that gets no answer. radclient checks the
//! Response Authenticator and the Message-Authenticator of every reply.
//!
//! Without radclient the tests print `SKIPPED:` and pass, except under
//! `CI=true`, where that is a failure (`.ci/setup` installs freeradius-utils).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write as _;
use std::net::UdpSocket;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use mfa_radius::{Credentials, Decision, Event, Mode, Stats};

fn radclient(test: &str) -> bool {
    let ok = Command::new("radclient")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        // One SKIPPED line named after the test (a failure under CI=true).
        let _ = test;
        mfa_test_support::skip!("radclient (freeradius-utils) is not installed");
    }
    ok
}

/// The business rules of this test: code 123456 for otp; password hunter2
/// then code 654321 for challenge.
fn decide(credentials: &Credentials<()>) -> Decision<()> {
    match credentials {
        Credentials::Code(c) if c.as_slice() == b"123456" => Decision::Accept {
            message: Some("Welcome".into()),
        },
        Credentials::Password(p) if p.as_slice() == b"hunter2" => Decision::Challenge {
            message: "Enter the code from your authenticator app".into(),
            session: (),
        },
        Credentials::ChallengeResponse { response, .. } if response.as_slice() == b"654321" => {
            Decision::Accept { message: None }
        }
        _ => Decision::Reject {
            message: Some("Wrong code".into()),
        },
    }
}

/// Serves `mode` on 127.0.0.1 while `run` drives radclient against the
/// port; returns the endpoint's counters.
fn serve(mode: Mode, run: impl FnOnce(u16)) -> Stats {
    serve_with(mode, false, run)
}

/// With `tamper`, each reply's Message-Authenticator is flipped and the
/// Response Authenticator recomputed, so only the former is wrong.
fn serve_with(mode: Mode, tamper: bool, run: impl FnOnce(u16)) -> Stats {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let server = s.spawn(|| {
            let client = client(mode);
            let mut ep = endpoint::<()>();
            let mut rng = TestRng(7);
            let mut buf = [0u8; 4097];
            let start = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let Ok((n, source)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let now = t(start.elapsed().as_secs());
                let known = source.ip().is_loopback().then_some(&client);
                let request_authenticator: [u8; 16] = buf[4..20].try_into().unwrap();
                let mut transmit = match ep.handle(now, source, known, &buf[..n]) {
                    Event::Request(pending) => {
                        let decision = decide(&pending.request().credentials);
                        ep.respond(now, pending, decision, &mut rng).unwrap()
                    }
                    Event::Reply { transmit, .. } => transmit,
                    Event::Dropped(_) => continue,
                };
                if tamper {
                    spoil_message_authenticator(&mut transmit.contents, &request_authenticator);
                }
                socket
                    .send_to(&transmit.contents, transmit.destination)
                    .unwrap();
            }
            *ep.stats()
        });
        run(port);
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap()
    })
}

fn spoil_message_authenticator(reply: &mut [u8], request_authenticator: &[u8; 16]) {
    use md5::{Digest, Md5};
    assert_eq!(reply[20], mfa_radius::attr::MESSAGE_AUTHENTICATOR);
    reply[22] ^= 1;
    let mut h = Md5::new();
    h.update(&reply[..4]);
    h.update(request_authenticator);
    h.update(&reply[20..]);
    h.update(SECRET);
    let ra: [u8; 16] = h.finalize().into();
    reply[4..20].copy_from_slice(&ra);
}

fn send(port: u16, command: &str, input: &str) -> Output {
    let mut child = Command::new("radclient")
        .args(["-x", "-r", "1", "-t", "1"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(command)
        .arg(std::str::from_utf8(SECRET).unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn radclient_otp_accept_and_reject() {
    if !radclient("radclient_otp_accept_and_reject") {
        return;
    }
    let stats = serve(Mode::Otp, |port| {
        let ok = send(
            port,
            "auth",
            "User-Name = \"nemo\", User-Password = \"123456\", Message-Authenticator = 0x00\n",
        );
        let out = text(&ok);
        assert_eq!(ok.status.code(), Some(0), "{out}");
        assert!(out.contains("Received Access-Accept"), "{out}");
        assert!(out.contains("Reply-Message = \"Welcome\""), "{out}");
        let bad = send(
            port,
            "auth",
            "User-Name = \"nemo\", User-Password = \"000000\", Message-Authenticator = 0x00\n",
        );
        let out = text(&bad);
        assert_eq!(bad.status.code(), Some(1), "{out}");
        assert!(out.contains("Received Access-Reject"), "{out}");
        assert!(out.contains("Wrong code"), "{out}");
    });
    assert_eq!((stats.accepts, stats.rejects), (1, 1));
    assert_eq!(stats.message_authenticator_invalid, 0);
}

#[test]
fn radclient_challenge_then_code_with_the_state() {
    if !radclient("radclient_challenge_then_code_with_the_state") {
        return;
    }
    let stats = serve(Mode::Challenge, |port| {
        let first = send(
            port,
            "auth",
            "User-Name = \"nemo\", User-Password = \"hunter2\", Message-Authenticator = 0x00\n",
        );
        let out = text(&first);
        // radclient exits 1 on an Access-Challenge.
        assert!(out.contains("Received Access-Challenge"), "{out}");
        assert!(
            out.contains("Reply-Message = \"Enter the code from your authenticator app\""),
            "{out}"
        );
        let state = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("State = "))
            .unwrap_or_else(|| panic!("no State in {out}"))
            .to_string();
        let second = send(
            port,
            "auth",
            &format!(
                "User-Name = \"nemo\", User-Password = \"654321\", State = {state}, Message-Authenticator = 0x00\n"
            ),
        );
        let out = text(&second);
        assert_eq!(second.status.code(), Some(0), "{out}");
        assert!(out.contains("Received Access-Accept"), "{out}");
        // The State is used up.
        let replay = send(
            port,
            "auth",
            &format!(
                "User-Name = \"nemo\", User-Password = \"654321\", State = {state}, Message-Authenticator = 0x00\n"
            ),
        );
        assert!(
            text(&replay).contains("Received Access-Reject"),
            "{}",
            text(&replay)
        );
    });
    assert_eq!(
        (stats.challenges, stats.accepts, stats.protocol_rejects),
        (1, 1, 1)
    );
}

#[test]
fn radclient_status_server() {
    if !radclient("radclient_status_server") {
        return;
    }
    let stats = serve(Mode::Otp, |port| {
        let o = send(port, "status", "Message-Authenticator = 0x00\n");
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("Received Access-Accept"), "{out}");
    });
    assert_eq!(stats.status_server, 1);
}

#[test]
fn radclient_request_without_message_authenticator_gets_no_answer() {
    if !radclient("radclient_request_without_message_authenticator_gets_no_answer") {
        return;
    }
    let stats = serve(Mode::Otp, |port| {
        let o = send(
            port,
            "auth",
            "User-Name = \"nemo\", User-Password = \"123456\"\n",
        );
        let out = text(&o);
        assert_ne!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("No reply from server"), "{out}");
    });
    // Every copy radclient sent was dropped, none answered.
    assert!(stats.message_authenticator_missing >= 1);
    assert_eq!(stats.requests, 0);
}

#[test]
fn radclient_refuses_a_reply_whose_message_authenticator_is_wrong() {
    // Shows that the tests above mean something: radclient does check the
    // Message-Authenticator of our replies, not only the Response Authenticator.
    if !radclient("radclient_refuses_a_reply_whose_message_authenticator_is_wrong") {
        return;
    }
    serve_with(Mode::Otp, true, |port| {
        let o = send(
            port,
            "auth",
            "User-Name = \"nemo\", User-Password = \"123456\", Message-Authenticator = 0x00\n",
        );
        let out = text(&o);
        assert_ne!(o.status.code(), Some(0), "{out}");
        assert!(!out.contains("Received Access-Accept"), "{out}");
        assert!(out.contains("invalid Message-Authenticator"), "{out}");
    });
}
