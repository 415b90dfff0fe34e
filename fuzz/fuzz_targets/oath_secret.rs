//! Secret parsing: base32 and hex never panic; whatever decodes re-encodes
//! canonically and decodes again to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_oath::Secret;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = Secret::from_base32(text) {
        let canonical = s.to_base32();
        let again = Secret::from_base32(&canonical).expect("canonical base32 must decode");
        assert!(again.ct_eq(&s));
        assert!(s.len() >= Secret::MIN_LEN && s.len() <= Secret::MAX_LEN);
    }
    if let Ok(s) = Secret::from_hex(text) {
        let again = Secret::from_hex(&s.to_hex()).expect("canonical hex must decode");
        assert!(again.ct_eq(&s));
    }
});
