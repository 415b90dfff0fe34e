#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod cache;
mod client;
mod crypto;
mod endpoint;
mod error;
mod packet;
mod secret;
mod session;

pub use client::OutgoingRequest;
pub use crypto::{MAX_PASSWORD_LEN, MessageAuthenticator};
pub use endpoint::{
    Answered, Client, Config, Credentials, Decision, Dropped, Endpoint, Event,
    MAX_REPLY_MESSAGE_LEN, Mode, Nas, PendingRequest, RejectReason, Request, Stats, Transmit,
    split_trailing_code,
};
pub use error::Error;
pub use packet::{
    Attribute, Code, HEADER_LEN, Limits, MAX_ATTRIBUTE_VALUE_LEN, MAX_PACKET_LEN, Packet, attr,
};
pub use secret::SharedSecret;
pub use session::{STATE_LEN, Session, StateError};
