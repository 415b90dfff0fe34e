//! The server side as a pure state machine: a datagram in, an [`Event`] out;
//! a [`Decision`] in, the reply's bytes out.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use mfa_oath::UnixTime;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use crate::cache::{CacheKey, Lookup, ReplyCache};
use crate::crypto::MessageAuthenticator;
use crate::packet::{Attribute, Code, Limits, MAX_ATTRIBUTE_VALUE_LEN, Packet, attr};
use crate::session::{Session, Sessions, StateError};
use crate::{Error, SharedSecret};

/// The longest Reply-Message text this crate sends, in octets; a longer one
/// is cut at a character boundary. It goes out as several Reply-Message
/// attributes of at most 253 octets (RFC 2865 §5.18).
pub const MAX_REPLY_MESSAGE_LEN: usize = 1500;

/// How a client's users sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `otp`: the User-Password is the one-time code.
    Otp,
    /// `password-otp`: the User-Password is the password followed by the
    /// code; [`split_trailing_code`] separates them.
    PasswordOtp,
    /// `challenge`: the first Access-Request carries the password; the
    /// answer is an Access-Challenge with a State; the second Access-Request
    /// carries the code and that State.
    Challenge,
}

impl Mode {
    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Otp => "otp",
            Mode::PasswordOtp => "password-otp",
            Mode::Challenge => "challenge",
        }
    }

    /// The mode a configuration name stands for.
    ///
    /// ```
    /// use mfa_radius::Mode;
    /// assert_eq!(Mode::from_name("password-otp"), Some(Mode::PasswordOtp));
    /// assert_eq!(Mode::from_name("pap"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Mode> {
        [Mode::Otp, Mode::PasswordOtp, Mode::Challenge]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// A RADIUS client (a NAS: VPN concentrator, firewall, ...) as configured.
/// The caller finds it by the datagram's source address and passes it to
/// [`Endpoint::handle`]; no client means the datagram is dropped.
#[derive(Clone, Debug)]
pub struct Client {
    name: String,
    secret: SharedSecret,
    mode: Mode,
    require_message_authenticator: bool,
    limit_proxy_state: bool,
}

impl Client {
    /// A client that must send a valid Message-Authenticator in every
    /// Access-Request (the default, against BlastRADIUS, CVE-2024-3596).
    pub fn new(name: impl Into<String>, secret: SharedSecret, mode: Mode) -> Client {
        Client {
            name: name.into(),
            secret,
            mode,
            require_message_authenticator: true,
            limit_proxy_state: true,
        }
    }

    /// Whether an Access-Request without a Message-Authenticator is dropped
    /// (default `true`). Turn it off only for a client that cannot send one;
    /// one that is present is checked either way, and Status-Server always
    /// needs one (RFC 5997 §3).
    pub fn require_message_authenticator(mut self, require: bool) -> Client {
        self.require_message_authenticator = require;
        self
    }

    /// Whether a request that carries Proxy-State but no
    /// Message-Authenticator is dropped (default `true`; FreeRADIUS's
    /// `limit_proxy_state`). It only matters for a client that does not
    /// require a Message-Authenticator: Proxy-State is the attribute a reply
    /// echoes, the lever of the BlastRADIUS attack on an unsigned request.
    /// Turn it off for a proxy in front of this server that adds Proxy-State
    /// but cannot sign its requests.
    pub fn limit_proxy_state(mut self, limit: bool) -> Client {
        self.limit_proxy_state = limit;
        self
    }

    /// Whether Proxy-State without a Message-Authenticator is dropped.
    pub fn limits_proxy_state(&self) -> bool {
        self.limit_proxy_state
    }

    /// The configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sign-in mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a Message-Authenticator is required.
    pub fn requires_message_authenticator(&self) -> bool {
        self.require_message_authenticator
    }
}

/// Sizes and lifetimes of the endpoint's state. The defaults suit a
/// server facing untrusted networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Decoding limits.
    pub limits: Limits,
    /// Replies remembered for retransmissions (default 4096). When every
    /// slot holds a request still being decided, new requests are dropped
    /// ([`Dropped::Busy`]): the client retransmits.
    pub reply_cache_capacity: usize,
    /// Seconds a reply is remembered (default 30, longer than a NAS's
    /// retransmission schedule).
    pub reply_cache_ttl: u64,
    /// Challenge sessions open at once (default 4096); the oldest goes when
    /// a new one needs room.
    pub session_capacity: usize,
    /// Seconds a State may be answered (default 120).
    pub session_ttl: u64,
    /// The most octets of Proxy-State attributes (headers included) a
    /// request may carry (default 2048): they are copied into the reply, which
    /// must stay within 4096 octets.
    pub max_proxy_state_octets: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            reply_cache_capacity: 4096,
            reply_cache_ttl: 30,
            session_capacity: 4096,
            session_ttl: 120,
            max_proxy_state_octets: 2048,
        }
    }
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to: the source of the request.
    pub destination: SocketAddr,
    /// The packet.
    pub contents: Vec<u8>,
}

/// Attributes describing the NAS and the session it is asking about,
/// decoded when well-formed (every attribute is also in
/// [`Request::attributes`] as received).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Nas {
    /// NAS-IP-Address.
    pub ip_address: Option<Ipv4Addr>,
    /// NAS-IPv6-Address.
    pub ipv6_address: Option<Ipv6Addr>,
    /// NAS-Identifier.
    pub identifier: Option<String>,
    /// NAS-Port.
    pub port: Option<u32>,
    /// Calling-Station-Id: for a VPN, usually the user's public IP address.
    pub calling_station_id: Option<String>,
    /// Called-Station-Id.
    pub called_station_id: Option<String>,
}

impl Nas {
    fn from_packet(p: &Packet) -> Nas {
        let text = |kind| {
            p.first(kind)
                .and_then(|v| core::str::from_utf8(v).ok())
                .map(String::from)
        };
        Nas {
            ip_address: p
                .first(attr::NAS_IP_ADDRESS)
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(Ipv4Addr::from),
            ipv6_address: p
                .first(attr::NAS_IPV6_ADDRESS)
                .and_then(|v| <[u8; 16]>::try_from(v).ok())
                .map(Ipv6Addr::from),
            identifier: text(attr::NAS_IDENTIFIER),
            port: p
                .first(attr::NAS_PORT)
                .and_then(|v| <[u8; 4]>::try_from(v).ok())
                .map(u32::from_be_bytes),
            calling_station_id: text(attr::CALLING_STATION_ID),
            called_station_id: text(attr::CALLED_STATION_ID),
        }
    }
}

/// What the user typed, by the client's [`Mode`] and the request's State.
/// Every variant wipes its octets on drop; `Debug` does not show them.
pub enum Credentials<D> {
    /// `otp` mode: the code.
    Code(Zeroizing<Vec<u8>>),
    /// `password-otp` mode: password and code in one; see [`split_trailing_code`].
    PasswordAndCode(Zeroizing<Vec<u8>>),
    /// `challenge` mode, first request: the password.
    Password(Zeroizing<Vec<u8>>),
    /// Any mode: the answer to an Access-Challenge, with the session its
    /// State named (already checked: issued by us, to this user, through
    /// this client, not expired, and now used up).
    ChallengeResponse {
        /// What the user typed in answer (normally the code).
        response: Zeroizing<Vec<u8>>,
        /// The session.
        session: Session<D>,
    },
}

impl<D: fmt::Debug> fmt::Debug for Credentials<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Code(_) => f.write_str("Code([REDACTED])"),
            Credentials::PasswordAndCode(_) => f.write_str("PasswordAndCode([REDACTED])"),
            Credentials::Password(_) => f.write_str("Password([REDACTED])"),
            Credentials::ChallengeResponse { session, .. } => f
                .debug_struct("ChallengeResponse")
                .field("response", &"[REDACTED]")
                .field("session", session)
                .finish(),
        }
    }
}

/// An authenticated Access-Request, for the caller to decide.
#[derive(Debug)]
#[non_exhaustive]
pub struct Request<D> {
    /// The client's configured name.
    pub client: String,
    /// The client's mode.
    pub mode: Mode,
    /// Where the request came from.
    pub source: SocketAddr,
    /// The User-Name (valid UTF-8, not empty).
    pub user_name: String,
    /// What the user typed.
    pub credentials: Credentials<D>,
    /// NAS attributes.
    pub nas: Nas,
    /// Whether the request carried a valid Message-Authenticator.
    pub message_authenticator: bool,
    /// Every attribute as received (the User-Password still hidden).
    pub attributes: Vec<Attribute>,
}

/// A request waiting for its [`Decision`]: hand it back to
/// [`Endpoint::respond`] (or [`Endpoint::abandon`] if no decision can be
/// made). Until then a retransmission of it is dropped, not decided twice.
#[derive(Debug)]
pub struct PendingRequest<D> {
    request: Request<D>,
    key: CacheKey,
    secret: SharedSecret,
    proxy_states: Vec<Attribute>,
}

impl<D> PendingRequest<D> {
    /// The request.
    pub fn request(&self) -> &Request<D> {
        &self.request
    }

    /// The request, mutably (to take the session data out, say).
    pub fn request_mut(&mut self) -> &mut Request<D> {
        &mut self.request
    }
}

/// The caller's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<D> {
    /// Access-Accept.
    Accept {
        /// An optional Reply-Message.
        message: Option<String>,
    },
    /// Access-Reject.
    Reject {
        /// An optional Reply-Message.
        message: Option<String>,
    },
    /// Access-Challenge with a new State: a session bound to this user,
    /// client and address, holding `session`.
    Challenge {
        /// The prompt ("Enter the code from your authenticator app").
        message: String,
        /// What to remember until the answer.
        session: D,
    },
}

/// Why a request was answered without asking the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answered {
    /// A retransmission: the reply sent before, the same octets.
    Retransmission,
    /// Status-Server (RFC 5997): Access-Accept.
    StatusServer,
    /// Access-Reject because the request cannot be decided.
    Rejected {
        /// The User-Name if there was a valid one.
        user_name: Option<String>,
        /// Why.
        reason: RejectReason,
    },
}

/// Why a request was rejected by the protocol layer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// No User-Name.
    MissingUserName,
    /// An empty User-Name or one that is not UTF-8.
    InvalidUserName,
    /// No User-Password (CHAP and EAP cannot carry a one-time code here).
    MissingUserPassword,
    /// A hidden User-Password of a bad length.
    InvalidUserPassword(Error),
    /// A State that names no usable session.
    State(StateError),
}

/// Why a datagram got no answer. Each has a counter in [`Stats`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// No client is configured for the source address.
    UnknownClient,
    /// Not a RADIUS packet.
    Malformed(Error),
    /// Not an Access-Request or Status-Server.
    UnsupportedCode(Code),
    /// No Message-Authenticator though the client (or Status-Server) needs one.
    MessageAuthenticatorMissing,
    /// A Message-Authenticator that does not verify: a wrong secret or a
    /// forged or altered packet.
    MessageAuthenticatorInvalid(Error),
    /// A retransmission of a request still being decided.
    InProgress,
    /// The reply cache is full of requests being decided.
    Busy,
    /// More Proxy-State than [`Config::max_proxy_state_octets`].
    ProxyStateTooLong {
        /// Octets of Proxy-State attributes in the request.
        octets: usize,
    },
    /// Proxy-State in a request without a Message-Authenticator, from a
    /// client with [`Client::limit_proxy_state`].
    ProxyStateWithoutMessageAuthenticator,
}

/// What [`Endpoint::handle`] made of a datagram.
#[derive(Debug)]
// The request is the common case and is moved straight out; boxing it
// would cost an allocation per request to make the rare drops smaller.
#[allow(clippy::large_enum_variant)]
pub enum Event<D> {
    /// A new request to decide; answer with [`Endpoint::respond`].
    Request(PendingRequest<D>),
    /// A reply to send; nothing to decide.
    Reply {
        /// The datagram.
        transmit: Transmit,
        /// Why it was answered directly.
        reason: Answered,
    },
    /// Nothing to send.
    Dropped(Dropped),
}

/// Counters, for metrics and the overload log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Dropped: unknown client.
    pub unknown_client: u64,
    /// Dropped: not a RADIUS packet.
    pub malformed: u64,
    /// Dropped: unsupported code.
    pub unsupported_code: u64,
    /// Dropped: Message-Authenticator missing.
    pub message_authenticator_missing: u64,
    /// Dropped: Message-Authenticator invalid (wrong secret, forgery).
    pub message_authenticator_invalid: u64,
    /// Dropped: retransmission of a request being decided.
    pub in_progress: u64,
    /// Dropped: cache full of requests being decided.
    pub busy: u64,
    /// Dropped: too much Proxy-State.
    pub proxy_state_too_long: u64,
    /// Dropped: Proxy-State without a Message-Authenticator.
    pub proxy_state_without_message_authenticator: u64,
    /// Answered from the reply cache.
    pub retransmissions: u64,
    /// Status-Server answered.
    pub status_server: u64,
    /// Rejected by the protocol layer (see [`RejectReason`]).
    pub protocol_rejects: u64,
    /// Requests handed to the caller.
    pub requests: u64,
    /// Requests abandoned by the caller.
    pub abandoned: u64,
    /// Access-Accepts sent for decisions.
    pub accepts: u64,
    /// Access-Rejects sent for decisions.
    pub rejects: u64,
    /// Access-Challenges sent.
    pub challenges: u64,
    /// Sessions evicted to make room.
    pub sessions_evicted: u64,
    /// Random number generator failures.
    pub rng_failures: u64,
}

/// The RADIUS server side, without a socket or a clock.
///
/// `D` is whatever the caller attaches to a challenge session.
/// See the crate documentation for a full sign-in; here the paths that need
/// no decision:
///
/// ```
/// use mfa_oath::UnixTime;
/// use mfa_radius::{Answered, Client, Code, Config, Dropped, Endpoint, Event, Mode, Packet, SharedSecret};
///
/// let secret = SharedSecret::new(b"a long shared secret")?;
/// let client = Client::new("monitor", secret.clone(), Mode::Otp);
/// let mut endpoint: Endpoint<()> = Endpoint::new(Config::default());
/// let now = UnixTime::from_secs(1_700_000_000);
/// let source = "192.0.2.7:50000".parse().unwrap();
/// let probe = Packet::new(Code::STATUS_SERVER, 1, [0x42; 16]).encode_request(&secret)?;
///
/// // No client configured for the source address: dropped and counted.
/// assert!(matches!(endpoint.handle(now, source, None, &probe), Event::Dropped(Dropped::UnknownClient)));
/// assert_eq!(endpoint.stats().unknown_client, 1);
///
/// // Status-Server (RFC 5997): answered without asking the caller.
/// match endpoint.handle(now, source, Some(&client), &probe) {
///     Event::Reply { transmit, reason: Answered::StatusServer } => {
///         assert_eq!(transmit.destination, source);
///         assert_eq!(transmit.contents[0], Code::ACCESS_ACCEPT.0);
///     }
///     other => panic!("{other:?}"),
/// }
/// // The next deadline, for a server's timer.
/// assert_eq!(endpoint.poll_timeout(), None);
/// # Ok::<(), mfa_radius::Error>(())
/// ```
pub struct Endpoint<D> {
    config: Config,
    cache: ReplyCache,
    sessions: Sessions<D>,
    stats: Stats,
}

impl<D> fmt::Debug for Endpoint<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("config", &self.config)
            .field("cached_replies", &self.cache.len())
            .field("sessions", &self.sessions.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<D> Endpoint<D> {
    /// An endpoint with empty caches.
    pub fn new(config: Config) -> Endpoint<D> {
        Endpoint {
            config,
            cache: ReplyCache::new(config.reply_cache_capacity, config.reply_cache_ttl),
            sessions: Sessions::new(config.session_capacity, config.session_ttl),
            stats: Stats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Replies (and requests being decided) in the cache.
    pub fn cached_replies(&self) -> usize {
        self.cache.len()
    }

    /// Open challenge sessions (expired ones linger for one more lifetime so
    /// a late answer is told apart from a forged one).
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Handles one datagram that arrived from `source`, sent by `client`
    /// (`None` if no client is configured for that address).
    ///
    /// In order: unknown client → drop; decode → drop if malformed; only
    /// Access-Request and Status-Server; Message-Authenticator checked
    /// (drop if invalid, or missing where required); Proxy-State checked
    /// (drop if too long, or unsigned from a client that
    /// [`limits it`](Client::limit_proxy_state)); Status-Server answered;
    /// a retransmission answered from the cache (or dropped while the first
    /// copy is being decided); requests without a usable User-Name,
    /// User-Password or State rejected; anything else is a
    /// [`Event::Request`] for the caller.
    pub fn handle(
        &mut self,
        now: UnixTime,
        source: SocketAddr,
        client: Option<&Client>,
        datagram: &[u8],
    ) -> Event<D> {
        self.stats.datagrams += 1;
        self.cache.purge(now.secs());
        self.sessions.purge(now);
        let Some(client) = client else {
            return self.drop(Dropped::UnknownClient);
        };
        let packet = match Packet::decode(datagram, &self.config.limits) {
            Ok(p) => p,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        let is_status = packet.code == Code::STATUS_SERVER;
        if packet.code != Code::ACCESS_REQUEST && !is_status {
            return self.drop(Dropped::UnsupportedCode(packet.code));
        }
        let has_ma = match packet.verify_message_authenticator(&client.secret, None) {
            Ok(MessageAuthenticator::Valid) => true,
            Ok(MessageAuthenticator::Absent) => false,
            Err(e) => return self.drop(Dropped::MessageAuthenticatorInvalid(e)),
        };
        if !has_ma && (is_status || client.require_message_authenticator) {
            return self.drop(Dropped::MessageAuthenticatorMissing);
        }
        let proxy_states: Vec<Attribute> = packet
            .attributes()
            .iter()
            .filter(|a| a.kind() == attr::PROXY_STATE)
            .cloned()
            .collect();
        let octets: usize = proxy_states.iter().map(Attribute::wire_len).sum();
        if octets > self.config.max_proxy_state_octets {
            return self.drop(Dropped::ProxyStateTooLong { octets });
        }
        if !has_ma && !proxy_states.is_empty() && client.limit_proxy_state {
            return self.drop(Dropped::ProxyStateWithoutMessageAuthenticator);
        }
        if is_status {
            // Stateless and the same octets every time: no need to cache.
            return match reply(
                Code::ACCESS_ACCEPT,
                &packet,
                &client.secret,
                &proxy_states,
                None,
                None,
            ) {
                Ok(contents) => {
                    self.stats.status_server += 1;
                    Event::Reply {
                        transmit: Transmit {
                            destination: source,
                            contents,
                        },
                        reason: Answered::StatusServer,
                    }
                }
                Err(e) => self.drop(Dropped::Malformed(e)),
            };
        }
        let key = CacheKey {
            source,
            identifier: packet.identifier,
            authenticator: packet.authenticator,
        };
        match self.cache.lookup(&key, now.secs()) {
            Lookup::Done(bytes) => {
                let contents = bytes.to_vec();
                self.stats.retransmissions += 1;
                return Event::Reply {
                    transmit: Transmit {
                        destination: source,
                        contents,
                    },
                    reason: Answered::Retransmission,
                };
            }
            Lookup::InProgress => return self.drop(Dropped::InProgress),
            Lookup::Miss => {}
        }
        if self.cache.begin(key, now.secs()).is_err() {
            return self.drop(Dropped::Busy);
        }
        match self.read_request(&packet, client, source, now, has_ma) {
            Ok(request) => {
                self.stats.requests += 1;
                Event::Request(PendingRequest {
                    request,
                    key,
                    secret: client.secret.clone(),
                    proxy_states,
                })
            }
            Err((user_name, reason)) => {
                match reply(
                    Code::ACCESS_REJECT,
                    &packet,
                    &client.secret,
                    &proxy_states,
                    None,
                    None,
                ) {
                    Ok(contents) => {
                        self.cache.complete(key, contents.clone(), now.secs());
                        self.stats.protocol_rejects += 1;
                        Event::Reply {
                            transmit: Transmit {
                                destination: source,
                                contents,
                            },
                            reason: Answered::Rejected { user_name, reason },
                        }
                    }
                    Err(e) => {
                        self.cache.abandon(&key);
                        self.drop(Dropped::Malformed(e))
                    }
                }
            }
        }
    }

    fn read_request(
        &mut self,
        packet: &Packet,
        client: &Client,
        source: SocketAddr,
        now: UnixTime,
        message_authenticator: bool,
    ) -> Result<Request<D>, (Option<String>, RejectReason)> {
        let user_name = match packet.first(attr::USER_NAME) {
            None => return Err((None, RejectReason::MissingUserName)),
            Some(v) => match core::str::from_utf8(v) {
                Ok(s) if !s.is_empty() => String::from(s),
                _ => return Err((None, RejectReason::InvalidUserName)),
            },
        };
        let password = match packet.user_password(&client.secret) {
            Ok(Some(p)) => p,
            Ok(None) => return Err((Some(user_name), RejectReason::MissingUserPassword)),
            Err(e) => return Err((Some(user_name), RejectReason::InvalidUserPassword(e))),
        };
        let credentials = match packet.first(attr::STATE) {
            Some(state) => {
                match self
                    .sessions
                    .take(state, &user_name, &client.name, source.ip(), now)
                {
                    Ok(session) => Credentials::ChallengeResponse {
                        response: password,
                        session,
                    },
                    Err(e) => return Err((Some(user_name), RejectReason::State(e))),
                }
            }
            None => match client.mode {
                Mode::Otp => Credentials::Code(password),
                Mode::PasswordOtp => Credentials::PasswordAndCode(password),
                Mode::Challenge => Credentials::Password(password),
            },
        };
        Ok(Request {
            client: client.name.clone(),
            mode: client.mode,
            source,
            user_name,
            credentials,
            nas: Nas::from_packet(packet),
            message_authenticator,
            attributes: packet.attributes().to_vec(),
        })
    }

    /// Builds, caches and returns the reply to a pending request.
    ///
    /// Every reply has a Message-Authenticator as its first attribute, then
    /// the Reply-Message split into 253-octet attributes, the State (for a
    /// challenge) and the request's Proxy-State attributes, unchanged and in
    /// order. `rng` is used only for a challenge's State.
    ///
    /// # Errors
    /// [`Error::Rng`] if the generator fails for a challenge. The request is
    /// then abandoned (see [`Endpoint::abandon`]): nothing was sent, and the
    /// client's retransmission is handled afresh.
    pub fn respond<R: TryCryptoRng + ?Sized>(
        &mut self,
        now: UnixTime,
        pending: PendingRequest<D>,
        decision: Decision<D>,
        rng: &mut R,
    ) -> Result<Transmit, Error> {
        let PendingRequest {
            request,
            key,
            secret,
            proxy_states,
        } = pending;
        let (code, message, state) = match decision {
            Decision::Accept { message } => (Code::ACCESS_ACCEPT, message, None),
            Decision::Reject { message } => (Code::ACCESS_REJECT, message, None),
            Decision::Challenge { message, session } => {
                let session = Session {
                    user_name: request.user_name,
                    client: request.client,
                    source: request.source.ip(),
                    created: now,
                    data: session,
                };
                match self.sessions.create(session, now, rng) {
                    Ok((state, evicted)) => {
                        if evicted {
                            self.stats.sessions_evicted += 1;
                        }
                        (Code::ACCESS_CHALLENGE, Some(message), Some(state))
                    }
                    Err(e) => {
                        self.stats.rng_failures += 1;
                        self.cache.abandon(&key);
                        return Err(e);
                    }
                }
            }
        };
        let header = Packet::new(code, key.identifier, key.authenticator);
        let contents = match reply(
            code,
            &header,
            &secret,
            &proxy_states,
            message.as_deref(),
            state.as_ref().map(|s| &s[..]),
        ) {
            Ok(c) => c,
            Err(e) => {
                self.cache.abandon(&key);
                return Err(e);
            }
        };
        match code {
            Code::ACCESS_ACCEPT => self.stats.accepts += 1,
            Code::ACCESS_REJECT => self.stats.rejects += 1,
            _ => self.stats.challenges += 1,
        }
        self.cache.complete(key, contents.clone(), now.secs());
        Ok(Transmit {
            destination: key.source,
            contents,
        })
    }

    /// Gives up on a pending request without answering it (the decision
    /// could not be made, the queue was full): its retransmission will be
    /// handled as new. A [`PendingRequest`] that is simply dropped keeps its
    /// retransmissions dropped until [`Config::reply_cache_ttl`] runs out.
    pub fn abandon(&mut self, pending: PendingRequest<D>) {
        self.stats.abandoned += 1;
        self.cache.abandon(&pending.key);
    }

    /// Forgets expired replies and sessions. [`Endpoint::handle`] does this
    /// as it goes; a server may also call it at [`Endpoint::poll_timeout`].
    pub fn handle_timeout(&mut self, now: UnixTime) {
        self.cache.purge(now.secs());
        self.sessions.purge(now);
    }

    /// When the next cached reply or session is due to be forgotten.
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        [self.cache.next_expiry(), self.sessions.next_expiry()]
            .into_iter()
            .flatten()
            .min()
            .map(UnixTime::from_secs)
    }

    fn drop(&mut self, why: Dropped) -> Event<D> {
        let s = &mut self.stats;
        match &why {
            Dropped::UnknownClient => s.unknown_client += 1,
            Dropped::Malformed(_) => s.malformed += 1,
            Dropped::UnsupportedCode(_) => s.unsupported_code += 1,
            Dropped::MessageAuthenticatorMissing => s.message_authenticator_missing += 1,
            Dropped::MessageAuthenticatorInvalid(_) => s.message_authenticator_invalid += 1,
            Dropped::InProgress => s.in_progress += 1,
            Dropped::Busy => s.busy += 1,
            Dropped::ProxyStateTooLong { .. } => s.proxy_state_too_long += 1,
            Dropped::ProxyStateWithoutMessageAuthenticator => {
                s.proxy_state_without_message_authenticator += 1;
            }
        }
        Event::Dropped(why)
    }
}

/// A reply to `request` (its Identifier and Request Authenticator), signed.
fn reply(
    code: Code,
    request: &Packet,
    secret: &SharedSecret,
    proxy_states: &[Attribute],
    message: Option<&str>,
    state: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    let mut p = Packet::new(code, request.identifier, request.authenticator);
    if let Some(message) = message {
        for chunk in reply_message_chunks(message) {
            p.push(Attribute::new(attr::REPLY_MESSAGE, chunk.to_vec())?);
        }
    }
    if let Some(state) = state {
        p.push(Attribute::new(attr::STATE, state.to_vec())?);
    }
    for a in proxy_states {
        p.push(a.clone());
    }
    p.encode_response(&request.authenticator, secret)
}

/// The octets of `message` (cut to [`MAX_REPLY_MESSAGE_LEN`] at a character
/// boundary) in pieces of at most 253 octets. A piece may end inside a
/// multi-octet character: RFC 2865 §5.18 says the pieces are concatenated
/// before display.
fn reply_message_chunks(message: &str) -> impl Iterator<Item = &[u8]> {
    let mut end = message.len().min(MAX_REPLY_MESSAGE_LEN);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message
        .as_bytes()
        .get(..end)
        .unwrap_or_default()
        .chunks(MAX_ATTRIBUTE_VALUE_LEN)
}

/// Splits `password-otp` input into the password and the `digits`-digit
/// code at its end. `None` if the input is not longer than `digits` or does
/// not end in that many ASCII digits. Both parts are wiped on drop.
///
/// ```
/// use mfa_radius::split_trailing_code;
/// let (password, code) = split_trailing_code(b"hunter2123456", 6).unwrap();
/// assert_eq!((password.as_slice(), code.as_slice()), (&b"hunter2"[..], &b"123456"[..]));
/// assert!(split_trailing_code(b"123456", 6).is_none()); // no password
/// assert!(split_trailing_code(b"hunter12345x", 6).is_none());
/// ```
#[allow(clippy::type_complexity)]
pub fn split_trailing_code(
    input: &[u8],
    digits: usize,
) -> Option<(Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>)> {
    if digits == 0 {
        return None;
    }
    let at = input.len().checked_sub(digits).filter(|&at| at > 0)?;
    let (password, code) = input.split_at_checked(at)?;
    if !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((
        Zeroizing::new(password.to_vec()),
        Zeroizing::new(code.to_vec()),
    ))
}
