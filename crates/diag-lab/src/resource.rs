//! The two Microsoft resources the lab serves tokens for, and how scopes name them.
//! Source: reference/microsoft-facts.md §3 "Audiences" (App ID URIs and GUIDs).

/// A resource (API) the tenant can issue tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Graph,
    Exchange,
}

pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub(crate) const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";

impl Resource {
    /// The prefix used in scenario permission lists (`graph:Mail.Send`).
    pub fn prefix(self) -> &'static str {
        match self {
            Resource::Graph => "graph",
            Resource::Exchange => "exchange",
        }
    }

    /// The App ID URI (what `aud` holds in v1 tokens).
    pub fn uri(self) -> &'static str {
        match self {
            Resource::Graph => "https://graph.microsoft.com",
            Resource::Exchange => "https://outlook.office365.com",
        }
    }

    pub fn app_id(self) -> &'static str {
        match self {
            Resource::Graph => GRAPH_APP_ID,
            Resource::Exchange => EXCHANGE_APP_ID,
        }
    }

    /// Recognises a resource identifier as a scope names it: App ID URI (with or without a
    /// trailing slash, any case) or GUID. Returns the resource and the `aud` value a token
    /// requested this way carries (the identifier as requested, without trailing slash).
    pub fn from_identifier(identifier: &str) -> Option<(Resource, String)> {
        let trimmed = identifier.trim_end_matches('/');
        let lower = trimmed.to_ascii_lowercase();
        let resource = match lower.as_str() {
            "https://graph.microsoft.com" | GRAPH_APP_ID => Resource::Graph,
            // Delegated SMTP scopes name outlook.office.com; app-only ones outlook.office365.com.
            "https://outlook.office365.com" | "https://outlook.office.com" | EXCHANGE_APP_ID => {
                Resource::Exchange
            }
            _ => return None,
        };
        Some((resource, lower))
    }

    /// Whether `aud` designates this resource (any documented form).
    pub fn accepts_audience(self, aud: &str) -> bool {
        Resource::from_identifier(aud).is_some_and(|(r, _)| r == self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(
            Resource::from_identifier("https://graph.microsoft.com/"),
            Some((Resource::Graph, "https://graph.microsoft.com".into()))
        );
        assert_eq!(
            Resource::from_identifier("00000002-0000-0FF1-CE00-000000000000").map(|r| r.0),
            Some(Resource::Exchange)
        );
        assert_eq!(
            Resource::from_identifier("https://outlook.office.com").map(|r| r.0),
            Some(Resource::Exchange)
        );
        assert_eq!(Resource::from_identifier("https://graph.windows.net"), None);
        assert!(Resource::Graph.accepts_audience(GRAPH_APP_ID));
        assert!(!Resource::Graph.accepts_audience("https://outlook.office365.com"));
    }
}
