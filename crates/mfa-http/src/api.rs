//! The handlers: HTTP in, [`Store::authenticate`] and back.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mfa_notify::{Notifier, SmsCode, Withdrawal};
use mfa_oath::UnixTime;
use mfa_record::{DenialKind, DenialReason};
use mfa_store::{
    ApprovedBy, AuthOutcome, AuthRequest, Channel, Method, Presented, Store, VerifyContext,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::metrics::{Endpoint, Metrics, Outcome};
use crate::params::{ParamError, Params};
use crate::rate::RateLimiter;
use crate::txn::{Expect, Transactions, TxnError};
use crate::{Error, HttpConfig};

/// The `version` field of every answer.
pub const VERSION: &str = concat!("mfa-kit ", env!("CARGO_PKG_VERSION"));

/// Where the router reads the time (the system clock by default; tests
/// move it).
pub type Clock = Arc<dyn Fn() -> UnixTime + Send + Sync>;

fn system_clock() -> UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UnixTime::from_secs(secs)
}

/// The validate API over one store: build it, then take its
/// [`Validate::router`] and mount it where you like.
///
/// ```
/// use std::sync::Arc;
/// use mfa_store::{MasterKey, Store};
/// let dir = tempfile::tempdir()?;
/// let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
/// let store = Arc::new(Store::open(&url, &MasterKey::new(1, [7; 32]))?);
/// let validate = mfa_http::Validate::new(store, mfa_http::HttpConfig::default())?;
/// let app: axum::Router = axum::Router::new().nest("/mfa", validate.router());
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Validate {
    store: Arc<Store>,
    config: HttpConfig,
    ctx: VerifyContext,
    notifier: Option<Arc<Notifier>>,
    clock: Clock,
}

impl Validate {
    /// The API over `store` with `config`.
    ///
    /// # Errors
    /// [`Error::ServerName`] when `config.server_name` is not a server
    /// name the authentication log accepts.
    pub fn new(store: Arc<Store>, config: HttpConfig) -> Result<Validate, Error> {
        let ctx = VerifyContext::new(&config.server_name, config.server_ip)
            .map_err(|_| Error::ServerName)?;
        Ok(Validate {
            store,
            config,
            ctx,
            notifier: None,
            clock: Arc::new(system_clock),
        })
    }

    /// Sends SMS codes to users who have a phone and no active token
    /// through `notifier` (without one, that method is not offered).
    pub fn with_notifier(mut self, notifier: Arc<Notifier>) -> Validate {
        self.notifier = Some(notifier);
        self
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Clock) -> Validate {
        self.clock = clock;
        self
    }

    /// The router: `/validate/check`, `/validate/radiuscheck`,
    /// `/validate/triggerchallenge`, `/validate/polltransaction`,
    /// `/healthz` and `/metrics`. Challenge transactions live in this
    /// router's memory.
    ///
    /// The client address (for the rate limit and the log) is taken from
    /// axum's [`ConnectInfo<SocketAddr>`]; serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()` (or
    /// [`crate::serve`]), else every request counts as one client.
    pub fn router(self) -> Router {
        let rate = self.config.rate_limit.map(RateLimiter::new);
        let shared = Arc::new(Shared {
            permits: Arc::new(Semaphore::new(self.config.store_concurrency.max(1))),
            txns: Transactions::new(self.config.max_transactions, self.config.transaction_ttl),
            rate,
            metrics: Metrics::default(),
            store: self.store,
            config: self.config,
            ctx: self.ctx,
            notifier: self.notifier,
            clock: self.clock,
        });
        Router::new()
            .route("/validate/check", get(check).post(check))
            .route("/validate/radiuscheck", get(radiuscheck).post(radiuscheck))
            .route(
                "/validate/triggerchallenge",
                get(triggerchallenge).post(triggerchallenge),
            )
            .route(
                "/validate/polltransaction",
                get(polltransaction).post(polltransaction),
            )
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics))
            .with_state(shared)
    }
}

struct Shared {
    store: Arc<Store>,
    config: HttpConfig,
    ctx: VerifyContext,
    notifier: Option<Arc<Notifier>>,
    clock: Clock,
    permits: Arc<Semaphore>,
    txns: Transactions,
    rate: Option<RateLimiter>,
    metrics: Metrics,
}

/// A request that ends in an error object (`result.status` false).
#[derive(Debug, Clone)]
enum Fail {
    /// privacyIDEA's ParameterError (905), 400.
    Param(String),
    /// privacyIDEA's UserError (904), 400.
    User(String),
    /// The token named by `serial` does not exist (601), 404.
    NoToken,
    /// Missing (4033) or wrong (4031) API token, 401.
    Auth(u32, &'static str),
    BodyTooLarge,
    HeadersTooLarge,
    BodyTimeout,
    RateLimited,
    /// The store was busy past the time limit, or the transaction table
    /// is full: 503.
    Busy,
    /// The store failed: 500.
    Internal,
}

impl Fail {
    fn status(&self) -> StatusCode {
        match self {
            Fail::Param(_) | Fail::User(_) => StatusCode::BAD_REQUEST,
            Fail::NoToken => StatusCode::NOT_FOUND,
            Fail::Auth(..) => StatusCode::UNAUTHORIZED,
            Fail::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Fail::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Fail::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Fail::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Fail::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Fail::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code_message(&self) -> (u32, String) {
        match self {
            Fail::Param(m) => (905, m.clone()),
            Fail::User(m) => (904, m.clone()),
            Fail::NoToken => (601, "The requested token could not be found.".to_owned()),
            Fail::Auth(c, m) => (*c, format!("Authentication failure. {m}")),
            Fail::BodyTooLarge => (413, "The request body is too large.".to_owned()),
            Fail::HeadersTooLarge => (431, "The request headers are too large.".to_owned()),
            Fail::BodyTimeout => (408, "The request body did not arrive in time.".to_owned()),
            Fail::RateLimited => (429, "Too many requests from this address.".to_owned()),
            Fail::Busy => (503, "The server is busy, try again.".to_owned()),
            Fail::Internal => (500, "Internal server error.".to_owned()),
        }
    }

    fn outcome(&self) -> Outcome {
        match self {
            Fail::RateLimited => Outcome::RateLimited,
            Fail::Busy | Fail::Internal => Outcome::Unavailable,
            _ => Outcome::BadRequest,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Fail::Param(_) => "parameter",
            Fail::User(_) => "unknown_user",
            Fail::NoToken => "unknown_token",
            Fail::Auth(..) => "unauthorized",
            Fail::BodyTooLarge => "body_too_large",
            Fail::HeadersTooLarge => "headers_too_large",
            Fail::BodyTimeout => "body_timeout",
            Fail::RateLimited => "rate_limited",
            Fail::Busy => "busy",
            Fail::Internal => "store_error",
        }
    }
}

/// One multi_challenge entry.
#[derive(Debug, Clone)]
struct Offer {
    serial: Option<String>,
    kind: &'static str,
    message: &'static str,
}

/// What a validate request decided.
#[derive(Debug)]
enum Answer {
    Accept {
        message: &'static str,
        serial: Option<String>,
        kind: Option<&'static str>,
    },
    Reject {
        message: &'static str,
        reason: &'static str,
        serial: Option<String>,
    },
    Challenge {
        transaction_id: String,
        offers: Vec<Offer>,
    },
    /// polltransaction's answer.
    Poll {
        status: &'static str,
    },
    Fail(Fail),
}

impl From<Fail> for Answer {
    fn from(f: Fail) -> Answer {
        Answer::Fail(f)
    }
}

impl Answer {
    fn outcome(&self) -> Outcome {
        match self {
            Answer::Accept { .. } => Outcome::Accept,
            Answer::Reject { .. } => Outcome::Reject,
            Answer::Challenge { .. } => Outcome::Challenge,
            Answer::Poll { .. } => Outcome::Answered,
            Answer::Fail(f) => f.outcome(),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Answer::Accept { .. } | Answer::Challenge { .. } | Answer::Poll { .. } => "",
            Answer::Reject { reason, .. } => reason,
            Answer::Fail(f) => f.reason(),
        }
    }
}

/// A presented factor that owns its (wiped) value, to move to the
/// blocking pool.
enum Owned {
    Nothing,
    Oath(Zeroizing<String>),
    Code(Channel, Zeroizing<String>),
}

const OTP_PROMPT: &str = "please enter otp: ";
const SMS_PROMPT: &str = "Enter the OTP from the SMS:";
const NO_MATCH: &str = "Response did not match the challenge.";

fn reject(message: &'static str, reason: &'static str) -> Answer {
    Answer::Reject {
        message,
        reason,
        serial: None,
    }
}

fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

impl Shared {
    fn now(&self) -> UnixTime {
        (self.clock)()
    }

    /// Runs `f` on the blocking pool, behind the semaphore, within the
    /// time limit (waiting for a slot included). Past the limit the answer
    /// is 503; the call itself is one store transaction, so it either
    /// commits whole or not at all, and it keeps its slot until it ends.
    async fn blocking<T, F>(&self, f: F) -> Result<T, Fail>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, mfa_store::Error> + Send + 'static,
    {
        let deadline = tokio::time::Instant::now() + self.config.store_timeout;
        let permit =
            match tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) | Err(_) => {
                    self.metrics.store_timeouts.fetch_add(1, Ordering::Relaxed);
                    return Err(Fail::Busy);
                }
            };
        let store = Arc::clone(&self.store);
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&store)
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Ok(v))) => Ok(v),
            // Input the store refuses is the client's mistake, not a failure.
            Ok(Ok(Err(mfa_store::Error::Record(_)))) => {
                Err(Fail::User("ERR904: The user name is not valid.".to_owned()))
            }
            Ok(Ok(Err(mfa_store::Error::FieldLength { field, .. }))) => Err(Fail::Param(format!(
                "ERR905: The parameter is too long: {field}"
            ))),
            Ok(Ok(Err(e))) => {
                self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "mfa_http", error = %e, "store call failed");
                Err(if is_busy(&e) {
                    Fail::Busy
                } else {
                    Fail::Internal
                })
            }
            Ok(Err(_join)) => {
                self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                Err(Fail::Internal)
            }
            Err(_) => {
                self.metrics.store_timeouts.fetch_add(1, Ordering::Relaxed);
                Err(Fail::Busy)
            }
        }
    }

    /// Header size, rate limit and API token checks, then the body.
    async fn prepare(
        &self,
        req: Request,
        client: Option<IpAddr>,
        needs_token: bool,
    ) -> Result<Params, Fail> {
        let header_bytes: usize = req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        if header_bytes > self.config.max_header_bytes {
            return Err(Fail::HeadersTooLarge);
        }
        if let Some(rate) = &self.rate
            && !rate.allow(
                client.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                Instant::now(),
            )
        {
            return Err(Fail::RateLimited);
        }
        if needs_token {
            self.check_token(req.headers())?;
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let query = req.uri().query().map(str::to_owned);
        if req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > self.config.max_body as u64)
        {
            return Err(Fail::BodyTooLarge);
        }
        let body = req.into_body();
        let bytes = match tokio::time::timeout(
            self.config.body_timeout,
            axum::body::to_bytes(body, self.config.max_body),
        )
        .await
        {
            Ok(Ok(b)) => Zeroizing::new(b.to_vec()),
            Ok(Err(_)) => return Err(Fail::BodyTooLarge),
            Err(_) => return Err(Fail::BodyTimeout),
        };
        Params::parse(
            query.as_deref(),
            content_type.as_deref(),
            &bytes,
            self.config.max_params,
            self.config.max_param_len,
        )
        .map_err(|e| {
            Fail::Param(
                match e {
                    ParamError::MalformedJson => "ERR905: The request body is not a JSON object.",
                    ParamError::TooMany => "ERR905: Too many parameters.",
                    ParamError::TooLong => "ERR905: A parameter is too long.",
                }
                .to_owned(),
            )
        })
    }

    /// The bearer API token (`Authorization: Bearer <token>`, or the
    /// token alone as privacyIDEA's JWT header is sent).
    fn check_token(&self, headers: &HeaderMap) -> Result<(), Fail> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(Fail::Auth(4033, "Missing Authorization header."));
        };
        let value = value.to_str().unwrap_or_default().trim();
        let token = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => value,
        };
        // Every configured hash is compared, so the time does not tell
        // which one matched.
        let ok = self
            .config
            .api_tokens
            .iter()
            .fold(false, |ok, h| h.matches(token) | ok);
        if ok {
            Ok(())
        } else {
            Err(Fail::Auth(4031, "Wrong credentials."))
        }
    }

    async fn authenticate(
        &self,
        user: String,
        presented: Owned,
        client: Option<IpAddr>,
    ) -> Result<AuthOutcome, Fail> {
        let now = self.now();
        let mut ctx = self.ctx.clone();
        if let Some(ip) = client {
            ctx = ctx.with_client(ip);
        }
        self.blocking(move |store| {
            let p = match &presented {
                Owned::Nothing => Presented::Nothing,
                Owned::Oath(c) => Presented::OathCode(c),
                Owned::Code(channel, c) => Presented::OneTimeCode {
                    channel: *channel,
                    code: c,
                },
            };
            store.authenticate(&AuthRequest::new(&user, p), now, &ctx)
        })
        .await
    }

    /// `user`, or the owner of `serial` (which must then be `user`'s if
    /// both are given). `Err` is the answer.
    async fn resolve_user(&self, p: &Params) -> Result<(String, Option<String>), Answer> {
        let user = p.non_empty("user");
        let Some(serial) = p.non_empty("serial") else {
            return match user {
                Some(u) => Ok((u.to_owned(), None)),
                None => Err(Fail::Param(
                    "ERR905: You need to specify a serial, user or credential_id.".to_owned(),
                )
                .into()),
            };
        };
        let s = serial.to_owned();
        let token = self.blocking(move |store| store.token(&s)).await?;
        let Some(token) = token else {
            return Err(Fail::NoToken.into());
        };
        match (token.user, user) {
            (None, _) => Err(reject(
                "The token is not assigned to a user",
                "not_assigned",
            )),
            (Some(owner), Some(u)) if owner != u => Err(reject(
                "The token does not belong to the user",
                "not_users_token",
            )),
            (Some(owner), _) => Ok((owner, Some(serial.to_owned()))),
        }
    }

    /// `/validate/check` and `/validate/radiuscheck`.
    async fn check(&self, p: &Params, client: Option<IpAddr>) -> Answer {
        let Some(pass) = p.get("pass") else {
            return Fail::Param("ERR905: Missing parameter: 'pass'".to_owned()).into();
        };
        let pass = Zeroizing::new(pass.to_owned());
        if let Some(id) = p
            .non_empty("transaction_id")
            .or_else(|| p.non_empty("state"))
        {
            return self.answer(id, p.non_empty("user"), pass, client).await;
        }
        let (user, serial) = match self.resolve_user(p).await {
            Ok(u) => u,
            Err(a) => return a,
        };
        if pass.is_empty() {
            return self.challenge(user, client).await;
        }
        // privacyIDEA names the user as user@realm.
        let who = match p.non_empty("realm") {
            Some(realm) => format!("{user}@{realm}"),
            None => user.clone(),
        };
        match self.authenticate(user, Owned::Oath(pass), client).await {
            Ok(out) => decided(out, serial.as_deref(), &who),
            Err(f) => f.into(),
        }
    }

    /// The second step: the answer to transaction `id`.
    async fn answer(
        &self,
        id: &str,
        user: Option<&str>,
        pass: Zeroizing<String>,
        client: Option<IpAddr>,
    ) -> Answer {
        let now = self.now();
        if pass.is_empty() {
            // An empty answer (a client polling) never approves and does
            // not end the transaction.
            return reject(NO_MATCH, "no_answer");
        }
        let Some(txn) = self.txns.take(id, now) else {
            return reject(NO_MATCH, "unknown_transaction");
        };
        if user.is_some_and(|u| u != txn.user) {
            return reject(NO_MATCH, "unknown_transaction");
        }
        let presented = match txn.expect {
            Expect::Oath => Owned::Oath(pass),
            Expect::Code(channel) => Owned::Code(channel, pass),
        };
        let who = txn.user.clone();
        match self.authenticate(txn.user, presented, client).await {
            Ok(out) => match decided(out, None, &who) {
                // privacyIDEA's wording for an answered challenge.
                Answer::Accept { serial, kind, .. } => Answer::Accept {
                    message: "Found matching challenge",
                    serial,
                    kind,
                },
                other => other,
            },
            Err(f) => f.into(),
        }
    }

    /// The first step: what `user` can enter, as a new transaction.
    async fn challenge(&self, user: String, client: Option<IpAddr>) -> Answer {
        let methods = match self
            .authenticate(user.clone(), Owned::Nothing, client)
            .await
        {
            Ok(AuthOutcome::SecondFactorNeeded(m)) => m,
            Ok(out) => return decided(out, None, &user),
            Err(f) => return f.into(),
        };
        let mut offers = Vec::new();
        let mut expect = Expect::Oath;
        let mut phone = false;
        for m in &methods {
            match m {
                Method::Oath { serial, totp } => offers.push(Offer {
                    serial: Some(serial.clone()),
                    kind: if *totp { "totp" } else { "hotp" },
                    message: OTP_PROMPT,
                }),
                Method::Phone { .. } => phone = true,
                _ => {}
            }
        }
        if offers.is_empty() && phone {
            match self.send_sms(&user).await {
                Ok(true) => {
                    expect = Expect::Code(Channel::Sms);
                    offers.push(Offer {
                        serial: None,
                        kind: "sms",
                        message: SMS_PROMPT,
                    });
                }
                Ok(false) => {}
                Err(f) => return f.into(),
            }
        }
        if offers.is_empty() {
            return reject("No usable second factor", "no_usable_method");
        }
        match self.txns.open(&user, expect, self.now()) {
            Ok(transaction_id) => Answer::Challenge {
                transaction_id,
                offers,
            },
            Err(TxnError::Full) => Fail::Busy.into(),
            Err(TxnError::Rng) => Fail::Internal.into(),
        }
    }

    /// Issues an SMS code for `user` and sends it (mfa-notify's one flow,
    /// shared with `mfa radius serve`: a code that could not be sent is
    /// withdrawn); `Ok(false)` when no sender is configured or sending
    /// failed (the method is then not offered). A code still pending was
    /// sent before: nothing is sent.
    async fn send_sms(&self, user: &str) -> Result<bool, Fail> {
        // Without a sender no store call is needed (nor a slot for one).
        let Some(notifier) = self.notifier.clone().filter(|n| n.config().has_phone()) else {
            return Ok(false);
        };
        let now = self.now();
        let digits = self.config.code_digits;
        let user = user.to_owned();
        let outcome = self
            .blocking(
                move |store| match notifier.send_sms_code(store, &user, digits, now)? {
                    // The code may still be pending: a store failure, as before.
                    SmsCode::Undelivered {
                        withdrawal: Withdrawal::Failed(e),
                        ..
                    } => Err(e),
                    other => Ok(other),
                },
            )
            .await?;
        match outcome {
            SmsCode::Sent { .. } | SmsCode::AlreadySent { .. } => Ok(true),
            SmsCode::NoSender => Ok(false),
            other => {
                self.metrics.notify_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "mfa_http", why = %other, "SMS method not offered");
                Ok(false)
            }
        }
    }

    /// `/validate/triggerchallenge`.
    async fn trigger(&self, p: &Params, client: Option<IpAddr>) -> Answer {
        match self.resolve_user(p).await {
            Ok((user, _)) => self.challenge(user, client).await,
            Err(a) => a,
        }
    }

    /// `/validate/polltransaction`.
    fn poll(&self, p: &Params) -> Answer {
        let Some(id) = p.non_empty("transaction_id") else {
            return Fail::Param("ERR905: Missing parameter: 'transaction_id'".to_owned()).into();
        };
        Answer::Poll {
            status: if self.txns.is_open(id, self.now()) {
                "pending"
            } else {
                "none"
            },
        }
    }

    /// privacyIDEA's envelope: `id` 2 for a result and 1 for an error
    /// (as its `send_result(rid=2)` / `send_error`), `versionnumber` on
    /// results only, `time` as a float.
    fn envelope(&self, result: Value, detail: Value) -> Value {
        let error = result.get("error").is_some();
        #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64 exactly
        let time = self.now().secs() as f64;
        let mut v = json!({
            "jsonrpc": "2.0",
            "result": result,
            "detail": detail,
            "id": if error { 1 } else { 2 },
            "time": time,
            "version": VERSION,
        });
        if !error && let Some(o) = v.as_object_mut() {
            o.insert("versionnumber".into(), json!(env!("CARGO_PKG_VERSION")));
        }
        v
    }

    fn render(&self, answer: &Answer, endpoint: Endpoint) -> (StatusCode, Value) {
        match answer {
            Answer::Accept {
                message,
                serial,
                kind,
            } => {
                let mut detail = serde_json::Map::new();
                detail.insert("message".into(), json!(message));
                if let Some(s) = serial {
                    detail.insert("serial".into(), json!(s));
                }
                if let Some(k) = kind {
                    detail.insert("type".into(), json!(k));
                }
                let detail = Value::Object(detail);
                let result = json!({"status": true, "value": true, "authentication": "ACCEPT"});
                let result = if endpoint == Endpoint::TriggerChallenge {
                    json!({"status": true, "value": 0, "authentication": "ACCEPT"})
                } else {
                    result
                };
                (StatusCode::OK, self.envelope(result, detail))
            }
            Answer::Reject {
                message,
                reason,
                serial,
            } => {
                let mut detail = serde_json::Map::new();
                detail.insert("message".into(), json!(message));
                detail.insert("reason".into(), json!(reason));
                if let Some(s) = serial {
                    detail.insert("serial".into(), json!(s));
                }
                let detail = Value::Object(detail);
                let value = if endpoint == Endpoint::TriggerChallenge {
                    json!(0)
                } else {
                    json!(false)
                };
                let result = json!({"status": true, "value": value, "authentication": "REJECT"});
                (StatusCode::OK, self.envelope(result, detail))
            }
            Answer::Challenge {
                transaction_id,
                offers,
            } => {
                let multi: Vec<Value> = offers
                    .iter()
                    .map(|o| {
                        json!({
                            "transaction_id": transaction_id,
                            "serial": o.serial,
                            "type": o.kind,
                            "message": o.message,
                            "client_mode": "interactive",
                        })
                    })
                    .collect();
                let messages: Vec<&str> = offers.iter().map(|o| o.message).collect();
                let first = offers.first();
                let detail = json!({
                    "message": messages.join(", "),
                    "messages": messages,
                    "multi_challenge": multi,
                    "transaction_id": transaction_id,
                    "transaction_ids": [transaction_id],
                    "serial": first.and_then(|o| o.serial.clone()),
                    "type": first.map(|o| o.kind),
                    "client_mode": "interactive",
                    "preferred_client_mode": "interactive",
                });
                let value = if endpoint == Endpoint::TriggerChallenge {
                    json!(offers.len())
                } else {
                    json!(false)
                };
                let result = json!({"status": true, "value": value, "authentication": "CHALLENGE"});
                (StatusCode::OK, self.envelope(result, detail))
            }
            Answer::Poll { status } => (
                StatusCode::OK,
                self.envelope(
                    json!({"status": true, "value": false}),
                    json!({ "challenge_status": status }),
                ),
            ),
            Answer::Fail(f) => {
                let (code, message) = f.code_message();
                let message = if message.starts_with("ERR") {
                    message
                } else {
                    format!("ERR{code}: {message}")
                };
                (
                    f.status(),
                    self.envelope(
                        json!({"status": false, "error": {"code": code, "message": message}}),
                        Value::Null,
                    ),
                )
            }
        }
    }

    /// Every validate endpoint: prepare, decide, answer, count, log.
    async fn run(self: Arc<Self>, req: Request, endpoint: Endpoint) -> Response {
        let start = Instant::now();
        let client = client_ip(&req);
        let needs_token = matches!(
            endpoint,
            Endpoint::TriggerChallenge | Endpoint::PollTransaction
        );
        let mut user = None;
        let mut realm = None;
        let answer = match self.prepare(req, client, needs_token).await {
            Err(f) => Answer::Fail(f),
            Ok(p) => {
                user = p.non_empty("user").map(str::to_owned);
                realm = p.non_empty("realm").map(str::to_owned);
                match endpoint {
                    Endpoint::Check | Endpoint::RadiusCheck => self.check(&p, client).await,
                    Endpoint::TriggerChallenge => self.trigger(&p, client).await,
                    Endpoint::PollTransaction => self.poll(&p),
                }
            }
        };
        let response = if endpoint == Endpoint::RadiusCheck {
            let status = match &answer {
                Answer::Accept { .. } => StatusCode::NO_CONTENT,
                Answer::Fail(f @ (Fail::RateLimited | Fail::Busy)) => f.status(),
                _ => StatusCode::BAD_REQUEST,
            };
            status.into_response()
        } else {
            let (status, body) = self.render(&answer, endpoint);
            (status, axum::Json(body)).into_response()
        };
        let took = start.elapsed();
        let outcome = answer.outcome();
        self.metrics.record(endpoint, outcome, took);
        tracing::info!(
            target: "mfa_http",
            endpoint = endpoint.path(),
            status = response.status().as_u16(),
            outcome = outcome.as_str(),
            reason = answer.reason(),
            user = user.as_deref().unwrap_or(""),
            realm = realm.as_deref().unwrap_or(""),
            client = %client.map(|c| c.to_string()).unwrap_or_default(),
            micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
        response
    }
}

/// A database that is busy (lock held past its timeout, serialization
/// failures past the retries), unreachable, or whose group commit failed
/// (nothing written) is a 503 (try again); any other store error a 500.
fn is_busy(e: &mfa_store::Error) -> bool {
    matches!(
        e,
        mfa_store::Error::Busy
            | mfa_store::Error::CommitFailed
            | mfa_store::Error::Io(_)
            | mfa_store::Error::Tls { .. }
    )
}

/// The answer for a store decision. `serial`: the token the request
/// named, which must be the one that approved.
fn decided(out: AuthOutcome, serial: Option<&str>, who: &str) -> Answer {
    match out {
        AuthOutcome::Approved { by, .. } => match by {
            ApprovedBy::OathCode { serial: s, .. } => {
                if serial.is_some_and(|want| want != s) {
                    return reject("wrong otp value", "not_the_given_serial");
                }
                Answer::Accept {
                    message: "matching 1 tokens",
                    serial: Some(s),
                    kind: None,
                }
            }
            ApprovedBy::OneTimeCode { .. } => Answer::Accept {
                message: "matching 1 tokens",
                serial: None,
                kind: Some("sms"),
            },
            ApprovedBy::AppPassword { .. } => Answer::Accept {
                message: "matching app password",
                serial: None,
                kind: None,
            },
            ApprovedBy::TrustedIp { .. } => Answer::Accept {
                message: "trusted client address",
                serial: None,
                kind: None,
            },
            ApprovedBy::RememberedDevice => Answer::Accept {
                message: "remembered device",
                serial: None,
                kind: None,
            },
            _ => Answer::Accept {
                message: "approved",
                serial: None,
                kind: None,
            },
        },
        AuthOutcome::Denied { reason, serial, .. } => {
            if reason == DenialReason::UnknownUser {
                return Fail::User(format!("ERR904: User <{who}> does not exist.")).into();
            }
            Answer::Reject {
                message: denial_message(reason),
                reason: reason.kind().as_str(),
                serial,
            }
        }
        AuthOutcome::SecondFactorNeeded(_) => reject("wrong otp value", "second_factor_needed"),
        _ => reject("wrong otp value", "unknown"),
    }
}

/// privacyIDEA's wording where it has one.
fn denial_message(reason: DenialReason) -> &'static str {
    match reason.kind() {
        DenialKind::CodeWrong
        | DenialKind::CodeMalformed
        | DenialKind::WrongPin
        | DenialKind::TimeBeforeT0 => "wrong otp value",
        DenialKind::CodeReplayed => "wrong otp value. previous otp used again",
        DenialKind::NotActivated | DenialKind::RegistrationRequired => {
            "The user has no tokens assigned"
        }
        DenialKind::Locked | DenialKind::LockedUntilAdmin | DenialKind::FailureCapReached => {
            "Failcounter exceeded"
        }
        k => k.description(),
    }
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Check => "/validate/check",
            Endpoint::RadiusCheck => "/validate/radiuscheck",
            Endpoint::TriggerChallenge => "/validate/triggerchallenge",
            Endpoint::PollTransaction => "/validate/polltransaction",
        }
    }
}

async fn check(State(s): State<Arc<Shared>>, req: Request) -> Response {
    s.run(req, Endpoint::Check).await
}

async fn radiuscheck(State(s): State<Arc<Shared>>, req: Request) -> Response {
    s.run(req, Endpoint::RadiusCheck).await
}

async fn triggerchallenge(State(s): State<Arc<Shared>>, req: Request) -> Response {
    s.run(req, Endpoint::TriggerChallenge).await
}

async fn polltransaction(State(s): State<Arc<Shared>>, req: Request) -> Response {
    s.run(req, Endpoint::PollTransaction).await
}

async fn healthz(State(s): State<Arc<Shared>>) -> Response {
    match s.blocking(|store| store.schema_version()).await {
        Ok(_) => (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let mut r = Response::new(Body::from(s.metrics.render(s.txns.len())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}
