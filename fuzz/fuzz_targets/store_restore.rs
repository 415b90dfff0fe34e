//! mfa-store backup restore fed arbitrary bytes: never a panic; a refused
//! file leaves the (empty) store empty — nothing half-restored; an accepted
//! file round-trips: its backup restores into another fresh store whose own
//! backup is byte-identical.
//!
//! The seeds (corpus/store_restore) are written by
//! `fuzz/seeds/store_restore.sh` from the current code. With
//! `MFA_FUZZ_REPORT_ACCEPTED=1` every accepted input prints
//! `store_restore: accepted` on stderr: CI's seed replay checks that the
//! accepted branch ran at least once.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use mfa_store::{Store, StoreStats};

mod store_restore_key;

static N: AtomicU64 = AtomicU64::new(0);

fn fresh(dir: &std::path::Path, name: &str) -> Store {
    let url = format!("sqlite:{}", dir.join(name).display());
    Store::open(&url, &store_restore_key::master_key()).expect("open a fresh store")
}

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!(
        "mfa-fuzz-restore-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let a = fresh(&dir, "a.db");
    match a.restore(std::io::Cursor::new(data)) {
        Err(_) => {
            assert_eq!(a.stats().expect("stats"), StoreStats::default());
            assert!(a.trusted_ranges().expect("ranges").is_empty());
        }
        Ok(()) => {
            if std::env::var_os("MFA_FUZZ_REPORT_ACCEPTED").is_some() {
                eprintln!("store_restore: accepted");
            }
            let mut first = Vec::new();
            a.backup(&mut first).expect("backup a");
            let b = fresh(&dir, "b.db");
            b.restore(std::io::Cursor::new(&first))
                .expect("a backup of ours restores");
            let mut second = Vec::new();
            b.backup(&mut second).expect("backup b");
            assert_eq!(first, second);
        }
    }
    drop(a);
    let _ = std::fs::remove_dir_all(&dir);
});
