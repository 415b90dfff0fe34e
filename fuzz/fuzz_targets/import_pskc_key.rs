//! PSKC reader with a pre-shared key or a passphrase (chosen by the first
//! byte; its top bit allows CBC values without a ValueMAC), so that the
//! decryption, key-wrap, MAC and PBKDF2 paths are fuzzed: never a panic, a
//! fatal error ends the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_import::{Limits, PskcOptions, PskcReader};

const KEYS: [&[u8]; 4] = [
    b"\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12",
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
    b"\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78",
    b"\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90\x12\x34",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, xml)) = data.split_first() else {
        return;
    };
    let mut limits = Limits::default();
    limits.max_pbkdf2_iterations = 10_000; // keep each run fast
    let options = match (selector & 0x7f) % 6 {
        4 => PskcOptions::new().passphrase("qwerty"),
        5 => PskcOptions::new().passphrase("3FCA3158035072D6"),
        i => PskcOptions::new().key(KEYS[usize::from(i)]),
    }
    .allow_unauthenticated(selector & 0x80 != 0)
    .limits(limits);
    let mut fatal = false;
    for item in PskcReader::new(xml, options) {
        assert!(!fatal, "an item after a fatal error");
        match item {
            Err(e) => fatal = e.is_fatal(),
            Ok(key) => {
                let _ = key.to_token();
            }
        }
    }
});
