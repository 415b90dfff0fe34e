//! `mfa serve --config FILE`: the real binary on loopback, a sign-in,
//! the log line, the refusal of plain HTTP off loopback, SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mfa_oath::{Secret, Totp, TotpParams, UnixTime};
use mfa_store::{ImportMode, MasterKey, NewToken, Store, TokenKind};

fn now() -> UnixTime {
    UnixTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// A store with alice's TOTP token, its key file; returns the generator.
fn store(dir: &Path) -> (String, Totp) {
    let db = format!("sqlite:{}", dir.join("mfa.db").display());
    std::fs::write(dir.join("mfa.key"), format!("1:{}\n", "07".repeat(32))).unwrap();
    let store = Store::open(&db, &MasterKey::new(1, [7; 32])).unwrap();
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    let totp = Totp::new(secret.clone(), TotpParams::default());
    // Activated with the previous step's code, so the current one is free.
    let t = UnixTime::from_secs(now().secs() - 30);
    store
        .import(
            [NewToken::new(
                "T-1",
                TokenKind::Totp(TotpParams::default()),
                secret,
            )],
            ImportMode::AllOrNothing,
            t,
        )
        .unwrap();
    store.assign("T-1", "alice", t).unwrap();
    store
        .activate("T-1", &totp.generate(t).unwrap().to_string(), t)
        .unwrap();
    (db, totp)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn post(port: u16, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_signs_in_logs_without_the_code_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (db, totp) = store(dir.path());
    let port = free_port();
    let config = dir.path().join("http.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndb = \"{db}\"\nkey_file = \"{}\"\nserver_name = \"mfa-http-test\"\n[rate_limit]\nenabled = false\n",
            dir.path().join("mfa.key").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mfa"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "mfa serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let code = totp.generate(now()).unwrap().to_string();
    let answer = post(port, "/validate/check", &format!("user=alice&pass={code}"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["result"]["authentication"], "ACCEPT", "{v}");
    let again = post(
        port,
        "/validate/radiuscheck",
        &format!("user=alice&pass={code}"),
    );
    assert!(again.starts_with("HTTP/1.1 400"), "{again}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "mfa serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let requests: Vec<&str> = log.lines().filter(|l| l.contains("request")).collect();
    assert_eq!(requests.len(), 2, "one line per request:\n{log}");
    assert!(
        requests[0].contains("outcome=\"accept\"") || requests[0].contains("outcome=accept"),
        "{log}"
    );
    assert!(
        requests[0].contains("user=\"alice\"") || requests[0].contains("user=alice"),
        "{log}"
    );
    assert!(!log.contains(&code), "the code is never logged:\n{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn plain_http_off_loopback_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("http.toml");
    std::fs::write(
        &config,
        "listen = \"0.0.0.0:8443\"\ndb = \"sqlite:x.db\"\nkey_file = \"mfa.key\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mfa"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plain HTTP on 0.0.0.0:8443 is refused"),
        "{err}"
    );
    // An unknown key is a mistake, not ignored.
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:8443\"\ndb = \"sqlite:x.db\"\nkey_file = \"mfa.key\"\nlisten_port = 1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mfa"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen_port"));
}

#[test]
fn the_examples_of_docs_http_md_run() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/http-examples.sh");
    for tool in ["curl", "python3", "sha256sum", "bash"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            mfa_test_support::skip!("{tool} is not installed");
            return;
        }
    }
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mfa"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `tool` is on the PATH; if not, says SKIPPED (or fails under CI=true).
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        mfa_test_support::skip!("{tool} is not installed");
    }
    found
}

/// A real client nobody here wrote: FreeRADIUS 3.2's rlm_rest, configured
/// as privacyIDEA's documentation configures it, driven by radclient.
#[test]
fn freeradius_rlm_rest_signs_in_through_mfa_serve() {
    if !have("freeradius") || !have("radclient") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, totp) = store(dir.path());
    let http_port = free_port();
    let radius_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("http.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{http_port}\"\ndb = \"{db}\"\nkey_file = \"{}\"\n",
            dir.path().join("mfa.key").display()
        ),
    )
    .unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_mfa"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let raddb = dir.path().join("raddb");
    std::fs::create_dir_all(raddb.join("run")).unwrap();
    let template = include_str!("freeradius/radiusd.conf");
    std::fs::write(
        raddb.join("radiusd.conf"),
        template
            .replace("@DIR@", raddb.to_str().unwrap())
            .replace("@HTTP_PORT@", &http_port.to_string())
            .replace("@RADIUS_PORT@", &radius_port.to_string()),
    )
    .unwrap();
    let radius_log = dir.path().join("radiusd.out");
    let mut radiusd = Command::new("freeradius")
        .arg("-X")
        .arg("-d")
        .arg(&raddb)
        .stdout(std::fs::File::create(&radius_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&radius_log)
        .unwrap_or_default()
        .contains("Ready to process requests")
        || TcpStream::connect(("127.0.0.1", http_port)).is_err()
    {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = radiusd.kill();
            let _ = serve.kill();
            panic!(
                "freeradius or mfa serve did not start:\n{}",
                std::fs::read_to_string(&radius_log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let radclient = |password: &str| {
        let mut child = Command::new("radclient")
            .args(["-t", "5", "-r", "1"])
            .arg(format!("127.0.0.1:{radius_port}"))
            .args(["auth", "testing123"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(
            child.stdin.take().unwrap(),
            "User-Name = \"alice\", User-Password = \"{password}\""
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let code = totp.generate(now()).unwrap().to_string();
    let first = radclient(&code);
    let replay = radclient(&code);
    let wrong = radclient(if code == "000000" { "111111" } else { "000000" });
    let _ = radiusd.kill();
    let _ = radiusd.wait();
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let _ = serve.wait();
    let log = std::fs::read_to_string(&radius_log).unwrap_or_default();
    assert!(first.contains("Received Access-Accept"), "{first}\n{log}");
    assert!(replay.contains("Received Access-Reject"), "{replay}");
    assert!(wrong.contains("Received Access-Reject"), "{wrong}");
}
