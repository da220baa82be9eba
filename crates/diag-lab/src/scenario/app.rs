//! `[[app]]`: an app registration with its enterprise application (service principal).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct App {
    /// Application (client) ID.
    pub client_id: String,
    /// Display name (used in AADSTS texts such as 7000112).
    pub display_name: String,
    /// Object ID of the enterprise application (service principal): the `oid` of app-only
    /// tokens. Derived from the client id when absent.
    pub object_id: Option<String>,
    /// Enterprise application "Enabled for users to sign in".
    pub enabled: bool,
    /// "Allow public client flows".
    pub public_client: bool,
    pub secrets: Vec<Secret>,
    pub certificates: Vec<AppCertificate>,
    /// `resource:Permission`, resource `graph` or `exchange`, e.g. `exchange:SMTP.SendAsApp`.
    pub application_permissions: Vec<String>,
    pub delegated_permissions: Vec<String>,
    /// Admin consent granted for the permissions above.
    pub admin_consent: bool,
    /// `New-ServicePrincipal` done in Exchange Online.
    pub exchange_service_principal: bool,
    /// Mailboxes the Exchange service principal has FullAccess to.
    pub mailbox_access: Vec<String>,
    /// Non-empty: an Application Access Policy limits Graph mailbox access to these addresses.
    pub graph_mailbox_scope: Vec<String>,
}

impl Default for App {
    fn default() -> Self {
        App {
            client_id: String::new(),
            display_name: "Scan to Email".into(),
            object_id: None,
            enabled: true,
            public_client: false,
            secrets: Vec::new(),
            certificates: Vec::new(),
            application_permissions: Vec::new(),
            delegated_permissions: Vec::new(),
            admin_consent: true,
            // The spec's example has it done; a scenario about a missing one says so.
            exchange_service_principal: true,
            mailbox_access: Vec::new(),
            graph_mailbox_scope: Vec::new(),
        }
    }
}

impl App {
    /// Permissions of one kind for one resource prefix (`graph` / `exchange`), without prefix.
    pub fn permissions_for<'a>(
        list: &'a [String],
        resource: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        list.iter().filter_map(move |p| {
            let (r, name) = p.split_once(':')?;
            r.eq_ignore_ascii_case(resource).then_some(name)
        })
    }
}

/// A client secret. `id` is the Secret ID the portal shows beside the value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    pub id: String,
    pub value: String,
    #[serde(
        default,
        deserialize_with = "super::time::deserialize_opt",
        serialize_with = "super::time::serialize_opt"
    )]
    pub expires: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("id", &self.id)
            .field("value", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// A certificate credential uploaded to the app. Either a real PEM (`public_pem`) or one the
/// lab generates at start (`generated`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppCertificate {
    /// SHA-1 thumbprint in hex, as the portal shows it. Informational; the lab computes it.
    pub thumbprint: Option<String>,
    /// The uploaded certificate, PEM.
    pub public_pem: Option<String>,
    /// End date of the credential (defaults to the certificate's own notAfter).
    #[serde(
        deserialize_with = "super::time::deserialize_opt",
        serialize_with = "super::time::serialize_opt"
    )]
    pub expires: Option<DateTime<Utc>>,
    /// `device`: the certificate the lab generates for the device (they match);
    /// `unrelated`: another generated certificate (the device's key does not match it).
    pub generated: Option<GeneratedCertificate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratedCertificate {
    Device,
    Unrelated,
}
