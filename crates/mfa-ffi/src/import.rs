//! Token import: `mfa_import` reads a PSKC or CSV buffer (with an optional
//! pre-shared key or passphrase) into accepted `mfa_import_token`s, a report
//! of rejections with their location and typed reason, and the errors CSV.

use core::ffi::c_char;

use ::mfa_import::{
    CloudCsvReader, ImportReport, ImportedToken, Location, PskcOptions, PskcReader,
    ServerCsvReader, TokenKind, Warning,
};
use mfa_oath::{Hotp, Totp};

use crate::error::mfa_result;
use crate::ffi::{bytes_in, free_box, opt_str_in, text_out, to_raw, write_out};
use crate::otp::{mfa_hotp, mfa_hotp_state, mfa_totp, mfa_totp_state};
use crate::secret::{algorithm_to_u32, mfa_secret};
use crate::uri::mfa_otp_kind;

/// The format of a token file. Passed as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_import_format {
    /// PSKC (RFC 6030) XML, plain or encrypted.
    Pskc = 1,
    /// The on-premises CSV format: serial number, base32 secret, time
    /// interval (header row optional).
    CsvServer = 2,
    /// The cloud CSV format, header required:
    /// `upn,serial number,secret key,time interval,manufacturer,model`.
    CsvCloud = 3,
}

/// A text field of an imported token (`mfa_import_token_field`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_import_field {
    /// The serial number.
    Serial = 1,
    /// The PSKC key Id.
    KeyId = 2,
    /// The manufacturer.
    Manufacturer = 3,
    /// The model.
    Model = 4,
    /// The issuer.
    Issuer = 5,
    /// The friendly name.
    FriendlyName = 6,
    /// The user the token is for (CSV `upn`, PSKC `UserId`).
    User = 7,
}

/// The kind of an import warning.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_import_warning_kind {
    /// A CSV column that is not part of the format was ignored.
    IgnoredColumn = 1,
    /// A token's secret is under 128 bits (accepted, but weak).
    WeakSecret = 2,
}

/// The outcome of one import, read all at once by `mfa_import_new` (opaque):
/// accepted tokens, rejections, warnings, and the upload's CSV header.
/// Immutable: any number of threads may read it at once. Freed by
/// `mfa_import_free`, which wipes the secrets and rejected rows it holds.
pub struct mfa_import {
    tokens: Vec<ImportedToken>,
    report: ImportReport,
    header: Option<Vec<String>>,
}

impl mfa_import {
    /// The accepted tokens, in file order.
    pub(crate) fn tokens(&self) -> &[ImportedToken] {
        &self.tokens
    }
}

/// One accepted token (opaque), a copy owned by the caller. Freed (secret
/// wiped) by `mfa_import_token_free`. Immutable.
pub struct mfa_import_token {
    inner: ImportedToken,
}

/// Counts of one import.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_import_summary {
    /// Accepted tokens (`mfa_import_token_get` 0..accepted-1).
    pub accepted: usize,
    /// Rejected tokens or rows (`mfa_import_rejection_get`).
    pub rejected: usize,
    /// Warnings (`mfa_import_warning_get`).
    pub warnings: usize,
    /// Whether reading stopped early on a fatal problem (then the file is
    /// not fully imported; `fatal_error` says why).
    pub incomplete: bool,
    /// The `mfa_result` of the fatal problem, or `MFA_RESULT_OK`.
    pub fatal_error: u32,
}

/// One rejected token or row.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_import_rejection {
    /// Why, as an `mfa_result` code (for example
    /// `MFA_RESULT_IMPORT_WRONG_PASSPHRASE`, `MFA_RESULT_INVALID_BASE32_CHAR`).
    pub error: u32,
    /// The line in the file (1-based).
    pub line: u64,
    /// Whether `package` is set (PSKC).
    pub has_package: bool,
    /// The KeyPackage index (1-based) in a PSKC file.
    pub package: usize,
    /// Whether the problem stopped the reading of the whole file.
    pub fatal: bool,
}

/// One import warning.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_import_warning {
    /// An `mfa_import_warning_kind`.
    pub kind: u32,
    /// WEAK_SECRET: the token's line.
    pub line: u64,
}

/// The numeric fields of an imported token.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mfa_import_token_info {
    /// `MFA_OTP_KIND_TOTP` or `MFA_OTP_KIND_HOTP`.
    pub kind: u32,
    /// An `mfa_algorithm`.
    pub algorithm: u32,
    /// Digits per code.
    pub digits: u32,
    /// TOTP: the period in seconds (0 for HOTP).
    pub period: u64,
    /// TOTP: T0 in Unix seconds.
    pub t0: u64,
    /// HOTP: the counter of the token's next code (the file's Counter).
    pub next_counter: u64,
    /// TOTP: the file's TimeDrift, in steps.
    pub drift: i64,
    /// The line where the token was found.
    pub line: u64,
    /// Whether `not_before` is set.
    pub has_not_before: bool,
    /// Start of validity (Unix seconds).
    pub not_before: i64,
    /// Whether `not_after` is set.
    pub has_not_after: bool,
    /// End of validity (Unix seconds).
    pub not_after: i64,
    /// Whether the secret is under 128 bits.
    pub weak_secret: bool,
}

fn read_all<I>(items: I, report: &mut ImportReport) -> Vec<ImportedToken>
where
    I: Iterator<Item = Result<ImportedToken, ::mfa_import::Rejection>>,
{
    let mut tokens = Vec::new();
    for item in items {
        tokens.extend(report.record(item));
    }
    tokens
}

/// Reads a whole token file from `data[0..len]` and stores the outcome in
/// `*out`. `format` is an `mfa_import_format`. For encrypted PSKC files,
/// give the pre-shared key (`key`, `key_len`; NULL for none) and/or the
/// passphrase (`passphrase`, `passphrase_len`; NULL for none); both are
/// ignored for CSV. Problems with single tokens (a bad secret, a wrong
/// passphrase making a ValueMAC mismatch, a duplicate serial) and a fatal
/// problem with the file (malformed XML, truncation, a limit) are not errors
/// of this function: they are in the report (`mfa_import_summary`,
/// `mfa_import_rejection_get`). Nothing is imported anywhere: applying the
/// accepted tokens is the caller's choice.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (format), `MFA_RESULT_INVALID_UTF8` (passphrase).
///
/// # Safety
/// `data` has `len` readable bytes; `key` is NULL or has `key_len` readable
/// bytes; `passphrase` is NULL or has `passphrase_len` readable bytes; `out`
/// is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_new(
    format: u32,
    data: *const u8,
    len: usize,
    key: *const u8,
    key_len: usize,
    passphrase: *const c_char,
    passphrase_len: usize,
    out: *mut *mut mfa_import,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let data = try_result!(unsafe { bytes_in(data, len) });
        let key = if key.is_null() {
            None
        } else {
            // SAFETY: forwarded from this function's contract.
            Some(try_result!(unsafe { bytes_in(key, key_len) }))
        };
        // SAFETY: forwarded from this function's contract.
        let passphrase = try_result!(unsafe { opt_str_in(passphrase, passphrase_len) });
        let mut report = ImportReport::new();
        let (tokens, header) = match format {
            1 => {
                let mut options = PskcOptions::new();
                if let Some(k) = key {
                    options = options.key(k);
                }
                if let Some(p) = passphrase {
                    options = options.passphrase(p);
                }
                let tokens = read_all(PskcReader::new(data, options).tokens(), &mut report);
                (tokens, None)
            }
            2 => {
                let mut reader = ServerCsvReader::new(data);
                let tokens = read_all(reader.by_ref(), &mut report);
                (tokens, reader.header().map(<[String]>::to_vec))
            }
            3 => {
                let mut reader = CloudCsvReader::new(data);
                let tokens = read_all(reader.by_ref(), &mut report);
                report.ignored_columns(reader.ignored_columns());
                (tokens, reader.header().map(<[String]>::to_vec))
            }
            _ => return mfa_result::InvalidParameter,
        };
        let import = mfa_import { tokens, report, header };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(import)) };
        mfa_result::Ok
    }
}

/// Fills `*out` with the counts of the import.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `import` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_summary_get(
    import: *const mfa_import,
    out: *mut mfa_import_summary,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out);
        let fatal = import.report.rejected.iter().find(|r| r.is_fatal());
        let summary = mfa_import_summary {
            accepted: import.tokens.len(),
            rejected: import.report.rejected.len(),
            warnings: import.report.warnings.len(),
            incomplete: fatal.is_some(),
            fatal_error: fatal.map_or(mfa_result::Ok, |r| r.error.clone().into()) as u32,
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, summary) };
        mfa_result::Ok
    }
}

/// Stores a copy of accepted token number `index` (0-based, in file order)
/// in `*out`; free it with `mfa_import_token_free`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND` (index out of
/// range).
///
/// # Safety
/// `import` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_get(
    import: *const mfa_import,
    index: usize,
    out: *mut *mut mfa_import_token,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out);
        let Some(token) = import.tokens.get(index) else {
            return mfa_result::NotFound;
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_import_token { inner: token.clone() })) };
        mfa_result::Ok
    }
}

/// Fills `*out` with rejection number `index` (0-based, in file order).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND`.
///
/// # Safety
/// `import` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_rejection_get(
    import: *const mfa_import,
    index: usize,
    out: *mut mfa_import_rejection,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out);
        let Some(r) = import.report.rejected.get(index) else {
            return mfa_result::NotFound;
        };
        let package = match &r.location {
            Location::KeyPackage { index, .. } => Some(*index),
            _ => None,
        };
        let info = mfa_import_rejection {
            error: mfa_result::from(r.error.clone()) as u32,
            line: r.location.line(),
            has_package: package.is_some(),
            package: package.unwrap_or(0),
            fatal: r.is_fatal(),
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// Writes the text of rejection number `index` for an administrator, with
/// its location (for example `line 3 (serial "7654321"): invalid secret:
/// ...`), NUL-terminated, into `buf`. It never contains a secret.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND`,
/// `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `import` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_rejection_message(
    import: *const mfa_import,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out_len);
        let Some(r) = import.report.rejected.get(index) else {
            return mfa_result::NotFound;
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(r.to_string().as_bytes(), buf, buf_len, out_len) }
    }
}

/// Fills `*out` with warning number `index`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_NOT_FOUND`.
///
/// # Safety
/// `import` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_warning_get(
    import: *const mfa_import,
    index: usize,
    out: *mut mfa_import_warning,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out);
        let Some(w) = import.report.warnings.get(index) else {
            return mfa_result::NotFound;
        };
        let info = match w {
            Warning::IgnoredColumn { .. } => mfa_import_warning {
                kind: mfa_import_warning_kind::IgnoredColumn as u32,
                line: 1,
            },
            Warning::WeakSecret { location } => mfa_import_warning {
                kind: mfa_import_warning_kind::WeakSecret as u32,
                line: location.line(),
            },
            _ => mfa_import_warning::default(),
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// Writes the errors CSV into `buf`, NUL-terminated: for CSV uploads the
/// rejected rows as uploaded plus `line` and `error` columns, for PSKC files
/// `line,package,serial,key_id,error`; every cell is neutralised against
/// spreadsheet formula injection. For a CSV upload the rows contain the
/// rejected secrets: wipe the buffer after use.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_import_rejection_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_errors_csv(
    import: *const mfa_import,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let import = try_ref!(import);
        check_not_null!(out_len);
        let mut text = zeroize::Zeroizing::new(Vec::new());
        try_result!(::mfa_import::write_errors_csv(
            &mut *text,
            import.header.as_deref(),
            &import.report.rejected,
        )
        .map_err(mfa_result::from));
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(&text, buf, buf_len, out_len) }
    }
}

/// Frees an import, wiping the secrets and rejected rows it holds. NULL is a
/// no-op. Tokens already taken with `mfa_import_token_get` stay valid.
///
/// # Safety
/// `import` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_free(import: *mut mfa_import) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(import) }
    }
}

/// Fills `*out` with the token's kind, parameters, initial state, line and
/// validity dates.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `token` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_info_get(
    token: *const mfa_import_token,
    out: *mut mfa_import_token_info,
) -> mfa_result {
    ffi_panic_boundary! {
        let t = &try_ref!(token).inner;
        check_not_null!(out);
        let mut info = mfa_import_token_info {
            algorithm: algorithm_to_u32(t.algorithm()),
            digits: u32::from(t.digits().get()),
            line: t.location.line(),
            has_not_before: t.not_before.is_some(),
            not_before: t.not_before.unwrap_or(0),
            has_not_after: t.not_after.is_some(),
            not_after: t.not_after.unwrap_or(0),
            weak_secret: t.secret.is_weak(),
            ..mfa_import_token_info::default()
        };
        match t.kind {
            TokenKind::Totp { params, state } => {
                info.kind = mfa_otp_kind::Totp as u32;
                info.period = params.period.seconds();
                info.t0 = params.t0.secs();
                info.drift = state.drift;
            }
            TokenKind::Hotp { state, .. } => {
                info.kind = mfa_otp_kind::Hotp as u32;
                info.next_counter = state.next_counter().unwrap_or(u64::MAX);
            }
            _ => return mfa_result::Unknown,
        }
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, info) };
        mfa_result::Ok
    }
}

/// Writes a text field (an `mfa_import_field`) of the token into `buf`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (field), `MFA_RESULT_NOT_FOUND` (the file did not give it),
/// `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `token` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_field(
    token: *const mfa_import_token,
    field: u32,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let t = &try_ref!(token).inner;
        check_not_null!(out_len);
        let value = match field {
            1 => &t.serial,
            2 => &t.key_id,
            3 => &t.manufacturer,
            4 => &t.model,
            5 => &t.issuer,
            6 => &t.friendly_name,
            7 => &t.user,
            _ => return mfa_result::InvalidParameter,
        };
        let Some(value) = value else {
            return mfa_result::NotFound;
        };
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(value.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Stores a copy of the token's secret in `*out` (free it with
/// `mfa_secret_free`).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`.
///
/// # Safety
/// `token` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_secret(
    token: *const mfa_import_token,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        let t = &try_ref!(token).inner;
        check_not_null!(out);
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out, to_raw(mfa_secret { inner: t.secret.clone() })) };
        mfa_result::Ok
    }
}

/// Stores the TOTP token in `*out` and its initial verifier state (the
/// file's drift, no step used) in `*out_state`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_WRONG_TOKEN_KIND` (HOTP).
///
/// # Safety
/// `token` is a live handle; `out` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_to_totp(
    token: *const mfa_import_token,
    out: *mut *mut mfa_totp,
    out_state: *mut mfa_totp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let t = &try_ref!(token).inner;
        check_not_null!(out, out_state);
        let TokenKind::Totp { params, state } = t.kind else {
            return mfa_result::WrongTokenKind;
        };
        let inner = Totp::new(t.secret.clone(), params);
        // SAFETY: both checked non-NULL, writable per the contract.
        unsafe {
            write_out(out, to_raw(mfa_totp { inner }));
            write_out(out_state, state.into());
        }
        mfa_result::Ok
    }
}

/// Stores the HOTP token in `*out` and its initial verifier state (the
/// file's Counter is the next counter to accept) in `*out_state`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_WRONG_TOKEN_KIND` (TOTP).
///
/// # Safety
/// `token` is a live handle; `out` and `out_state` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_to_hotp(
    token: *const mfa_import_token,
    out: *mut *mut mfa_hotp,
    out_state: *mut mfa_hotp_state,
) -> mfa_result {
    ffi_panic_boundary! {
        let t = &try_ref!(token).inner;
        check_not_null!(out, out_state);
        let TokenKind::Hotp { params, state } = t.kind else {
            return mfa_result::WrongTokenKind;
        };
        let inner = Hotp::new(t.secret.clone(), params);
        // SAFETY: both checked non-NULL, writable per the contract.
        unsafe {
            write_out(out, to_raw(mfa_hotp { inner }));
            write_out(out_state, state.into());
        }
        mfa_result::Ok
    }
}

/// Frees a token, wiping its secret. NULL is a no-op.
///
/// # Safety
/// `token` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_import_token_free(token: *mut mfa_import_token) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract.
        unsafe { free_box(token) }
    }
}
