#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::io::Write as _;

/// Says that the running test could not run, and why; the caller returns
/// right after. See the [crate] documentation.
///
/// Without `CI=true`: writes `SKIPPED: <crate>::<binary>::<test>: <reason>`
/// to the process's stderr (not through libtest's capture). With `CI=true`:
/// panics with that name and reason, so the test fails.
#[macro_export]
macro_rules! skip {
    ($($reason:tt)+) => {
        $crate::skip_test(env!("CARGO_PKG_NAME"), &::std::format!($($reason)+))
    };
}

/// What [`skip!`] calls: `krate` is the calling crate's package name.
///
/// # Panics
/// Under `CI=true`, always: a test that cannot run there is a failure.
#[allow(clippy::panic)] // the point: under CI=true a skip fails the test
#[track_caller]
pub fn skip_test(krate: &str, reason: &str) {
    let name = test_name(krate);
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} could not run under CI=true: {reason} (.ci/setup must provide it)");
    }
    let line = format!("SKIPPED: {name}: {reason}\n");
    // Straight to the process's stderr, past libtest's capture, so the line
    // shows in CI logs even though the test passes. A failed write has
    // nowhere better to go.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `<crate>::<test binary>::<test path>`: libtest runs each test on a thread
/// named after its path; integration tests add their binary's name (Cargo
/// appends `-<hash>` to it).
fn test_name(krate: &str) -> String {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("main");
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
            _ => stem,
        });
    match binary {
        Some(b) if b != krate.replace('-', "_") => format!("{krate}::{b}::{test}"),
        _ => format!("{krate}::{test}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_is_crate_binary_and_test_path() {
        let name = super::test_name("mfa-test-support");
        assert_eq!(
            name,
            "mfa-test-support::tests::the_name_is_crate_binary_and_test_path"
        );
    }
}
