//! The one authentication entry point, [`Store::authenticate`]: every
//! sign-in of every front end (C ABI, `mfa verify`, RADIUS, PAM, HTTP)
//! goes through it, in one order:
//!
//! 1. the user row is locked; an unknown user is denied (logged);
//! 2. fraud block and high risk (mfa-fraud): denied without looking at what
//!    was presented, not counted;
//! 3. lockout of the presented factor's class (mfa-lockout): denied without
//!    being checked, the lock is not extended;
//! 4. bypass: a trusted client IP or a remembered device approves without a
//!    second factor, only when the feature is on and no factor class of the
//!    user is locked (logged with the bypass as the mode);
//! 5. the factor check (OATH code, app password, SMS/voice code), or, with
//!    nothing presented, the list of factors the user can use;
//! 6. lockout counters;
//! 7. one authentication log event for every approval and denial.
//!
//! Nothing approves without a log event, and no path skips 2 or 3. An OATH
//! approval's event is written with the step it consumes (on PostgreSQL in
//! the same statement, to save a round trip): in the same transaction as
//! the rest, so what commits is the same.

use core::fmt;

use mfa_fraud::Gate;
use mfa_lockout::{AdminLockCause, Decision, FactorClass, LockoutState};
use mfa_oath::UnixTime;
use mfa_record::{AuthMode, AuthResult, DenialReason, PhoneNumber};
use subtle::ConstantTimeEq;

use super::tokens::{TOKEN_COLS, consume_step, token_from_row};
use super::{LogRow, SignInState, Store, lock_user, log_event, sign_in_state};
use crate::db::{Mode, Tx, Val, int, savepoint};
use crate::state::{load_lock, save_lock};
use crate::{Channel, Cidr, Credential, Error, UserProfile, VerifyContext, VerifyOutcome};

/// What the user presented with a sign-in.
///
/// `Debug` never shows a code or password.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presented<'a> {
    /// Nothing yet: the first step of a challenge flow. The answer is a
    /// bypass approval, a denial (blocked, locked, no usable factor), or
    /// [`AuthOutcome::SecondFactorNeeded`] with what the user can enter.
    Nothing,
    /// An OATH code (hardware token or authenticator app).
    OathCode(&'a str),
    /// An app password (for an application that cannot do MFA).
    AppPassword(&'a str),
    /// A one-time code sent by SMS or voice ([`Store::create_code`]).
    OneTimeCode {
        /// Where it was sent.
        channel: Channel,
        /// The code the user entered.
        code: &'a str,
    },
}

impl fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Presented::Nothing => f.write_str("Nothing"),
            Presented::OathCode(_) => f.write_str("OathCode([REDACTED])"),
            Presented::AppPassword(_) => f.write_str("AppPassword([REDACTED])"),
            Presented::OneTimeCode { channel, .. } => {
                write!(
                    f,
                    "OneTimeCode {{ channel: {channel:?}, code: [REDACTED] }}"
                )
            }
        }
    }
}

impl Presented<'_> {
    /// The lockout class of the factor (`None` for [`Presented::Nothing`]).
    fn class(&self) -> Option<FactorClass> {
        match self {
            Presented::Nothing => None,
            Presented::OathCode(_) => Some(FactorClass::Otp),
            Presented::AppPassword(_) => Some(FactorClass::AppPassword),
            Presented::OneTimeCode { channel, .. } => Some(channel.class()),
        }
    }

    /// The mode written to the log for a decision on this factor.
    fn mode(&self) -> AuthMode {
        match self {
            Presented::Nothing | Presented::OathCode(_) => AuthMode::OathCode,
            Presented::AppPassword(_) => AuthMode::AppPassword,
            Presented::OneTimeCode { channel, .. } => channel.mode(),
        }
    }
}

/// One sign-in attempt for [`Store::authenticate`].
///
/// ```
/// use mfa_store::{AuthRequest, Presented};
/// let req = AuthRequest::new("alice", Presented::OathCode("287082")).with_device("d-token");
/// assert_eq!(req.user, "alice");
/// // Codes, passwords and device tokens never show in Debug.
/// assert!(!format!("{req:?}").contains("287082"));
/// assert!(!format!("{req:?}").contains("d-token"));
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct AuthRequest<'a> {
    /// The user signing in.
    pub user: &'a str,
    /// What the user presented.
    pub presented: Presented<'a>,
    /// A remembered-device token the client sent back, if any.
    pub device_token: Option<&'a str>,
    /// Remember this device on approval by a factor (when
    /// `remember_device.days` is not 0): the approval then carries a new
    /// device token for the client to keep.
    pub remember_device: bool,
}

impl fmt::Debug for AuthRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRequest")
            .field("user", &self.user)
            .field("presented", &self.presented)
            .field("device_token", &self.device_token.map(|_| "[REDACTED]"))
            .field("remember_device", &self.remember_device)
            .finish()
    }
}

impl<'a> AuthRequest<'a> {
    /// A request with no device token.
    pub fn new(user: &'a str, presented: Presented<'a>) -> AuthRequest<'a> {
        AuthRequest {
            user,
            presented,
            device_token: None,
            remember_device: false,
        }
    }

    /// The same request with the remembered-device token the client sent.
    pub fn with_device(mut self, token: &'a str) -> AuthRequest<'a> {
        self.device_token = Some(token);
        self
    }

    /// The same request, asking to remember the device on approval.
    pub fn remembering_device(mut self) -> AuthRequest<'a> {
        self.remember_device = true;
        self
    }
}

/// What approved a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApprovedBy {
    /// An OATH code of the token `serial`, at `step` (TOTP) or counter (HOTP).
    OathCode {
        /// The token.
        serial: String,
        /// The step or counter consumed.
        step: u64,
    },
    /// The app password named `name`.
    AppPassword {
        /// Its name.
        name: String,
    },
    /// A one-time code sent on `channel`.
    OneTimeCode {
        /// SMS or voice.
        channel: Channel,
    },
    /// The client IP is in the trusted range `range` (no second factor).
    TrustedIp {
        /// The matching range.
        range: Cidr,
    },
    /// MFA is remembered on the client's device (no second factor).
    RememberedDevice,
}

/// A factor the user can use to answer a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// An active OATH token.
    Oath {
        /// Its serial.
        serial: String,
        /// TOTP (`true`) or HOTP.
        totp: bool,
    },
    /// A phone that SMS and voice codes can be sent to.
    Phone {
        /// The number masked as the log export shows it
        /// ([`PhoneNumber::masked`]): safe to show in a prompt.
        masked: String,
    },
}

/// The decision of [`Store::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub enum AuthOutcome {
    /// Signed in (logged).
    Approved {
        /// What approved it.
        by: ApprovedBy,
        /// A new remembered-device token when the request asked for one
        /// (give it to the client; only its keyed hash is stored).
        device_token: Option<Credential>,
    },
    /// Denied (logged), with the mfa-record reason.
    Denied {
        /// Why.
        reason: DenialReason,
        /// The token involved (a replayed code).
        serial: Option<String>,
        /// The replayed step or counter.
        step: Option<u64>,
    },
    /// Nothing was presented and a second factor is needed: what the user
    /// can use (never empty). Not logged: no decision was made.
    SecondFactorNeeded(Vec<Method>),
}

impl AuthOutcome {
    /// Whether the sign-in is approved.
    pub fn is_approved(&self) -> bool {
        matches!(self, AuthOutcome::Approved { .. })
    }

    /// The denial reason, if denied.
    pub fn denial(&self) -> Option<DenialReason> {
        match self {
            AuthOutcome::Denied { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    fn denied(reason: DenialReason) -> AuthOutcome {
        AuthOutcome::Denied {
            reason,
            serial: None,
            step: None,
        }
    }

    /// The result and token for the log event (`None`: nothing to log).
    fn log_parts(&self) -> Option<(AuthResult, Option<&str>)> {
        match self {
            AuthOutcome::Approved { by, .. } => Some((
                AuthResult::Success,
                match by {
                    ApprovedBy::OathCode { serial, .. } => Some(serial.as_str()),
                    _ => None,
                },
            )),
            AuthOutcome::Denied { reason, serial, .. } => {
                Some((AuthResult::Denied(*reason), serial.as_deref()))
            }
            AuthOutcome::SecondFactorNeeded(_) => None,
        }
    }

    /// This outcome as a [`VerifyOutcome`].
    pub fn to_verify_outcome(&self) -> VerifyOutcome {
        match self {
            AuthOutcome::Approved { by, .. } => {
                let (serial, step) = match by {
                    ApprovedBy::OathCode { serial, step } => (Some(serial.clone()), Some(*step)),
                    _ => (None, None),
                };
                VerifyOutcome {
                    result: AuthResult::Success,
                    serial,
                    step,
                }
            }
            AuthOutcome::Denied {
                reason,
                serial,
                step,
            } => VerifyOutcome {
                result: AuthResult::Denied(*reason),
                serial: serial.clone(),
                step: *step,
            },
            AuthOutcome::SecondFactorNeeded(_) => VerifyOutcome {
                result: AuthResult::Denied(DenialReason::NotActivated),
                serial: None,
                step: None,
            },
        }
    }
}

/// What the factor-specific check decided.
pub(super) struct Checked {
    pub(super) outcome: AuthOutcome,
    /// Whether the attempt counts for lockout (`Some(true)` success,
    /// `Some(false)` failure, `None` neither).
    pub(super) counts: Option<bool>,
    /// Whether the outcome's log event is written already (an OATH
    /// approval's, with its step: [`consume_step`]).
    pub(super) logged: bool,
}

impl Checked {
    pub(super) fn failure(reason: DenialReason) -> Checked {
        Checked {
            outcome: AuthOutcome::denied(reason),
            counts: Some(false),
            logged: false,
        }
    }

    pub(super) fn success(by: ApprovedBy) -> Checked {
        Checked {
            outcome: AuthOutcome::Approved {
                by,
                device_token: None,
            },
            counts: Some(true),
            logged: false,
        }
    }
}

/// The denial for a fraud gate that does not allow sign-in.
fn fraud_denial(gate: Gate) -> Option<DenialReason> {
    match gate {
        Gate::Allowed => None,
        Gate::Denied {
            blocked: Some((mfa_fraud::BlockCause::Administrator, until)),
            ..
        } => Some(DenialReason::AdminBlocked { until: Some(until) }),
        Gate::Denied {
            blocked: Some((_, until)),
            ..
        } => Some(DenialReason::FraudBlocked { until: Some(until) }),
        Gate::Denied { blocked: None, .. } => Some(DenialReason::HighUserRisk),
    }
}

/// The denial for a lockout decision that does not allow an attempt.
fn lock_denial(d: Decision) -> Option<DenialReason> {
    match d {
        Decision::Allowed { .. } => None,
        Decision::Locked { until, .. } => Some(DenialReason::Locked { until }),
        Decision::LockedUntilAdmin {
            cause: AdminLockCause::HardCap,
            ..
        } => Some(DenialReason::FailureCapReached),
        Decision::LockedUntilAdmin { .. } => Some(DenialReason::LockedUntilAdmin),
    }
}

/// The pre-computed keyed hashes of what a request carries, so no HMAC runs
/// inside the transaction.
struct Hashes {
    device: Option<Vec<u8>>,
    presented: Option<Vec<u8>>,
}

/// A batch's sign-in as decided in its transaction.
type SignedIn = Result<AuthOutcome, Error>;

/// [`Hashes`] and the new remembered-device token with its keyed hash.
struct Prepared {
    hashes: Hashes,
    new_device: Option<(Credential, Vec<u8>)>,
}

impl Store {
    /// The one authentication entry point: decides a sign-in of
    /// `req.user` at `now` in one transaction (see the module order above:
    /// fraud → lockout → bypass → factor → counters → log event).
    ///
    /// Denials are results, not errors: they are logged and counted and the
    /// transaction commits. An error means nothing was recorded.
    ///
    /// ```
    /// use mfa_oath::{Secret, Totp, TotpParams, UnixTime};
    /// use mfa_store::{
    ///     ApprovedBy, AuthOutcome, AuthRequest, ImportMode, MasterKey, Method, NewToken,
    ///     Presented, Store, TokenKind, VerifyContext,
    /// };
    ///
    /// let dir = tempfile::tempdir()?;
    /// let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    /// let store = Store::open(&url, &MasterKey::new(1, [7; 32]))?;
    /// let secret = Secret::from_bytes(b"12345678901234567890")?;
    /// let t0 = UnixTime::from_secs(1_700_000_000);
    /// let token = NewToken::new("T-1", TokenKind::Totp(TotpParams::default()), secret.clone());
    /// store.import([token], ImportMode::AllOrNothing, t0)?;
    /// store.assign("T-1", "alice", t0)?;
    /// let totp = Totp::new(secret, TotpParams::default());
    /// store.activate("T-1", &totp.generate(t0)?.to_string(), t0)?;
    /// let ctx = VerifyContext::new("mfa-1", "10.0.0.1".parse()?)?;
    ///
    /// // A challenge flow: first nothing, then the code.
    /// let now = UnixTime::from_secs(1_700_000_030);
    /// let first = store.authenticate(&AuthRequest::new("alice", Presented::Nothing), now, &ctx)?;
    /// assert!(matches!(&first, AuthOutcome::SecondFactorNeeded(m)
    ///     if m == &[Method::Oath { serial: "T-1".into(), totp: true }]));
    /// let code = totp.generate(now)?.to_string();
    /// let second = store.authenticate(&AuthRequest::new("alice", Presented::OathCode(&code)), now, &ctx)?;
    /// assert!(matches!(second, AuthOutcome::Approved { by: ApprovedBy::OathCode { .. }, .. }));
    /// // The same code again is a replay, from any front end.
    /// let again = store.authenticate(&AuthRequest::new("alice", Presented::OathCode(&code)), now, &ctx)?;
    /// assert!(!again.is_approved());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors, [`Error::Unseal`] / [`Error::TokenTampered`] (a token
    /// row that does not open under this store's key: never approved),
    /// [`Error::Record`] for a user id mfa-record does not accept.
    pub fn authenticate(
        &self,
        req: &AuthRequest<'_>,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<AuthOutcome, Error> {
        let prepared = self.prepare(req)?;
        let decided = self
            .pool
            .run(Mode::Write, |tx| self.sign_in(tx, req, &prepared, now, ctx));
        self.after_sign_in(req, decided, now, ctx)
    }

    /// Decides several sign-ins at one `now`, each exactly as
    /// [`Store::authenticate`] decides it (the same steps, the same log
    /// event, the same tampering record), all in **one** write transaction
    /// with one COMMIT: each sign-in runs in a savepoint of its own, so an
    /// error of one (e.g. [`Error::TokenTampered`]) rolls back only its own
    /// writes and is that item's `Err`, and a later sign-in sees the writes
    /// of the earlier ones (the same code twice is one approval and one
    /// replay). For a server that receives many sign-ins at once this
    /// saves a transaction, a commit and the thread wake-ups around it per
    /// sign-in.
    ///
    /// The result has one item per sign-in, in the order given. They are
    /// decided in the order of their user ids (sign-ins of one user in the
    /// order given), so that concurrent batches on PostgreSQL take the
    /// users' row locks in one order and cannot deadlock. **Nothing is
    /// returned before the COMMIT succeeded.** An empty batch runs no
    /// transaction.
    ///
    /// ```
    /// use mfa_oath::{Hotp, HotpParams, Secret, UnixTime};
    /// use mfa_store::{
    ///     AuthRequest, ImportMode, MasterKey, NewToken, Presented, Store, TokenKind, VerifyContext,
    /// };
    /// use mfa_record::DenialKind;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let url = format!("sqlite:{}", dir.path().join("mfa.db").display());
    /// let store = Store::open(&url, &MasterKey::new(1, [7; 32]))?;
    /// let t0 = UnixTime::from_secs(1_700_000_000);
    /// let secret = Secret::from_bytes(b"12345678901234567890")?;
    /// let token = NewToken::new("H-1", TokenKind::Hotp(HotpParams::default()), secret.clone());
    /// store.import([token], ImportMode::AllOrNothing, t0)?;
    /// store.assign("H-1", "alice", t0)?;
    /// let hotp = Hotp::new(secret, HotpParams::default());
    /// store.activate("H-1", &hotp.generate(0).to_string(), t0)?;
    /// let ctx = VerifyContext::new("radius-1", "10.0.0.1".parse()?)?;
    ///
    /// let code = hotp.generate(1).to_string();
    /// let batch = [
    ///     (AuthRequest::new("alice", Presented::OathCode(&code)), ctx.clone()),
    ///     (AuthRequest::new("alice", Presented::OathCode(&code)), ctx.clone()),
    ///     (AuthRequest::new("nobody", Presented::OathCode("123456")), ctx),
    /// ];
    /// let results = store.authenticate_batch(&batch, t0)?;
    /// assert!(results[0].as_ref().is_ok_and(|o| o.is_approved()));
    /// // The same code again in the same batch: a replay.
    /// let replay = results[1].as_ref().map(|o| o.denial().map(|r| r.kind()));
    /// assert!(matches!(replay, Ok(Some(DenialKind::CodeReplayed))));
    /// let unknown = results[2].as_ref().map(|o| o.denial().map(|r| r.kind()));
    /// assert!(matches!(unknown, Ok(Some(DenialKind::UnknownUser))));
    /// // Three decisions, three log events, one commit.
    /// assert_eq!(store.stats()?.auth_events, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The outer `Err`: the transaction failed (its COMMIT, or an error
    /// that ends the whole transaction); nothing of the batch was recorded
    /// and every sign-in in it failed. An item's `Err`: as
    /// [`Store::authenticate`]'s, for that sign-in only.
    pub fn authenticate_batch(
        &self,
        batch: &[(AuthRequest<'_>, VerifyContext)],
        now: UnixTime,
    ) -> Result<Vec<Result<AuthOutcome, Error>>, Error> {
        let out = self.batch_in(batch, now, |f| self.pool.run(Mode::Write, f).map(Some))?;
        // Not reached: `run` always runs the transaction.
        out.ok_or(Error::CommitFailed)
    }

    /// [`Store::authenticate_batch`], but only if its transaction can start
    /// at once: `Ok(None)` means nothing was decided or recorded, because
    /// the write would have had to wait for another writer (another
    /// thread's sign-ins, an import by another process), or the store is
    /// PostgreSQL (where every statement waits for the server). For a
    /// caller that must not block, e.g. a server's receive loop, which then
    /// hands the batch to a thread that may wait. `Ok(Some(_))`: exactly
    /// as `authenticate_batch`, returned after its own COMMIT.
    ///
    /// ```
    /// use mfa_oath::UnixTime;
    /// use mfa_store::{AuthRequest, MasterKey, Presented, Store, VerifyContext};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("mfa.db");
    /// let store = Store::open(&format!("sqlite:{}", path.display()), &MasterKey::new(1, [7; 32]))?;
    /// let now = UnixTime::from_secs(1_700_000_000);
    /// let batch = [(
    ///     AuthRequest::new("nobody", Presented::OathCode("123456")),
    ///     VerifyContext::new("radius-1", "10.0.0.1".parse()?)?,
    /// )];
    /// // Another process holds the write lock: nothing is done.
    /// let other = rusqlite::Connection::open(&path)?;
    /// other.execute_batch("BEGIN IMMEDIATE")?;
    /// assert!(store.try_authenticate_batch(&batch, now)?.is_none());
    /// assert_eq!(store.stats()?.auth_events, 0);
    /// other.execute_batch("COMMIT")?;
    /// // Now it is decided (and logged) at once.
    /// let decided = store.try_authenticate_batch(&batch, now)?.expect("not busy");
    /// assert!(decided[0].as_ref().is_ok_and(|o| !o.is_approved()));
    /// assert_eq!(store.stats()?.auth_events, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::authenticate_batch`].
    pub fn try_authenticate_batch(
        &self,
        batch: &[(AuthRequest<'_>, VerifyContext)],
        now: UnixTime,
    ) -> Result<Option<Vec<Result<AuthOutcome, Error>>>, Error> {
        self.batch_in(batch, now, |f| self.pool.try_write(f))
    }

    /// The body of both batch calls: `run` runs the transaction (or,
    /// returning `Ok(None)`, does not, and neither does this).
    fn batch_in(
        &self,
        batch: &[(AuthRequest<'_>, VerifyContext)],
        now: UnixTime,
        run: impl FnOnce(
            &mut dyn FnMut(&mut dyn Tx) -> Result<Vec<Option<SignedIn>>, Error>,
        ) -> Result<Option<Vec<Option<SignedIn>>>, Error>,
    ) -> Result<Option<Vec<Result<AuthOutcome, Error>>>, Error> {
        let prepared: Vec<Result<Prepared, Error>> =
            batch.iter().map(|(req, _)| self.prepare(req)).collect();
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|a, b| {
            let user = |i: &usize| batch.get(*i).map(|(r, _)| r.user);
            user(a).cmp(&user(b))
        });
        let in_tx = prepared.iter().filter(|p| p.is_ok()).count();
        let mut decided = if in_tx == 0 {
            Vec::new()
        } else {
            let body = &mut |tx: &mut dyn Tx| {
                let mut decided: Vec<Option<SignedIn>> = (0..batch.len()).map(|_| None).collect();
                for &i in &order {
                    let (Some((req, ctx)), Some(Ok(prep)), Some(slot)) =
                        (batch.get(i), prepared.get(i), decided.get_mut(i))
                    else {
                        continue;
                    };
                    let mut d =
                        savepoint(tx, "sign_in", |tx| self.sign_in(tx, req, prep, now, ctx))?;
                    if let Err(Error::TokenTampered { serial }) = &d {
                        // Recorded as Store::authenticate records it, in
                        // this transaction (its own savepoint: the sign-in's
                        // writes were rolled back with its own).
                        let serial = serial.clone();
                        let mode = req.presented.mode();
                        if let Err(e) = savepoint(tx, "tampered", |tx| {
                            self.tampering(tx, req.user, &serial, mode, now, ctx)
                        })? {
                            d = Err(e);
                        }
                    }
                    *slot = Some(d);
                }
                Ok(decided)
            };
            match run(body)? {
                Some(d) => d,
                None => return Ok(None),
            }
        };
        decided.resize_with(batch.len(), || None);
        let mut out = Vec::with_capacity(batch.len());
        for (prep, decided) in prepared.into_iter().zip(decided) {
            out.push(match (prep, decided) {
                (Err(e), _) => Err(e),
                (Ok(_), Some(d)) => d,
                // Not reached: every prepared sign-in was decided.
                (Ok(_), None) => Err(Error::CommitFailed),
            });
        }
        Ok(Some(out))
    }

    /// What a sign-in computes before its transaction: the user id check,
    /// the keyed hashes of what it carries and a new device token (so no
    /// HMAC or random draw runs while the writer is held).
    fn prepare(&self, req: &AuthRequest<'_>) -> Result<Prepared, Error> {
        super::check_user_id(req.user).map_err(Error::Record)?;
        let user = req.user;
        let hashes = Hashes {
            device: req
                .device_token
                .filter(|_| self.config.remember_device_days > 0)
                .map(|t| self.keys().code_hash("device", user, t)),
            presented: match req.presented {
                Presented::AppPassword(p) => Some(self.keys().code_hash("app-password", user, p)),
                Presented::OneTimeCode { channel, code } => {
                    Some(self.keys().code_hash(channel.as_str(), user, code))
                }
                _ => None,
            },
        };
        let new_device = if req.remember_device && self.config.remember_device_days > 0 {
            let token = crate::crypto::random_token()?;
            let hash = self.keys().code_hash("device", user, token.expose());
            Some((token, hash))
        } else {
            None
        };
        Ok(Prepared { hashes, new_device })
    }

    /// One sign-in inside the write transaction: steps 1–6, the device
    /// remembered, the log event.
    fn sign_in(
        &self,
        tx: &mut dyn Tx,
        req: &AuthRequest<'_>,
        prepared: &Prepared,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<AuthOutcome, Error> {
        let user = req.user;
        let (mut outcome, logged, profile) = self.decide(tx, req, &prepared.hashes, now, ctx)?;
        if let (AuthOutcome::Approved { by, device_token }, Some((token, hash))) =
            (&mut outcome, &prepared.new_device)
        {
            // Only a second factor remembers a device.
            if matches!(
                by,
                ApprovedBy::OathCode { .. } | ApprovedBy::OneTimeCode { .. }
            ) {
                self.store_device(tx, user, hash, now)?;
                *device_token = Some(token.clone());
            }
        }
        if let Some((result, serial)) = outcome.log_parts().filter(|_| !logged) {
            let mode = match &outcome {
                AuthOutcome::Approved {
                    by: ApprovedBy::TrustedIp { .. },
                    ..
                } => AuthMode::TrustedIp,
                AuthOutcome::Approved {
                    by: ApprovedBy::RememberedDevice,
                    ..
                } => AuthMode::RememberedDevice,
                _ => req.presented.mode(),
            };
            log_event(
                tx,
                &self.config.fields,
                now,
                user,
                profile.as_ref(),
                mode,
                result,
                serial,
                ctx,
            )?;
        }
        Ok(outcome)
    }

    /// After a sign-in's transaction (committed, or rolled back with its
    /// error): a sign-in refused because of a tampered token row is still
    /// recorded.
    fn after_sign_in(
        &self,
        req: &AuthRequest<'_>,
        decided: Result<AuthOutcome, Error>,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<AuthOutcome, Error> {
        if let Err(Error::TokenTampered { serial }) = &decided {
            // The sign-in is refused with the error; the attempt and the
            // tampered row are still recorded, in a transaction of their own.
            self.record_tampering(req.user, serial, req.presented.mode(), now, ctx)?;
        }
        decided
    }

    /// Logs a sign-in refused because a token row was changed without the
    /// key, and puts it in the audit log.
    fn record_tampering(
        &self,
        user: &str,
        serial: &str,
        mode: AuthMode,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<(), Error> {
        self.pool.run(Mode::Write, |tx| {
            self.tampering(tx, user, serial, mode, now, ctx)
        })
    }

    /// [`Store::record_tampering`]'s writes, in the caller's transaction.
    fn tampering(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        serial: &str,
        mode: AuthMode,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<(), Error> {
        let profile = lock_user(tx, user)?.map(|(p, _)| p);
        log_event(
            tx,
            &self.config.fields,
            now,
            user,
            profile.as_ref(),
            mode,
            AuthResult::Denied(DenialReason::TokenMisconfigured),
            Some(serial),
            ctx,
        )?;
        super::audit(tx, now, Some(user), "token_tampered", None, Some(serial))
    }

    /// Steps 1–6 of the entry point; the caller writes the log event
    /// unless the returned flag says it is written already (an OATH
    /// approval's, with the step it consumed).
    fn decide(
        &self,
        tx: &mut dyn Tx,
        req: &AuthRequest<'_>,
        hashes: &Hashes,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<(AuthOutcome, bool, Option<UserProfile>), Error> {
        let user = req.user;
        let class = req.presented.class();
        // 1. The user row, locked; fraud state and the factor's lockout (and
        // the trusted ranges, read now to save a round trip, looked at in 4).
        let Some(state) = sign_in_state(tx, user, class, ctx.client_ip.is_some())? else {
            return Ok((AuthOutcome::denied(DenialReason::UnknownUser), false, None));
        };
        let (outcome, logged) = self.decide_for(tx, req, hashes, &state, now, ctx)?;
        Ok((outcome, logged, Some(state.profile)))
    }

    /// Steps 2–6 for a user who exists; the flag: the outcome's log event
    /// is written already.
    fn decide_for(
        &self,
        tx: &mut dyn Tx,
        req: &AuthRequest<'_>,
        hashes: &Hashes,
        state: &SignInState,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<(AuthOutcome, bool), Error> {
        let SignInState {
            profile,
            fraud,
            lock,
            trusted,
        } = state;
        let lock = *lock;
        let user = req.user;
        let class = req.presented.class();
        // 2. Fraud block and high risk: the presented factor is not looked at.
        if let Some(reason) = fraud_denial(fraud.check(now)) {
            return Ok((AuthOutcome::denied(reason), false));
        }
        // 3. Lockout of the factor's class: not checked; the lock is
        // extended only when the policy says so.
        if let Some(c) = class {
            let policy = self.config.lockout.get(c);
            if let Some(reason) = lock_denial(lock.check(policy, now)) {
                if policy.extend_while_locked() {
                    let (next, _) = lock.record_failure(policy, now).map_err(Error::Lockout)?;
                    save_lock(tx, user, c, &next)?;
                }
                return Ok((AuthOutcome::denied(reason), false));
            }
        }
        // 4. Bypass, only when on and the user is not locked in any class.
        if let Some(by) = self.bypass(tx, user, hashes, trusted.as_deref(), now, ctx)? {
            if let Some(reason) = self.any_lock(tx, user, now)? {
                return Ok((AuthOutcome::denied(reason), false));
            }
            fraud.ensure_can_approve(now).map_err(Error::Fraud)?;
            return Ok((
                AuthOutcome::Approved {
                    by,
                    device_token: None,
                },
                false,
            ));
        }
        // 5. The factor.
        let (class, checked) = match req.presented {
            Presented::Nothing => {
                return Ok((self.second_factor_needed(tx, user, profile, now)?, false));
            }
            Presented::OathCode(code) => {
                // The approval's log event, written with the step it consumes.
                let approval = |serial: &str| {
                    LogRow::new(
                        &self.config.fields,
                        now,
                        user,
                        Some(profile),
                        req.presented.mode(),
                        AuthResult::Success,
                        Some(serial),
                        ctx,
                    )
                };
                (
                    FactorClass::Otp,
                    self.check_oath(tx, user, code, &approval, now)?,
                )
            }
            Presented::AppPassword(_) => (
                FactorClass::AppPassword,
                self.check_app_password(tx, user, hashes)?,
            ),
            Presented::OneTimeCode { channel, .. } => (
                channel.class(),
                self.check_code(tx, user, channel, hashes, now)?,
            ),
        };
        // 6. Counters.
        let policy = self.config.lockout.get(class);
        match checked.counts {
            Some(true) if lock != LockoutState::new() => {
                // Also the approval-time re-check of the lock.
                let (next, _) = lock.record_success(policy, now).map_err(Error::Lockout)?;
                save_lock(tx, user, class, &next)?;
            }
            Some(true) | None => {}
            Some(false) => {
                let (next, _) = lock.record_failure(policy, now).map_err(Error::Lockout)?;
                save_lock(tx, user, class, &next)?;
            }
        }
        if checked.outcome.is_approved() {
            // Approval-time re-check of the fraud state too.
            fraud.ensure_can_approve(now).map_err(Error::Fraud)?;
        }
        Ok((checked.outcome, checked.logged))
    }

    /// A trusted client IP (when ranges are configured) or a remembered
    /// device (when `remember_device.days` is not 0).
    fn bypass(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        hashes: &Hashes,
        trusted: Option<&[Cidr]>,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<Option<ApprovedBy>, Error> {
        if let (Some(ip), Some(ranges)) = (ctx.client_ip, trusted)
            && let Some(range) = ranges.iter().find(|r| r.contains(ip))
        {
            return Ok(Some(ApprovedBy::TrustedIp { range: *range }));
        }
        if let Some(hash) = &hashes.device {
            let found = tx.query_opt(
                "devices",
                "SELECT expires_at FROM devices WHERE user_id = $1 AND hash = $2 AND expires_at > $3",
                &[user.into(), Val::Blob(hash.clone()), int(now.secs())],
            )?;
            if found.is_some() {
                return Ok(Some(ApprovedBy::RememberedDevice));
            }
        }
        Ok(None)
    }

    /// The denial for the first locked factor class of `user`, if any.
    fn any_lock(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        now: UnixTime,
    ) -> Result<Option<DenialReason>, Error> {
        for class in FactorClass::ALL {
            let state = load_lock(tx, user, class)?;
            if let Some(reason) = lock_denial(state.check(self.config.lockout.get(class), now)) {
                return Ok(Some(reason));
            }
        }
        Ok(None)
    }

    /// Nothing presented and no bypass: what the user can answer a
    /// challenge with (factors whose class is locked are left out).
    fn second_factor_needed(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        profile: &UserProfile,
        now: UnixTime,
    ) -> Result<AuthOutcome, Error> {
        let mut methods = Vec::new();
        let mut locked = None;
        let mut usable = |class: FactorClass, tx: &mut dyn Tx| -> Result<bool, Error> {
            let state = load_lock(tx, user, class)?;
            match lock_denial(state.check(self.config.lockout.get(class), now)) {
                None => Ok(true),
                Some(reason) => {
                    locked.get_or_insert(reason);
                    Ok(false)
                }
            }
        };
        let rows = tx.query(
            "tokens",
            "SELECT serial, kind FROM live_tokens WHERE user_id = $1 AND active = 1 ORDER BY serial",
            &[user.into()],
        )?;
        if !rows.is_empty() && usable(FactorClass::Otp, tx)? {
            for r in &rows {
                methods.push(Method::Oath {
                    serial: r.text(0, "serial")?,
                    totp: r.text(1, "kind")? == "totp",
                });
            }
        }
        if let Some(phone) = profile
            .phone
            .as_deref()
            .and_then(|p| PhoneNumber::new(p).ok())
            && (usable(FactorClass::SmsCode, tx)? || usable(FactorClass::VoiceCall, tx)?)
        {
            methods.push(Method::Phone {
                masked: phone.masked(),
            });
        }
        Ok(match (methods.is_empty(), locked) {
            (false, _) => AuthOutcome::SecondFactorNeeded(methods),
            (true, Some(reason)) => AuthOutcome::denied(reason),
            (true, None) => AuthOutcome::denied(DenialReason::NotActivated),
        })
    }

    fn store_device(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        hash: &[u8],
        now: UnixTime,
    ) -> Result<(), Error> {
        let expires = now
            .secs()
            .saturating_add(u64::from(self.config.remember_device_days) * 86_400);
        tx.exec(
            "INSERT INTO devices (user_id, hash, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, hash) DO UPDATE SET expires_at = excluded.expires_at",
            &[user.into(), Val::Blob(hash.to_vec()), int(expires)],
        )?;
        Ok(())
    }

    fn check_app_password(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        hashes: &Hashes,
    ) -> Result<Checked, Error> {
        let Some(hash) = &hashes.presented else {
            return Ok(Checked::failure(DenialReason::CodeWrong));
        };
        let rows = tx.query(
            "app_passwords",
            "SELECT name, hash FROM app_passwords WHERE user_id = $1 ORDER BY name",
            &[user.into()],
        )?;
        if rows.is_empty() {
            return Ok(Checked::failure(DenialReason::NotActivated));
        }
        // Every stored hash is compared, so the time does not say which matched.
        let mut found = None;
        for r in &rows {
            let stored = r.blob(1, "hash")?;
            if bool::from(stored.as_slice().ct_eq(hash.as_slice())) && found.is_none() {
                found = Some(r.text(0, "name")?);
            }
        }
        Ok(match found {
            Some(name) => Checked::success(ApprovedBy::AppPassword { name }),
            None => Checked::failure(DenialReason::CodeWrong),
        })
    }

    fn check_code(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        channel: Channel,
        hashes: &Hashes,
        now: UnixTime,
    ) -> Result<Checked, Error> {
        let Some(hash) = &hashes.presented else {
            return Ok(Checked::failure(DenialReason::CodeWrong));
        };
        let sql = format!(
            "SELECT hash, expires_at, consumed_at, created_at FROM one_time_codes \
             WHERE user_id = $1 AND channel = $2{}",
            tx.for_update()
        );
        let Some(r) = tx.query_opt(
            "one_time_codes",
            &sql,
            &[user.into(), channel.as_str().into()],
        )?
        else {
            return Ok(Checked::failure(DenialReason::CodeWrong));
        };
        let matches: bool = r.blob(0, "hash")?.as_slice().ct_eq(hash.as_slice()).into();
        // A one-time code's "step" is the time it was created.
        let replayed = DenialReason::CodeReplayed {
            step: r.u64(3, "created_at")?,
        };
        let reason = if !matches {
            DenialReason::CodeWrong
        } else if r.opt_i64(2, "consumed_at")?.is_some() {
            replayed
        } else if now.secs() >= r.u64(1, "expires_at")? {
            DenialReason::CodeExpired
        } else {
            let n = tx.exec(
                "UPDATE one_time_codes SET consumed_at = $1 \
                 WHERE user_id = $2 AND channel = $3 AND consumed_at IS NULL",
                &[int(now.secs()), user.into(), channel.as_str().into()],
            )?;
            if n == 1 {
                return Ok(Checked::success(ApprovedBy::OneTimeCode { channel }));
            }
            replayed
        };
        Ok(Checked::failure(reason))
    }

    /// Verifies an OATH code for `user` at `now`: [`Store::authenticate`]
    /// with [`Presented::OathCode`], as a [`VerifyOutcome`]. A trusted
    /// client IP in `ctx` approves without the code, as for every sign-in.
    ///
    /// # Errors
    /// As [`Store::authenticate`].
    pub fn verify(
        &self,
        user: &str,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        let req = AuthRequest::new(user, Presented::OathCode(code));
        Ok(self.authenticate(&req, now, ctx)?.to_verify_outcome())
    }

    /// Verifies a one-time code: [`Store::authenticate`] with
    /// [`Presented::OneTimeCode`], as a [`VerifyOutcome`]. A code is
    /// consumed at most once, from any server.
    ///
    /// # Errors
    /// As [`Store::authenticate`].
    pub fn verify_code(
        &self,
        user: &str,
        channel: Channel,
        code: &str,
        now: UnixTime,
        ctx: &VerifyContext,
    ) -> Result<VerifyOutcome, Error> {
        let req = AuthRequest::new(user, Presented::OneTimeCode { channel, code });
        Ok(self.authenticate(&req, now, ctx)?.to_verify_outcome())
    }

    fn check_oath(
        &self,
        tx: &mut dyn Tx,
        user: &str,
        code: &str,
        approval: &dyn Fn(&str) -> Result<LogRow, Error>,
        now: UnixTime,
    ) -> Result<Checked, Error> {
        let sql = format!(
            "SELECT {TOKEN_COLS} FROM live_tokens WHERE user_id = $1 AND active = 1 ORDER BY serial{}",
            tx.for_update()
        );
        let rows = tx.query("tokens", &sql, &[user.into()])?;
        if rows.is_empty() {
            return Ok(Checked::failure(DenialReason::NotActivated));
        }
        let keys = self.keys();
        // Of several tokens' refusals, report the most telling: a replay,
        // then a wrong code, then a malformed one.
        let mut best: Option<(u8, DenialReason, Option<String>)> = None;
        for r in &rows {
            let t = token_from_row(r)?;
            // A row changed without the key is never used (the caller logs it).
            t.verify(&keys)?;
            if !t.valid_at(now) {
                // RFC 6030 §5: a key outside its validity period is not
                // used; its code is not even checked.
                if best.as_ref().is_none_or(|(r, _, _)| 1 > *r) {
                    best = Some((1, DenialReason::KeyOutsideValidity, Some(t.serial)));
                }
                continue;
            }
            let refusal = match t.check(&keys, code, now, &self.config)? {
                Ok(step) => {
                    if consume_step(tx, &keys, &t, step, &approval(&t.serial)?)? {
                        return Ok(Checked {
                            logged: true,
                            ..Checked::success(ApprovedBy::OathCode {
                                serial: t.serial,
                                step,
                            })
                        });
                    }
                    // Another server consumed it first.
                    mfa_oath::Error::CodeReplayed { step }
                }
                Err(e) => e,
            };
            let rank = match refusal {
                mfa_oath::Error::CodeReplayed { .. } => 3,
                mfa_oath::Error::CodeNotInWindow => 2,
                mfa_oath::Error::CodeFormat { .. } => 0,
                _ => 1,
            };
            if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                best = Some((rank, DenialReason::from(&refusal), Some(t.serial)));
            }
        }
        let (reason, serial) = best
            .map(|(_, r, s)| (r, s))
            .unwrap_or((DenialReason::CodeWrong, None));
        let step = match reason {
            DenialReason::CodeReplayed { step } => Some(step),
            _ => None,
        };
        let serial = if step.is_some() { serial } else { None };
        Ok(Checked {
            outcome: AuthOutcome::Denied {
                reason,
                serial,
                step,
            },
            counts: Some(false),
            logged: false,
        })
    }
}
