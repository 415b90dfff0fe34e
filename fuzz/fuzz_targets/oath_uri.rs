//! otpauth:// parsing never panics; whatever parses is either refused by
//! the writer with a typed error (it would grow past the reader's limit)
//! or written out and parsed again to the same token (what we write, we
//! read).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_oath::{Error, OtpAuthUri, UriError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(uri) = OtpAuthUri::parse(text) {
        let written = match uri.try_to_uri() {
            Ok(w) => w,
            Err(Error::Uri(UriError::TooLong { len, max })) => {
                assert!(len > max);
                assert!(uri.to_uri().len() > mfa_oath::MAX_URI_LEN);
                return;
            }
            Err(e) => panic!("the writer refused a parsed URI: {e}"),
        };
        let again = OtpAuthUri::parse(&written).expect("our own URI must parse");
        assert_eq!(again.kind, uri.kind);
        assert_eq!(again.algorithm, uri.algorithm);
        assert_eq!(again.digits, uri.digits);
        assert_eq!(again.issuer, uri.issuer);
        assert_eq!(again.account, uri.account);
        assert!(again.secret.ct_eq(&uri.secret));
        // Writing again gives the same text.
        assert_eq!(
            again.try_to_uri().expect("rewritable").as_str(),
            written.as_str()
        );
    }
});
