//! Fraud reports: `mfa_fraud_config`, the per-user `mfa_fraud_state` and the
//! `mfa_fraud_effects` each transition asks the caller to carry out.

use core::ffi::{CStr, c_char};

use mfa_fraud::{
    AuditActivity, BlockCause, Channel, Effect, Event, FraudConfig, FraudState, Keypad,
    Remediation, ReportingCode, RiskEventType, RiskLevel, SignInResult,
};
use mfa_oath::UnixTime;

use crate::error::mfa_result;
use crate::ffi::{free_box, str_in, text_out, to_raw, write_out};

/// Fraud reporting settings (opaque). `mfa_fraud_config_new` gives the
/// defaults: fraud alert on with auto-block, suspicious-activity reporting
/// on, 90-day blocks, phone code `0`, no notification recipients. The
/// `mfa_fraud_config_set_*` functions mutate it (not concurrently with any
/// other use); once configured, any number of threads may use it.
pub struct mfa_fraud_config {
    inner: FraudConfig,
}

/// The fraud state of one user (opaque): an active block (cause, since,
/// until, comment) and a high-risk flag with its detections. Created by
/// `mfa_fraud_state_new`; the event functions (`mfa_fraud_state_user_report`,
/// ...) replace its contents on success only; freed by `mfa_fraud_state_free`.
/// Event functions mutate it: serialise them per user. Read-only functions
/// (`mfa_fraud_state_info`, `_ensure_can_approve`, `_next_deadline`) may run
/// concurrently with each other.
pub struct mfa_fraud_state {
    inner: FraudState,
}

/// The effects of one fraud transition (opaque), in the order to carry them
/// out: audit entries, the sign-in result, risk detections, administrator
/// notifications. Immutable; freed by `mfa_fraud_effects_free`.
pub struct mfa_fraud_effects {
    inner: Vec<Effect>,
}

/// How a user reported a prompt. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_channel {
    /// The mobile app.
    App = 1,
    /// The phone call (fraud code then `#`, `1` to confirm a block).
    Phone = 2,
}

/// Why a user is blocked. Returned as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_block_cause {
    /// Not blocked.
    None = 0,
    /// The user reported fraud from the mobile app.
    FraudReportApp = 1,
    /// The user reported fraud on a phone call.
    FraudReportPhone = 2,
    /// An administrator blocked the user.
    Administrator = 3,
}

/// How a high user risk was remediated. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_remediation {
    /// The user reset their password.
    PasswordReset = 1,
    /// An administrator dismissed the risk.
    AdminDismissal = 2,
}

/// The kind of an `mfa_fraud_effect`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_effect_kind {
    /// Write an audit log entry (`activity`, `at`, optional comment).
    Audit = 1,
    /// Record the result of the reported sign-in (`sign_in_result`, `at`) and
    /// deny it.
    SignIn = 2,
    /// Record a risk detection (`risk_event_type`, `risk_level`, `at`,
    /// `channel`).
    RiskDetected = 3,
    /// Notify the administrators (`recipients` of them, `channel`,
    /// `user_blocked`, `at`).
    NotifyAdministrators = 4,
}

/// An audit activity. `mfa_fraud_audit_activity_name` gives its text.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_audit_activity {
    /// Fraud reported – user is blocked for MFA.
    FraudReportedUserBlocked = 1,
    /// Fraud reported – no action taken.
    FraudReportedNoAction = 2,
    /// Fraud reported (suspicious-activity report).
    FraudReported = 3,
    /// User blocked for MFA (by an administrator).
    UserBlocked = 4,
    /// User unblocked for MFA (by an administrator).
    UserUnblocked = 5,
    /// Block expired.
    BlockExpired = 6,
    /// User risk remediated.
    RiskRemediated = 7,
}

/// What a phone keypad entry means (`mfa_fraud_parse_keypad`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_fraud_keypad {
    /// `#`: approve the sign-in.
    Approve = 1,
    /// The fraud code then `#` (and `1` if the block was confirmed).
    Report = 2,
}

/// A summary of a user's fraud state at a given time.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_fraud_info {
    /// Whether a block is active.
    pub blocked: bool,
    /// An `mfa_fraud_block_cause` (`MFA_FRAUD_BLOCK_CAUSE_NONE` if not blocked).
    pub block_cause: u32,
    /// When the active block started (Unix seconds; 0 if not blocked).
    pub block_since: u64,
    /// When the active block ends (Unix seconds; 0 if not blocked).
    pub block_until: u64,
    /// Whether the user is at high risk.
    pub high_risk: bool,
    /// Risk detections since the last remediation.
    pub detections: u32,
}

/// One effect of a fraud transition.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_fraud_effect {
    /// An `mfa_fraud_effect_kind`.
    pub kind: u32,
    /// When (Unix seconds).
    pub at: u64,
    /// AUDIT: an `mfa_fraud_audit_activity`.
    pub activity: u32,
    /// AUDIT: whether there is a comment (`mfa_fraud_effects_comment`).
    pub has_comment: bool,
    /// SIGN_IN: 1 = "MFA denied, fraud code entered".
    pub sign_in_result: u32,
    /// RISK_DETECTED, NOTIFY_ADMINISTRATORS: an `mfa_fraud_channel`.
    pub channel: u32,
    /// RISK_DETECTED: 1 = userReportedSuspiciousActivity.
    pub risk_event_type: u32,
    /// RISK_DETECTED: 1 = high.
    pub risk_level: u32,
    /// NOTIFY_ADMINISTRATORS: whether the user is now blocked.
    pub user_blocked: bool,
    /// NOTIFY_ADMINISTRATORS: how many recipients
    /// (`mfa_fraud_effects_recipient`).
    pub recipients: usize,
}

fn channel_from_u32(n: u32) -> Result<Channel, mfa_result> {
    match n {
        1 => Ok(Channel::App),
        2 => Ok(Channel::Phone),
        _ => Err(mfa_result::InvalidParameter),
    }
}

fn channel_to_u32(c: Channel) -> u32 {
    match c {
        Channel::App => mfa_fraud_channel::App as u32,
        Channel::Phone => mfa_fraud_channel::Phone as u32,
    }
}

fn cause_to_u32(c: BlockCause) -> u32 {
    match c {
        BlockCause::FraudReport(Channel::App) => mfa_fraud_block_cause::FraudReportApp as u32,
        BlockCause::FraudReport(Channel::Phone) => mfa_fraud_block_cause::FraudReportPhone as u32,
        BlockCause::Administrator => mfa_fraud_block_cause::Administrator as u32,
    }
}

fn activity_to_u32(a: AuditActivity) -> u32 {
    use mfa_fraud_audit_activity as A;
    (match a {
        AuditActivity::FraudReportedUserBlocked => A::FraudReportedUserBlocked,
        AuditActivity::FraudReportedNoAction => A::FraudReportedNoAction,
        AuditActivity::FraudReported => A::FraudReported,
        AuditActivity::UserBlocked => A::UserBlocked,
        AuditActivity::UserUnblocked => A::UserUnblocked,
        AuditActivity::BlockExpired => A::BlockExpired,
        AuditActivity::RiskRemediated => A::RiskRemediated,
        _ => return 0,
    }) as u32
}

fn activity_name(n: u32) -> Option<&'static CStr> {
    Some(match n {
        1 => c"Fraud reported – user is blocked for MFA",
        2 => c"Fraud reported – no action taken",
        3 => c"Fraud reported",
        4 => c"User blocked for MFA",
        5 => c"User unblocked for MFA",
        6 => c"Block expired",
        7 => c"User risk remediated",
        _ => return None,
    })
}

fn effect_out(e: &Effect) -> mfa_fraud_effect {
    match e {
        Effect::Audit {
            activity,
            at,
            comment,
        } => mfa_fraud_effect {
            kind: mfa_fraud_effect_kind::Audit as u32,
            at: at.secs(),
            activity: activity_to_u32(*activity),
            has_comment: comment.is_some(),
            ..mfa_fraud_effect::default()
        },
        Effect::SignIn { result, at } => mfa_fraud_effect {
            kind: mfa_fraud_effect_kind::SignIn as u32,
            at: at.secs(),
            sign_in_result: match result {
                SignInResult::MfaDeniedFraudCodeEntered => 1,
                _ => 0,
            },
            ..mfa_fraud_effect::default()
        },
        Effect::RiskDetected(d) => mfa_fraud_effect {
            kind: mfa_fraud_effect_kind::RiskDetected as u32,
            at: d.at.secs(),
            channel: channel_to_u32(d.channel),
            risk_event_type: match d.event_type {
                RiskEventType::UserReportedSuspiciousActivity => 1,
                _ => 0,
            },
            risk_level: match d.level {
                RiskLevel::High => 1,
                _ => 0,
            },
            ..mfa_fraud_effect::default()
        },
        Effect::NotifyAdministrators {
            recipients,
            channel,
            user_blocked,
            at,
        } => mfa_fraud_effect {
            kind: mfa_fraud_effect_kind::NotifyAdministrators as u32,
            at: at.secs(),
            channel: channel_to_u32(*channel),
            user_blocked: *user_blocked,
            recipients: recipients.len(),
            ..mfa_fraud_effect::default()
        },
        _ => mfa_fraud_effect::default(),
    }
}

/// Creates a configuration with the defaults and stores it in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_new(out: *mut *mut mfa_fraud_config) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_fraud_config { inner: FraudConfig::default() })) };
        mfa_result::Ok
    }
}

/// Borrows a configuration mutably, or returns `MFA_RESULT_NULL_PARAMETER`.
macro_rules! config_mut {
    ( $ptr:expr ) => {
        // SAFETY: the caller guarantees a live handle not used concurrently;
        // `as_mut` maps NULL to `None`.
        match unsafe { $ptr.as_mut() } {
            Some(c) => c,
            None => return mfa_result::NullParameter,
        }
    };
}

/// Turns the fraud alert feature on or off.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_fraud_alert(
    config: *mut mfa_fraud_config,
    on: bool,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        config.inner = config.inner.clone().with_fraud_alert(on);
        mfa_result::Ok
    }
}

/// Turns auto-block on or off (a confirmed fraud alert blocks the user).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_auto_block(
    config: *mut mfa_fraud_config,
    on: bool,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        config.inner = config.inner.clone().with_auto_block(on);
        mfa_result::Ok
    }
}

/// Sets how long a block lasts, in seconds (at least 1; default 90 days).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_FRAUD_INVALID_CONFIG`.
///
/// # Safety
/// `config` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_block_period(
    config: *mut mfa_fraud_config,
    secs: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        config.inner = try_result!(config.inner.clone().with_block_period(secs).map_err(mfa_result::from));
        mfa_result::Ok
    }
}

/// Sets the custom fraud code entered on the phone before `#` (1 to 8
/// digits). It only takes effect with custom greetings uploaded; otherwise
/// the code stays `0`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_FRAUD_INVALID_CONFIG`.
///
/// # Safety
/// `config` is a live handle not used concurrently; `code` has `code_len`
/// readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_fraud_code(
    config: *mut mfa_fraud_config,
    code: *const c_char,
    code_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        // SAFETY: forwarded from this function's contract.
        let code = try_result!(unsafe { str_in(code, code_len) });
        let code = try_result!(ReportingCode::new(code).map_err(mfa_result::from));
        config.inner = config.inner.clone().with_fraud_code(code);
        mfa_result::Ok
    }
}

/// Whether custom voice greetings are uploaded (needed for a custom fraud
/// code to take effect).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_custom_greetings(
    config: *mut mfa_fraud_config,
    uploaded: bool,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        config.inner = config.inner.clone().with_custom_greetings(uploaded);
        mfa_result::Ok
    }
}

/// Turns suspicious-activity reporting (high user risk) on or off.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `config` is a live handle not used concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_suspicious_activity(
    config: *mut mfa_fraud_config,
    on: bool,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        config.inner = config.inner.clone().with_suspicious_activity(on);
        mfa_result::Ok
    }
}

/// Sets the suspicious-activity phone reporting code (1 to 8 digits); when
/// both features define one, this one wins.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_FRAUD_INVALID_CONFIG`.
///
/// # Safety
/// As `mfa_fraud_config_set_fraud_code`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_set_suspicious_activity_code(
    config: *mut mfa_fraud_config,
    code: *const c_char,
    code_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        // SAFETY: forwarded from this function's contract.
        let code = try_result!(unsafe { str_in(code, code_len) });
        let code = try_result!(ReportingCode::new(code).map_err(mfa_result::from));
        config.inner = config.inner.clone().with_suspicious_activity_code(code);
        mfa_result::Ok
    }
}

/// Adds an administrator to notify when fraud is reported (non-empty, no
/// control characters, at most 320 bytes; at most 100 recipients).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_FRAUD_INVALID_CONFIG`.
///
/// # Safety
/// `config` is a live handle not used concurrently; `recipient` has
/// `recipient_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_add_recipient(
    config: *mut mfa_fraud_config,
    recipient: *const c_char,
    recipient_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = config_mut!(config);
        // SAFETY: forwarded from this function's contract.
        let recipient = try_result!(unsafe { str_in(recipient, recipient_len) });
        let mut all: Vec<String> = config.inner.recipients().to_vec();
        all.push(recipient.to_owned());
        config.inner = try_result!(config.inner.clone().with_recipients(all).map_err(mfa_result::from));
        mfa_result::Ok
    }
}

/// Frees a configuration. NULL is a no-op.
///
/// # Safety
/// `config` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_config_free(config: *mut mfa_fraud_config) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(config) }
    }
}

/// Creates the state of a user with no block and no risk, in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_new(out: *mut *mut mfa_fraud_state) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_fraud_state { inner: FraudState::new() })) };
        mfa_result::Ok
    }
}

/// Frees a fraud state. NULL is a no-op.
///
/// # Safety
/// `state` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_free(state: *mut mfa_fraud_state) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(state) }
    }
}

/// Fills `*out` with whether the user is blocked at `now` (and why, since
/// and until when) and whether they are at high risk.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `state` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_info(
    state: *const mfa_fraud_state,
    now: u64,
    out: *mut mfa_fraud_info,
) -> mfa_result {
    ffi_panic_boundary! {
        let state = &try_ref!(state).inner;
        check_not_null!(out);
        let mut info = mfa_fraud_info::default();
        if let Some(b) = state.active_block(UnixTime::from_secs(now)) {
            info.blocked = true;
            info.block_cause = cause_to_u32(b.cause);
            info.block_since = b.since.secs();
            info.block_until = b.until.secs();
        }
        if let Some(r) = &state.risk {
            info.high_risk = true;
            info.detections = r.detections;
        }
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// `MFA_RESULT_OK` if a sign-in may be approved at `now`;
/// `MFA_RESULT_BLOCKED_BY_FRAUD` while blocked, `MFA_RESULT_HIGH_RISK` while
/// at high risk. Call it on every path that can approve a sign-in, at the
/// moment of approval.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BLOCKED_BY_FRAUD`,
/// `MFA_RESULT_HIGH_RISK`.
///
/// # Safety
/// `state` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_ensure_can_approve(
    state: *const mfa_fraud_state,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let state = try_ref!(state);
        match state.inner.ensure_can_approve(UnixTime::from_secs(now)) {
            Ok(()) => mfa_result::Ok,
            Err(e) => e.into(),
        }
    }
}

/// The end of the active block, for a timer; `MFA_RESULT_NOT_FOUND` when
/// not blocked.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND`.
///
/// # Safety
/// `state` is a live handle; `out_deadline` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_next_deadline(
    state: *const mfa_fraud_state,
    now: u64,
    out_deadline: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let state = try_ref!(state);
        check_not_null!(out_deadline);
        match state.inner.next_deadline(UnixTime::from_secs(now)) {
            Some(t) => {
                // SAFETY: checked non-NULL, writable per the contract.
                unsafe { write_out(out_deadline, t.secs()) };
                mfa_result::Ok
            }
            None => mfa_result::NotFound,
        }
    }
}

/// Applies `event` to `*state` at `now`; on success replaces the state and
/// stores the effects in `*out_effects`.
///
/// # Safety
/// `state` is a live handle not used concurrently; `config` is a live
/// handle; `out_effects` is non-NULL and writable.
unsafe fn apply(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    event: Event,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    // SAFETY: forwarded contract; `as_mut`/`as_ref` map NULL to `None`.
    let (Some(state), Some(config)) = (unsafe { state.as_mut() }, unsafe { config.as_ref() })
    else {
        return mfa_result::NullParameter;
    };
    if out_effects.is_null() {
        return mfa_result::NullParameter;
    }
    match state
        .inner
        .apply(&config.inner, event, UnixTime::from_secs(now))
    {
        Ok((next, effects)) => {
            state.inner = next;
            // SAFETY: checked non-NULL, writable per the contract.
            unsafe { write_out(out_effects, to_raw(mfa_fraud_effects { inner: effects })) };
            mfa_result::Ok
        }
        Err(e) => e.into(),
    }
}

/// The user reports an MFA prompt they did not start, from the app
/// (`MFA_FRAUD_CHANNEL_APP`) or on the phone (`_PHONE`;
/// `block_confirmed`: they pressed `1`). `passwordless`: no high risk is
/// raised. On success the state is updated and `*out_effects` receives the
/// effects to carry out (free them with `mfa_fraud_effects_free`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (channel), `MFA_RESULT_FRAUD_REPORTING_DISABLED`,
/// `MFA_RESULT_FRAUD_UNEXPECTED_CONFIRMATION`.
///
/// # Safety
/// `state` is a live handle not used concurrently; `config` is a live
/// handle; `out_effects` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_user_report(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    channel: u32,
    block_confirmed: bool,
    passwordless: bool,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(state, config, out_effects);
        let channel = try_result!(channel_from_u32(channel));
        let event = Event::UserReport { channel, block_confirmed, passwordless };
        // SAFETY: forwarded from this function's contract.
        unsafe { apply(state, config, event, now, out_effects) }
    }
}

/// An administrator blocks the user for the block period, with a reason
/// comment (required, at most 1024 bytes, no control characters).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_REASON_EMPTY`, `MFA_RESULT_REASON_TOO_LONG`,
/// `MFA_RESULT_REASON_CONTROL_CHAR`, `MFA_RESULT_ALREADY_BLOCKED`.
///
/// # Safety
/// As `mfa_fraud_state_user_report`; `reason` has `reason_len` readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_admin_block(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    reason: *const c_char,
    reason_len: usize,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(state, config, out_effects);
        // SAFETY: forwarded from this function's contract.
        let reason = try_result!(unsafe { str_in(reason, reason_len) });
        let event = Event::AdminBlock { reason: reason.to_owned() };
        // SAFETY: forwarded from this function's contract.
        unsafe { apply(state, config, event, now, out_effects) }
    }
}

/// An administrator unblocks the user, with a reason comment.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_REASON_EMPTY`, `MFA_RESULT_REASON_TOO_LONG`,
/// `MFA_RESULT_REASON_CONTROL_CHAR`, `MFA_RESULT_NOT_BLOCKED`.
///
/// # Safety
/// As `mfa_fraud_state_admin_block`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_admin_unblock(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    reason: *const c_char,
    reason_len: usize,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(state, config, out_effects);
        // SAFETY: forwarded from this function's contract.
        let reason = try_result!(unsafe { str_in(reason, reason_len) });
        let event = Event::AdminUnblock { reason: reason.to_owned() };
        // SAFETY: forwarded from this function's contract.
        unsafe { apply(state, config, event, now, out_effects) }
    }
}

/// Clears a block whose period has passed, and logs it.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_BLOCKED`,
/// `MFA_RESULT_BLOCK_NOT_EXPIRED`.
///
/// # Safety
/// As `mfa_fraud_state_user_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_block_expired(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(state, config, out_effects);
        // SAFETY: forwarded from this function's contract.
        unsafe { apply(state, config, Event::BlockExpired, now, out_effects) }
    }
}

/// Clears the user's high risk (`how`: an `mfa_fraud_remediation`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (how), `MFA_RESULT_NO_RISK`.
///
/// # Safety
/// As `mfa_fraud_state_user_report`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_state_risk_remediated(
    state: *mut mfa_fraud_state,
    config: *const mfa_fraud_config,
    how: u32,
    now: u64,
    out_effects: *mut *mut mfa_fraud_effects,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(state, config, out_effects);
        let how = match how {
            1 => Remediation::PasswordReset,
            2 => Remediation::AdminDismissal,
            _ => return mfa_result::InvalidParameter,
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { apply(state, config, Event::RiskRemediated { how }, now, out_effects) }
    }
}

/// Interprets the keys a user pressed on a phone call: `#` approves
/// (`MFA_FRAUD_KEYPAD_APPROVE`); the fraud code then `#` reports
/// (`MFA_FRAUD_KEYPAD_REPORT`), with `*out_block_confirmed` true when `1`
/// followed and auto-block is on.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_KEYPAD_INVALID_KEY`, `MFA_RESULT_KEYPAD_TOO_LONG`,
/// `MFA_RESULT_KEYPAD_UNRECOGNIZED`, `MFA_RESULT_FRAUD_REPORTING_DISABLED`,
/// `MFA_RESULT_FRAUD_UNEXPECTED_CONFIRMATION`.
///
/// # Safety
/// `config` is a live handle; `keys` has `keys_len` readable bytes;
/// `out_kind` and `out_block_confirmed` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_parse_keypad(
    config: *const mfa_fraud_config,
    keys: *const c_char,
    keys_len: usize,
    out_kind: *mut u32,
    out_block_confirmed: *mut bool,
) -> mfa_result {
    ffi_panic_boundary! {
        let config = try_ref!(config);
        check_not_null!(out_kind, out_block_confirmed);
        // SAFETY: forwarded from this function's contract.
        let keys = try_result!(unsafe { str_in(keys, keys_len) });
        let (kind, confirmed) = match try_result!(mfa_fraud::parse_keypad(&config.inner, keys).map_err(mfa_result::from)) {
            Keypad::Approve => (mfa_fraud_keypad::Approve, false),
            Keypad::Report { block_confirmed } => (mfa_fraud_keypad::Report, block_confirmed),
        };
        // SAFETY: both checked non-NULL, writable per the contract.
        unsafe {
            write_out(out_kind, kind as u32);
            write_out(out_block_confirmed, confirmed);
        }
        mfa_result::Ok
    }
}

/// The number of effects; 0 if `effects` is NULL.
///
/// # Safety
/// `effects` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_effects_len(effects: *const mfa_fraud_effects) -> usize {
    ffi_panic_boundary! {
        try_ref!(effects).inner.len()
    }
}

/// Fills `*out` with effect number `index` (0-based).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND` (index out of
/// range).
///
/// # Safety
/// `effects` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_effects_get(
    effects: *const mfa_fraud_effects,
    index: usize,
    out: *mut mfa_fraud_effect,
) -> mfa_result {
    ffi_panic_boundary! {
        let effects = try_ref!(effects);
        check_not_null!(out);
        let Some(e) = effects.inner.get(index) else {
            return mfa_result::NotFound;
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, effect_out(e)) };
        mfa_result::Ok
    }
}

/// Writes the comment of AUDIT effect `index` (the administrator's reason,
/// or how a risk was remediated) into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND` (no such
/// effect, not an audit effect, or no comment), `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `effects` is a live handle; `buf` has `buf_len` writable bytes (or is
/// NULL with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_effects_comment(
    effects: *const mfa_fraud_effects,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let effects = try_ref!(effects);
        check_not_null!(out_len);
        let Some(Effect::Audit { comment: Some(comment), .. }) = effects.inner.get(index) else {
            return mfa_result::NotFound;
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(comment.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Writes recipient number `recipient` of NOTIFY_ADMINISTRATORS effect
/// `index` into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND`,
/// `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_fraud_effects_comment`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_effects_recipient(
    effects: *const mfa_fraud_effects,
    index: usize,
    recipient: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let effects = try_ref!(effects);
        check_not_null!(out_len);
        let Some(Effect::NotifyAdministrators { recipients, .. }) = effects.inner.get(index) else {
            return mfa_result::NotFound;
        };
        let Some(r) = recipients.get(recipient) else {
            return mfa_result::NotFound;
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(r.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Frees an effects list. NULL is a no-op.
///
/// # Safety
/// `effects` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_fraud_effects_free(effects: *mut mfa_fraud_effects) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(effects) }
    }
}

/// The audit log text of an `mfa_fraud_audit_activity` (e.g. "Fraud
/// reported"), static and NUL-terminated; NULL for an unknown number.
#[unsafe(no_mangle)]
pub extern "C" fn mfa_fraud_audit_activity_name(activity: u32) -> *const c_char {
    ffi_panic_boundary! {
        activity_name(activity).map_or(core::ptr::null(), CStr::as_ptr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_names_match_the_library() {
        let all = [
            AuditActivity::FraudReportedUserBlocked,
            AuditActivity::FraudReportedNoAction,
            AuditActivity::FraudReported,
            AuditActivity::UserBlocked,
            AuditActivity::UserUnblocked,
            AuditActivity::BlockExpired,
            AuditActivity::RiskRemediated,
        ];
        for a in all {
            let name = activity_name(activity_to_u32(a)).expect("named");
            assert_eq!(name.to_str().expect("UTF-8"), a.as_str());
        }
        assert!(activity_name(0).is_none());
        assert!(activity_name(8).is_none());
    }
}
