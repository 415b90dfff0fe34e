//! Store administration through the C ABI: everything `mfa` (the CLI) can
//! do to a store besides signing in: user records, app passwords,
//! remembered devices, trusted IP ranges, administrator fraud block and risk
//! remediation, unassigning tokens, stored settings, backup and restore.
//! Each function is one transaction of mfa-store and is audited there.

use core::ffi::c_char;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::PoisonError;

use ::mfa_store::UserProfile;
use ::mfa_store::mfa_fraud::Remediation;
use ::mfa_store::mfa_oath::UnixTime;

use crate::error::mfa_result;
use crate::ffi::{bytes_in, opt_str_in, str_in, write_out};
use crate::store::mfa_store;
use crate::store_auth::{check_credential_buf, credential_out};

/// A file path from C: bytes on Unix (any file name), UTF-8 elsewhere.
///
/// # Safety
/// As [`bytes_in`].
unsafe fn path_in(ptr: *const c_char, len: usize) -> Result<PathBuf, mfa_result> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_in(ptr.cast::<u8>(), len)? };
    if bytes.is_empty() || bytes.contains(&0) {
        return Err(mfa_result::InvalidParameter);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        core::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| mfa_result::InvalidUtf8)
    }
}

fn io_error(e: &std::io::Error) -> mfa_result {
    match e.kind() {
        ErrorKind::AlreadyExists => mfa_result::FileExists,
        ErrorKind::NotFound => mfa_result::NotFound,
        ErrorKind::InvalidInput => mfa_result::InvalidParameter,
        _ => mfa_result::Io,
    }
}

/// Maps a unit result of the store to a code.
fn done<T>(r: Result<T, ::mfa_store::Error>) -> mfa_result {
    match r {
        Ok(_) => mfa_result::Ok,
        Err(e) => e.into(),
    }
}

/// Creates or replaces the record of `user`: first and last name, e-mail
/// address and phone number, each optional (NULL: none; a field that was
/// set is cleared). A phone number lets the user answer a challenge with an
/// SMS or voice code.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_FIELD_LENGTH`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` designates readable bytes; each
/// optional pointer is NULL or has its length of readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_put_user(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    first_name: *const c_char,
    first_name_len: usize,
    last_name: *const c_char,
    last_name_len: usize,
    email: *const c_char,
    email_len: usize,
    phone: *const c_char,
    phone_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract (each pair).
        let (user, first, last, email, phone) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(opt_str_in(first_name, first_name_len)),
                try_result!(opt_str_in(last_name, last_name_len)),
                try_result!(opt_str_in(email, email_len)),
                try_result!(opt_str_in(phone, phone_len)),
            )
        };
        let mut profile = UserProfile::new(user);
        profile.first_name = first.map(str::to_owned);
        profile.last_name = last.map(str::to_owned);
        profile.email = email.map(str::to_owned);
        profile.phone = phone.map(str::to_owned);
        done(store.inner().put_user(&profile, UnixTime::from_secs(now)))
    }
}

/// Creates an app password named `name` for `user` (an application that
/// cannot do MFA signs in with it through `mfa_store_authenticate` and
/// `MFA_AUTH_METHOD_APP_PASSWORD`, with its own lockout class). The store
/// generates it (128 random bits, 26 lower-case base32 characters) and
/// keeps only a keyed hash; it is written NUL-terminated into `buf`, to be
/// shown once. `buf` must hold `MFA_CREDENTIAL_MAX` bytes: checked before
/// anything is done (`MFA_RESULT_BUFFER_TOO_SMALL`, nothing created).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_BUFFER_TOO_SMALL`, `MFA_RESULT_UNKNOWN_USER`,
/// `MFA_RESULT_FIELD_LENGTH` (name 1 to 64 bytes),
/// `MFA_RESULT_APP_PASSWORD_EXISTS`, `MFA_RESULT_TOO_MANY_APP_PASSWORDS`,
/// `MFA_RESULT_RNG`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `user` and `name` designate readable bytes;
/// `buf` has `buf_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_add_app_password(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    name: *const c_char,
    name_len: usize,
    now: u64,
    buf: *mut c_char,
    buf_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        try_result!(check_credential_buf(buf, buf_len));
        // SAFETY: forwarded from this function's contract.
        let (user, name) = unsafe { (try_result!(str_in(user, user_len)), try_result!(str_in(name, name_len))) };
        let password = try_result!(store
            .inner()
            .add_app_password(user, name, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        // SAFETY: `buf` passed `check_credential_buf` above.
        unsafe { credential_out(&password, buf) }
    }
}

/// Deletes all of `user`'s app passwords at once (e.g. after a lost phone);
/// `actor` and `reason` go into the audit log. `*out_deleted` receives how
/// many were deleted.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_USER`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes; `out_deleted` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_delete_app_passwords(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    actor: *const c_char,
    actor_len: usize,
    reason: *const c_char,
    reason_len: usize,
    now: u64,
    out_deleted: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_deleted);
        // SAFETY: forwarded from this function's contract.
        let (user, actor, reason) = unsafe {
            (
                try_result!(str_in(user, user_len)),
                try_result!(str_in(actor, actor_len)),
                try_result!(str_in(reason, reason_len)),
            )
        };
        let n = try_result!(store
            .inner()
            .delete_app_passwords(user, actor, reason, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_deleted, n) };
        mfa_result::Ok
    }
}

/// Forgets every remembered device of `user` (their device tokens no
/// longer bypass MFA); audited with `actor`. `*out_revoked` receives how
/// many.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes; `out_revoked` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_revoke_devices(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    actor: *const c_char,
    actor_len: usize,
    now: u64,
    out_revoked: *mut u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_revoked);
        // SAFETY: forwarded from this function's contract.
        let (user, actor) = unsafe { (try_result!(str_in(user, user_len)), try_result!(str_in(actor, actor_len))) };
        let n = try_result!(store
            .inner()
            .revoke_devices(user, actor, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_revoked, n) };
        mfa_result::Ok
    }
}

/// Adds a trusted IP range (CIDR text, IPv4 or IPv6, e.g. `10.0.0.0/8`):
/// a sign-in from it is approved without a second factor, unless the user
/// is blocked, at risk or locked out. Adding a range that exists does
/// nothing. The change is in the audit log with `actor`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (not a CIDR range),
/// `MFA_RESULT_TOO_MANY_TRUSTED_RANGES`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `cidr` and `actor` have `cidr_len` and
/// `actor_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_add_trusted_range(
    store: *const mfa_store,
    cidr: *const c_char,
    cidr_len: usize,
    actor: *const c_char,
    actor_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let (cidr, actor) = unsafe {
            (try_result!(str_in(cidr, cidr_len)), try_result!(str_in(actor, actor_len)))
        };
        done(store.inner().add_trusted_range(cidr, actor, UnixTime::from_secs(now)))
    }
}

/// Removes a trusted IP range; `*out_removed` is 1 if it existed, else 0.
/// The change is in the audit log with `actor`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (not a CIDR range),
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `cidr` and `actor` have `cidr_len` and
/// `actor_len` readable bytes; `out_removed` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_remove_trusted_range(
    store: *const mfa_store,
    cidr: *const c_char,
    cidr_len: usize,
    actor: *const c_char,
    actor_len: usize,
    now: u64,
    out_removed: *mut u8,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        check_not_null!(out_removed);
        // SAFETY: forwarded from this function's contract.
        let (cidr, actor) = unsafe {
            (try_result!(str_in(cidr, cidr_len)), try_result!(str_in(actor, actor_len)))
        };
        let removed = try_result!(store
            .inner()
            .remove_trusted_range(cidr, actor, UnixTime::from_secs(now))
            .map_err(mfa_result::from));
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(out_removed, u8::from(removed)) };
        mfa_result::Ok
    }
}

/// An administrator (`actor`) blocks `user` for MFA, with a reason for the
/// audit log: every sign-in is denied with `MFA_RESULT_BLOCKED_BY_ADMIN`,
/// a trusted IP or remembered device included, until
/// `mfa_store_fraud_unblock`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_USER`, `MFA_RESULT_ALREADY_BLOCKED`,
/// `MFA_RESULT_REASON_EMPTY`, `MFA_RESULT_REASON_TOO_LONG`,
/// `MFA_RESULT_REASON_CONTROL_CHAR`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_fraud_block(
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
        done(store.inner().fraud_block(user, actor, reason, UnixTime::from_secs(now), &store.ctx))
    }
}

/// Clears the high risk of `user` after a suspicious-activity report
/// (`how`: an `mfa_fraud_remediation`, password reset or administrator
/// dismissal), audited with `actor`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_PARAMETER` (how), `MFA_RESULT_UNKNOWN_USER`,
/// `MFA_RESULT_NO_RISK`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_remediate_risk(
    store: *const mfa_store,
    user: *const c_char,
    user_len: usize,
    how: u32,
    actor: *const c_char,
    actor_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        let how = match how {
            1 => Remediation::PasswordReset,
            2 => Remediation::AdminDismissal,
            _ => return mfa_result::InvalidParameter,
        };
        // SAFETY: forwarded from this function's contract.
        let (user, actor) = unsafe { (try_result!(str_in(user, user_len)), try_result!(str_in(actor, actor_len))) };
        done(store.inner().remediate_risk(user, actor, how, UnixTime::from_secs(now), &store.ctx))
    }
}

/// Removes token `serial` from its user and deactivates it (a later code
/// of it is `MFA_RESULT_NOT_ACTIVATED`); audited.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_TOKEN`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `serial` has `serial_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_unassign(
    store: *const mfa_store,
    serial: *const c_char,
    serial_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let serial = try_result!(unsafe { str_in(serial, serial_len) });
        done(store.inner().unassign(serial, UnixTime::from_secs(now)))
    }
}

/// Splits `name=value` lines (`\n` or `\r\n`; blank lines and lines
/// starting with `#` are skipped; spaces around name and value trimmed).
fn setting_pairs(text: &str) -> Result<Vec<(&str, &str)>, mfa_result> {
    /// The most lines `mfa_store_set_settings` takes.
    const MAX_SETTING_LINES: usize = 256;
    let mut pairs = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(mfa_result::InvalidSetting);
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(mfa_result::InvalidSetting);
        }
        if pairs.len() == MAX_SETTING_LINES {
            return Err(mfa_result::InvalidParameter);
        }
        pairs.push((name, value.trim()));
    }
    Ok(pairs)
}

/// Stores settings shared by every server of the store, given as
/// `name=value` lines in one text (`lockout.denials=5\nremember_device.days=30`;
/// blank lines and `#` comments are skipped; an empty value returns that
/// setting to its default), all or nothing: every line is checked first and
/// one bad line stores none. Each change is audited with `actor`. This
/// handle applies them at once (calls in flight on other threads finish
/// first); other handles and servers when they next open the store. The
/// names are mfa-store's `SETTINGS` (`mfa config show` lists them).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_UNKNOWN_SETTING`, `MFA_RESULT_INVALID_SETTING` (a value, or
/// a line that is not `name=value`), `MFA_RESULT_INVALID_PARAMETER` (more
/// than 256 lines), `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; each pointer/length pair designates readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_set_settings(
    store: *const mfa_store,
    settings: *const c_char,
    settings_len: usize,
    actor: *const c_char,
    actor_len: usize,
    now: u64,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let (text, actor) = unsafe {
            (try_result!(str_in(settings, settings_len)), try_result!(str_in(actor, actor_len)))
        };
        let pairs = try_result!(setting_pairs(text));
        // The one writer of the lock: see `mfa_store::inner` for why a
        // poisoned lock is taken over.
        let mut inner = store.inner.write().unwrap_or_else(PoisonError::into_inner);
        done(inner.set_settings(&pairs, actor, UnixTime::from_secs(now)))
    }
}

/// Writes a consistent snapshot of the whole store (secrets stay sealed
/// under the master key) to a new file at `path` (bytes, no NUL), created
/// with mode 0600; an existing file is never overwritten
/// (`MFA_RESULT_FILE_EXISTS`). On failure the partial file is removed.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (empty path or an embedded NUL), `MFA_RESULT_FILE_EXISTS`,
/// `MFA_RESULT_NOT_FOUND` (no such directory), `MFA_RESULT_IO`,
/// `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `path` has `path_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_backup_to_file(
    store: *const mfa_store,
    path: *const c_char,
    path_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let path = try_result!(unsafe { path_in(path, path_len) });
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = try_result!(options.open(&path).map_err(|e| io_error(&e)));
        let written = store
            .inner()
            .backup(&file)
            .map_err(mfa_result::from)
            .and_then(|()| file.sync_all().map_err(|e| io_error(&e)));
        drop(file);
        match written {
            Ok(()) => mfa_result::Ok,
            Err(code) => {
                // This call created the file: a partial backup is not left.
                let _ = std::fs::remove_file(&path);
                code
            }
        }
    }
}

/// Restores a backup file written by `mfa_store_backup_to_file` (or `mfa
/// backup`, from either backend) into this store, which must be empty
/// (freshly created) and opened with the master key the backup is sealed
/// with. One transaction: if the file is malformed, altered or for another
/// key, nothing is restored. Restored settings apply to handles opened
/// afterwards (free and reopen this one).
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_PARAMETER`
/// (empty path or an embedded NUL), `MFA_RESULT_NOT_FOUND`,
/// `MFA_RESULT_RESTORE_TARGET_NOT_EMPTY`, `MFA_RESULT_BACKUP_FORMAT`,
/// `MFA_RESULT_BACKUP_CHECKSUM`, `MFA_RESULT_WRONG_MASTER_KEY`,
/// `MFA_RESULT_IO`, `MFA_RESULT_DATABASE`.
///
/// # Safety
/// `store` is a live handle; `path` has `path_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_store_restore_from_file(
    store: *const mfa_store,
    path: *const c_char,
    path_len: usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let store = try_ref!(store);
        // SAFETY: forwarded from this function's contract.
        let path = try_result!(unsafe { path_in(path, path_len) });
        let file = try_result!(File::open(&path).map_err(|e| io_error(&e)));
        done(store.inner().restore(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_lines() {
        assert_eq!(
            setting_pairs("a=1\r\n\n# note\n b = 2 \nc=\n"),
            Ok(vec![("a", "1"), ("b", "2"), ("c", "")])
        );
        assert_eq!(
            setting_pairs("a=1\nno equals"),
            Err(mfa_result::InvalidSetting)
        );
        assert_eq!(setting_pairs("=1"), Err(mfa_result::InvalidSetting));
        assert_eq!(setting_pairs(""), Ok(vec![]));
        let many = "a=1\n".repeat(257);
        assert_eq!(setting_pairs(&many), Err(mfa_result::InvalidParameter));
    }

    #[test]
    fn paths_refuse_empty_and_nul() {
        // SAFETY: local byte strings of the given lengths.
        unsafe {
            assert_eq!(path_in(c"".as_ptr(), 0), Err(mfa_result::InvalidParameter));
            assert_eq!(
                path_in(b"a\0b".as_ptr().cast(), 3),
                Err(mfa_result::InvalidParameter)
            );
            assert_eq!(
                path_in(core::ptr::null(), 3),
                Err(mfa_result::NullParameter)
            );
            assert_eq!(
                path_in(b"/tmp/x".as_ptr().cast(), 6),
                Ok(PathBuf::from("/tmp/x"))
            );
        }
    }
}
