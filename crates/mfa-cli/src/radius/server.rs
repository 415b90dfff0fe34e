//! The server loop: one task owns the UDP socket and the protocol state
//! ([`Endpoint`]); it hands requests to a fixed pool of worker threads
//! that make the blocking store calls; their decisions come back to the
//! loop, which builds, caches and sends the replies.
//!
//! Requests travel in batches, to spare thread hand-offs: each time the
//! socket is readable the loop reads every datagram already there (up to
//! [`BATCH_MAX`]) and hands them over, the store-only ones (a code, a
//! challenge's answer) with one lock and one wake-up for all of them. They
//! gather in one batch that the next free worker takes whole and decides
//! in one store transaction, handing the decisions back together after its
//! commit; the busier the workers, the larger the batches. On SQLite one
//! batch is decided at a time (the one writer would make a second wait):
//! what arrives meanwhile gathers for the next, which the same worker
//! takes, so the loop receives and answers while the writer works. A request that
//! needs more than the store (the upstream first factor, a challenge's
//! start, an SMS) is taken by a worker on its own, so a slow upstream holds
//! up no other request.
//!
//! When a read brings at most [`IN_LOOP_MAX`] store-only requests, nothing
//! waits for a worker and no batch is at one (light load), the loop
//! decides them itself, sparing the hand-offs, but
//! only if the store can start the transaction at once
//! ([`mfa_store::Store::try_authenticate_batch`]: SQLite, no other writer
//! in this process or another); otherwise they go to the workers as
//! above. So a store held by an import never stops the loop answering
//! Status-Server, retransmissions and refusals, and the requests waiting
//! for the store stay counted by the `queue` limit, not lost in the
//! socket's buffer (whose drops the closing line reports as
//! `kernel_drops`).
//!
//! Overload sheds instead of growing: when `queue` requests are waiting for
//! a worker a further one is abandoned unanswered (the NAS retransmits) and
//! counted. SIGTERM or SIGINT stops receiving, lets the requests already
//! taken finish and be answered, and returns.

use std::collections::{HashMap, VecDeque};
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use mfa_radius::{
    Answered, Config, Credentials, Decision, Dropped, Endpoint, Event, PendingRequest, Request,
    Transmit,
};
use mfa_store::BackendKind;
use tokio::net::UdpSocket;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use zeroize::Zeroizing;

use super::config::{ClientIpSource, Settings};
use super::decide::{Decided, Expect, Shared, Work};
use crate::ctx::now;

struct Job {
    id: u64,
    work: Work,
}

struct Done {
    id: u64,
    decided: Decided,
}

/// What a worker takes: the store-only jobs that were waiting, decided
/// together, or one job that needs more than the store.
enum Task {
    Batch(Vec<Job>),
    One(Job),
}

/// At most this many datagrams are read in one go, and so at most this
/// many requests are decided in one store transaction.
const BATCH_MAX: usize = 64;

/// The loop decides a read's store-only requests itself only if there are
/// at most this many ([`Server::decide_here`]). A read that brings more is
/// a sign of load: those go to the batch worker, so the loop goes on
/// receiving and answering on one core while the store's writer works on
/// the other (docs/benchmarks.md, run 11).
const IN_LOOP_MAX: usize = 4;

/// Counters of the server itself (the protocol's are in [`mfa_radius::Stats`]).
#[derive(Debug, Default)]
struct Counters {
    overload: u64,
    send_errors: u64,
    /// Requests the loop decided itself (see [`Server::decide_here`]).
    in_loop: u64,
}

/// What waits for a worker: the store-only jobs, taken together by the
/// next free worker (up to [`BATCH_MAX`]), and the others, one each.
struct Tasks {
    store: Vec<Job>,
    other: VecDeque<Job>,
    /// `false` once the loop stops: workers finish what is left and end.
    open: bool,
}

/// What the loop and the workers share of the queue.
struct Hand {
    tasks: Mutex<Tasks>,
    ready: Condvar,
    /// Jobs handed over and not yet taken (read without the lock).
    waiting: AtomicUsize,
    /// Batches of store-only jobs taken by workers, and the jobs in them:
    /// their ratio is the mean batch size.
    batches: AtomicU64,
    batched: AtomicU64,
    /// Batches taken by workers and not yet decided (changed under the
    /// lock, read without it).
    running: AtomicUsize,
    /// At most this many batches are decided at once: 1 on SQLite, whose
    /// one writer would make a second batch wait for the first anyway (so
    /// the jobs gather into the next batch instead), the worker count on
    /// PostgreSQL, where batches of different users run side by side.
    batch_limit: usize,
}

impl Hand {
    fn lock(&self) -> MutexGuard<'_, Tasks> {
        // Poisoned only if a thread panicked while holding it: the queue
        // itself is still whole (each change to it is one push or take).
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a worker does next: every store-only job waiting (up to
    /// [`BATCH_MAX`]) if fewer than `batch_limit` batches are being
    /// decided, else one other job, waiting until there is one. `None`:
    /// the loop has stopped and nothing is left.
    fn take(&self) -> Option<Task> {
        let mut t = self.lock();
        loop {
            let (task, n) = if !t.store.is_empty() && self.batch_may_start() {
                let n = t.store.len().min(BATCH_MAX);
                self.batches.fetch_add(1, Ordering::Relaxed);
                self.batched.fetch_add(n as u64, Ordering::Relaxed);
                self.running.fetch_add(1, Ordering::SeqCst);
                (Task::Batch(t.store.drain(..n).collect()), n)
            } else if let Some(j) = t.other.pop_front() {
                (Task::One(j), 1)
            } else if !t.open && t.store.is_empty() {
                return None;
            } else {
                t = self.ready.wait(t).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            self.waiting.fetch_sub(n, Ordering::Relaxed);
            let more = !t.other.is_empty() || (!t.store.is_empty() && self.batch_may_start());
            drop(t);
            if more {
                self.ready.notify_one();
            }
            return Some(task);
        }
    }

    /// Whether a worker may take a batch now: fewer than `batch_limit` are
    /// being decided. Read under the lock (`running` changes only under it).
    fn batch_may_start(&self) -> bool {
        self.running.load(Ordering::SeqCst) < self.batch_limit
    }

    /// A worker's life: takes tasks and does them with `on` until the
    /// queue is closed and empty, or `on` says the loop is gone (`false`).
    fn work(&self, mut on: impl FnMut(Task) -> bool) {
        while let Some(task) = self.take() {
            // The batch is marked done even if `on` unwinds: on SQLite no
            // other batch could ever be taken otherwise. (Built only for a
            // batch: dropping one marks a batch done.)
            let mut done = if matches!(task, Task::Batch(_)) {
                Some(BatchDone {
                    hand: self,
                    leaving: true,
                })
            } else {
                None
            };
            let sent = on(task);
            if let Some(d) = done.as_mut() {
                d.leaving = !sent;
            }
            drop(done);
            if !sent {
                break;
            }
        }
    }

    /// Whether the loop may decide a read's `n` store-only requests itself
    /// ([`Server::decide_here`]): at most [`IN_LOOP_MAX`] of them, no job
    /// waiting for a worker and no batch at one.
    fn loop_may_decide(&self, n: usize) -> bool {
        n > 0
            && n <= IN_LOOP_MAX
            && self.waiting.load(Ordering::SeqCst) == 0
            && self.running.load(Ordering::SeqCst) == 0
    }

    /// A worker has decided its batch. The worker itself takes the next
    /// batch, if one has gathered, with its next [`Hand::take`]; the others
    /// are woken only if they must see the change: the queue is closing
    /// (one of them may be waiting for this batch's end to take the last
    /// one, or to end), or this worker is `leaving` (the loop is gone).
    fn batch_done(&self, leaving: bool) {
        let t = self.lock();
        self.running.fetch_sub(1, Ordering::SeqCst);
        let wake = leaving || !t.open;
        drop(t);
        if wake {
            self.ready.notify_all();
        }
    }
}

/// Marks a worker's batch done when dropped ([`Hand::batch_done`]), also
/// when the worker unwinds (then as `leaving`, so the others are woken).
struct BatchDone<'a> {
    hand: &'a Hand,
    leaving: bool,
}

impl Drop for BatchDone<'_> {
    fn drop(&mut self) {
        self.hand.batch_done(self.leaving);
    }
}

/// The loop's end of the hand-off to the workers. While every worker is
/// busy, store-only jobs gather into one batch for whichever is free
/// first, so batches grow with the load.
struct Queue {
    hand: Arc<Hand>,
    limit: usize,
}

impl Queue {
    fn new(limit: usize, batch_limit: usize) -> Queue {
        let tasks = Tasks {
            store: Vec::new(),
            other: VecDeque::new(),
            open: true,
        };
        let hand = Hand {
            tasks: Mutex::new(tasks),
            ready: Condvar::new(),
            waiting: AtomicUsize::new(0),
            batches: AtomicU64::new(0),
            batched: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            batch_limit: batch_limit.max(1),
        };
        Queue {
            hand: Arc::new(hand),
            limit,
        }
    }

    /// Whether `more` further jobs (besides those already handed over)
    /// still fit.
    fn has_room(&self, more: usize) -> bool {
        self.hand.waiting.load(Ordering::Relaxed) + more < self.limit
    }

    /// Hands over store-only `jobs` (decided together) and an `other` job
    /// (decided alone), and wakes a worker, unless the jobs are store-only
    /// and as many batches as may run are running: then they wait for the
    /// next batch, which the worker finishing its batch takes itself (no
    /// other worker could take them, so none is woken for nothing).
    fn push(&self, mut jobs: Vec<Job>, other: Option<Job>) {
        let n = jobs.len() + usize::from(other.is_some());
        if n == 0 {
            return;
        }
        let mut t = self.hand.lock();
        t.store.append(&mut jobs);
        let wake = other.is_some() || self.hand.batch_may_start();
        t.other.extend(other);
        self.hand.waiting.fetch_add(n, Ordering::Relaxed);
        drop(t);
        if wake {
            self.hand.ready.notify_one();
        }
    }
}

impl Drop for Queue {
    /// Closes the queue: the workers decide what is left, then end.
    fn drop(&mut self) {
        self.hand.lock().open = false;
        self.hand.ready.notify_all();
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub(crate) fn run(settings: Settings, shared: Shared) -> Result<(), String> {
    let socket = std::net::UdpSocket::bind(settings.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| format!("{}: {e}", settings.listen))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(serve(socket, settings, Arc::new(shared)))
}

fn client_ip(source: ClientIpSource, request: &Request<Expect>) -> Option<IpAddr> {
    match source {
        ClientIpSource::CallingStationId => request
            .nas
            .calling_station_id
            .as_deref()
            .and_then(|s| s.trim().parse().ok()),
        ClientIpSource::NasIpAddress => request
            .nas
            .ip_address
            .map(IpAddr::V4)
            .or(request.nas.ipv6_address.map(IpAddr::V6)),
        ClientIpSource::None => None,
    }
}

fn spawn_workers(
    count: usize,
    limit: usize,
    shared: &Arc<Shared>,
    done: &UnboundedSender<Vec<Done>>,
) -> Result<(Queue, Vec<std::thread::JoinHandle<()>>), String> {
    let batch_limit = match shared.store.backend() {
        BackendKind::Sqlite => 1,
        BackendKind::Postgres => count,
    };
    let queue = Queue::new(limit, batch_limit);
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let hand = Arc::clone(&queue.hand);
        let shared = Arc::clone(shared);
        let done = done.clone();
        let handle = std::thread::Builder::new()
            .name(format!("radius-worker-{i}"))
            .spawn(move || hand.work(|task| work_on(&shared, task, &done)))
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        handles.push(handle);
    }
    Ok((queue, handles))
}

/// Decides `task` and hands back its Dones: a batch in one store
/// transaction (its Dones together, after the commit), one other job (the
/// upstream first factor, a challenge's start, an SMS) alone. `false`: the
/// server loop is gone.
fn work_on(shared: &Shared, task: Task, done: &UnboundedSender<Vec<Done>>) -> bool {
    let dones = match task {
        Task::Batch(jobs) => {
            let works: Vec<&Work> = jobs.iter().map(|j| &j.work).collect();
            jobs.iter()
                .zip(shared.decide_batch(&works, now()))
                .map(|(j, decided)| Done { id: j.id, decided })
                .collect()
        }
        Task::One(j) => vec![Done {
            id: j.id,
            decided: shared.decide(&j.work, now()),
        }],
    };
    done.send(dones).is_ok()
}

/// The loop's state besides the socket and the settings.
struct Server {
    endpoint: Endpoint<Expect>,
    pending: HashMap<u64, PendingRequest<Expect>>,
    next_id: u64,
    counters: Counters,
    rng: getrandom::SysRng,
}

impl Server {
    /// One datagram: a request is queued (store-only ones into `batch`,
    /// handed over by the caller; any other at once), a reply the protocol
    /// gives at once (a retransmission's, Status-Server's, a refusal's) is
    /// returned for sending.
    fn on_datagram(
        &mut self,
        settings: &Settings,
        queue: &Queue,
        batch: &mut Vec<Job>,
        source: SocketAddr,
        datagram: &[u8],
    ) -> Option<Transmit> {
        let entry = settings.client_for(source.ip());
        match self
            .endpoint
            .handle(now(), source, entry.map(|e| &e.client), datagram)
        {
            Event::Request(mut p) => {
                let (source_kind, digits) =
                    entry.map_or((ClientIpSource::None, 6), |e| (e.client_ip, e.code_digits));
                let request = p.request_mut();
                let credentials = std::mem::replace(
                    &mut request.credentials,
                    Credentials::Code(Zeroizing::new(Vec::new())),
                );
                let work = Work {
                    user: request.user_name.clone(),
                    credentials,
                    client_ip: client_ip(source_kind, request),
                    code_digits: digits,
                };
                if !queue.has_room(batch.len()) {
                    self.overload(p);
                    return None;
                }
                self.next_id += 1;
                let job = Job {
                    id: self.next_id,
                    work,
                };
                if Shared::store_only(&job.work) {
                    batch.push(job);
                } else {
                    queue.push(Vec::new(), Some(job));
                }
                self.pending.insert(self.next_id, p);
                None
            }
            Event::Reply { transmit, reason } => {
                if let Answered::Rejected { user_name, reason } = &reason {
                    tracing::info!(
                        user = ?user_name.as_deref().unwrap_or("-"),
                        client = ?entry.map_or("-", |e| e.client.name()),
                        source = %source,
                        outcome = "reject",
                        reason = ?reason,
                        "decision"
                    );
                } else {
                    tracing::debug!(source = %source, reason = ?reason, "answered");
                }
                Some(transmit)
            }
            Event::Dropped(why) => {
                let stats = self.endpoint.stats();
                let count = match why {
                    Dropped::UnknownClient => stats.unknown_client,
                    Dropped::MessageAuthenticatorInvalid(_) => stats.message_authenticator_invalid,
                    _ => 0,
                };
                log_drop(source, entry.map(|e| e.client.name()), &why, count);
                None
            }
        }
    }

    /// Decides the store-only `batch` here, in the loop, if that cannot
    /// block it: only while no job waits for a worker and no batch is at
    /// one, and only if the store can start the transaction at once
    /// ([`Shared::try_decide_batch`]: no other writer in this process or
    /// another, SQLite). That spares the two thread hand-offs of the
    /// workers' path, which at light load are most of a request's wait.
    /// A batch of more than [`IN_LOOP_MAX`] goes to the workers: under load
    /// the loop's time is better spent receiving and answering while the
    /// writer works. The replies are added to `replies`; what is left in
    /// `batch` (all of it, or nothing) is for the workers.
    fn decide_here(
        &mut self,
        shared: &Shared,
        hand: &Hand,
        batch: &mut Vec<Job>,
        replies: &mut Vec<Transmit>,
    ) {
        if !hand.loop_may_decide(batch.len()) {
            return;
        }
        let decided = {
            let works: Vec<&Work> = batch.iter().map(|j| &j.work).collect();
            shared.try_decide_batch(&works, now())
        };
        let Some(decided) = decided else { return };
        self.counters.in_loop += batch.len() as u64;
        for (j, decided) in batch.drain(..).zip(decided) {
            replies.extend(self.on_done(Done { id: j.id, decided }));
        }
    }

    fn overload(&mut self, p: PendingRequest<Expect>) {
        self.counters.overload += 1;
        if self.counters.overload.is_power_of_two() {
            tracing::warn!(
                dropped = self.counters.overload,
                "overload: the worker queue is full, requests are dropped (the NAS retransmits)"
            );
        }
        self.endpoint.abandon(p);
    }

    /// A worker's decision: the reply to send, with its log line written.
    fn on_done(&mut self, done: Done) -> Option<Transmit> {
        let p = self.pending.remove(&done.id)?;
        let (user, client, source) = {
            let r = p.request();
            (r.user_name.clone(), r.client.clone(), r.source)
        };
        let outcome = match &done.decided.decision {
            Decision::Accept { .. } => "accept",
            Decision::Reject { .. } => "reject",
            Decision::Challenge { .. } => "challenge",
        };
        match self
            .endpoint
            .respond(now(), p, done.decided.decision, &mut self.rng)
        {
            Ok(transmit) => {
                // Debug formatting quotes and escapes the User-Name: a name
                // with a line break cannot forge a log line.
                tracing::info!(
                    user = ?user,
                    client = ?client,
                    source = %source,
                    outcome,
                    reason = %done.decided.reason,
                    "decision"
                );
                Some(transmit)
            }
            Err(e) => {
                tracing::warn!(
                    user = ?user,
                    client = ?client,
                    error = %e,
                    "no reply could be built; the request is abandoned"
                );
                None
            }
        }
    }
}

async fn send(socket: &UdpSocket, counters: &mut Counters, transmit: Transmit) {
    if let Err(e) = socket
        .send_to(&transmit.contents, transmit.destination)
        .await
    {
        counters.send_errors += 1;
        tracing::warn!(destination = %transmit.destination, error = %e, "send failed");
    }
}

async fn serve(
    socket: std::net::UdpSocket,
    settings: Settings,
    shared: Arc<Shared>,
) -> Result<(), String> {
    let socket = UdpSocket::from_std(socket).map_err(|e| format!("{}: {e}", settings.listen))?;
    let local = socket
        .local_addr()
        .map_err(|e| format!("{}: {e}", settings.listen))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let (done_tx, mut done_rx) = unbounded_channel::<Vec<Done>>();
    let (queue, workers) = spawn_workers(settings.workers, settings.queue, &shared, &done_tx)?;
    let hand = Arc::clone(&queue.hand);
    drop(done_tx);
    let mut queue = Some(queue);
    let mut config = Config::default();
    config.session_ttl = settings.challenge_timeout;
    let mut server = Server {
        endpoint: Endpoint::new(config),
        pending: HashMap::new(),
        next_id: 0,
        counters: Counters::default(),
        rng: getrandom::SysRng,
    };
    let mut buf = Zeroizing::new(vec![0u8; mfa_radius::MAX_PACKET_LEN + 1]);
    let mut replies: Vec<Transmit> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tracing::info!(
        listen = %local,
        clients = settings.clients.len(),
        workers = settings.workers,
        queue = settings.queue,
        challenge_timeout = settings.challenge_timeout,
        upstream = settings.upstream.as_ref().map(|u| u.address.to_string()).as_deref().unwrap_or("none"),
        "radius server ready"
    );
    loop {
        if queue.is_none() && server.pending.is_empty() {
            break;
        }
        tokio::select! {
            ready = socket.readable(), if queue.is_some() => {
                if let Err(e) = ready {
                    tracing::debug!(error = %e, "receive error");
                    continue;
                }
                // In the loop, not None: `queue` is Some while receiving.
                let Some(q) = queue.as_ref() else { continue };
                let mut batch = Vec::new();
                for _ in 0..BATCH_MAX {
                    let (n, source) = match socket.try_recv_from(&mut buf) {
                        Ok(r) => r,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => {
                            // ICMP errors of earlier sends surface here on
                            // some systems; nothing to do for them.
                            tracing::debug!(error = %e, "receive error");
                            continue;
                        }
                    };
                    let datagram = buf.get(..n).unwrap_or_default();
                    if let Some(t) = server.on_datagram(&settings, q, &mut batch, source, datagram) {
                        replies.push(t);
                    }
                }
                server.decide_here(&shared, &hand, &mut batch, &mut replies);
                q.push(batch, None);
                for t in replies.drain(..) {
                    send(&socket, &mut server.counters, t).await;
                }
            }
            dones = done_rx.recv() => {
                // Every worker gone (only after the queue closed, or if one
                // died): nothing in flight can be answered any more.
                let Some(dones) = dones else {
                    tracing::warn!(in_flight = server.pending.len(), "the workers stopped; requests in flight are not answered");
                    break;
                };
                replies.extend(dones.into_iter().filter_map(|d| server.on_done(d)));
                for t in replies.drain(..) {
                    send(&socket, &mut server.counters, t).await;
                }
            }
            _ = sigterm.recv() => begin_stop(&mut queue, "SIGTERM", server.pending.len()),
            _ = sigint.recv() => begin_stop(&mut queue, "SIGINT", server.pending.len()),
            _ = tick.tick() => server.endpoint.handle_timeout(now()),
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let s = server.endpoint.stats();
    let c = &server.counters;
    tracing::info!(
        datagrams = s.datagrams,
        requests = s.requests,
        accepts = s.accepts,
        rejects = s.rejects,
        challenges = s.challenges,
        retransmissions = s.retransmissions,
        unknown_client = s.unknown_client,
        malformed = s.malformed,
        message_authenticator_invalid = s.message_authenticator_invalid,
        message_authenticator_missing = s.message_authenticator_missing,
        overload = c.overload,
        kernel_drops = %kernel_drops(&socket).map_or("unknown".to_string(), |n| n.to_string()),
        in_loop = c.in_loop,
        send_errors = c.send_errors,
        batches = hand.batches.load(Ordering::Relaxed),
        batched = hand.batched.load(Ordering::Relaxed),
        "radius server stopped"
    );
    Ok(())
}

/// The datagrams the kernel dropped because the socket's receive buffer
/// was full (the loop did not read fast enough), from the `drops` column
/// of the socket's line in /proc/net/udp or udp6. `None` where that cannot
/// be read (not Linux).
fn kernel_drops(socket: &impl std::os::fd::AsRawFd) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let fd = socket.as_raw_fd();
    let inode = std::fs::metadata(format!("/proc/self/fd/{fd}")).ok()?.ino();
    ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields.get(9)?.parse::<u64>().ok()? == inode)
                    .then(|| fields.last()?.parse().ok())
                    .flatten()
            })
        })
}

fn begin_stop(queue: &mut Option<Queue>, signal: &str, in_flight: usize) {
    if queue.take().is_some() {
        tracing::info!(
            signal,
            in_flight,
            "stopping: finishing the requests in flight"
        );
    }
}

/// Unknown clients and wrong secrets are warned about at the 1st, 2nd,
/// 4th, 8th, ... occurrence (a flood does not flood the log); the rest of
/// the drops at debug level.
fn log_drop(source: SocketAddr, client: Option<&str>, why: &Dropped, count: u64) {
    match why {
        Dropped::UnknownClient | Dropped::MessageAuthenticatorInvalid(_)
            if count.is_power_of_two() =>
        {
            tracing::warn!(
                source = %source,
                client = client.unwrap_or("-"),
                reason = ?why,
                count,
                "dropped"
            );
        }
        _ => {
            tracing::debug!(source = %source, client = client.unwrap_or("-"), reason = ?why, "dropped")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use mfa_radius::Credentials;
    use zeroize::Zeroizing;

    use super::{BATCH_MAX, Job, Queue, Shared, Task, Work};

    fn job(id: u64, store_only: bool) -> Job {
        let secret = Zeroizing::new(b"123456".to_vec());
        let credentials = if store_only {
            Credentials::Code(secret)
        } else {
            Credentials::Password(secret)
        };
        let work = Work {
            user: format!("u{id}"),
            credentials,
            client_ip: None,
            code_digits: 6,
        };
        assert_eq!(Shared::store_only(&work), store_only);
        Job { id, work }
    }

    fn ids(task: &Task) -> Vec<u64> {
        match task {
            Task::Batch(jobs) => jobs.iter().map(|j| j.id).collect(),
            Task::One(j) => vec![j.id],
        }
    }

    #[test]
    fn store_only_jobs_handed_over_apart_are_taken_as_one_batch() {
        let q = Queue::new(1000, 1);
        q.push(vec![job(1, true), job(2, true)], None);
        q.push(vec![job(3, true)], None);
        assert_eq!(q.hand.waiting.load(Ordering::Relaxed), 3);
        let taken = q.hand.take().unwrap();
        assert_eq!(ids(&taken), [1, 2, 3]);
        assert_eq!(q.hand.waiting.load(Ordering::Relaxed), 0);
        assert_eq!(q.hand.batches.load(Ordering::Relaxed), 1);
        assert_eq!(q.hand.batched.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_batch_is_at_most_batch_max_and_the_rest_goes_to_the_next_take() {
        let q = Queue::new(1000, 1);
        let n = BATCH_MAX as u64 + 5;
        q.push((1..=n).map(|i| job(i, true)).collect(), None);
        let first = q.hand.take().unwrap();
        assert_eq!(ids(&first), (1..=BATCH_MAX as u64).collect::<Vec<_>>());
        q.hand.batch_done(false);
        let second = q.hand.take().unwrap();
        assert_eq!(ids(&second), (BATCH_MAX as u64 + 1..=n).collect::<Vec<_>>());
    }

    #[test]
    fn a_job_that_needs_the_upstream_is_taken_alone() {
        // Each such job may wait seconds for the upstream: two of them in
        // one worker's hands would make the second wait for the first.
        let q = Queue::new(1000, 1);
        q.push(Vec::new(), Some(job(1, false)));
        q.push(vec![job(2, true)], Some(job(3, false)));
        q.push(vec![job(4, true)], None);
        // The store-only ones first (all of them, they are quick), then
        // the others one each.
        let tasks: Vec<Task> = (0..3).map(|_| q.hand.take().unwrap()).collect();
        assert!(matches!(tasks[0], Task::Batch(_)));
        assert_eq!(ids(&tasks[0]), [2, 4]);
        assert!(matches!(tasks[1], Task::One(_)));
        assert_eq!(ids(&tasks[1]), [1]);
        assert!(matches!(tasks[2], Task::One(_)));
        assert_eq!(ids(&tasks[2]), [3]);
        assert_eq!(q.hand.batches.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_limit_counts_the_jobs_not_yet_taken() {
        let q = Queue::new(3, 1);
        assert!(q.has_room(2));
        assert!(!q.has_room(3));
        q.push(vec![job(1, true), job(2, true)], None);
        assert!(!q.has_room(1));
        assert!(q.has_room(0));
        let _ = q.hand.take().unwrap();
        assert!(q.has_room(2));
    }

    #[test]
    fn a_closed_queue_hands_out_what_is_left_then_ends_the_workers() {
        let q = Queue::new(1000, 1);
        let hand = std::sync::Arc::clone(&q.hand);
        let worker = std::thread::spawn(move || {
            let mut seen = Vec::new();
            hand.work(|task| {
                seen.extend(ids(&task));
                true
            });
            seen
        });
        q.push(vec![job(1, true)], Some(job(2, false)));
        // A waiting worker is woken by a push, and by the close.
        std::thread::sleep(Duration::from_millis(20));
        q.push(vec![job(3, true)], None);
        drop(q);
        let mut seen = worker.join().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3]);
    }

    #[test]
    fn on_sqlite_jobs_pushed_while_a_batch_runs_gather_for_the_next_one() {
        // batch_limit 1: the one writer would make a second batch wait.
        let q = Queue::new(1000, 1);
        q.push(vec![job(1, true)], None);
        let first = q.hand.take().unwrap();
        assert_eq!(ids(&first), [1]);
        q.push(vec![job(2, true)], None);
        q.push(vec![job(3, true)], Some(job(4, false)));
        // Another worker takes the job that needs the upstream, not the
        // store-only ones: they wait for the running batch to end.
        let other = q.hand.take().unwrap();
        assert!(matches!(other, Task::One(_)));
        assert_eq!(ids(&other), [4]);
        assert!(!q.hand.loop_may_decide(1));
        q.hand.batch_done(false);
        let next = q.hand.take().unwrap();
        assert!(matches!(next, Task::Batch(_)));
        assert_eq!(ids(&next), [2, 3]);
        assert_eq!(q.hand.batches.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn on_postgres_batches_run_side_by_side_up_to_the_limit() {
        let q = Queue::new(1000, 2);
        q.push(vec![job(1, true)], None);
        let a = q.hand.take().unwrap();
        q.push(vec![job(2, true)], None);
        let b = q.hand.take().unwrap();
        assert_eq!((ids(&a), ids(&b)), (vec![1], vec![2]));
        q.push(vec![job(3, true)], Some(job(4, false)));
        // Two batches running: the third waits, the other job does not.
        assert_eq!(ids(&q.hand.take().unwrap()), [4]);
        q.hand.batch_done(false);
        assert_eq!(ids(&q.hand.take().unwrap()), [3]);
    }

    #[test]
    fn a_worker_waiting_for_the_running_batch_ends_when_the_queue_closes() {
        // One worker decides a batch slowly; store-only jobs gather behind
        // it and a second worker waits; the queue closes. Both end, and
        // every job is done once.
        let q = Queue::new(1000, 1);
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (ended_tx, ended_rx) = std::sync::mpsc::channel();
        q.push(vec![job(1, true)], None);
        for _ in 0..2 {
            let hand = std::sync::Arc::clone(&q.hand);
            let seen = std::sync::Arc::clone(&seen);
            let (started, ended) = (started_tx.clone(), ended_tx.clone());
            std::thread::spawn(move || {
                hand.work(|task| {
                    let _ = started.send(());
                    std::thread::sleep(Duration::from_millis(30));
                    seen.lock().unwrap().extend(ids(&task));
                    true
                });
                let _ = ended.send(());
            });
        }
        started_rx.recv().unwrap();
        q.push(vec![job(2, true), job(3, true)], None);
        drop(q);
        for i in 0..2 {
            let ended = ended_rx.recv_timeout(Duration::from_secs(10));
            assert!(ended.is_ok(), "worker {i} of 2 did not end");
        }
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, [1, 2, 3]);
    }

    #[test]
    fn a_worker_that_unwinds_in_a_batch_leaves_the_next_batch_to_the_others() {
        let q = Queue::new(1000, 1);
        q.push(vec![job(1, true)], None);
        let hand = std::sync::Arc::clone(&q.hand);
        let first = std::thread::spawn(move || {
            hand.work(|_| panic!("a bug in deciding the batch"));
        });
        assert!(first.join().is_err());
        q.push(vec![job(2, true)], None);
        let hand = std::sync::Arc::clone(&q.hand);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(hand.take().map(|t| ids(&t)));
        });
        let taken = rx.recv_timeout(Duration::from_secs(10));
        assert_eq!(
            taken.ok().flatten(),
            Some(vec![2]),
            "the next batch was not taken"
        );
    }

    #[test]
    fn the_loop_decides_only_small_reads_and_only_when_no_worker_has_work() {
        let q = Queue::new(1000, 1);
        assert!(!q.hand.loop_may_decide(0));
        assert!(q.hand.loop_may_decide(1));
        assert!(q.hand.loop_may_decide(super::IN_LOOP_MAX));
        // A read that brings more is load: the workers take it.
        assert!(!q.hand.loop_may_decide(super::IN_LOOP_MAX + 1));
        q.push(vec![job(1, true)], None);
        assert!(!q.hand.loop_may_decide(1), "a job waits for a worker");
        let _batch = q.hand.take().unwrap();
        assert!(!q.hand.loop_may_decide(1), "a batch is at a worker");
        q.hand.batch_done(false);
        assert!(q.hand.loop_may_decide(1));
    }

    #[test]
    fn kernel_drops_reads_the_sockets_own_count() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(super::kernel_drops(&s), Some(0));
        // Far more than the receive buffer holds, none read: dropped.
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = s.local_addr().unwrap();
        for _ in 0..20_000 {
            let _ = c.send_to(&[0u8; 1024], to);
        }
        assert!(super::kernel_drops(&s).unwrap() > 0);
        // Another socket's drops are not this one's.
        assert_eq!(super::kernel_drops(&c), Some(0));
    }
}
