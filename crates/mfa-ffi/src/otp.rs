//! `mfa_hotp` and `mfa_totp`: generate and verify codes, with the verifier's
//! state (last accepted counter or step) passed in and handed back out.

use core::ffi::c_char;

use mfa_oath::{
    Digits, Hotp, HotpParams, HotpState, Period, Totp, TotpParams, TotpState, UnixTime, Window,
};

use crate::error::mfa_result;
use crate::ffi::{flag_in, free_box, read_in, str_in, text_out, to_raw, write_out};
use crate::secret::{algorithm_from_u32, mfa_secret};

/// An HOTP (RFC 4226) token: a copy of a secret plus algorithm and digits
/// (opaque). Created by `mfa_hotp_new` or `mfa_otpauth_uri_to_hotp`, freed
/// (secret wiped) by `mfa_hotp_free`. Immutable: any number of threads may
/// use it at once.
pub struct mfa_hotp {
    pub(crate) inner: Hotp,
}

/// A TOTP (RFC 6238) token: a copy of a secret plus algorithm, digits,
/// period and T0 (opaque). Created by `mfa_totp_new` or
/// `mfa_otpauth_uri_to_totp`, freed (secret wiped) by `mfa_totp_free`.
/// Immutable: any number of threads may use it at once.
pub struct mfa_totp {
    pub(crate) inner: Totp,
}

/// What a verifier stores about an HOTP token between verifications.
/// A fresh token: `{ 0, 0 }`. Store the `out_state` of every accepted
/// code; codes for `last_counter` or earlier are never accepted again.
///
/// `has_last_counter` is a `uint8_t`, not a `bool`, so that a state rebuilt
/// from a database column can hold any byte without undefined behaviour:
/// a value other than 0 or 1 is refused with `MFA_RESULT_INVALID_FLAG`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_hotp_state {
    /// 1 if a code was accepted yet, else 0.
    pub has_last_counter: u8,
    /// The last counter accepted (meaningful when `has_last_counter`).
    pub last_counter: u64,
}

/// What a verifier stores about a TOTP token between verifications.
/// A fresh token: `{ 0, 0, 0 }`. Store the `out_state` of every accepted
/// code; codes for `last_step` or earlier are never accepted again.
///
/// `has_last_step` is a `uint8_t` (0 or 1; anything else is refused with
/// `MFA_RESULT_INVALID_FLAG`), as in `mfa_hotp_state`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_totp_state {
    /// 1 if a code was accepted yet, else 0.
    pub has_last_step: u8,
    /// The last time step accepted (meaningful when `has_last_step`).
    pub last_step: u64,
    /// The token's learned clock drift in steps (positive: it runs ahead).
    pub drift: i64,
}

impl TryFrom<mfa_hotp_state> for HotpState {
    type Error = mfa_result;

    fn try_from(s: mfa_hotp_state) -> Result<HotpState, mfa_result> {
        Ok(HotpState {
            last_counter: flag_in(s.has_last_counter)?.then_some(s.last_counter),
        })
    }
}

impl From<HotpState> for mfa_hotp_state {
    fn from(s: HotpState) -> mfa_hotp_state {
        mfa_hotp_state {
            has_last_counter: u8::from(s.last_counter.is_some()),
            last_counter: s.last_counter.unwrap_or(0),
        }
    }
}

impl TryFrom<mfa_totp_state> for TotpState {
    type Error = mfa_result;

    fn try_from(s: mfa_totp_state) -> Result<TotpState, mfa_result> {
        Ok(TotpState {
            last_step: flag_in(s.has_last_step)?.then_some(s.last_step),
            drift: s.drift,
        })
    }
}

impl From<TotpState> for mfa_totp_state {
    fn from(s: TotpState) -> mfa_totp_state {
        mfa_totp_state {
            has_last_step: u8::from(s.last_step.is_some()),
            last_step: s.last_step.unwrap_or(0),
            drift: s.drift,
        }
    }
}

/// Reads `count` codes given as parallel arrays of pointers and lengths.
///
/// # Safety
/// `codes` and `code_lens` point to `count` readable elements; each
/// `codes[i]` to `code_lens[i]` readable bytes.
pub(crate) unsafe fn codes_in<'a>(
    codes: *const *const c_char,
    code_lens: *const usize,
    count: usize,
) -> Result<Vec<&'a str>, mfa_result> {
    if count > 3 {
        return Err(mfa_result::ResyncCodeCount);
    }
    check_not_null_result(codes)?;
    check_not_null_result(code_lens)?;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        // SAFETY: `i < count` and both arrays have `count` readable elements.
        let (ptr, len) = unsafe { (codes.add(i).read(), code_lens.add(i).read()) };
        // SAFETY: forwarded contract for each element.
        out.push(unsafe { str_in(ptr, len)? });
    }
    Ok(out)
}

fn check_not_null_result<T>(p: *const T) -> Result<(), mfa_result> {
    if p.is_null() {
        Err(mfa_result::NullParameter)
    } else {
        Ok(())
    }
}

/// Creates an HOTP token from a copy of `secret` (which the caller still
/// owns and frees), an `mfa_algorithm` and a digit count (6..9), and stores
/// it in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_UNKNOWN_ALGORITHM`,
/// `MFA_RESULT_INVALID_DIGITS`.
///
/// # Safety
/// `secret` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_hotp_new(
    secret: *const mfa_secret,
    algorithm: u32,
    digits: u32,
    out: *mut *mut mfa_hotp,
) -> mfa_result {
    ffi_panic_boundary! {
        let secret = try_ref!(secret);
        check_not_null!(out);
        let algorithm = try_result!(algorithm_from_u32(algorithm));
        let digits = try_result!(Digits::new(digits).map_err(mfa_result::from));
        let inner = Hotp::new(secret.inner.clone(), HotpParams { algorithm, digits });
        // SAFETY: `out` checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_hotp { inner })) };
        mfa_result::Ok
    }
}

/// Writes the code for `counter` (zero-padded digits, NUL-terminated) into
/// `buf`; `*out_len` gets the number of digits. A buffer of 10 bytes always
/// suffices.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `hotp` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_hotp_generate(
    hotp: *const mfa_hotp,
    counter: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let hotp = try_ref!(hotp);
        let code = hotp.inner.generate(counter).to_string();
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(code.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Verifies `code` (the token's number of ASCII digits; spaces ignored)
/// against the counters after `state->last_counter`, looking up to `ahead`
/// counters beyond the next expected one; `behind` (0..1000) decides how
/// many already-used counters are recognised as a replay. On success
/// `*out_counter` is the counter that matched and `*out_state` the state to
/// store (`out_state` may point to the same struct as `state`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_FLAG`, `MFA_RESULT_WINDOW_TOO_LARGE`, `MFA_RESULT_CODE_MALFORMED`,
/// `MFA_RESULT_CODE_REPLAYED`, `MFA_RESULT_CODE_NOT_IN_WINDOW`.
///
/// # Safety
/// `hotp` is a live handle; `code` has `code_len` readable bytes; `state` is
/// readable; `out_counter` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_hotp_verify(
    hotp: *const mfa_hotp,
    code: *const c_char,
    code_len: usize,
    state: *const mfa_hotp_state,
    behind: u32,
    ahead: u32,
    out_counter: *mut u64,
    out_state: *mut mfa_hotp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let hotp = try_ref!(hotp);
        check_not_null!(state, out_counter, out_state);
        // SAFETY: forwarded from this function's contract.
        let code = try_result!(unsafe { str_in(code, code_len) });
        // SAFETY: `state` checked non-NULL, readable per the contract.
        let state = try_result!(HotpState::try_from(unsafe { read_in(state) }));
        let window = try_result!(Window::new(behind, ahead).map_err(mfa_result::from));
        match hotp.inner.verify(code, state, window) {
            Ok(ok) => {
                // SAFETY: both checked non-NULL, writable per the contract.
                unsafe {
                    write_out(out_counter, ok.counter);
                    write_out(out_state, ok.state.into());
                }
                mfa_result::Ok
            }
            Err(e) => e.into(),
        }
    }
}

/// Resynchronises an HOTP token that drifted far ahead (RFC 4226 §7.4) from
/// `count` (2 or 3) consecutive codes, given as arrays of pointers and
/// lengths, whose first counter lies within `window` (at most 100000)
/// counters after the last accepted one. On success `*out_counter` is the
/// counter of the last code and `*out_state` the state to store.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_FLAG`, `MFA_RESULT_RESYNC_CODE_COUNT`, `MFA_RESULT_WINDOW_TOO_LARGE`,
/// `MFA_RESULT_CODE_MALFORMED`, `MFA_RESULT_COUNTER_OVERFLOW`,
/// `MFA_RESULT_RESYNC_FAILED`.
///
/// # Safety
/// `hotp` is a live handle; `codes` and `code_lens` have `count` readable
/// elements, each code `code_lens[i]` readable bytes; `state` is readable;
/// `out_counter` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_hotp_resync(
    hotp: *const mfa_hotp,
    codes: *const *const c_char,
    code_lens: *const usize,
    count: usize,
    state: *const mfa_hotp_state,
    window: u32,
    out_counter: *mut u64,
    out_state: *mut mfa_hotp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let hotp = try_ref!(hotp);
        check_not_null!(state, out_counter, out_state);
        // SAFETY: forwarded from this function's contract.
        let codes = try_result!(unsafe { codes_in(codes, code_lens, count) });
        // SAFETY: `state` checked non-NULL, readable per the contract.
        let state = try_result!(HotpState::try_from(unsafe { read_in(state) }));
        match hotp.inner.resync(&codes, state, window) {
            Ok(ok) => {
                // SAFETY: both checked non-NULL, writable per the contract.
                unsafe {
                    write_out(out_counter, ok.counter);
                    write_out(out_state, ok.state.into());
                }
                mfa_result::Ok
            }
            Err(e) => e.into(),
        }
    }
}

/// Frees an HOTP token, wiping its copy of the secret. NULL is a no-op.
///
/// # Safety
/// `hotp` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_hotp_free(hotp: *mut mfa_hotp) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(hotp) }
    }
}

/// Creates a TOTP token from a copy of `secret` (which the caller still
/// owns), an `mfa_algorithm`, a digit count (6..9), a period in seconds
/// (at least 1; 30 is usual) and T0 in Unix seconds (0 is usual), and stores
/// it in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_UNKNOWN_ALGORITHM`,
/// `MFA_RESULT_INVALID_DIGITS`, `MFA_RESULT_INVALID_PERIOD`.
///
/// # Safety
/// `secret` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_new(
    secret: *const mfa_secret,
    algorithm: u32,
    digits: u32,
    period: u64,
    t0: u64,
    out: *mut *mut mfa_totp,
) -> mfa_result {
    ffi_panic_boundary! {
        let secret = try_ref!(secret);
        check_not_null!(out);
        let algorithm = try_result!(algorithm_from_u32(algorithm));
        let digits = try_result!(Digits::new(digits).map_err(mfa_result::from));
        let period = try_result!(Period::new(period).map_err(mfa_result::from));
        let params = TotpParams { algorithm, digits, period, t0: UnixTime::from_secs(t0) };
        let inner = Totp::new(secret.inner.clone(), params);
        // SAFETY: `out` checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_totp { inner })) };
        mfa_result::Ok
    }
}

/// Stores in `*out_step` the time step at `now` (Unix seconds):
/// `(now - T0) / period`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_TIME_BEFORE_T0`.
///
/// # Safety
/// `totp` is a live handle; `out_step` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_step_at(
    totp: *const mfa_totp,
    now: u64,
    out_step: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        check_not_null!(out_step);
        let step = try_result!(totp.inner.step_at(UnixTime::from_secs(now)).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_step, step) };
        mfa_result::Ok
    }
}

/// Writes the code shown at `now` (Unix seconds) into `buf`, as
/// `mfa_hotp_generate` does.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_TIME_BEFORE_T0`,
/// `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_hotp_generate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_generate(
    totp: *const mfa_totp,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        check_not_null!(out_len);
        let code = try_result!(totp.inner.generate(UnixTime::from_secs(now)).map_err(mfa_result::from));
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(code.to_string().as_bytes(), buf, buf_len, out_len) }
    }
}

/// Writes the code of time step `step` into `buf`, as `mfa_hotp_generate`
/// does.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_hotp_generate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_generate_at_step(
    totp: *const mfa_totp,
    step: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        let code = totp.inner.generate_at_step(step).to_string();
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(code.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Verifies `code` at `now` (Unix seconds), trying `behind` steps back and
/// `ahead` steps forward (each 0..1000; RFC 6238 suggests 1 and 0) around
/// the current step plus `state->drift`. Steps at or before
/// `state->last_step` are never accepted. On success `*out_step` is the
/// step that matched and `*out_state` the state to store (`out_state` may
/// point to the same struct as `state`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_FLAG`, `MFA_RESULT_WINDOW_TOO_LARGE`, `MFA_RESULT_CODE_MALFORMED`,
/// `MFA_RESULT_TIME_BEFORE_T0`, `MFA_RESULT_CODE_REPLAYED`,
/// `MFA_RESULT_CODE_NOT_IN_WINDOW`.
///
/// # Safety
/// `totp` is a live handle; `code` has `code_len` readable bytes; `state` is
/// readable; `out_step` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_verify(
    totp: *const mfa_totp,
    code: *const c_char,
    code_len: usize,
    now: u64,
    state: *const mfa_totp_state,
    behind: u32,
    ahead: u32,
    out_step: *mut u64,
    out_state: *mut mfa_totp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        check_not_null!(state, out_step, out_state);
        // SAFETY: forwarded from this function's contract.
        let code = try_result!(unsafe { str_in(code, code_len) });
        // SAFETY: `state` checked non-NULL, readable per the contract.
        let state = try_result!(TotpState::try_from(unsafe { read_in(state) }));
        let window = try_result!(Window::new(behind, ahead).map_err(mfa_result::from));
        match totp.inner.verify(code, UnixTime::from_secs(now), state, window) {
            Ok(ok) => {
                // SAFETY: both checked non-NULL, writable per the contract.
                unsafe {
                    write_out(out_step, ok.step);
                    write_out(out_state, ok.state.into());
                }
                mfa_result::Ok
            }
            Err(e) => e.into(),
        }
    }
}

/// Learns a TOTP token's clock drift from `count` (= 2) consecutive codes,
/// the second shown at `now`, searched within `window` (at most 100000)
/// steps of the current step plus `state->drift`. On success `*out_step` is
/// the step of the second code and `*out_state` (with the new drift) the
/// state to store.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_FLAG`, `MFA_RESULT_RESYNC_CODE_COUNT`, `MFA_RESULT_WINDOW_TOO_LARGE`,
/// `MFA_RESULT_CODE_MALFORMED`, `MFA_RESULT_TIME_BEFORE_T0`,
/// `MFA_RESULT_RESYNC_FAILED`.
///
/// # Safety
/// As `mfa_hotp_resync`, with `totp` a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_resync(
    totp: *const mfa_totp,
    codes: *const *const c_char,
    code_lens: *const usize,
    count: usize,
    now: u64,
    state: *const mfa_totp_state,
    window: u32,
    out_step: *mut u64,
    out_state: *mut mfa_totp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        check_not_null!(state, out_step, out_state);
        // SAFETY: forwarded from this function's contract.
        let codes = try_result!(unsafe { codes_in(codes, code_lens, count) });
        // SAFETY: `state` checked non-NULL, readable per the contract.
        let state = try_result!(TotpState::try_from(unsafe { read_in(state) }));
        match totp.inner.resync(&codes, UnixTime::from_secs(now), state, window) {
            Ok(ok) => {
                // SAFETY: both checked non-NULL, writable per the contract.
                unsafe {
                    write_out(out_step, ok.step);
                    write_out(out_state, ok.state.into());
                }
                mfa_result::Ok
            }
            Err(e) => e.into(),
        }
    }
}

/// Frees a TOTP token, wiping its copy of the secret. NULL is a no-op.
///
/// # Safety
/// `totp` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_totp_free(totp: *mut mfa_totp) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(totp) }
    }
}
