//! The server loop: one task owns the UDP socket and the protocol state
//! ([`Endpoint`]); a bounded queue feeds a fixed pool of worker threads
//! that make the blocking store calls; their decisions come back to the
//! loop, which builds, caches and sends the replies.
//!
//! Overload sheds instead of growing: when the queue is full the request is
//! abandoned unanswered (the NAS retransmits) and counted. SIGTERM or SIGINT
//! stops receiving, lets the requests already taken finish and be answered,
//! and returns.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mfa_radius::{
    Answered, Config, Credentials, Decision, Dropped, Endpoint, Event, PendingRequest, Request,
};
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

/// Counters of the server itself (the protocol's are in [`mfa_radius::Stats`]).
#[derive(Debug, Default)]
struct Counters {
    overload: u64,
    send_errors: u64,
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
    queue: usize,
    shared: &Arc<Shared>,
    done: &UnboundedSender<Done>,
) -> Result<(SyncSender<Job>, Vec<std::thread::JoinHandle<()>>), String> {
    let (jobs, rx) = sync_channel::<Job>(queue);
    let rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(rx));
    let mut handles = Vec::with_capacity(count);
    for i in 0..count {
        let rx = Arc::clone(&rx);
        let shared = Arc::clone(shared);
        let done = done.clone();
        let handle = std::thread::Builder::new()
            .name(format!("radius-worker-{i}"))
            .spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked while
                    // waiting: take the receiver anyway, it holds no state.
                    let jobs = match rx.lock() {
                        Ok(r) => take_jobs(&r),
                        Err(poisoned) => take_jobs(&poisoned.into_inner()),
                    };
                    if jobs.is_empty() || !work_on(&shared, jobs, &done) {
                        break;
                    }
                }
            })
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        handles.push(handle);
    }
    Ok((jobs, handles))
}

/// At most this many queued requests are taken by one worker at a time
/// (as many as the store's group commit takes in one transaction).
const BATCH_MAX: usize = 64;

/// One job, waiting for it, and then every further job already queued,
/// up to [`BATCH_MAX`] (not waiting for more). Empty: the queue is closed
/// and drained.
fn take_jobs(rx: &Receiver<Job>) -> Vec<Job> {
    let Ok(first) = rx.recv() else {
        return Vec::new();
    };
    let mut jobs = vec![first];
    while jobs.len() < BATCH_MAX {
        match rx.try_recv() {
            Ok(job) => jobs.push(job),
            Err(_) => break,
        }
    }
    jobs
}

/// Decides `jobs` and sends every Done: the store-only ones together in one
/// store transaction (their Dones after its commit), then the others one by
/// one (upstream first factor, challenge start, SMS). `false`: the server
/// loop is gone.
fn work_on(shared: &Shared, jobs: Vec<Job>, done: &UnboundedSender<Done>) -> bool {
    let (together, alone): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| Shared::store_only(&j.work));
    let batched = if together.is_empty() {
        Vec::new()
    } else {
        let works: Vec<&Work> = together.iter().map(|j| &j.work).collect();
        shared.decide_batch(&works, now())
    };
    // The batch's Dones first, then each other job decided as it is sent.
    let dones = together
        .iter()
        .map(|j| j.id)
        .zip(batched)
        .chain(alone.iter().map(|j| (j.id, shared.decide(&j.work, now()))));
    for (id, decided) in dones {
        if done.send(Done { id, decided }).is_err() {
            return false;
        }
    }
    true
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
    let (done_tx, mut done_rx) = unbounded_channel::<Done>();
    let (jobs, workers) = spawn_workers(settings.workers, settings.queue, &shared, &done_tx)?;
    drop(done_tx);
    let mut jobs = Some(jobs);
    let mut config = Config::default();
    config.session_ttl = settings.challenge_timeout;
    let mut endpoint: Endpoint<Expect> = Endpoint::new(config);
    let mut pending: HashMap<u64, PendingRequest<Expect>> = HashMap::new();
    let mut next_id: u64 = 0;
    let mut counters = Counters::default();
    let mut rng = getrandom::SysRng;
    let mut buf = Zeroizing::new(vec![0u8; mfa_radius::MAX_PACKET_LEN + 1]);
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
        if jobs.is_none() && pending.is_empty() {
            break;
        }
        tokio::select! {
            received = socket.recv_from(&mut buf), if jobs.is_some() => {
                let (n, source) = match received {
                    Ok(r) => r,
                    Err(e) => {
                        // ICMP errors of earlier sends surface here on some
                        // systems; nothing to do for them.
                        tracing::debug!(error = %e, "receive error");
                        continue;
                    }
                };
                let datagram = buf.get(..n).unwrap_or_default();
                let entry = settings.client_for(source.ip());
                let t = now();
                match endpoint.handle(t, source, entry.map(|e| &e.client), datagram) {
                    Event::Request(mut p) => {
                        // In the loop, not None: `jobs` is Some while receiving.
                        let Some(queue) = jobs.as_ref() else { continue };
                        let (source_kind, digits) = entry
                            .map_or((ClientIpSource::None, 6), |e| (e.client_ip, e.code_digits));
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
                        next_id += 1;
                        match queue.try_send(Job { id: next_id, work }) {
                            Ok(()) => {
                                pending.insert(next_id, p);
                            }
                            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                                counters.overload += 1;
                                if counters.overload.is_power_of_two() {
                                    tracing::warn!(
                                        dropped = counters.overload,
                                        "overload: the worker queue is full, requests are dropped (the NAS retransmits)"
                                    );
                                }
                                endpoint.abandon(p);
                            }
                        }
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
                        if let Err(e) = socket.send_to(&transmit.contents, transmit.destination).await {
                            counters.send_errors += 1;
                            tracing::warn!(destination = %transmit.destination, error = %e, "send failed");
                        }
                    }
                    Event::Dropped(why) => {
                        let stats = endpoint.stats();
                        let count = match why {
                            Dropped::UnknownClient => stats.unknown_client,
                            Dropped::MessageAuthenticatorInvalid(_) => stats.message_authenticator_invalid,
                            _ => 0,
                        };
                        log_drop(source, entry.map(|e| e.client.name()), &why, count);
                    }
                }
            }
            done = done_rx.recv() => {
                // Every worker gone (only after the job queue closed, or if
                // one died): nothing in flight can be answered any more.
                let Some(done) = done else {
                    tracing::warn!(in_flight = pending.len(), "the workers stopped; requests in flight are not answered");
                    break;
                };
                let Some(p) = pending.remove(&done.id) else { continue };
                let (user, client, source) = {
                    let r = p.request();
                    (r.user_name.clone(), r.client.clone(), r.source)
                };
                let outcome = match &done.decided.decision {
                    Decision::Accept { .. } => "accept",
                    Decision::Reject { .. } => "reject",
                    Decision::Challenge { .. } => "challenge",
                };
                match endpoint.respond(now(), p, done.decided.decision, &mut rng) {
                    Ok(transmit) => {
                        // Debug formatting quotes and escapes the User-Name:
                        // a name with a line break cannot forge a log line.
                        tracing::info!(
                            user = ?user,
                            client = ?client,
                            source = %source,
                            outcome,
                            reason = %done.decided.reason,
                            "decision"
                        );
                        if let Err(e) = socket.send_to(&transmit.contents, transmit.destination).await {
                            counters.send_errors += 1;
                            tracing::warn!(destination = %transmit.destination, error = %e, "send failed");
                        }
                    }
                    Err(e) => tracing::warn!(
                        user = ?user,
                        client = ?client,
                        error = %e,
                        "no reply could be built; the request is abandoned"
                    ),
                }
            }
            _ = sigterm.recv() => begin_stop(&mut jobs, "SIGTERM", pending.len()),
            _ = sigint.recv() => begin_stop(&mut jobs, "SIGINT", pending.len()),
            _ = tick.tick() => endpoint.handle_timeout(now()),
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let s = endpoint.stats();
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
        overload = counters.overload,
        send_errors = counters.send_errors,
        "radius server stopped"
    );
    Ok(())
}

fn begin_stop(jobs: &mut Option<SyncSender<Job>>, signal: &str, in_flight: usize) {
    if jobs.take().is_some() {
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
