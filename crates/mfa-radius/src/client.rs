//! The client side, for a server that asks another RADIUS server (the
//! upstream first factor): build an Access-Request, check its response.

use alloc::vec::Vec;

use rand_core::TryCryptoRng;

use crate::crypto::MessageAuthenticator;
use crate::packet::{Attribute, Code, Limits, Packet, attr};
use crate::{Error, SharedSecret};

/// An Access-Request on its way to another RADIUS server, with what is
/// needed to check the response.
///
/// The Request Authenticator comes from the injected random number
/// generator (RFC 2865 §3 wants it unpredictable); the packet carries a
/// Message-Authenticator as its first attribute.
///
/// ```
/// use mfa_radius::{Code, Limits, OutgoingRequest, Packet, SharedSecret};
/// # struct Fixed; impl rand_core::TryRng for Fixed { type Error = core::convert::Infallible;
/// # fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
/// # fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
/// # fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(7); Ok(()) } }
/// # impl rand_core::TryCryptoRng for Fixed {}
/// # let mut rng = Fixed; // a real caller passes e.g. getrandom::SysRng
/// let secret = SharedSecret::new(b"upstream secret")?;
/// let request = OutgoingRequest::access_request(9, b"nemo", b"arctangent", vec![], &secret, &mut rng)?;
/// // ... send request.bytes(), receive `reply` ...
/// # let reply = Packet::new(Code::ACCESS_ACCEPT, 9, [0; 16])
/// #     .encode_response(request.authenticator(), &secret)?;
/// let response = request.verify_response(&reply, &secret, &Limits::default(), true)?;
/// assert_eq!(response.code, Code::ACCESS_ACCEPT);
/// # Ok::<(), mfa_radius::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OutgoingRequest {
    identifier: u8,
    authenticator: [u8; 16],
    proxy_states: Vec<Vec<u8>>,
    bytes: Vec<u8>,
}

impl OutgoingRequest {
    /// An Access-Request for `user_name` with `password` hidden as
    /// User-Password, then `attributes` (e.g. NAS-Identifier,
    /// Calling-Station-Id) in order.
    ///
    /// # Errors
    /// [`Error::Rng`], [`Error::PasswordTooLong`],
    /// [`Error::AttributeValueTooLong`], [`Error::PacketTooLong`].
    pub fn access_request<R: TryCryptoRng + ?Sized>(
        identifier: u8,
        user_name: &[u8],
        password: &[u8],
        attributes: Vec<Attribute>,
        secret: &SharedSecret,
        rng: &mut R,
    ) -> Result<OutgoingRequest, Error> {
        let mut authenticator = [0u8; 16];
        rng.try_fill_bytes(&mut authenticator)
            .map_err(|_| Error::Rng)?;
        let mut packet = Packet::new(Code::ACCESS_REQUEST, identifier, authenticator);
        packet.push(Attribute::new(attr::USER_NAME, user_name.to_vec())?);
        packet.set_user_password(password, secret)?;
        for a in attributes {
            packet.push(a);
        }
        let proxy_states = packet.all(attr::PROXY_STATE).map(<[u8]>::to_vec).collect();
        let bytes = packet.encode_request(secret)?;
        Ok(OutgoingRequest {
            identifier,
            authenticator,
            proxy_states,
            bytes,
        })
    }

    /// The datagram to send (and to send again, unchanged, on a retransmission).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The Identifier, to match responses.
    pub fn identifier(&self) -> u8 {
        self.identifier
    }

    /// The Request Authenticator.
    pub fn authenticator(&self) -> &[u8; 16] {
        &self.authenticator
    }

    /// Decodes a datagram and checks that it is an authentic response to this
    /// request: an Access-Accept, -Reject or -Challenge with this Identifier,
    /// a matching Response Authenticator, a valid Message-Authenticator
    /// (required if `require_message_authenticator`; checked whenever
    /// present) and no Proxy-State the request did not send.
    ///
    /// # Errors
    /// Any decoding error, [`Error::UnexpectedCode`],
    /// [`Error::IdentifierMismatch`], [`Error::ResponseAuthenticatorMismatch`],
    /// [`Error::MessageAuthenticatorMissing`],
    /// [`Error::MessageAuthenticatorMismatch`], [`Error::UnsolicitedProxyState`].
    pub fn verify_response(
        &self,
        datagram: &[u8],
        secret: &SharedSecret,
        limits: &Limits,
        require_message_authenticator: bool,
    ) -> Result<Packet, Error> {
        let packet = Packet::decode(datagram, limits)?;
        if ![
            Code::ACCESS_ACCEPT,
            Code::ACCESS_REJECT,
            Code::ACCESS_CHALLENGE,
        ]
        .contains(&packet.code)
        {
            return Err(Error::UnexpectedCode {
                code: packet.code.0,
            });
        }
        if packet.identifier != self.identifier {
            return Err(Error::IdentifierMismatch {
                expected: self.identifier,
                received: packet.identifier,
            });
        }
        packet.verify_response_authenticator(&self.authenticator, secret)?;
        match packet.verify_message_authenticator(secret, Some(&self.authenticator))? {
            MessageAuthenticator::Valid => {}
            MessageAuthenticator::Absent if require_message_authenticator => {
                return Err(Error::MessageAuthenticatorMissing);
            }
            MessageAuthenticator::Absent => {}
        }
        let mut sent = self.proxy_states.iter();
        for (offset, a) in packet.with_offsets() {
            if a.kind() == attr::PROXY_STATE && sent.next().map(Vec::as_slice) != Some(a.value()) {
                return Err(Error::UnsolicitedProxyState { offset });
            }
        }
        Ok(packet)
    }
}
