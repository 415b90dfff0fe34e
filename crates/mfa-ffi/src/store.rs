//! The store: `mfa_store` opened by URL with a master key, through which a
//! server imports, assigns and activates tokens, verifies codes (fraud
//! block → lockout → OATH → replay → counters → log, in one transaction),
//! unblocks users and reads reports.

use core::ffi::c_char;
use std::net::IpAddr;
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use ::mfa_store::mfa_fraud::Channel;
use ::mfa_store::mfa_lockout::FactorClass;
use ::mfa_store::mfa_oath::UnixTime;
use ::mfa_store::{
    Channel as CodeChannel, ImportMode, MasterKey, NewToken, Store, TokenKind, VerifyContext,
};

use crate::error::mfa_result;
use crate::ffi::{bytes_in, free_box, opt_str_in, str_in, text_out, to_raw, write_out};
use crate::import::mfa_import;
use crate::otp::codes_in;
use crate::uri::mfa_otp_kind;

/// An open store (opaque): an embedded SQLite file or a PostgreSQL
/// database, the master key that seals token secrets, and the server's
/// name and address for the authentication log. Created by
/// `mfa_store_open`, closed by `mfa_store_free`. Every store function is
/// one database transaction and may be called from any number of threads
/// at once on the same handle (`mfa_store_free` excepted).
pub struct mfa_store {
    /// The store. A lock only because `mfa_store_set_settings` changes the
    /// configuration the other calls read (`Store::set_settings` takes
    /// `&mut`); every other call shares it.
    pub(crate) inner: RwLock<Store>,
    pub(crate) ctx: VerifyContext,
}

impl mfa_store {
    /// The store, shared with the other calls in flight.
    ///
    /// A poisoned lock is ignored on purpose: the only writer,
    /// `Store::set_settings`, replaces its configuration in one assignment
    /// after its transaction, so a panic inside it leaves the old
    /// configuration whole.
    pub(crate) fn inner(&self) -> RwLockReadGuard<'_, Store> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How an import treats tokens the store refuses (an existing serial, a
/// user with 5 tokens already). Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_store_import_mode {
    /// Any refusal refuses the whole import; nothing is written.
    AllOrNothing = 1,
    /// The other tokens are imported.
    AcceptedOnly = 2,
}

/// A lockout factor class. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_factor_class {
    /// PIN entry.
    Pin = 1,
    /// OATH codes.
    Otp = 2,
    /// SMS one-time codes.
    SmsCode = 3,
    /// Voice calls.
    VoiceCall = 4,
    /// Mobile app notifications.
    AppNotification = 5,
    /// App passwords.
    AppPassword = 6,
}

/// How a one-time passcode is delivered. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_code_channel {
    /// SMS text message.
    Sms = 1,
    /// Voice call.
    Voice = 2,
}

pub(crate) fn code_channel_from_u32(n: u32) -> Result<CodeChannel, mfa_result> {
    match n {
        1 => Ok(CodeChannel::Sms),
        2 => Ok(CodeChannel::Voice),
        _ => Err(mfa_result::InvalidParameter),
    }
}

/// The client address of a verification, if given.
pub(crate) fn context_with_client(
    store: &mfa_store,
    client: Option<&str>,
) -> Result<VerifyContext, mfa_result> {
    let mut ctx = store.ctx.clone();
    if let Some(ip) = client {
        ctx = ctx.with_client(ip_from_text(ip)?);
    }
    Ok(ctx)
}

/// What `mfa_store_import` did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_store_import_result {
    /// Tokens written.
    pub imported: u64,
    /// Tokens the store refused (existing serial, too many tokens for the
    /// user, a field too long); always 0 when nothing was refused.
    pub refused: usize,
}

/// A token as the store holds it (never its secret).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_store_token_info {
    /// `MFA_OTP_KIND_TOTP` or `MFA_OTP_KIND_HOTP`.
    pub kind: u32,
    /// Whether it is assigned to a user.
    pub assigned: bool,
    /// Whether it was activated.
    pub active: bool,
    /// Whether a step/counter was accepted yet.
    pub has_last_step: bool,
    /// The last accepted step (TOTP) or counter (HOTP).
    pub last_step: u64,
    /// The learned clock drift in steps (TOTP).
    pub drift: i64,
}

/// Row counts of the store.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_store_stats {
    /// Users.
    pub users: u64,
    /// Tokens.
    pub tokens: u64,
    /// Authentication log events.
    pub auth_events: u64,
    /// Audit log entries.
    pub audit_entries: u64,
}

fn class_from_u32(n: u32) -> Result<FactorClass, mfa_result> {
    Ok(match n {
        1 => FactorClass::Pin,
        2 => FactorClass::Otp,
        3 => FactorClass::SmsCode,
        4 => FactorClass::VoiceCall,
        5 => FactorClass::AppNotification,
        6 => FactorClass::AppPassword,
        _ => return Err(mfa_result::InvalidParameter),
    })
}

pub(crate) fn ip_from_text(text: &str) -> Result<IpAddr, mfa_result> {
    text.trim()
        .parse()
        .map_err(|_| mfa_result::InvalidParameter)
}

/// Opens (creating if needed) the store at `url`: `sqlite:<path>` for the
/// embedded database, `postgres://...` for PostgreSQL. `master_key` is the
/// 32-byte key (with its id, `master_key_id`) that seals token secrets; the
/// store checks it against the key it was created with. `server_name` and
/// `server_ip` (text, IPv4 or IPv6) go into every authentication log event.
/// Runs schema migrations. Stores the handle in `*out`. The caller should
/// wipe its copy of the key.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (server name or address),
/// `MFA_RESULT_MASTER_KEY_LENGTH`, `MFA_RESULT_STORE_URL`,
/// `MFA_RESULT_STORE_NOT_A_DATABASE`, `MFA_RESULT_STORE_SCHEMA_TOO_NEW`,
/// `MFA_RESULT_WRONG_MASTER_KEY`, `MFA_RESULT_DATABASE`, `MFA_RESULT_IO`.
///
/// # Safety
/// Every pointer/length pair designates readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_open(
    url: *const c_char,
    url_len: usize,
    master_key: *const u8,
    master_key_len: usize,
    master_key_id: u32,
    server_name: *const c_char,
    server_name_len: usize,
    server_ip: *const c_char,
    server_ip_len: usize,
    out: *mut *mut mfa_store,
) -> mfa_result {
    // C servers share the handle between threads: keep that true.
    const _: () = {
        const fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<mfa_store>();
    };
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract (each pair).
        let (url, key, name, ip) = unsafe {
            (
                try_result!(str_in(url, url_len)),
                try_result!(bytes_in(master_key, master_key_len)),
                try_result!(str_in(server_name, server_name_len)),
                try_result!(str_in(server_ip, server_ip_len)),
            )
        };
        let ip = try_result!(ip_from_text(ip));
        let ctx = try_result!(VerifyContext::new(name, ip).map_err(|_| mfa_result::InvalidParameter));
        let key = try_result!(MasterKey::from_slice(master_key_id, key).map_err(mfa_result::from));
        let inner = try_result!(Store::open(url, &key).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_store { inner: RwLock::new(inner), ctx })) };
        mfa_result::Ok
    }
}

/// Closes the store. NULL is a no-op.
///
/// # Safety
/// `store` is NULL or a live handle no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_free(store: *mut mfa_store) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(store) }
    }
}

/// Writes the accepted tokens of `import` into the store in one
/// transaction (secrets sealed with the master key). A token's serial (or
/// PSKC key Id) is its identity; a CSV `upn` assigns it to that user. With
/// `MFA_STORE_IMPORT_MODE_ALL_OR_NOTHING`, any refused token refuses the
/// whole import (`MFA_RESULT_IMPORT_REFUSED`, nothing written); with
/// `_ACCEPTED_ONLY` the others are written and `out->refused` counts the
/// refused ones. Imported tokens are inactive until activated.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (mode), `MFA_RESULT_IMPORT_REFUSED`, `MFA_RESULT_DATABASE`,
/// `MFA_RESULT_STORE_BUSY`.
///
/// # Safety
/// `store` and `import` are live handles; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_import(
    store: *const mfa_store,
    import: *const mfa_import,
    mode: u32,
    now: u64,
    out: *mut mfa_store_import_result,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        let import = try_ref!(import);
        check_not_null!(out);
        let mode = match mode {
            1 => ImportMode::AllOrNothing,
            2 => ImportMode::AcceptedOnly,
            _ => return mfa_result::InvalidParameter,
        };
        let tokens = import.tokens().iter().cloned().map(NewToken::from);
        let report = try_result!(store.inner().import(tokens, mode, UnixTime::from_secs(now)).map_err(mfa_result::from));
        let result = mfa_store_import_result { imported: report.imported, refused: report.rejected.len() };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, result) };
        mfa_result::Ok
    }
}

/// Assigns token `serial` to `user` (created if new). A token belongs to
/// one user; a user has at most 5 tokens. The token must then be activated.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_TOKEN`, `MFA_RESULT_TOKEN_ASSIGNED`,
/// `MFA_RESULT_TOO_MANY_TOKENS`, `MFA_RESULT_FIELD_LENGTH`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_assign(
    store: *const mfa_store,
    serial: *const c_char,
    serial_len: usize,
    user: *const c_char,
    user_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let (serial, user) = unsafe { (try_result!(str_in(serial, serial_len)), try_result!(str_in(user, user_len))) };
        match store.inner().assign(serial, user, UnixTime::from_secs(now)) {
            Ok(()) => mfa_result::Ok,
            Err(e) => e.into(),
        }
    }
}

/// Activates an assigned token with the code it shows at `now` (an
/// administrator enters it): the code goes through normal verification and
/// its step is recorded, so it cannot be used again. `*out_step` receives
/// the step (TOTP) or counter (HOTP) that matched.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_TOKEN`, `MFA_RESULT_TOKEN_NOT_ASSIGNED`, the
/// verification codes (`MFA_RESULT_CODE_MALFORMED`,
/// `MFA_RESULT_CODE_NOT_IN_WINDOW`, `MFA_RESULT_CODE_REPLAYED`, ...),
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes; `out_step` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_activate(
    store: *const mfa_store,
    serial: *const c_char,
    serial_len: usize,
    code: *const c_char,
    code_len: usize,
    now: u64,
    out_step: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_step);
        // SAFETY: forwarded from this function's contract.
        let (serial, code) = unsafe { (try_result!(str_in(serial, serial_len)), try_result!(str_in(code, code_len))) };
        let step = try_result!(store.inner().activate(serial, code, UnixTime::from_secs(now)).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_step, step) };
        mfa_result::Ok
    }
}

/// Resynchronises token `serial` from consecutive codes it shows now
/// (`count` codes given as arrays of pointers and lengths: 2 for TOTP, 2 or 3
/// for HOTP) within `window` steps or counters (at most 100000), and stores
/// the result: the last step used and, for TOTP, the learned clock drift.
/// `*out_step` receives the step (or counter) of the last code. The codes
/// cannot be used again.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_TOKEN`, `MFA_RESULT_TOKEN_NOT_ASSIGNED`,
/// `MFA_RESULT_RESYNC_CODE_COUNT`, `MFA_RESULT_WINDOW_TOO_LARGE`,
/// `MFA_RESULT_CODE_MALFORMED`, `MFA_RESULT_RESYNC_FAILED`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `serial` has `serial_len` readable bytes;
/// `codes` and `code_lens` have `count` readable elements, each code
/// `code_lens[i]` readable bytes; `out_step` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_resync(
    store: *const mfa_store,
    serial: *const c_char,
    serial_len: usize,
    codes: *const *const c_char,
    code_lens: *const usize,
    count: usize,
    window: u32,
    now: u64,
    out_step: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_step);
        // SAFETY: forwarded from this function's contract.
        let serial = try_result!(unsafe { str_in(serial, serial_len) });
        // SAFETY: forwarded from this function's contract.
        let codes = try_result!(unsafe { codes_in(codes, code_lens, count) });
        let step = try_result!(store
            .inner()
            .resync(serial, &codes, window, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_step, step) };
        mfa_result::Ok
    }
}

/// Verifies an OATH code of `user` at `now`: `mfa_store_authenticate` with
/// `MFA_AUTH_METHOD_OATH_CODE`, in one transaction: fraud
/// block, lockout, the user's active tokens, replay protection across
/// servers, lockout counters, authentication log (with `client_ip`, text,
/// optional: NULL for none). A `client_ip` in a trusted range approves
/// without the code, as for every sign-in (`*out_step` is then 0). Returns
/// `MFA_RESULT_OK` only when the sign-in
/// is approved (`*out_step` then holds the step or counter used); a denial
/// is returned as its own code — `MFA_RESULT_NOT_ACTIVATED`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_BLOCKED_BY_FRAUD`,
/// `MFA_RESULT_CODE_REPLAYED`, `MFA_RESULT_CODE_NOT_IN_WINDOW`,
/// `MFA_RESULT_UNKNOWN_USER`, ... — after it was logged and counted.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (client address or user id), every
/// denial code, `MFA_RESULT_STORE_UNSEAL`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` and `code` designate readable bytes;
/// `client_ip` is NULL or has `client_ip_len` readable bytes; `out_step`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_verify(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    code: *const c_char,
    code_len: usize,
    client_ip: *const c_char,
    client_ip_len: usize,
    now: u64,
    out_step: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_step);
        // SAFETY: forwarded from this function's contract.
        let (user, code, client) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(str_in(code, code_len)),
                try_result!(opt_str_in(client_ip, client_ip_len)),
            )
        };
        let ctx = try_result!(context_with_client(store, client));
        let outcome = try_result!(store.inner().verify(user, code, UnixTime::from_secs(now), &ctx).map_err(mfa_result::from));
        if let Some(denial) = outcome.denial() {
            return denial.kind().into();
        }
        if !outcome.is_approved() {
            return mfa_result::Unknown;
        }
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_step, outcome.step.unwrap_or(0)) };
        mfa_result::Ok
    }
}

/// Stores a one-time passcode the caller generated and is about to send to
/// `user` by SMS or voice (`channel`: an `mfa_code_channel`). Only a keyed
/// hash of the code is stored; it replaces any earlier pending code of that
/// channel and expires after the store's code lifetime (300 s by default),
/// whose end is stored in `*out_expires` (Unix seconds).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (channel), `MFA_RESULT_FIELD_LENGTH`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` and `code` designate readable bytes;
/// `out_expires` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_create_code(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    channel: u32,
    code: *const c_char,
    code_len: usize,
    now: u64,
    out_expires: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_expires);
        let channel = try_result!(code_channel_from_u32(channel));
        // SAFETY: forwarded from this function's contract.
        let (user, code) = unsafe { (try_result!(str_in(user, user_len)), try_result!(str_in(code, code_len))) };
        let expires = try_result!(store.inner().create_code(user, channel, code, UnixTime::from_secs(now)).map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_expires, expires.secs()) };
        mfa_result::Ok
    }
}

/// Verifies a one-time passcode sent by `mfa_store_create_code` (or
/// `mfa_store_issue_code`): `mfa_store_authenticate` with
/// `MFA_AUTH_METHOD_SMS_CODE` or `_VOICE_CODE`, through
/// the same pipeline as `mfa_store_verify` (fraud, lockout of the channel's
/// factor class, check, counters, log). A code is consumed at most once,
/// from any server. `MFA_RESULT_OK` only when approved; denials as their own
/// codes, notably `MFA_RESULT_CODE_EXPIRED`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER`, every denial code (`MFA_RESULT_CODE_EXPIRED`,
/// `MFA_RESULT_CODE_REPLAYED`, `MFA_RESULT_CODE_NOT_IN_WINDOW`,
/// `MFA_RESULT_LOCKED`, `MFA_RESULT_BLOCKED_BY_FRAUD`, ...),
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` and `code` designate readable bytes;
/// `client_ip` is NULL or has `client_ip_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_verify_code(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    channel: u32,
    code: *const c_char,
    code_len: usize,
    client_ip: *const c_char,
    client_ip_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        let channel = try_result!(code_channel_from_u32(channel));
        // SAFETY: forwarded from this function's contract.
        let (user, code, client) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(str_in(code, code_len)),
                try_result!(opt_str_in(client_ip, client_ip_len)),
            )
        };
        let ctx = try_result!(context_with_client(store, client));
        let outcome = try_result!(store
            .inner()
            .verify_code(user, channel, code, UnixTime::from_secs(now), &ctx)
            .map_err(mfa_result::from));
        if let Some(denial) = outcome.denial() {
            return denial.kind().into();
        }
        if outcome.is_approved() { mfa_result::Ok } else { mfa_result::Unknown }
    }
}

/// The user reports a prompt they did not start (`channel`: an
/// `mfa_fraud_channel`; `block_confirmed`: `1` pressed on the phone). The
/// store applies the fraud configuration (default: block for 90 days, high
/// risk) and logs it; later verifications are denied with
/// `MFA_RESULT_BLOCKED_BY_FRAUD`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (channel), `MFA_RESULT_UNKNOWN_USER`, the
/// fraud codes (`MFA_RESULT_FRAUD_REPORTING_DISABLED`, ...),
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` has `user_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_report_fraud(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    channel: u32,
    block_confirmed: bool,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let user = try_result!(unsafe { str_in(user, user_len) });
        let channel = match channel {
            1 => Channel::App,
            2 => Channel::Phone,
            _ => return mfa_result::InvalidParameter,
        };
        match store.inner().report_fraud(user, channel, block_confirmed, UnixTime::from_secs(now), &store.ctx) {
            Ok(_effects) => mfa_result::Ok,
            Err(e) => e.into(),
        }
    }
}

/// An administrator (`actor`) lifts the fraud block of `user`, with a
/// reason for the audit log.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_USER`, `MFA_RESULT_NOT_BLOCKED`,
/// `MFA_RESULT_REASON_EMPTY`, `MFA_RESULT_REASON_TOO_LONG`,
/// `MFA_RESULT_REASON_CONTROL_CHAR`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_fraud_unblock(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    actor: *const c_char,
    actor_len: usize,
    reason: *const c_char,
    reason_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let (user, actor, reason) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(str_in(actor, actor_len)),
                try_result!(str_in(reason, reason_len)),
            )
        };
        match store.inner().fraud_unblock(user, actor, reason, UnixTime::from_secs(now), &store.ctx) {
            Ok(_effects) => mfa_result::Ok,
            Err(e) => e.into(),
        }
    }
}

/// An administrator (`actor`) lifts the lockout of `user` for a factor
/// class (an `mfa_factor_class`), with a reason for the audit log.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (class), `MFA_RESULT_UNKNOWN_USER`,
/// `MFA_RESULT_NOT_LOCKED`, `MFA_RESULT_REASON_EMPTY`,
/// `MFA_RESULT_REASON_TOO_LONG`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// As `mfa_store_fraud_unblock`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_lockout_unblock(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    class: u32,
    actor: *const c_char,
    actor_len: usize,
    reason: *const c_char,
    reason_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        let class = try_result!(class_from_u32(class));
        // SAFETY: forwarded from this function's contract.
        let (user, actor, reason) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(str_in(actor, actor_len)),
                try_result!(str_in(reason, reason_len)),
            )
        };
        match store.inner().lockout_unblock(user, class, actor, reason, UnixTime::from_secs(now)) {
            Ok(_unblocked) => mfa_result::Ok,
            Err(e) => e.into(),
        }
    }
}

/// Fills `*out` with what the store holds about token `serial` (never its
/// secret).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_TOKEN`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `serial` has `serial_len` readable bytes;
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_token_info_get(
    store: *const mfa_store,
    serial: *const c_char,
    serial_len: usize,
    out: *mut mfa_store_token_info,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let serial = try_result!(unsafe { str_in(serial, serial_len) });
        let Some(t) = try_result!(store.inner().token(serial).map_err(mfa_result::from)) else {
            return mfa_result::UnknownToken;
        };
        let info = mfa_store_token_info {
            kind: match t.kind {
                TokenKind::Totp(_) => mfa_otp_kind::Totp,
                TokenKind::Hotp(_) => mfa_otp_kind::Hotp,
            } as u32,
            assigned: t.user.is_some(),
            active: t.active,
            has_last_step: t.last_step.is_some(),
            last_step: t.last_step.unwrap_or(0),
            drift: t.drift,
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// Fills `*out` with the store's row counts.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_stats_get(
    store: *const mfa_store,
    out: *mut mfa_store_stats,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out);
        let s = try_result!(store.inner().stats().map_err(mfa_result::from));
        let stats = mfa_store_stats {
            users: s.users,
            tokens: s.tokens,
            auth_events: s.auth_events,
            audit_entries: s.audit_entries,
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, stats) };
        mfa_result::Ok
    }
}

/// Writes the authentication log between `from` (inclusive) and `to`
/// (exclusive), Unix seconds, as CSV (the authentication report; switched-off
/// fields are never exported), NUL-terminated, into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (`to` before `from`), `MFA_RESULT_BUFFER_TOO_SMALL`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_auth_log_csv(
    store: *const mfa_store,
    from: u64,
    to: u64,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_len);
        if to < from {
            return mfa_result::InvalidParameter;
        }
        let mut csv = Vec::new();
        try_result!(store
            .inner()
            .export_auth_log_csv(UnixTime::from_secs(from), UnixTime::from_secs(to), &mut csv)
            .map_err(mfa_result::from));
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(&csv, buf, buf_len, out_len) }
    }
}
