//! otpauth:// parsing never panics; whatever parses is written out and
//! parses again to the same token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_oath::OtpAuthUri;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = OtpAuthUri::parse(text) {
        let written = uri.to_uri();
        let again = OtpAuthUri::parse(&written).expect("our own URI must parse");
        assert_eq!(again.kind, uri.kind);
        assert_eq!(again.algorithm, uri.algorithm);
        assert_eq!(again.digits, uri.digits);
        assert!(again.secret.ct_eq(&uri.secret));
    }
});
