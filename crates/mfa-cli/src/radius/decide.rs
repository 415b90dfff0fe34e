//! What a worker thread does with one request: translate it to
//! [`Store::authenticate`] (and the upstream first factor, and an SMS code)
//! and back. No business rule lives here: every approval and denial is the
//! store's.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use mfa_notify::{Notifier, SmsCode};
use mfa_oath::UnixTime;
use mfa_radius::{Code, Credentials, Decision, Limits, OutgoingRequest, split_trailing_code};
use mfa_store::{
    AuthOutcome, AuthRequest, Channel, Error as StoreError, Method, Presented, Store, VerifyContext,
};
use zeroize::Zeroizing;

use super::config::Upstream;

/// What a challenge session remembers: which factor the prompt asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A code from an OATH token or authenticator app.
    Oath,
    /// A one-time code sent by SMS.
    Sms,
}

/// What a worker needs to decide one request.
pub(crate) struct Work {
    pub(crate) user: String,
    pub(crate) credentials: Credentials<Expect>,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) code_digits: usize,
}

/// What is shared by the workers.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) context: VerifyContext,
    pub(crate) upstream: Option<Upstream>,
    pub(crate) notifier: Option<Notifier>,
}

/// A decision, with what the log line says about it.
pub(crate) struct Decided {
    pub(crate) decision: Decision<Expect>,
    /// The reason for the log (never a password, code or secret).
    pub(crate) reason: String,
}

const PROMPT_APP: &str = "Enter the code from your authenticator app";

fn accept(reason: impl Into<String>) -> Decided {
    Decided {
        decision: Decision::Accept { message: None },
        reason: reason.into(),
    }
}

fn reject(reason: impl Into<String>) -> Decided {
    Decided {
        decision: Decision::Reject { message: None },
        reason: reason.into(),
    }
}

/// The decision for what [`Store::authenticate`] answered to a code.
fn decided(result: Result<AuthOutcome, mfa_store::Error>) -> Decided {
    match result {
        Ok(AuthOutcome::Approved { by, .. }) => accept(format!("approved: {by:?}")),
        Ok(AuthOutcome::Denied { reason, .. }) => reject(format!("denied: {reason}")),
        Ok(AuthOutcome::SecondFactorNeeded(_)) => reject("denied: a second factor is needed"),
        Ok(other) => reject(format!("denied: unexpected outcome {other:?}")),
        Err(e) => reject(format!("store error: {e}")),
    }
}

/// Whether `text` is read as an OATH code: all digits, 6 to 9 of them.
/// Anything else typed where a code is expected is tried as an app
/// password (the store makes them 26 letters and digits).
fn looks_like_code(text: &str) -> bool {
    (6..=9).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// What a request is, before anything is asked.
enum Plan<'a> {
    /// Decided by the store alone: this request, with this context.
    Store(AuthRequest<'a>, VerifyContext),
    /// Refused before the store was asked.
    Refused(Decided),
    /// Needs the upstream first factor (and then the store, or a challenge).
    Upstream(VerifyContext),
}

impl Shared {
    fn context(&self, work: &Work) -> VerifyContext {
        match work.client_ip {
            Some(ip) => self.context.clone().with_client(ip),
            None => self.context.clone(),
        }
    }

    /// How `work` is decided: the User-Password as the code (otp mode) and
    /// a challenge response by the store alone.
    fn plan<'a>(&self, work: &'a Work) -> Plan<'a> {
        let ctx = self.context(work);
        let user = work.user.as_str();
        match &work.credentials {
            Credentials::Code(typed) => {
                let Ok(typed) = std::str::from_utf8(typed) else {
                    return Plan::Refused(reject("User-Password is not UTF-8"));
                };
                let presented = if looks_like_code(typed) {
                    Presented::OathCode(typed)
                } else {
                    Presented::AppPassword(typed)
                };
                Plan::Store(AuthRequest::new(user, presented), ctx)
            }
            Credentials::ChallengeResponse { response, session } => {
                let Ok(code) = std::str::from_utf8(response) else {
                    return Plan::Refused(reject("response is not UTF-8"));
                };
                let presented = match session.data {
                    Expect::Oath => Presented::OathCode(code),
                    Expect::Sms => Presented::OneTimeCode {
                        channel: Channel::Sms,
                        code,
                    },
                };
                Plan::Store(AuthRequest::new(user, presented), ctx)
            }
            Credentials::PasswordAndCode(_) | Credentials::Password(_) => Plan::Upstream(ctx),
        }
    }

    /// Whether `work` is decided by the store alone (so it can go into
    /// [`Shared::decide_batch`]): the User-Password as the code, a
    /// challenge response.
    pub(crate) fn store_only(work: &Work) -> bool {
        matches!(
            work.credentials,
            Credentials::Code(_) | Credentials::ChallengeResponse { .. }
        )
    }

    /// Decides one request at `now`.
    pub(crate) fn decide(&self, work: &Work, now: UnixTime) -> Decided {
        let ctx = match self.plan(work) {
            Plan::Store(req, ctx) => return decided(self.store.authenticate(&req, now, &ctx)),
            Plan::Refused(d) => return d,
            Plan::Upstream(ctx) => ctx,
        };
        let user = work.user.as_str();
        match &work.credentials {
            Credentials::PasswordAndCode(typed) => {
                let Some((password, code)) = split_trailing_code(typed, work.code_digits) else {
                    return reject(format!(
                        "User-Password does not end in a {}-digit code",
                        work.code_digits
                    ));
                };
                if let Some(refused) = self.first_factor(user, &password) {
                    return refused;
                }
                let Ok(code) = std::str::from_utf8(&code) else {
                    return reject("code is not UTF-8");
                };
                decided(self.store.authenticate(
                    &AuthRequest::new(user, Presented::OathCode(code)),
                    now,
                    &ctx,
                ))
            }
            Credentials::Password(password) => {
                if let Some(refused) = self.first_factor(user, password) {
                    return refused;
                }
                self.challenge(user, now, &ctx)
            }
            // Not reached: `plan` sent these to the store.
            Credentials::Code(_) | Credentials::ChallengeResponse { .. } => {
                reject("denied: the request was not planned")
            }
        }
    }

    /// Decides several requests at one `now`, one decision each in the
    /// order given: those [`Shared::store_only`] accepts in one
    /// [`Store::authenticate_batch`] call (one transaction, one commit,
    /// each decided as [`Store::authenticate`] decides it), any other one
    /// by one as [`Shared::decide`] does. Returns after the commit.
    pub(crate) fn decide_batch(&self, works: &[&Work], now: UnixTime) -> Vec<Decided> {
        let out = self.batch(works, now, false, |batch| {
            self.store.authenticate_batch(batch, now).map(Some)
        });
        // Not reached: `authenticate_batch` always decides.
        out.unwrap_or_else(|| {
            works
                .iter()
                .map(|_| reject("store error: no decision"))
                .collect()
        })
    }

    /// [`Shared::decide_batch`] for a caller that must not block: `None`
    /// (nothing decided or recorded) if the store would have had to wait
    /// for another writer ([`Store::try_authenticate_batch`]) or a request
    /// needs the upstream.
    pub(crate) fn try_decide_batch(&self, works: &[&Work], now: UnixTime) -> Option<Vec<Decided>> {
        self.batch(works, now, true, |batch| {
            self.store.try_authenticate_batch(batch, now)
        })
    }

    /// The body of both: `store` decides the store's share, `None` for
    /// "not now" (and so does this, as it does for a request needing the
    /// upstream when `no_upstream`).
    fn batch(
        &self,
        works: &[&Work],
        now: UnixTime,
        no_upstream: bool,
        store: impl FnOnce(
            &[(AuthRequest<'_>, VerifyContext)],
        ) -> Result<Option<Vec<Result<AuthOutcome, StoreError>>>, StoreError>,
    ) -> Option<Vec<Decided>> {
        let mut out: Vec<Option<Decided>> = Vec::with_capacity(works.len());
        let mut batch = Vec::new();
        let mut slots = Vec::new();
        let mut upstream = Vec::new();
        for (i, work) in works.iter().enumerate() {
            match self.plan(work) {
                Plan::Store(req, ctx) => {
                    batch.push((req, ctx));
                    slots.push(i);
                    out.push(None);
                }
                Plan::Refused(d) => out.push(Some(d)),
                Plan::Upstream(_) if no_upstream => return None,
                Plan::Upstream(_) => {
                    upstream.push(i);
                    out.push(None);
                }
            }
        }
        match store(&batch) {
            Ok(None) => return None,
            Ok(Some(results)) => {
                for (i, r) in slots.into_iter().zip(results) {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(decided(r));
                    }
                }
            }
            Err(e) => {
                for i in slots {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = Some(reject(format!("store error: {e}")));
                    }
                }
            }
        }
        for i in upstream {
            if let (Some(slot), Some(work)) = (out.get_mut(i), works.get(i)) {
                *slot = Some(self.decide(work, now));
            }
        }
        // Every slot is filled above; a gap would be a reject, never an accept.
        Some(
            out.into_iter()
                .map(|d| d.unwrap_or_else(|| reject("store error: no decision")))
                .collect(),
        )
    }

    /// The first factor by the upstream; `None` when it accepted (or no
    /// upstream is configured: a warned-about configuration).
    fn first_factor(&self, user: &str, password: &[u8]) -> Option<Decided> {
        let upstream = self.upstream.as_ref()?;
        match ask_upstream(upstream, user, password) {
            Ok(true) => None,
            Ok(false) => Some(reject(format!(
                "the upstream {} rejected the password",
                upstream.address
            ))),
            Err(e) => Some(reject(format!("upstream {}: {e}", upstream.address))),
        }
    }

    /// The first request of a challenge flow, after the first factor.
    fn challenge(&self, user: &str, now: UnixTime, ctx: &VerifyContext) -> Decided {
        let methods =
            match self
                .store
                .authenticate(&AuthRequest::new(user, Presented::Nothing), now, ctx)
            {
                Ok(AuthOutcome::SecondFactorNeeded(methods)) => methods,
                Ok(AuthOutcome::Approved { by, .. }) => return accept(format!("approved: {by:?}")),
                Ok(AuthOutcome::Denied { reason, .. }) => {
                    return reject(format!("denied: {reason}"));
                }
                Ok(other) => return reject(format!("denied: unexpected outcome {other:?}")),
                Err(e) => return reject(format!("store error: {e}")),
            };
        if methods.iter().any(|m| matches!(m, Method::Oath { .. })) {
            return Decided {
                decision: Decision::Challenge {
                    message: PROMPT_APP.into(),
                    session: Expect::Oath,
                },
                reason: "challenge: authenticator code".into(),
            };
        }
        if methods.iter().any(|m| matches!(m, Method::Phone { .. })) {
            return self.sms_challenge(user, now);
        }
        reject("denied: no factor this server can ask for")
    }

    fn sms_challenge(&self, user: &str, now: UnixTime) -> Decided {
        let Some(notifier) = self.notifier.as_ref() else {
            return reject("denied: the user has only a phone and no SMS sender is configured");
        };
        // The one SMS-code flow (issue, send, withdraw if undelivered) is
        // mfa-notify's, shared with mfa-http.
        let (to, reason) = match notifier.send_sms_code(&self.store, user, 6, now) {
            Ok(SmsCode::Sent { to, .. }) => (to, "challenge: SMS code sent"),
            // Sent earlier and still valid: not sent again.
            Ok(SmsCode::AlreadySent { to, .. }) => {
                (to, "challenge: SMS code already sent, still valid")
            }
            Ok(SmsCode::NoSender) => {
                return reject("denied: the user has only a phone and no SMS sender is configured");
            }
            Ok(other @ SmsCode::NoPhone) => return reject(format!("denied: {other}")),
            Ok(other) => return reject(other.to_string()),
            Err(e) => return reject(format!("store error: {e}")),
        };
        Decided {
            decision: Decision::Challenge {
                message: format!("Enter the code sent to {to}"),
                session: Expect::Sms,
            },
            reason: reason.into(),
        }
    }
}

/// Why the upstream gave no answer.
#[derive(Debug)]
pub(crate) enum UpstreamError {
    Io(std::io::Error),
    Radius(mfa_radius::Error),
    Timeout(Duration),
    Challenge,
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Io(e) => write!(f, "{e}"),
            UpstreamError::Radius(e) => write!(f, "{e}"),
            UpstreamError::Timeout(d) => write!(f, "no valid answer in {} s", d.as_secs()),
            UpstreamError::Challenge => {
                f.write_str("answered with an Access-Challenge (not supported)")
            }
        }
    }
}

/// Asks the upstream whether `password` is `user`'s: `Ok(true)` for an
/// Access-Accept, `Ok(false)` for an Access-Reject. Sent up to three times
/// within the timeout; answers that do not verify are ignored.
pub(crate) fn ask_upstream(
    upstream: &Upstream,
    user: &str,
    password: &[u8],
) -> Result<bool, UpstreamError> {
    let mut rng = getrandom::SysRng;
    let mut id = [0u8; 1];
    rand_core::TryRng::try_fill_bytes(&mut rng, &mut id)
        .map_err(|_| UpstreamError::Radius(mfa_radius::Error::Rng))?;
    let request = OutgoingRequest::access_request(
        id[0],
        user.as_bytes(),
        password,
        Vec::new(),
        &upstream.secret,
        &mut rng,
    )
    .map_err(UpstreamError::Radius)?;
    let local: SocketAddr = match upstream.address {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let socket = UdpSocket::bind(local).map_err(UpstreamError::Io)?;
    socket
        .connect(upstream.address)
        .map_err(UpstreamError::Io)?;
    let deadline = Instant::now() + upstream.timeout;
    let attempt = upstream.timeout / 3;
    let limits = Limits::default();
    let mut buf = Zeroizing::new(vec![0u8; 4096]);
    for _ in 0..3 {
        socket.send(request.bytes()).map_err(UpstreamError::Io)?;
        let until = (Instant::now() + attempt).min(deadline);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .map_err(UpstreamError::Io)?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                // ECONNREFUSED from an earlier send: nothing listens (yet).
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    std::thread::sleep(left);
                    break;
                }
                Err(e) => return Err(UpstreamError::Io(e)),
            };
            let datagram = buf.get(..n).unwrap_or_default();
            match request.verify_response(
                datagram,
                &upstream.secret,
                &limits,
                upstream.require_message_authenticator,
            ) {
                Ok(p) if p.code == Code::ACCESS_ACCEPT => return Ok(true),
                Ok(p) if p.code == Code::ACCESS_REJECT => return Ok(false),
                Ok(_) => return Err(UpstreamError::Challenge),
                Err(e) => {
                    tracing::warn!(upstream = %upstream.address, error = %e, "ignored an upstream answer that does not verify");
                }
            }
        }
    }
    Err(UpstreamError::Timeout(upstream.timeout))
}

#[cfg(test)]
mod tests {
    use super::looks_like_code;

    #[test]
    fn codes_and_app_passwords_are_told_apart() {
        assert!(looks_like_code("123456"));
        assert!(looks_like_code("12345678"));
        assert!(!looks_like_code("12345"));
        assert!(!looks_like_code("abcdefghijklmnopqrstuvwxyz"));
        assert!(!looks_like_code("1234567890"));
    }
}
