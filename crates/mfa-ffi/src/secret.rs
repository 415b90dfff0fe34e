//! `mfa_secret`: a token's shared secret, wiped from memory when freed.

use core::ffi::c_char;

use mfa_oath::{Algorithm, Secret};

use crate::error::mfa_result;
use crate::ffi::{bytes_in, free_box, str_in, text_out, to_raw, write_out};

/// A token's shared secret (opaque). Created by `mfa_secret_from_base32`,
/// `mfa_secret_from_hex`, `mfa_secret_from_bytes` or `mfa_secret_generate`;
/// freed (and its bytes overwritten with zeros) by `mfa_secret_free`.
/// Immutable once created: any number of threads may read it at once.
pub struct mfa_secret {
    pub(crate) inner: Secret,
}

/// The HMAC hash of a token. Passed and returned as `uint32_t`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mfa_algorithm {
    /// HMAC-SHA-1 (the default of nearly every token).
    Sha1 = 1,
    /// HMAC-SHA-256.
    Sha256 = 2,
    /// HMAC-SHA-512.
    Sha512 = 3,
}

/// The `Algorithm` for an `mfa_algorithm` number.
pub(crate) fn algorithm_from_u32(n: u32) -> Result<Algorithm, mfa_result> {
    match n {
        1 => Ok(Algorithm::Sha1),
        2 => Ok(Algorithm::Sha256),
        3 => Ok(Algorithm::Sha512),
        _ => Err(mfa_result::UnknownAlgorithm),
    }
}

/// The `mfa_algorithm` number of an `Algorithm`.
pub(crate) fn algorithm_to_u32(a: Algorithm) -> u32 {
    match a {
        Algorithm::Sha256 => mfa_algorithm::Sha256 as u32,
        Algorithm::Sha512 => mfa_algorithm::Sha512 as u32,
        _ => mfa_algorithm::Sha1 as u32,
    }
}

fn give(secret: Result<Secret, mfa_oath::Error>, out: *mut *mut mfa_secret) -> mfa_result {
    match secret {
        Ok(inner) => {
            // SAFETY: the callers checked `out` for NULL; it is writable per
            // their `# Safety` contract.
            unsafe { write_out(out, to_raw(mfa_secret { inner })) };
            mfa_result::Ok
        }
        Err(e) => e.into(),
    }
}

/// Decodes a base32 secret (RFC 4648; lower case, `=` padding, spaces and
/// dashes accepted; 80 bits to 1024 bytes) and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_BASE32_CHAR`, `MFA_RESULT_INVALID_BASE32_LENGTH`,
/// `MFA_RESULT_SECRET_EMPTY`, `MFA_RESULT_SECRET_TOO_SHORT`,
/// `MFA_RESULT_SECRET_TOO_LONG`.
///
/// # Safety
/// `text` points to `text_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_from_base32(
    text: *const c_char,
    text_len: usize,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let text = try_result!(unsafe { str_in(text, text_len) });
        give(Secret::from_base32(text), out)
    }
}

/// Decodes a hex secret (spaces allowed) and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_INVALID_UTF8`,
/// `MFA_RESULT_INVALID_HEX_CHAR`, `MFA_RESULT_INVALID_HEX_LENGTH`,
/// `MFA_RESULT_SECRET_EMPTY`, `MFA_RESULT_SECRET_TOO_SHORT`,
/// `MFA_RESULT_SECRET_TOO_LONG`.
///
/// # Safety
/// `text` points to `text_len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_from_hex(
    text: *const c_char,
    text_len: usize,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let text = try_result!(unsafe { str_in(text, text_len) });
        give(Secret::from_hex(text), out)
    }
}

/// Copies `len` raw secret bytes into a new handle stored in `*out`. The
/// caller should wipe its own copy.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_SECRET_EMPTY`,
/// `MFA_RESULT_SECRET_TOO_SHORT`, `MFA_RESULT_SECRET_TOO_LONG`.
///
/// # Safety
/// `bytes` points to `len` readable bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        // SAFETY: forwarded from this function's contract.
        let bytes = try_result!(unsafe { bytes_in(bytes, len) });
        give(Secret::from_bytes(bytes), out)
    }
}

/// Generates a fresh random secret of the hash's output size (20, 32 or 64
/// bytes for `MFA_ALGORITHM_SHA1`, `_SHA256`, `_SHA512`) from the operating
/// system's random number generator and stores a new handle in `*out`.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_UNKNOWN_ALGORITHM`,
/// `MFA_RESULT_RNG`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_generate(
    algorithm: u32,
    out: *mut *mut mfa_secret,
) -> mfa_result {
    ffi_panic_boundary! {
        check_not_null!(out);
        let algorithm = try_result!(algorithm_from_u32(algorithm));
        give(Secret::generate(&mut getrandom::SysRng, algorithm), out)
    }
}

/// Writes the secret as upper-case base32 without padding, NUL-terminated,
/// into `buf`. `*out_len` gets the length without the NUL (also when the
/// buffer is too small). The text is the secret: wipe it after use.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `secret` is a live handle; `buf` has `buf_len` writable bytes (or is NULL
/// with `buf_len` 0 to query the size); `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_to_base32(
    secret: *const mfa_secret,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let secret = try_ref!(secret);
        let text = secret.inner.to_base32();
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(text.as_bytes(), buf, buf_len, out_len) }
    }
}

/// Writes the secret as lower-case hex, NUL-terminated, into `buf`; as
/// `mfa_secret_to_base32` otherwise.
///
/// Errors: `MFA_RESULT_NULL_PARAMETER`, `MFA_RESULT_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `mfa_secret_to_base32`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_to_hex(
    secret: *const mfa_secret,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    ffi_panic_boundary! {
        let secret = try_ref!(secret);
        let text = secret.inner.to_hex();
        // SAFETY: forwarded from this function's contract.
        unsafe { text_out(text.as_bytes(), buf, buf_len, out_len) }
    }
}

/// The secret's length in bytes; 0 if `secret` is NULL.
///
/// # Safety
/// `secret` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_len(secret: *const mfa_secret) -> usize {
    ffi_panic_boundary! {
        try_ref!(secret).inner.len()
    }
}

/// Whether the secret is shorter than 128 bits (accepted, but weak); false if
/// `secret` is NULL.
///
/// # Safety
/// `secret` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_is_weak(secret: *const mfa_secret) -> bool {
    ffi_panic_boundary! {
        try_ref!(secret).inner.is_weak()
    }
}

/// Constant-time comparison of two secrets; false if either is NULL.
///
/// # Safety
/// `a` and `b` are NULL or live handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_equal(a: *const mfa_secret, b: *const mfa_secret) -> bool {
    ffi_panic_boundary! {
        let a = try_ref!(a);
        let b = try_ref!(b);
        a.inner.ct_eq(&b.inner)
    }
}

/// Overwrites the secret's bytes with zeros and frees the handle. NULL is a
/// no-op. The handle must not be used again.
///
/// # Safety
/// `secret` is NULL or a live handle not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mfa_secret_free(secret: *mut mfa_secret) {
    ffi_panic_boundary! {
        // SAFETY: forwarded from this function's contract; `Secret` is
        // `ZeroizeOnDrop`, so dropping the box wipes the bytes.
        unsafe { free_box(secret) }
    }
}
