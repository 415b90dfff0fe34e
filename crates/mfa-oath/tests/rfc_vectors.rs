//! The test vectors of RFC 4226 Appendix D and RFC 6238 Appendix B, and the
//! resynchronisation vectors derived from the RFC 4226 table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use mfa_oath::{
    Algorithm, Digits, Error, Hotp, HotpParams, HotpState, Period, Secret, Totp, TotpParams,
    TotpState, UnixTime, Window,
};

const RFC4226_SECRET: &[u8] = b"12345678901234567890";

/// RFC 4226 Appendix D: counter → HOTP value.
const RFC4226_HOTP: [&str; 10] = [
    "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
    "520489",
];

/// RFC 4226 Appendix D: counter → truncated 31-bit value (decimal).
const RFC4226_TRUNCATED: [u32; 10] = [
    1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922, 82162583,
    673399871, 645520489,
];

fn hotp() -> Hotp {
    Hotp::new(
        Secret::from_bytes(RFC4226_SECRET).unwrap(),
        HotpParams::default(),
    )
}

#[test]
fn rfc4226_appendix_d() {
    let h = hotp();
    for (counter, expected) in RFC4226_HOTP.iter().enumerate() {
        assert_eq!(
            h.generate(counter as u64).to_string(),
            *expected,
            "counter {counter}"
        );
    }
    // The same truncated values give the 9-digit codes (the widest we allow).
    let nine = Hotp::new(
        Secret::from_bytes(RFC4226_SECRET).unwrap(),
        HotpParams {
            algorithm: Algorithm::Sha1,
            digits: Digits::new(9).unwrap(),
        },
    );
    for (counter, truncated) in RFC4226_TRUNCATED.iter().enumerate() {
        assert_eq!(
            nine.generate(counter as u64).value(),
            truncated % 1_000_000_000
        );
    }
}

#[test]
fn rfc4226_verify_each_counter_in_sequence() {
    let h = hotp();
    let mut state = HotpState::default();
    for (counter, code) in RFC4226_HOTP.iter().enumerate() {
        let ok = h.verify(code, state, Window::new(0, 0).unwrap()).unwrap();
        assert_eq!(ok.counter, counter as u64);
        state = ok.state;
        assert_eq!(
            h.verify(code, state, Window::HOTP_DEFAULT),
            Err(Error::CodeReplayed {
                step: counter as u64
            })
        );
    }
}

/// The seeds of RFC 6238 Appendix A's reference code: the ASCII digits
/// repeated and cut to 20, 32 and 64 bytes.
fn rfc6238_seed(algorithm: Algorithm) -> Secret {
    let len = algorithm.output_len();
    let bytes: Vec<u8> = b"1234567890".iter().copied().cycle().take(len).collect();
    Secret::from_bytes(&bytes).unwrap()
}

/// RFC 6238 Appendix B: time, algorithm, expected 8-digit TOTP.
const RFC6238_TOTP: [(u64, Algorithm, &str); 18] = [
    (59, Algorithm::Sha1, "94287082"),
    (59, Algorithm::Sha256, "46119246"),
    (59, Algorithm::Sha512, "90693936"),
    (1111111109, Algorithm::Sha1, "07081804"),
    (1111111109, Algorithm::Sha256, "68084774"),
    (1111111109, Algorithm::Sha512, "25091201"),
    (1111111111, Algorithm::Sha1, "14050471"),
    (1111111111, Algorithm::Sha256, "67062674"),
    (1111111111, Algorithm::Sha512, "99943326"),
    (1234567890, Algorithm::Sha1, "89005924"),
    (1234567890, Algorithm::Sha256, "91819424"),
    (1234567890, Algorithm::Sha512, "93441116"),
    (2000000000, Algorithm::Sha1, "69279037"),
    (2000000000, Algorithm::Sha256, "90698825"),
    (2000000000, Algorithm::Sha512, "38618901"),
    (20000000000, Algorithm::Sha1, "65353130"),
    (20000000000, Algorithm::Sha256, "77737706"),
    (20000000000, Algorithm::Sha512, "47863826"),
];

fn rfc6238_totp(algorithm: Algorithm) -> Totp {
    Totp::new(
        rfc6238_seed(algorithm),
        TotpParams {
            algorithm,
            digits: Digits::EIGHT,
            period: Period::THIRTY,
            t0: UnixTime::EPOCH,
        },
    )
}

#[test]
fn rfc6238_appendix_b() {
    for (time, algorithm, expected) in RFC6238_TOTP {
        let t = rfc6238_totp(algorithm);
        let now = UnixTime::from_secs(time);
        assert_eq!(
            t.generate(now).unwrap().to_string(),
            expected,
            "{time} {algorithm}"
        );
        let ok = t
            .verify(expected, now, TotpState::default(), Window::TOTP_DEFAULT)
            .unwrap();
        assert_eq!(ok.step, time / 30);
        assert_eq!(ok.drift, 0);
    }
}

#[test]
fn rfc6238_step_values() {
    // The "Value of T (hex)" column.
    let t = rfc6238_totp(Algorithm::Sha1);
    let steps = [
        (59, 0x1),
        (1111111109, 0x23523EC),
        (1111111111, 0x23523ED),
        (1234567890, 0x273EF07),
        (2000000000, 0x3F940AA),
        (20000000000, 0x27BC86AA),
    ];
    for (time, step) in steps {
        assert_eq!(t.step_at(UnixTime::from_secs(time)).unwrap(), step);
    }
}

#[test]
fn sha256_and_sha512_need_their_long_seeds() {
    // With the 20-byte seed, the SHA-256/512 rows do NOT match: the RFC's
    // table was made with the 32- and 64-byte seeds.
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        let short = Totp::new(
            Secret::from_bytes(RFC4226_SECRET).unwrap(),
            TotpParams {
                algorithm,
                digits: Digits::EIGHT,
                ..TotpParams::default()
            },
        );
        let expected = RFC6238_TOTP
            .iter()
            .find(|(t, a, _)| *t == 59 && *a == algorithm)
            .unwrap()
            .2;
        assert_ne!(
            short.generate(UnixTime::from_secs(59)).unwrap().to_string(),
            expected
        );
    }
}

#[test]
fn hotp_resync_from_rfc4226_table() {
    let h = hotp();
    // Two consecutive codes for counters 3 and 4.
    let ok = h
        .resync(&["969429", "338314"], HotpState::default(), 100)
        .unwrap();
    assert_eq!(ok.counter, 4);
    assert_eq!(ok.state.last_counter, Some(4));
    // Three consecutive codes 7, 8, 9.
    let ok = h
        .resync(&["162583", "399871", "520489"], HotpState::default(), 100)
        .unwrap();
    assert_eq!(ok.counter, 9);
    // Not consecutive (3 then 5).
    assert_eq!(
        h.resync(&["969429", "254676"], HotpState::default(), 100),
        Err(Error::ResyncFailed)
    );
    // Outside the resync window: counters 7, 8 with a window of 5 from 0.
    assert_eq!(
        h.resync(&["162583", "399871"], HotpState::default(), 5),
        Err(Error::ResyncFailed)
    );
    // Exactly at the edge: the first counter may be `next + window`.
    assert_eq!(
        h.resync(&["162583", "399871"], HotpState::default(), 7)
            .unwrap()
            .counter,
        8
    );
    // Never resync onto already-used counters.
    assert_eq!(
        h.resync(&["969429", "338314"], HotpState::from_next_counter(4), 100),
        Err(Error::ResyncFailed)
    );
    // After resync, the next code (counter 5) verifies and the old ones do not.
    let state = h
        .resync(&["969429", "338314"], HotpState::default(), 100)
        .unwrap()
        .state;
    assert_eq!(
        h.verify("254676", state, Window::HOTP_DEFAULT)
            .unwrap()
            .counter,
        5
    );
    assert!(h.verify("338314", state, Window::HOTP_DEFAULT).is_err());
    // Wrong number of codes.
    assert_eq!(
        h.resync(&["969429"], HotpState::default(), 100),
        Err(Error::ResyncCodeCount(1))
    );
}

#[test]
fn hotp_look_ahead_is_bounded() {
    let h = hotp();
    // Counter 9 is 9 ahead of 0: inside the default look-ahead of 10.
    assert_eq!(
        h.verify("520489", HotpState::default(), Window::HOTP_DEFAULT)
            .unwrap()
            .counter,
        9
    );
    // With a look-ahead of 8 it is outside.
    assert_eq!(
        h.verify("520489", HotpState::default(), Window::new(1, 8).unwrap()),
        Err(Error::CodeNotInWindow)
    );
}

#[test]
fn totp_resync_learns_drift_from_two_codes() {
    let t = rfc6238_totp(Algorithm::Sha1);
    let now = UnixTime::from_secs(1_111_111_111);
    let current = t.step_at(now).unwrap();
    for drift in [-7i64, -1, 0, 3, 40] {
        let second = current.checked_add_signed(drift).unwrap();
        let a = t.generate_at_step(second - 1).to_string();
        let b = t.generate_at_step(second).to_string();
        let ok = t.resync(&[&a, &b], now, TotpState::default(), 50).unwrap();
        assert_eq!(ok.state.drift, drift);
        assert_eq!(ok.step, second);
        // With the learned drift, the token's next code is accepted with the
        // default window, and the resync codes are used up.
        let next = t.generate_at_step(second + 1).to_string();
        let later = UnixTime::from_secs(now.secs() + 30);
        assert_eq!(
            t.verify(&next, later, ok.state, Window::TOTP_DEFAULT)
                .unwrap()
                .step,
            second + 1
        );
        assert!(matches!(
            t.verify(&b, now, ok.state, Window::TOTP_DEFAULT),
            Err(Error::CodeReplayed { .. })
        ));
    }
}
