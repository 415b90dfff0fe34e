//! `mfa_otpauth_uri`: parse and generate `otpauth://` URIs (QR enrolment).

use core::ffi::c_char;

use mfa_oath::{HotpState, OtpAuthUri, OtpKind};

use crate::error::mfa_result;
use crate::ffi::{free_box, opt_str_in, read_in, str_in, text_out, to_raw, write_out};
use crate::otp::{mfa_hotp, mfa_hotp_state, mfa_totp};
use crate::secret::{algorithm_to_u32, mfa_secret};

/// A parsed or generated `otpauth://` URI (opaque): kind, issuer, account,
/// secret, algorithm, digits, period or counter. Created by
/// `mfa_otpauth_uri_parse`, `mfa_otpauth_uri_from_totp` or
/// `mfa_otpauth_uri_from_hotp`; freed (secret wiped) by
/// `mfa_otpauth_uri_free`. Immutable: any number of threads may read it.
pub struct mfa_otpauth_uri {
    inner: OtpAuthUri,
}

/// The kind of token an otpauth URI describes. Returned as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_otp_kind {
    /// `otpauth://totp/...`
    Totp = 1,
    /// `otpauth://hotp/...`
    Hotp = 2,
}

/// The numeric fields of an otpauth URI, filled by `mfa_otpauth_uri_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_otpauth_info {
    /// `MFA_OTP_KIND_TOTP` or `MFA_OTP_KIND_HOTP`.
    pub kind: u32,
    /// An `mfa_algorithm` value.
    pub algorithm: u32,
    /// Digits per code (6..9).
    pub digits: u32,
    /// TOTP period in seconds (0 for HOTP).
    pub period: u64,
    /// HOTP counter of the next code (0 for TOTP).
    pub counter: u64,
    /// Whether the URI names an issuer.
    pub has_issuer: bool,
}

fn give(uri: OtpAuthUri, out: *mut *mut mfa_otpauth_uri) -> mfa_result {
    // SAFETY: the callers checked `out` for NULL; writable per their contract.
    unsafe { write_out(out, to_raw(mfa_otpauth_uri { inner: uri })) };
    mfa_result::Ok
}

/// Parses an `otpauth://totp/...` or `otpauth://hotp/...` URI (at most 4096
/// bytes) and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`, and the
/// `MFA_RESULT_URI_*` codes naming what is wrong (a bad secret is
/// `MFA_RESULT_URI_INVALID_SECRET`).
///
/// # Safety
/// `text` has `text_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_parse(
    text: *const c_char,
    text_len: usize,
    out: *mut *mut mfa_otpauth_uri,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let text = try_result!(unsafe { str_in(text, text_len) });
        match OtpAuthUri::parse(text) {
            Ok(uri) => give(uri, out),
            Err(e) => e.into(),
        }
    }
}

/// Builds the URI of a TOTP token for `account` (required, non-empty) and
/// an optional `issuer` (NULL for none), and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_URI_MISSING_LABEL` (empty account).
///
/// # Safety
/// `totp` is a live handle; `issuer` is NULL or has `issuer_len` readable
/// bytes; `account` has `account_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_from_totp(
    totp: *const mfa_totp,
    issuer: *const c_char,
    issuer_len: usize,
    account: *const c_char,
    account_len: usize,
    out: *mut *mut mfa_otpauth_uri,
) -> mfa_result {
    ffi_panic_boundary! {
        let totp = try_ref!(totp);
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let issuer = try_result!(unsafe { opt_str_in(issuer, issuer_len) });
        // SAFETY: forwarded from this function's contract.
        let account = try_result!(unsafe { str_in(account, account_len) });
        if account.trim().is_empty() {
            return mfa_result::UriMissingLabel;
        }
        give(OtpAuthUri::totp(issuer, account, &totp.inner), out)
    }
}

/// Builds the URI of an HOTP token whose verifier is in `state` (the URI's
/// counter is the next counter to use) for `account` and an optional
/// `issuer` (NULL for none), and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_URI_MISSING_LABEL` (empty account), `MFA_RESULT_INVALID_FLAG`.
///
/// # Safety
/// As `mfa_otpauth_uri_from_totp`, with `hotp` a live handle and `state`
/// readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_from_hotp(
    hotp: *const mfa_hotp,
    state: *const mfa_hotp_state,
    issuer: *const c_char,
    issuer_len: usize,
    account: *const c_char,
    account_len: usize,
    out: *mut *mut mfa_otpauth_uri,
) -> mfa_result {
    ffi_panic_boundary! {
        let hotp = try_ref!(hotp);
        check_not_null!(state, out);
        // SAFETY: forwarded from this function's contract.
        let issuer = try_result!(unsafe { opt_str_in(issuer, issuer_len) });
        // SAFETY: forwarded from this function's contract.
        let account = try_result!(unsafe { str_in(account, account_len) });
        if account.trim().is_empty() {
            return mfa_result::UriMissingLabel;
        }
        // SAFETY: `state` checked non-NULL, readable per the contract.
        let state = try_result!(HotpState::try_from(unsafe { read_in(state) }));
        give(OtpAuthUri::hotp(issuer, account, &hotp.inner, state), out)
    }
}

/// Writes the URI text, NUL-terminated, into `buf` (every parameter
/// explicit). It contains the secret: wipe it after use.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `uri` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_to_string(
    uri: *const mfa_otpauth_uri,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        let text = uri.inner.to_uri();
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(text.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Fills `*out` with the URI's kind, algorithm, digits, period or counter,
/// and whether it has an issuer.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `uri` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_info(
    uri: *const mfa_otpauth_uri,
    out: *mut mfa_otpauth_info,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = &try_ref!(uri).inner;
        check_not_null!(out);
        let (kind, period, counter) = match uri.kind {
            OtpKind::Totp { period } => (mfa_otp_kind::Totp, period.seconds(), 0),
            OtpKind::Hotp { counter } => (mfa_otp_kind::Hotp, 0, counter),
            _ => return mfa_result::Unknown,
        };
        let info = mfa_otpauth_info {
            kind: kind as u32,
            algorithm: algorithm_to_u32(uri.algorithm),
            digits: u32::from(uri.digits.get()),
            period,
            counter,
            has_issuer: uri.issuer.is_some(),
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// Writes the issuer, NUL-terminated, into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND` (no issuer),
/// `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_otpauth_uri_to_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_issuer(
    uri: *const mfa_otpauth_uri,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        check_not_null!(out_len);
        let Some(issuer) = uri.inner.issuer.as_deref() else {
            return mfa_result::NotFound;
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(issuer.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Writes the account name, NUL-terminated, into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_otpauth_uri_to_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_account(
    uri: *const mfa_otpauth_uri,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(uri.inner.account.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Stores a copy of the URI's secret as a new handle in `*out` (free it
/// with `mfa_secret_free`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `uri` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_secret(
    uri: *const mfa_otpauth_uri,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        check_not_null!(out);
        let secret = mfa_secret { inner: uri.inner.secret.clone() };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(secret)) };
        mfa_result::Ok
    }
}

/// Stores the TOTP token a `totp` URI describes (T0 = 0) in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_URI_WRONG_KIND` (an
/// HOTP URI).
///
/// # Safety
/// `uri` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_to_totp(
    uri: *const mfa_otpauth_uri,
    out: *mut *mut mfa_totp,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        check_not_null!(out);
        let Some(inner) = uri.inner.to_totp() else {
            return mfa_result::UriWrongKind;
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_totp { inner })) };
        mfa_result::Ok
    }
}

/// Stores the HOTP token an `hotp` URI describes in `*out` and its verifier
/// state (the URI's counter is the next one to accept) in `*out_state`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_URI_WRONG_KIND` (a TOTP
/// URI).
///
/// # Safety
/// `uri` is a live handle; `out` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_to_hotp(
    uri: *const mfa_otpauth_uri,
    out: *mut *mut mfa_hotp,
    out_state: *mut mfa_hotp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let uri = try_ref!(uri);
        check_not_null!(out, out_state);
        let Some((inner, state)) = uri.inner.to_hotp() else {
            return mfa_result::UriWrongKind;
        };
        // SAFETY: both checked non-NULL, writable per the contract.
        unsafe {
            write_out(out, to_raw(mfa_hotp { inner }));
            write_out(out_state, state.into());
        }
        mfa_result::Ok
    }
}

/// Frees a URI handle, wiping its secret. NULL is a no-op.
///
/// # Safety
/// `uri` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_otpauth_uri_free(uri: *mut mfa_otpauth_uri) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(uri) }
    }
}
