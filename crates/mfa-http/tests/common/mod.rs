//! Test harness: a store with known users and tokens, a movable clock,
//! one-shot requests through the router and raw HTTP/1.1 over a socket.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use mfa_http::{HttpConfig, Validate};
use mfa_oath::{Hotp, HotpParams, Secret, Totp, TotpParams, UnixTime};
use mfa_store::{ImportMode, MasterKey, NewToken, Store, TokenKind, UserProfile};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

pub const T0: u64 = 1_700_000_000;

/// A store with: alice (TOTP `T-ALICE`), bob (HOTP `H-BOB`), carol (a
/// phone, no token), dave (nothing).
pub struct Fixture {
    pub store: Arc<Store>,
    pub clock: Arc<AtomicU64>,
    pub totp: Totp,
    pub hotp: Hotp,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
        let store = Store::open(&url, &MasterKey::new(1, [7; 32])).unwrap();
        let t0 = UnixTime::from_secs(T0);
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let hsecret = Secret::from_bytes(b"abcdefghijabcdefghij").unwrap();
        let totp = Totp::new(secret.clone(), TotpParams::default());
        let hotp = Hotp::new(hsecret.clone(), HotpParams::default());
        store
            .import(
                [
                    NewToken::new("T-ALICE", TokenKind::Totp(TotpParams::default()), secret),
                    NewToken::new("H-BOB", TokenKind::Hotp(HotpParams::default()), hsecret),
                ],
                ImportMode::AllOrNothing,
                t0,
            )
            .unwrap();
        store.assign("T-ALICE", "alice", t0).unwrap();
        store
            .activate("T-ALICE", &totp.generate(t0).unwrap().to_string(), t0)
            .unwrap();
        store.assign("H-BOB", "bob", t0).unwrap();
        store
            .activate("H-BOB", &hotp.generate(0).to_string(), t0)
            .unwrap();
        let mut carol = UserProfile::new("carol");
        carol.phone = Some("+31 6 1234 5678".to_owned());
        store.put_user(&carol, t0).unwrap();
        store.put_user(&UserProfile::new("dave"), t0).unwrap();
        Fixture {
            store: Arc::new(store),
            clock: Arc::new(AtomicU64::new(T0 + 300)),
            totp,
            hotp,
            dir,
        }
    }

    pub fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.clock.load(Ordering::SeqCst))
    }

    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    /// alice's TOTP code now.
    pub fn code(&self) -> String {
        self.totp.generate(self.now()).unwrap().to_string()
    }

    pub fn validate(&self, config: HttpConfig) -> Validate {
        let clock = Arc::clone(&self.clock);
        Validate::new(Arc::clone(&self.store), config)
            .unwrap()
            .with_clock(Arc::new(move || {
                UnixTime::from_secs(clock.load(Ordering::SeqCst))
            }))
    }

    pub fn router(&self, config: HttpConfig) -> Router {
        self.validate(config).router()
    }
}

/// A config without the rate limit.
pub fn unlimited() -> HttpConfig {
    let mut c = HttpConfig::default();
    c.rate_limit = None;
    c
}

/// A POST with a form body.
pub fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// A POST with a JSON body.
pub fn json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// Sends one request through `app`: the status and the body (JSON, or
/// `Value::Null` for an empty body; a string otherwise).
pub async fn call(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, v)
}

pub fn auth(v: &Value) -> &str {
    v["result"]["authentication"].as_str().unwrap_or("")
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`):
/// the status and the body.
pub async fn raw(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
