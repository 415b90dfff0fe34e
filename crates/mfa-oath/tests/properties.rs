//! Property tests for the invariants of mfa-oath.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use mfa_oath::{
    Algorithm, Digits, Error, Hotp, HotpParams, HotpState, OtpAuthUri, OtpKind, Period, Secret,
    Totp, TotpParams, TotpState, UnixTime, Window,
};
use proptest::prelude::*;

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

fn secret() -> impl Strategy<Value = Secret> {
    prop::collection::vec(any::<u8>(), Secret::MIN_LEN..=80)
        .prop_map(|b| Secret::from_bytes(&b).unwrap())
}

fn totp_params() -> impl Strategy<Value = TotpParams> {
    (
        algorithm(),
        6u32..=9,
        prop_oneof![Just(30u64), Just(60), 1u64..=600],
        prop_oneof![Just(0u64), 0u64..=2_000_000_000],
    )
        .prop_map(|(algorithm, d, p, t0)| TotpParams {
            algorithm,
            digits: Digits::new(d).unwrap(),
            period: Period::new(p).unwrap(),
            t0: UnixTime::from_secs(t0),
        })
}

fn window() -> impl Strategy<Value = Window> {
    (0u32..=5, 0u32..=5).prop_map(|(b, a)| Window::new(b, a).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// verify(generate(x)) accepts, at the step it was generated for.
    #[test]
    fn totp_verify_accepts_generated(secret in secret(), params in totp_params(), offset in 0u64..=40_000_000_000) {
        let t = Totp::new(secret, params);
        let now = UnixTime::from_secs(params.t0.secs() + offset);
        let code = t.generate(now).unwrap();
        prop_assert_eq!(code.to_string().len(), usize::from(params.digits.get()));
        let ok = t.verify(&code.to_string(), now, TotpState::default(), Window::TOTP_DEFAULT).unwrap();
        prop_assert_eq!(ok.step, t.step_at(now).unwrap());
        prop_assert_eq!(ok.state.last_step, Some(ok.step));
    }

    #[test]
    fn hotp_verify_accepts_generated(secret in secret(), algorithm in algorithm(), digits in 6u32..=9, next in 0u64..u64::MAX / 2, ahead in 0u64..=10) {
        let h = Hotp::new(secret, HotpParams { algorithm, digits: Digits::new(digits).unwrap() });
        let state = HotpState::from_next_counter(next);
        let code = h.generate(next + ahead).to_string();
        let ok = h.verify(&code, state, Window::HOTP_DEFAULT).unwrap();
        // The code may coincide with an earlier counter's (probability
        // ~10^-digits per counter); it is never accepted for an older counter.
        prop_assert!(ok.counter >= next && ok.counter <= next + ahead);
        prop_assert_eq!(h.generate(ok.counter).to_string(), code);
    }

    /// A code for a step at or before the last accepted one is never accepted,
    /// whatever the window and drift.
    #[test]
    fn totp_replay_never_accepted(secret in secret(), params in totp_params(), offset in 0u64..=4_000_000_000, window in window(), last_back in 0u64..=6, drift in -3i64..=3, delta in -6i64..=6) {
        let t = Totp::new(secret, params);
        let now = UnixTime::from_secs(params.t0.secs() + offset);
        let current = t.step_at(now).unwrap();
        let last = current.saturating_sub(last_back);
        let state = TotpState { last_step: Some(last), drift };
        let Some(step) = current.checked_add_signed(delta) else { return Ok(()) };
        let code = t.generate_at_step(step).to_string();
        match t.verify(&code, now, state, window) {
            Ok(ok) => {
                prop_assert!(ok.step > last, "accepted step {} <= last {}", ok.step, last);
                prop_assert_eq!(ok.state.last_step, Some(ok.step));
            }
            Err(Error::CodeReplayed { step }) => prop_assert!(step <= last),
            Err(Error::CodeNotInWindow) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn hotp_replay_never_accepted(secret in secret(), next in 1u64..1_000_000, back in 1u64..=20, window in window()) {
        let h = Hotp::new(secret, HotpParams::default());
        let state = HotpState::from_next_counter(next);
        let used = next.saturating_sub(back);
        let code = h.generate(used).to_string();
        match h.verify(&code, state, window) {
            Ok(ok) => prop_assert!(ok.counter >= next),
            Err(Error::CodeReplayed { step }) => prop_assert!(step < next),
            Err(Error::CodeNotInWindow) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// The window boundaries are exact: steps center-behind..=center+ahead
    /// are accepted, the ones just outside are not (unless their code
    /// collides with one inside).
    #[test]
    fn totp_window_boundaries_exact(secret in secret(), params in totp_params(), offset in 1_000_000u64..=4_000_000_000, behind in 0u32..=4, ahead in 0u32..=4, drift in -3i64..=3) {
        let t = Totp::new(secret, params);
        let window = Window::new(behind, ahead).unwrap();
        let now = UnixTime::from_secs(params.t0.secs() + offset);
        let current = t.step_at(now).unwrap();
        let center = current.checked_add_signed(drift).unwrap();
        let state = TotpState { last_step: None, drift };
        let inside: Vec<u64> = (center - u64::from(behind)..=center + u64::from(ahead)).collect();
        for &s in &inside {
            let ok = t.verify(&t.generate_at_step(s).to_string(), now, state, window).unwrap();
            prop_assert_eq!(t.generate_at_step(ok.step), t.generate_at_step(s));
        }
        for s in [center - u64::from(behind) - 1, center + u64::from(ahead) + 1] {
            let code = t.generate_at_step(s);
            let collides = inside.iter().any(|&i| t.generate_at_step(i) == code);
            let r = t.verify(&code.to_string(), now, state, window);
            if collides {
                prop_assert!(r.is_ok());
            } else {
                prop_assert_eq!(r, Err(Error::CodeNotInWindow));
            }
        }
    }

    /// Anything but exactly `digits` ASCII digits is refused before any HMAC,
    /// with the same error whatever the state.
    #[test]
    fn malformed_codes_rejected(secret in secret(), text in "\\PC{0,12}") {
        let t = Totp::new(secret, TotpParams::default());
        let well_formed = text.bytes().filter(|b| *b != b' ').count() == 6
            && text.bytes().all(|b| b == b' ' || b.is_ascii_digit());
        let r = t.verify(&text, UnixTime::from_secs(1_700_000_000), TotpState::default(), Window::TOTP_DEFAULT);
        if !well_formed {
            prop_assert_eq!(r, Err(Error::CodeFormat { expected: 6 }));
        }
    }

    /// base32: canonical output decodes to the same bytes, and lenient
    /// variants (lower case, separators, padding) decode to the same bytes.
    #[test]
    fn base32_round_trip(bytes in prop::collection::vec(any::<u8>(), Secret::MIN_LEN..=200), lower in any::<bool>(), sep in prop::sample::select(vec!["", " ", "-"]), pad in any::<bool>()) {
        let s = Secret::from_bytes(&bytes).unwrap();
        let canonical = s.to_base32();
        prop_assert!(canonical.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        prop_assert!(!canonical.contains('='));
        let mut text: String = canonical
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(sep);
        if lower { text = text.to_lowercase(); }
        if pad { while !text.replace([' ', '-'], "").len().is_multiple_of(8) { text.push('='); } }
        let back = Secret::from_base32(&text).unwrap();
        prop_assert_eq!(back.expose_secret(), &bytes[..]);
    }

    /// Any garbage either decodes or gives a typed error; never a panic.
    #[test]
    fn base32_never_panics(text in "\\PC{0,300}") {
        let _ = Secret::from_base32(&text);
        let _ = Secret::from_hex(&text);
    }

    /// otpauth URIs round-trip through try_to_uri/parse (names without
    /// control characters, which the parser refuses).
    #[test]
    fn otpauth_round_trip(secret in secret(), params in totp_params(), issuer in proptest::option::of("[^\\p{Cc}]{1,20}"), account in "[^:\\p{Cc}]{1,30}", hotp in any::<bool>(), counter in any::<u64>()) {
        let issuer = issuer.map(|i| i.trim().to_string()).filter(|i| !i.is_empty());
        let account = account.trim().to_string();
        prop_assume!(!account.is_empty());
        let kind = if hotp { OtpKind::Hotp { counter } } else { OtpKind::Totp { period: params.period } };
        let uri = OtpAuthUri { kind, issuer: issuer.clone(), account: account.clone(), secret, algorithm: params.algorithm, digits: params.digits };
        let text = uri.try_to_uri().unwrap();
        let back = OtpAuthUri::parse(&text).unwrap();
        prop_assert_eq!(back.kind, uri.kind);
        prop_assert_eq!(back.issuer, issuer);
        prop_assert_eq!(back.account, account);
        prop_assert!(back.secret.ct_eq(&uri.secret));
        prop_assert_eq!(back.algorithm, uri.algorithm);
        prop_assert_eq!(back.digits, uri.digits);
    }

    #[test]
    fn otpauth_parse_never_panics(text in "otpauth://(totp|hotp|x)/\\PC{0,80}") {
        let _ = OtpAuthUri::parse(&text);
    }
}
