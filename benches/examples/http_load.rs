//! An HTTP load generator for the validate API: `mfa serve` (mfa-http over
//! the embedded SQLite store, every request a full `Store::authenticate`
//! with its durable write and log event) against privacyIDEA 3.x on its
//! SQLite backend, in the same run, with the same generator, on the same
//! machine, interleaved A B A B.
//!
//! ```text
//! cargo build --release -p mfa-cli
//! cargo run --release -p mfa-benches --example http_load -- [USERS] [ROUNDS] [CONCURRENCY] [PI_USERS] [PI_SECONDS]
//! ```
//!
//! Every user has an HOTP token of its own; round `r` sends counter `r` of
//! every user and the next round starts when the previous one is answered,
//! so every request is a distinct, valid code and must be an approval
//! (HTTP 200, `"status":true,"value":true`); every other answer is counted
//! and reported. CONCURRENCY blocking HTTP/1.1 keep-alive connections, one
//! thread each. Each server: closed loop (the maximum rate), then paced at
//! half that rate (the latency percentiles). The server's CPU time per
//! request comes from /proc/PID/stat. The store's own single-threaded
//! `authenticate` rate is measured in the same run on a copy of the same
//! set-up (same durability, FULL by default; NORMAL beside it).
//!
//! privacyIDEA: `MFA_PRIVACYIDEA_PYTHON`, or `.venv-privacyidea/bin/python`
//! at the workspace root (.ci/setup); http_load_privacyidea.py serves it
//! with gunicorn (2 workers) when the venv has it, else Werkzeug's threaded
//! server, and says which. `MFA_BIN` overrides the `mfa` binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // bench set-up and reporting

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mfa_benches::token_secret;
use mfa_oath::{Hotp, HotpParams, UnixTime};
use mfa_store::{
    AuthRequest, Durability, ImportMode, MasterKey, NewToken, Presented, Store, StoreConfig,
    TokenKind, VerifyContext,
};

fn hotp(i: u64) -> Hotp {
    Hotp::new(token_secret(i), HotpParams::default())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// utime + stime of a process and its waited-for children, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    let hz: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    ticks / hz
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    target: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    /// POSTs the form; Ok(true) for an approval, Ok(false) for any other
    /// well-formed answer, Err for a broken one.
    fn check(&mut self, form: &str) -> Result<bool, String> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.target).map_err(|e| e.to_string())?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .map_err(|e| e.to_string())?;
            self.stream = Some(BufReader::new(s));
        }
        let r = self.exchange(form);
        if !matches!(r, Ok((_, true))) {
            self.stream = None;
        }
        r.map(|(ok, _)| ok)
    }

    fn exchange(&mut self, form: &str) -> Result<(bool, bool), String> {
        let s = self.stream.as_mut().unwrap();
        let req = format!(
            "POST /validate/check HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.target,
            form.len()
        );
        s.get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        s.read_line(&mut line).map_err(|e| e.to_string())?;
        let status = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let (mut length, mut keep) = (None, true);
        loop {
            line.clear();
            if s.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("connection closed in the headers".into());
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if l.starts_with("connection:") && l.contains("close") {
                keep = false;
            } else if l.starts_with("transfer-encoding:") {
                return Err("chunked answer (not read by this generator)".into());
            }
        }
        let mut body = vec![0; length.ok_or("no content-length")?];
        s.read_exact(&mut body).map_err(|e| e.to_string())?;
        let compact: String = String::from_utf8_lossy(&body)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let ok = status == "200"
            && compact.contains("\"status\":true")
            && compact.contains("\"value\":true");
        Ok((ok, keep))
    }
}

struct Run {
    answered: usize,
    /// Answers that were not an approval (each should be 0).
    rejected: usize,
    /// Broken or missing answers.
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: f64,
    load: String,
}

impl Run {
    fn rate(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return 0.0;
        }
        l[((l.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
    }
    fn line(&self) -> String {
        format!(
            "{:>8.1} req/s ({} answered, {} not accepted, {} errors, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs/req, load {})",
            self.rate(),
            self.answered,
            self.rejected,
            self.errors,
            self.pct(0.5),
            self.pct(0.99),
            self.cpu / self.answered.max(1) as f64 * 1e6,
            self.load
        )
    }
}

/// The users of round `counter`, in order: (user, form) pairs.
fn round(users: u64, counter: u64) -> Vec<String> {
    (0..users)
        .map(|i| format!("user=u{i}&pass={}", hotp(i).generate(counter)))
        .collect()
}

/// Sends the rounds `counters` over `conns` (closed loop, or paced at
/// `rate` per second) until they are done or `limit` has passed; a round
/// starts when the previous one is answered.
fn generate(
    conns: &mut [Conn],
    pid: u32,
    users: u64,
    counters: std::ops::Range<u64>,
    rate: Option<f64>,
    limit: Duration,
) -> Run {
    let latencies = Mutex::new(Vec::new());
    let (rejected, errors) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let sent = AtomicUsize::new(0);
    // Fresh connections per run: the server may have closed idle ones
    // while the other server was measured.
    for conn in conns.iter_mut() {
        conn.stream = None;
    }
    let cpu0 = cpu_seconds(pid);
    let start = Instant::now();
    for c in counters {
        if start.elapsed() >= limit {
            break;
        }
        let forms = round(users, c);
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for conn in conns.iter_mut() {
                let (forms, next, sent) = (&forms, &next, &sent);
                let (latencies, rejected, errors) = (&latencies, &rejected, &errors);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        if start.elapsed() >= limit {
                            break;
                        }
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(form) = forms.get(k) else { break };
                        if let Some(r) = rate {
                            let n = sent.fetch_add(1, Ordering::Relaxed);
                            let due = start + Duration::from_secs_f64(n as f64 / r);
                            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                                std::thread::sleep(wait);
                            }
                        }
                        let at = Instant::now();
                        match conn.check(form) {
                            Ok(true) => {}
                            Ok(false) => {
                                rejected.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                eprintln!("error: {e}");
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        mine.push(at.elapsed());
                    }
                    latencies.lock().unwrap().extend(mine);
                });
            }
        });
    }
    let elapsed = start.elapsed();
    let latencies = latencies.into_inner().unwrap();
    let errors = errors.into_inner();
    Run {
        answered: latencies.len() - errors,
        rejected: rejected.into_inner(),
        errors,
        elapsed,
        latencies,
        cpu: cpu_seconds(pid) - cpu0,
        load: uptime(),
    }
}

fn wait_for_port(what: &str, port: u16, child: &mut Child) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited: {status}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{what} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A store with `users` HOTP tokens, assigned and activated (counter 0).
fn populate(url: &str, key: &MasterKey, users: u64, durability: Durability) -> Store {
    let mut config = StoreConfig::default();
    config.durability = durability;
    let store = Store::open_with(url, key, config).unwrap();
    let t0 = UnixTime::from_secs(1_700_000_000);
    let tokens = (0..users).map(|i| {
        NewToken::new(
            format!("L-{i}"),
            TokenKind::Hotp(HotpParams::default()),
            token_secret(i),
        )
    });
    store.import(tokens, ImportMode::AllOrNothing, t0).unwrap();
    for i in 0..users {
        store
            .assign(&format!("L-{i}"), &format!("u{i}"), t0)
            .unwrap();
        store
            .activate(&format!("L-{i}"), &hotp(i).generate(0).to_string(), t0)
            .unwrap();
    }
    store
}

/// `Store::authenticate` in a loop on one thread: approvals per second.
fn store_rate(users: u64, counters: u64, durability: Durability) -> (f64, usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKey::new(1, [7; 32]);
    let url = format!("sqlite:{}", dir.path().join("copy.db").display());
    let store = populate(&url, &key, users, durability);
    let ctx = VerifyContext::new("mfa-bench", "127.0.0.1".parse().unwrap())
        .unwrap()
        .with_client("127.0.0.1".parse().unwrap());
    let names: Vec<String> = (0..users).map(|i| format!("u{i}")).collect();
    let codes: Vec<Vec<String>> = (1..=counters)
        .map(|c| {
            (0..users)
                .map(|i| hotp(i).generate(c).to_string())
                .collect()
        })
        .collect();
    let now = UnixTime::from_secs(1_700_000_100);
    let (mut n, mut denied) = (0usize, 0usize);
    let start = Instant::now();
    for round in &codes {
        for (name, code) in names.iter().zip(round) {
            let req = AuthRequest::new(name, Presented::OathCode(code));
            if !store.authenticate(&req, now, &ctx).unwrap().is_approved() {
                denied += 1;
            }
            n += 1;
        }
    }
    (n as f64 / start.elapsed().as_secs_f64(), denied, uptime())
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let users = args.first().copied().unwrap_or(2000);
    let rounds = args.get(1).copied().unwrap_or(2);
    let conc = args.get(2).copied().unwrap_or(8) as usize;
    let pi_users = args.get(3).copied().unwrap_or(300);
    let pi_secs = args.get(4).copied().unwrap_or(10);
    println!(
        "{users} users x {rounds} rounds per run (mfa serve), {pi_users} users for {pi_secs} s per run (privacyIDEA), concurrency {conc}, on {} CPU(s), load {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        uptime()
    );

    // A: mfa serve on a fresh SQLite store (durability FULL, the default).
    let bin = std::env::var_os("MFA_BIN")
        .map_or_else(|| root().join("target/release/mfa"), PathBuf::from);
    assert!(
        bin.exists(),
        "{} not built (cargo build --release -p mfa-cli)",
        bin.display()
    );
    let a_dir = tempfile::tempdir().unwrap();
    let key = MasterKey::new(1, [7; 32]);
    std::fs::write(
        a_dir.path().join("mfa.key"),
        format!("1:{}\n", "07".repeat(32)),
    )
    .unwrap();
    let db = a_dir.path().join("mfa.db");
    drop(populate(
        &format!("sqlite:{}", db.display()),
        &key,
        users,
        Durability::Full,
    ));
    let a_port = free_port();
    std::fs::write(
        a_dir.path().join("serve.toml"),
        format!(
            "listen = \"127.0.0.1:{a_port}\"\ndb = \"sqlite:{}\"\nkey_file = \"{}\"\n[rate_limit]\nenabled = false\n",
            db.display(),
            a_dir.path().join("mfa.key").display()
        ),
    )
    .unwrap();
    let mut a = Killed(
        Command::new(&bin)
            .args(["serve", "--config"])
            .arg(a_dir.path().join("serve.toml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(a_dir.path().join("serve.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for_port("mfa serve", a_port, &mut a.0);
    let a_pid = a.0.id();
    let a_addr = SocketAddr::from(([127, 0, 0, 1], a_port));

    // B: privacyIDEA with the same kind of tokens.
    let py = std::env::var_os("MFA_PRIVACYIDEA_PYTHON").map_or_else(
        || root().join(".venv-privacyidea/bin/python"),
        PathBuf::from,
    );
    let b_dir = tempfile::tempdir().unwrap();
    let b_port = free_port();
    let b = if py.exists() {
        let b = Command::new(&py)
            .arg(root().join("benches/examples/http_load_privacyidea.py"))
            .arg(b_dir.path())
            .arg(b_port.to_string())
            .arg(pi_users.to_string())
            .stdout(std::fs::File::create(b_dir.path().join("out.log")).unwrap())
            .stderr(std::fs::File::create(b_dir.path().join("err.log")).unwrap())
            .spawn()
            .unwrap();
        let mut b = Killed(b);
        wait_for_port("privacyIDEA", b_port, &mut b.0);
        println!(
            "privacyIDEA {}",
            std::fs::read_to_string(b_dir.path().join("out.log"))
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or("")
        );
        Some(b)
    } else {
        eprintln!(
            "SKIPPED: privacyIDEA: no {} (set MFA_PRIVACYIDEA_PYTHON or run .ci/setup)",
            py.display()
        );
        None
    };
    let b_addr = SocketAddr::from(([127, 0, 0, 1], b_port));

    let conns = |target| -> Vec<Conn> {
        (0..conc)
            .map(|_| Conn {
                target,
                stream: None,
            })
            .collect()
    };
    let (mut a_conns, mut b_conns) = (conns(a_addr), conns(b_addr));
    let (mut a_next, mut b_next) = (1u64, 1u64);
    let no_limit = Duration::from_secs(600);
    let mut a_max = Vec::new();
    for pass in 1..=2 {
        let r = generate(
            &mut a_conns,
            a_pid,
            users,
            a_next..a_next + rounds,
            None,
            no_limit,
        );
        a_next += rounds;
        println!("A{pass} mfa serve     max {}", r.line());
        a_max.push(r.rate());
        if let Some(b) = &b {
            // privacyIDEA is ~100x slower: a time limit, and the rest of a
            // round is skipped (the next run starts a new counter).
            let r = generate(
                &mut b_conns,
                b.0.id(),
                pi_users,
                b_next..b_next + 1000,
                None,
                Duration::from_secs(pi_secs),
            );
            b_next += (r.answered as u64).div_ceil(pi_users) + 1;
            println!("B{pass} privacyIDEA   max {}", r.line());
            println!(
                "   ratio A{pass}/B{pass}: {:.0}x",
                a_max[pass - 1] / r.rate().max(f64::MIN_POSITIVE)
            );
        }
    }
    let half = a_max.iter().copied().fold(0.0, f64::max) / 2.0;
    let r = generate(
        &mut a_conns,
        a_pid,
        users,
        a_next..a_next + rounds,
        Some(half),
        no_limit,
    );
    println!("A  mfa serve at half max ({half:.0} req/s): {}", r.line());
    let (full, denied, load) = store_rate(users, rounds, Durability::Full);
    println!(
        "store authenticate, 1 thread, FULL:   {full:.0}/s ({denied} denied, load {load}); mfa serve max / store = {:.2}x",
        a_max.iter().copied().fold(0.0, f64::max) / full
    );
    let (normal, denied, load) = store_rate(users, rounds, Durability::Normal);
    println!("store authenticate, 1 thread, NORMAL: {normal:.0}/s ({denied} denied, load {load})");
    let log = std::fs::read_to_string(a_dir.path().join("serve.log")).unwrap_or_default();
    let rejects = log.lines().filter(|l| l.contains("reject")).count();
    println!("mfa serve log lines with \"reject\": {rejects}");
    drop((a, b));
}
