//! HOTP (RFC 4226) and TOTP (RFC 6238): generation, verification in a
//! window with replay protection, and resynchronisation.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::{Algorithm, Digits, Error, Period, Secret, UnixTime};

/// A one-time code: a value and its number of digits. `Display` pads with
/// leading zeros.
///
/// ```
/// use mfa_oath::{Code, Digits};
/// let c = Code::parse("012345", Digits::SIX)?;
/// assert_eq!(c.to_string(), "012345");
/// assert_eq!(c.value(), 12345);
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    value: u32,
    digits: Digits,
}

impl Code {
    /// Parses a code as a user types it: exactly `digits` ASCII digits; ASCII
    /// spaces between them are ignored (apps show `123 456`).
    ///
    /// # Errors
    /// [`Error::CodeFormat`] for any other length or character.
    pub fn parse(text: &str, digits: Digits) -> Result<Code, Error> {
        let bad = Error::CodeFormat {
            expected: digits.get(),
        };
        let mut value: u32 = 0;
        let mut n: u8 = 0;
        for b in text.bytes() {
            match b {
                b' ' => {}
                b'0'..=b'9' => {
                    n += 1;
                    if n > digits.get() {
                        return Err(bad);
                    }
                    value = value * 10 + u32::from(b - b'0');
                }
                _ => return Err(bad),
            }
        }
        if n != digits.get() {
            return Err(bad);
        }
        Ok(Code { value, digits })
    }

    /// The numeric value.
    pub fn value(self) -> u32 {
        self.value
    }

    /// The number of digits.
    pub fn digits(self) -> Digits {
        self.digits
    }

    /// Constant-time comparison of the values.
    fn ct_matches(self, value: u32) -> bool {
        self.value.ct_eq(&value).into()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0width$}",
            self.value,
            width = usize::from(self.digits.get())
        )
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({self})")
    }
}

/// A verification window: how many steps (or counters) behind and ahead of
/// the expected one are tried.
///
/// For TOTP, `behind` allows for network and typing delay and `ahead` for a
/// clock that runs fast. For HOTP, `ahead` is the look-ahead (codes the user
/// generated without using them) and `behind` only decides how far back a
/// replayed code is recognised as "already used" rather than "invalid";
/// already-used counters are never accepted.
///
/// ```
/// use mfa_oath::Window;
/// assert_eq!(Window::TOTP_DEFAULT, Window::new(1, 0)?);
/// assert!(Window::new(0, 5000).is_err());
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    behind: u32,
    ahead: u32,
}

impl Window {
    /// The most steps allowed on either side in a verification window.
    pub const MAX: u32 = 1000;
    /// RFC 6238 §5.2: one step back for transmission delay, none ahead.
    pub const TOTP_DEFAULT: Window = Window {
        behind: 1,
        ahead: 0,
    };
    /// HOTP: look ahead up to 10 counters; recognise the last used one as a replay.
    pub const HOTP_DEFAULT: Window = Window {
        behind: 1,
        ahead: 10,
    };

    /// A window of `behind` steps back and `ahead` steps forward.
    ///
    /// # Errors
    /// [`Error::WindowTooLarge`] beyond [`Window::MAX`] on either side.
    pub const fn new(behind: u32, ahead: u32) -> Result<Window, Error> {
        if behind > Window::MAX || ahead > Window::MAX {
            let requested = if behind > ahead { behind } else { ahead };
            return Err(Error::WindowTooLarge {
                requested,
                max: Window::MAX,
            });
        }
        Ok(Window { behind, ahead })
    }

    /// Steps tried behind the expected one.
    pub const fn behind(self) -> u32 {
        self.behind
    }

    /// Steps tried ahead of the expected one.
    pub const fn ahead(self) -> u32 {
        self.ahead
    }
}

/// The most counters or steps searched by a resynchronisation.
pub const MAX_RESYNC_WINDOW: u32 = 100_000;

/// An HMAC keyed once, when the token is constructed; each step clones the
/// keyed state (the inner and outer hash states), so the key schedule is not
/// repeated per verification or per step tried. The state is derived from
/// the secret: it is wiped on drop (hmac's `zeroize` feature) and never
/// printed.
#[derive(Clone)]
enum Keyed {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl fmt::Debug for Keyed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keyed([REDACTED])")
    }
}

impl Keyed {
    fn new(algorithm: Algorithm, secret: &Secret) -> Keyed {
        let key = secret.expose_secret();
        // HMAC accepts keys of any length, so these cannot fail; the
        // fallbacks (an empty key) are unreachable and only avoid a panic path.
        match algorithm {
            Algorithm::Sha1 => Keyed::Sha1(
                Hmac::new_from_slice(key).unwrap_or_else(|_| Hmac::new(&Default::default())),
            ),
            Algorithm::Sha256 => Keyed::Sha256(
                Hmac::new_from_slice(key).unwrap_or_else(|_| Hmac::new(&Default::default())),
            ),
            Algorithm::Sha512 => Keyed::Sha512(
                Hmac::new_from_slice(key).unwrap_or_else(|_| Hmac::new(&Default::default())),
            ),
        }
    }

    /// RFC 4226 §5.3: HMAC over the big-endian counter, dynamic truncation
    /// to 31 bits.
    #[inline]
    fn truncated(&self, counter: u64) -> u32 {
        let msg = counter.to_be_bytes();
        match self {
            Keyed::Sha1(m) => truncate(&mac_once(m, &msg)),
            Keyed::Sha256(m) => truncate(&mac_once(m, &msg)),
            Keyed::Sha512(m) => truncate(&mac_once(m, &msg)),
        }
    }

    #[inline]
    fn value(&self, counter: u64, digits: Digits) -> u32 {
        self.truncated(counter) % digits.modulus()
    }
}

#[inline]
fn mac_once<M: Mac + Clone>(keyed: &M, msg: &[u8]) -> hmac::digest::Output<M> {
    let mut m = keyed.clone();
    m.update(msg);
    m.finalize().into_bytes()
}

#[inline]
fn truncate(hs: &[u8]) -> u32 {
    let offset = usize::from(hs.last().copied().unwrap_or(0) & 0x0f);
    let word = hs
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .unwrap_or([0; 4]);
    u32::from_be_bytes(word) & 0x7fff_ffff
}

/// The parameters of an HOTP token besides its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HotpParams {
    /// The HMAC hash (default SHA-1).
    pub algorithm: Algorithm,
    /// Digits per code (default 6).
    pub digits: Digits,
}

/// The parameters of a TOTP token besides its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TotpParams {
    /// The HMAC hash (default SHA-1).
    pub algorithm: Algorithm,
    /// Digits per code (default 6).
    pub digits: Digits,
    /// Time step (default 30 s).
    pub period: Period,
    /// The time at which step 0 starts (default the Unix epoch).
    pub t0: UnixTime,
}

/// What the verifier remembers about an HOTP token between verifications:
/// the last counter accepted. Store it after every accepted code.
///
/// ```
/// use mfa_oath::HotpState;
/// // A token imported with Counter 42 (the next counter it will use):
/// let s = HotpState::from_next_counter(42);
/// assert_eq!(s.last_counter, Some(41));
/// assert_eq!(s.next_counter(), Some(42));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HotpState {
    /// The last counter whose code was accepted; `None` for a fresh token.
    /// Codes for this counter or any earlier one are never accepted.
    pub last_counter: Option<u64>,
}

impl HotpState {
    /// The state of a token whose next code will be for counter `next`
    /// (the PSKC `Counter` value).
    pub const fn from_next_counter(next: u64) -> HotpState {
        HotpState {
            last_counter: next.checked_sub(1),
        }
    }

    /// The first counter that can still be accepted; `None` once exhausted.
    pub const fn next_counter(self) -> Option<u64> {
        match self.last_counter {
            None => Some(0),
            Some(c) => c.checked_add(1),
        }
    }
}

/// What the verifier remembers about a TOTP token between verifications:
/// the last time step accepted and the token's learned clock drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TotpState {
    /// The last time step whose code was accepted; `None` if none yet.
    /// Codes for this step or any earlier one are never accepted.
    pub last_step: Option<u64>,
    /// The token's clock drift in steps (positive: the token runs ahead),
    /// learned by [`Totp::resync`]. The window is centred on
    /// `current step + drift`.
    pub drift: i64,
}

/// An accepted HOTP code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "store `state`, or the same code can be accepted again"]
pub struct HotpAccepted {
    /// The counter that matched.
    pub counter: u64,
    /// The state to store in place of the old one.
    pub state: HotpState,
}

/// An accepted TOTP code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "store `state`, or the same code can be accepted again"]
pub struct TotpAccepted {
    /// The time step that matched.
    pub step: u64,
    /// How far the matched step is from the current one, in steps
    /// (negative: an older code, e.g. delayed in transit).
    pub drift: i64,
    /// The state to store in place of the old one.
    pub state: TotpState,
}

/// An HOTP (RFC 4226) token: a secret and its parameters.
///
/// ```
/// use mfa_oath::{Hotp, HotpParams, HotpState, Secret, Window};
///
/// let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890")?, HotpParams::default());
/// assert_eq!(hotp.generate(1).to_string(), "287082"); // RFC 4226 Appendix D
///
/// let state = HotpState::default();
/// let ok = hotp.verify("287082", state, Window::HOTP_DEFAULT)?;
/// assert_eq!(ok.counter, 1);
/// // The same code, with the stored state, is a replay:
/// assert!(hotp.verify("287082", ok.state, Window::HOTP_DEFAULT).is_err());
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hotp {
    secret: Secret,
    params: HotpParams,
    keyed: Keyed,
}

impl Hotp {
    /// An HOTP token.
    pub fn new(secret: Secret, params: HotpParams) -> Hotp {
        let keyed = Keyed::new(params.algorithm, &secret);
        Hotp {
            secret,
            params,
            keyed,
        }
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The parameters.
    pub fn params(&self) -> HotpParams {
        self.params
    }

    /// The code for `counter`.
    pub fn generate(&self, counter: u64) -> Code {
        let keyed = &self.keyed;
        Code {
            value: keyed.value(counter, self.params.digits),
            digits: self.params.digits,
        }
    }

    /// Verifies `code` against the counters after `state.last_counter`, up
    /// to `window.ahead()` beyond the next expected one.
    ///
    /// # Errors
    /// [`Error::CodeFormat`] (before any HMAC is computed),
    /// [`Error::CodeReplayed`] if it matches one of the `window.behind()`
    /// most recently used counters, otherwise [`Error::CodeNotInWindow`].
    pub fn verify(
        &self,
        code: &str,
        state: HotpState,
        window: Window,
    ) -> Result<HotpAccepted, Error> {
        let code = Code::parse(code, self.params.digits)?;
        let keyed = &self.keyed;
        let digits = self.params.digits;
        if let Some(next) = state.next_counter() {
            let last = next
                .saturating_add(u64::from(window.ahead))
                .min(u64::MAX - 1);
            for counter in next..=last {
                if code.ct_matches(keyed.value(counter, digits)) {
                    return Ok(HotpAccepted {
                        counter,
                        state: HotpState {
                            last_counter: Some(counter),
                        },
                    });
                }
            }
        }
        if let Some(used) = state.last_counter {
            let first = used.saturating_sub(u64::from(window.behind).saturating_sub(1));
            for counter in (first..=used).rev().take(window.behind as usize) {
                if code.ct_matches(keyed.value(counter, digits)) {
                    return Err(Error::CodeReplayed { step: counter });
                }
            }
        }
        Err(Error::CodeNotInWindow)
    }

    /// Resynchronises a token that has drifted far ahead (RFC 4226 §7.4):
    /// finds `codes.len()` (2 or 3) consecutive counters, the first within
    /// `window` counters after the last accepted one, that produce exactly
    /// these codes. The returned state has the last of them as used.
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`], [`Error::WindowTooLarge`] above
    /// [`MAX_RESYNC_WINDOW`], [`Error::CodeFormat`], [`Error::ResyncFailed`].
    ///
    /// ```
    /// use mfa_oath::{Hotp, HotpParams, HotpState, Secret};
    /// let hotp = Hotp::new(Secret::from_bytes(b"12345678901234567890")?, HotpParams::default());
    /// // RFC 4226 Appendix D, counters 3 and 4:
    /// let ok = hotp.resync(&["969429", "338314"], HotpState::default(), 100)?;
    /// assert_eq!(ok.counter, 4);
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn resync(
        &self,
        codes: &[&str],
        state: HotpState,
        window: u32,
    ) -> Result<HotpAccepted, Error> {
        let parsed = parse_resync_codes(codes, self.params.digits)?;
        check_resync_window(window)?;
        let next = state.next_counter().ok_or(Error::CounterOverflow)?;
        let keyed = &self.keyed;
        let n = parsed.len() as u64;
        let last_first = next.saturating_add(u64::from(window)).min(u64::MAX - n);
        for first in next..=last_first {
            if consecutive_match(keyed, self.params.digits, first, &parsed) {
                let counter = first + n - 1;
                return Ok(HotpAccepted {
                    counter,
                    state: HotpState {
                        last_counter: Some(counter),
                    },
                });
            }
        }
        Err(Error::ResyncFailed)
    }
}

/// A TOTP (RFC 6238) token: a secret and its parameters.
///
/// ```
/// use mfa_oath::{Secret, Totp, TotpParams, TotpState, UnixTime, Window};
///
/// let totp = Totp::new(Secret::from_base32("JBSWY3DPEHPK3PXP")?, TotpParams::default());
/// let now = UnixTime::from_secs(1_700_000_000);
/// let code = totp.generate(now)?.to_string();
///
/// let state = TotpState::default(); // from your store
/// let ok = totp.verify(&code, now, state, Window::TOTP_DEFAULT)?;
/// // store ok.state; the same code is now refused:
/// let again = totp.verify(&code, now, ok.state, Window::TOTP_DEFAULT);
/// assert!(matches!(again, Err(mfa_oath::Error::CodeReplayed { .. })));
/// # Ok::<(), mfa_oath::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Totp {
    secret: Secret,
    params: TotpParams,
    keyed: Keyed,
}

impl Totp {
    /// A TOTP token.
    pub fn new(secret: Secret, params: TotpParams) -> Totp {
        let keyed = Keyed::new(params.algorithm, &secret);
        Totp {
            secret,
            params,
            keyed,
        }
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The parameters.
    pub fn params(&self) -> TotpParams {
        self.params
    }

    /// The time step at `now`: `floor((now - T0) / period)`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`].
    pub fn step_at(&self, now: UnixTime) -> Result<u64, Error> {
        let t0 = self.params.t0.secs();
        let since = now.secs().checked_sub(t0).ok_or(Error::TimeBeforeT0 {
            now: now.secs(),
            t0,
        })?;
        Ok(since / self.params.period.seconds())
    }

    /// The code shown at `now`.
    ///
    /// # Errors
    /// [`Error::TimeBeforeT0`].
    pub fn generate(&self, now: UnixTime) -> Result<Code, Error> {
        Ok(self.generate_at_step(self.step_at(now)?))
    }

    /// The code for time step `step`.
    pub fn generate_at_step(&self, step: u64) -> Code {
        let keyed = &self.keyed;
        Code {
            value: keyed.value(step, self.params.digits),
            digits: self.params.digits,
        }
    }

    /// Verifies `code` at `now`, trying the steps of `window` around
    /// `current step + state.drift`, nearest first (and of two at equal
    /// distance, the older). Steps at or before `state.last_step` are never
    /// accepted.
    ///
    /// # Errors
    /// [`Error::CodeFormat`] (before any HMAC is computed),
    /// [`Error::TimeBeforeT0`], [`Error::CodeReplayed`] if the code matches
    /// an already-used step in the window, otherwise
    /// [`Error::CodeNotInWindow`].
    pub fn verify(
        &self,
        code: &str,
        now: UnixTime,
        state: TotpState,
        window: Window,
    ) -> Result<TotpAccepted, Error> {
        let code = Code::parse(code, self.params.digits)?;
        let current = self.step_at(now)?;
        let center = offset_step(current, state.drift);
        let keyed = &self.keyed;
        let digits = self.params.digits;
        let usable = |step: u64| state.last_step.is_none_or(|last| step > last);

        let mut replayed = None;
        let max = window.behind.max(window.ahead);
        for distance in 0..=max {
            // Older first at equal distance: delay is likelier than a fast clock.
            let older = if distance <= window.behind {
                center.checked_sub(u64::from(distance))
            } else {
                None
            };
            let newer = if distance > 0 && distance <= window.ahead {
                center.checked_add(u64::from(distance))
            } else {
                None
            };
            for step in [older, newer].into_iter().flatten() {
                if !usable(step) {
                    // Only worth an HMAC to tell "already used" from "wrong".
                    if replayed.is_none() && code.ct_matches(keyed.value(step, digits)) {
                        replayed = Some(step);
                    }
                    continue;
                }
                if code.ct_matches(keyed.value(step, digits)) {
                    return Ok(TotpAccepted {
                        step,
                        drift: step_diff(step, current),
                        state: TotpState {
                            last_step: Some(step),
                            drift: state.drift,
                        },
                    });
                }
            }
        }
        match replayed {
            Some(step) => Err(Error::CodeReplayed { step }),
            None => Err(Error::CodeNotInWindow),
        }
    }

    /// Learns a token's clock drift from two consecutive codes (the second
    /// shown at `now`): finds steps `s, s+1` within `window` steps of
    /// `current step + state.drift` that produce them, after the last
    /// accepted step. The returned state stores the new drift and `s+1` as
    /// the last used step.
    ///
    /// # Errors
    /// [`Error::ResyncCodeCount`] unless 2 codes, [`Error::WindowTooLarge`]
    /// above [`MAX_RESYNC_WINDOW`], [`Error::CodeFormat`],
    /// [`Error::TimeBeforeT0`], [`Error::ResyncFailed`].
    ///
    /// ```
    /// use mfa_oath::{Secret, Totp, TotpParams, TotpState, UnixTime};
    /// let totp = Totp::new(Secret::from_bytes(b"12345678901234567890")?, TotpParams::default());
    /// let now = UnixTime::from_secs(1_000_000_000);
    /// // The token's clock is 5 steps (2.5 minutes) ahead.
    /// let step = totp.step_at(now)? + 5;
    /// let (a, b) = (totp.generate_at_step(step - 1), totp.generate_at_step(step));
    /// let ok = totp.resync(&[&a.to_string(), &b.to_string()], now, TotpState::default(), 20)?;
    /// assert_eq!(ok.state.drift, 5);
    /// # Ok::<(), mfa_oath::Error>(())
    /// ```
    pub fn resync(
        &self,
        codes: &[&str],
        now: UnixTime,
        state: TotpState,
        window: u32,
    ) -> Result<TotpAccepted, Error> {
        if codes.len() != 2 {
            return Err(Error::ResyncCodeCount(codes.len()));
        }
        let parsed = parse_resync_codes(codes, self.params.digits)?;
        check_resync_window(window)?;
        let current = self.step_at(now)?;
        let center = offset_step(current, state.drift);
        let keyed = &self.keyed;
        for distance in 0..=u64::from(window) {
            for second in [center.checked_sub(distance), center.checked_add(distance)]
                .into_iter()
                .flatten()
                .take(if distance == 0 { 1 } else { 2 })
            {
                let Some(first) = second.checked_sub(1) else {
                    continue;
                };
                if state.last_step.is_some_and(|last| first <= last) {
                    continue;
                }
                if consecutive_match(keyed, self.params.digits, first, &parsed) {
                    return Ok(TotpAccepted {
                        step: second,
                        drift: step_diff(second, current),
                        state: TotpState {
                            last_step: Some(second),
                            drift: step_diff(second, current),
                        },
                    });
                }
            }
        }
        Err(Error::ResyncFailed)
    }
}

fn parse_resync_codes(codes: &[&str], digits: Digits) -> Result<heapless_codes::Codes, Error> {
    if !(2..=3).contains(&codes.len()) {
        return Err(Error::ResyncCodeCount(codes.len()));
    }
    let mut out = heapless_codes::Codes::default();
    for c in codes {
        out.push(Code::parse(c, digits)?);
    }
    Ok(out)
}

fn check_resync_window(window: u32) -> Result<(), Error> {
    if window > MAX_RESYNC_WINDOW {
        return Err(Error::WindowTooLarge {
            requested: window,
            max: MAX_RESYNC_WINDOW,
        });
    }
    Ok(())
}

fn consecutive_match(
    keyed: &Keyed,
    digits: Digits,
    first: u64,
    codes: &heapless_codes::Codes,
) -> bool {
    codes.iter().enumerate().all(|(i, c)| {
        first
            .checked_add(i as u64)
            .is_some_and(|counter| c.ct_matches(keyed.value(counter, digits)))
    })
}

fn offset_step(step: u64, drift: i64) -> u64 {
    if drift >= 0 {
        step.saturating_add(drift.unsigned_abs())
    } else {
        step.saturating_sub(drift.unsigned_abs())
    }
}

fn step_diff(a: u64, b: u64) -> i64 {
    if a >= b {
        i64::try_from(a - b).unwrap_or(i64::MAX)
    } else {
        i64::try_from(b - a).map_or(i64::MIN, |d| -d)
    }
}

/// A fixed-capacity list of up to three codes, so resynchronisation does
/// not allocate.
mod heapless_codes {
    use super::Code;

    #[derive(Default)]
    pub(super) struct Codes {
        items: [Option<Code>; 3],
    }

    impl Codes {
        pub(super) fn push(&mut self, c: Code) {
            if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
                *slot = Some(c);
            }
        }

        pub(super) fn len(&self) -> usize {
            self.items.iter().flatten().count()
        }

        pub(super) fn iter(&self) -> impl Iterator<Item = Code> + '_ {
            self.items.iter().flatten().copied()
        }
    }
}
