//! Errors from starting or running the lab.

use crate::scenario::ScenarioError;

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Key or certificate generation failed.
    #[error("lab key or certificate generation failed: {0}")]
    Crypto(String),
    /// A loopback port could not be bound.
    #[error("lab could not open {what}: {source}")]
    Bind {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl LabError {
    pub(crate) fn crypto(e: impl std::fmt::Display) -> LabError {
        LabError::Crypto(e.to_string())
    }
}
