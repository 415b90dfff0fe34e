//! The one error type of this crate.

/// Everything that can go wrong in `mfa-radius`.
///
/// Decoding errors name the octet offset in the datagram where the problem
/// is, so a packet capture can be read next to the log. Variants carry data,
/// never preformatted strings, and never a secret: a shared secret, a
/// password or an authenticator value never appears in an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The datagram is shorter than the 20-octet RADIUS header.
    #[error("datagram of {len} octets is shorter than the 20-octet RADIUS header")]
    TooShort {
        /// Octets received.
        len: usize,
    },
    /// The datagram is longer than the largest RADIUS packet (RFC 2865 §3).
    #[error("datagram of {len} octets is longer than the RADIUS maximum of {max}")]
    DatagramTooLong {
        /// Octets received.
        len: usize,
        /// [`crate::MAX_PACKET_LEN`].
        max: usize,
    },
    /// The Length field (offset 2) is below 20 or above 4096.
    #[error("Length field (offset 2) is {length}, outside 20..={max}")]
    LengthField {
        /// The value of the Length field.
        length: usize,
        /// [`crate::MAX_PACKET_LEN`].
        max: usize,
    },
    /// The Length field (offset 2) says more octets than the datagram has.
    #[error("Length field (offset 2) is {length} but the datagram has only {received} octets")]
    Truncated {
        /// The value of the Length field.
        length: usize,
        /// Octets received.
        received: usize,
    },
    /// Fewer than two octets are left for an attribute's Type and Length.
    #[error("attribute at offset {offset}: no room for its Type and Length octets")]
    AttributeHeaderTruncated {
        /// Offset of the attribute in the packet.
        offset: usize,
    },
    /// An attribute's Length octet is 0 or 1.
    #[error("attribute at offset {offset} has Length {length}, less than 2")]
    AttributeTooShort {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// Its Length octet.
        length: u8,
    },
    /// An attribute runs past the end given by the packet's Length field.
    #[error("attribute at offset {offset} with Length {length} runs past the packet end at {end}")]
    AttributeOverrun {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// Its Length octet.
        length: u8,
        /// The packet's Length field.
        end: usize,
    },
    /// More attributes than [`crate::Limits::max_attributes`].
    #[error("attribute at offset {offset} is one more than the limit of {max} attributes")]
    TooManyAttributes {
        /// Offset of the first attribute over the limit.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// An attribute value longer than 253 octets (the Length octet is 255 at most).
    #[error("value of {len} octets for attribute type {attribute_type}: at most 253 fit")]
    AttributeValueTooLong {
        /// The attribute type.
        attribute_type: u8,
        /// The value's length.
        len: usize,
    },
    /// The packet to encode would be longer than 4096 octets.
    #[error("packet would be {len} octets, more than the RADIUS maximum of {max}")]
    PacketTooLong {
        /// The length it would have.
        len: usize,
        /// [`crate::MAX_PACKET_LEN`].
        max: usize,
    },
    /// A User-Password to hide is longer than 128 octets (RFC 2865 §5.2).
    #[error("User-Password of {len} octets: at most 128 can be hidden")]
    PasswordTooLong {
        /// Its length.
        len: usize,
    },
    /// A hidden User-Password is not 16..=128 octets in multiples of 16.
    #[error(
        "hidden User-Password at offset {offset} has {len} octets, not a multiple of 16 in 16..=128"
    )]
    HiddenPasswordLength {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// Length of the value.
        len: usize,
    },
    /// A shared secret is empty or longer than [`crate::SharedSecret::MAX_LEN`].
    #[error("shared secret of {len} octets: must be 1..={max}")]
    SecretLength {
        /// Its length.
        len: usize,
        /// [`crate::SharedSecret::MAX_LEN`].
        max: usize,
    },
    /// A Message-Authenticator whose value is not 16 octets.
    #[error("Message-Authenticator at offset {offset} has a {len}-octet value, not 16")]
    MessageAuthenticatorLength {
        /// Offset of the attribute in the packet.
        offset: usize,
        /// Length of the value.
        len: usize,
    },
    /// A second Message-Authenticator (RFC 3579 §3.2 allows at most one).
    #[error("second Message-Authenticator at offset {offset}")]
    DuplicateMessageAuthenticator {
        /// Offset of the second one.
        offset: usize,
    },
    /// A Message-Authenticator is required and absent.
    #[error("no Message-Authenticator, and one is required")]
    MessageAuthenticatorMissing,
    /// The Message-Authenticator does not match (wrong secret or altered packet).
    #[error("Message-Authenticator at offset {offset} does not match")]
    MessageAuthenticatorMismatch {
        /// Offset of the attribute in the packet.
        offset: usize,
    },
    /// A response's Response Authenticator (offset 4) does not match.
    #[error("Response Authenticator (offset 4) does not match the request")]
    ResponseAuthenticatorMismatch,
    /// A response's Identifier (offset 1) is not the request's.
    #[error("Identifier (offset 1) is {received}, the request's was {expected}")]
    IdentifierMismatch {
        /// The request's identifier.
        expected: u8,
        /// The response's identifier.
        received: u8,
    },
    /// A packet with a Code (offset 0) that does not fit here.
    #[error("unexpected Code {code} (offset 0)")]
    UnexpectedCode {
        /// The Code.
        code: u8,
    },
    /// A response carries a Proxy-State the request did not send: the mark of
    /// a forged response (CVE-2024-3596).
    #[error("response carries a Proxy-State at offset {offset} that the request did not send")]
    UnsolicitedProxyState {
        /// Offset of the attribute in the packet.
        offset: usize,
    },
    /// The injected random number generator failed.
    #[error("the random number generator failed")]
    Rng,
}
