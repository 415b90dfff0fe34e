//! The RADIUS packet codec (RFC 2865 §3 and §5).

use alloc::vec::Vec;
use core::fmt;

use crate::Error;

/// The largest RADIUS packet, in octets (RFC 2865 §3).
pub const MAX_PACKET_LEN: usize = 4096;
/// The fixed header: Code, Identifier, Length, Authenticator.
pub const HEADER_LEN: usize = 20;
/// The longest attribute value: the Length octet (at most 255) counts the
/// Type and Length octets too.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 253;

/// A packet's Code (offset 0). A newtype rather than an enum so that a
/// packet with a code this crate does not know still decodes and encodes
/// unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u8);

impl Code {
    /// Access-Request (RFC 2865 §4.1).
    pub const ACCESS_REQUEST: Code = Code(1);
    /// Access-Accept (RFC 2865 §4.2).
    pub const ACCESS_ACCEPT: Code = Code(2);
    /// Access-Reject (RFC 2865 §4.3).
    pub const ACCESS_REJECT: Code = Code(3);
    /// Accounting-Request (RFC 2866).
    pub const ACCOUNTING_REQUEST: Code = Code(4);
    /// Accounting-Response (RFC 2866).
    pub const ACCOUNTING_RESPONSE: Code = Code(5);
    /// Access-Challenge (RFC 2865 §4.4).
    pub const ACCESS_CHALLENGE: Code = Code(11);
    /// Status-Server (RFC 5997).
    pub const STATUS_SERVER: Code = Code(12);

    /// The registered name, if this crate knows it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Access-Request",
            2 => "Access-Accept",
            3 => "Access-Reject",
            4 => "Accounting-Request",
            5 => "Accounting-Response",
            11 => "Access-Challenge",
            12 => "Status-Server",
            13 => "Status-Client",
            _ => return None,
        })
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Code({name})"),
            None => write!(f, "Code({})", self.0),
        }
    }
}

/// Attribute types used by this crate (RFC 2865 §5, RFC 2869, RFC 3162,
/// RFC 3579). Any other type decodes and encodes unchanged.
pub mod attr {
    /// User-Name (RFC 2865 §5.1).
    pub const USER_NAME: u8 = 1;
    /// User-Password (RFC 2865 §5.2), hidden.
    pub const USER_PASSWORD: u8 = 2;
    /// CHAP-Password (RFC 2865 §5.3).
    pub const CHAP_PASSWORD: u8 = 3;
    /// NAS-IP-Address (RFC 2865 §5.4).
    pub const NAS_IP_ADDRESS: u8 = 4;
    /// NAS-Port (RFC 2865 §5.5).
    pub const NAS_PORT: u8 = 5;
    /// Reply-Message (RFC 2865 §5.18).
    pub const REPLY_MESSAGE: u8 = 18;
    /// State (RFC 2865 §5.24).
    pub const STATE: u8 = 24;
    /// Class (RFC 2865 §5.25).
    pub const CLASS: u8 = 25;
    /// Vendor-Specific (RFC 2865 §5.26), passed through unchanged.
    pub const VENDOR_SPECIFIC: u8 = 26;
    /// Called-Station-Id (RFC 2865 §5.30).
    pub const CALLED_STATION_ID: u8 = 30;
    /// Calling-Station-Id (RFC 2865 §5.31).
    pub const CALLING_STATION_ID: u8 = 31;
    /// NAS-Identifier (RFC 2865 §5.32).
    pub const NAS_IDENTIFIER: u8 = 32;
    /// Proxy-State (RFC 2865 §5.33), copied back unchanged and in order.
    pub const PROXY_STATE: u8 = 33;
    /// EAP-Message (RFC 3579 §3.1).
    pub const EAP_MESSAGE: u8 = 79;
    /// Message-Authenticator (RFC 3579 §3.2, RFC 2869 §5.14).
    pub const MESSAGE_AUTHENTICATOR: u8 = 80;
    /// NAS-IPv6-Address (RFC 3162 §2.1).
    pub const NAS_IPV6_ADDRESS: u8 = 95;
}

/// One attribute: a type and a value of at most 253 octets.
///
/// ```
/// use mfa_radius::{Attribute, attr};
/// let a = Attribute::new(attr::USER_NAME, b"nemo".to_vec())?;
/// assert_eq!((a.kind(), a.value()), (1, &b"nemo"[..]));
/// assert!(Attribute::new(attr::REPLY_MESSAGE, vec![b'x'; 254]).is_err());
/// # Ok::<(), mfa_radius::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Attribute {
    kind: u8,
    value: Vec<u8>,
}

impl Attribute {
    /// An attribute of type `kind`.
    ///
    /// # Errors
    /// [`Error::AttributeValueTooLong`] for a value over 253 octets.
    pub fn new(kind: u8, value: Vec<u8>) -> Result<Attribute, Error> {
        if value.len() > MAX_ATTRIBUTE_VALUE_LEN {
            return Err(Error::AttributeValueTooLong {
                attribute_type: kind,
                len: value.len(),
            });
        }
        Ok(Attribute { kind, value })
    }

    /// The attribute type.
    pub fn kind(&self) -> u8 {
        self.kind
    }

    /// The value, as on the wire (a User-Password is still hidden).
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// For a Vendor-Specific attribute with at least the 4-octet Vendor-Id,
    /// the Vendor-Id and the vendor's data (RFC 2865 §5.26).
    ///
    /// ```
    /// use mfa_radius::{Attribute, attr};
    /// let vsa = Attribute::new(attr::VENDOR_SPECIFIC, vec![0, 0, 0x01, 0x37, 1, 3, b'x'])?;
    /// assert_eq!(vsa.vendor_specific(), Some((311, &[1, 3, b'x'][..])));
    /// # Ok::<(), mfa_radius::Error>(())
    /// ```
    pub fn vendor_specific(&self) -> Option<(u32, &[u8])> {
        if self.kind != attr::VENDOR_SPECIFIC {
            return None;
        }
        let (id, data) = self.value.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*id), data))
    }

    /// Octets this attribute takes in a packet.
    pub(crate) fn wire_len(&self) -> usize {
        2 + self.value.len()
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hidden User-Password is ciphertext, but there is no reason to
        // put it in a log line.
        if self.kind == attr::USER_PASSWORD {
            return write!(f, "Attribute(2, [REDACTED; {}])", self.value.len());
        }
        write!(f, "Attribute({}, {:02x?})", self.kind, self.value)
    }
}

/// Limits applied when decoding. The defaults are safe for a server facing
/// untrusted datagrams.
///
/// ```
/// let mut limits = mfa_radius::Limits::default();
/// assert_eq!(limits.max_attributes, 200);
/// limits.max_attributes = 50;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most attributes a packet may have (default 200, FreeRADIUS's
    /// default too). Whatever the value, a packet never exceeds 4096 octets,
    /// so at most 2038 attributes are possible.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attributes: 200,
        }
    }
}

/// A RADIUS packet: header fields and the attributes in wire order.
///
/// Decoding keeps every attribute, known or not, in order, so that
/// `decode(encode(p)) == p` and `encode(decode(b)) == b` (without padding).
///
/// ```
/// use mfa_radius::{Attribute, Code, Limits, Packet, attr};
/// let mut p = Packet::new(Code::ACCESS_REQUEST, 7, [0x11; 16]);
/// p.push(Attribute::new(attr::USER_NAME, b"nemo".to_vec())?);
/// let bytes = p.encode()?;
/// assert_eq!(bytes.len(), 20 + 6);
/// assert_eq!(Packet::decode(&bytes, &Limits::default())?, p);
///
/// // Errors say where the problem is.
/// let mut bad = bytes.clone();
/// bad[21] = 1; // the attribute's Length octet
/// assert_eq!(
///     Packet::decode(&bad, &Limits::default()),
///     Err(mfa_radius::Error::AttributeTooShort { offset: 20, length: 1 })
/// );
/// # Ok::<(), mfa_radius::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Code (offset 0).
    pub code: Code,
    /// Identifier (offset 1), matches a response to its request.
    pub identifier: u8,
    /// Request or Response Authenticator (offset 4).
    pub authenticator: [u8; 16],
    attributes: Vec<Attribute>,
}

impl Packet {
    /// A packet without attributes.
    pub fn new(code: Code, identifier: u8, authenticator: [u8; 16]) -> Packet {
        Packet {
            code,
            identifier,
            authenticator,
            attributes: Vec::new(),
        }
    }

    /// Decodes one packet from a datagram.
    ///
    /// Octets after the Length field's end are padding and ignored (RFC 2865
    /// §3); a datagram over 4096 octets is refused outright.
    ///
    /// # Errors
    /// [`Error::TooShort`], [`Error::DatagramTooLong`], [`Error::LengthField`],
    /// [`Error::Truncated`], [`Error::AttributeHeaderTruncated`],
    /// [`Error::AttributeTooShort`], [`Error::AttributeOverrun`] or
    /// [`Error::TooManyAttributes`], each naming the offset.
    pub fn decode(datagram: &[u8], limits: &Limits) -> Result<Packet, Error> {
        let (header, _) = datagram
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(Error::TooShort {
                len: datagram.len(),
            })?;
        if datagram.len() > MAX_PACKET_LEN {
            return Err(Error::DatagramTooLong {
                len: datagram.len(),
                max: MAX_PACKET_LEN,
            });
        }
        let [code, identifier, l0, l1, authenticator @ ..] = *header;
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&length) {
            return Err(Error::LengthField {
                length,
                max: MAX_PACKET_LEN,
            });
        }
        let body = datagram.get(HEADER_LEN..length).ok_or(Error::Truncated {
            length,
            received: datagram.len(),
        })?;
        let mut attributes = Vec::new();
        let mut rest = body;
        let mut offset = HEADER_LEN;
        while !rest.is_empty() {
            if attributes.len() >= limits.max_attributes {
                return Err(Error::TooManyAttributes {
                    offset,
                    max: limits.max_attributes,
                });
            }
            let [kind, len, ..] = *rest else {
                return Err(Error::AttributeHeaderTruncated { offset });
            };
            if len < 2 {
                return Err(Error::AttributeTooShort {
                    offset,
                    length: len,
                });
            }
            let Some((this, tail)) = rest.split_at_checked(usize::from(len)) else {
                return Err(Error::AttributeOverrun {
                    offset,
                    length: len,
                    end: length,
                });
            };
            let value = this.get(2..).unwrap_or_default().to_vec();
            attributes.push(Attribute { kind, value });
            offset += usize::from(len);
            rest = tail;
        }
        Ok(Packet {
            code: Code(code),
            identifier,
            authenticator,
            attributes,
        })
    }

    /// Encodes the packet as it goes on the wire.
    ///
    /// # Errors
    /// [`Error::PacketTooLong`] if it would exceed 4096 octets.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let len = self.wire_len();
        if len > MAX_PACKET_LEN {
            return Err(Error::PacketTooLong {
                len,
                max: MAX_PACKET_LEN,
            });
        }
        let mut out = Vec::with_capacity(len);
        out.push(self.code.0);
        out.push(self.identifier);
        // len <= 4096 was checked above.
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(&self.authenticator);
        for a in &self.attributes {
            out.push(a.kind);
            // value <= 253 is the invariant of Attribute.
            out.push(u8::try_from(a.wire_len()).unwrap_or(u8::MAX));
            out.extend_from_slice(&a.value);
        }
        Ok(out)
    }

    /// The length the encoded packet has.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN
            + self
                .attributes
                .iter()
                .map(Attribute::wire_len)
                .sum::<usize>()
    }

    /// All attributes, in wire order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The value of the first attribute of type `kind`.
    pub fn first(&self, kind: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|a| a.kind == kind)
            .map(Attribute::value)
    }

    /// The values of every attribute of type `kind`, in order.
    pub fn all(&self, kind: u8) -> impl Iterator<Item = &[u8]> + '_ {
        self.attributes
            .iter()
            .filter(move |a| a.kind == kind)
            .map(Attribute::value)
    }

    /// Appends an attribute.
    pub fn push(&mut self, attribute: Attribute) {
        self.attributes.push(attribute);
    }

    /// Inserts an attribute at `index` (clamped to the end).
    pub fn insert(&mut self, index: usize, attribute: Attribute) {
        let index = index.min(self.attributes.len());
        self.attributes.insert(index, attribute);
    }

    /// Keeps only the attributes for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Attribute) -> bool) {
        self.attributes.retain(keep);
    }

    pub(crate) fn replace(&mut self, index: usize, attribute: Attribute) {
        if let Some(slot) = self.attributes.get_mut(index) {
            *slot = attribute;
        }
    }

    /// Each attribute with its offset in the encoded packet.
    pub(crate) fn with_offsets(&self) -> impl Iterator<Item = (usize, &Attribute)> + '_ {
        let mut offset = HEADER_LEN;
        self.attributes.iter().map(move |a| {
            let this = offset;
            offset += a.wire_len();
            (this, a)
        })
    }
}
