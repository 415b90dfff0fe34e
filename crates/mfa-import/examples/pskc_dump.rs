//! Prints what the PSKC reader yields for a file, one line per key, in a
//! format close to the python-pskc differential script's (for debugging and
//! for the differential test). Usage: `pskc_dump FILE [key HEX | pass PASSPHRASE]`.
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::io::BufReader;

use mfa_import::{PskcOptions, PskcReader};

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "None".to_owned(), |v| v.to_string())
}

/// A one-line summary of the token conversion of a key.
pub fn token_summary(k: &mfa_import::PskcKey) -> String {
    match k.to_token() {
        Ok(t) => match t.kind {
            mfa_import::TokenKind::Totp { params, state } => format!(
                "TOTP {} {} period={} drift={}",
                params.algorithm,
                params.digits.get(),
                params.period.seconds(),
                state.drift
            ),
            mfa_import::TokenKind::Hotp { params, state } => format!(
                "HOTP {} {} next={:?}",
                params.algorithm,
                params.digits.get(),
                state.next_counter()
            ),
            _ => "OTHER".to_owned(),
        },
        Err(r) => format!("rejected: {}", r.error),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: pskc_dump FILE [key HEX | pass PASSPHRASE]")?;
    let mut options = PskcOptions::new();
    match (args.get(2).map(String::as_str), args.get(3)) {
        (Some("key"), Some(hex)) => {
            options = options.key(
                &data_encoding::HEXLOWER_PERMISSIVE
                    .decode(hex.as_bytes())
                    .map_err(|e| e.to_string())?,
            );
        }
        (Some("pass"), Some(p)) => options = options.passphrase(p),
        _ => {}
    }
    let file = std::fs::File::open(path)?;
    for item in PskcReader::new(BufReader::new(file), options) {
        match item {
            Ok(k) => println!(
                "KEY serial={} id={} algorithm={} response_length={} response_encoding={} counter={} time_offset={} time_interval={} time_drift={} algorithm_suite={} secret={} => {}",
                opt(&k.serial),
                opt(&k.id),
                opt(&k.algorithm),
                opt(&k.response_length),
                opt(&k.response_encoding),
                opt(&k.counter),
                opt(&k.time),
                opt(&k.time_interval),
                opt(&k.time_drift),
                opt(&k.suite),
                k.secret.as_ref().map_or_else(
                    || "None".to_owned(),
                    |s| data_encoding::HEXLOWER.encode(s.expose_secret())
                ),
                token_summary(&k),
            ),
            Err(r) if r.is_fatal() => println!("FATAL {r}"),
            Err(r) => println!("KEY ERR {r}"),
        }
    }
    Ok(())
}
