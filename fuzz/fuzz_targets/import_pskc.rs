//! PSKC reader without a key: never panics; a fatal error ends the stream;
//! every accepted token, written out again (plain) and read back, is the
//! same token (parse → write → parse).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_import::{Protection, PskcOptions, PskcReader, PskcWriter};

struct Counter(u8);
impl rand_core::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(7)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(7)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for b in d {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Counter {}

fuzz_target!(|data: &[u8]| {
    let mut fatal = false;
    for item in PskcReader::new(data, PskcOptions::new()).tokens() {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Err(e) => fatal = e.is_fatal(),
            Ok(token) => {
                let mut w =
                    PskcWriter::new(Vec::new(), Protection::None, Counter(0)).expect("writer");
                w.write_token(&token).expect("write");
                let xml = w.finish().expect("finish");
                let back = PskcReader::new(&xml[..], PskcOptions::new())
                    .tokens()
                    .next()
                    .expect("one token")
                    .expect("our own file must read");
                assert!(back.secret.ct_eq(&token.secret));
                assert_eq!(back.kind, token.kind);
                assert_eq!(back.serial, token.serial);
                assert_eq!(back.user, token.user);
            }
        }
    }
});
