//! The RADIUS shared secret.

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;

/// The secret a RADIUS client and server share (RFC 2865 §3).
///
/// It behaves like [`mfa_oath::Secret`]: wiped on drop, `Debug` prints
/// `SharedSecret([REDACTED])`, no `Display`, no `PartialEq`. It is a type of
/// its own because the rules differ: a token key needs at least 80 bits,
/// while RADIUS secrets are whatever the network device was configured with
/// (RFC 2865's own examples use the 9-octet `xyzzy5461`). The minimum a
/// deployment accepts (the server asks for 16 characters) is a policy for
/// the configuration, not for the protocol.
///
/// ```
/// use mfa_radius::SharedSecret;
/// let s = SharedSecret::new(b"xyzzy5461")?;
/// assert_eq!(format!("{s:?}"), "SharedSecret([REDACTED])");
/// assert!(SharedSecret::new(b"").is_err());
/// # Ok::<(), mfa_radius::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret {
    bytes: Vec<u8>,
}

impl SharedSecret {
    /// The longest secret accepted, in octets. RADIUS sets no limit; the
    /// bound keeps a configuration mistake from hashing megabytes per packet.
    pub const MAX_LEN: usize = 1024;

    /// A secret from bytes (copied).
    ///
    /// # Errors
    /// [`Error::SecretLength`] for an empty secret or one over
    /// [`SharedSecret::MAX_LEN`] octets.
    pub fn new(bytes: &[u8]) -> Result<SharedSecret, Error> {
        if bytes.is_empty() || bytes.len() > SharedSecret::MAX_LEN {
            return Err(Error::SecretLength {
                len: bytes.len(),
                max: SharedSecret::MAX_LEN,
            });
        }
        Ok(SharedSecret {
            bytes: bytes.to_vec(),
        })
    }

    /// The secret's octets. Named loudly so that every use is easy to audit.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in octets.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret([REDACTED])")
    }
}
