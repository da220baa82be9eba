//! The running tenant: the scenario plus what was generated at start, and the directory
//! look-ups every endpoint shares.

use chrono::{DateTime, Utc};
use rsa::RsaPublicKey;

use crate::crypto::rsa_key::RsaKey;
use crate::entra::device_code::DeviceFlows;
use crate::ids;
use crate::outbox::Outbox;
use crate::plans;
use crate::scenario::{App, Scenario, User, UserKind};

pub(crate) struct LabState {
    pub scenario: Scenario,
    pub signing: SigningKey,
    /// Certificate credentials per app, in `scenario.apps` order.
    pub app_certificates: Vec<Vec<CertCredential>>,
    pub device_flows: DeviceFlows,
    pub outbox: Outbox,
    /// `https://localhost:PORT` of the login host (for discovery documents).
    pub login_base: String,
}

/// The token-signing key as published in the JWKS.
pub(crate) struct SigningKey {
    pub key: RsaKey,
    /// `kid` = `x5t` = base64url SHA-1 of the certificate, as Entra does.
    pub kid: String,
    /// The certificate, standard base64 DER (JWKS `x5c`).
    pub x5c: String,
}

/// A certificate uploaded to an app.
pub(crate) struct CertCredential {
    pub x5t: String,
    pub public: Option<RsaPublicKey>,
    pub expires: DateTime<Utc>,
}

impl LabState {
    pub fn tenant_id(&self) -> &str {
        &self.scenario.tenant.id
    }

    /// The app registered under `client_id` (any case), with its index.
    pub fn app(&self, client_id: &str) -> Option<(usize, &App)> {
        self.scenario
            .apps
            .iter()
            .enumerate()
            .find(|(_, a)| a.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The enterprise application's object id (`oid` of app-only tokens).
    pub fn service_principal_id(app: &App) -> String {
        app.object_id
            .clone()
            .unwrap_or_else(|| ids::derived(&format!("sp:{}", app.client_id.to_ascii_lowercase())))
    }

    pub fn user_id(user: &User) -> String {
        user.id
            .clone()
            .unwrap_or_else(|| ids::derived(&format!("user:{}", user.upn().to_ascii_lowercase())))
    }

    /// Directory look-up as `/users/{id | userPrincipalName}` does it: object id or UPN only.
    pub fn directory_user(&self, key: &str) -> Option<&User> {
        self.scenario.users.iter().find(|u| {
            u.upn().eq_ignore_ascii_case(key) || Self::user_id(u).eq_ignore_ascii_case(key)
        })
    }

    /// Exchange-side resolution (sendMail, mailboxSettings, SMTP): object id, UPN or any SMTP
    /// address of the mailbox.
    pub fn mailbox_user(&self, key: &str) -> Option<&User> {
        self.scenario
            .users
            .iter()
            .find(|u| u.has_address(key) || Self::user_id(u).eq_ignore_ascii_case(key))
    }

    /// Whether the user has a mailbox in Exchange Online: shared mailboxes do (no licence
    /// needed); members need an active plan that gives a mailbox (reference §8); on-premises and
    /// guest users have none in the cloud.
    pub fn has_cloud_mailbox(&self, user: &User) -> bool {
        if !self.scenario.tenant.exchange_online {
            return false;
        }
        match user.kind {
            UserKind::Shared => true,
            UserKind::OnPremises | UserKind::Guest => false,
            UserKind::User => {
                user.plan_status.is_active()
                    && user
                        .plans
                        .iter()
                        .any(|p| plans::find(p).is_some_and(|p| p.gives_mailbox))
            }
        }
    }

    /// Conditional Access: blocked when the list names the client id, the user, or (for the
    /// device code flow) `device-code`.
    pub fn blocked_by_conditional_access(
        &self,
        client_id: &str,
        user: Option<&User>,
        device_code: bool,
    ) -> bool {
        self.scenario
            .tenant
            .conditional_access_block
            .iter()
            .any(|entry| {
                entry.eq_ignore_ascii_case(client_id)
                    || (device_code && entry.eq_ignore_ascii_case("device-code"))
                    || user.is_some_and(|u| u.has_address(entry))
            })
    }
}
