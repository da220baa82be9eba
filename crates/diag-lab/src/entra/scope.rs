//! Parsing the `scope` parameter into one resource and the permissions asked of it.
//! Rules: reference §1c (1002012, 70011, 700022, 500011) and §4 (SMTP scopes).

use super::codes;
use super::error::AadError;
use crate::ids;
use crate::resource::Resource;

/// Which kind of flow asks: client credentials only accept `<resource>/.default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    AppOnly,
    Delegated,
}

/// What a scope string asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeRequest {
    pub target: Target,
    /// Named delegated permissions (`SMTP.Send`), without the resource prefix.
    pub permissions: Vec<String>,
    pub offline_access: bool,
    pub openid: bool,
    pub raw: String,
}

/// The resource a scope names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A resource the lab knows, with the `aud` a token requested this way carries.
    Known(Resource, String),
    /// A well-formed resource identifier the tenant has no service principal for (500011).
    Unknown(String),
}

const OIDC: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub(crate) fn parse(raw: &str, flow: Flow) -> Result<ScopeRequest, AadError> {
    let items: Vec<&str> = raw.split_whitespace().collect();
    if items.is_empty() {
        return Err(codes::missing_parameter("scope"));
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut request = ScopeRequest {
        target: Target::Known(Resource::Graph, Resource::Graph.uri().into()),
        permissions: Vec::new(),
        offline_access: false,
        openid: false,
        raw: raw.to_string(),
    };
    for item in &items {
        let lower = item.to_ascii_lowercase();
        if let Some(identifier) = item.strip_suffix("/.default") {
            targets.push(target(identifier).ok_or_else(|| codes::invalid_scope(item))?);
            continue;
        }
        if flow == Flow::AppOnly {
            return Err(codes::scope_needs_default(raw));
        }
        if OIDC.contains(&lower.as_str()) {
            request.offline_access |= lower == "offline_access";
            request.openid |= lower == "openid";
            continue;
        }
        match item.rsplit_once('/') {
            Some((identifier, permission)) => {
                if permission.is_empty() {
                    return Err(codes::invalid_scope(item));
                }
                targets.push(target(identifier).ok_or_else(|| codes::invalid_scope(item))?);
                request.permissions.push(permission.to_string());
            }
            // A bare permission name means Microsoft Graph on the v2 endpoint.
            None => {
                targets.push(Target::Known(Resource::Graph, Resource::Graph.uri().into()));
                request.permissions.push(item.to_string());
            }
        }
    }
    targets.dedup_by(|a, b| same_resource(a, b));
    match targets.as_slice() {
        [] if flow == Flow::AppOnly => return Err(codes::missing_parameter("scope")),
        [] => {}
        [one] => request.target = one.clone(),
        _ => {
            if targets
                .iter()
                .skip(1)
                .any(|t| !same_resource(t, &targets[0]))
            {
                return Err(codes::multiple_resources(raw));
            }
            request.target = targets[0].clone();
        }
    }
    Ok(request)
}

fn target(identifier: &str) -> Option<Target> {
    if let Some((resource, aud)) = Resource::from_identifier(identifier) {
        return Some(Target::Known(resource, aud));
    }
    let looks_like_resource =
        identifier.contains("://") || identifier.starts_with("api:") || ids::is_guid(identifier);
    looks_like_resource.then(|| Target::Unknown(identifier.to_string()))
}

fn same_resource(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (Target::Known(x, _), Target::Known(y, _)) => x == y,
        (Target::Unknown(x), Target::Unknown(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<ScopeRequest, AadError>) -> u32 {
        r.err().map(|e| e.code).unwrap_or(0)
    }

    #[test]
    fn client_credentials_scopes() {
        let ok = parse("https://outlook.office365.com/.default", Flow::AppOnly);
        assert_eq!(
            ok.map(|r| r.target),
            Ok(Target::Known(
                Resource::Exchange,
                "https://outlook.office365.com".into()
            ))
        );
        assert_eq!(
            code(parse(
                "https://outlook.office.com/SMTP.SendAsApp",
                Flow::AppOnly
            )),
            1002012
        );
        assert_eq!(code(parse("Mail.Send", Flow::AppOnly)), 1002012);
        assert_eq!(code(parse("SMTP.SendAsApp/.default", Flow::AppOnly)), 70011);
        assert_eq!(
            code(parse(
                "https://graph.microsoft.com/.default https://outlook.office365.com/.default",
                Flow::AppOnly
            )),
            700022
        );
        assert_eq!(code(parse("  ", Flow::AppOnly)), 900144);
        assert_eq!(
            parse("https://contoso.example/api/.default", Flow::AppOnly).map(|r| r.target),
            Ok(Target::Unknown("https://contoso.example/api".into()))
        );
    }

    #[test]
    fn delegated_scopes() -> Result<(), AadError> {
        let r = parse(
            "https://outlook.office.com/SMTP.Send offline_access",
            Flow::Delegated,
        )?;
        assert_eq!(
            r.target,
            Target::Known(Resource::Exchange, "https://outlook.office.com".into())
        );
        assert_eq!(r.permissions, vec!["SMTP.Send".to_string()]);
        assert!(r.offline_access);
        let g = parse("Mail.Send User.Read openid", Flow::Delegated)?;
        assert_eq!(
            g.target,
            Target::Known(Resource::Graph, "https://graph.microsoft.com".into())
        );
        assert_eq!(g.permissions.len(), 2);
        assert_eq!(
            code(parse(
                "Mail.Send https://outlook.office.com/SMTP.Send",
                Flow::Delegated
            )),
            700022
        );
        Ok(())
    }
}
