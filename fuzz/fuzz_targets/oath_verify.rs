//! Verification with arbitrary codes, times, states and windows: never a
//! panic, never an acceptance at or before the last accepted step, and the
//! generated code is always accepted when its step is usable.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mfa_oath::{
    Digits, Error, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams, TotpState,
    UnixTime, Window,
};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    key: [u8; 20],
    code: &'a str,
    now: u64,
    t0: u64,
    period: u64,
    digits: u8,
    last: Option<u64>,
    drift: i64,
    behind: u8,
    ahead: u8,
    algorithm: u8,
}

fuzz_target!(|input: Input<'_>| {
    let algorithm = [mfa_oath::Algorithm::Sha1, mfa_oath::Algorithm::Sha256, mfa_oath::Algorithm::Sha512]
        [usize::from(input.algorithm % 3)];
    let digits = Digits::new(6 + u32::from(input.digits % 4)).unwrap();
    let period = Period::new(input.period.max(1)).unwrap();
    let window = Window::new(u32::from(input.behind % 8), u32::from(input.ahead % 8)).unwrap();
    let secret = Secret::from_bytes(&input.key).unwrap();
    let totp = Totp::new(
        secret.clone(),
        TotpParams { algorithm, digits, period, t0: UnixTime::from_secs(input.t0) },
    );
    let now = UnixTime::from_secs(input.now);
    let state = TotpState { last_step: input.last, drift: input.drift };
    match totp.verify(input.code, now, state, window) {
        Ok(ok) => {
            assert!(input.last.is_none_or(|l| ok.step > l));
            assert_eq!(ok.state.last_step, Some(ok.step));
        }
        Err(Error::CodeReplayed { step }) => assert!(input.last.is_some_and(|l| step <= l)),
        Err(_) => {}
    }
    // The code of the current step is accepted unless that step is used up.
    if let Ok(step) = totp.step_at(now) {
        let code = totp.generate_at_step(step).to_string();
        let fresh = TotpState { last_step: input.last, drift: 0 };
        let r = totp.verify(&code, now, fresh, window);
        if input.last.is_none_or(|l| step > l) {
            assert!(r.is_ok(), "{r:?}");
        } else {
            assert!(r.is_err());
        }
    }

    let hotp = Hotp::new(secret, HotpParams { algorithm, digits });
    let hstate = HotpState { last_counter: input.last };
    if let Ok(ok) = hotp.verify(input.code, hstate, window) {
        assert!(input.last.is_none_or(|l| ok.counter > l));
    }
});
