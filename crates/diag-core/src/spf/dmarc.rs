//! DMARC policy discovery (RFC 7489 §6.6.3), beside SPF because it shares the session and cache:
//! the TXT record at `_dmarc.<domain>`, else at `_dmarc.<parent>` walking up to a two-label name
//! (the organizational domain without a public-suffix list; a registry suffix such as `co.uk`
//! publishes none, so the extra question is harmless).
use super::{parse::printable, session::Session};
use crate::net::dns::{Answer, DnsClient, Failure};

/// How many names the walk asks at most.
const MAX_NAMES: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dmarc {
    /// The record that applies to the domain.
    Found {
        /// Where it was found (`_dmarc.contoso.com`).
        name: String,
        record: String,
        /// The policy for this domain: `p=`, or `sp=` when the record is a parent's.
        policy: Option<String>,
    },
    /// No DMARC record for the domain or its parents.
    Missing,
    /// More than one record at one name: DMARC is not applied (RFC 7489 §6.6.3).
    Multiple { name: String, count: usize },
    /// A lookup gave no usable answer.
    Failed { name: String, failure: Failure },
}

impl Dmarc {
    /// For evidence: `p=reject at _dmarc.contoso.com`, `none`, ...
    pub fn describe(&self) -> String {
        match self {
            Dmarc::Found { name, policy, .. } => {
                format!(
                    "p={} at {name}",
                    policy.as_deref().unwrap_or("(none given)")
                )
            }
            Dmarc::Missing => "no DMARC record".into(),
            Dmarc::Multiple { name, count } => {
                format!("{count} DMARC records at {name}: DMARC is not applied")
            }
            Dmarc::Failed { name, failure } => format!("TXT {name}: {failure}"),
        }
    }
}

/// Looks up the DMARC policy of `domain`.
pub async fn lookup<C: DnsClient>(session: &Session<C>, domain: &str) -> Dmarc {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    for skip in 0..labels.len().saturating_sub(1).min(MAX_NAMES) {
        let name = format!("_dmarc.{}", labels[skip..].join("."));
        let records = match session.txt(&name).await {
            Answer::Records(r) => r,
            Answer::NoData | Answer::NxDomain => continue,
            Answer::Failed(failure) => return Dmarc::Failed { name, failure },
        };
        let dmarc: Vec<Vec<u8>> = records
            .iter()
            .map(|t| t.joined())
            .filter(|t| is_dmarc(t))
            .collect();
        match dmarc.as_slice() {
            [] => continue,
            [one] => {
                let record = printable(one, 1024);
                let tag = if skip == 0 { "p" } else { "sp" };
                let policy = tag_value(&record, tag).or_else(|| tag_value(&record, "p"));
                return Dmarc::Found {
                    name,
                    record,
                    policy,
                };
            }
            many => {
                return Dmarc::Multiple {
                    name,
                    count: many.len(),
                };
            }
        }
    }
    Dmarc::Missing
}

/// `v=DMARC1` first, then `;` or the end (RFC 7489 §6.4: the version tag must match exactly).
fn is_dmarc(txt: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(txt) else {
        return false;
    };
    let first = s.split(';').next().unwrap_or_default();
    let Some((k, v)) = first.split_once('=') else {
        return false;
    };
    k.trim() == "v" && v.trim() == "DMARC1"
}

/// The value of `tag` (`p`, `sp`), lowercase.
fn tag_value(record: &str, tag: &str) -> Option<String> {
    record
        .split(';')
        .filter_map(|t| t.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case(tag))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_dmarc_records_and_tags() {
        assert!(is_dmarc(b"v=DMARC1; p=reject"));
        assert!(is_dmarc(b"v=DMARC1"));
        assert!(is_dmarc(b"v = DMARC1 ;p=none"));
        assert!(!is_dmarc(b"v=spf1 -all"));
        assert!(!is_dmarc(b"p=reject; v=DMARC1"));
        assert!(!is_dmarc(b"v=DMARC10; p=none"));
        assert_eq!(
            tag_value("v=DMARC1; p=Quarantine; sp=none", "p").as_deref(),
            Some("quarantine")
        );
        assert_eq!(
            tag_value("v=DMARC1; p=reject; sp=none", "sp").as_deref(),
            Some("none")
        );
        assert_eq!(tag_value("v=DMARC1; rua=mailto:x@contoso.com", "p"), None);
    }
}
