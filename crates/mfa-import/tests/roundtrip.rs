//! Property tests: write → read round trip for random tokens and
//! protections; no panic (and no silent success) on mutated files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mfa_import::{
    CloudCsvReader, ImportedToken, Protection, PskcOptions, PskcReader, PskcWriter,
    ServerCsvReader, TokenKind,
};
use mfa_oath::{
    Algorithm, Digits, HotpParams, HotpState, Period, Secret, TotpParams, TotpState, UnixTime,
};
use proptest::prelude::*;

/// SplitMix64: a deterministic generator so failures replay exactly.
struct TestRng(u64);

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        "[ -~]{1,20}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("non-empty", |s| !s.is_empty()),
    )
}

fn token() -> impl Strategy<Value = ImportedToken> {
    let alg = prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ];
    let kind = prop_oneof![
        (alg.clone(), 6u32..=9, 0u64..u64::MAX).prop_map(|(algorithm, d, c)| TokenKind::Hotp {
            params: HotpParams {
                algorithm,
                digits: Digits::new(d).unwrap()
            },
            state: HotpState::from_next_counter(c),
        }),
        (alg, 6u32..=9, 1u64..100_000, -50i64..50).prop_map(|(algorithm, d, p, drift)| {
            TokenKind::Totp {
                params: TotpParams {
                    algorithm,
                    digits: Digits::new(d).unwrap(),
                    period: Period::new(p).unwrap(),
                    t0: UnixTime::EPOCH,
                },
                state: TotpState {
                    last_step: None,
                    drift,
                },
            }
        }),
    ];
    (
        proptest::collection::vec(any::<u8>(), 10..100),
        kind,
        (text(), text(), text(), text()),
        (text(), text()),
    )
        .prop_map(
            |(secret, kind, (serial, manufacturer, model, issuer), (friendly, user))| {
                let mut t = ImportedToken::new(Secret::from_vec(secret).unwrap(), kind);
                t.serial = serial;
                t.manufacturer = manufacturer;
                t.model = model;
                t.issuer = issuer;
                t.friendly_name = friendly;
                t.user = user;
                t
            },
        )
}

#[derive(Debug, Clone)]
enum Prot {
    None,
    Psk(Vec<u8>),
    Pass(String),
}

fn protection() -> impl Strategy<Value = Prot> {
    prop_oneof![
        Just(Prot::None),
        prop_oneof![Just(16usize), Just(24), Just(32)]
            .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
            .prop_map(Prot::Psk),
        "[ -~]{0,24}".prop_map(Prot::Pass),
    ]
}

fn write(tokens: &[ImportedToken], prot: &Prot, seed: u64) -> Vec<u8> {
    let p = match prot {
        Prot::None => Protection::None,
        Prot::Psk(k) => Protection::pre_shared_key(k, "Pre-shared-key <&>"),
        Prot::Pass(p) => Protection::passphrase(p, 1000),
    };
    let mut w = PskcWriter::new(Vec::new(), p, TestRng(seed)).unwrap();
    for t in tokens {
        w.write_token(t).unwrap();
    }
    w.finish().unwrap()
}

fn options(prot: &Prot) -> PskcOptions {
    match prot {
        Prot::None => PskcOptions::new(),
        Prot::Psk(k) => PskcOptions::new().key(k),
        Prot::Pass(p) => PskcOptions::new().passphrase(p),
    }
}

fn same(a: &ImportedToken, b: &ImportedToken) {
    assert!(a.secret.ct_eq(&b.secret));
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.serial, b.serial);
    assert_eq!(a.manufacturer, b.manufacturer);
    assert_eq!(a.model, b.model);
    assert_eq!(a.issuer, b.issuer);
    assert_eq!(a.friendly_name, b.friendly_name);
    assert_eq!(a.user, b.user);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn write_then_read_gives_the_same_tokens(
        tokens in proptest::collection::vec(token(), 0..5),
        prot in protection(),
        seed in any::<u64>(),
    ) {
        let xml = write(&tokens, &prot, seed);
        let back: Vec<ImportedToken> = PskcReader::new(&xml[..], options(&prot))
            .tokens()
            .map(|r| r.unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml))))
            .collect();
        prop_assert_eq!(back.len(), tokens.len());
        for (a, b) in tokens.iter().zip(&back) {
            same(a, b);
        }
    }

    #[test]
    fn a_wrong_key_never_yields_a_secret(
        tokens in proptest::collection::vec(token(), 1..3),
        key in proptest::collection::vec(any::<u8>(), 16),
        wrong in proptest::collection::vec(any::<u8>(), 16),
        seed in any::<u64>(),
    ) {
        prop_assume!(key != wrong);
        let xml = write(&tokens, &Prot::Psk(key), seed);
        for item in PskcReader::new(&xml[..], PskcOptions::new().key(&wrong)) {
            let e = item.unwrap_err();
            prop_assert!(matches!(e.error, mfa_import::Error::MacMismatch { .. }), "{}", e);
        }
    }

    #[test]
    fn mutated_pskc_never_panics(
        tokens in proptest::collection::vec(token(), 1..3),
        prot in protection(),
        seed in any::<u64>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut xml = write(&tokens, &prot, seed);
        for (at, byte, op) in edits {
            if xml.is_empty() { break; }
            let i = at.index(xml.len());
            match op {
                0 => xml[i] = byte,
                1 => { xml.remove(i); }
                _ => xml.insert(i, byte),
            }
        }
        // Any outcome but a panic is fine; a fatal error ends the stream.
        let mut fatal_seen = false;
        for item in PskcReader::new(&xml[..], options(&prot)).tokens() {
            prop_assert!(!fatal_seen, "item after a fatal error");
            if let Err(e) = item { fatal_seen = e.is_fatal(); }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        for _ in PskcReader::new(&data[..], PskcOptions::new().key(&[0; 16])) {}
        for _ in ServerCsvReader::new(&data[..]) {}
        for _ in CloudCsvReader::new(&data[..]) {}
    }

    #[test]
    fn csv_round_trip(secret in proptest::collection::vec(any::<u8>(), 10..80), serial in "[A-Za-z0-9]{1,12}", sixty in any::<bool>()) {
        let s = Secret::from_vec(secret).unwrap();
        let interval = if sixty { 60 } else { 30 };
        let csv = format!("upn,serial number,secret key,time interval,manufacturer,model\nu@x,{serial},{},{interval},M,X\n", s.to_base32().as_str());
        let t = CloudCsvReader::new(csv.as_bytes()).next().unwrap().unwrap();
        prop_assert!(t.secret.ct_eq(&s));
        prop_assert_eq!(t.period(), Some(interval));
        prop_assert_eq!(t.serial.as_deref(), Some(serial.as_str()));
    }
}
