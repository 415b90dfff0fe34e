//! A RADIUS load generator, run against `mfa radius serve` (full MFA sign-in
//! on the embedded SQLite store: Message-Authenticator, `Store::authenticate`
//! with its durable write and log event) and against FreeRADIUS 3.2 answering
//! PAP from a `users` file, in the same run, with the same generator, on the
//! same machine.
//!
//! ```text
//! cargo build --release -p mfa-cli
//! cargo run --release -p mfa-benches --example radius_load -- [USERS] [CODES_PER_USER] [WINDOW]
//! ```
//!
//! Each server is measured twice: closed loop with WINDOW requests in flight
//! (the maximum rate, if WINDOW is enough to saturate the server), then
//! paced at half that rate (the latency percentiles). FreeRADIUS is at its
//! maximum with 32 in flight; ours, whose every sign-in waits for a commit's
//! fsync, needs more to fill its batches (128: docs/benchmarks.md, run 11). Every request is a distinct user and valid code (HOTP,
//! counters 1..) or password, and every answer is checked (authenticators)
//! and must be an Access-Accept. The server's CPU time per request comes
//! from /proc/PID/stat, which does not depend on the generator sharing the
//! machine; the generator's own (printed beside it) says how much of the two
//! cores the generator takes per request. `MFA_BIN` overrides the path of the `mfa` binary;
//! `RADIUS_LOAD_WORKERS` sets the server's `workers` (default 16, the server's default).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)] // bench set-up and reporting

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mfa_benches::{hotp_users, token_secret};
use mfa_oath::{Hotp, HotpParams, UnixTime};
use mfa_radius::{Code, Limits, OutgoingRequest, SharedSecret};
use mfa_store::{MasterKey, Store};

const SECRET: &str = "load-test-shared-secret";

struct Rng(u64);
impl rand_core::TryRng for Rng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for c in d.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Rng {}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
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

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name in parentheses.
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

struct Run {
    answered: usize,
    /// Answers that were not an Access-Accept (each should be 0).
    rejected: usize,
    lost: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: f64,
    /// The generator's own CPU time over the run (this process).
    gen_cpu: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.answered as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return Duration::ZERO;
        }
        l[((l.len() as f64 - 1.0) * p).round() as usize]
    }
}

/// Sends every (user, password) with at most `window` in flight, or paced
/// at `rate` per second; every answer must verify; the ones that are not an
/// Access-Accept are counted.
fn generate(
    target: SocketAddr,
    pid: u32,
    requests: &[(String, String)],
    window: usize,
    rate: Option<f64>,
    require_ma: bool,
    round: usize,
) -> Run {
    let secret = SharedSecret::new(SECRET.as_bytes()).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_micros(200)))
        .unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut slots: Vec<Option<(OutgoingRequest, Instant)>> = (0..256).map(|_| None).collect();
    let mut next_id = 0usize;
    let mut in_flight = 0usize;
    let mut sent = 0usize;
    let mut run = Run {
        answered: 0,
        rejected: 0,
        lost: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(requests.len()),
        cpu: 0.0,
        gen_cpu: 0.0,
    };
    let limits = Limits::default();
    let cpu0 = cpu_seconds(pid);
    let gen0 = cpu_seconds(std::process::id());
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while run.answered + run.lost < requests.len() {
        while sent < requests.len() && in_flight < window.min(256) {
            // A user's next code waits until the previous round is answered:
            // one slow request must not be overtaken by the same user's next
            // code (a person never types two codes at once).
            if sent.is_multiple_of(round) && in_flight > 0 {
                break;
            }
            if let Some(r) = rate
                && start.elapsed().as_secs_f64() < sent as f64 / r
            {
                break;
            }
            while slots[next_id].is_some() {
                next_id = (next_id + 1) % 256;
            }
            let (user, password) = &requests[sent];
            let req = OutgoingRequest::access_request(
                next_id as u8,
                user.as_bytes(),
                password.as_bytes(),
                vec![],
                &secret,
                &mut rng,
            )
            .unwrap();
            socket.send_to(req.bytes(), target).unwrap();
            slots[next_id] = Some((req, Instant::now()));
            next_id = (next_id + 1) % 256;
            in_flight += 1;
            sent += 1;
        }
        match socket.recv(&mut buf) {
            Ok(n) => {
                let id = buf[1] as usize;
                if let Some((req, at)) = slots[id].take() {
                    let p = req
                        .verify_response(&buf[..n], &secret, &limits, require_ma)
                        .unwrap();
                    if p.code != Code::ACCESS_ACCEPT {
                        run.rejected += 1;
                    }
                    run.latencies.push(at.elapsed());
                    run.answered += 1;
                    in_flight -= 1;
                }
            }
            Err(_) => {
                for s in slots.iter_mut() {
                    if s.as_ref()
                        .is_some_and(|(_, at)| at.elapsed() > Duration::from_secs(3))
                    {
                        *s = None;
                        run.lost += 1;
                        in_flight -= 1;
                    }
                }
            }
        }
    }
    run.elapsed = start.elapsed();
    run.cpu = cpu_seconds(pid) - cpu0;
    run.gen_cpu = cpu_seconds(std::process::id()) - gen0;
    run
}

fn report(name: &str, max: &Run, half: &Run) {
    println!(
        "{name:<34} max {:>8.0} req/s ({} answered, {} not accepted, {} lost, p50 {:>6.2} ms, p99 {:>6.2} ms) | CPU {:>6.1} µs/req (generator {:.1}) | at half rate ({:.0} req/s): p50 {:.2} ms, p99 {:.2} ms",
        max.rate(),
        max.answered,
        max.rejected + half.rejected,
        max.lost + half.lost,
        max.pct(0.5).as_secs_f64() * 1e3,
        max.pct(0.99).as_secs_f64() * 1e3,
        max.cpu / max.answered.max(1) as f64 * 1e6,
        max.gen_cpu / max.answered.max(1) as f64 * 1e6,
        half.rate(),
        half.pct(0.5).as_secs_f64() * 1e3,
        half.pct(0.99).as_secs_f64() * 1e3,
    );
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what}: not within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn mfa_bin() -> PathBuf {
    std::env::var_os("MFA_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/mfa"),
        PathBuf::from,
    )
}

fn ours(dir: &Path, users: u64, codes: u64, window: usize) -> Option<(Run, Run)> {
    let bin = mfa_bin();
    if !bin.exists() {
        eprintln!(
            "SKIPPED: mfa radius serve: {} not built (cargo build --release -p mfa-cli)",
            bin.display()
        );
        return None;
    }
    let key = MasterKey::new(1, [7; 32]);
    std::fs::write(dir.join("mfa.key"), format!("1:{}\n", "07".repeat(32))).unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.join("mfa.db").display()), &key).unwrap();
    let t0 = UnixTime::from_secs(1_700_000_000);
    hotp_users(&store, users, t0).unwrap();
    let hotp = |i: u64| Hotp::new(token_secret(i), HotpParams::default());
    drop(store);
    // Counter c of every user, then c + 1, ...: distinct users in flight.
    let mut all: Vec<(String, String)> = Vec::new();
    for c in 1..=codes {
        for i in 0..users {
            all.push((format!("u{i}"), hotp(i).generate(c).to_string()));
        }
    }
    let half_at = all.len() * 2 / 3 / users as usize * users as usize;
    let port = free_port();
    let workers: usize = std::env::var("RADIUS_LOAD_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(16);
    std::fs::write(
        dir.join("radius.toml"),
        format!(
            "listen = \"127.0.0.1:{port}\"\ndb = \"sqlite:mfa.db\"\nkey_file = \"mfa.key\"\nworkers = {workers}\nqueue = 1024\n\
             [[clients]]\nname = \"load\"\naddress = \"127.0.0.1\"\nsecret = \"{SECRET}\"\nmode = \"otp\"\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("radius.log")).unwrap();
    let server = Killed(
        Command::new(&bin)
            .args(["radius", "serve", "--config"])
            .arg(dir.join("radius.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_until("mfa radius serve", || {
        std::fs::read_to_string(dir.join("radius.log"))
            .unwrap_or_default()
            .contains("ready")
    });
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    let pid = server.0.id();
    let round = users as usize;
    let max = generate(target, pid, &all[..half_at], window, None, true, round);
    let half = generate(
        target,
        pid,
        &all[half_at..],
        window,
        Some(max.rate() / 2.0),
        true,
        round,
    );
    // A clean stop, for the server's closing counters (batch sizes among
    // them); the drop's SIGKILL is only the fallback.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    wait_until("mfa radius serve stopping", || {
        std::fs::read_to_string(dir.join("radius.log"))
            .unwrap_or_default()
            .contains("radius server stopped")
    });
    let log = std::fs::read_to_string(dir.join("radius.log")).unwrap_or_default();
    if let Some(stopped) = log.lines().find(|l| l.contains("radius server stopped")) {
        eprintln!("server: {stopped}");
    }
    for line in log
        .lines()
        .filter(|l| l.contains("outcome=\"reject\""))
        .take(3)
    {
        eprintln!("reject: {line}");
        if let Some(user) = line.split("user=").nth(1).and_then(|r| r.split(' ').next()) {
            for l in log.lines().filter(|l| l.contains(&format!("user={user} "))) {
                eprintln!("    {l}");
            }
        }
    }
    Some((max, half))
}

fn freeradius(dir: &Path, total: usize, window: usize) -> Option<(Run, Run)> {
    if Command::new("freeradius")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("SKIPPED: FreeRADIUS: freeradius is not installed (apt-get install freeradius)");
        return None;
    }
    let d = dir.display();
    let port = free_port();
    let users = 1000;
    std::fs::write(
        dir.join("radiusd.conf"),
        format!(
            "prefix = /usr\nexec_prefix = /usr\nsysconfdir = /etc\nlocalstatedir = /var\nsbindir = /usr/sbin\n\
             logdir = {d}\nraddbdir = {d}\nradacctdir = {d}\nname = freeradius\nconfdir = {d}\nmodconfdir = {d}\n\
             run_dir = {d}\ndb_dir = {d}\nlibdir = /usr/lib/freeradius\npidfile = {d}/radiusd.pid\n\
             max_request_time = 30\ncleanup_delay = 5\nmax_requests = 65536\nhostname_lookups = no\n\
             log {{\n destination = stdout\n auth = no\n}}\n\
             security {{\n allow_core_dumps = no\n max_attributes = 200\n reject_delay = 0\n status_server = yes\n}}\n\
             proxy_requests = no\n\
             thread pool {{\n start_servers = 4\n max_servers = 4\n min_spare_servers = 1\n max_spare_servers = 4\n max_requests_per_server = 0\n}}\n\
             client load {{\n ipaddr = 127.0.0.1\n secret = {SECRET}\n}}\n\
             modules {{\n files {{\n  filename = {d}/users\n }}\n pap {{\n }}\n}}\n\
             server default {{\n listen {{\n  type = auth\n  ipaddr = 127.0.0.1\n  port = {port}\n }}\n\
             authorize {{\n  files\n  pap\n }}\n authenticate {{\n  Auth-Type PAP {{\n   pap\n  }}\n }}\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("dictionary"),
        "$INCLUDE /usr/share/freeradius/dictionary\n",
    )
    .unwrap();
    let mut file = String::new();
    for i in 0..users {
        file.push_str(&format!("u{i} Cleartext-Password := \"password-{i}\"\n"));
    }
    std::fs::write(dir.join("users"), file).unwrap();
    let log = std::fs::File::create(dir.join("fr.log")).unwrap();
    let server = Killed(
        Command::new("freeradius")
            .args(["-f", "-l", "stdout", "-d"])
            .arg(dir)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("freeradius", || {
        std::fs::read_to_string(dir.join("fr.log"))
            .unwrap_or_default()
            .contains("Ready to process requests")
    });
    let all: Vec<(String, String)> = (0..total)
        .map(|n| (format!("u{}", n % users), format!("password-{}", n % users)))
        .collect();
    let half_at = all.len() * 2 / 3;
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    let pid = server.0.id();
    // FreeRADIUS 3.2.1 puts no Message-Authenticator in its replies.
    let max = generate(
        target,
        pid,
        &all[..half_at],
        window,
        None,
        false,
        usize::MAX,
    );
    let half = generate(
        target,
        pid,
        &all[half_at..],
        window,
        Some(max.rate() / 2.0),
        false,
        usize::MAX,
    );
    Some((max, half))
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let users = args.first().copied().unwrap_or(1000);
    let codes = args.get(1).copied().unwrap_or(6);
    let window = args.get(2).copied().unwrap_or(32) as usize;
    println!(
        "{users} users x {codes} codes, window {window}, on {} CPU(s)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let ours_dir = tempfile::tempdir().unwrap();
    if let Some((max, half)) = ours(ours_dir.path(), users, codes, window) {
        report("mfa radius serve (otp, SQLite)", &max, &half);
    }
    let fr_dir = tempfile::tempdir().unwrap();
    if let Some((max, half)) = freeradius(fr_dir.path(), (users * codes) as usize, window) {
        report("FreeRADIUS 3.2 (PAP, users file)", &max, &half);
    }
}
