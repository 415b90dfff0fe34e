//! The panic boundary: no unwind ever crosses into C.
//!
//! Modelled on rustls-ffi's `panic.rs`. Every exported function wraps its
//! body in [`ffi_panic_boundary!`]; a panic is caught and turned into
//! `MFA_RESULT_PANIC` for functions returning [`mfa_result`], or into a
//! neutral value (`NULL`, `0`, `false`, an empty static string) for the few
//! infallible ones.

use core::ptr::{null, null_mut};

use crate::error::mfa_result;

/// The value an exported function returns when its body panicked.
pub(crate) trait PanicOrDefault {
    fn value() -> Self;
}

/// The value an exported function returns when a required pointer is NULL.
pub(crate) trait NullParameterOrDefault {
    fn value() -> Self;
}

/// Types whose `Default` is the right neutral answer for both cases.
pub(crate) trait Defaultable: Default {}

impl Defaultable for () {}
impl Defaultable for bool {}
impl Defaultable for usize {}
impl Defaultable for u32 {}
impl Defaultable for u64 {}

impl<T: Defaultable> PanicOrDefault for T {
    fn value() -> Self {
        T::default()
    }
}

impl<T: Defaultable> NullParameterOrDefault for T {
    fn value() -> Self {
        T::default()
    }
}

impl PanicOrDefault for mfa_result {
    fn value() -> Self {
        mfa_result::Panic
    }
}

impl NullParameterOrDefault for mfa_result {
    fn value() -> Self {
        mfa_result::NullParameter
    }
}

impl<T> PanicOrDefault for *const T {
    fn value() -> Self {
        null()
    }
}

impl<T> PanicOrDefault for *mut T {
    fn value() -> Self {
        null_mut()
    }
}

/// Runs the body, catching any panic.
///
/// `AssertUnwindSafe` is deliberate: handles are not observably broken by a
/// caught panic in this crate. Each call works on values it owns or on
/// immutable handles. The store handle's only shared mutable state is
/// mfa-store's pool of idle database connections: its mutex is held only to
/// pop or push one connection, a panic drops the connection it had taken
/// (rolling back any open transaction with it) instead of returning it, and
/// a poisoned pool mutex is deliberately ignored (`lock().ok()`: the pool
/// then opens fresh connections and closes returned ones), because the `Vec`
/// it guards cannot be left half-changed. So later calls behave as before
/// the panic; they do not report it.
macro_rules! ffi_panic_boundary {
    ( $($tt:tt)* ) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($tt)* })) {
            Ok(ret) => ret,
            Err(_) => $crate::panic::PanicOrDefault::value(),
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::error::mfa_result;

    fn boom(fail: bool) -> mfa_result {
        ffi_panic_boundary! {
            if fail {
                panic!("deliberate");
            }
            mfa_result::Ok
        }
    }

    fn boom_ptr() -> *const u8 {
        ffi_panic_boundary! {
            let v: Vec<u8> = Vec::new();
            // An out-of-bounds index panics; the boundary must turn it into NULL.
            #[allow(clippy::indexing_slicing)]
            let r = &v[3] as *const u8;
            r
        }
    }

    #[test]
    fn a_panic_becomes_mfa_result_panic() {
        assert_eq!(boom(true), mfa_result::Panic);
        assert_eq!(boom(false), mfa_result::Ok);
    }

    #[test]
    fn a_panic_in_a_pointer_function_becomes_null() {
        assert!(boom_ptr().is_null());
    }
}
