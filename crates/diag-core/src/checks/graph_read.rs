//! Reading the user lookups the context fetched: a parsed answer, a classified Graph error, or
//! the reason the read told nothing.
use super::context::GraphFetch;
use crate::{
    classify::graph::{self, GraphError, GraphOp},
    finding::Evidence,
    net::HttpReply,
    rules::RuleId,
};

/// What one Graph read came to.
pub(crate) enum Read<'a> {
    Ok(&'a HttpReply),
    /// Graph answered with an error xdiag knows.
    Rule {
        rule: RuleId,
        evidence: Vec<Evidence>,
    },
    /// No conclusion: why, for evidence.
    Inconclusive(String),
}

pub(crate) fn read(fetch: &GraphFetch, op: GraphOp) -> Read<'_> {
    match fetch {
        GraphFetch::Reply(r) if r.is_success() => Read::Ok(r),
        GraphFetch::Reply(r) => {
            let err = GraphError::parse(&r.body);
            let mut evidence = vec![Evidence::new("http_status", r.status.to_string())];
            if let Some(e) = &err {
                evidence.extend(e.evidence());
            }
            if let Some(ra) = &r.retry_after {
                evidence.push(Evidence::new("retry_after", ra));
            }
            match graph::classify(r.status, err.as_ref(), op) {
                Some(rule) => Read::Rule { rule, evidence },
                None => Read::Inconclusive(format!("Graph answered {}", r.shape())),
            }
        }
        GraphFetch::Net(e) => {
            Read::Inconclusive(format!("Graph could not be reached: {}", e.describe()))
        }
        GraphFetch::NoToken => Read::Inconclusive("there is no Graph token to read with".into()),
        GraphFetch::NoMailbox => Read::Inconclusive("no sending mailbox was given".into()),
    }
}
