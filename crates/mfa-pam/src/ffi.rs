//! The PAM entry points, over `pam-bindings` (which checks the handle and
//! the arguments and catches panics as `PAM_ABORT`). Inside it, this
//! module has its own panic boundary so that a panic of ours answers
//! `PAM_SYSTEM_ERR`; and the two calls `pam-bindings` does not offer:
//! setting `PAM_AUTHTOK` and `pam_syslog`.

use std::ffi::{CStr, CString, c_char, c_int, c_void};

use pam::constants::{
    PAM_ERROR_MSG, PAM_PROMPT_ECHO_OFF, PAM_SILENT, PAM_TEXT_INFO, PamFlag, PamResultCode,
};
use pam::conv::Conv;
use pam::items::{AuthTok, RHost};
use pam::module::{PamHandle, PamHooks};
use zeroize::Zeroizing;

use crate::{Code, Config, Level, MessageKind, Pam, UnixTime, sign_in};

/// `PAM_AUTHTOK` in `_pam_types.h`.
const PAM_AUTHTOK: c_int = 6;

#[link(name = "pam")]
unsafe extern "C" {
    fn pam_set_item(pamh: *mut PamHandle, item_type: c_int, item: *const c_void) -> c_int;
    fn pam_syslog(pamh: *const PamHandle, priority: c_int, fmt: *const c_char, ...);
}

/// The module: `pam_sm_authenticate` and `pam_sm_setcred`; the other
/// entry points answer `PAM_IGNORE`.
pub(crate) struct PamMfa;

pam::pam_hooks!(PamMfa);

impl PamHooks for PamMfa {
    fn sm_authenticate(pamh: &mut PamHandle, args: Vec<&CStr>, flags: PamFlag) -> PamResultCode {
        let code = boundary(|| {
            let mut handle = Handle {
                pamh,
                silent: flags & PAM_SILENT != 0,
            };
            let config = match Config::parse(args.iter().map(|a| a.to_bytes())) {
                Ok(c) => c,
                Err(e) => {
                    handle.log(Level::Error, &format!("configuration: {e}"));
                    return Code::ServiceErr;
                }
            };
            sign_in(&mut handle, &config, now())
        });
        to_pam(code)
    }

    fn sm_setcred(_: &mut PamHandle, _: Vec<&CStr>, _: PamFlag) -> PamResultCode {
        PamResultCode::PAM_SUCCESS
    }
}

/// Runs `f`, answering [`Code::SystemErr`] if it panics.
fn boundary(f: impl FnOnce() -> Code) -> Code {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(payload) => {
            // Dropping a payload can itself panic: never let that unwind.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload)))
                .map_err(std::mem::forget);
            Code::SystemErr
        }
    }
}

fn to_pam(code: Code) -> PamResultCode {
    // An unknown value (none of ours) is a system error, never success.
    PamResultCode::try_from(code.raw()).unwrap_or(PamResultCode::PAM_SYSTEM_ERR)
}

/// The system clock: the front end is the only place that reads it.
fn now() -> UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UnixTime::from_secs(secs)
}

struct Handle<'a> {
    pamh: &'a mut PamHandle,
    silent: bool,
}

impl Handle<'_> {
    fn send(&self, style: c_int, text: &str) -> Result<Option<Zeroizing<String>>, Code> {
        let conv = match self.pamh.get_item::<Conv<'_>>() {
            Ok(Some(conv)) => conv,
            _ => return Err(Code::ConvErr),
        };
        let answer = conv.send(style, text).map_err(|_| Code::ConvErr)?;
        Ok(answer
            .map(|secret| Zeroizing::new(String::from_utf8_lossy(secret.as_bytes()).into_owned())))
    }
}

impl Pam for Handle<'_> {
    fn user(&mut self) -> Result<String, Code> {
        self.pamh.get_user(None).map_err(|e| Code::Other(e as i32))
    }

    fn rhost(&self) -> Option<String> {
        match self.pamh.get_item::<RHost<'_>>() {
            Ok(Some(h)) => Some(h.to_string_lossy().into_owned()),
            _ => None,
        }
    }

    fn authtok(&self) -> Option<Zeroizing<String>> {
        match self.pamh.get_item::<AuthTok<'_>>() {
            Ok(Some(t)) => Some(Zeroizing::new(
                String::from_utf8_lossy(t.as_bytes()).into_owned(),
            )),
            _ => None,
        }
    }

    #[allow(unsafe_code)]
    fn set_authtok(&mut self, value: &str) -> Result<(), Code> {
        let value = CString::new(value).map_err(|_| Code::AuthErr)?;
        let pamh: *mut PamHandle = self.pamh;
        // SAFETY: `pamh` is the live handle PAM gave this call; `value` is a
        // NUL-terminated string that outlives the call, and libpam copies it
        // (`pam_set_item` strdup()s string items).
        let rc = unsafe { pam_set_item(pamh, PAM_AUTHTOK, value.as_ptr().cast()) };
        // Wipe our copy: libpam keeps its own.
        zeroize::Zeroize::zeroize(&mut value.into_bytes_with_nul());
        match rc {
            0 => Ok(()),
            other => Err(Code::Other(other)),
        }
    }

    fn prompt_hidden(&mut self, prompt: &str) -> Result<Option<Zeroizing<String>>, Code> {
        self.send(PAM_PROMPT_ECHO_OFF, prompt)
    }

    fn message(&mut self, kind: MessageKind, text: &str) {
        if self.silent {
            return;
        }
        let style = match kind {
            MessageKind::Error => PAM_ERROR_MSG,
            MessageKind::Info => PAM_TEXT_INFO,
        };
        // A conversation that cannot show a message does not change the
        // decision.
        let _ = self.send(style, text);
    }

    #[allow(unsafe_code)]
    fn log(&mut self, level: Level, text: &str) {
        let priority = match level {
            Level::Error => libc::LOG_ERR,
            Level::Notice => libc::LOG_NOTICE,
            Level::Info => libc::LOG_INFO,
            Level::Debug => libc::LOG_DEBUG,
        };
        let clean: String = text
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let Ok(line) = CString::new(clean) else {
            return;
        };
        let pamh: *const PamHandle = self.pamh;
        // SAFETY: `pamh` is the live handle of this call; the format is the
        // literal "%s" and its one argument a NUL-terminated string that
        // lives until the call returns, so no user text is ever a format.
        unsafe { pam_syslog(pamh, priority, c"%s".as_ptr(), line.as_ptr()) };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_system_err_never_success() {
        assert_eq!(boundary(|| panic!("boom")), Code::SystemErr);
        assert_eq!(
            to_pam(boundary(|| panic!("boom"))),
            PamResultCode::PAM_SYSTEM_ERR
        );
        assert_eq!(boundary(|| Code::MaxTries), Code::MaxTries);
    }

    #[test]
    fn every_code_maps_to_its_pam_value() {
        for (code, pam) in [
            (Code::Success, PamResultCode::PAM_SUCCESS),
            (Code::ServiceErr, PamResultCode::PAM_SERVICE_ERR),
            (Code::SystemErr, PamResultCode::PAM_SYSTEM_ERR),
            (Code::AuthErr, PamResultCode::PAM_AUTH_ERR),
            (Code::AuthinfoUnavail, PamResultCode::PAM_AUTHINFO_UNAVAIL),
            (Code::UserUnknown, PamResultCode::PAM_USER_UNKNOWN),
            (Code::MaxTries, PamResultCode::PAM_MAXTRIES),
            (Code::ConvErr, PamResultCode::PAM_CONV_ERR),
            (Code::Other(9999), PamResultCode::PAM_SYSTEM_ERR),
        ] {
            assert_eq!(to_pam(code), pam, "{code:?}");
        }
    }
}
