//! PostgreSQL over TLS against the cluster of `.ci/setup`: it requires TLS
//! on TCP (`hostssl` only) and presents a certificate for 127.0.0.1 and
//! localhost from a throw-away CA, and `MFA_TEST_POSTGRES_URL` is a
//! `sslmode=verify-full&sslrootcert=…` URL. Without such a URL every test here
//! prints SKIPPED (and fails under `CI=true`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::io::Write as _;
use std::net::ToSocketAddrs as _;

use common::{Backend, ctx, enrol, key};
use mfa_store::{Error, Store, TlsProblem};
use rustls::CertificateError;

/// A host name that is in no certificate and resolves nowhere; the tests
/// reach the server by `hostaddr` and present this name to TLS.
const WRONG_NAME: &str = "mfa-kit-wrong-name.invalid";

/// The TLS test URL, or `None` after a SKIPPED line.
fn base() -> Option<String> {
    let Ok(url) = std::env::var("MFA_TEST_POSTGRES_URL") else {
        mfa_test_support::skip!("MFA_TEST_POSTGRES_URL is not set");
        return None;
    };
    if param(&url, "sslrootcert").is_none() {
        mfa_test_support::skip!(
            "MFA_TEST_POSTGRES_URL has no sslrootcert (not the TLS cluster of .ci/setup)"
        );
        return None;
    }
    Some(url)
}

fn split(url: &str) -> (&str, Vec<(&str, &str)>) {
    let (head, query) = url.split_once('?').unwrap_or((url, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    (head, params)
}

fn param(url: &str, key: &str) -> Option<String> {
    split(url)
        .1
        .into_iter()
        .rev()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

/// `url` with parameter `key` set to `value` (`None`: removed).
fn with(url: &str, key: &str, value: Option<&str>) -> String {
    let (head, params) = split(url);
    let mut out: Vec<String> = params
        .into_iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(v) = value {
        out.push(format!("{key}={v}"));
    }
    if out.is_empty() {
        head.to_owned()
    } else {
        format!("{head}?{}", out.join("&"))
    }
}

/// `url` naming `WRONG_NAME` as its host, reached at the original host's
/// address through `hostaddr`: the TCP connection goes to the same server,
/// TLS checks a name that is not in its certificate.
fn with_wrong_name(url: &str) -> String {
    let rest = url.strip_prefix("postgres://").expect("postgres:// URL");
    let (creds, rest) = rest.split_once('@').expect("user@ in the test URL");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hostport, tail) = rest.split_at(end);
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let addr = (host, port.parse::<u16>().unwrap())
        .to_socket_addrs()
        .unwrap()
        .next()
        .expect("the test host resolves");
    let url = format!("postgres://{creds}@{WRONG_NAME}:{port}{tail}");
    with(&url, "hostaddr", Some(&addr.ip().to_string()))
}

/// A CA certificate that signed nothing the server has, made with openssl.
fn other_ca() -> Option<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir().unwrap();
    let (k, c) = (dir.path().join("ca.key"), dir.path().join("ca.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&k)
        .arg("-out")
        .arg(&c)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let path = c.display().to_string();
            Some((dir, path))
        }
        Ok(o) => panic!("openssl req failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            mfa_test_support::skip!("openssl cannot be run: {e}");
            None
        }
    }
}

/// Whether the session of `client` is encrypted, as the server sees it.
fn encrypted(client: &mut postgres::Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

/// The error of a connection expected to fail.
fn refused(url: &str) -> Error {
    match mfa_store::connect_postgres(url) {
        Ok(_) => panic!("connected to {url}, expected a refusal"),
        Err(e) => e,
    }
}

fn handshake_reason(e: Error) -> rustls::Error {
    match e {
        Error::Tls {
            problem: TlsProblem::Handshake { reason, .. },
        } => reason,
        other => panic!("expected a refused TLS handshake, got {other:?}"),
    }
}

fn is_wrong_name(reason: &rustls::Error) -> bool {
    matches!(
        reason,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

#[test]
fn verify_full_connects_over_tls() {
    let Some(url) = base() else {
        return;
    };
    assert_eq!(param(&url, "sslmode").as_deref(), Some("verify-full"));
    let mut c = mfa_store::connect_postgres(&url).unwrap();
    assert!(encrypted(&mut c));
    // No sslmode at all: verify-full, the default.
    let mut c = mfa_store::connect_postgres(&with(&url, "sslmode", None)).unwrap();
    assert!(encrypted(&mut c));
}

#[test]
fn the_stores_own_connections_are_encrypted() {
    let Some(_) = base() else {
        return;
    };
    let b = Backend::postgres("the_stores_own_connections_are_encrypted").unwrap();
    let app = format!("mfa_tls_{}", std::process::id());
    let store = Store::open(&with(&b.url, "application_name", Some(&app)), &key()).unwrap();
    let t = enrol(&store, "alice", "T1", 1);
    let code = common::code_at(1, t);
    assert!(
        store
            .verify("alice", &code, common::at(t), &ctx())
            .unwrap()
            .is_approved()
    );
    // The store's pooled connection is idle now; the server says whether
    // it is encrypted.
    let mut admin = mfa_store::connect_postgres(&b.url).unwrap();
    let row = admin
        .query_one(
            "SELECT count(*), coalesce(bool_and(s.ssl), false) \
               FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
              WHERE a.application_name = $1",
            &[&app],
        )
        .unwrap();
    let (n, all_tls): (i64, bool) = (row.get(0), row.get(1));
    assert!(n >= 1, "the store holds no connection named {app}");
    assert!(all_tls, "a store connection is not encrypted");
}

#[test]
fn a_wrong_ca_is_refused() {
    let Some(url) = base() else {
        return;
    };
    let Some((_dir, ca)) = other_ca() else {
        return;
    };
    let wrong = with(&url, "sslrootcert", Some(&ca));
    let reason = handshake_reason(refused(&wrong));
    assert_eq!(
        reason,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // The store refuses the same way, with a message naming the problem.
    let e = Store::open(&wrong, &key()).err().unwrap();
    let shown = e.to_string();
    assert!(shown.contains("TLS handshake"), "{shown}");
    assert_eq!(
        handshake_reason(e),
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // The same wrong CA under `verify-ca` and under `require` (a root
    // certificate makes `require` verify the chain, as in libpq).
    for mode in ["verify-ca", "require", "prefer"] {
        let e = refused(&with(&wrong, "sslmode", Some(mode)));
        assert_eq!(
            handshake_reason(e),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            "{mode}"
        );
    }
}

#[test]
fn verify_full_refuses_a_name_not_in_the_certificate() {
    let Some(url) = base() else {
        return;
    };
    let wrong = with_wrong_name(&url);
    let reason = handshake_reason(refused(&wrong));
    assert!(is_wrong_name(&reason), "{reason:?}");
    // No sslmode at all means verify-full.
    let default = with(&wrong, "sslmode", None);
    let reason = handshake_reason(refused(&default));
    assert!(is_wrong_name(&reason), "{reason:?}");
}

#[test]
fn verify_ca_accepts_a_name_not_in_the_certificate() {
    let Some(url) = base() else {
        return;
    };
    let url = with(&with_wrong_name(&url), "sslmode", Some("verify-ca"));
    let mut c = mfa_store::connect_postgres(&url).unwrap();
    assert!(encrypted(&mut c));
}

#[test]
fn require_without_a_root_certificate_encrypts() {
    let Some(url) = base() else {
        return;
    };
    let url = with(&with(&url, "sslrootcert", None), "sslmode", Some("require"));
    let mut c = mfa_store::connect_postgres(&url).unwrap();
    assert!(encrypted(&mut c));
    // Nothing is verified, not even the name.
    let mut c = mfa_store::connect_postgres(&with_wrong_name(&url)).unwrap();
    assert!(encrypted(&mut c));
}

#[test]
fn prefer_uses_tls_when_the_server_offers_it() {
    let Some(url) = base() else {
        return;
    };
    let url = with(&with(&url, "sslrootcert", None), "sslmode", Some("prefer"));
    let mut c = mfa_store::connect_postgres(&url).unwrap();
    assert!(encrypted(&mut c));
}

#[test]
fn disable_is_refused_by_a_server_that_requires_tls() {
    let Some(url) = base() else {
        return;
    };
    let url = with(&url, "sslmode", Some("disable"));
    match refused(&url) {
        // pg_hba.conf: "no pg_hba.conf entry for host …, no encryption".
        Error::Postgres(e) => {
            assert_eq!(
                e.code(),
                Some(&postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
                "{e}"
            );
            let shown = Error::Postgres(e).to_string();
            assert!(shown.contains("no encryption"), "{shown}");
        }
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}

#[test]
fn verify_full_without_a_root_certificate_is_refused_before_connecting() {
    let Some(url) = base() else {
        return;
    };
    let url = with(&url, "sslrootcert", None);
    assert!(matches!(
        refused(&url),
        Error::Tls {
            problem: TlsProblem::RootCertRequired {
                mode: mfa_store::SslMode::VerifyFull
            }
        }
    ));
}

/// A server on 127.0.0.1 that answers PostgreSQL's TLS request with `N`
/// ("no TLS here"), as a downgrading attacker would, and records whether the
/// client then sent anything else (a startup message with the user name).
fn no_tls_server() -> (u16, std::thread::JoinHandle<usize>) {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut request = [0u8; 8];
        s.read_exact(&mut request).unwrap();
        // SSLRequest: length 8, code 80877103.
        assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47]);
        s.write_all(b"N").unwrap();
        // The client either hangs up (0) or goes on in plain text.
        let mut next = [0u8; 512];
        s.read(&mut next).unwrap_or(0)
    });
    (port, handle)
}

#[test]
fn a_server_that_refuses_tls_is_not_talked_to_in_plain_text() {
    // No PostgreSQL needed: the server is a stand-in that says "no TLS".
    for mode in ["require", "verify-ca", "verify-full"] {
        let (port, server) = no_tls_server();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        // Any CA will do: the handshake never starts.
        std::fs::write(&ca, include_str!("data/unused-ca.pem")).unwrap();
        let url = format!(
            "postgres://mfa:hunter2@127.0.0.1:{port}/mfa?sslmode={mode}&sslrootcert={}",
            ca.display()
        );
        let e = refused(&url);
        let shown = e.to_string();
        assert!(
            matches!(
                e,
                Error::Tls {
                    problem: TlsProblem::NotOffered { .. }
                }
            ),
            "{mode}: {e:?}"
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            server.join().unwrap(),
            0,
            "{mode}: the client sent more after the refusal"
        );
    }
}

#[test]
fn prefer_goes_on_in_plain_text_when_the_server_refuses_tls() {
    // What `prefer` means, and why it is not the default: the stand-in says
    // "no TLS" and the client sends its startup message (user name) in
    // plain text.
    let (port, server) = no_tls_server();
    let url = format!("postgres://mfa@127.0.0.1:{port}/mfa?sslmode=prefer");
    let e = refused(&url);
    assert!(matches!(e, Error::Postgres(_)), "{e:?}");
    assert!(server.join().unwrap() > 0, "no plain-text startup message");
}

/// `url` signing in as `user` (no password).
fn with_user(url: &str, user: &str) -> String {
    let rest = url.strip_prefix("postgres://").expect("postgres:// URL");
    let (_, rest) = rest.split_once('@').expect("user@ in the test URL");
    format!("postgres://{user}@{rest}")
}

/// The client certificate and key `.ci/setup` made for role `mfa_cert`,
/// beside the CA certificate (`<stem>.ca.pem` → `<stem>.client.crt/.key`).
fn client_files(url: &str) -> Option<(String, String)> {
    let ca = param(url, "sslrootcert")?;
    let files = ca
        .strip_suffix(".ca.pem")
        .map(|stem| (format!("{stem}.client.crt"), format!("{stem}.client.key")));
    match files {
        Some((c, k)) if std::path::Path::new(&c).exists() && std::path::Path::new(&k).exists() => {
            Some((c, k))
        }
        _ => {
            mfa_test_support::skip!("no client certificate beside sslrootcert (run .ci/setup)");
            None
        }
    }
}

#[test]
fn a_client_certificate_signs_in_where_pg_hba_requires_one() {
    let Some(url) = base() else {
        return;
    };
    let Some((cert, key)) = client_files(&url) else {
        return;
    };
    let url = with_user(&url, "mfa_cert");
    let with_cert = with(&with(&url, "sslcert", Some(&cert)), "sslkey", Some(&key));
    let mut c = mfa_store::connect_postgres(&with_cert).unwrap();
    let dn: String = c
        .query_one(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dn, "/CN=mfa_cert");
    // Without the certificate the server refuses the role.
    match refused(&url) {
        Error::Postgres(e) => {
            assert_eq!(
                e.code(),
                Some(&postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
                "{e}"
            );
        }
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}
