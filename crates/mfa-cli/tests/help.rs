//! Every command's `--help` has an example, and `mfa --help` lists them all.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use assert_cmd::Command;

const COMMANDS: &[&str] = &[
    "init",
    "import",
    "tokens list",
    "tokens assign",
    "tokens unassign",
    "tokens activate",
    "users add",
    "users add-app-password",
    "users delete-app-passwords",
    "users show",
    "enroll",
    "verify",
    "lockout status",
    "lockout unblock",
    "fraud report",
    "fraud block",
    "fraud unblock",
    "fraud status",
    "risk remediate",
    "report auth",
    "report usage",
    "backup",
    "restore",
    "rekey",
    "demo",
    "otp code",
    "otp uri",
    "completions",
];

#[test]
fn every_command_has_an_example() {
    for cmd in COMMANDS {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let out = Command::cargo_bin("mfa")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("Example"),
            "`mfa {cmd} --help` has no example:\n{text}"
        );
        assert!(
            text.contains(&format!("mfa {}", args[0])),
            "{cmd}: the example does not run mfa"
        );
    }
}

#[test]
fn top_level_help_lists_the_commands() {
    let out = Command::cargo_bin("mfa")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for top in [
        "init",
        "import",
        "tokens",
        "users",
        "enroll",
        "verify",
        "lockout",
        "fraud",
        "risk",
        "report",
        "backup",
        "restore",
        "rekey",
        "demo",
        "otp",
        "completions",
    ] {
        assert!(
            text.contains(&format!("  {top} ")),
            "{top} missing from mfa --help"
        );
    }
}
