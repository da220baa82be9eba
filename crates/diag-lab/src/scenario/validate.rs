//! Rules a scenario must follow beyond its TOML types. Each failure names the key.

use std::collections::HashSet;

use super::{App, Scenario, ScenarioError, User};
use crate::ids::{self, is_address, is_domain};
use crate::plans;

const RESOURCES: [&str; 2] = ["graph", "exchange"];

pub(super) fn validate(s: &Scenario, origin: &str) -> Result<(), ScenarioError> {
    let fail = |key: String, message: String| ScenarioError::Invalid {
        origin: origin.to_string(),
        key,
        message,
    };
    if !s.name.is_empty() && !is_kebab(&s.name) {
        return Err(fail(
            "name".into(),
            format!("`{}` is not kebab-case", s.name),
        ));
    }
    if !ids::is_guid(&s.tenant.id) {
        return Err(fail(
            "tenant.id".into(),
            format!("`{}` is not a GUID", s.tenant.id),
        ));
    }
    for (i, d) in s.tenant.domains.iter().enumerate() {
        if !is_domain(d) {
            return Err(fail(
                format!("tenant.domains[{i}]"),
                format!("`{d}` is not a domain name"),
            ));
        }
    }
    let mut client_ids = HashSet::new();
    for (i, app) in s.apps.iter().enumerate() {
        validate_app(app, &format!("app[{i}]")).map_err(|(k, m)| fail(k, m))?;
        if !client_ids.insert(app.client_id.to_ascii_lowercase()) {
            return Err(fail(
                format!("app[{i}].client_id"),
                "two apps share this client id".into(),
            ));
        }
    }
    let mut names = HashSet::new();
    for (i, user) in s.users.iter().enumerate() {
        validate_user(user, &format!("user[{i}]")).map_err(|(k, m)| fail(k, m))?;
        let own: HashSet<String> = std::iter::once(user.upn())
            .chain(user.addresses())
            .map(str::to_ascii_lowercase)
            .collect();
        for name in own {
            if !names.insert(name.clone()) {
                return Err(fail(
                    format!("user[{i}]"),
                    format!("address `{name}` is used twice"),
                ));
            }
        }
    }
    if s.device.tls_max_version == super::DeviceTlsVersion::V1_1
        && s.device.tls_ciphers == super::DeviceTlsCiphers::RsaOnly
    {
        return Err(fail(
            "device.tls_max_version".into(),
            "a TLS 1.1 device with `tls_ciphers = \"rsa-only\"` is not modelled: pick one".into(),
        ));
    }
    for (i, r) in s.dns.records.iter().enumerate() {
        if r.trim().is_empty() || r.contains('\n') {
            return Err(fail(
                format!("dns.records[{i}]"),
                "must be one non-empty zone-file line".into(),
            ));
        }
    }
    Ok(())
}

type KeyError = (String, String);

fn validate_app(app: &App, key: &str) -> Result<(), KeyError> {
    if !ids::is_guid(&app.client_id) {
        return Err((
            format!("{key}.client_id"),
            format!("`{}` is not a GUID", app.client_id),
        ));
    }
    if let Some(oid) = &app.object_id
        && !ids::is_guid(oid)
    {
        return Err((format!("{key}.object_id"), format!("`{oid}` is not a GUID")));
    }
    for (i, secret) in app.secrets.iter().enumerate() {
        if !ids::is_guid(&secret.id) {
            return Err((
                format!("{key}.secrets[{i}].id"),
                "the Secret ID is a GUID".into(),
            ));
        }
        if secret.value.is_empty() {
            return Err((
                format!("{key}.secrets[{i}].value"),
                "must not be empty".into(),
            ));
        }
    }
    for (i, cert) in app.certificates.iter().enumerate() {
        match (&cert.generated, &cert.public_pem) {
            (Some(_), Some(_)) => {
                return Err((
                    format!("{key}.certificates[{i}]"),
                    "give either `generated` or `public_pem`, not both".into(),
                ));
            }
            (None, None) => {
                return Err((
                    format!("{key}.certificates[{i}]"),
                    "needs `public_pem` or `generated = \"device\" | \"unrelated\"`".into(),
                ));
            }
            _ => {}
        }
    }
    for (field, list) in [
        ("application_permissions", &app.application_permissions),
        ("delegated_permissions", &app.delegated_permissions),
    ] {
        for (i, p) in list.iter().enumerate() {
            let ok = p
                .split_once(':')
                .is_some_and(|(r, n)| RESOURCES.contains(&r) && !n.is_empty() && !n.contains(' '));
            if !ok {
                return Err((
                    format!("{key}.{field}[{i}]"),
                    format!("`{p}` is not `graph:Name` or `exchange:Name`"),
                ));
            }
        }
    }
    for (field, list) in [
        ("mailbox_access", &app.mailbox_access),
        ("graph_mailbox_scope", &app.graph_mailbox_scope),
    ] {
        for (i, a) in list.iter().enumerate() {
            if !is_address(a) {
                return Err((
                    format!("{key}.{field}[{i}]"),
                    format!("`{a}` is not an address"),
                ));
            }
        }
    }
    Ok(())
}

fn validate_user(user: &User, key: &str) -> Result<(), KeyError> {
    if !is_address(&user.address) {
        return Err((
            format!("{key}.address"),
            format!("`{}` is not an address", user.address),
        ));
    }
    if !is_address(user.upn()) {
        return Err((
            format!("{key}.upn"),
            format!("`{}` is not a UPN", user.upn()),
        ));
    }
    if let Some(id) = &user.id
        && !ids::is_guid(id)
    {
        return Err((format!("{key}.id"), format!("`{id}` is not a GUID")));
    }
    for (i, a) in user.aliases.iter().chain(&user.send_as).enumerate() {
        if !is_address(a) {
            return Err((
                format!("{key}.aliases/send_as[{i}]"),
                format!("`{a}` is not an address"),
            ));
        }
    }
    for (i, p) in user.plans.iter().enumerate() {
        if plans::find(p).is_none() {
            return Err((
                format!("{key}.plans[{i}]"),
                format!(
                    "unknown service plan `{p}` (known: {})",
                    plans::known_names()
                ),
            ));
        }
    }
    Ok(())
}

fn is_kebab(s: &str) -> bool {
    !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
