//! A token bucket per client address, in a bounded map.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::RateLimit;

pub(crate) struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// The key of an address: IPv6 addresses by their /64 (one host usually
/// has a whole /64), IPv4 as is.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request from `ip` at `now` may go on (and takes a token).
    pub(crate) fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst.max(1));
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            // A panic while holding the lock cannot leave a bucket half
            // updated in a way that lets more through than the limit.
            Err(poisoned) => poisoned.into_inner(),
        };
        let k = key(ip);
        if !map.contains_key(&k) && map.len() >= self.limit.max_clients {
            // Drop the clients whose bucket has refilled: they are idle.
            map.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
            if map.len() >= self.limit.max_clients {
                return false;
            }
        }
        let (tokens, at) = map.entry(k).or_insert((burst, now));
        let refilled =
            (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            true
        } else {
            *tokens = refilled;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_refills_and_the_map_stays_bounded() {
        let r = RateLimiter::new(RateLimit {
            per_second: 2,
            burst: 3,
            max_clients: 2,
        });
        let t = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert!((0..3).all(|_| r.allow(a, t)));
        assert!(!r.allow(a, t));
        assert!(r.allow(a, t + Duration::from_millis(600)));
        let b: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0; 4]));
        let b2: IpAddr = "2001:db8::2".parse().unwrap_or(IpAddr::from([0; 4]));
        assert!((0..3).all(|_| r.allow(b, t)));
        // Same /64: same bucket.
        assert!(!r.allow(b2, t));
        // A third client while both are busy: refused, map stays at 2.
        assert!(!r.allow("10.0.0.3".parse().unwrap_or(a), t));
        // Once a client is idle (full again), room is made.
        assert!(r.allow("10.0.0.3".parse().unwrap_or(a), t + Duration::from_secs(10)));
    }
}
