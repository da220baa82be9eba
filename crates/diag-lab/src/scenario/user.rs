//! `[[user]]`: a directory user and (maybe) its mailbox.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct User {
    /// Primary SMTP address (Graph `mail`).
    pub address: String,
    /// User principal name; defaults to `address`.
    pub upn: Option<String>,
    /// Object ID; derived from the address when absent.
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// Other SMTP (proxy) addresses of the mailbox.
    pub aliases: Vec<String>,
    pub kind: UserKind,
    /// `accountEnabled` (sign-in allowed).
    pub enabled: bool,
    /// Service plan names assigned (e.g. `EXCHANGE_S_STANDARD`); `[]` = unlicensed.
    pub plans: Vec<String>,
    /// `capabilityStatus` of every assigned plan.
    pub plan_status: PlanStatus,
    /// Per-mailbox SMTP AUTH switch (`Set-CASMailbox -SmtpClientAuthenticationDisabled`).
    pub smtp_auth: SmtpAuth,
    /// Other addresses this user may send as.
    pub send_as: Vec<String>,
    /// Per-user MFA or a CA policy requiring MFA for this user.
    pub mfa_required: bool,
    /// Password, for password-based flows (Basic SMTP AUTH, ROPC). Absent: no password works.
    pub password: Option<String>,
}

impl Default for User {
    fn default() -> Self {
        User {
            address: String::new(),
            upn: None,
            id: None,
            display_name: None,
            aliases: Vec::new(),
            kind: UserKind::User,
            enabled: true,
            plans: Vec::new(),
            plan_status: PlanStatus::Enabled,
            smtp_auth: SmtpAuth::Default,
            send_as: Vec::new(),
            mfa_required: false,
            password: None,
        }
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("address", &self.address)
            .field("upn", &self.upn)
            .field("id", &self.id)
            .field("aliases", &self.aliases)
            .field("kind", &self.kind)
            .field("enabled", &self.enabled)
            .field("plans", &self.plans)
            .field("plan_status", &self.plan_status)
            .field("smtp_auth", &self.smtp_auth)
            .field("send_as", &self.send_as)
            .field("mfa_required", &self.mfa_required)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl User {
    /// The user principal name.
    pub fn upn(&self) -> &str {
        self.upn.as_deref().unwrap_or(&self.address)
    }

    /// Every SMTP address of the mailbox: primary, then aliases.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.address.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// True when `name` is the UPN or one of the SMTP addresses (any case).
    pub fn has_address(&self, name: &str) -> bool {
        self.upn().eq_ignore_ascii_case(name)
            || self.addresses().any(|a| a.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserKind {
    User,
    Shared,
    OnPremises,
    Guest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpAuth {
    Default,
    Enabled,
    Disabled,
}

/// Graph `assignedPlans[].capabilityStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    Enabled,
    Warning,
    Suspended,
    LockedOut,
    Deleted,
}

impl PlanStatus {
    /// The value Graph prints.
    pub fn as_graph(self) -> &'static str {
        match self {
            PlanStatus::Enabled => "Enabled",
            PlanStatus::Warning => "Warning",
            PlanStatus::Suspended => "Suspended",
            PlanStatus::LockedOut => "LockedOut",
            PlanStatus::Deleted => "Deleted",
        }
    }

    /// Whether a plan in this state still provides the service.
    pub fn is_active(self) -> bool {
        matches!(self, PlanStatus::Enabled | PlanStatus::Warning)
    }
}
