//! The Google Authenticator migration payload parser never panics; every
//! entry it accepts is a token the otpauth writer can write and the otpauth
//! parser reads back the same (or refuses with the typed TooLong); the
//! `otpauth-migration://` form of the same bytes gives the same batch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_oath::{Error, OtpAuthUri, UriError};

fuzz_target!(|data: &[u8]| {
    let Ok(batch) = mfa_import::parse_migration_payload(data) else {
        return;
    };
    for entry in batch.entries.iter().flatten() {
        let uri = &entry.uri;
        match uri.try_to_uri() {
            Ok(text) => {
                let again =
                    OtpAuthUri::parse(&text).expect("a migration entry written as a URI parses");
                assert_eq!(again.kind, uri.kind);
                assert_eq!(again.issuer, uri.issuer);
                assert_eq!(again.account, uri.account);
                assert_eq!(again.algorithm, uri.algorithm);
                assert_eq!(again.digits, uri.digits);
                assert!(again.secret.ct_eq(&uri.secret));
            }
            Err(Error::Uri(UriError::TooLong { .. } | UriError::InvalidParameter { .. })) => {}
            Err(e) => panic!("unexpected writer error {e}"),
        }
    }
    if data.len() <= 30_000 {
        let text = format!(
            "otpauth-migration://offline?data={}",
            percent_encode(&base64(data))
        );
        let again = mfa_import::parse_migration_uri(&text).expect("the same payload as a URI");
        assert_eq!(again.entries.len(), batch.entries.len());
        assert_eq!(again.batch_id, batch.batch_id);
    }
});

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

fn percent_encode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}
