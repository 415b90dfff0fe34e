//! RFC 2865 §3 authenticators, §5.2 User-Password hiding and the RFC 3579
//! §3.2 Message-Authenticator, on top of RustCrypto's `md-5` and `hmac`.

use alloc::vec::Vec;

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::packet::{Attribute, HEADER_LEN, Packet, attr};
use crate::{Error, SharedSecret};

type HmacMd5 = Hmac<Md5>;

/// The longest User-Password, in octets (RFC 2865 §5.2).
pub const MAX_PASSWORD_LEN: usize = 128;

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[allow(clippy::expect_used)] // HMAC takes keys of any length: new_from_slice cannot fail
fn hmac_md5(secret: &SharedSecret, data: &[u8]) -> [u8; 16] {
    let mut mac = <HmacMd5 as KeyInit>::new_from_slice(secret.expose_secret())
        .expect("HMAC accepts a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Hides a User-Password (RFC 2865 §5.2): NUL-padded to a multiple of 16
/// octets, then XORed block by block with MD5(secret + previous block),
/// starting from the Request Authenticator.
pub(crate) fn hide_password(
    password: &[u8],
    secret: &SharedSecret,
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, Error> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::PasswordTooLong {
            len: password.len(),
        });
    }
    let blocks = password.len().div_ceil(16).max(1);
    let mut out = Vec::with_capacity(blocks * 16);
    let mut previous: [u8; 16] = *authenticator;
    for i in 0..blocks {
        let mut pad = md5(&[secret.expose_secret(), &previous]);
        let mut block = [0u8; 16];
        let chunk = password.get(i * 16..).unwrap_or_default();
        for (b, p) in block.iter_mut().zip(chunk.iter()) {
            *b = *p;
        }
        for (b, k) in block.iter_mut().zip(pad.iter()) {
            *b ^= *k;
        }
        pad.zeroize();
        out.extend_from_slice(&block);
        previous = block;
    }
    Ok(out)
}

/// Reverses [`hide_password`]; trailing NULs (the padding) are removed.
pub(crate) fn unhide_password(
    hidden: &[u8],
    secret: &SharedSecret,
    authenticator: &[u8; 16],
    offset: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if hidden.is_empty() || hidden.len() > MAX_PASSWORD_LEN || !hidden.len().is_multiple_of(16) {
        return Err(Error::HiddenPasswordLength {
            offset,
            len: hidden.len(),
        });
    }
    let mut out = Zeroizing::new(Vec::with_capacity(hidden.len()));
    let mut previous: &[u8] = authenticator;
    for block in hidden.chunks_exact(16) {
        let mut pad = md5(&[secret.expose_secret(), previous]);
        out.extend(block.iter().zip(pad.iter()).map(|(c, k)| c ^ k));
        pad.zeroize();
        previous = block;
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// The Response Authenticator of an encoded response whose authenticator
/// field holds anything: MD5(Code + Identifier + Length + Request
/// Authenticator + Attributes + Secret).
fn response_authenticator(
    encoded: &[u8],
    request_authenticator: &[u8; 16],
    secret: &SharedSecret,
) -> [u8; 16] {
    md5(&[
        encoded.get(..4).unwrap_or_default(),
        request_authenticator,
        encoded.get(HEADER_LEN..).unwrap_or_default(),
        secret.expose_secret(),
    ])
}

/// Where the one Message-Authenticator is, as (offset of the attribute,
/// offset of the value).
///
/// # Errors
/// [`Error::MessageAuthenticatorLength`], [`Error::DuplicateMessageAuthenticator`].
fn find_message_authenticator(packet: &Packet) -> Result<Option<usize>, Error> {
    let mut found = None;
    for (offset, a) in packet.with_offsets() {
        if a.kind() != attr::MESSAGE_AUTHENTICATOR {
            continue;
        }
        if a.value().len() != 16 {
            return Err(Error::MessageAuthenticatorLength {
                offset,
                len: a.value().len(),
            });
        }
        if found.is_some() {
            return Err(Error::DuplicateMessageAuthenticator { offset });
        }
        found = Some(offset);
    }
    Ok(found)
}

/// HMAC-MD5 over `encoded` with the Message-Authenticator value at
/// `ma_offset + 2` zeroed and `authenticator` in the authenticator field.
/// Returns the expected value; `encoded` is left with those substitutions.
fn message_authenticator_of(
    encoded: &mut [u8],
    ma_offset: usize,
    authenticator: &[u8; 16],
    secret: &SharedSecret,
) -> [u8; 16] {
    if let Some(field) = encoded.get_mut(4..HEADER_LEN) {
        field.copy_from_slice(authenticator);
    }
    if let Some(value) = encoded.get_mut(ma_offset + 2..ma_offset + 18) {
        value.fill(0);
    }
    hmac_md5(secret, encoded)
}

/// Whether a packet's Message-Authenticator is there and right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageAuthenticator {
    /// There is none.
    Absent,
    /// There is one and it matches.
    Valid,
}

impl Packet {
    /// Checks the Message-Authenticator (RFC 3579 §3.2), in constant time.
    ///
    /// For an Access-Request or Status-Server, pass `None`: the HMAC covers
    /// the packet as it is. For a response, pass the Request Authenticator of
    /// the request: it stands in the authenticator field during the HMAC.
    ///
    /// # Errors
    /// [`Error::MessageAuthenticatorMismatch`], [`Error::MessageAuthenticatorLength`],
    /// [`Error::DuplicateMessageAuthenticator`], or [`Error::PacketTooLong`] for
    /// a packet built too large.
    ///
    /// ```
    /// use mfa_radius::{Code, Limits, MessageAuthenticator, Packet, SharedSecret};
    /// // RFC 5997 §6.1: a Status-Server packet, secret "xyzzy5461".
    /// let wire = [
    ///     0x0c, 0xda, 0x00, 0x26, 0x8a, 0x54, 0xf4, 0x68, 0x6f, 0xb3, 0x94, 0xc5, 0x28, 0x66,
    ///     0xe3, 0x02, 0x18, 0x5d, 0x06, 0x23, 0x50, 0x12, 0x5a, 0x66, 0x5e, 0x2e, 0x1e, 0x84,
    ///     0x11, 0xf3, 0xe2, 0x43, 0x82, 0x20, 0x97, 0xc8, 0x4f, 0xa3,
    /// ];
    /// let p = Packet::decode(&wire, &Limits::default())?;
    /// assert_eq!(p.code, Code::STATUS_SERVER);
    /// let secret = SharedSecret::new(b"xyzzy5461")?;
    /// assert_eq!(p.verify_message_authenticator(&secret, None)?, MessageAuthenticator::Valid);
    /// let wrong = SharedSecret::new(b"xyzzy5462")?;
    /// assert!(p.verify_message_authenticator(&wrong, None).is_err());
    /// # Ok::<(), mfa_radius::Error>(())
    /// ```
    pub fn verify_message_authenticator(
        &self,
        secret: &SharedSecret,
        request_authenticator: Option<&[u8; 16]>,
    ) -> Result<MessageAuthenticator, Error> {
        let Some(offset) = find_message_authenticator(self)? else {
            return Ok(MessageAuthenticator::Absent);
        };
        let mut encoded = self.encode()?;
        let received: [u8; 16] = encoded
            .get(offset + 2..offset + 18)
            .and_then(|v| v.try_into().ok())
            .ok_or(Error::MessageAuthenticatorLength { offset, len: 0 })?;
        let authenticator = request_authenticator.unwrap_or(&self.authenticator);
        let expected = message_authenticator_of(&mut encoded, offset, authenticator, secret);
        if bool::from(expected.ct_eq(&received)) {
            Ok(MessageAuthenticator::Valid)
        } else {
            Err(Error::MessageAuthenticatorMismatch { offset })
        }
    }

    /// The User-Password of a request, unhidden with the packet's Request
    /// Authenticator; trailing NULs are stripped. `None` if there is none.
    ///
    /// # Errors
    /// [`Error::HiddenPasswordLength`] if the hidden value is not 16..=128
    /// octets in multiples of 16.
    ///
    /// ```
    /// use mfa_radius::{Limits, Packet, SharedSecret};
    /// // RFC 2865 §7.1: user nemo, password "arctangent", secret "xyzzy5461".
    /// let wire = [
    ///     0x01, 0x00, 0x00, 0x38, 0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83,
    ///     0xd5, 0xcb, 0x98, 0xf4, 0x22, 0x7a, 0x01, 0x06, 0x6e, 0x65, 0x6d, 0x6f, 0x02, 0x12,
    ///     0x0d, 0xbe, 0x70, 0x8d, 0x93, 0xd4, 0x13, 0xce, 0x31, 0x96, 0xe4, 0x3f, 0x78, 0x2a,
    ///     0x0a, 0xee, 0x04, 0x06, 0xc0, 0xa8, 0x01, 0x10, 0x05, 0x06, 0x00, 0x00, 0x00, 0x03,
    /// ];
    /// let p = Packet::decode(&wire, &Limits::default())?;
    /// let password = p.user_password(&SharedSecret::new(b"xyzzy5461")?)?.unwrap();
    /// assert_eq!(password.as_slice(), b"arctangent");
    /// # Ok::<(), mfa_radius::Error>(())
    /// ```
    pub fn user_password(
        &self,
        secret: &SharedSecret,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let Some((offset, a)) = self
            .with_offsets()
            .find(|(_, a)| a.kind() == attr::USER_PASSWORD)
        else {
            return Ok(None);
        };
        unhide_password(a.value(), secret, &self.authenticator, offset).map(Some)
    }

    /// Hides `password` with the packet's Request Authenticator and appends it
    /// as User-Password (replacing any there was, in place).
    ///
    /// # Errors
    /// [`Error::PasswordTooLong`] over 128 octets.
    pub fn set_user_password(
        &mut self,
        password: &[u8],
        secret: &SharedSecret,
    ) -> Result<(), Error> {
        let hidden = hide_password(password, secret, &self.authenticator)?;
        let attribute = Attribute::new(attr::USER_PASSWORD, hidden)?;
        match self
            .attributes()
            .iter()
            .position(|a| a.kind() == attr::USER_PASSWORD)
        {
            Some(i) => self.replace(i, attribute),
            None => self.push(attribute),
        }
        Ok(())
    }

    /// Encodes a request (Access-Request, Status-Server) with a
    /// Message-Authenticator as its first attribute (any other is removed),
    /// computed over the packet as it is, Request Authenticator included.
    ///
    /// # Errors
    /// [`Error::PacketTooLong`].
    ///
    /// ```
    /// use mfa_radius::{Code, Limits, MessageAuthenticator, Packet, SharedSecret};
    /// let secret = SharedSecret::new(b"a long shared secret")?;
    /// let wire = Packet::new(Code::STATUS_SERVER, 1, [0x42; 16]).encode_request(&secret)?;
    /// let p = Packet::decode(&wire, &Limits::default())?;
    /// assert_eq!(p.verify_message_authenticator(&secret, None)?, MessageAuthenticator::Valid);
    /// # Ok::<(), mfa_radius::Error>(())
    /// ```
    pub fn encode_request(mut self, secret: &SharedSecret) -> Result<Vec<u8>, Error> {
        self.retain(|a| a.kind() != attr::MESSAGE_AUTHENTICATOR);
        self.insert(
            0,
            Attribute::new(attr::MESSAGE_AUTHENTICATOR, [0; 16].to_vec())?,
        );
        let mut encoded = self.encode()?;
        let authenticator = self.authenticator;
        let mac = message_authenticator_of(&mut encoded, HEADER_LEN, &authenticator, secret);
        if let Some(v) = encoded.get_mut(HEADER_LEN + 2..HEADER_LEN + 18) {
            v.copy_from_slice(&mac);
        }
        Ok(encoded)
    }

    /// Encodes a response to a request with `request_authenticator`, the way
    /// RFC 3579 §3.2 and the BlastRADIUS (CVE-2024-3596) mitigation want it:
    ///
    /// 1. a Message-Authenticator goes in as the **first** attribute (any
    ///    other is removed);
    /// 2. it is the HMAC-MD5 of the packet with the Request Authenticator in
    ///    the authenticator field and its own value zeroed;
    /// 3. then the Response Authenticator, MD5 over the packet (with the
    ///    Message-Authenticator filled in) and the secret, takes the
    ///    authenticator field.
    ///
    /// # Errors
    /// [`Error::PacketTooLong`].
    ///
    /// ```
    /// use mfa_radius::{Code, Limits, MessageAuthenticator, Packet, SharedSecret, attr};
    /// let secret = SharedSecret::new(b"a long shared secret")?;
    /// let request_authenticator = [0x17; 16];
    /// let wire = Packet::new(Code::ACCESS_REJECT, 3, [0; 16])
    ///     .encode_response(&request_authenticator, &secret)?;
    /// let reply = Packet::decode(&wire, &Limits::default())?;
    /// assert_eq!(reply.attributes()[0].kind(), attr::MESSAGE_AUTHENTICATOR);
    /// reply.verify_response_authenticator(&request_authenticator, &secret)?;
    /// assert_eq!(
    ///     reply.verify_message_authenticator(&secret, Some(&request_authenticator))?,
    ///     MessageAuthenticator::Valid
    /// );
    /// # Ok::<(), mfa_radius::Error>(())
    /// ```
    pub fn encode_response(
        mut self,
        request_authenticator: &[u8; 16],
        secret: &SharedSecret,
    ) -> Result<Vec<u8>, Error> {
        self.retain(|a| a.kind() != attr::MESSAGE_AUTHENTICATOR);
        self.insert(
            0,
            Attribute::new(attr::MESSAGE_AUTHENTICATOR, [0; 16].to_vec())?,
        );
        self.encode_response_as_is(request_authenticator, secret)
    }

    /// Like [`Packet::encode_response`] but leaves the attributes alone: no
    /// Message-Authenticator is added; one that is there is computed. For
    /// checking test vectors of responses without one (RFC 2865 §7) and for
    /// peers that cannot take one.
    ///
    /// # Errors
    /// [`Error::PacketTooLong`], [`Error::MessageAuthenticatorLength`],
    /// [`Error::DuplicateMessageAuthenticator`].
    pub fn encode_response_as_is(
        self,
        request_authenticator: &[u8; 16],
        secret: &SharedSecret,
    ) -> Result<Vec<u8>, Error> {
        let ma = find_message_authenticator(&self)?;
        let mut encoded = self.encode()?;
        if let Some(offset) = ma {
            let mac = message_authenticator_of(&mut encoded, offset, request_authenticator, secret);
            if let Some(v) = encoded.get_mut(offset + 2..offset + 18) {
                v.copy_from_slice(&mac);
            }
        }
        let ra = response_authenticator(&encoded, request_authenticator, secret);
        if let Some(field) = encoded.get_mut(4..HEADER_LEN) {
            field.copy_from_slice(&ra);
        }
        Ok(encoded)
    }

    /// Checks a decoded response's Response Authenticator against the
    /// request's authenticator, in constant time.
    ///
    /// # Errors
    /// [`Error::ResponseAuthenticatorMismatch`], [`Error::PacketTooLong`].
    pub fn verify_response_authenticator(
        &self,
        request_authenticator: &[u8; 16],
        secret: &SharedSecret,
    ) -> Result<(), Error> {
        let encoded = self.encode()?;
        let expected = response_authenticator(&encoded, request_authenticator, secret);
        if bool::from(expected.ct_eq(&self.authenticator)) {
            Ok(())
        } else {
            Err(Error::ResponseAuthenticatorMismatch)
        }
    }
}
