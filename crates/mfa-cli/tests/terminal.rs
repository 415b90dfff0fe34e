//! The `mfa` command in a real terminal (a pseudo-terminal made by
//! util-linux `script`): the import progress bar is drawn there, and never
//! when the output is not a terminal.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::fmt::Write as _;
use std::process::Command;

fn big_cloud_csv(rows: usize) -> String {
    let mut s = String::from("upn,serial number,secret key,time interval,manufacturer,model\n");
    for i in 0..rows {
        // 160-bit secrets, all different.
        let secret: String = format!("{i:032}")
            .bytes()
            .map(|b| char::from(b"ABCDEFGHIJ"[usize::from(b - b'0')]))
            .collect();
        writeln!(
            s,
            "user{i}@contoso.com,S{i:07},{secret},30,Contoso,HardwareKey"
        )
        .unwrap();
    }
    s
}

/// A command in `dir` with none of the caller's mfa settings.
fn clean(program: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env_remove("MFA_MASTER_KEY")
        .env_remove("MFA_DB")
        .env_remove("MFA_KEY_FILE");
    c
}

#[test]
fn progress_bar_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        mfa_test_support::skip!("util-linux `script` not found; cannot make a pseudo-terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.csv"), big_cloud_csv(20_000)).unwrap();
    let mfa = assert_cmd::cargo::cargo_bin("mfa");
    let mfa = mfa.display();
    let init = clean(&mfa.to_string(), dir.path())
        .arg("init")
        .output()
        .unwrap();
    assert!(init.status.success());

    // In a terminal: the bar (with bytes, rate and ETA) is drawn on stderr.
    let tty = clean("script", dir.path())
        .args(["-qfec", &format!("{mfa} import big.csv"), "/dev/null"])
        .env("TERM", "xterm")
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    assert!(screen.contains("20000 imported, 0 rejected"), "{screen}");
    assert!(
        screen.contains("importing ["),
        "no progress bar drawn: {screen}"
    );
    assert!(screen.contains("ETA"), "{screen}");
    assert!(screen.contains("tokens"), "{screen}");

    // Not a terminal: no bar, just the summary.
    std::fs::write(
        dir.path().join("small.csv"),
        big_cloud_csv(3).replace("S000", "T000"),
    )
    .unwrap();
    let piped = clean(&mfa.to_string(), dir.path())
        .args(["import", "small.csv"])
        .output()
        .unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
}

#[test]
fn enroll_draws_the_qr_code_in_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        mfa_test_support::skip!("util-linux `script` not found; cannot make a pseudo-terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mfa = assert_cmd::cargo::cargo_bin("mfa").display().to_string();
    assert!(
        clean(&mfa, dir.path())
            .arg("init")
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(
        clean(&mfa, dir.path())
            .args(["users", "add", "helga"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let tty = clean("script", dir.path())
        .args([
            "-qfec",
            &format!("{mfa} enroll helga --issuer Contoso --serial APP-1"),
            "/dev/null",
        ])
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{screen}");
    assert!(
        screen.contains("otpauth://totp/Contoso:helga?secret="),
        "{screen}"
    );
    // The QR code: rows of half blocks, all the same width.
    let rows: Vec<&str> = screen
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && l.chars().all(|c| matches!(c, ' ' | '█' | '▀' | '▄')))
        .collect();
    assert!(rows.len() >= 20, "{screen}");
    let width = rows[0].chars().count();
    assert!(
        width >= 41 && rows.iter().all(|r| r.chars().count() == width),
        "{screen}"
    );
    assert!(screen.contains("mfa tokens activate APP-1"), "{screen}");
}
