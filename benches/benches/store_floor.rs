//! `Store::authenticate` beside its floor, in the same run, on the same
//! file system, with the same SQLite pragmas: the floor is the least any
//! replay-safe verification must write — one transaction with one
//! conditional `UPDATE` of the token's step and one `INSERT` into the log —
//! done with rusqlite directly on a store file of the same schema.
//!
//! ```text
//! cargo bench -p mfa-benches --bench store_floor
//! ```
//!
//! Every measured `authenticate` call is asserted to be an approval (a valid
//! code for a user whose previous step was consumed), and every floor
//! transaction to have changed exactly one token row.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::indexing_slicing,
    missing_docs
)] // bench set-up and reporting

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mfa_benches::token_secret;
use mfa_oath::{Totp, TotpParams, UnixTime};
use mfa_store::{
    AuthRequest, Durability, ImportMode, MasterKey, NewToken, Presented, Store, StoreConfig,
    TokenKind, VerifyContext, mfa_lockout,
};

const T0: u64 = 1_700_000_000;
const USERS: u64 = 1000;

fn user(i: u64) -> String {
    format!("user{i:07}@example.com")
}

/// A store with `USERS` users, each with one activated TOTP token.
fn populate(url: &str, durability: Durability) -> Store {
    let mut config = StoreConfig::default();
    config.durability = durability;
    config.lockout =
        mfa_lockout::Policies::uniform(mfa_lockout::Policy::new(1_000_000, 60, 60).unwrap());
    let store = Store::open_with(url, &MasterKey::new(1, [0x42; 32]), config).unwrap();
    let tokens = (0..USERS).map(|i| {
        NewToken::new(
            format!("SN{i:08}"),
            TokenKind::Totp(TotpParams::default()),
            token_secret(i),
        )
        .with_user(user(i))
    });
    let t = UnixTime::from_secs(T0);
    store.import(tokens, ImportMode::AllOrNothing, t).unwrap();
    for i in 0..USERS {
        let code = Totp::new(token_secret(i), TotpParams::default())
            .generate(t)
            .unwrap()
            .to_string();
        store.activate(&format!("SN{i:08}"), &code, t).unwrap();
    }
    store
}

/// The same connection settings as mfa-store's SQLite backend (db.rs).
fn floor_connection(path: &std::path::Path, durability: Durability) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    let sync = match durability {
        Durability::Normal => "NORMAL",
        _ => "FULL",
    };
    c.pragma_update(None, "synchronous", sync).unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    c.pragma_update(None, "cache_size", -16_384).unwrap();
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "the store file is in WAL mode");
    c
}

fn authenticate_vs_floor(c: &mut Criterion) {
    // Full durability (the default: one fsync per commit) and normal.
    for (name, durability, rounds) in [
        ("full", Durability::Full, 300u64),
        ("normal", Durability::Normal, 3000),
    ] {
        one_mode(c, name, durability, rounds);
    }
}

fn one_mode(c: &mut Criterion, name: &str, durability: Durability, rounds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let store = populate(&format!("sqlite:{}", path.display()), durability);
    let ctx = VerifyContext::new("mfa-bench", "10.0.0.1".parse().unwrap())
        .unwrap()
        .with_client("192.0.2.7".parse().unwrap());
    let totps: Vec<Totp> = (0..USERS)
        .map(|i| Totp::new(token_secret(i), TotpParams::default()))
        .collect();
    let users: Vec<String> = (0..USERS).map(user).collect();
    let mut next = 0u64;
    let mut g = c.benchmark_group("store_floor");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function(format!("sqlite-{name}/authenticate"), |b| {
        b.iter(|| {
            let (i, round) = (next % USERS, next / USERS);
            next += 1;
            let t = UnixTime::from_secs(T0 + 30 * (round + 1));
            let code = totps[i as usize].generate(t).unwrap().to_string();
            let req = AuthRequest::new(&users[i as usize], Presented::OathCode(&code));
            let o = store.authenticate(black_box(&req), t, &ctx).unwrap();
            assert!(o.is_approved(), "{o:?}");
            o
        })
    });

    // The floor, on a second file made the same way (same schema, pragmas,
    // directory), so the two do not share pages or the WAL.
    let floor_path = dir.path().join("floor.db");
    drop(populate(
        &format!("sqlite:{}", floor_path.display()),
        durability,
    ));
    let mut conn = floor_connection(&floor_path, durability);
    let mut step = T0 / 30 + 1;
    let mut k = 0u64;
    g.bench_function(format!("sqlite-{name}/floor"), |b| {
        b.iter(|| {
            let i = k % USERS;
            k += 1;
            if i == 0 {
                step += 1;
            }
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            let n = tx
                .execute(
                    "UPDATE tokens SET last_step = ?1 WHERE serial = ?2 AND last_step < ?1",
                    rusqlite::params![step as i64, format!("SN{i:08}")],
                )
                .unwrap();
            assert_eq!(n, 1, "the floor consumed a step");
            tx.execute(
                "INSERT INTO auth_log (at, user_id, mode, result, reason, detail, serial, \
                 server_name, server_ip, client_ip) VALUES (?1, ?2, 'oath_code', 'success', \
                 NULL, NULL, ?3, 'mfa-bench', '10.0.0.1', '192.0.2.7')",
                rusqlite::params![(step * 30) as i64, users[i as usize], format!("SN{i:08}")],
            )
            .unwrap();
            tx.commit().unwrap();
        })
    });
    g.finish();

    // A plain timed pass of each (same order, same sizes) for the ratio line.
    let t = Instant::now();
    for _ in 0..rounds {
        let (i, round) = (next % USERS, next / USERS);
        next += 1;
        let at = UnixTime::from_secs(T0 + 30 * (round + 1));
        let code = totps[i as usize].generate(at).unwrap().to_string();
        let req = AuthRequest::new(&users[i as usize], Presented::OathCode(&code));
        assert!(store.authenticate(&req, at, &ctx).unwrap().is_approved());
    }
    let auth = t.elapsed().as_secs_f64() / rounds as f64;
    let t = Instant::now();
    for _ in 0..rounds {
        let i = k % USERS;
        k += 1;
        if i == 0 {
            step += 1;
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        let n = tx
            .execute(
                "UPDATE tokens SET last_step = ?1 WHERE serial = ?2 AND last_step < ?1",
                rusqlite::params![step as i64, format!("SN{i:08}")],
            )
            .unwrap();
        assert_eq!(n, 1);
        tx.execute(
            "INSERT INTO auth_log (at, user_id, mode, result, reason, detail, serial, \
             server_name, server_ip, client_ip) VALUES (?1, ?2, 'oath_code', 'success', \
             NULL, NULL, ?3, 'mfa-bench', '10.0.0.1', '192.0.2.7')",
            rusqlite::params![(step * 30) as i64, users[i as usize], format!("SN{i:08}")],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let floor = t.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "store_floor/sqlite-{name}: authenticate {:.1} us ({:.0}/s), floor {:.1} us ({:.0}/s), \
         authenticate/floor = {:.2}x over {rounds} calls each",
        auth * 1e6,
        1.0 / auth,
        floor * 1e6,
        1.0 / floor,
        auth / floor
    );
}

criterion_group!(benches, authenticate_vs_floor);
criterion_main!(benches);
