//! Crash safety and bad input: a process SIGKILLed in the middle of a large
//! import leaves all or none of it; corrupt files are refused untouched.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use mfa_store::{Error, ImportMode, Store};

both_backends!(killed_import_leaves_all_or_none);

const CHILD_ENV: &str = "MFA_STORE_TEST_CRASH_CHILD";
const N: u32 = 30_000;

/// Not a test by itself: the child of `killed_import_leaves_all_or_none`,
/// importing `N` tokens in one transaction and writing a marker file once
/// the import is well under way.
#[test]
fn child_import() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut lines = spec.split('\n');
    let (url, marker, now) = (
        lines.next().unwrap(),
        lines.next().unwrap(),
        lines.next().unwrap().parse::<u64>().unwrap(),
    );
    let store = Store::open(url, &key()).unwrap();
    let marker = marker.to_owned();
    let tokens = (0..N).map(move |i| {
        if i == N / 10 {
            std::fs::write(&marker, b"").unwrap();
        }
        totp_token(&format!("BULK-{i:06}"), i)
    });
    store
        .import(tokens, ImportMode::AllOrNothing, at(now))
        .unwrap();
}

/// Runs the child importing at `now`; with `kill`, SIGKILLs it once its
/// import is under way and says whether it was still running.
fn run_child(b: &Backend, kill: bool, now: u64) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_import", "--test-threads", "1", "--quiet"])
        .env(CHILD_ENV, format!("{}\n{}\n{now}", b.url, marker.display()))
        .stdout(if kill {
            std::process::Stdio::null()
        } else {
            std::process::Stdio::piped()
        })
        .spawn()
        .unwrap();
    if !kill {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the child's import failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        return false;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "child never started importing");
        if child.try_wait().unwrap().is_some() {
            panic!("child exited before the import started");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
    // std's Child::kill sends SIGKILL on Unix.
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    still_running
}

fn killed_import_leaves_all_or_none(b: &Backend) {
    let s = b.open();
    enrol(&s, "alice", "T1", 1);
    drop(s);
    let killed_mid_import = run_child(b, true, T0);
    let s = b.open();
    let tokens = s.stats().unwrap().tokens;
    eprintln!(
        "{}: child killed mid-import: {killed_mid_import}; tokens after: {tokens}",
        b.name
    );
    if killed_mid_import {
        assert_eq!(tokens, 1, "a killed import must leave none of its tokens");
    } else {
        assert!(tokens == 1 || tokens == u64::from(N) + 1, "{tokens}");
    }
    // The store is intact and usable; the full import then succeeds.
    assert!(
        s.verify("alice", &code_at(1, T0 + 30), at(T0 + 30), &ctx())
            .unwrap()
            .is_approved()
    );
    if tokens == 1 {
        // Once the killed import has shown no sign of life for
        // DEAD_IMPORT_SECS (it ran for seconds), the next import takes its rows
        // away and goes in.
        drop(s);
        run_child(b, false, T0 + 2 * mfa_store::DEAD_IMPORT_SECS);
        assert_eq!(b.open().stats().unwrap().tokens, u64::from(N) + 1);
    }
}

#[test]
fn corrupt_sqlite_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // Not a database at all.
    let junk = dir.path().join("junk.db");
    let bytes: Vec<u8> = (0..8192u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&junk, &bytes).unwrap();
    let e = Store::open(&format!("sqlite:{}", junk.display()), &key()).unwrap_err();
    assert!(matches!(e, Error::NotADatabase { .. }), "{e:?}");
    assert!(e.to_string().contains("junk.db"));
    assert_eq!(std::fs::read(&junk).unwrap(), bytes, "nothing overwritten");

    // A real store whose pages were damaged.
    let path = dir.path().join("mfa.db");
    let url = format!("sqlite:{}", path.display());
    let s = Store::open(&url, &key()).unwrap();
    enrol(&s, "alice", "T1", 1);
    drop(s);
    let mut data = std::fs::read(&path).unwrap();
    // Keep the header, scramble the rest.
    for (i, b) in data.iter_mut().enumerate().skip(100) {
        *b = (i % 253) as u8;
    }
    std::fs::write(&path, &data).unwrap();
    let _ = std::fs::remove_file(dir.path().join("mfa.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("mfa.db-shm"));
    let e = Store::open(&url, &key()).unwrap_err();
    assert!(
        matches!(e, Error::NotADatabase { .. } | Error::Corrupt { .. }),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), data, "nothing overwritten");

    // Another application's SQLite database is not written into.
    let foreign = dir.path().join("other.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let e = Store::open(&format!("sqlite:{}", foreign.display()), &key()).unwrap_err();
    assert!(matches!(e, Error::NotADatabase { .. }), "{e:?}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
}

#[test]
fn unknown_url_scheme() {
    let e = Store::open("mysql://localhost/x", &key()).unwrap_err();
    assert!(
        matches!(e, Error::UrlScheme { ref scheme } if scheme == "mysql"),
        "{e:?}"
    );
}
