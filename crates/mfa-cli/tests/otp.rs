//! `mfa otp …` driven as a user would: the real binary, its output and exit status.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests assert by panicking

use assert_cmd::Command;

const RFC_SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"

fn mfa() -> Command {
    Command::cargo_bin("mfa").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = mfa().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn totp_code_matches_rfc6238() {
    let out = stdout_of(&[
        "otp",
        "code",
        "--secret",
        RFC_SECRET_B32,
        "--totp",
        "--digits",
        "8",
        "--time",
        "59",
    ]);
    assert_eq!(out, "94287082\n");
    let out = stdout_of(&[
        "otp",
        "code",
        "--secret",
        RFC_SECRET_B32,
        "--totp",
        "--digits",
        "8",
        "--time",
        "1111111109",
    ]);
    assert_eq!(out, "07081804\n");
}

#[test]
fn hotp_code_matches_rfc4226() {
    let out = stdout_of(&[
        "otp",
        "code",
        "--secret",
        RFC_SECRET_B32,
        "--hotp",
        "--counter",
        "3",
    ]);
    assert_eq!(out, "969429\n");
}

#[test]
fn secret_from_stdin() {
    let out = mfa()
        .args(["otp", "code", "--secret", "-", "--hotp", "--counter", "0"])
        .write_stdin(format!("{RFC_SECRET_B32}\n"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "755224\n");
}

#[test]
fn totp_code_now_has_six_digits() {
    let out = stdout_of(&["otp", "code", "--secret", "JBSWY3DPEHPK3PXP", "--totp"]);
    let code = out.trim();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
}

#[test]
fn bad_secret_is_one_line_exit_2() {
    let out = mfa()
        .args([
            "otp",
            "code",
            "--secret",
            "1234567abcdef1234567abcdef",
            "--totp",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        "mfa: --secret: invalid base32 encoding due to illegal character '1' at position 1\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_digits_and_missing_kind_exit_2() {
    let out = mfa()
        .args([
            "otp",
            "code",
            "--secret",
            RFC_SECRET_B32,
            "--totp",
            "--digits",
            "10",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--digits"));
    let out = mfa()
        .args(["otp", "code", "--secret", RFC_SECRET_B32])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = mfa()
        .args(["otp", "code", "--secret", RFC_SECRET_B32, "--hotp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn uri_and_qr() {
    let out = stdout_of(&[
        "otp",
        "uri",
        "--issuer",
        "Contoso",
        "--account",
        "helga@contoso.com",
        "--secret",
        "JBSWY3DPEHPK3PXP",
        "--totp",
        "--qr",
    ]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "otpauth://totp/Contoso:helga%40contoso.com?secret=JBSWY3DPEHPK3PXP&issuer=Contoso&algorithm=SHA1&digits=6&period=30"
    );
    let qr: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    // A version-4+ QR code with quiet zone: at least 33+8 modules wide, two
    // modules per text row, all drawn with half blocks.
    assert!(qr.len() >= 20, "{} rows", qr.len());
    let width = qr[0].chars().count();
    assert!(width >= 41);
    assert!(qr.iter().all(|l| l.chars().count() == width));
    assert!(
        qr.iter()
            .all(|l| l.chars().all(|c| matches!(c, ' ' | '█' | '▀' | '▄')))
    );
}

#[test]
fn hotp_uri_carries_counter() {
    let out = stdout_of(&[
        "otp",
        "uri",
        "--issuer",
        "Contoso",
        "--account",
        "helga",
        "--secret",
        "JBSWY3DPEHPK3PXP",
        "--hotp",
        "--counter",
        "7",
    ]);
    assert!(out.trim_end().ends_with("&digits=6&counter=7"), "{out}");
}

#[test]
fn json_output() {
    let out = stdout_of(&[
        "--json",
        "otp",
        "code",
        "--secret",
        RFC_SECRET_B32,
        "--hotp",
        "--counter",
        "1",
    ]);
    assert_eq!(out, "{\"code\":\"287082\"}\n");
    let out = stdout_of(&[
        "otp",
        "uri",
        "--json",
        "--issuer",
        "I",
        "--account",
        "a",
        "--secret",
        RFC_SECRET_B32,
        "--totp",
    ]);
    assert!(
        out.starts_with("{\"uri\":\"otpauth://totp/I:a?secret="),
        "{out}"
    );
}
