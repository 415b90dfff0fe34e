//! CIDR ranges for trusted IPs.

use core::fmt;
use core::str::FromStr;
use std::net::IpAddr;

use crate::Error;

/// An IPv4 or IPv6 network in CIDR notation, host bits cleared.
///
/// ```
/// use mfa_store::Cidr;
/// let net: Cidr = "192.168.7.9/16".parse()?;
/// assert_eq!(net.to_string(), "192.168.0.0/16");
/// assert!(net.contains("192.168.200.1".parse().unwrap()));
/// assert!(!net.contains("10.0.0.1".parse().unwrap()));
/// let v6: Cidr = "2001:db8::/32".parse()?;
/// assert!(v6.contains("2001:db8::42".parse().unwrap()));
/// # Ok::<(), mfa_store::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

fn mask_v4(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(prefix)))
    }
}

impl Cidr {
    /// The network `addr/prefix` (host bits are cleared).
    ///
    /// # Errors
    /// [`Error::Cidr`] if the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, Error> {
        let addr = match addr {
            IpAddr::V4(a) if prefix <= 32 => IpAddr::V4(mask_v4(a.into(), prefix).into()),
            IpAddr::V6(a) if prefix <= 128 => IpAddr::V6(mask_v6(a.into(), prefix).into()),
            _ => {
                return Err(Error::Cidr {
                    text: format!("{addr}/{prefix}"),
                });
            }
        };
        Ok(Cidr { addr, prefix })
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is inside the range (an IPv4 address never matches an
    /// IPv6 range and vice versa, except IPv4-mapped IPv6 addresses, which
    /// are compared as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask_v4(a.into(), self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => mask_v6(a.into(), self.prefix) == u128::from(net),
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = Error;

    /// `a.b.c.d/n`, `x:y::/n`, or a bare address (a /32 or /128 range).
    fn from_str(s: &str) -> Result<Cidr, Error> {
        let bad = || Error::Cidr { text: s.to_owned() };
        let t = s.trim();
        let (a, p) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| bad())?
            }
            Some(_) => return Err(bad()),
        };
        if prefix > max {
            return Err(bad());
        }
        Cidr::new(addr, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "1.2.3.4/33",
            "::/129",
            "1.2.3/8",
            "1.2.3.4/",
            "1.2.3.4/+1",
            "x/1",
        ] {
            assert!(s.parse::<Cidr>().is_err(), "{s}");
        }
    }

    proptest! {
        #[test]
        fn v4_contains_matches_prefix(a: u32, b: u32, p in 0u8..=32) {
            let net = Cidr::new(IpAddr::V4(a.into()), p).unwrap();
            let same = mask_v4(a, p) == mask_v4(b, p);
            prop_assert_eq!(net.contains(IpAddr::V4(b.into())), same);
            prop_assert_eq!(net.to_string().parse::<Cidr>().unwrap(), net);
        }

        #[test]
        fn v6_contains_matches_prefix(a: u128, b: u128, p in 0u8..=128) {
            let net = Cidr::new(IpAddr::V6(a.into()), p).unwrap();
            let same = mask_v6(a, p) == mask_v6(b, p);
            let ip = IpAddr::V6(b.into());
            // Mapped IPv4 addresses are compared as IPv4.
            prop_assume!(std::net::Ipv6Addr::from(b).to_ipv4_mapped().is_none());
            prop_assert_eq!(net.contains(ip), same);
            prop_assert_eq!(net.to_string().parse::<Cidr>().unwrap(), net);
        }
    }
}
