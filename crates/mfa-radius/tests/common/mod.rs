//! Shared by the integration tests: a replayable random number generator,
//! a NAS that builds requests, and helpers that unwrap events.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use mfa_oath::UnixTime;
use mfa_radius::{
    Attribute, Client, Endpoint, Event, Limits, Mode, OutgoingRequest, Packet, PendingRequest,
    SharedSecret, Transmit,
};

/// SplitMix64: deterministic, so every run replays exactly.
pub struct TestRng(pub u64);

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next() as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

impl TestRng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A generator that always fails.
pub struct FailingRng;

#[derive(Debug)]
pub struct Broken;
impl core::fmt::Display for Broken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("broken")
    }
}
impl core::error::Error for Broken {}

impl rand_core::TryRng for FailingRng {
    type Error = Broken;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Err(Broken)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Err(Broken)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
        Err(Broken)
    }
}
impl rand_core::TryCryptoRng for FailingRng {}

pub const SECRET: &[u8] = b"a shared secret of 32 characters";

pub fn secret() -> SharedSecret {
    SharedSecret::new(SECRET).unwrap()
}

pub fn client(mode: Mode) -> Client {
    Client::new("vpn", secret(), mode)
}

pub fn nas() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

pub fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(1_700_000_000 + secs)
}

pub fn limits() -> Limits {
    Limits::default()
}

/// An Access-Request as a NAS would send it (Message-Authenticator first).
pub fn request(
    rng: &mut TestRng,
    id: u8,
    user: &str,
    password: &str,
    extra: Vec<Attribute>,
) -> OutgoingRequest {
    OutgoingRequest::access_request(
        id,
        user.as_bytes(),
        password.as_bytes(),
        extra,
        &secret(),
        rng,
    )
    .unwrap()
}

pub fn expect_request<D: std::fmt::Debug>(event: Event<D>) -> PendingRequest<D> {
    match event {
        Event::Request(p) => p,
        other => panic!("expected a request, got {other:?}"),
    }
}

pub fn expect_reply<D: std::fmt::Debug>(event: Event<D>) -> (Transmit, mfa_radius::Answered) {
    match event {
        Event::Reply { transmit, reason } => (transmit, reason),
        other => panic!("expected a reply, got {other:?}"),
    }
}

pub fn expect_dropped<D: std::fmt::Debug>(event: Event<D>) -> mfa_radius::Dropped {
    match event {
        Event::Dropped(d) => d,
        other => panic!("expected a drop, got {other:?}"),
    }
}

pub fn decode(bytes: &[u8]) -> Packet {
    Packet::decode(bytes, &limits()).unwrap()
}

pub fn endpoint<D>() -> Endpoint<D> {
    Endpoint::new(mfa_radius::Config::default())
}
