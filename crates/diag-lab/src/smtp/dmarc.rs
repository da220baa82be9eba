//! The DMARC policy of a From domain (RFC 7489 §6.6.3, simplified): `_dmarc.<domain>`, else
//! the organisational domain's record (its `sp=` when present). The lab has no DKIM, so DMARC
//! passes only through an aligned SPF pass.

use crate::dns::Zones;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    None,
    Quarantine,
    Reject,
}

/// The policy applying to mail from `domain`, None when no record is published.
pub(super) fn policy(zones: &Zones, domain: &str) -> Option<Policy> {
    if let Some(tags) = record(zones, domain) {
        return tag(&tags, "p");
    }
    let org = organisational(domain);
    if org == domain {
        return None;
    }
    let tags = record(zones, &org)?;
    tag(&tags, "sp").or_else(|| tag(&tags, "p"))
}

/// Relaxed alignment: the same organisational domain.
pub(super) fn aligned(a: &str, b: &str) -> bool {
    organisational(a).eq_ignore_ascii_case(&organisational(b))
}

/// The last two labels (the lab does not use the public suffix list).
fn organisational(domain: &str) -> String {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    labels[labels.len().saturating_sub(2)..]
        .join(".")
        .to_ascii_lowercase()
}

fn record(zones: &Zones, domain: &str) -> Option<Vec<(String, String)>> {
    let records = zones.txt(&format!("_dmarc.{domain}")).ok()?;
    let dmarc: Vec<&String> = records
        .iter()
        .filter(|r| r.trim_start().to_ascii_lowercase().starts_with("v=dmarc1"))
        .collect();
    let [one] = dmarc.as_slice() else {
        return None;
    };
    Some(
        one.split(';')
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase()))
            .collect(),
    )
}

fn tag(tags: &[(String, String)], name: &str) -> Option<Policy> {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| match v.as_str() {
            "reject" => Policy::Reject,
            "quarantine" => Policy::Quarantine,
            _ => Policy::None,
        })
}
