//! A small SPF evaluator (RFC 7208 `check_host`), the lab's own, for what the MX does with
//! direct-send mail. It reads the lab's zones in-process (the same data the lab DNS serves).
//! Supported: `all`, `ip4`, `ip6`, `a`, `mx`, `include`, `exists`, `ptr` (never matches: the lab
//! has no reverse zones), `redirect=`; the 10-lookup limit and the 2-void-lookup limit; more
//! than one SPF record is a permerror. Macros (`%{...}`) are not expanded: such a mechanism
//! never matches. There is no temperror: the look-ups are in-process and cannot time out.

use std::net::IpAddr;

use hickory_server::proto::rr::{RData, RecordType};

use crate::dns::{Answer, Zones};
use crate::scenario::IpRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    PermError,
}

const MAX_LOOKUPS: u32 = 10;
const MAX_VOID_LOOKUPS: u32 = 2;
const MAX_DEPTH: u8 = 12;

/// The SPF result for mail from `domain` arriving from `ip`.
pub(super) fn check_host(zones: &Zones, ip: IpAddr, domain: &str) -> SpfResult {
    Eval {
        zones,
        ip,
        lookups: 0,
        voids: 0,
    }
    .check(domain, 0)
}

struct Eval<'a> {
    zones: &'a Zones,
    ip: IpAddr,
    lookups: u32,
    voids: u32,
}

impl Eval<'_> {
    fn check(&mut self, domain: &str, depth: u8) -> SpfResult {
        if depth > MAX_DEPTH {
            return SpfResult::PermError;
        }
        let records = match self.zones.txt(domain) {
            Ok(records) => records,
            Err(_) => return SpfResult::None,
        };
        let spf: Vec<&String> = records.iter().filter(|r| is_spf(r)).collect();
        let record = match spf.as_slice() {
            [] => return SpfResult::None,
            [one] => *one,
            _ => return SpfResult::PermError,
        };
        let mut redirect = None;
        for term in record.split_ascii_whitespace().skip(1) {
            if let Some((name, value)) = modifier(term) {
                if name.eq_ignore_ascii_case("redirect") {
                    redirect = Some(value.to_string());
                }
                continue;
            }
            let (result, mechanism) = qualifier(term);
            match self.mechanism(mechanism, domain, depth) {
                Ok(true) => return result,
                Ok(false) => {}
                Err(e) => return e,
            }
        }
        match redirect {
            Some(target) => {
                if let Err(e) = self.count() {
                    return e;
                }
                match self.check(&target, depth + 1) {
                    SpfResult::None => SpfResult::PermError,
                    other => other,
                }
            }
            None => SpfResult::Neutral,
        }
    }

    fn mechanism(&mut self, mechanism: &str, domain: &str, depth: u8) -> Result<bool, SpfResult> {
        let lower = mechanism.to_ascii_lowercase();
        let (name, argument) = match lower.find([':', '/']) {
            Some(i) => (&lower[..i], &lower[i..]),
            None => (lower.as_str(), ""),
        };
        let target = argument.strip_prefix(':');
        match name {
            "all" if argument.is_empty() => Ok(true),
            "ip4" | "ip6" => {
                let range: IpRange = target
                    .ok_or(SpfResult::PermError)?
                    .parse()
                    .map_err(|_| SpfResult::PermError)?;
                Ok(range.contains(self.ip))
            }
            "include" => {
                self.count()?;
                let target = target.ok_or(SpfResult::PermError)?;
                if target.contains('%') {
                    return Ok(false);
                }
                match self.check(target, depth + 1) {
                    SpfResult::Pass => Ok(true),
                    SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => Ok(false),
                    SpfResult::PermError | SpfResult::None => Err(SpfResult::PermError),
                }
            }
            "a" | "mx" => {
                self.count()?;
                let (host, v4, v6) = split_cidr(argument, domain)?;
                if host.contains('%') {
                    return Ok(false);
                }
                let hosts = if name == "mx" {
                    self.mx_hosts(&host)?
                } else {
                    vec![host]
                };
                for h in hosts {
                    if self
                        .addresses(&h)?
                        .iter()
                        .any(|a| within(*a, self.ip, v4, v6))
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "exists" => {
                self.count()?;
                let target = target.ok_or(SpfResult::PermError)?;
                Ok(!target.contains('%') && !self.addresses_of(target, RecordType::A)?.is_empty())
            }
            "ptr" => {
                self.count()?;
                Ok(false)
            }
            _ => Err(SpfResult::PermError),
        }
    }

    fn count(&mut self) -> Result<(), SpfResult> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            Err(SpfResult::PermError)
        } else {
            Ok(())
        }
    }

    fn void(&mut self) -> Result<(), SpfResult> {
        self.voids += 1;
        if self.voids > MAX_VOID_LOOKUPS {
            Err(SpfResult::PermError)
        } else {
            Ok(())
        }
    }

    fn mx_hosts(&mut self, domain: &str) -> Result<Vec<String>, SpfResult> {
        match self.zones.lookup(domain, RecordType::MX) {
            Answer::Found(data) => Ok(data
                .iter()
                .filter_map(|d| match d {
                    RData::MX(mx) => Some(mx.exchange.to_ascii()),
                    _ => None,
                })
                .take(10)
                .collect()),
            _ => {
                self.void()?;
                Ok(Vec::new())
            }
        }
    }

    fn addresses(&mut self, host: &str) -> Result<Vec<IpAddr>, SpfResult> {
        let record_type = if self.ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::AAAA
        };
        self.addresses_of(host, record_type)
    }

    fn addresses_of(
        &mut self,
        host: &str,
        record_type: RecordType,
    ) -> Result<Vec<IpAddr>, SpfResult> {
        match self.zones.lookup(host, record_type) {
            Answer::Found(data) => Ok(data
                .iter()
                .filter_map(|d| match d {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })
                .collect()),
            _ => {
                self.void()?;
                Ok(Vec::new())
            }
        }
    }
}

fn is_spf(record: &str) -> bool {
    let lower = record.to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// `name=value` (a modifier), as opposed to a mechanism (`include:x`, `a/24`).
fn modifier(term: &str) -> Option<(&str, &str)> {
    let eq = term.find('=')?;
    let before = &term[..eq];
    (!before.contains([':', '/']) && !before.is_empty()).then(|| (before, &term[eq + 1..]))
}

fn qualifier(term: &str) -> (SpfResult, &str) {
    match term.as_bytes().first() {
        Some(b'+') => (SpfResult::Pass, &term[1..]),
        Some(b'-') => (SpfResult::Fail, &term[1..]),
        Some(b'~') => (SpfResult::SoftFail, &term[1..]),
        Some(b'?') => (SpfResult::Neutral, &term[1..]),
        _ => (SpfResult::Pass, term),
    }
}

/// `[:host][/v4][//v6]` -> (host or the current domain, v4 prefix, v6 prefix).
fn split_cidr(argument: &str, domain: &str) -> Result<(String, u8, u8), SpfResult> {
    let (host_part, cidr) = match argument.find('/') {
        Some(i) => (&argument[..i], &argument[i..]),
        None => (argument, ""),
    };
    let host = host_part
        .strip_prefix(':')
        .filter(|h| !h.is_empty())
        .unwrap_or(domain)
        .to_string();
    let parse = |s: &str, max: u8| {
        s.parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or(SpfResult::PermError)
    };
    let (v4, v6) = match cidr.split_once("//") {
        Some((v4, v6)) => (
            if v4.is_empty() {
                32
            } else {
                parse(v4.trim_start_matches('/'), 32)?
            },
            parse(v6, 128)?,
        ),
        None if cidr.is_empty() => (32, 128),
        None => (parse(&cidr[1..], 32)?, 128),
    };
    Ok((host, v4, v6))
}

fn within(address: IpAddr, ip: IpAddr, v4: u8, v6: u8) -> bool {
    let prefix = if address.is_ipv4() { v4 } else { v6 };
    IpRange::new(address, prefix).is_some_and(|r| r.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Scenario, ScenarioError};

    fn zones(lines: &[&str]) -> Result<Zones, ScenarioError> {
        let mut scenario = Scenario::from_toml_str("name = \"z\"")?;
        scenario.dns.records = lines.iter().map(|l| l.to_string()).collect();
        Zones::from_scenario(&scenario, "test")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn results() -> Result<(), ScenarioError> {
        let z = zones(&[
            "contoso.com. 300 IN TXT \"v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all\"",
            "contoso.com. 300 IN MX 0 mail.contoso.com.",
            "mail.contoso.com. 300 IN A 198.51.100.7",
            "soft.contoso.com. 300 IN TXT \"v=spf1 mx a:mail.contoso.com/24 ~all\"",
            "two.contoso.com. 300 IN TXT \"v=spf1 -all\"",
            "two.contoso.com. 300 IN TXT \"v=spf1 +all\"",
            "redir.contoso.com. 300 IN TXT \"v=spf1 redirect=contoso.com\"",
            "deep.contoso.com. 300 IN TXT \"v=spf1 include:l1.contoso.com include:l2.contoso.com include:l3.contoso.com include:l4.contoso.com include:l5.contoso.com include:l6.contoso.com -all\"",
            "l1.contoso.com. 300 IN TXT \"v=spf1 include:l2.contoso.com ?all\"",
            "l2.contoso.com. 300 IN TXT \"v=spf1 include:l3.contoso.com ?all\"",
            "l3.contoso.com. 300 IN TXT \"v=spf1 ?all\"",
            "l4.contoso.com. 300 IN TXT \"v=spf1 ?all\"",
            "l5.contoso.com. 300 IN TXT \"v=spf1 ?all\"",
            "l6.contoso.com. 300 IN TXT \"v=spf1 ip4:203.0.113.10 ?all\"",
        ])?;
        assert_eq!(
            check_host(&z, ip("203.0.113.10"), "contoso.com"),
            SpfResult::Pass
        );
        assert_eq!(
            check_host(&z, ip("40.92.1.1"), "contoso.com"),
            SpfResult::Pass,
            "via Microsoft's include"
        );
        assert_eq!(
            check_host(&z, ip("203.0.113.20"), "contoso.com"),
            SpfResult::Fail
        );
        assert_eq!(
            check_host(&z, ip("198.51.100.200"), "soft.contoso.com"),
            SpfResult::Pass,
            "a:/24"
        );
        assert_eq!(
            check_host(&z, ip("192.0.2.1"), "soft.contoso.com"),
            SpfResult::SoftFail
        );
        assert_eq!(
            check_host(&z, ip("192.0.2.1"), "two.contoso.com"),
            SpfResult::PermError
        );
        assert_eq!(
            check_host(&z, ip("203.0.113.20"), "redir.contoso.com"),
            SpfResult::Fail
        );
        assert_eq!(
            check_host(&z, ip("192.0.2.1"), "fabrikam.com"),
            SpfResult::None
        );
        // 6 includes + 2 + 1 nested ones = 9 lookups: fine; the 11th lookup is a permerror.
        assert_eq!(
            check_host(&z, ip("203.0.113.10"), "deep.contoso.com"),
            SpfResult::Pass
        );
        let z = zones(&[
            "contoso.com. 300 IN TXT \"v=spf1 include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com ip4:203.0.113.10 -all\"",
            "l1.contoso.com. 300 IN TXT \"v=spf1 include:l2.contoso.com ?all\"",
            "l2.contoso.com. 300 IN TXT \"v=spf1 ?all\"",
        ])?;
        assert_eq!(
            check_host(&z, ip("203.0.113.10"), "contoso.com"),
            SpfResult::Pass,
            "8 lookups"
        );
        let z = zones(&[
            "contoso.com. 300 IN TXT \"v=spf1 include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com include:l1.contoso.com ip4:203.0.113.10 -all\"",
            "l1.contoso.com. 300 IN TXT \"v=spf1 include:l2.contoso.com ?all\"",
            "l2.contoso.com. 300 IN TXT \"v=spf1 ?all\"",
        ])?;
        assert_eq!(
            check_host(&z, ip("203.0.113.10"), "contoso.com"),
            SpfResult::PermError,
            "12 lookups"
        );
        Ok(())
    }
}
