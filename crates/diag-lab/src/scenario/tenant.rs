//! `[tenant]`: the organisation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tenant {
    /// Directory (tenant) ID, a GUID.
    pub id: String,
    /// Organisation display name (appears in some AADSTS texts).
    pub name: String,
    /// Verified domains. The token endpoint accepts any of them in place of the GUID.
    pub domains: Vec<String>,
    /// `Set-TransportConfig -SmtpClientAuthenticationDisabled`: organisation-wide SMTP AUTH off.
    pub smtp_auth_disabled: bool,
    pub security_defaults: bool,
    /// Basic `AUTH LOGIN` still accepted on client submission.
    pub basic_auth_smtp: bool,
    pub reject_direct_send: bool,
    /// Exchange Online resource present in the tenant (else AADSTS500011 for its scope).
    pub exchange_online: bool,
    /// Conditional Access blocks: client ids, user addresses, or `"device-code"` (the
    /// authentication-flows policy that blocks the device code flow).
    pub conditional_access_block: Vec<String>,
}

impl Default for Tenant {
    fn default() -> Self {
        Tenant {
            id: "11111111-2222-3333-4444-555555555555".into(),
            name: "Contoso".into(),
            domains: vec!["contoso.com".into()],
            smtp_auth_disabled: false,
            security_defaults: false,
            basic_auth_smtp: false,
            reject_direct_send: false,
            exchange_online: true,
            conditional_access_block: Vec::new(),
        }
    }
}

impl Tenant {
    /// True when `name` (a GUID or a domain, any case) designates this tenant.
    pub fn is_named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.id)
            || self.domains.iter().any(|d| d.eq_ignore_ascii_case(name))
    }
}
