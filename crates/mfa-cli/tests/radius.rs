//! `mfa radius serve`, the real binary, driven by real clients: radclient
//! (FreeRADIUS 3.2 `freeradius-utils`) for otp accept/reject/replay, the
//! two-step challenge (authenticator app and SMS), Status-Server and a
//! wrong secret; a small UDP sender built on mfa-radius's client side for
//! what radclient cannot do (an unknown source address, an exact
//! retransmission, junk, a request in flight at SIGTERM).
//!
//! Without radclient the radclient tests print `SKIPPED:` and pass, except
//! under `CI=true`, where that is a failure (`.ci/setup` installs
//! freeradius-utils).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mfa_oath::{HotpParams, Secret, UnixTime};
use mfa_radius::{Attribute, Code, Limits, OutgoingRequest, SharedSecret, attr};
use mfa_store::{ImportMode, MasterKey, NewToken, Store, TokenKind, UserProfile};

const SECRET: &str = "radius-test-secret-0123";
/// RFC 4226 Appendix D, counters 0..: the token's codes (0 is used to activate).
const HOTP: [&str; 8] = [
    "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
];

/// Whether radclient runs; if not, SKIPPED (a failure under CI=true).
fn radclient() -> bool {
    let ok = Command::new("radclient")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        mfa_test_support::skip!("radclient (freeradius-utils) is not installed");
    }
    ok
}

struct TestRng(u8);
impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from(self.0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(self.0))
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for b in d {
            self.0 = self.0.wrapping_mul(37).wrapping_add(11);
            *b = self.0;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

/// A store with user `nemo` (HOTP token, RFC 4226 key, counter 0 used),
/// user `sam` (a phone, no token), a key file, and the directory.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::new(1, [7; 32]);
        std::fs::write(
            dir.path().join("mfa.key"),
            format!("1:{}\n", "07".repeat(32)),
        )
        .unwrap();
        let store = Store::open(
            &format!("sqlite:{}", dir.path().join("mfa.db").display()),
            &key,
        )
        .unwrap();
        let t0 = UnixTime::from_secs(1_700_000_000);
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let token = NewToken::new("H-1", TokenKind::Hotp(HotpParams::default()), secret);
        store.import([token], ImportMode::AllOrNothing, t0).unwrap();
        store.assign("H-1", "nemo", t0).unwrap();
        store.activate("H-1", HOTP[0], t0).unwrap();
        let mut sam = UserProfile::new("sam");
        sam.phone = Some("+31 6 1234 5678".into());
        store.put_user(&sam, t0).unwrap();
        // The SMS "gateway": writes what it is given on stdin to a file.
        let script = dir.path().join("sms.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\ncat > {}\n",
                dir.path().join("sms.txt").display()
            ),
        )
        .unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).unwrap();
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A configuration for `port` with the client `vpn` on 127.0.0.1 in
    /// `mode`, an SMS command, and `extra` appended.
    fn config(&self, port: u16, mode: &str, extra: &str) -> PathBuf {
        let text = format!(
            r#"listen = "127.0.0.1:{port}"
db = "sqlite:mfa.db"
key_file = "mfa.key"
workers = 2
queue = 16

[[clients]]
name = "vpn"
address = "127.0.0.1/32"
secret = "{SECRET}"
mode = "{mode}"

[notify.sms]
command = "{}"
{extra}"#,
            self.path("sms.sh").display()
        );
        let path = self.path("radius.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn store(&self) -> Store {
        Store::open(
            &format!("sqlite:{}", self.path("mfa.db").display()),
            &MasterKey::new(1, [7; 32]),
        )
        .unwrap()
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The running server and its standard error, collected as it comes.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(env: &Env, mode: &str, extra: &str) -> Server {
        let port = free_port();
        let config = env.config(port, mode, extra);
        Server::start_with(port, &config)
    }

    fn start_with(port: u16, config: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mfa"))
            .args(["radius", "serve", "--config"])
            .arg(config)
            .env_remove("MFA_MASTER_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let server = Server { child, port, log };
        server.wait_for("radius server ready");
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.log().contains(text) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {text:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit status (within 10 s).
    fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        let code = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code();
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("the server did not stop after SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.wait_for("radius server stopped");
        (code, self.log())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(port: u16, secret: &str, command: &str, input: &str) -> Output {
    send_waiting(port, secret, command, input, 2)
}

/// [`send`], waiting up to `seconds` for the reply.
fn send_waiting(port: u16, secret: &str, command: &str, input: &str, seconds: u32) -> Output {
    let mut child = Command::new("radclient")
        .args(["-x", "-r", "1", "-t", &seconds.to_string()])
        .arg(format!("127.0.0.1:{port}"))
        .arg(command)
        .arg(secret)
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

fn auth(user: &str, password: &str) -> String {
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
    )
}

fn state_of(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("State = "))
        .unwrap_or_else(|| panic!("no State in {out}"))
        .to_string()
}

/// Our own client, from a chosen local address: sends `datagram` and
/// returns the reply, if one comes within `wait`.
fn exchange(from: &str, port: u16, datagram: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let s = UdpSocket::bind(from).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.send_to(datagram, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 4096];
    s.recv(&mut buf).ok().map(|n| buf[..n].to_vec())
}

fn secret() -> SharedSecret {
    SharedSecret::new(SECRET.as_bytes()).unwrap()
}

fn log_lines(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn radclient_otp_accept_reject_and_replay() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let ok = send(server.port, SECRET, "auth", &auth("nemo", HOTP[1]));
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(
        text(&ok).contains("Received Access-Accept"),
        "{}",
        text(&ok)
    );
    let bad = send(server.port, SECRET, "auth", &auth("nemo", "000000"));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("Received Access-Reject"),
        "{}",
        text(&bad)
    );
    let replay = send(server.port, SECRET, "auth", &auth("nemo", HOTP[1]));
    assert!(
        text(&replay).contains("Received Access-Reject"),
        "{}",
        text(&replay)
    );
    let unknown = send(server.port, SECRET, "auth", &auth("nobody", HOTP[2]));
    assert!(
        text(&unknown).contains("Received Access-Reject"),
        "{}",
        text(&unknown)
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 1, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 3, "{log}");
    assert!(log.contains("user=\"nemo\" client=\"vpn\""), "{log}");
    // Never a code or the secret in the log.
    for secret in [HOTP[1], "000000", SECRET] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
    // Every decision is in the store's log: 4 events.
    let events = env
        .store()
        .auth_log(UnixTime::from_secs(0), UnixTime::from_secs(u64::MAX / 2))
        .unwrap();
    assert_eq!(events.len(), 4);
}

/// Requests sent together (radclient sends them in parallel, so a worker
/// may take them as one batch): one decision each, the same code accepted
/// once.
#[test]
fn radclient_requests_sent_together_get_one_decision_each_and_a_code_is_accepted_once() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let input = [
        auth("nemo", HOTP[1]),
        auth("nemo", HOTP[1]),
        auth("nobody", HOTP[2]),
        auth("nemo", "000000"),
    ]
    .join("\n");
    let out = send(server.port, SECRET, "auth", &input);
    let out = text(&out);
    assert_eq!(out.matches("Received Access-Accept").count(), 1, "{out}");
    assert_eq!(out.matches("Received Access-Reject").count(), 3, "{out}");
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 1, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 3, "{log}");
    let events = env
        .store()
        .auth_log(UnixTime::from_secs(0), UnixTime::from_secs(u64::MAX / 2))
        .unwrap();
    assert_eq!(events.len(), 4);
}

#[test]
fn radclient_challenge_with_the_state_for_app_and_sms_users() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "challenge", "");
    // nemo has a token: the prompt names the app.
    let first = send(server.port, SECRET, "auth", &auth("nemo", "any password"));
    let out = text(&first);
    assert!(out.contains("Received Access-Challenge"), "{out}");
    assert!(
        out.contains("Reply-Message = \"Enter the code from your authenticator app\""),
        "{out}"
    );
    let state = state_of(&out);
    let with_state = |user: &str, code: &str, state: &str| {
        format!(
            "User-Name = \"{user}\", User-Password = \"{code}\", State = {state}, Message-Authenticator = 0x00\n"
        )
    };
    let second = send(
        server.port,
        SECRET,
        "auth",
        &with_state("nemo", HOTP[1], &state),
    );
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(text(&second).contains("Received Access-Accept"));
    // The State is single use.
    let again = send(
        server.port,
        SECRET,
        "auth",
        &with_state("nemo", HOTP[2], &state),
    );
    assert!(
        text(&again).contains("Received Access-Reject"),
        "{}",
        text(&again)
    );

    // sam has only a phone: a code goes out through the SMS command.
    let first = send(server.port, SECRET, "auth", &auth("sam", "any password"));
    let out = text(&first);
    assert!(out.contains("Received Access-Challenge"), "{out}");
    assert!(out.contains("Enter the code sent to +*******5678"), "{out}");
    let sms = std::fs::read_to_string(env.path("sms.txt")).unwrap();
    assert!(sms.contains("+31612345678"), "{sms}");
    let code: String = sms
        .split_whitespace()
        .find(|w| {
            w.trim_end_matches('.').len() == 6
                && w.trim_end_matches('.').bytes().all(|b| b.is_ascii_digit())
        })
        .unwrap_or_else(|| panic!("no code in {sms}"))
        .trim_end_matches('.')
        .to_string();
    let state = state_of(&out);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // A wrong code is rejected; the State is then used up.
    let bad = send(
        server.port,
        SECRET,
        "auth",
        &with_state("sam", wrong, &state),
    );
    assert!(
        text(&bad).contains("Received Access-Reject"),
        "{}",
        text(&bad)
    );
    let first = send(server.port, SECRET, "auth", &auth("sam", "any password"));
    let state = state_of(&text(&first));
    let ok = send(
        server.port,
        SECRET,
        "auth",
        &with_state("sam", &code, &state),
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let (code_, log) = server.stop();
    assert_eq!(code_, Some(0), "{log}");
    assert!(!log.contains(&code), "the SMS code is in the log: {log}");
    assert_eq!(log_lines(&log, "outcome=\"challenge\""), 3, "{log}");
}

/// Starts the server in `mode` with `top` added to the top level of the
/// configuration (before the first table).
fn start_with_top(env: &Env, mode: &str, top: &str) -> Server {
    let port = free_port();
    let config = env.config(port, mode, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen("queue = 16\n", &format!("queue = 16\n{top}\n"), 1);
    std::fs::write(&config, text).unwrap();
    Server::start_with(port, &config)
}

/// Sends an Access-Request (Message-Authenticator first, as
/// [`OutgoingRequest`] builds it) from 127.0.0.1 and returns the reply,
/// checked: Response Authenticator, a valid Message-Authenticator
/// (required), no Proxy-State the request did not carry.
fn ask(
    port: u16,
    id: u8,
    user: &str,
    password: &str,
    attributes: Vec<Attribute>,
    rng: &mut TestRng,
) -> mfa_radius::Packet {
    let req = OutgoingRequest::access_request(
        id,
        user.as_bytes(),
        password.as_bytes(),
        attributes,
        &secret(),
        rng,
    )
    .unwrap();
    let reply = exchange("127.0.0.1:0", port, req.bytes(), Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no reply to request {id}"));
    req.verify_response(&reply, &secret(), &Limits::default(), true)
        .unwrap_or_else(|e| panic!("reply to request {id}: {e}"))
}

fn state_attr(challenge: &mfa_radius::Packet) -> Attribute {
    assert_eq!(challenge.code, Code::ACCESS_CHALLENGE, "{challenge:?}");
    let state = challenge
        .first(attr::STATE)
        .expect("a State in the challenge");
    Attribute::new(attr::STATE, state.to_vec()).unwrap()
}

#[test]
fn an_expired_state_is_rejected_and_one_answered_in_time_is_accepted() {
    // 4 s: an answer sent at once is always within it (the lifetime is
    // counted in whole seconds), one sent 5 s later always past it, and
    // still before the session is forgotten (one more lifetime), so the log
    // says Expired rather than Unknown.
    const LIFETIME: u64 = 4;
    let env = Env::new();
    let server = start_with_top(
        &env,
        "challenge",
        &format!("challenge_timeout = {LIFETIME}"),
    );
    assert!(
        server
            .log()
            .contains(&format!("challenge_timeout={LIFETIME}")),
        "{}",
        server.log()
    );
    let mut rng = TestRng(21);

    // In time: accepted.
    let challenge = ask(server.port, 1, "nemo", "any password", vec![], &mut rng);
    let state = state_attr(&challenge);
    let ok = ask(
        server.port,
        2,
        "nemo",
        HOTP[1],
        vec![state.clone()],
        &mut rng,
    );
    assert_eq!(ok.code, Code::ACCESS_ACCEPT, "{}", server.log());

    // The same State again (a new request, not a retransmission): used up.
    let replayed = ask(server.port, 3, "nemo", HOTP[2], vec![state], &mut rng);
    assert_eq!(replayed.code, Code::ACCESS_REJECT, "{}", server.log());

    // Answered after the lifetime: rejected without asking the store.
    let challenge = ask(server.port, 4, "nemo", "any password", vec![], &mut rng);
    let state = state_attr(&challenge);
    std::thread::sleep(Duration::from_secs(LIFETIME + 1));
    let late = ask(server.port, 5, "nemo", HOTP[2], vec![state], &mut rng);
    assert_eq!(late.code, Code::ACCESS_REJECT, "{}", server.log());

    // Neither refused State spent HOTP[2]: answered in time, it signs in.
    let challenge = ask(server.port, 6, "nemo", "any password", vec![], &mut rng);
    let state = state_attr(&challenge);
    let ok = ask(server.port, 7, "nemo", HOTP[2], vec![state], &mut rng);
    assert_eq!(ok.code, Code::ACCESS_ACCEPT, "{}", server.log());

    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    let rejects: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("outcome=\"reject\""))
        .collect();
    assert_eq!(rejects.len(), 2, "{log}");
    assert!(
        rejects[0].contains("user=\"nemo\"") && rejects[0].contains("reason=State(Unknown)"),
        "the replayed State: {log}"
    );
    assert!(
        rejects[1].contains("user=\"nemo\"") && rejects[1].contains("reason=State(Expired)"),
        "the expired State: {log}"
    );
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 2, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"challenge\""), 3, "{log}");
    // The store was asked only for the decisions it made: three challenges
    // (the user's factors) and two approvals, no event for the two States
    // the protocol refused.
    let events = env
        .store()
        .auth_log(UnixTime::from_secs(0), UnixTime::from_secs(u64::MAX / 2))
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
}

#[test]
fn proxy_state_is_copied_back_unchanged_and_in_order() {
    let env = Env::new();
    let server = Server::start(&env, "challenge", "");
    let mut rng = TestRng(33);
    let sent: [&[u8]; 3] = [b"hop-1", &[0x00, 0x01, 0x00, 0xff], b"hop-3 \x00end"];
    // The Proxy-States with other attributes between them (RFC 2865 §5.33:
    // the order of the Proxy-States is kept, not their place).
    let with_proxy_states = |state: Option<Attribute>| {
        let mut v = vec![
            Attribute::new(attr::PROXY_STATE, sent[0].to_vec()).unwrap(),
            Attribute::new(attr::NAS_IDENTIFIER, b"test-nas".to_vec()).unwrap(),
            Attribute::new(attr::PROXY_STATE, sent[1].to_vec()).unwrap(),
        ];
        v.extend(state);
        v.push(Attribute::new(attr::PROXY_STATE, sent[2].to_vec()).unwrap());
        v
    };
    let check = |reply: &mfa_radius::Packet, what: &str| {
        // `ask` verified the Message-Authenticator and the Response
        // Authenticator; the Message-Authenticator also comes first.
        assert_eq!(
            reply.attributes()[0].kind(),
            attr::MESSAGE_AUTHENTICATOR,
            "{what}: {reply:?}"
        );
        let got: Vec<&[u8]> = reply.all(attr::PROXY_STATE).collect();
        assert_eq!(got, sent, "{what}");
    };

    // Each request carries the Proxy-States (and the State of the last
    // challenge when `answer`); each reply has `expect` as its code.
    let mut state: Option<Attribute> = None;
    for (id, password, answer, expect, what) in [
        (
            1,
            "any password",
            false,
            Code::ACCESS_CHALLENGE,
            "Access-Challenge",
        ),
        // Access-Reject decided by the store (a wrong code) ...
        (
            2,
            "000000",
            true,
            Code::ACCESS_REJECT,
            "Access-Reject (store)",
        ),
        // ... and by the protocol (the State is now used up).
        (
            3,
            HOTP[1],
            true,
            Code::ACCESS_REJECT,
            "Access-Reject (protocol)",
        ),
        (
            4,
            "any password",
            false,
            Code::ACCESS_CHALLENGE,
            "Access-Challenge",
        ),
        (5, HOTP[1], true, Code::ACCESS_ACCEPT, "Access-Accept"),
    ] {
        let with = state.clone().filter(|_| answer);
        let reply = ask(
            server.port,
            id,
            "nemo",
            password,
            with_proxy_states(with),
            &mut rng,
        );
        assert_eq!(reply.code, expect, "{what}: {}", server.log());
        check(&reply, what);
        if reply.code == Code::ACCESS_CHALLENGE {
            state = Some(state_attr(&reply));
        }
    }

    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 1, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 2, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"challenge\""), 2, "{log}");
}

#[test]
fn radclient_status_server_and_wrong_secret() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let o = send(
        server.port,
        SECRET,
        "status",
        "Message-Authenticator = 0x00\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Received Access-Accept"), "{}", text(&o));
    // A wrong secret: dropped, never answered.
    let o = send(
        server.port,
        "not-the-secret-at-all",
        "auth",
        &auth("nemo", HOTP[1]),
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(!text(&o).contains("Received"), "{}", text(&o));
    assert!(text(&o).contains("No reply"), "{}", text(&o));
    // The code was never tried: it still signs in.
    let ok = send(server.port, SECRET, "auth", &auth("nemo", HOTP[1]));
    assert!(
        text(&ok).contains("Received Access-Accept"),
        "{}",
        text(&ok)
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0));
    assert!(log.contains("MessageAuthenticatorInvalid"), "{log}");
}

#[test]
fn a_store_held_by_another_writer_still_answers_status_server_and_every_request_after() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    // Unheld: decided in the loop itself.
    let ok = send(server.port, SECRET, "auth", &auth("nemo", HOTP[1]));
    assert!(
        text(&ok).contains("Received Access-Accept"),
        "{}",
        text(&ok)
    );
    // An import in another process holds the write lock.
    let held = rusqlite::Connection::open(env.path("mfa.db")).unwrap();
    held.execute_batch("BEGIN IMMEDIATE").unwrap();
    let port = server.port;
    let waiting = std::thread::spawn(move || {
        text(&send_waiting(
            port,
            SECRET,
            "auth",
            &auth("nemo", HOTP[2]),
            20,
        ))
    });
    std::thread::sleep(Duration::from_millis(500));
    // The loop is not blocked by the request waiting for the store.
    let status = send(port, SECRET, "status", "Message-Authenticator = 0x00\n");
    assert!(
        text(&status).contains("Received Access-Accept"),
        "{}",
        text(&status)
    );
    assert!(!waiting.is_finished(), "decided while the store was held");
    held.execute_batch("COMMIT").unwrap();
    let out = waiting.join().unwrap();
    assert!(out.contains("Received Access-Accept"), "{out}");
    let ok = send(port, SECRET, "auth", &auth("nemo", HOTP[3]));
    assert!(
        text(&ok).contains("Received Access-Accept"),
        "{}",
        text(&ok)
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    // Two in the loop, the held one by a worker; none lost.
    assert!(log.contains("in_loop=2"), "{log}");
    assert!(log.contains("batches=1 batched=1"), "{log}");
    assert!(log.contains("kernel_drops=0"), "{log}");
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 3, "{log}");
}

#[test]
fn unknown_client_is_dropped() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let mut rng = TestRng(3);
    let req = OutgoingRequest::access_request(
        1,
        b"nemo",
        HOTP[1].as_bytes(),
        vec![],
        &secret(),
        &mut rng,
    )
    .unwrap();
    // 127.0.0.2 is not a configured client.
    assert_eq!(
        exchange(
            "127.0.0.2:0",
            server.port,
            req.bytes(),
            Duration::from_millis(800)
        ),
        None
    );
    let reply = exchange(
        "127.0.0.1:0",
        server.port,
        req.bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    let p = req
        .verify_response(&reply, &secret(), &Limits::default(), true)
        .unwrap();
    assert_eq!(p.code, Code::ACCESS_ACCEPT);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0));
    assert!(log.contains("UnknownClient"), "{log}");
}

#[test]
fn a_retransmission_gets_the_same_reply_and_counts_once() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let mut rng = TestRng(5);
    let req = OutgoingRequest::access_request(
        42,
        b"nemo",
        b"000000",
        vec![Attribute::new(attr::NAS_IDENTIFIER, b"test-nas".to_vec()).unwrap()],
        &secret(),
        &mut rng,
    )
    .unwrap();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        s.send_to(req.bytes(), ("127.0.0.1", server.port)).unwrap();
        let mut buf = [0u8; 4096];
        let n = s.recv(&mut buf).unwrap();
        replies.push(buf[..n].to_vec());
    }
    assert!(replies.iter().all(|r| r == &replies[0]));
    let p = req
        .verify_response(&replies[0], &secret(), &Limits::default(), true)
        .unwrap();
    assert_eq!(p.code, Code::ACCESS_REJECT);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0));
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 1, "{log}");
    assert!(log.contains("retransmissions=2"), "{log}");
    let store = env.store();
    let events = store
        .auth_log(UnixTime::from_secs(0), UnixTime::from_secs(u64::MAX / 2))
        .unwrap();
    assert_eq!(events.len(), 1, "one log event");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn ten_thousand_junk_datagrams_do_not_stop_it() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let before = rss_kib(server.child.id());
    let mut rng = TestRng(9);
    let valid = OutgoingRequest::access_request(7, b"nemo", b"000000", vec![], &secret(), &mut rng)
        .unwrap();
    let mut x: u32 = 1;
    for i in 0..10_000u32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let len = (x % 200) as usize;
        let mut d: Vec<u8> = (0..len)
            .map(|j| (x.rotate_left(j as u32) & 0xff) as u8)
            .collect();
        match i % 4 {
            // Truncated real packets.
            0 => d = valid.bytes()[..(x as usize % valid.bytes().len())].to_vec(),
            // A valid header with a lying length.
            1 if d.len() >= 20 => {
                d[0] = 1;
                d[2] = 0x10;
                d[3] = 0x00;
            }
            // Oversized.
            2 => d = vec![1u8; 5000],
            _ => {}
        }
        let _ = s.send_to(&d, ("127.0.0.1", server.port));
        if i % 500 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // Still answering, and a real request is decided.
    // The flood may have filled the socket's receive buffer when the first
    // copy arrived: retransmit like a NAS (the same packet each time).
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    nas.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let reply = (0..5).find_map(|_| {
        nas.send_to(valid.bytes(), ("127.0.0.1", server.port))
            .unwrap();
        let mut buf = [0u8; 4096];
        nas.recv(&mut buf).ok().map(|n| buf[..n].to_vec())
    });
    let Some(reply) = reply else {
        let (_, log) = server.stop();
        panic!("no answer after the junk:\n{log}");
    };
    assert!(
        valid
            .verify_response(&reply, &secret(), &Limits::default(), true)
            .is_ok()
    );
    let after = rss_kib(server.child.id());
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(log_lines(&log, "outcome="), 1, "{log}");
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let env = Env::new();
    // An upstream that never answers: the request waits in a worker.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let upstream = format!(
        "\n[upstream]\naddress = \"{}\"\nsecret = \"upstream-secret-0123\"\ntimeout = 2\n",
        silent.local_addr().unwrap()
    );
    let server = Server::start(&env, "challenge", &upstream);
    let mut rng = TestRng(11);
    let req = OutgoingRequest::access_request(9, b"nemo", b"hunter2", vec![], &secret(), &mut rng)
        .unwrap();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.send_to(req.bytes(), ("127.0.0.1", server.port)).unwrap();
    // The upstream got the first-factor request: now it is in flight.
    let mut buf = [0u8; 4096];
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    silent.recv(&mut buf).unwrap();
    let pid = server.child.id();
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let n = s.recv(&mut buf).expect("the request in flight is answered");
    let p = req
        .verify_response(&buf[..n], &secret(), &Limits::default(), true)
        .unwrap();
    assert_eq!(p.code, Code::ACCESS_REJECT);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("in_flight=1"), "{log}");
    assert!(log.contains("outcome=\"reject\""), "{log}");
    assert!(log.contains("no valid answer in 2 s"), "{log}");
}

fn check(env: &Env, text: &str) -> Output {
    let path = env.path("check.toml");
    std::fs::write(&path, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_mfa"))
        .args(["radius", "serve", "--check-config", "--config"])
        .arg(&path)
        .env_remove("MFA_MASTER_KEY")
        .output()
        .unwrap()
}

#[test]
fn check_config_validates_and_warns() {
    let env = Env::new();
    let head = "listen = \"127.0.0.1:1812\"\ndb = \"sqlite:mfa.db\"\nkey_file = \"mfa.key\"\n";
    let client = |mode: &str, extra: &str| {
        format!(
            "[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"{SECRET}\"\nmode = \"{mode}\"\n{extra}"
        )
    };
    let ok = check(&env, &format!("{head}{}", client("otp", "")));
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(said.contains("configuration OK"), "{said}");
    assert!(said.contains("challenge timeout 120 s"), "{said}");
    assert!(ok.stderr.is_empty(), "{ok:?}");
    let short = check(
        &env,
        &format!("{head}challenge_timeout = 5\n{}", client("otp", "")),
    );
    assert_eq!(short.status.code(), Some(0), "{short:?}");
    assert!(
        String::from_utf8_lossy(&short.stdout).contains("challenge timeout 5 s"),
        "{short:?}"
    );
    for bad in [0, 601] {
        let o = check(
            &env,
            &format!("{head}challenge_timeout = {bad}\n{}", client("otp", "")),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("challenge_timeout = {bad}: seconds, 1 to 600")),
            "{err}"
        );
    }

    let warn = check(
        &env,
        &format!(
            "{head}{}",
            client("challenge", "require_message_authenticator = false\n")
        ),
    );
    assert_eq!(warn.status.code(), Some(0), "{warn:?}");
    let err = String::from_utf8_lossy(&warn.stderr);
    assert!(
        err.contains("WARNING") && err.contains("NOT CHECKED"),
        "{err}"
    );
    assert!(err.contains("BlastRADIUS"), "{err}");

    for (bad, says) in [
        (
            client("otp", "").replace(SECRET, "too-short"),
            "at least 16",
        ),
        (client("otp", "colour = 1\n"), "unknown field `colour`"),
        (
            client("otp", "").replace("10.0.0.0/8", "10.0.0.0/40"),
            "not a CIDR",
        ),
        (client("pap", ""), "mode = \"pap\""),
        (
            client("otp", "").replace(&format!("secret = \"{SECRET}\""), "secret_file = \"nope\""),
            "secret_file",
        ),
    ] {
        let o = check(&env, &format!("{head}{bad}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
        assert!(!err.contains("too-short"), "{err}");
    }
    // The store must open with the key.
    std::fs::write(env.path("other.key"), format!("1:{}\n", "08".repeat(32))).unwrap();
    let o = check(
        &env,
        &format!(
            "{}{}",
            head.replace("mfa.key", "other.key"),
            client("otp", "")
        ),
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("master key"),
        "{o:?}"
    );
}

#[test]
fn check_config_json_is_the_text_as_one_json_line() {
    let env = Env::new();
    let path = env.path("check.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:1812\"\ndb = \"sqlite:mfa.db\"\nkey_file = \"mfa.key\"\n\
             [[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"{SECRET}\"\nmode = \"challenge\"\n"
        ),
    )
    .unwrap();
    let run = |json: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mfa"));
        if json {
            c.arg("--json");
        }
        c.args(["radius", "serve", "--check-config", "--config"])
            .arg(&path)
            .env_remove("MFA_MASTER_KEY")
            .output()
            .unwrap()
    };
    let text = run(false);
    let json = run(true);
    assert_eq!(text.status.code(), Some(0), "{text:?}");
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    let text = String::from_utf8(text.stdout).unwrap();
    let line = String::from_utf8(json.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["listen"], "127.0.0.1:1812");
    assert_eq!(v["clients"], 1);
    assert!(v["upstream"].is_null(), "{v}");
    let db = v["db"].as_str().unwrap();
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("NOT CHECKED")),
        "{v}"
    );
    assert!(!line.contains(SECRET), "{line}");
    assert_eq!(
        text,
        format!(
            "configuration OK: listen 127.0.0.1:1812, 1 client(s), challenge timeout {} s, store {db}, upstream none, {} warning(s)\n",
            v["challenge_timeout"],
            warnings.len()
        )
    );
}

/// FreeRADIUS (Debian `freeradius`, 3.2) answering PAP from a `users` file
/// on a loopback port, from a minimal configuration in a temporary
/// directory: the upstream first factor.
struct FreeRadius {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const UPSTREAM_SECRET: &str = "upstream-secret-0123";

fn freeradius() -> Option<FreeRadius> {
    freeradius_with(None)
}

/// FreeRADIUS on a free port; with `proxy_to`, every Access-Request is
/// proxied to our server on that port (realm `mfa`, Status-Server checks).
fn freeradius_with(proxy_to: Option<u16>) -> Option<FreeRadius> {
    if Command::new("freeradius")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        mfa_test_support::skip!("freeradius is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let port = free_port();
    let (proxy, authorize) = match proxy_to {
        None => (
            "proxy_requests = no".to_owned(),
            "\t\tfiles\n\t\tpap".to_owned(),
        ),
        Some(mfa) => (
            format!(
                "proxy_requests = yes\nproxy server {{\n\tdefault_fallback = no\n}}\n\
                 home_server mfa {{\n\ttype = auth\n\tipaddr = 127.0.0.1\n\tport = {mfa}\n\t\
                 secret = {SECRET}\n\tresponse_window = 5\n\tstatus_check = status-server\n\t\
                 check_interval = 10\n\tnum_answers_to_alive = 1\n\trevive_interval = 10\n}}\n\
                 home_server_pool mfa {{\n\ttype = fail-over\n\thome_server = mfa\n}}\n\
                 realm mfa {{\n\tauth_pool = mfa\n\tnostrip\n}}\n"
            ),
            "\t\tupdate control {\n\t\t\t&Proxy-To-Realm := \"mfa\"\n\t\t}".to_owned(),
        ),
    };
    let conf = format!(
        r#"prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = {d}
raddbdir = {d}
radacctdir = {d}
name = freeradius
confdir = {d}
modconfdir = {d}
run_dir = {d}
db_dir = {d}
libdir = /usr/lib/freeradius
pidfile = {d}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
log {{
	destination = stdout
	auth = no
}}
security {{
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}}
{proxy}
thread pool {{
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}}
client mfa {{
	ipaddr = 127.0.0.1
	secret = {UPSTREAM_SECRET}
}}
modules {{
	files {{
		filename = {d}/users
	}}
	pap {{
	}}
}}
server default {{
	listen {{
		type = auth
		ipaddr = 127.0.0.1
		port = {port}
	}}
	authorize {{
{authorize}
	}}
	authenticate {{
		Auth-Type PAP {{
			pap
		}}
	}}
}}
"#
    );
    std::fs::write(dir.path().join("radiusd.conf"), conf).unwrap();
    std::fs::write(
        dir.path().join("dictionary"),
        "$INCLUDE /usr/share/freeradius/dictionary\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users"),
        "nemo Cleartext-Password := \"arctangent\"\n",
    )
    .unwrap();
    let log = dir.path().join("out.log");
    let child = Command::new("freeradius")
        .args(["-f", "-l", "stdout", "-d"])
        .arg(dir.path())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let fr = FreeRadius {
        child,
        port,
        _dir: dir,
    };
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("Ready to process requests") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "FreeRADIUS did not start:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(fr)
}

fn upstream_table(port: u16) -> String {
    // FreeRADIUS 3.2.1 puts no Message-Authenticator in its replies.
    format!(
        "\n[upstream]\naddress = \"127.0.0.1:{port}\"\nsecret = \"{UPSTREAM_SECRET}\"\nrequire_message_authenticator = false\ntimeout = 3\n"
    )
}

#[test]
fn freeradius_upstream_checks_the_password_in_password_otp_mode() {
    if !radclient() {
        return;
    }
    let Some(fr) = freeradius() else { return };
    let env = Env::new();
    let server = Server::start(&env, "password-otp", &upstream_table(fr.port));
    // A wrong password with the right code: rejected by the upstream, the
    // code is not spent.
    let o = send(
        server.port,
        SECRET,
        "auth",
        &auth("nemo", &format!("wrong{}", HOTP[1])),
    );
    assert!(text(&o).contains("Received Access-Reject"), "{}", text(&o));
    let o = send(
        server.port,
        SECRET,
        "auth",
        &auth("nemo", &format!("arctangent{}", HOTP[1])),
    );
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o), server.log());
    assert!(text(&o).contains("Received Access-Accept"), "{}", text(&o));
    // The right password with a used code: the store says replay.
    let o = send(
        server.port,
        SECRET,
        "auth",
        &auth("nemo", &format!("arctangent{}", HOTP[1])),
    );
    assert!(text(&o).contains("Received Access-Reject"), "{}", text(&o));
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("rejected the password"), "{log}");
    assert!(!log.contains("arctangent"), "{log}");
}

#[test]
fn freeradius_upstream_then_challenge() {
    if !radclient() {
        return;
    }
    let Some(fr) = freeradius() else { return };
    let env = Env::new();
    let server = Server::start(&env, "challenge", &upstream_table(fr.port));
    let o = send(server.port, SECRET, "auth", &auth("nemo", "wrong"));
    assert!(text(&o).contains("Received Access-Reject"), "{}", text(&o));
    let o = send(server.port, SECRET, "auth", &auth("nemo", "arctangent"));
    let out = text(&o);
    assert!(
        out.contains("Received Access-Challenge"),
        "{out}\n{}",
        server.log()
    );
    let state = state_of(&out);
    let o = send(
        server.port,
        SECRET,
        "auth",
        &format!(
            "User-Name = \"nemo\", User-Password = \"{}\", State = {state}, Message-Authenticator = 0x00\n",
            HOTP[1]
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn radclient_trusted_calling_station_id_skips_the_challenge() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    env.store()
        .add_trusted_range(
            "203.0.113.0/24",
            "radius-test",
            UnixTime::from_secs(1_700_000_000),
        )
        .unwrap();
    let server = Server::start(&env, "challenge", "");
    let with_csi = |ip: &str| {
        format!(
            "User-Name = \"nemo\", User-Password = \"pw\", Calling-Station-Id = \"{ip}\", Message-Authenticator = 0x00\n"
        )
    };
    // From a trusted address: the store approves without a second factor.
    let o = send(server.port, SECRET, "auth", &with_csi("203.0.113.9"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Received Access-Accept"), "{}", text(&o));
    // From elsewhere (or a Calling-Station-Id that is no address): challenged.
    for other in ["198.51.100.7", "00-11-22-33-44-55"] {
        let o = send(server.port, SECRET, "auth", &with_csi(other));
        assert!(
            text(&o).contains("Received Access-Challenge"),
            "{other}: {}",
            text(&o)
        );
    }
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("TrustedIp"), "{log}");
}

#[test]
fn a_full_queue_sheds_requests_and_the_retransmission_is_served_later() {
    let env = Env::new();
    // One worker, a queue of one, an upstream that never answers (1 s):
    // the worker is busy, the queue holds one more, the rest is shed.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let extra = format!(
        "\n[upstream]\naddress = \"{}\"\nsecret = \"upstream-secret-0123\"\ntimeout = 1\n",
        silent.local_addr().unwrap()
    );
    let port = free_port();
    let config = env.config(port, "challenge", &extra);
    let text_cfg = std::fs::read_to_string(&config)
        .unwrap()
        .replace("workers = 2\nqueue = 16", "workers = 1\nqueue = 1");
    std::fs::write(&config, text_cfg).unwrap();
    let server = Server::start_with(port, &config);
    let mut rng = TestRng(13);
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    nas.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let requests: Vec<OutgoingRequest> = (0..6u8)
        .map(|i| {
            OutgoingRequest::access_request(i, b"nemo", b"pw", vec![], &secret(), &mut rng).unwrap()
        })
        .collect();
    for r in &requests {
        nas.send_to(r.bytes(), ("127.0.0.1", port)).unwrap();
    }
    // One or two are decided (Reject: the upstream timed out; two when the
    // worker took the first before the second arrived); the rest is shed.
    let mut buf = [0u8; 4096];
    let mut answered = Vec::new();
    // The first answer comes after the upstream's 1 s timeout; allow for a
    // loaded machine, then 2.5 s for a second one.
    nas.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    while let Ok(n) = nas.recv(&mut buf) {
        nas.set_read_timeout(Some(Duration::from_millis(2500)))
            .unwrap();
        let r = requests.iter().find(|r| r.identifier() == buf[1]).unwrap();
        let p = r
            .verify_response(&buf[..n], &secret(), &Limits::default(), true)
            .unwrap();
        assert_eq!(p.code, Code::ACCESS_REJECT);
        answered.push(buf[1]);
    }
    assert!((1..=2).contains(&answered.len()), "{answered:?}");
    // A shed request was abandoned, not remembered: its retransmission is
    // decided afresh.
    let shed = requests
        .iter()
        .find(|r| !answered.contains(&r.identifier()))
        .unwrap();
    nas.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    nas.send_to(shed.bytes(), ("127.0.0.1", port)).unwrap();
    let n = nas.recv(&mut buf).unwrap();
    let p = shed
        .verify_response(&buf[..n], &secret(), &Limits::default(), true)
        .unwrap();
    assert_eq!(p.code, Code::ACCESS_REJECT);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    let overload = format!("overload={}", 6 - answered.len());
    assert!(log.contains(&overload), "{overload}: {log}");
    assert!(log.contains("the worker queue is full"), "{log}");
}

#[test]
fn junk_from_unknown_addresses_is_dropped_and_logged_sparingly() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let s = UdpSocket::bind("127.0.0.2:0").unwrap();
    for i in 0..1000u32 {
        let _ = s.send_to(&i.to_be_bytes().repeat(8), ("127.0.0.1", server.port));
    }
    let nas = UdpSocket::bind("127.0.0.1:0").unwrap();
    nas.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut rng = TestRng(17);
    let probe =
        OutgoingRequest::access_request(1, b"nemo", b"1", vec![], &secret(), &mut rng).unwrap();
    let answered = (0..5).any(|_| {
        nas.send_to(probe.bytes(), ("127.0.0.1", server.port))
            .unwrap();
        let mut buf = [0u8; 4096];
        nas.recv(&mut buf).is_ok()
    });
    assert!(answered);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    // Warned at the 1st, 2nd, 4th, ... 512th: at most 10 lines for 1000.
    let warned = log_lines(&log, "UnknownClient");
    assert!((1..=10).contains(&warned), "{warned} lines:\n{log}");
}

#[test]
fn a_user_name_with_a_line_break_cannot_forge_a_log_line() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let mut rng = TestRng(19);
    let req = OutgoingRequest::access_request(
        3,
        b"eve\nFORGED decision user=\"nemo\" outcome=\"accept\"",
        b"123456",
        vec![],
        &secret(),
        &mut rng,
    )
    .unwrap();
    let reply = exchange(
        "127.0.0.1:0",
        server.port,
        req.bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    let p = req
        .verify_response(&reply, &secret(), &Limits::default(), true)
        .unwrap();
    assert_eq!(p.code, Code::ACCESS_REJECT);
    let (code, log) = server.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.lines().any(|l| l.starts_with("FORGED")), "{log}");
    assert!(log.contains(r#"user="eve\nFORGED"#), "{log}");
}

#[test]
fn sigkill_under_load_then_restart_accepts_no_code_twice() {
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let port = server.port;
    // Load beside the codes: requests for an unknown user (so nemo is not
    // locked out) from another socket until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut rng = TestRng(99);
            let mut id = 0u8;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                id = id.wrapping_add(1);
                let req = OutgoingRequest::access_request(
                    id,
                    b"load-user",
                    b"000000",
                    vec![],
                    &secret(),
                    &mut rng,
                )
                .unwrap();
                let _ = s.send_to(req.bytes(), ("127.0.0.1", port));
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut sent = Vec::new();
    let mut accepted = Vec::new();
    let mut server = Some(server);
    for (i, code) in HOTP[1..7].iter().enumerate() {
        let req = OutgoingRequest::access_request(
            100 + i as u8,
            b"nemo",
            code.as_bytes(),
            vec![],
            &secret(),
            &mut TestRng(i as u8 + 1),
        )
        .unwrap();
        s.send_to(req.bytes(), ("127.0.0.1", port)).unwrap();
        sent.push(*code);
        if i == 3 {
            // SIGKILL with this request in flight.
            let mut srv = server.take().unwrap();
            srv.child.kill().unwrap();
            srv.child.wait().unwrap();
            drop(srv);
            break;
        }
        // A full queue sheds requests: retransmit, as a NAS does.
        let mut buf = [0u8; 4096];
        let mut n = None;
        for _ in 0..5 {
            if let Ok(got) = s.recv(&mut buf) {
                n = Some(got);
                break;
            }
            s.send_to(req.bytes(), ("127.0.0.1", port)).unwrap();
        }
        let n = n.expect("an answer before the kill");
        let p = req
            .verify_response(&buf[..n], &secret(), &Limits::default(), true)
            .unwrap();
        assert_eq!(p.code, Code::ACCESS_ACCEPT, "{code} in order is accepted");
        accepted.push(*code);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    load.join().unwrap();
    assert_eq!(accepted.len(), 3);

    // Restart on the same store: every code accepted before the kill is
    // refused. The one in flight at the kill may or may not have been
    // decided; whatever it gets now, a second try is refused. The next
    // code in the sequence is accepted (the store opened cleanly).
    let server = Server::start(&env, "otp", "");
    let mut seed = 50u8;
    let mut ask = |code: &str| {
        seed += 1;
        let req = OutgoingRequest::access_request(
            seed,
            b"nemo",
            code.as_bytes(),
            vec![],
            &secret(),
            &mut TestRng(seed),
        )
        .unwrap();
        let raw = exchange(
            "127.0.0.1:0",
            server.port,
            req.bytes(),
            Duration::from_secs(5),
        )
        .expect("an answer after the restart");
        req.verify_response(&raw, &secret(), &Limits::default(), true)
            .unwrap()
            .code
    };
    for code in &accepted {
        assert_eq!(ask(code), Code::ACCESS_REJECT, "{code} accepted twice");
    }
    let in_flight = sent[3];
    let _first = ask(in_flight);
    assert_eq!(
        ask(in_flight),
        Code::ACCESS_REJECT,
        "{in_flight} accepted twice"
    );
    assert_eq!(
        ask(HOTP[6]),
        Code::ACCESS_ACCEPT,
        "the next code after the restart"
    );
    let (status, log) = server.stop();
    assert_eq!(status, Some(0), "{log}");
}

/// pyrad 2.6 (tests/pyrad/peer.py of mfa-radius, the one cross-check
/// script): `MFA_TEST_PYTHON`, else the workspace's `.venv/bin/python`.
fn pyrad_python() -> Option<PathBuf> {
    let py = std::env::var_os("MFA_TEST_PYTHON").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../.venv/bin/python"
            ))
        },
        PathBuf::from,
    );
    let ok = Command::new(&py)
        .args([
            "-c",
            "import pyrad, sys; sys.exit(0 if pyrad.__version__.startswith('2.6') else 1)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        mfa_test_support::skip!("{} has no pyrad 2.6 (set MFA_TEST_PYTHON)", py.display());
        return None;
    }
    Some(py)
}

fn pyrad_peer(py: &std::path::Path, input: &serde_json::Value) -> serde_json::Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mfa-radius/tests/pyrad/peer.py"
    );
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "peer.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn pyrad_against_the_server_message_authenticator_required() {
    let Some(py) = pyrad_python() else { return };
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let build = |id: u8, code: &str, ma: bool| {
        let r = pyrad_peer(
            &py,
            &serde_json::json!({"cmd": "request", "id": id, "secret": SECRET,
                "user": "nemo", "password": code, "message_authenticator": ma}),
        );
        unhex(r["packet"].as_str().unwrap())
    };
    // With a Message-Authenticator: accepted, and pyrad verifies our reply
    // (Response Authenticator and Message-Authenticator, enforce_ma=True).
    let req = build(11, HOTP[1], true);
    let reply = exchange("127.0.0.1:0", server.port, &req, Duration::from_secs(5))
        .expect("an answer to pyrad's request");
    let hexs = |v: &[u8]| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let v = pyrad_peer(
        &py,
        &serde_json::json!({"cmd": "verify-reply", "secret": SECRET,
            "request": hexs(&req), "reply": hexs(&reply)}),
    );
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["code"], 2, "Access-Accept: {v}\n{}", server.log());
    assert_eq!(v["first_attribute"], 80, "Message-Authenticator first: {v}");

    // Without one: dropped (no answer); the code is not spent.
    let bare = build(12, HOTP[2], false);
    assert!(
        exchange(
            "127.0.0.1:0",
            server.port,
            &bare,
            Duration::from_millis(1500)
        )
        .is_none()
    );
    // A wrong Message-Authenticator: dropped.
    let mut forged = build(13, HOTP[2], true);
    let mut at = 20;
    while at + 2 <= forged.len() {
        let (kind, len) = (forged[at], usize::from(forged[at + 1]));
        if kind == 80 {
            forged[at + 2] ^= 0x01;
        }
        at += len.max(2);
    }
    assert!(
        exchange(
            "127.0.0.1:0",
            server.port,
            &forged,
            Duration::from_millis(1500)
        )
        .is_none()
    );
    // The next code still works: neither dropped request spent it.
    let ok = build(14, HOTP[2], true);
    let reply = exchange("127.0.0.1:0", server.port, &ok, Duration::from_secs(5)).unwrap();
    let v = pyrad_peer(
        &py,
        &serde_json::json!({"cmd": "verify-reply", "secret": SECRET,
            "request": hexs(&ok), "reply": hexs(&reply)}),
    );
    assert_eq!(
        (v["ok"].clone(), v["code"].clone()),
        (serde_json::json!(true), serde_json::json!(2)),
        "{v}"
    );
    let (status, log) = server.stop();
    assert_eq!(status, Some(0), "{log}");
    assert!(log.contains("dropped"), "the drops are logged: {log}");
    assert!(!log.contains(HOTP[2]), "a code in the log: {log}");
}

#[test]
fn freeradius_as_a_proxy_in_front_of_the_server() {
    if !radclient() {
        return;
    }
    let env = Env::new();
    let server = Server::start(&env, "otp", "");
    let Some(fr) = freeradius_with(Some(server.port)) else {
        return;
    };
    // radclient -> FreeRADIUS (its own secret) -> mfa radius serve.
    let ok = send(fr.port, UPSTREAM_SECRET, "auth", &auth("nemo", HOTP[1]));
    assert_eq!(ok.status.code(), Some(0), "{}\n{}", text(&ok), server.log());
    assert!(
        text(&ok).contains("Received Access-Accept"),
        "{}",
        text(&ok)
    );
    // FreeRADIUS strips the Proxy-State it added; radclient sees none.
    assert!(!text(&ok).contains("Proxy-State"), "{}", text(&ok));
    let bad = send(fr.port, UPSTREAM_SECRET, "auth", &auth("nemo", HOTP[1]));
    assert!(
        text(&bad).contains("Received Access-Reject"),
        "a replayed code through the proxy: {}",
        text(&bad)
    );
    let wrong = send(fr.port, UPSTREAM_SECRET, "auth", &auth("nemo", "000000"));
    assert!(
        text(&wrong).contains("Received Access-Reject"),
        "{}",
        text(&wrong)
    );
    drop(fr);
    let (status, log) = server.stop();
    assert_eq!(status, Some(0), "{log}");
    // The three decisions were ours, from FreeRADIUS's source address.
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 1, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 2, "{log}");
}

/// pamtester running pam_radius_auth under pam_wrapper (a service file in
/// a temporary directory, no /etc/pam.d), answers read from `stdin`.
fn pam_radius(dir: &std::path::Path, port: u16, stdin: &str) -> Output {
    let services = dir.join("services");
    std::fs::create_dir_all(&services).unwrap();
    let conf = dir.join("pam_radius_auth.conf");
    std::fs::write(&conf, format!("127.0.0.1:{port} {SECRET} 3\n")).unwrap();
    let module = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"]
        .iter()
        .map(|d| PathBuf::from(d).join("security/pam_radius_auth.so"))
        .find(|p| p.exists())
        .unwrap();
    std::fs::write(
        services.join("mfa-radius"),
        format!(
            "auth required {} conf={}\n",
            module.display(),
            conf.display()
        ),
    )
    .unwrap();
    let wrapper = [
        "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so",
        "/usr/lib/libpam_wrapper.so",
    ]
    .iter()
    .find(|p| std::path::Path::new(p).exists())
    .unwrap();
    let mut child = Command::new("pamtester")
        .args(["-v", "mfa-radius", "nemo", "authenticate"])
        .env("LD_PRELOAD", wrapper)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", &services)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn pam_radius_auth_answers_the_challenge_through_pamtester() {
    let have = |p: &str| std::path::Path::new(p).exists();
    let tools = Command::new("pamtester").arg("-h").output().is_ok()
        && (have("/lib/x86_64-linux-gnu/security/pam_radius_auth.so")
            || have("/usr/lib/x86_64-linux-gnu/security/pam_radius_auth.so"))
        && (have("/usr/lib/x86_64-linux-gnu/libpam_wrapper.so")
            || have("/usr/lib/libpam_wrapper.so"));
    if !tools {
        mfa_test_support::skip!("pamtester, libpam-radius-auth or libpam-wrapper is not installed");
        return;
    }
    let env = Env::new();
    let port = free_port();
    let config = env.config(port, "challenge", "");
    // pam_radius_auth 2.0 sends no Message-Authenticator.
    let text_ = std::fs::read_to_string(&config).unwrap().replace(
        "mode = \"challenge\"",
        "mode = \"challenge\"\nrequire_message_authenticator = false",
    );
    std::fs::write(&config, text_).unwrap();
    let server = Server::start_with(port, &config);
    let ok = pam_radius(
        env.dir.path(),
        port,
        &format!("any password\n{}\n", HOTP[1]),
    );
    assert_eq!(ok.status.code(), Some(0), "{}\n{}", text(&ok), server.log());
    assert!(
        text(&ok).contains("successfully authenticated"),
        "{}",
        text(&ok)
    );
    let bad = pam_radius(env.dir.path(), port, "any password\n000000\n");
    assert_ne!(bad.status.code(), Some(0), "{}", text(&bad));
    let (status, log) = server.stop();
    assert_eq!(status, Some(0), "{log}");
    assert_eq!(log_lines(&log, "outcome=\"challenge\""), 2, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"accept\""), 1, "{log}");
    assert_eq!(log_lines(&log, "outcome=\"reject\""), 1, "{log}");
}
