//! Issue 16 at the RADIUS front end: `mfa radius serve` sends the SMS code
//! through an HTTP webhook (a sink on loopback, a `TcpListener` thread
//! here), at most once per code: an exact retransmission of the
//! Access-Request and a new Access-Request for the same user inside the
//! code's lifetime send nothing more. A webhook answering 500 is an
//! Access-Reject with a logged reason.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mfa_oath::UnixTime;
use mfa_radius::{Attribute, Code, Limits, OutgoingRequest, Packet, SharedSecret, attr};
use mfa_store::{MasterKey, Store, UserProfile};

const SECRET: &str = "radius-sms-secret-0123";

struct Rng(u8);
impl rand_core::TryRng for Rng {
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
impl rand_core::TryCryptoRng for Rng {}

/// The webhook sink: every request body it got, and the status it answers.
struct Sink {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
    status: Arc<AtomicU16>,
}

impl Sink {
    fn start(status: u16) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (b, s) = (Arc::clone(&bodies), Arc::clone(&status));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                b.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                let code = s.load(Ordering::SeqCst);
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )
                    .as_bytes(),
                );
            }
        });
        Sink {
            port,
            bodies,
            status,
        }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A store with user `sam`: a phone, no token.
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mfa.key"),
            format!("1:{}\n", "07".repeat(32)),
        )
        .unwrap();
        let mut sam = UserProfile::new("sam");
        sam.phone = Some("+31 6 1234 5678".into());
        let env = Env { dir };
        env.store()
            .put_user(&sam, UnixTime::from_secs(1_700_000_000))
            .unwrap();
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn store(&self) -> Store {
        Store::open(
            &format!("sqlite:{}", self.path("mfa.db").display()),
            &MasterKey::new(1, [7; 32]),
        )
        .unwrap()
    }

    fn config(&self, port: u16, sink: u16) -> PathBuf {
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
mode = "challenge"

[notify]
retries = 0

[notify.sms]
webhook_url = "http://127.0.0.1:{sink}/sms"
"#
        );
        let path = self.path("radius.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(config: &Path) -> Server {
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
        let server = Server { child, log };
        server.log_once("radius server ready");
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it holds `text` (within 20 s): the server writes a
    /// decision line before it sends the reply, but the line reaches the
    /// reader thread through a pipe, maybe after the reply reached us.
    fn log_once(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {text:?} in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn secret() -> SharedSecret {
    SharedSecret::new(SECRET.as_bytes()).unwrap()
}

fn request(id: u8, seed: u8, password: &[u8], extra: Vec<Attribute>) -> OutgoingRequest {
    OutgoingRequest::access_request(id, b"sam", password, extra, &secret(), &mut Rng(seed)).unwrap()
}

/// Sends `bytes` from `s` and returns the raw reply (within 10 s).
fn roundtrip(s: &UdpSocket, port: u16, bytes: &[u8]) -> Vec<u8> {
    s.send_to(bytes, ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.recv(&mut buf).expect("no reply in 10 s");
    buf[..n].to_vec()
}

fn answer(req: &OutgoingRequest, raw: &[u8]) -> Packet {
    req.verify_response(raw, &secret(), &Limits::default(), true)
        .unwrap()
}

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn the_sms_webhook_gets_one_post_despite_a_retransmission_and_a_new_request() {
    let sink = Sink::start(200);
    let env = Env::new();
    let port = free_port();
    let server = Server::start(&env.config(port, sink.port));
    let s = socket();

    let first = request(7, 3, b"any password", vec![]);
    let raw = roundtrip(&s, port, first.bytes());
    let p = answer(&first, &raw);
    assert_eq!(p.code, Code::ACCESS_CHALLENGE, "{}", server.log());
    // The same datagram again (same identifier and authenticator).
    let again = roundtrip(&s, port, first.bytes());
    assert_eq!(again, raw, "a retransmission gets the same reply");
    // A new Access-Request for sam while the code is still valid.
    let second = request(8, 9, b"any password", vec![]);
    let p2 = answer(&second, &roundtrip(&s, port, second.bytes()));
    assert_eq!(p2.code, Code::ACCESS_CHALLENGE, "{}", server.log());
    let state = p2.first(attr::STATE).expect("a State").to_vec();

    // Give a late second POST the chance to arrive before counting.
    std::thread::sleep(Duration::from_millis(500));
    let bodies = sink.bodies();
    assert_eq!(bodies.len(), 1, "exactly one POST: {bodies:?}");
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["to"], "+31612345678", "{body}");
    assert_eq!(body["channel"], "sms", "{body}");
    let message = body["message"].as_str().unwrap();
    let code: String = message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no 6-digit code in {message}"))
        .to_string();

    // The one code that was sent answers the second challenge.
    let reply = request(
        9,
        21,
        code.as_bytes(),
        vec![Attribute::new(attr::STATE, state).unwrap()],
    );
    let p3 = answer(&reply, &roundtrip(&s, port, reply.bytes()));
    assert_eq!(p3.code, Code::ACCESS_ACCEPT, "{}", server.log());
    // The second request is logged as not sending again.
    let log = server.log_once("SMS code already sent, still valid");
    assert!(!log.contains(&code), "the SMS code is in the log: {log}");
    assert_eq!(sink.bodies().len(), 1);
}

#[test]
fn a_webhook_answering_500_is_an_access_reject_with_a_logged_reason() {
    let sink = Sink::start(500);
    let env = Env::new();
    let port = free_port();
    let server = Server::start(&env.config(port, sink.port));
    let s = socket();

    let first = request(7, 3, b"any password", vec![]);
    let p = answer(&first, &roundtrip(&s, port, first.bytes()));
    assert_eq!(p.code, Code::ACCESS_REJECT, "{}", server.log());
    assert_eq!(sink.bodies().len(), 1, "retries = 0: one attempt");
    let log = server.log_once("SMS delivery to +*******5678 failed");
    assert!(
        log.contains("failed: webhook: HTTP status 500; code withdrawn"),
        "the reason is logged: {log}"
    );
    let body: serde_json::Value = serde_json::from_str(&sink.bodies()[0]).unwrap();
    let message = body["message"].as_str().unwrap();
    let code: String = message
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no 6-digit code in {message}"))
        .to_string();
    assert!(!log.contains(&code), "the SMS code is in the log: {log}");

    // The gateway recovers: the next Access-Request must send a new code
    // (the undelivered one was not left pending), and the undelivered
    // code does not answer the new challenge.
    sink.status.store(200, Ordering::SeqCst);
    let second = request(8, 9, b"any password", vec![]);
    let p2 = answer(&second, &roundtrip(&s, port, second.bytes()));
    assert_eq!(p2.code, Code::ACCESS_CHALLENGE, "{}", server.log());
    assert_eq!(
        sink.bodies().len(),
        2,
        "a new code is sent after the failed delivery: {}",
        server.log()
    );
    let state = p2.first(attr::STATE).expect("a State").to_vec();
    let stale = request(
        9,
        21,
        code.as_bytes(),
        vec![Attribute::new(attr::STATE, state).unwrap()],
    );
    let p3 = answer(&stale, &roundtrip(&s, port, stale.bytes()));
    assert_eq!(
        p3.code,
        Code::ACCESS_REJECT,
        "the undelivered code must not be usable"
    );
}
