//! mfa-store: the whole verify path (fraud gate + lockout + OATH + replay
//! consumption + lockout counters + auth log event, one transaction) on the
//! embedded SQLite default, single-threaded, and on PostgreSQL with one
//! client (the latency of a sign-in) and with 8 concurrent clients (the
//! rate, and the CPU time of the whole machine per verification, clients
//! and server processes together, from /proc/stat); plus bytes per stored
//! user.
//!
//! ```text
//! cargo bench -p mfa-benches --bench store
//! MFA_TEST_POSTGRES_URL=postgres://… cargo bench -p mfa-benches --bench store   # adds PostgreSQL
//! MFA_BENCH_STORE_USERS=1000000 cargo bench -p mfa-benches --bench store -- size  # bytes per user
//! ```
//!
//! Each measured verification submits a valid code for a user whose
//! previous step was consumed, so every one is a full accept path (the
//! code generation, one HMAC, is inside the measurement).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::indexing_slicing,
    missing_docs
)] // bench set-up and reporting

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mfa_benches::token_secret;
use mfa_oath::{Totp, TotpParams, UnixTime};
use mfa_store::mfa_lockout;
use mfa_store::{
    Durability, ImportMode, MasterKey, NewToken, Store, StoreConfig, TokenKind, VerifyContext,
};

const T0: u64 = 1_700_000_000;

fn key() -> MasterKey {
    MasterKey::new(1, [0x42; 32])
}

fn user(i: u64) -> String {
    format!("user{i:07}@example.com")
}

fn ctx() -> VerifyContext {
    VerifyContext::new("mfa-bench", "10.0.0.1".parse().unwrap())
        .unwrap()
        .with_client("192.0.2.7".parse().unwrap())
}

/// `n` users, each with one active TOTP token; returns the store.
fn populate(url: &str, n: u64, activate: bool) -> Store {
    populate_with(url, n, activate, Durability::default())
}

fn populate_with(url: &str, n: u64, activate: bool, durability: Durability) -> Store {
    // Lockout threshold high enough never to lock during a run.
    let mut config = StoreConfig::default();
    config.durability = durability;
    config.lockout =
        mfa_lockout::Policies::uniform(mfa_lockout::Policy::new(1_000_000, 60, 60).unwrap());
    let store = Store::open_with(url, &key(), config).unwrap();
    let tokens = (0..n).map(|i| {
        NewToken::new(
            format!("SN{i:08}"),
            TokenKind::Totp(TotpParams::default()),
            token_secret(i),
        )
        .with_user(user(i))
    });
    store
        .import(tokens, ImportMode::AllOrNothing, UnixTime::from_secs(T0))
        .unwrap();
    if activate {
        for i in 0..n {
            let totp = Totp::new(token_secret(i), TotpParams::default());
            let t = UnixTime::from_secs(T0);
            store
                .activate(
                    &format!("SN{i:08}"),
                    &totp.generate(t).unwrap().to_string(),
                    t,
                )
                .unwrap();
        }
    }
    store
}

/// A stream of (user, code, time) that are all valid: user `c % n` at round
/// `c / n`, one TOTP step (30 s) per round.
struct Requests {
    totps: Vec<Totp>,
    next: u64,
}

impl Requests {
    fn new(n: u64) -> Requests {
        Requests {
            totps: (0..n)
                .map(|i| Totp::new(token_secret(i), TotpParams::default()))
                .collect(),
            next: 0,
        }
    }

    fn take(&mut self) -> (String, String, UnixTime) {
        let n = self.totps.len() as u64;
        let c = self.next;
        self.next += 1;
        let (i, round) = (c % n, c / n);
        let t = UnixTime::from_secs(T0 + 30 * (round + 1));
        let code = self.totps[i as usize].generate(t).unwrap().to_string();
        (user(i), code, t)
    }

    /// Verifies the next request on `store`; every one must be approved (a
    /// full accept path, in release builds too).
    fn verify_next(&mut self, store: &Store, ctx: &VerifyContext) -> mfa_store::VerifyOutcome {
        let (u, code, t) = self.take();
        let o = store
            .verify(black_box(&u), black_box(&code), t, ctx)
            .unwrap();
        assert!(o.is_approved(), "{o:?}");
        o
    }
}

fn verify_sqlite(c: &mut Criterion) {
    // The default (synchronous=FULL, every commit on the disk) and the
    // faster NORMAL (a power loss can take back the last commits).
    for (name, durability) in [
        ("sqlite/1-thread/valid", Durability::Full),
        ("sqlite/1-thread/valid-sync-normal", Durability::Normal),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let n = 1000;
        let store = populate_with(&url, n, true, durability);
        let ctx = ctx();
        let mut req = Requests::new(n);
        let mut g = c.benchmark_group("store_verify");
        g.sample_size(20).measurement_time(Duration::from_secs(8));
        g.bench_function(name, |b| b.iter(|| req.verify_next(&store, &ctx)));
        g.finish();
        let approved = store.stats().unwrap().auth_events;
        eprintln!("{name}: {approved} verifications logged");
    }
}

/// CPU time of the whole machine that was not idle (user, nice, system,
/// irq, softirq from /proc/stat), in clock ticks of 10 ms: the client
/// threads and every PostgreSQL process together.
fn busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu = stat.lines().next().unwrap_or_default();
    let f: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    [0, 1, 2, 5, 6]
        .iter()
        .map(|&i| f.get(i).copied().unwrap_or(0))
        .sum()
}

/// Busy CPU ticks and verifications of one multi-client bench, over all
/// its runs (warm-up included).
#[derive(Default)]
struct CpuMeter {
    ticks: AtomicU64,
    calls: AtomicU64,
}

impl CpuMeter {
    fn add(&self, ticks: u64, calls: u64) {
        self.ticks.fetch_add(ticks, Ordering::Relaxed);
        self.calls.fetch_add(calls, Ordering::Relaxed);
    }

    fn report(&self, name: &str) {
        let (t, n) = (
            self.ticks.load(Ordering::Relaxed),
            self.calls.load(Ordering::Relaxed),
        );
        eprintln!(
            "{name}: {n} verifications, {:.0} µs of machine CPU (clients and server) per verification",
            t as f64 * 10_000.0 / n.max(1) as f64
        );
    }
}

fn verify_postgres(c: &mut Criterion) {
    let Ok(base) = std::env::var("MFA_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: store_verify/postgres: MFA_TEST_POSTGRES_URL is not set");
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    let mut admin = mfa_store::connect_postgres(&base).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let n: u64 = 800;
    let _setup = populate(&url, n, true);
    const CLIENTS: u64 = 8;
    // Each client is a separate Store (as separate servers would be). Every
    // code is submitted by two clients at once: exactly one must be accepted.
    let stores: Vec<Arc<Store>> = (0..CLIENTS)
        .map(|_| Arc::new(Store::open(&url, &key()).unwrap()))
        .collect();
    let mut g = c.benchmark_group("store_verify");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    // One client alone: the latency of a sign-in, mostly its round trips
    // to the server.
    let mut req = Requests::new(n);
    let ctx1 = ctx();
    g.bench_function("postgres/1-client/valid", |b| {
        b.iter(|| req.verify_next(&stores[0], &ctx1))
    });
    // The 8-client runs start after the rounds used above.
    let round = Arc::new(AtomicU64::new(req.next / n + 1));
    let double = Arc::new(AtomicU64::new(0));
    let meters = [CpuMeter::default(), CpuMeter::default()];
    g.bench_function("postgres/8-clients/valid", |b| {
        b.iter_custom(|iters| {
            // Per client: iters/8 submissions over its quarter of the users.
            let per_client = iters.div_ceil(CLIENTS).max(1);
            let barrier = Arc::new(Barrier::new(CLIENTS as usize));
            let start_round = round.fetch_add(per_client.div_ceil(n / 4) + 1, Ordering::SeqCst);
            let ticks = busy_ticks();
            let handles: Vec<_> = (0..CLIENTS)
                .map(|k| {
                    let (store, barrier) = (stores[k as usize].clone(), barrier.clone());
                    std::thread::spawn(move || {
                        // Clients 2j and 2j+1 share the users j, j+4, j+8, ...
                        let group = k / 2;
                        let ctx = ctx();
                        let users: Vec<u64> = (group..n).step_by(4).collect();
                        let totps: Vec<Totp> = users
                            .iter()
                            .map(|&i| Totp::new(token_secret(i), TotpParams::default()))
                            .collect();
                        barrier.wait();
                        let t0 = Instant::now();
                        let mut approved = 0u64;
                        for c in 0..per_client {
                            let idx = (c as usize) % users.len();
                            let r = start_round + c / users.len() as u64 + 1;
                            let t = UnixTime::from_secs(T0 + 30 * r);
                            let code = totps[idx].generate(t).unwrap().to_string();
                            if store
                                .verify(&user(users[idx]), &code, t, &ctx)
                                .unwrap()
                                .is_approved()
                            {
                                approved += 1;
                            }
                        }
                        (t0.elapsed(), approved)
                    })
                })
                .collect();
            let results: Vec<(Duration, u64)> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            meters[0].add(busy_ticks() - ticks, per_client * CLIENTS);
            // Pairs of clients submitted the same codes: each pair must
            // have exactly per_client approvals between them.
            for pair in results.chunks(2) {
                let sum: u64 = pair.iter().map(|r| r.1).sum();
                if sum != per_client {
                    double.fetch_add(1, Ordering::SeqCst);
                    eprintln!("postgres: a client pair had {sum} approvals for {per_client} codes");
                }
            }
            // Wall time of the slowest client, scaled to `iters` verifications.
            let wall = results.iter().map(|r| r.0).max().unwrap_or_default();
            wall.mul_f64(iters as f64 / (per_client * CLIENTS) as f64)
        })
    });
    // The same 8 clients on disjoint users: every verification is an
    // approval (throughput of accepted sign-ins).
    g.bench_function("postgres/8-clients/distinct-users", |b| {
        b.iter_custom(|iters| {
            let per_client = iters.div_ceil(CLIENTS).max(1);
            let users_per_client = n / CLIENTS;
            let start_round =
                round.fetch_add(per_client.div_ceil(users_per_client) + 1, Ordering::SeqCst);
            let barrier = Arc::new(Barrier::new(CLIENTS as usize));
            let ticks = busy_ticks();
            let handles: Vec<_> = (0..CLIENTS)
                .map(|k| {
                    let (store, barrier) = (stores[k as usize].clone(), barrier.clone());
                    std::thread::spawn(move || {
                        let ctx = ctx();
                        let users: Vec<u64> = (k..n).step_by(CLIENTS as usize).collect();
                        let totps: Vec<Totp> = users
                            .iter()
                            .map(|&i| Totp::new(token_secret(i), TotpParams::default()))
                            .collect();
                        barrier.wait();
                        let t0 = Instant::now();
                        let mut approved = 0u64;
                        for c in 0..per_client {
                            let idx = (c as usize) % users.len();
                            let r = start_round + c / users.len() as u64 + 1;
                            let t = UnixTime::from_secs(T0 + 30 * r);
                            let code = totps[idx].generate(t).unwrap().to_string();
                            if store
                                .verify(&user(users[idx]), &code, t, &ctx)
                                .unwrap()
                                .is_approved()
                            {
                                approved += 1;
                            }
                        }
                        (t0.elapsed(), approved)
                    })
                })
                .collect();
            let results: Vec<(Duration, u64)> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            meters[1].add(busy_ticks() - ticks, per_client * CLIENTS);
            let approved: u64 = results.iter().map(|r| r.1).sum();
            if approved != per_client * CLIENTS {
                double.fetch_add(1, Ordering::SeqCst);
                eprintln!(
                    "postgres: {approved} approvals for {} distinct valid codes",
                    per_client * CLIENTS
                );
            }
            let wall = results.iter().map(|r| r.0).max().unwrap_or_default();
            wall.mul_f64(iters as f64 / (per_client * CLIENTS) as f64)
        })
    });
    g.finish();
    meters[0].report("postgres/8-clients/valid");
    meters[1].report("postgres/8-clients/distinct-users");
    eprintln!(
        "postgres: runs with double acceptances or lost approvals: {}",
        double.load(Ordering::SeqCst)
    );
    assert_eq!(double.load(Ordering::SeqCst), 0, "double acceptance");
    drop(stores);
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
}

/// Bytes per stored user (one user, one sealed TOTP token assigned) at
/// `MFA_BENCH_STORE_USERS` users (default 10,000): the SQLite file size after
/// a checkpoint, and the PostgreSQL relation sizes when configured.
fn size(c: &mut Criterion) {
    let _ = c;
    let n: u64 = std::env::var("MFA_BENCH_STORE_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("size.db");
    let t = Instant::now();
    let store = populate(&format!("sqlite:{}", path.display()), n, false);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    let bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "store_size/sqlite: {n} users, {bytes} bytes, {:.1} bytes/user (populated in {:.1?})",
        bytes as f64 / n as f64,
        t.elapsed()
    );
    if let Ok(base) = std::env::var("MFA_TEST_POSTGRES_URL") {
        let schema = format!("size_{}", std::process::id());
        let mut admin = mfa_store::connect_postgres(&base).unwrap();
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let t = Instant::now();
        drop(populate(
            &format!("{base}{sep}options=-csearch_path%3D{schema}"),
            n,
            false,
        ));
        admin.batch_execute("CHECKPOINT").ok();
        let row = admin
            .query_one(
                "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c \
                 JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind = 'r'",
                &[&schema],
            )
            .unwrap();
        let bytes: i64 = row.get(0);
        println!(
            "store_size/postgres: {n} users, {bytes} bytes, {:.1} bytes/user (populated in {:.1?})",
            bytes as f64 / n as f64,
            t.elapsed()
        );
        let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
}

criterion_group!(benches, verify_sqlite, verify_postgres);
criterion_group! {
    name = sizes;
    config = Criterion::default();
    targets = size
}
criterion_main!(benches, sizes);
