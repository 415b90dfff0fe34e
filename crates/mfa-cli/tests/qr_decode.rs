//! The terminal QR code of `mfa otp uri --qr` decodes (with zbar, an
//! independent decoder) to exactly the URI printed above it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)] // tests assert by panicking

use std::process::Command;

#[test]
fn terminal_qr_decodes_to_the_uri() {
    if Command::new("zbarimg").arg("--version").output().is_err() {
        mfa_test_support::skip!(
            "zbarimg not found (Debian package zbar-tools; .ci/setup installs it)"
        );
        return;
    }
    let out = assert_cmd::Command::cargo_bin("mfa")
        .unwrap()
        .args([
            "otp",
            "uri",
            "--issuer",
            "Contoso Ltd",
            "--account",
            "helga@contoso.com",
            "--secret",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "--totp",
            "--digits",
            "8",
            "--qr",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let uri = lines.next().unwrap();
    let rows: Vec<Vec<char>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().collect())
        .collect();

    // Each character cell is two modules stacked; '█' '▀' '▄' are drawn in
    // the terminal's foreground (light) colour, so a block is a light module.
    const SCALE: usize = 6;
    let width = rows[0].len() * SCALE;
    let height = rows.len() * 2 * SCALE;
    let mut pgm = format!("P5\n{width} {height}\n255\n").into_bytes();
    for row in &rows {
        for half in 0..2 {
            let line: Vec<u8> = row
                .iter()
                .flat_map(|&c| {
                    let light = match c {
                        '█' => true,
                        '▀' => half == 0,
                        '▄' => half == 1,
                        _ => false,
                    };
                    std::iter::repeat_n(if light { 255 } else { 0 }, SCALE)
                })
                .collect();
            for _ in 0..SCALE {
                pgm.extend_from_slice(&line);
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("mfa-qr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("qr.pgm");
    std::fs::write(&path, pgm).unwrap();
    let decoded = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        decoded.status.success(),
        "zbarimg: {}",
        String::from_utf8_lossy(&decoded.stderr)
    );
    assert_eq!(String::from_utf8(decoded.stdout).unwrap().trim_end(), uri);
    assert!(uri.starts_with("otpauth://totp/Contoso%20Ltd:helga%40contoso.com?"));
}
