//! `mfa serve --config FILE`: the validate API (mfa-http) over HTTP or
//! HTTPS, until SIGTERM or Ctrl-C.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mfa_http::{ApiTokenHash, HttpConfig, RateLimit, ServeOptions, Validate};
use mfa_store::Store;
use serde::Deserialize;

use crate::Failure;

/// Arguments of `mfa serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The server's TOML configuration (see docs/http.md).
    #[arg(long)]
    config: PathBuf,
}

/// The TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeConfig {
    /// `address:port` to listen on.
    listen: SocketAddr,
    /// The store URL (`sqlite:…` or `postgres://…`).
    db: String,
    /// The master key file.
    key_file: PathBuf,
    /// Plain HTTP on an address other than loopback (default: refused).
    #[serde(default)]
    allow_plain_http: bool,
    /// The server name in the authentication log.
    server_name: Option<String>,
    /// SHA-256 hashes (hex) of the API tokens of triggerchallenge and
    /// polltransaction.
    #[serde(default)]
    api_token_sha256: Vec<String>,
    store_concurrency: Option<usize>,
    store_timeout_ms: Option<u64>,
    transaction_ttl: Option<u64>,
    max_connections: Option<usize>,
    rate_limit: Option<RateLimitConfig>,
    tls: Option<TlsConfig>,
    /// mfa-notify settings (`"notify.sms.command" = "…"`) for SMS codes.
    #[serde(default)]
    notify: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitConfig {
    #[serde(default = "yes")]
    enabled: bool,
    per_second: Option<u32>,
    burst: Option<u32>,
    max_clients: Option<usize>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsConfig {
    /// PEM certificate chain.
    cert: PathBuf,
    /// PEM private key.
    key: PathBuf,
}

fn fail(path: &Path, what: impl std::fmt::Display) -> Failure {
    Failure::input(format!("{}: {what}", path.display()))
}

fn read_config(path: &Path) -> Result<ServeConfig, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| fail(path, e))?;
    let config: ServeConfig = toml::from_str(&text).map_err(|e| fail(path, e.message()))?;
    if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.allow_plain_http {
        return Err(fail(
            path,
            format!(
                "plain HTTP on {} is refused: add a [tls] table, listen on loopback, or set allow_plain_http = true",
                config.listen
            ),
        ));
    }
    Ok(config)
}

fn tls_config(tls: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, Failure> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| fail(&tls.cert, e))?;
    if certs.is_empty() {
        return Err(fail(&tls.cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| fail(&tls.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| fail(&tls.cert, e))?;
    Ok(Arc::new(config))
}

fn http_config(c: &ServeConfig, path: &Path) -> Result<HttpConfig, Failure> {
    let mut h = HttpConfig::default();
    if let Some(name) = &c.server_name {
        h.server_name.clone_from(name);
    }
    h.server_ip = c.listen.ip();
    if let Some(n) = c.store_concurrency {
        h.store_concurrency = n;
    }
    if let Some(ms) = c.store_timeout_ms {
        h.store_timeout = Duration::from_millis(ms);
    }
    if let Some(t) = c.transaction_ttl {
        h.transaction_ttl = t;
    }
    h.rate_limit = match &c.rate_limit {
        None => Some(RateLimit::default()),
        Some(r) if !r.enabled => None,
        Some(r) => {
            let d = RateLimit::default();
            Some(RateLimit {
                per_second: r.per_second.unwrap_or(d.per_second),
                burst: r.burst.unwrap_or(d.burst),
                max_clients: r.max_clients.unwrap_or(d.max_clients),
            })
        }
    };
    h.api_tokens = c
        .api_token_sha256
        .iter()
        .map(|hex| ApiTokenHash::from_hex(hex).map_err(|e| fail(path, e)))
        .collect::<Result<_, _>>()?;
    Ok(h)
}

/// Runs the server until SIGTERM or Ctrl-C.
pub(crate) fn run(args: ServeArgs) -> Result<(), Failure> {
    let path = args.config.as_path();
    let config = read_config(path)?;
    let http = http_config(&config, path)?;
    let tls = config.tls.as_ref().map(tls_config).transpose()?;
    let key = crate::ctx::read_key_file(&config.key_file)?;
    let store = Store::open(&config.db, &key).map_err(|e| Failure::store(&config.db, e))?;
    let mut validate = Validate::new(Arc::new(store), http).map_err(|e| fail(path, e))?;
    if !config.notify.is_empty() {
        let notify = mfa_notify::NotifyConfig::from_settings(
            config.notify.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .map_err(|e| fail(path, e))?;
        let notifier = mfa_notify::Notifier::new(notify).map_err(|e| fail(path, e))?;
        validate = validate.with_notifier(Arc::new(notifier));
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::input(format!("cannot start the runtime: {e}")))?;
    let mut options = ServeOptions::default();
    options.tls = tls;
    if let Some(n) = config.max_connections {
        options.max_connections = n;
    }
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| Failure::input(format!("cannot listen on {}: {e}", config.listen)))?;
        let local = listener
            .local_addr()
            .map_err(|e| Failure::input(e.to_string()))?;
        tracing::info!(target: "mfa_http", address = %local, scheme, "listening");
        mfa_http::serve(listener, validate.router(), options, shutdown_signal())
            .await
            .map_err(|e| Failure::input(e.to_string()))?;
        tracing::info!(target: "mfa_http", "stopped");
        Ok(())
    })
}

/// SIGTERM (service managers) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
