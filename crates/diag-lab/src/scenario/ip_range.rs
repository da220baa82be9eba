//! An address or CIDR block (`203.0.113.10`, `203.0.113.0/24`, `2001:db8::/32`), as connector
//! sender IPs and SPF `ip4:`/`ip6:` mechanisms write them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` lies in the block. IPv4 and IPv6 never match each other.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                same_prefix(&base.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                same_prefix(&base.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }

    /// The block of `ip` with the given prefix length (None when too long for the family).
    pub fn new(base: IpAddr, prefix: u8) -> Option<IpRange> {
        let max = if base.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpRange { base, prefix })
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<IpRange, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let base: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}` has a prefix length outside 0..={max}"))?,
        };
        Ok(IpRange { base, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.base.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.base)
        } else {
            write!(f, "{}/{}", self.base, self.prefix)
        }
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IpRange, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn blocks_and_single_addresses() -> Result<(), String> {
        let net: IpRange = "203.0.113.0/24".parse()?;
        assert!(net.contains(ip("203.0.113.200")));
        assert!(!net.contains(ip("203.0.114.1")));
        let one: IpRange = "203.0.113.10".parse()?;
        assert!(one.contains(ip("203.0.113.10")) && !one.contains(ip("203.0.113.11")));
        let odd: IpRange = "40.92.0.0/15".parse()?;
        assert!(odd.contains(ip("40.93.255.1")) && !odd.contains(ip("40.94.0.1")));
        let v6: IpRange = "2a01:111:f403::/49".parse()?;
        assert!(v6.contains(ip("2a01:111:f403:1::5")) && !v6.contains(ip("203.0.113.10")));
        assert_eq!(one.to_string(), "203.0.113.10");
        assert_eq!(net.to_string(), "203.0.113.0/24");
        assert!("203.0.113.0/33".parse::<IpRange>().is_err());
        assert!("printer".parse::<IpRange>().is_err());
        Ok(())
    }
}
