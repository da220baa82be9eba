//! The scenario model: the state of a simulated tenant, read from TOML.
//!
//! A scenario describes **state** (tenant, apps, users, DNS, network, TLS, and what the
//! technician enters on the device), never the expected diagnosis. Every key is documented in
//! `crates/diag-lab/scenarios/README.md`. Unknown keys are refused so that a typo in a scenario
//! file is an error, not a silently healthy tenant.

mod app;
mod builtin;
mod connector;
mod device;
mod ip_range;
mod network;
mod tenant;
mod time;
mod user;
mod validate;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use app::{App, AppCertificate, GeneratedCertificate, Secret};
pub use connector::Connector;
pub use device::{Device, DeviceCodeOutcome, DeviceTlsCiphers, DeviceTlsVersion, Method};
pub use ip_range::IpRange;
pub use network::{Dns, Network, TlsSettings, TlsVersion, TokenEndpointState};
pub use tenant::Tenant;
pub use user::{PlanStatus, SmtpAuth, User, UserKind};

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Kebab-case name; defaults to the file stem when read from a file.
    #[serde(default)]
    pub name: String,
    /// One line saying what state this is.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tenant: Tenant,
    /// `[[app]]` tables: app registrations (and their service principals) in the tenant.
    #[serde(default, rename = "app")]
    pub apps: Vec<App>,
    /// `[[user]]` tables: directory users and their mailboxes.
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    /// `[[connector]]` tables: inbound connectors from the organisation's own mail servers.
    #[serde(default, rename = "connector")]
    pub connectors: Vec<Connector>,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub tls: TlsSettings,
    /// What the technician enters on the device: xdiag's inputs for this run.
    #[serde(default)]
    pub device: Device,
}

/// Why a scenario could not be loaded. Every variant names where the scenario came from.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("scenario {origin} is not valid TOML for a lab scenario: {detail}")]
    Parse { origin: String, detail: String },
    #[error("scenario {origin}: key `{key}`: {message}")]
    Invalid {
        origin: String,
        key: String,
        message: String,
    },
}

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        Self::parse_named(text, "<string>")
    }

    /// Reads, parses and validates a scenario file. A missing `name` becomes the file stem.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: origin.clone(),
            source,
        })?;
        let mut scenario = Self::parse_text(&text, &origin)?;
        if scenario.name.is_empty() {
            scenario.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        validate::validate(&scenario, &origin)?;
        Ok(scenario)
    }

    /// A built-in scenario by its kebab-case name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        let (_, text) = builtin::FILES.iter().find(|(n, _)| *n == name)?;
        // The built-in files are tested to parse; a failure here would be a build defect.
        Self::parse_named(text, &format!("built-in {name}")).ok()
    }

    /// Every built-in scenario as (name, description), in a stable order.
    pub fn builtin_list() -> Vec<(String, String)> {
        builtin::FILES
            .iter()
            .filter_map(|(name, _)| Scenario::builtin(name))
            .map(|s| (s.name, s.description))
            .collect()
    }

    /// Checks the cross-field rules again (GUIDs, permission names, unique ids...). Useful after
    /// editing a parsed scenario in code; `Lab::start` calls it.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        validate::validate(self, &format!("`{}`", self.name))
    }

    fn parse_named(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let scenario = Self::parse_text(text, origin)?;
        validate::validate(&scenario, origin)?;
        Ok(scenario)
    }

    /// TOML to a scenario, with the defaults that depend on other keys filled in.
    fn parse_text(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let parse_error = |e: toml::de::Error| ScenarioError::Parse {
            origin: origin.to_string(),
            detail: e.to_string(),
        };
        let mut scenario: Scenario = toml::from_str(text).map_err(parse_error)?;
        let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let records_given = table
            .get("dns")
            .and_then(|dns| dns.as_table())
            .is_some_and(|dns| dns.contains_key("records"));
        if !records_given {
            scenario.dns.records = network::default_records(&scenario.tenant.domains);
        }
        Ok(scenario)
    }
}

/// The raw TOML text of a built-in scenario (for `xdiag lab --show NAME` or copying as a
/// starting point).
pub fn builtin_source(name: &str) -> Option<&'static str> {
    builtin::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
