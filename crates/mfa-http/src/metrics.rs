//! Counters for `/metrics` (Prometheus text format 0.0.4), kept with
//! atomics: no lock on the request path.

use core::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The endpoints counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Check = 0,
    RadiusCheck = 1,
    TriggerChallenge = 2,
    PollTransaction = 3,
}

const ENDPOINTS: [&str; 4] = [
    "check",
    "radiuscheck",
    "triggerchallenge",
    "polltransaction",
];

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accept = 0,
    Reject = 1,
    Challenge = 2,
    /// A request error (400, 401, 404, 408, 413, 431).
    BadRequest = 3,
    /// Refused by the rate limit (429).
    RateLimited = 4,
    /// The store was busy or failed (503, 500).
    Unavailable = 5,
    /// polltransaction answered.
    Answered = 6,
}

const OUTCOMES: [&str; 7] = [
    "accept",
    "reject",
    "challenge",
    "bad_request",
    "rate_limited",
    "unavailable",
    "answered",
];

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        OUTCOMES.get(self as usize).copied().unwrap_or("unknown")
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
pub(crate) struct Metrics {
    requests: [[AtomicU64; 7]; 4],
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
    pub(crate) store_errors: AtomicU64,
    pub(crate) store_timeouts: AtomicU64,
    pub(crate) notify_errors: AtomicU64,
}

impl Metrics {
    pub(crate) fn record(&self, endpoint: Endpoint, outcome: Outcome, took: Duration) {
        if let Some(c) = self
            .requests
            .get(endpoint as usize)
            .and_then(|row| row.get(outcome as usize))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        for (bound, c) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn render(&self, open_transactions: usize) -> String {
        let mut out = String::with_capacity(4096);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP mfa_http_requests_total Validate requests by endpoint and outcome."
        );
        let _ = writeln!(out, "# TYPE mfa_http_requests_total counter");
        for (e, row) in ENDPOINTS.iter().zip(&self.requests) {
            for (o, c) in OUTCOMES.iter().zip(row) {
                let _ = writeln!(
                    out,
                    "mfa_http_requests_total{{endpoint=\"{e}\",outcome=\"{o}\"}} {}",
                    get(c)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mfa_http_request_duration_seconds Time to answer a validate request."
        );
        let _ = writeln!(out, "# TYPE mfa_http_request_duration_seconds histogram");
        for (bound, c) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "mfa_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(c)
            );
        }
        let count = get(&self.count);
        let _ = writeln!(
            out,
            "mfa_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(clippy::cast_precision_loss)] // a sum of microseconds: exact far beyond any uptime
        let sum = get(&self.sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "mfa_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "mfa_http_request_duration_seconds_count {count}");
        for (name, help, c) in [
            (
                "mfa_http_store_errors_total",
                "Store calls that failed (answered 500 or 503).",
                &self.store_errors,
            ),
            (
                "mfa_http_store_timeouts_total",
                "Store calls past the time limit (answered 503).",
                &self.store_timeouts,
            ),
            (
                "mfa_http_notify_errors_total",
                "One-time codes that could not be sent.",
                &self.notify_errors,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", get(c));
        }
        let _ = writeln!(
            out,
            "# HELP mfa_http_transactions Challenge transactions kept in memory."
        );
        let _ = writeln!(out, "# TYPE mfa_http_transactions gauge");
        let _ = writeln!(out, "mfa_http_transactions {open_transactions}");
        out
    }
}
