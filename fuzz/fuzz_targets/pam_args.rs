//! The module arguments of a PAM service line (NUL-separated here): parsing
//! never panics; whatever parses is written out as arguments again and
//! parses to the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pam_mfa::{CodeSource, Config};

fuzz_target!(|data: &[u8]| {
    let args: Vec<&[u8]> = data.split(|b| *b == 0).collect();
    let Ok(c) = Config::parse(args.iter().copied()) else {
        return;
    };
    assert!(!c.db.is_empty() && !c.key_file.as_os_str().is_empty());
    assert!((1..=pam_mfa::MAX_TIMEOUT_SECS).contains(&c.timeout.as_secs()));
    assert!(c.prompt.len() <= pam_mfa::MAX_PROMPT_LEN);
    let mut written = vec![
        format!("db={}", c.db),
        format!(
            "key_file={}",
            c.key_file.to_str().expect("parsed from UTF-8")
        ),
        format!("prompt={}", c.prompt),
        format!("timeout={}", c.timeout.as_secs()),
    ];
    match c.source {
        CodeSource::UseFirstPass => written.push("use_first_pass".into()),
        CodeSource::TryFirstPass => written.push("try_first_pass".into()),
        _ => {}
    }
    for (on, name) in [
        (c.password_otp, "password-otp"),
        (c.nullok, "nullok"),
        (c.debug, "debug"),
    ] {
        if on {
            written.push(name.into());
        }
    }
    let again =
        Config::parse(written.iter().map(|a| a.as_bytes())).expect("our own arguments must parse");
    assert_eq!(again, c);
});
