//! Pointer helpers shared by every exported function, modelled on
//! rustls-ffi's `ffi.rs`: handles are `Box`es handed to C as opaque pointers,
//! every pointer is checked for NULL before use, strings come in as
//! pointer + length and go out into caller buffers.

use core::ffi::c_char;

use crate::error::mfa_result;

/// Moves `value` to the heap and gives C the pointer. Freed by [`free_box`].
pub(crate) fn to_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Drops a handle created by [`to_raw`]; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`to_raw`] with the same `T` and was not freed.
pub(crate) unsafe fn free_box<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: non-NULL and, per this function's contract, the unique owner of a
    // `Box<T>` allocated by `to_raw`; dropping it runs `T`'s destructor (which
    // zeroizes secrets).
    drop(unsafe { Box::from_raw(ptr) });
}

/// Borrows a handle, or returns `MFA_RESULT_NULL_PARAMETER` (or the neutral
/// value of an infallible function) from the enclosing function when NULL.
macro_rules! try_ref {
    ( $ptr:expr ) => {
        // SAFETY: every exported function documents that a non-NULL handle must
        // come from this library's constructor, not be freed, and not be
        // mutated concurrently; `as_ref` maps NULL to `None`.
        match unsafe { $ptr.as_ref() } {
            Some(r) => r,
            None => return $crate::panic::NullParameterOrDefault::value(),
        }
    };
}

/// Returns `MFA_RESULT_NULL_PARAMETER` from the enclosing function if any of
/// the given pointers is NULL. Used for out-parameters, which are checked
/// before any work is done.
macro_rules! check_not_null {
    ( $($ptr:expr),+ $(,)? ) => {
        if false $(|| $ptr.is_null())+ {
            return $crate::panic::NullParameterOrDefault::value();
        }
    };
}

/// `?` for functions returning `mfa_result`: evaluates to the `Ok` value or
/// returns the error code.
macro_rules! try_result {
    ( $e:expr ) => {
        match $e {
            Ok(v) => v,
            Err(code) => return code,
        }
    };
}

/// The bytes `ptr[0..len]`.
///
/// # Safety
/// If non-NULL, `ptr` points to `len` readable bytes that stay valid and
/// unmodified for `'a`.
pub(crate) unsafe fn bytes_in<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], mfa_result> {
    if ptr.is_null() {
        return Err(mfa_result::NullParameter);
    }
    if len > isize::MAX as usize {
        return Err(mfa_result::InvalidParameter);
    }
    // SAFETY: non-NULL, `len` fits `isize`, and the caller guarantees `len`
    // readable bytes valid for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// The UTF-8 text `ptr[0..len]` (no NUL terminator needed; an embedded NUL
/// is an ordinary character).
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn str_in<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, mfa_result> {
    // SAFETY: forwarded contract; `c_char` and `u8` have the same layout.
    let bytes = unsafe { bytes_in(ptr.cast::<u8>(), len)? };
    core::str::from_utf8(bytes).map_err(|_| mfa_result::InvalidUtf8)
}

/// Like [`str_in`], but a NULL pointer means "absent" (only for parameters
/// documented as optional).
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn opt_str_in<'a>(
    ptr: *const c_char,
    len: usize,
) -> Result<Option<&'a str>, mfa_result> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { str_in(ptr, len) }.map(Some)
}

/// Copies `text` and a terminating NUL into the caller's buffer.
///
/// Convention (see docs/c-abi.md): `*out_len` receives the length of the text
/// without the NUL, both on success and on `MFA_RESULT_BUFFER_TOO_SMALL`, so
/// a caller can size its buffer as `*out_len + 1`. A NULL `buf` with
/// `buf_len == 0` is a size query; a NULL `buf` with `buf_len > 0` is
/// `MFA_RESULT_NULL_PARAMETER`. On any failure the buffer is not touched.
///
/// # Safety
/// If non-NULL, `buf` points to `buf_len` writable bytes and `out_len` to a
/// writable `size_t`, neither overlapping `text`.
pub(crate) unsafe fn text_out(
    text: &[u8],
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> mfa_result {
    if out_len.is_null() || (buf.is_null() && buf_len > 0) {
        return mfa_result::NullParameter;
    }
    let needed = text.len().saturating_add(1);
    if buf.is_null() || buf_len < needed {
        // SAFETY: `out_len` is non-NULL and writable per the contract.
        unsafe { out_len.write(text.len()) };
        return mfa_result::BufferTooSmall;
    }
    // SAFETY: `buf` is non-NULL with `buf_len >= text.len() + 1` writable bytes
    // that do not overlap `text`; `out_len` is non-NULL and writable.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
        out_len.write(text.len());
    }
    mfa_result::Ok
}

/// Writes a value to a checked out-parameter.
///
/// # Safety
/// `out` is non-NULL, aligned and writable.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: forwarded contract; `write` does not drop the old (possibly
    // uninitialised) contents.
    unsafe { out.write(value) }
}

/// Reads a `#[repr(C)]` value from a checked in-parameter without creating a
/// reference, so the same memory may also be passed as an out-parameter.
///
/// # Safety
/// `ptr` is non-NULL, aligned and points to an initialised `T`.
pub(crate) unsafe fn read_in<T: Copy>(ptr: *const T) -> T {
    // SAFETY: forwarded contract.
    unsafe { ptr.read() }
}

/// Reads a `uint8_t` flag of a caller-stored struct: 0 or 1, anything else
/// `MFA_RESULT_INVALID_FLAG`. (The fields are not `bool`: a C caller that
/// rebuilds a struct from a database integer could store 2 in a `bool`, and
/// reading that in Rust is undefined behaviour.)
pub(crate) fn flag_in(v: u8) -> Result<bool, mfa_result> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(mfa_result::InvalidFlag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_out_reports_the_needed_length_and_leaves_a_short_buffer_alone() {
        let mut buf = [b'x' as c_char; 4];
        let mut n = 99usize;
        // SAFETY: valid local buffer and out-parameter.
        let r = unsafe { text_out(b"hello", buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, mfa_result::BufferTooSmall);
        assert_eq!(n, 5);
        assert!(buf.iter().all(|&c| c == b'x' as c_char));

        let mut big = [0 as c_char; 6];
        // SAFETY: valid local buffer and out-parameter.
        let r = unsafe { text_out(b"hello", big.as_mut_ptr(), big.len(), &mut n) };
        assert_eq!(r, mfa_result::Ok);
        assert_eq!(n, 5);
        assert_eq!(big[5], 0);
    }

    #[test]
    fn text_out_size_query_and_null_checks() {
        let mut n = 0usize;
        // SAFETY: NULL buffer of length 0 is the documented size query.
        let r = unsafe { text_out(b"abc", core::ptr::null_mut(), 0, &mut n) };
        assert_eq!((r, n), (mfa_result::BufferTooSmall, 3));
        // SAFETY: NULL pointers are rejected before any access.
        let r = unsafe { text_out(b"abc", core::ptr::null_mut(), 8, &mut n) };
        assert_eq!(r, mfa_result::NullParameter);
        let mut buf = [0 as c_char; 8];
        // SAFETY: as above.
        let r = unsafe { text_out(b"abc", buf.as_mut_ptr(), 8, core::ptr::null_mut()) };
        assert_eq!(r, mfa_result::NullParameter);
    }

    #[test]
    fn str_in_checks_null_and_utf8() {
        // SAFETY: NULL is rejected before any access; the others are valid slices.
        unsafe {
            assert_eq!(str_in(core::ptr::null(), 0), Err(mfa_result::NullParameter));
            let bad = [0xffu8, 0xfe];
            assert_eq!(str_in(bad.as_ptr().cast(), 2), Err(mfa_result::InvalidUtf8));
            let good = b"ok";
            assert_eq!(str_in(good.as_ptr().cast(), 2), Ok("ok"));
            assert_eq!(opt_str_in(core::ptr::null(), 5), Ok(None));
        }
    }
}
