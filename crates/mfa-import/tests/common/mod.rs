//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::panic, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Command;

/// A real test file of another project (see `tests/data/README.md`).
pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file of the shared PSKC corpus.
pub(crate) fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/pskc")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Python of the project venv (`MFA_TEST_PYTHON`, else `.venv/bin/python`
/// at the workspace root) if it can import every module named.
pub(crate) fn python(modules: &[&str]) -> Option<String> {
    let py = std::env::var("MFA_TEST_PYTHON").unwrap_or_else(|_| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../.venv/bin/python")
            .display()
            .to_string()
    });
    let import = format!("import {}", modules.join(", "));
    let ok = Command::new(&py)
        .args(["-c", &import])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(py)
    } else {
        mfa_test_support::skip!("{py} cannot `{import}` (.ci/setup installs it)");
        None
    }
}

/// A program on the PATH, if it runs.
pub(crate) fn tool(program: &str, apt: &str) -> Option<String> {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(program.to_owned())
    } else {
        mfa_test_support::skip!("{program} is not installed (Debian package {apt})");
        None
    }
}
