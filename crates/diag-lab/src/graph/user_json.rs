//! A directory user as Graph v1.0 renders it: the default property set, or exactly what
//! `$select` asks for. Licence shapes: reference §8 "How Graph exposes licences".

use serde_json::{Map, Value, json};

use super::error::{self, GraphError};
use crate::plans;
use crate::scenario::{User, UserKind};
use crate::state::LabState;

/// Returned when no `$select` is given (Graph v1.0's default set for users).
const DEFAULT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// Everything the lab can render; other real properties come back as null when selected.
const MODELLED: &[&str] = &[
    "accountEnabled",
    "assignedLicenses",
    "assignedPlans",
    "onPremisesSyncEnabled",
    "userType",
    "proxyAddresses",
    "otherMails",
    "mailNickname",
    "usageLocation",
    "createdDateTime",
];
const OTHER_REAL: &[&str] = &[
    "department",
    "companyName",
    "employeeId",
    "city",
    "country",
    "streetAddress",
    "postalCode",
    "state",
    "faxNumber",
    "onPremisesImmutableId",
    "onPremisesSamAccountName",
    "onPremisesDomainName",
    "onPremisesUserPrincipalName",
    "onPremisesLastSyncDateTime",
    "externalUserState",
    "creationType",
    "ageGroup",
    "passwordPolicies",
    "preferredDataLocation",
    "showInAddressList",
    "licenseAssignmentStates",
];

/// Renders `user` for `$select` (None: the default set).
pub(crate) fn render(user: &User, select: Option<&str>) -> Result<Value, GraphError> {
    let names: Vec<String> = match select {
        None => DEFAULT.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
            let mut names = Vec::new();
            for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                names.push(canonical(raw).ok_or_else(|| {
                    error::bad_request(
                        "Request_BadRequest",
                        format!("Could not find a property named '{raw}' on type 'Microsoft.DirectoryServices.User'."),
                    )
                })?);
            }
            names
        }
    };
    let context = match select {
        None => "https://graph.microsoft.com/v1.0/$metadata#users/$entity".to_string(),
        Some(_) => format!(
            "https://graph.microsoft.com/v1.0/$metadata#users({})/$entity",
            names.join(",")
        ),
    };
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context));
    for name in &names {
        out.insert(name.clone(), property(user, name));
    }
    Ok(Value::Object(out))
}

fn canonical(raw: &str) -> Option<String> {
    DEFAULT
        .iter()
        .chain(MODELLED)
        .chain(OTHER_REAL)
        .find(|p| p.eq_ignore_ascii_case(raw))
        .map(|p| p.to_string())
}

fn property(user: &User, name: &str) -> Value {
    let display = user.display_name.clone().unwrap_or_else(|| {
        user.address
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    match name {
        "id" => json!(LabState::user_id(user)),
        "userPrincipalName" => json!(user.upn()),
        "mail" => json!(user.address),
        "displayName" => json!(display),
        "businessPhones" => json!([]),
        "accountEnabled" => json!(user.enabled),
        "userType" => json!(if user.kind == UserKind::Guest {
            "Guest"
        } else {
            "Member"
        }),
        "onPremisesSyncEnabled" => match user.kind {
            UserKind::OnPremises => json!(true),
            _ => Value::Null,
        },
        "mailNickname" => json!(user.address.split('@').next().unwrap_or_default()),
        "proxyAddresses" => {
            let primary = std::iter::once(format!("SMTP:{}", user.address));
            json!(
                primary
                    .chain(user.aliases.iter().map(|a| format!("smtp:{a}")))
                    .collect::<Vec<_>>()
            )
        }
        "otherMails" => json!([]),
        "usageLocation" => json!("US"),
        "createdDateTime" => json!("2023-01-15T09:00:00Z"),
        "assignedLicenses" => assigned_licenses(user),
        "assignedPlans" => assigned_plans(user),
        _ => Value::Null,
    }
}

fn assigned_licenses(user: &User) -> Value {
    let mut skus: Vec<&str> = user
        .plans
        .iter()
        .filter_map(|p| plans::find(p)?.sku_id)
        .collect();
    skus.dedup();
    json!(
        skus.iter()
            .map(|s| json!({"disabledPlans": [], "skuId": s}))
            .collect::<Vec<_>>()
    )
}

fn assigned_plans(user: &User) -> Value {
    let plans: Vec<Value> = user
        .plans
        .iter()
        .filter_map(|p| plans::find(p))
        .map(|p| {
            json!({
                "assignedDateTime": "2023-01-15T09:00:00Z",
                "capabilityStatus": user.plan_status.as_graph(),
                "service": "exchange",
                "servicePlanId": p.service_plan_id,
            })
        })
        .collect();
    json!(plans)
}
