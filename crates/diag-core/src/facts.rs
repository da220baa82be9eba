//! What the checks learn and hand on to later checks, typed (no string maps). Each field is
//! written once, by the check named in its documentation, and read by the checks that need it;
//! `OnceLock` lets checks that run at the same time publish without a lock around the whole.
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer};

use crate::{
    jwt::{Jwt, SignatureCheck},
    secret::Secret,
};

/// Everything a run has established so far.
#[derive(Debug, Default)]
pub struct Facts {
    /// Written by `token`: the access token the device would use.
    pub token: OnceLock<AccessToken>,
    /// Written by `claims`: what that token says, and whether its signature checks out.
    pub claims: OnceLock<TokenClaims>,
    /// Written by `mailbox`: the sending user as Microsoft Graph describes it.
    pub user: OnceLock<UserRecord>,
    /// Written by `mailbox`: what kind of mailbox the sender has.
    pub mailbox: OnceLock<MailboxKind>,
    /// Written by `dns`: the sending domain's MX hosts, most preferred first, lowercase without
    /// the final dot. `reach` and `relay` use it when it is there when they start (they may run
    /// at the same time as `dns`); otherwise they look the MX up themselves.
    pub mx_hosts: OnceLock<Vec<String>>,
}

/// An access token. The value is a `Secret`: it never reaches a finding, a log or an error.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub value: Secret<String>,
    /// The scope it was requested with.
    pub scope: String,
    /// Obtained by a user's sign-in (device code) rather than by the app alone.
    pub delegated: bool,
    /// Seconds, as the token endpoint said.
    pub expires_in: Option<u64>,
}

/// The decoded token (claims only; the signature is never kept) and what was verified.
#[derive(Clone, Debug)]
pub struct TokenClaims {
    pub jwt: Jwt,
    /// `None` when the signature could not be checked (no keys reachable).
    pub signature: Option<SignatureCheck>,
    /// The tenant GUID the token was compared with (typed, or revealed by discovery).
    pub tenant_id: Option<String>,
}

/// `GET /v1.0/users/{id}?$select=...` (reference §8).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub id: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub account_enabled: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub assigned_licenses: Vec<AssignedLicense>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub assigned_plans: Vec<AssignedPlan>,
    pub on_premises_sync_enabled: Option<bool>,
    pub user_type: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub disabled_plans: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedPlan {
    pub service: Option<String>,
    pub service_plan_id: Option<String>,
    /// `Enabled`, `Warning` (grace period), `Suspended`, `LockedOut`, `Deleted`.
    pub capability_status: Option<String>,
    pub assigned_date_time: Option<String>,
}

/// What kind of mailbox the sender has, from `mailboxSettings.userPurpose` when Graph tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailboxKind {
    User,
    Shared,
    /// Room, equipment, linked, ...: named as Graph names it.
    Other(String),
    /// Graph did not tell (the read was not permitted).
    Unknown,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_record_tolerates_nulls_and_missing_fields() {
        let u: UserRecord = serde_json::from_str(
            r#"{"id":"1","accountEnabled":false,"assignedPlans":null,"assignedLicenses":[{"skuId":"s","disabledPlans":null}]}"#,
        )
        .expect("user");
        assert_eq!(u.account_enabled, Some(false));
        assert!(u.assigned_plans.is_empty());
        assert_eq!(u.assigned_licenses[0].sku_id.as_deref(), Some("s"));
    }
}
