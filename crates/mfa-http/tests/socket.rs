//! The router behind `mfa_http::serve` on a real loopback socket: plain
//! HTTP under load, and TLS checked by curl against a throw-away CA.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use mfa_http::ServeOptions;
use tokio::sync::oneshot;

async fn start(
    app: axum::Router,
    options: ServeOptions,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        mfa_http::serve(listener, app, options, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_connections_nothing_lost_one_acceptance() {
    let f = Fixture::new();
    let mut config = unlimited();
    config.store_timeout = Duration::from_secs(60);
    // At most 64 connections served at once: the rest wait in the listen
    // queue, and still every one is answered.
    let mut options = ServeOptions::default();
    options.max_connections = 64;
    let (addr, stop, task) = start(f.router(config), options).await;
    let code = f.code();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let body = format!("user=alice&pass={code}");
        tasks.push(tokio::spawn(async move {
            raw(addr, "POST", "/validate/check", &body).await
        }));
    }
    let mut accepts = 0;
    let mut rejects = 0;
    for t in tasks {
        let (status, body) = tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        match auth(&v) {
            "ACCEPT" => accepts += 1,
            "REJECT" => {
                // Replays count as failures: the lockout soon takes over.
                let reason = v["detail"]["reason"].as_str().unwrap();
                assert!(reason == "code_replayed" || reason == "locked", "{v}");
                rejects += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!((accepts, rejects), (1, 999));
    let took = started.elapsed();
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "1000 concurrent connections answered in {took:?}"
    );
    // The log says the same: one approval.
    let log = f
        .store
        .auth_log(
            mfa_oath::UnixTime::from_secs(0),
            mfa_oath::UnixTime::from_secs(u64::MAX / 4),
        )
        .unwrap();
    assert_eq!(log.iter().filter(|e| e.result().is_success()).count(), 1);
    assert_eq!(log.len(), 1000);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_lets_the_open_request_finish() {
    let f = Fixture::new();
    let (addr, stop, task) = start(f.router(unlimited()), ServeOptions::default()).await;
    let (status, body) = raw(addr, "GET", "/healthz", "").await;
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    // Headers past hyper's buffer are refused by hyper (431) before the router.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    let _ = s.write_all(huge.as_bytes()).await;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

fn throwaway_ca(dir: &std::path::Path) -> (std::path::PathBuf, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mfa-http test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (ca_path, Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_throwaway_ca_checked_by_curl() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        mfa_test_support::skip!("curl is not installed");
        return;
    }
    let f = Fixture::new();
    let (ca, tls) = throwaway_ca(f.dir.path());
    let mut options = ServeOptions::default();
    options.tls = Some(tls);
    let (addr, stop, task) = start(f.router(unlimited()), options).await;
    let code = f.code();
    let url = format!("https://localhost:{}/validate/check", addr.port());
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(args)
                .output()
                .unwrap()
        })
    };
    let out = run(vec![
        "-sS".into(),
        "--cacert".into(),
        ca.display().to_string(),
        "--resolve".into(),
        format!("localhost:{}:127.0.0.1", addr.port()),
        "-d".into(),
        format!("user=alice&pass={code}"),
        url.clone(),
    ])
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(auth(&v), "ACCEPT", "{v}");
    // Without the CA curl refuses the certificate.
    let out = run(vec![
        "-sS".into(),
        "--resolve".into(),
        format!("localhost:{}:127.0.0.1", addr.port()),
        "-d".into(),
        "user=alice&pass=1".into(),
        url,
    ])
    .await
    .unwrap();
    assert!(!out.status.success());
    // Plain HTTP on the TLS port gets nothing.
    let out = run(vec![
        "-sS".into(),
        "--max-time".into(),
        "5".into(),
        format!("http://127.0.0.1:{}/healthz", addr.port()),
    ])
    .await
    .unwrap();
    assert!(!out.status.success());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .unwrap()
        .unwrap();
}
