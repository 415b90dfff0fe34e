//! The one sign-in entry point of the store, `mfa_store_authenticate`
//! (mfa-store's `Store::authenticate`), and the store-generated one-time
//! codes a challenge sends, `mfa_store_issue_code`.
//!
//! Secrets the store issues (a remembered-device token, a one-time code, an
//! app password) exist only in the answer of the call that wrote their
//! keyed hash. So the caller's buffer is checked *before* the store is
//! called: a buffer smaller than [`MFA_CREDENTIAL_MAX`] is
//! `MFA_RESULT_BUFFER_TOO_SMALL` with nothing done, never a secret lost after
//! the database write.

use core::ffi::c_char;

use ::mfa_store::mfa_oath::UnixTime;
use ::mfa_store::{
    ApprovedBy, AuthOutcome, AuthRequest, Channel as CodeChannel, CodeIssue, Credential, Method,
    Presented,
};

use crate::error::mfa_result;
use crate::ffi::{opt_str_in, str_in, write_out};
use crate::store::{code_channel_from_u32, context_with_client, mfa_store};

/// The size of a caller buffer that receives a secret the store issues
/// (remembered-device token, app password, one-time code), terminating NUL
/// included. Such a secret is at most `MFA_CREDENTIAL_MAX - 1` characters
/// (today 26 for tokens and app passwords, 6 to 9 digits for codes); the
/// margin keeps the ABI when they grow.
pub const MFA_CREDENTIAL_MAX: usize = 64;

/// What a user presents to `mfa_store_authenticate`. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_auth_method {
    /// Nothing yet: the first step of a challenge flow (the secret is
    /// ignored and may be NULL).
    Nothing = 1,
    /// An OATH code (hardware token or authenticator app).
    OathCode = 2,
    /// An app password (`mfa_store_add_app_password`).
    AppPassword = 3,
    /// A one-time code sent by SMS (`mfa_store_issue_code`).
    SmsCode = 4,
    /// A one-time code given in a voice call.
    VoiceCode = 5,
}

/// What approved a sign-in (`mfa_auth_outcome.approved_by`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_approved_by {
    /// Not approved (`MFA_RESULT_SECOND_FACTOR_NEEDED`).
    None = 0,
    /// An OATH code; `step` holds the step (TOTP) or counter (HOTP).
    OathCode = 1,
    /// An app password.
    AppPassword = 2,
    /// A one-time code sent by SMS.
    SmsCode = 3,
    /// A one-time code given in a voice call.
    VoiceCode = 4,
    /// The client IP is in a trusted range (no second factor).
    TrustedIp = 5,
    /// MFA is remembered on the client's device (no second factor).
    RememberedDevice = 6,
}

/// The answer of `mfa_store_authenticate`, written on `MFA_RESULT_OK` and
/// on `MFA_RESULT_SECOND_FACTOR_NEEDED` only.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_auth_outcome {
    /// An `mfa_approved_by`: what approved the sign-in
    /// (`MFA_APPROVED_BY_NONE` for a challenge).
    pub approved_by: u32,
    /// Challenge: how many active OATH tokens the user can answer with (0
    /// when the OATH class is locked).
    pub oath_tokens: u32,
    /// `MFA_APPROVED_BY_OATH_CODE`: the step (TOTP) or counter (HOTP)
    /// consumed; otherwise 0.
    pub step: u64,
    /// Challenge: 1 if the user has a phone that SMS or voice codes can be
    /// sent to (and that class is not locked), else 0.
    pub phone: u8,
    /// 1 if a new remembered-device token was written to the caller's
    /// buffer (give it to the client), else 0.
    pub device_token_issued: u8,
}

/// `0` or `1` from C, anything else refused.
pub(crate) fn flag(v: u8) -> Result<bool, mfa_result> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(mfa_result::InvalidParameter),
    }
}

/// Checks, before anything is done, that a caller buffer can take any
/// secret the store issues.
pub(crate) fn check_credential_buf(buf: *mut c_char, buf_len: usize) -> Result<(), mfa_result> {
    if buf.is_null() {
        return Err(mfa_result::NullParameter);
    }
    if buf_len < MFA_CREDENTIAL_MAX {
        return Err(mfa_result::BufferTooSmall);
    }
    Ok(())
}

/// Copies a credential and a NUL into a buffer passed by
/// [`check_credential_buf`].
///
/// # Safety
/// `buf` is non-NULL with at least [`MFA_CREDENTIAL_MAX`] writable bytes
/// that do not overlap the credential.
pub(crate) unsafe fn credential_out(cred: &Credential, buf: *mut c_char) -> mfa_result {
    let text = cred.expose().as_bytes();
    if text.len() >= MFA_CREDENTIAL_MAX {
        // Cannot happen (the store issues at most 26 characters; a unit test
        // holds it); refused rather than cut.
        return mfa_result::BufferTooSmall;
    }
    // SAFETY: per the contract `buf` has MFA_CREDENTIAL_MAX > text.len()
    // writable bytes not overlapping `text`.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    mfa_result::Ok
}

/// Signs `user` in at `now` through the store's one entry point, in one
/// transaction and in one order for every method: fraud block and high
/// risk → lockout of the method's factor class → bypass (a client IP in a
/// trusted range, or a remembered device when `remember_device.days` is
/// not 0; only when no factor class of the user is locked) → the factor
/// (`method`, an `mfa_auth_method`, with `secret`) → lockout counters →
/// one authentication log event.
///
/// `client_ip` (text) and `device_token` (a token this function issued
/// earlier) are optional: NULL for none. With `remember_device` 1 and
/// `remember_device.days` not 0, an approval by an OATH or one-time code
/// writes a new remembered-device token (NUL-terminated) into
/// `new_device_token`, which must then hold `MFA_CREDENTIAL_MAX` bytes;
/// this is checked before anything is done (`MFA_RESULT_BUFFER_TOO_SMALL`).
/// With `remember_device` 0 the buffer is not used and may be NULL.
///
/// Returns `MFA_RESULT_OK` only when the sign-in is approved (`*out` says
/// by what); `MFA_RESULT_SECOND_FACTOR_NEEDED` when `method` is
/// `MFA_AUTH_METHOD_NOTHING` and no bypass applies (`*out` says what the
/// user can answer with; nothing is logged); each denial as its own code
/// (`MFA_RESULT_CODE_NOT_IN_WINDOW`, `MFA_RESULT_CODE_REPLAYED`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_BLOCKED_BY_FRAUD`,
/// `MFA_RESULT_BLOCKED_BY_ADMIN`, `MFA_RESULT_HIGH_RISK`,
/// `MFA_RESULT_NOT_ACTIVATED`, `MFA_RESULT_UNKNOWN_USER`, ...), after it was
/// logged and counted. `*out` is written only on the first two.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (method, `remember_device` not 0 or 1,
/// client address, user id), `MFA_RESULT_BUFFER_TOO_SMALL`, every denial
/// code, `MFA_RESULT_STORE_UNSEAL`, `MFA_RESULT_RNG`,
/// `MFA_RESULT_DATABASE`, `MFA_RESULT_STORE_BUSY`.
///
/// # Safety
/// `store` is a live handle; `user` designates readable bytes; `secret` is
/// NULL (only with `MFA_AUTH_METHOD_NOTHING`) or has `secret_len` readable
/// bytes; `client_ip` and `device_token` are NULL or designate readable
/// bytes; `out` is writable; `new_device_token` is NULL or has
/// `new_device_token_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_authenticate(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    method: u32,
    secret: *const c_char,
    secret_len: usize,
    client_ip: *const c_char,
    client_ip_len: usize,
    device_token: *const c_char,
    device_token_len: usize,
    remember_device: u8,
    now: u64,
    out: *mut mfa_auth_outcome,
    new_device_token: *mut c_char,
    new_device_token_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out);
        let remember = try_result!(flag(remember_device));
        if remember {
            try_result!(check_credential_buf(new_device_token, new_device_token_len));
        }
        // SAFETY: forwarded from this function's contract (each pair).
        let (user, client, device) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(opt_str_in(client_ip, client_ip_len)),
                try_result!(opt_str_in(device_token, device_token_len)),
            )
        };
        let presented = match method {
            1 => Presented::Nothing,
            2..=5 => {
                // SAFETY: forwarded from this function's contract.
                let secret = try_result!(unsafe { str_in(secret, secret_len) });
                match method {
                    2 => Presented::OathCode(secret),
                    3 => Presented::AppPassword(secret),
                    4 => Presented::OneTimeCode { channel: CodeChannel::Sms, code: secret },
                    _ => Presented::OneTimeCode { channel: CodeChannel::Voice, code: secret },
                }
            }
            _ => return mfa_result::InvalidParameter,
        };
        let ctx = try_result!(context_with_client(store, client));
        let mut req = AuthRequest::new(user, presented);
        if let Some(token) = device {
            req = req.with_device(token);
        }
        if remember {
            req = req.remembering_device();
        }
        let outcome = try_result!(store
            .inner()
            .authenticate(&req, UnixTime::from_secs(now), &ctx)
            .map_err(mfa_result::from));
        match outcome {
            AuthOutcome::Approved { by, device_token } => {
                let (approved_by, step) = match by {
                    ApprovedBy::OathCode { step, .. } => (mfa_approved_by::OathCode, step),
                    ApprovedBy::AppPassword { .. } => (mfa_approved_by::AppPassword, 0),
                    ApprovedBy::OneTimeCode { channel: CodeChannel::Sms } => (mfa_approved_by::SmsCode, 0),
                    ApprovedBy::OneTimeCode { channel: CodeChannel::Voice } => (mfa_approved_by::VoiceCode, 0),
                    ApprovedBy::TrustedIp { .. } => (mfa_approved_by::TrustedIp, 0),
                    ApprovedBy::RememberedDevice => (mfa_approved_by::RememberedDevice, 0),
                    // An approval this version cannot name is not reported
                    // as one (nothing fails open).
                    _ => return mfa_result::Unknown,
                };
                let mut issued = 0;
                if remember {
                    match &device_token {
                        Some(token) => {
                            // SAFETY: `new_device_token` passed
                            // `check_credential_buf` above.
                            match unsafe { credential_out(token, new_device_token) } {
                                mfa_result::Ok => issued = 1,
                                e => return e,
                            }
                        }
                        // SAFETY: checked non-NULL with at least one byte.
                        None => unsafe { new_device_token.write(0) },
                    }
                }
                let answer = mfa_auth_outcome {
                    approved_by: approved_by as u32,
                    oath_tokens: 0,
                    step,
                    phone: 0,
                    device_token_issued: issued,
                };
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe { write_out(out, answer) };
                mfa_result::Ok
            }
            AuthOutcome::Denied { reason, .. } => reason.kind().into(),
            AuthOutcome::SecondFactorNeeded(methods) => {
                let mut answer = mfa_auth_outcome::default();
                for m in &methods {
                    match m {
                        Method::Oath { .. } => answer.oath_tokens = answer.oath_tokens.saturating_add(1),
                        Method::Phone { .. } => answer.phone = 1,
                        _ => {}
                    }
                }
                if remember {
                    // SAFETY: checked non-NULL with at least one byte.
                    unsafe { new_device_token.write(0) };
                }
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe { write_out(out, answer) };
                mfa_result::SecondFactorNeeded
            }
            _ => mfa_result::Unknown,
        }
    }
}

/// Issues a one-time code of `digits` digits (6 to 9) for `user` on
/// `channel` (an `mfa_code_channel`), generated by the store, unless one is
/// still pending on that channel: at most one message per code, however
/// often a challenge is retransmitted. A new code is written
/// (NUL-terminated) into `code_buf`, which must hold `MFA_CREDENTIAL_MAX`
/// bytes (checked before anything is done), `*out_new` is 1: send it. A
/// pending code gives `*out_new` 0 and an empty `code_buf`: nothing to
/// send. `*out_expires` (Unix seconds) is when the code expires. Only a
/// keyed hash is stored; the user answers with `mfa_store_authenticate`
/// and `MFA_AUTH_METHOD_SMS_CODE` or `_VOICE_CODE`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (channel), `MFA_RESULT_BUFFER_TOO_SMALL`,
/// `MFA_RESULT_FIELD_LENGTH` (digits), `MFA_RESULT_UNKNOWN_USER`,
/// `MFA_RESULT_RNG`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` has `user_len` readable bytes;
/// `code_buf` has `code_buf_len` writable bytes; `out_expires` and
/// `out_new` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_issue_code(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    channel: u32,
    digits: u32,
    now: u64,
    code_buf: *mut c_char,
    code_buf_len: usize,
    out_expires: *mut u64,
    out_new: *mut u8,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_expires, out_new);
        try_result!(check_credential_buf(code_buf, code_buf_len));
        let channel = try_result!(code_channel_from_u32(channel));
        // SAFETY: forwarded from this function's contract.
        let user = try_result!(unsafe { str_in(user, user_len) });
        let issue = try_result!(store
            .inner()
            .issue_code(user, channel, digits, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        let (expires, new) = match &issue {
            CodeIssue::New { code, expires } => {
                // SAFETY: `code_buf` passed `check_credential_buf` above.
                match unsafe { credential_out(code, code_buf) } {
                    mfa_result::Ok => {}
                    e => return e,
                }
                (*expires, 1)
            }
            CodeIssue::Pending { expires } => {
                // SAFETY: checked non-NULL with at least one byte.
                unsafe { code_buf.write(0) };
                (*expires, 0)
            }
            _ => return mfa_result::Unknown,
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe {
            write_out(out_expires, expires.secs());
            write_out(out_new, new);
        }
        mfa_result::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_codes_keep_their_numbers() {
        // The ABI promise for the 800 block.
        assert_eq!(mfa_result::SecondFactorNeeded as u32, 800);
        assert_eq!(mfa_result::AppPasswordExists as u32, 801);
        assert_eq!(mfa_result::TooManyAppPasswords as u32, 802);
        assert_eq!(mfa_result::UnknownSetting as u32, 803);
        assert_eq!(mfa_result::InvalidSetting as u32, 804);
        assert_eq!(mfa_result::TooManyTrustedRanges as u32, 805);
        assert_eq!(mfa_result::RestoreTargetNotEmpty as u32, 806);
        assert_eq!(mfa_result::BackupFormat as u32, 807);
        assert_eq!(mfa_result::BackupChecksum as u32, 808);
        assert_eq!(mfa_result::FileExists as u32, 809);
        assert_eq!(mfa_auth_method::VoiceCode as u32, 5);
        assert_eq!(mfa_approved_by::RememberedDevice as u32, 6);
    }

    #[test]
    fn a_short_buffer_is_refused_before_anything() {
        let mut small = [0 as c_char; MFA_CREDENTIAL_MAX - 1];
        assert_eq!(
            check_credential_buf(small.as_mut_ptr(), small.len()),
            Err(mfa_result::BufferTooSmall)
        );
        assert_eq!(
            check_credential_buf(core::ptr::null_mut(), 100),
            Err(mfa_result::NullParameter)
        );
        let mut ok = [0 as c_char; MFA_CREDENTIAL_MAX];
        assert_eq!(check_credential_buf(ok.as_mut_ptr(), ok.len()), Ok(()));
    }

    #[test]
    fn store_issued_secrets_fit_the_constant() {
        use ::mfa_store::{Channel, MasterKey, Store, UserProfile};
        let dir = std::env::temp_dir().join(format!("mfa-ffi-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite:{}", dir.join("c.db").display());
        let store = Store::open(&url, &MasterKey::new(1, [3; 32])).expect("open");
        let now = UnixTime::from_secs(1_700_000_000);
        store.put_user(&UserProfile::new("u"), now).expect("user");
        let pw = store
            .add_app_password("u", "mail", now)
            .expect("app password");
        assert!(pw.expose().len() < MFA_CREDENTIAL_MAX);
        match store.issue_code("u", Channel::Sms, 9, now).expect("code") {
            CodeIssue::New { code, .. } => assert!(code.expose().len() < MFA_CREDENTIAL_MAX),
            other => panic!("expected a new code, got {other:?}"),
        }
        let mut buf = [0x55 as c_char; MFA_CREDENTIAL_MAX];
        // SAFETY: a local buffer of MFA_CREDENTIAL_MAX bytes.
        assert_eq!(
            unsafe { credential_out(&pw, buf.as_mut_ptr()) },
            mfa_result::Ok
        );
        assert_eq!(buf[pw.expose().len()], 0);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
