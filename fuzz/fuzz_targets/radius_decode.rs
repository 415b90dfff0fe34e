//! RADIUS decoding of arbitrary datagrams: never a panic; whatever decodes
//! encodes back to the octets it came from (without padding) and decodes
//! again to the same packet; the authenticator checks and the endpoint never
//! panic on it either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfa_oath::UnixTime;
use mfa_radius::{Client, Endpoint, Event, Limits, Mode, Packet, SharedSecret};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let secret = SharedSecret::new(b"xyzzy5461").expect("a valid secret");
    if let Ok(p) = Packet::decode(data, &limits) {
        let wire = p.encode().expect("a decoded packet encodes");
        let length = usize::from(u16::from_be_bytes([data[2], data[3]]));
        assert_eq!(&wire[..], &data[..length]);
        assert_eq!(Packet::decode(&wire, &limits).expect("decodes again"), p);
        let _ = p.verify_message_authenticator(&secret, None);
        let _ = p.verify_response_authenticator(&[0; 16], &secret);
        let _ = p.user_password(&secret);
    }
    // The whole server side, for both Message-Authenticator policies.
    for require in [true, false] {
        let client = Client::new("fuzz", secret.clone(), Mode::Challenge)
            .require_message_authenticator(require);
        let mut endpoint: Endpoint<()> = Endpoint::new(Default::default());
        let source = "192.0.2.1:1812".parse().expect("an address");
        let now = UnixTime::from_secs(1_700_000_000);
        if let Event::Request(pending) = endpoint.handle(now, source, Some(&client), data) {
            endpoint.abandon(pending);
        }
    }
});
