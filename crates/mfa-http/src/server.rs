//! A small HTTP/1.1 server for the router, plain or over TLS (rustls),
//! with a bound on connections, hyper's header limits and a graceful
//! shutdown. A service that has its own server mounts the router instead.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::Error;

/// How [`serve`] runs.
///
/// ```
/// let options = mfa_http::ServeOptions::default();
/// assert!(options.tls.is_none());
/// assert_eq!(options.max_connections, 4096);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// TLS (`None`: plain HTTP).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The most connections served at once; more wait in the listen
    /// queue.
    pub max_connections: usize,
    /// The time a client has for its TLS handshake and its request
    /// headers.
    pub header_read_timeout: Duration,
    /// hyper's read buffer, which bounds the request head (at least 8192).
    pub max_head_bytes: usize,
    /// The most request headers.
    pub max_headers: usize,
    /// The time connections get to finish after shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            tls: None,
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// connections finish (up to [`ServeOptions::shutdown_grace`]). Each
/// request carries [`ConnectInfo<SocketAddr>`] of its peer.
///
/// ```no_run
/// # async fn f(app: axum::Router) -> Result<(), mfa_http::Error> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// mfa_http::serve(listener, app, mfa_http::ServeOptions::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// # Errors
/// None in practice: a failed accept is logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let tls = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_head_bytes.max(8192))
        .max_headers(options.max_headers);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(target: "mfa_http", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(req.map(Body::new))
        });
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_limit = options.header_read_timeout;
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(handshake_limit, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!(target: "mfa_http", "connections still open after the shutdown grace period");
        }
    }
    Ok(())
}
