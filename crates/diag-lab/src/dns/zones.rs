//! Turning the scenario's zone-file lines into zones: which apex each record belongs to, the
//! SOA/NS every zone needs, and an in-process look-up over the same data.
//!
//! Zone apexes: a record belongs to the longest tenant domain it sits under, else to its last
//! two labels (`spf.protection.outlook.com` -> `outlook.com`). Each top-level domain in use is
//! also served as an empty zone, so a domain the scenario never mentions (`fabrikam.com`) is
//! NXDOMAIN, as on the Internet, rather than REFUSED. Lines are parsed one by one with hickory's
//! zone parser; parentheses are refused because that parser splits quoted TXT strings inside
//! them (shared/reference/crates-and-peers.md, hickory-server caveat).

use std::collections::{BTreeMap, HashMap, HashSet};

use hickory_server::proto::rr::rdata::{NS, SOA, TXT};
use hickory_server::proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_server::proto::serialize::txt::Parser;

use crate::scenario::{Scenario, ScenarioError};

/// Microsoft's SPF include. The scenario may define it; otherwise the lab serves this value
/// (Microsoft's published ranges, none of which is a TEST-NET site address) so that
/// `include:spf.protection.outlook.com` resolves as it does on the Internet.
pub(crate) const MICROSOFT_SPF_NAME: &str = "spf.protection.outlook.com.";
const MICROSOFT_SPF: &str = "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip4:52.102.0.0/16 ip4:52.103.0.0/16 ip4:104.47.0.0/17 ip6:2a01:111:f400::/48 ip6:2a01:111:f403::/49 ip6:2a01:111:f403:8000::/51 ip6:2a01:111:f403:c000::/51 ip6:2a01:111:f403:f000::/52 -all";

const LAB_NAMESERVER: &str = "ns1.xdiag-lab.invalid.";
/// SOA minimum: the negative-caching TTL of NXDOMAIN / NODATA answers.
const NEGATIVE_TTL: u32 = 300;

/// The zones of a scenario.
pub(crate) struct Zones {
    /// Apex -> every record of the zone (SOA first).
    zones: BTreeMap<Name, Vec<Record>>,
    /// (owner, type) -> data, owners in lowercase with the final dot.
    index: HashMap<(String, RecordType), Vec<RData>>,
    /// Names that exist: owners and their ancestors up to the apex (empty non-terminals).
    names: HashSet<String>,
}

/// The answer to an in-process look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Found(Vec<RData>),
    /// The name exists without records of that type.
    NoData,
    /// The lab owns the zone and the name does not exist.
    NxDomain,
    /// Outside every zone the lab serves.
    Refused,
}

impl Zones {
    /// Parses `[dns] records`. Errors name the line (`dns.records[i]`).
    pub fn from_scenario(scenario: &Scenario, origin: &str) -> Result<Zones, ScenarioError> {
        let mut records = Vec::new();
        for (i, line) in scenario.dns.records.iter().enumerate() {
            let parsed = parse_line(line).map_err(|message| ScenarioError::Invalid {
                origin: origin.to_string(),
                key: format!("dns.records[{i}]"),
                message,
            })?;
            records.extend(parsed);
        }
        let microsoft_spf = name(MICROSOFT_SPF_NAME);
        if !records
            .iter()
            .any(|r| r.name.to_lowercase() == microsoft_spf)
        {
            let txt = RData::TXT(TXT::new(vec![MICROSOFT_SPF.to_string()]));
            records.push(Record::from_rdata(microsoft_spf, 3600, txt));
        }
        let tenant_domains: Vec<Name> = scenario
            .tenant
            .domains
            .iter()
            .map(|d| name(&format!("{d}.")))
            .collect();
        Ok(Zones::build(records, &tenant_domains))
    }

    fn build(records: Vec<Record>, tenant_domains: &[Name]) -> Zones {
        let mut zones: BTreeMap<Name, Vec<Record>> = BTreeMap::new();
        for record in records {
            let apex = apex_of(&record.name.to_lowercase(), tenant_domains);
            zones.entry(apex).or_default().push(record);
        }
        let tlds: Vec<Name> = zones
            .keys()
            .filter(|a| a.num_labels() > 1)
            .map(|a| a.trim_to(1))
            .collect();
        for tld in tlds {
            zones.entry(tld).or_default();
        }
        for (apex, list) in zones.iter_mut() {
            if !list
                .iter()
                .any(|r| r.record_type() == RecordType::SOA && r.name.to_lowercase() == *apex)
            {
                list.insert(
                    0,
                    Record::from_rdata(apex.clone(), 3600, RData::SOA(soa(apex))),
                );
            }
            if !list
                .iter()
                .any(|r| r.record_type() == RecordType::NS && r.name.to_lowercase() == *apex)
            {
                list.push(Record::from_rdata(
                    apex.clone(),
                    3600,
                    RData::NS(NS(name(LAB_NAMESERVER))),
                ));
            }
        }
        let mut index: HashMap<(String, RecordType), Vec<RData>> = HashMap::new();
        let mut names = HashSet::new();
        for (apex, list) in &zones {
            for record in list {
                let owner = record.name.to_lowercase();
                index
                    .entry((key(&owner), record.record_type()))
                    .or_default()
                    .push(record.data.clone());
                let mut n = owner;
                while n.num_labels() >= apex.num_labels() && names.insert(key(&n)) && n != *apex {
                    n = n.base_name();
                }
            }
        }
        Zones {
            zones,
            index,
            names,
        }
    }

    /// Every zone: apex and records, SOA first.
    pub fn zones(&self) -> impl Iterator<Item = (&Name, &Vec<Record>)> {
        self.zones.iter()
    }

    /// Looks `owner` (any case, final dot optional) up as the served zones answer it.
    pub fn lookup(&self, owner: &str, record_type: RecordType) -> Answer {
        let Ok(owner) = Name::from_ascii(format!("{}.", owner.trim_end_matches('.'))) else {
            return Answer::Refused;
        };
        let owner = owner.to_lowercase();
        if !self.zones.keys().any(|apex| apex.zone_of(&owner)) {
            return Answer::Refused;
        }
        match self.index.get(&(key(&owner), record_type)) {
            Some(data) => Answer::Found(data.clone()),
            None if self.names.contains(&key(&owner)) => Answer::NoData,
            None => Answer::NxDomain,
        }
    }

    /// The TXT records at `owner`, each as its strings joined (RFC 7208 §3.3), or the negative
    /// answer.
    pub fn txt(&self, owner: &str) -> Result<Vec<String>, Answer> {
        match self.lookup(owner, RecordType::TXT) {
            Answer::Found(data) => Ok(data
                .iter()
                .filter_map(|d| match d {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            other => Err(other),
        }
    }
}

fn parse_line(line: &str) -> Result<Vec<Record>, String> {
    let line = line.trim();
    if line.starts_with('$') {
        return Err("zone-file directives ($ORIGIN, $TTL, $INCLUDE) are not allowed: write one record per line with its full name and TTL".into());
    }
    if has_unquoted_parenthesis(line) {
        return Err(
            "write the record on one line without parentheses (TXT strings as \"part1\" \"part2\")"
                .into(),
        );
    }
    let parser = Parser::new(line, None, Some(Name::root()));
    let (_, sets) = parser
        .parse()
        .map_err(|e| format!("`{line}` is not a zone-file record: {e}"))?;
    let records: Vec<Record> = sets
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .collect();
    if records.is_empty() {
        return Err(format!("`{line}` holds no record"));
    }
    if records.iter().any(|r| r.dns_class != DNSClass::IN) {
        return Err(format!("`{line}`: only class IN is served"));
    }
    if records.iter().any(|r| r.name.is_root()) {
        return Err(format!("`{line}`: the root zone is not served"));
    }
    Ok(records)
}

fn has_unquoted_parenthesis(line: &str) -> bool {
    let mut quoted = false;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' | ')' if !quoted => return true,
            ';' if !quoted => return false,
            _ => {}
        }
    }
    false
}

/// The longest tenant domain above `owner`, else its last two labels.
fn apex_of(owner: &Name, tenant_domains: &[Name]) -> Name {
    tenant_domains
        .iter()
        .filter(|d| d.zone_of(owner))
        .max_by_key(|d| d.num_labels())
        .cloned()
        .unwrap_or_else(|| {
            if owner.num_labels() > 2 {
                owner.trim_to(2)
            } else {
                owner.clone()
            }
        })
}

fn soa(apex: &Name) -> SOA {
    let hostmaster = Name::from_ascii("hostmaster")
        .ok()
        .and_then(|h| h.append_domain(apex).ok())
        .unwrap_or_else(Name::root);
    SOA::new(
        name(LAB_NAMESERVER),
        hostmaster,
        1,
        3600,
        600,
        86400,
        NEGATIVE_TTL,
    )
}

/// A fully qualified, lowercase name (the constants above are valid names).
fn name(text: &str) -> Name {
    Name::from_ascii(text)
        .map(|n| n.to_lowercase())
        .unwrap_or_else(|_| Name::root())
}

fn key(name: &Name) -> String {
    let mut text = name.to_ascii().to_ascii_lowercase();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(lines: &[&str]) -> Result<Zones, ScenarioError> {
        let mut scenario = Scenario::from_toml_str("name = \"z\"")?;
        scenario.dns.records = lines.iter().map(|l| l.to_string()).collect();
        Zones::from_scenario(&scenario, "test")
    }

    #[test]
    fn apexes_negative_answers_and_txt() -> Result<(), ScenarioError> {
        let z = zones(&[
            "contoso.com. 3600 IN MX 0 contoso-com.mail.protection.outlook.com.",
            "contoso.com. 3600 IN TXT \"v=spf1 ip4:203.0.113.10 \" \"include:spf.protection.outlook.com -all\"",
            "a.b.contoso.com. 3600 IN A 203.0.113.5",
        ])?;
        let apexes: Vec<String> = z.zones().map(|(a, _)| a.to_ascii()).collect();
        assert_eq!(apexes, vec!["com.", "contoso.com.", "outlook.com."]);
        assert_eq!(
            z.txt("contoso.com"),
            Ok(vec![
                "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all".to_string()
            ])
        );
        assert_eq!(z.lookup("Contoso.COM.", RecordType::AAAA), Answer::NoData);
        assert_eq!(
            z.lookup("b.contoso.com", RecordType::A),
            Answer::NoData,
            "empty non-terminal exists"
        );
        assert_eq!(
            z.lookup("_dmarc.contoso.com", RecordType::TXT),
            Answer::NxDomain
        );
        assert_eq!(z.lookup("fabrikam.com", RecordType::MX), Answer::NxDomain);
        assert_eq!(z.lookup("example.org", RecordType::MX), Answer::Refused);
        assert!(
            matches!(z.txt(MICROSOFT_SPF_NAME), Ok(v) if v[0].starts_with("v=spf1 ip4:40.92.0.0/15"))
        );
        Ok(())
    }

    #[test]
    fn bad_lines_are_named() {
        for (line, needle) in [
            ("$INCLUDE /etc/passwd", "directives"),
            (
                "contoso.com. 300 IN TXT ( \"v=spf1\" \"-all\" )",
                "parentheses",
            ),
            (
                "contoso.com. 300 IN MX zero mx.contoso.com.",
                "not a zone-file record",
            ),
        ] {
            let e = zones(&[line])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                e.contains("dns.records[0]") && e.contains(needle),
                "{line}: {e}"
            );
        }
        assert!(zones(&["contoso.com. 300 IN TXT \"a (b) c\""]).is_ok());
    }
}
