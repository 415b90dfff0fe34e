//! PostgreSQL over TLS: libpq's `sslmode`, `sslrootcert`, `sslcert` and
//! `sslkey`, with rustls.
//!
//! tokio-postgres knows only `sslmode=disable|prefer|require` and rejects
//! every other `ssl…` parameter, and its `require` encrypts without checking
//! the server at all. So the store reads the TLS parameters out of the URL
//! itself ([`split_ssl_params`], pure), hands the rest to
//! [`postgres::Config`], and builds the rustls client configuration that
//! gives each mode libpq's meaning:
//!
//! | mode          | TLS                  | certificate chain         | host name |
//! |---------------|----------------------|---------------------------|-----------|
//! | `disable`     | never                | –                         | –         |
//! | `prefer`      | if the server offers | only with `sslrootcert`   | no        |
//! | `require`     | always               | only with `sslrootcert`   | no        |
//! | `verify-ca`   | always               | always (`sslrootcert`)    | no        |
//! | `verify-full` | always               | always (`sslrootcert`)    | yes       |
//!
//! Even where the certificate is not checked, the handshake signature is:
//! the peer proves it holds the key of the certificate it sent. The default,
//! when the URL names no `sslmode`, is [`SslMode::DEFAULT`] (`verify-full`).
//! Unix-socket hosts never use TLS. `sslcert` and `sslkey` give a client
//! certificate for servers that ask for one.

use std::sync::Arc;

use postgres::config::{Host, SslMode as PgSslMode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;
use zeroize::Zeroizing;

use crate::Error;
use crate::error::TlsProblem;

/// How a PostgreSQL connection uses TLS: libpq's `sslmode` URL parameter.
///
/// ```
/// use mfa_store::SslMode;
///
/// assert_eq!(SslMode::parse("verify-full"), Some(SslMode::VerifyFull));
/// assert_eq!(SslMode::parse("allow"), None); // libpq's `allow` is not offered
/// assert_eq!(SslMode::DEFAULT.as_str(), "verify-full");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, plain otherwise. The certificate is
    /// checked only when `sslrootcert` is given; the name never.
    Prefer,
    /// TLS or no connection. The certificate is checked only when
    /// `sslrootcert` is given (then as `verify-ca`, libpq's rule).
    Require,
    /// TLS, and the server's certificate must chain to `sslrootcert`; its
    /// name is not checked.
    VerifyCa,
    /// TLS, the certificate must chain to `sslrootcert` and name the host
    /// connected to.
    VerifyFull,
}

impl SslMode {
    /// The mode used when the URL names none: `verify-full`. An MFA store is
    /// what decides who signs in; a server that cannot be verified must not
    /// be talked to unless the URL says so (see docs/store.md).
    pub const DEFAULT: SslMode = SslMode::VerifyFull;

    /// The mode named by libpq's text (`disable`, `prefer`, `require`,
    /// `verify-ca`, `verify-full`), or `None`.
    #[must_use]
    pub fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// libpq's name of the mode.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the connection fails rather than go on without TLS.
    fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

impl std::fmt::Display for SslMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// libpq parameters that change what TLS proves and that this crate does not
/// implement: refused rather than silently ignored.
const UNSUPPORTED: [&str; 4] = ["sslpassword", "sslcertmode", "sslcrl", "sslcrldir"];

/// Largest certificate or key file read (a chain of a few certificates is a
/// few kilobytes).
const MAX_PEM_FILE: u64 = 1 << 20;

/// Longest `sslmode` value quoted back in an error.
const MAX_QUOTED: usize = 32;

/// A PostgreSQL URL with its TLS parameters taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SslParams {
    /// The URL without the TLS parameters, for [`postgres::Config`].
    pub(crate) rest: String,
    /// The mode asked for, or [`SslMode::DEFAULT`].
    pub(crate) mode: SslMode,
    /// The `sslrootcert` file, percent-decoded.
    pub(crate) root_cert: Option<String>,
    /// The `sslcert` and `sslkey` files (both or neither).
    pub(crate) client: Option<(String, String)>,
}

/// Takes `sslmode`, `sslrootcert`, `sslcert` and `sslkey` out of a
/// `postgres://` URL (the last one wins, as in libpq) and refuses the TLS
/// parameters not implemented.
/// Reads no file.
pub(crate) fn split_ssl_params(url: &str) -> Result<SslParams, TlsProblem> {
    // The query starts at the first `?` after the credentials (which may
    // hold a `?`; tokio-postgres takes them up to the first `@`).
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let tail = url.get(after_scheme..).unwrap_or_default();
    let creds_end = tail
        .find('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    let query_at = url
        .get(creds_end..)
        .and_then(|s| s.find('?'))
        .map(|i| creds_end + i);
    let (head, query) = match query_at {
        Some(i) => {
            let (head, q) = url.split_at(i);
            (head, q.get(1..).unwrap_or_default())
        }
        None => (url, ""),
    };

    let mut mode = None;
    let mut root_cert = None;
    let mut cert = None;
    let mut key_file = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key, "URL parameter name")?;
        if let Some(name) = UNSUPPORTED.into_iter().find(|u| *u == key) {
            return Err(TlsProblem::UnsupportedParameter { name });
        }
        match key.as_str() {
            "sslmode" => {
                let value = decode(value, "sslmode")?;
                mode = Some(
                    SslMode::parse(&value).ok_or_else(|| TlsProblem::UnknownSslMode {
                        value: value.chars().take(MAX_QUOTED).collect(),
                    })?,
                );
            }
            "sslrootcert" => root_cert = Some(decode(value, "sslrootcert")?),
            "sslcert" => cert = Some(decode(value, "sslcert")?),
            "sslkey" => key_file = Some(decode(value, "sslkey")?),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        head.to_owned()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    let client = match (cert, key_file) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(TlsProblem::ClientCertIncomplete {
                given: "sslcert",
                missing: "sslkey",
            });
        }
        (None, Some(_)) => {
            return Err(TlsProblem::ClientCertIncomplete {
                given: "sslkey",
                missing: "sslcert",
            });
        }
    };
    Ok(SslParams {
        rest,
        mode: mode.unwrap_or(SslMode::DEFAULT),
        root_cert,
        client,
    })
}

fn decode(text: &str, name: &'static str) -> Result<String, TlsProblem> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| TlsProblem::NotUtf8 { name })
}

/// Reads the CA certificates of a PEM file's content (`path` names it in
/// errors). Every `CERTIFICATE` block must be a certificate rustls accepts
/// as a trust anchor; other blocks (keys, CRLs) are ignored.
pub(crate) fn root_store(pem: &[u8], path: &str) -> Result<RootCertStore, TlsProblem> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in certificates(pem, "sslrootcert", path)?
        .into_iter()
        .enumerate()
    {
        roots
            .add(cert)
            .map_err(|_| TlsProblem::InvalidCertificate {
                parameter: "sslrootcert",
                path: path.to_owned(),
                index: i + 1,
            })?;
    }
    Ok(roots)
}

/// The certificates of a PEM file's content, at least one.
fn certificates(
    pem: &[u8],
    parameter: &'static str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsProblem> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .enumerate()
        .map(|(i, c)| {
            c.map_err(|_| TlsProblem::InvalidCertificate {
                parameter,
                path: path.to_owned(),
                index: i + 1,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(TlsProblem::NoCertificate {
            parameter,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The client's certificate chain and private key from the PEM contents of
/// `sslcert` and `sslkey`.
pub(crate) fn client_identity(
    cert_pem: &[u8],
    cert_path: &str,
    key_pem: &[u8],
    key_path: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsProblem> {
    let chain = certificates(cert_pem, "sslcert", cert_path)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsProblem::InvalidKey {
        path: key_path.to_owned(),
    })?;
    Ok((chain, key))
}

/// Reads a certificate or key file named by `parameter`, at most
/// [`MAX_PEM_FILE`] bytes; the content is wiped when dropped (keys).
fn read_pem(parameter: &'static str, path: &str) -> Result<Zeroizing<Vec<u8>>, TlsProblem> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| TlsProblem::Unreadable {
        parameter,
        path: path.to_owned(),
        kind: e.kind(),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_PEM_FILE)
        .read_to_end(&mut buf)
        .map_err(unreadable)?;
    Ok(buf)
}

/// libpq's rule for `sslkey`: not readable by group or others, except
/// group-readable when owned by root.
#[cfg(unix)]
fn check_key_permissions(path: &str) -> Result<(), TlsProblem> {
    use std::os::unix::fs::MetadataExt as _;
    let md = std::fs::metadata(path).map_err(|e| TlsProblem::Unreadable {
        parameter: "sslkey",
        path: path.to_owned(),
        kind: e.kind(),
    })?;
    let mode = md.mode() & 0o777;
    let allowed = if md.uid() == 0 { 0o740 } else { 0o700 };
    if mode & !allowed != 0 {
        return Err(TlsProblem::KeyPermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_permissions(_path: &str) -> Result<(), TlsProblem> {
    Ok(())
}

/// Everything needed to open connections to one PostgreSQL URL.
pub(crate) struct PgTarget {
    config: postgres::Config,
    /// `None`: plain connections only (`disable`, or Unix sockets).
    tls: Option<MakeRustlsConnect>,
    /// The TCP host names, for errors.
    hosts: String,
}

/// What the server's certificate is checked against.
enum Check {
    /// Only the handshake signature (the peer holds the certificate's key).
    Signature,
    /// The chain up to the roots, not the name.
    Chain(RootCertStore),
    /// Chain and name (webpki, as a browser does).
    Full(RootCertStore),
}

impl PgTarget {
    /// Parses `url` and reads its `sslrootcert`.
    pub(crate) fn new(url: &str) -> Result<PgTarget, Error> {
        let params = split_ssl_params(url).map_err(|problem| Error::Tls { problem })?;
        let mut config: postgres::Config = params.rest.parse()?;

        let hosts = config.get_hosts();
        let unix = hosts.iter().any(|h| !matches!(h, Host::Tcp(_)));
        let tcp =
            hosts.iter().any(|h| matches!(h, Host::Tcp(_))) || !config.get_hostaddrs().is_empty();
        let tcp_names = hosts
            .iter()
            .filter_map(|h| match h {
                Host::Tcp(name) => Some(name.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(",");

        let mode = params.mode;
        if (unix && !tcp) || mode == SslMode::Disable {
            config.ssl_mode(PgSslMode::Disable);
            return Ok(PgTarget {
                config,
                tls: None,
                hosts: tcp_names,
            });
        }
        if unix && mode.requires_tls() {
            return Err(Error::Tls {
                problem: TlsProblem::UnixSocketWithTls { mode },
            });
        }

        let tls = |problem| Error::Tls { problem };
        let roots = match &params.root_cert {
            Some(path) => {
                let pem = read_pem("sslrootcert", path).map_err(tls)?;
                Some(root_store(&pem, path).map_err(tls)?)
            }
            None => None,
        };
        let identity = match &params.client {
            Some((cert, key)) => {
                check_key_permissions(key).map_err(tls)?;
                let cert_pem = read_pem("sslcert", cert).map_err(tls)?;
                let key_pem = read_pem("sslkey", key).map_err(tls)?;
                Some(client_identity(&cert_pem, cert, &key_pem, key).map_err(tls)?)
            }
            None => None,
        };
        let check = match (mode, roots) {
            (SslMode::VerifyFull, Some(r)) => Check::Full(r),
            // libpq: a root certificate, when given, is checked in every
            // mode that uses TLS (`disable` returned above).
            (_, Some(r)) => Check::Chain(r),
            (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
                return Err(Error::Tls {
                    problem: TlsProblem::RootCertRequired { mode },
                });
            }
            (_, None) => Check::Signature,
        };
        config.ssl_mode(if mode.requires_tls() {
            PgSslMode::Require
        } else {
            PgSslMode::Prefer
        });
        let client = client_config(check, identity).map_err(|reason| Error::Tls {
            problem: TlsProblem::Config { reason },
        })?;
        Ok(PgTarget {
            config,
            tls: Some(MakeRustlsConnect::new(client)),
            hosts: tcp_names,
        })
    }

    /// Opens one connection.
    pub(crate) fn connect(&self) -> Result<postgres::Client, Error> {
        let r = match &self.tls {
            None => self.config.connect(postgres::NoTls),
            Some(tls) => self.config.connect(tls.clone()),
        };
        r.map_err(|e| {
            let problem = if let Some(reason) = rustls_error(&e) {
                TlsProblem::Handshake {
                    host: self.hosts.clone(),
                    reason,
                }
            } else if tls_not_offered(&e) {
                TlsProblem::NotOffered {
                    host: self.hosts.clone(),
                }
            } else {
                return Error::Postgres(e);
            };
            Error::Tls { problem }
        })
    }
}

/// Whether tokio-postgres gave up because the server answered the TLS
/// request with "no" (its error for `sslmode=require`; the text is the only
/// mark it has). Anything else stays an `Error::Postgres`.
fn tls_not_offered(e: &postgres::Error) -> bool {
    e.to_string() == "error performing TLS handshake"
        && std::error::Error::source(e)
            .is_some_and(|s| s.to_string() == "server does not support TLS")
}

/// The rustls error under a failed TLS handshake, if that is what failed
/// (tokio-rustls wraps it in an `io::Error`, which tokio-postgres boxes).
fn rustls_error(e: &postgres::Error) -> Option<rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r.clone());
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r.clone());
        }
        cur = err.source();
    }
    None
}

/// The one crypto provider: ring (not aws-lc-rs), shared by every crate.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_config(check: Check, identity: Option<Identity>) -> Result<ClientConfig, rustls::Error> {
    let provider = provider();
    let algs = provider.signature_verification_algorithms;
    let builder =
        ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
    let builder = match check {
        Check::Full(roots) => builder.with_root_certificates(roots),
        Check::Chain(roots) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                roots: Arc::new(roots),
                algs,
            })),
        Check::Signature => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(SignatureOnly { algs })),
    };
    match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// `prefer`/`require` without a root certificate: any certificate, but the
/// handshake must be signed with its key. Encrypts; proves nothing about
/// who the server is (an active attacker can present their own).
#[derive(Debug)]
struct SignatureOnly {
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for SignatureOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// `verify-ca` (and `prefer`/`require` with a root certificate): the chain
/// must lead to one of the roots and be valid now; the name is not checked.
#[derive(Debug)]
struct ChainOnly {
    roots: Arc<RootCertStore>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algs.all,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// A PostgreSQL client connected the way the store connects: the same URL
/// syntax, `sslmode` (default `verify-full`), `sslrootcert`, `sslcert`, `sslkey`.
///
/// For administration tools and tests that need plain SQL next to a
/// [`crate::Store`] (creating a schema, reading `pg_stat_ssl`); never write the
/// store's tables through it.
///
/// ```no_run
/// let url = "postgres://mfa@db.example:5432/mfa?sslmode=verify-full&sslrootcert=/etc/mfa/db-ca.pem";
/// let mut client = mfa_store::connect_postgres(url)?;
/// let row = client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?;
/// assert!(row.get::<_, bool>(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::UrlScheme`] for a URL that is not `postgres://…`/`postgresql://…`;
/// [`Error::Tls`] for a bad `sslmode`, an unreadable, empty or invalid
/// certificate or key file, a refused certificate, a failed handshake or a
/// server that does not offer TLS when the mode requires it;
/// [`Error::Postgres`] for everything else (server unreachable, refused by
/// `pg_hba.conf`, bad password).
pub fn connect_postgres(url: &str) -> Result<postgres::Client, Error> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Error::UrlScheme {
            scheme: url.split(':').next().unwrap_or_default().to_owned(),
        });
    }
    PgTarget::new(url)?.connect()
}

/// A store URL as it may be shown in messages and logs: a PostgreSQL
/// password, in the URL's user information (`postgres://u:PASSWORD@h/db`),
/// as a `password=` query parameter or as a `password=` keyword of the
/// key-value form, is replaced by `***`. Everything else is kept, so the
/// text still says which store was meant.
///
/// ```
/// use mfa_store::redact_url;
/// assert_eq!(redact_url("postgres://mfa:hunter2@db1/mfa"), "postgres://mfa:***@db1/mfa");
/// assert_eq!(
///     redact_url("postgresql://db1/mfa?user=mfa&password=hunter2&sslmode=verify-full"),
///     "postgresql://db1/mfa?user=mfa&password=***&sslmode=verify-full"
/// );
/// assert_eq!(redact_url("host=db1 password=hunter2 user=mfa"), "host=db1 password=*** user=mfa");
/// assert_eq!(redact_url("sqlite:/var/lib/mfa/mfa.db"), "sqlite:/var/lib/mfa/mfa.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let is_password = |kv: &str| {
        kv.split_once('=')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("password"))
    };
    let redact_pairs = |text: &str, sep: char| -> String {
        text.split(sep)
            .map(|kv| {
                if is_password(kv) {
                    let key = kv.split_once('=').map_or(kv, |(k, _)| k);
                    format!("{key}=***")
                } else {
                    kv.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(&sep.to_string())
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        // The key-value form (`host=... password=...`), or sqlite:.
        return if url.contains('=') {
            redact_pairs(url, ' ')
        } else {
            url.to_owned()
        };
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(&redact_pairs(q, '&'));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn split(url: &str) -> SslParams {
        split_ssl_params(url).unwrap()
    }

    #[test]
    fn every_mode_parses() {
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            let p = split(&format!("postgres://u@h:5432/db?sslmode={text}"));
            assert_eq!(p.mode, mode, "{text}");
            assert_eq!(p.rest, "postgres://u@h:5432/db");
            assert_eq!(mode.as_str(), text);
            assert_eq!(SslMode::parse(text), Some(mode));
        }
    }

    #[test]
    fn no_sslmode_means_verify_full() {
        let p = split("postgres://u@h/db");
        assert_eq!(p.mode, SslMode::VerifyFull);
        assert_eq!(p.root_cert, None);
        assert_eq!(p.rest, "postgres://u@h/db");
    }

    #[test]
    fn unknown_sslmode_is_an_error() {
        for bad in ["allow", "VERIFY-FULL", "", "verify_full"] {
            let e = split_ssl_params(&format!("postgres://h/db?sslmode={bad}")).unwrap_err();
            assert_eq!(
                e,
                TlsProblem::UnknownSslMode {
                    value: bad.to_owned()
                }
            );
        }
        let long = "x".repeat(1000);
        let e = split_ssl_params(&format!("postgres://h/db?sslmode={long}")).unwrap_err();
        assert!(matches!(e, TlsProblem::UnknownSslMode { value } if value.len() == MAX_QUOTED));
    }

    #[test]
    fn other_parameters_are_kept_in_order_and_the_last_sslmode_wins() {
        let p = split(
            "postgresql://u:p%40ss@h1,h2:5432/db?application_name=a&sslmode=disable\
             &sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem&options=-csearch_path%3Ds&sslmode=verify-ca",
        );
        assert_eq!(p.mode, SslMode::VerifyCa);
        assert_eq!(p.root_cert.as_deref(), Some("/etc/ca dir/ca.pem"));
        assert_eq!(
            p.rest,
            "postgresql://u:p%40ss@h1,h2:5432/db?application_name=a&options=-csearch_path%3Ds"
        );
    }

    #[test]
    fn a_question_mark_in_the_password_does_not_start_the_query() {
        let p = split("postgres://u:a?b@h/db?sslmode=require");
        assert_eq!(p.mode, SslMode::Require);
        assert_eq!(p.rest, "postgres://u:a?b@h/db");
    }

    #[test]
    fn a_client_certificate_needs_both_files() {
        let p = split("postgres://h/db?sslcert=%2Fc.pem&sslmode=require&sslkey=%2Fk.pem");
        assert_eq!(p.client, Some(("/c.pem".to_owned(), "/k.pem".to_owned())));
        assert_eq!(p.rest, "postgres://h/db");
        assert_eq!(
            split_ssl_params("postgres://h/db?sslcert=/c.pem").unwrap_err(),
            TlsProblem::ClientCertIncomplete {
                given: "sslcert",
                missing: "sslkey"
            }
        );
        assert_eq!(
            split_ssl_params("postgres://h/db?sslkey=/k.pem").unwrap_err(),
            TlsProblem::ClientCertIncomplete {
                given: "sslkey",
                missing: "sslcert"
            }
        );
    }

    #[test]
    fn a_client_key_that_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("client.key");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let url = format!(
            "postgres://h/db?sslmode=require&sslcert=/nonexistent.pem&sslkey={}",
            key.display()
        );
        let Err(Error::Tls { problem }) = PgTarget::new(&url) else {
            panic!("expected a TLS error");
        };
        assert_eq!(
            problem,
            TlsProblem::KeyPermissions {
                path: key.display().to_string(),
                mode: 0o644
            }
        );
    }

    #[test]
    fn a_client_key_file_without_a_key_is_an_error() {
        let cert = include_bytes!("../tests/data/unused-ca.pem");
        assert_eq!(
            client_identity(cert, "c.pem", b"no key here", "k.pem").unwrap_err(),
            TlsProblem::InvalidKey {
                path: "k.pem".to_owned()
            }
        );
        assert_eq!(
            client_identity(b"", "c.pem", b"", "k.pem").unwrap_err(),
            TlsProblem::NoCertificate {
                parameter: "sslcert",
                path: "c.pem".to_owned()
            }
        );
    }

    #[test]
    fn encrypted_keys_and_crls_are_refused_not_ignored() {
        for name in UNSUPPORTED {
            let e = split_ssl_params(&format!("postgres://h/db?{name}=/x")).unwrap_err();
            assert_eq!(e, TlsProblem::UnsupportedParameter { name });
        }
    }

    #[test]
    fn bad_percent_encoding_is_an_error() {
        let e = split_ssl_params("postgres://h/db?sslrootcert=%FF").unwrap_err();
        assert_eq!(
            e,
            TlsProblem::NotUtf8 {
                name: "sslrootcert"
            }
        );
    }

    #[test]
    fn verify_modes_need_a_root_certificate() {
        for mode in ["verify-ca", "verify-full", ""] {
            let q = if mode.is_empty() {
                String::new()
            } else {
                format!("?sslmode={mode}")
            };
            let Err(Error::Tls { problem }) = PgTarget::new(&format!("postgres://h/db{q}")) else {
                panic!("{mode}: expected a TLS error");
            };
            assert!(
                matches!(problem, TlsProblem::RootCertRequired { .. }),
                "{mode}"
            );
        }
    }

    #[test]
    fn a_missing_root_certificate_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.pem");
        let url = format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}",
            path.display()
        );
        let Err(Error::Tls { problem }) = PgTarget::new(&url) else {
            panic!("expected a TLS error");
        };
        assert_eq!(
            problem,
            TlsProblem::Unreadable {
                parameter: "sslrootcert",
                path: path.display().to_string(),
                kind: std::io::ErrorKind::NotFound,
            }
        );
        let shown = Error::Tls { problem }.to_string();
        assert!(shown.contains("missing.pem"), "{shown}");
    }

    #[test]
    fn a_root_certificate_file_without_certificates_is_an_error() {
        assert_eq!(
            root_store(b"not a PEM file\n", "ca.pem").unwrap_err(),
            TlsProblem::NoCertificate {
                parameter: "sslrootcert",
                path: "ca.pem".to_owned()
            }
        );
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            root_store(garbage, "ca.pem").unwrap_err(),
            TlsProblem::InvalidCertificate {
                parameter: "sslrootcert",
                path: "ca.pem".to_owned(),
                index: 1
            }
        );
    }

    #[test]
    fn unix_sockets_never_use_tls() {
        // Default mode (verify-full) and no root certificate: fine, because
        // a socket host does not use TLS at all.
        let t = PgTarget::new("postgres://u@%2Ftmp:5432/db").unwrap();
        assert!(t.tls.is_none());
        let t = PgTarget::new("postgres:///db?host=/var/run/postgresql&sslmode=require").unwrap();
        assert!(t.tls.is_none());
    }

    #[test]
    fn a_socket_and_a_tcp_host_with_required_tls_is_refused() {
        let Err(Error::Tls { problem }) =
            PgTarget::new("postgres://u@%2Ftmp,db.example/db?sslmode=require")
        else {
            panic!("expected a TLS error");
        };
        assert_eq!(
            problem,
            TlsProblem::UnixSocketWithTls {
                mode: SslMode::Require
            }
        );
    }

    #[test]
    fn disable_and_signature_only_modes_need_no_file() {
        assert!(
            PgTarget::new("postgres://h/db?sslmode=disable")
                .unwrap()
                .tls
                .is_none()
        );
        for m in ["prefer", "require"] {
            let t = PgTarget::new(&format!("postgres://h/db?sslmode={m}")).unwrap();
            assert!(t.tls.is_some(), "{m}");
        }
    }

    proptest::proptest! {
        /// Any text: an answer, never a panic.
        #[test]
        fn any_url_is_split_or_refused(url in ".{0,200}") {
            let _ = split_ssl_params(&url);
        }

        /// The TLS parameters are taken out, everything else is kept in
        /// order, and the last `sslmode` wins.
        #[test]
        fn tls_parameters_are_taken_out_and_the_rest_kept(
            pairs in proptest::collection::vec(
                (proptest::sample::select(vec!["sslmode", "sslrootcert", "options", "application_name", "user"]),
                 proptest::sample::select(vec!["disable", "prefer", "require", "verify-ca", "verify-full", "%2Fca.pem", "x"])),
                0..8,
            )
        ) {
            let query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            let url = format!("postgres://u:p@h:5432/db?{query}");
            let last_mode = pairs.iter().rev().find(|(k, _)| *k == "sslmode").map(|(_, v)| *v);
            match split_ssl_params(&url) {
                Ok(p) => {
                    let kept = pairs
                        .iter()
                        .filter(|(k, _)| *k != "sslmode" && *k != "sslrootcert")
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>();
                    let want = if kept.is_empty() {
                        "postgres://u:p@h:5432/db".to_owned()
                    } else {
                        format!("postgres://u:p@h:5432/db?{}", kept.join("&"))
                    };
                    proptest::prop_assert_eq!(p.rest, want);
                    proptest::prop_assert_eq!(
                        p.mode,
                        last_mode.map_or(SslMode::DEFAULT, |m| SslMode::parse(m).unwrap())
                    );
                }
                // Only an sslmode that is not a mode is refused.
                Err(e) => proptest::prop_assert!(
                    matches!(e, TlsProblem::UnknownSslMode { .. }),
                    "{e:?}"
                ),
            }
        }
    }

    #[test]
    fn errors_never_show_the_password() {
        for url in [
            "postgres://u:hunter2@h/db?sslmode=bogus",
            "postgres://u:hunter2@h/db?sslmode=verify-full",
            "postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ] {
            let shown = PgTarget::new(url).err().unwrap().to_string();
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
