//! What a decoded token can be used for, judged against the way the device will use it.
use super::{Claims, EXCHANGE_APP_ID, GRAPH_APP_ID};

/// The API a token was issued for, from its `aud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Graph,
    Exchange,
    Other(String),
    Missing,
}

impl Resource {
    pub fn of(claims: &Claims) -> Resource {
        let Some(aud) = claims.aud.first() else {
            return Resource::Missing;
        };
        let a = aud.trim_end_matches('/').to_ascii_lowercase();
        if a == GRAPH_APP_ID
            || a.ends_with("graph.microsoft.com")
            || a.ends_with("graph.microsoft.us")
            || a.ends_with("dod-graph.microsoft.us")
            || a.ends_with("microsoftgraph.chinacloudapi.cn")
        {
            Resource::Graph
        } else if a == EXCHANGE_APP_ID
            || a.starts_with("https://outlook.office")
            || a.ends_with("outlook.office365.us")
            || a.ends_with("partner.outlook.cn")
        {
            Resource::Exchange
        } else {
            Resource::Other(aud.clone())
        }
    }

    pub fn describe(&self) -> &str {
        match self {
            Resource::Graph => "Microsoft Graph",
            Resource::Exchange => "Exchange Online",
            Resource::Other(a) => a,
            Resource::Missing => "no audience",
        }
    }
}

/// How the device means to use the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intended {
    /// SMTP AUTH XOAUTH2 on port 587.
    Smtp,
    /// Microsoft Graph sendMail.
    Graph,
}

/// One reason the token will not do the job. Each maps to a rule of the `jwt` area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    AudienceGraphForSmtp,
    AudienceExchangeForGraph,
    /// Neither Graph nor Exchange: no mail API accepts it.
    AudienceOther(String),
    MailSendMissing,
    SmtpSendAsAppMissing,
    /// App-only path, but the permission only exists as a delegated scope.
    DelegatedPermissionOnly,
    Expired {
        exp: i64,
    },
    NotYetValid {
        nbf: i64,
    },
    TenantMismatch {
        token_tid: String,
    },
    IdentityMismatch {
        token_user: String,
    },
}

impl Problem {
    /// The rule that explains this problem.
    pub fn rule_id(&self) -> &'static str {
        match self {
            Problem::AudienceGraphForSmtp => "jwt-audience-graph-for-smtp",
            Problem::AudienceExchangeForGraph => "jwt-audience-exchange-for-graph",
            Problem::AudienceOther(_) => "jwt-audience-graph-for-smtp",
            Problem::MailSendMissing => "jwt-role-mail-send-missing",
            Problem::SmtpSendAsAppMissing => "jwt-role-smtp-sendasapp-missing",
            Problem::DelegatedPermissionOnly => "jwt-delegated-permission-only",
            Problem::Expired { .. } | Problem::NotYetValid { .. } => "jwt-expired",
            Problem::TenantMismatch { .. } => "jwt-tenant-mismatch",
            Problem::IdentityMismatch { .. } => "jwt-identity-mismatch",
        }
    }
}

/// Everything wrong with `claims` for `use_`, most basic first (audience before roles, roles
/// before lifetime). `now` and `skew` are Unix seconds; `tenant` is a tenant GUID if known;
/// `mailbox` the address the device sends as.
pub fn judge(
    claims: &Claims,
    use_: Intended,
    now: i64,
    skew: i64,
    tenant: Option<&str>,
    mailbox: Option<&str>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let resource = Resource::of(claims);
    match (use_, &resource) {
        (Intended::Smtp, Resource::Graph) => problems.push(Problem::AudienceGraphForSmtp),
        (Intended::Graph, Resource::Exchange) => problems.push(Problem::AudienceExchangeForGraph),
        (_, Resource::Other(a)) => problems.push(Problem::AudienceOther(a.clone())),
        _ => {}
    }
    // Role checks only make sense once the audience is the right API.
    if problems.is_empty() {
        let (role, scope) = match use_ {
            Intended::Smtp => ("SMTP.SendAsApp", "SMTP.Send"),
            Intended::Graph => ("Mail.Send", "Mail.Send"),
        };
        let has = |list: &[String], want: &str| list.iter().any(|r| r.eq_ignore_ascii_case(want));
        if claims.is_app_only() {
            if !has(&claims.roles, role) {
                // No `roles` at all on a Graph token: the app holds no application permission on
                // Graph, although Mail.Send exists there in both kinds, so it was added as
                // Delegated (which client-credentials tokens never carry). SMTP.SendAsApp lives
                // under another API (Exchange Online) than the Graph permissions people add
                // first, so an Exchange token without roles means that API was never added.
                problems.push(
                    match (use_, has(&claims.scp, scope), claims.roles.is_empty()) {
                        (_, true, _) | (Intended::Graph, false, true) => {
                            Problem::DelegatedPermissionOnly
                        }
                        (Intended::Smtp, false, _) => Problem::SmtpSendAsAppMissing,
                        (Intended::Graph, false, false) => Problem::MailSendMissing,
                    },
                );
            }
        } else if !has(&claims.scp, scope) && !has(&claims.scp, "Mail.Send.Shared") {
            problems.push(match use_ {
                Intended::Smtp => Problem::SmtpSendAsAppMissing,
                Intended::Graph => Problem::MailSendMissing,
            });
        }
    }
    if let (Some(want), Some(tid)) = (tenant, claims.tid.as_deref())
        && !want.eq_ignore_ascii_case(tid)
    {
        problems.push(Problem::TenantMismatch {
            token_tid: tid.to_string(),
        });
    }
    if !claims.is_app_only()
        && let (Some(user), Some(mailbox)) = (claims.user(), mailbox)
        && !user.eq_ignore_ascii_case(mailbox)
    {
        problems.push(Problem::IdentityMismatch {
            token_user: user.to_string(),
        });
    }
    if let Some(exp) = claims.exp.filter(|&exp| exp + skew <= now) {
        problems.push(Problem::Expired { exp });
    }
    if let Some(nbf) = claims.nbf.filter(|&nbf| nbf - skew > now) {
        problems.push(Problem::NotYetValid { nbf });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(aud: &str, roles: &[&str]) -> Claims {
        Claims {
            aud: vec![aud.into()],
            roles: roles.iter().map(|r| r.to_string()).collect(),
            idtyp: Some("app".into()),
            exp: Some(1_000),
            nbf: Some(0),
            tid: Some("t1".into()),
            ..Claims::default()
        }
    }

    #[test]
    fn graph_token_is_useless_for_smtp() {
        let c = app("https://graph.microsoft.com", &["Mail.Send"]);
        assert_eq!(
            judge(&c, Intended::Smtp, 10, 300, None, None),
            vec![Problem::AudienceGraphForSmtp]
        );
        assert!(judge(&c, Intended::Graph, 10, 300, None, None).is_empty());
    }

    #[test]
    fn exchange_token_needs_smtp_sendasapp_role() {
        let c = app(EXCHANGE_APP_ID, &[]);
        assert_eq!(
            judge(&c, Intended::Smtp, 10, 300, None, None),
            vec![Problem::SmtpSendAsAppMissing]
        );
        let ok = app("https://outlook.office365.com", &["SMTP.SendAsApp"]);
        assert!(judge(&ok, Intended::Smtp, 10, 300, None, None).is_empty());
    }

    #[test]
    fn graph_token_without_any_role_points_at_a_delegated_permission() {
        let c = app("https://graph.microsoft.com", &[]);
        assert_eq!(
            judge(&c, Intended::Graph, 10, 300, None, None),
            vec![Problem::DelegatedPermissionOnly]
        );
        let other_role = app("https://graph.microsoft.com", &["User.Read.All"]);
        assert_eq!(
            judge(&other_role, Intended::Graph, 10, 300, None, None),
            vec![Problem::MailSendMissing]
        );
    }

    #[test]
    fn delegated_only_permission_on_app_only_path() {
        let mut c = app("https://graph.microsoft.com", &[]);
        c.scp = vec!["Mail.Send".into()];
        assert_eq!(
            judge(&c, Intended::Graph, 10, 300, None, None),
            vec![Problem::DelegatedPermissionOnly]
        );
    }

    #[test]
    fn delegated_token_for_another_user_and_expiry_with_skew() {
        let c = Claims {
            aud: vec!["https://outlook.office.com".into()],
            scp: vec!["SMTP.Send".into()],
            idtyp: Some("user".into()),
            upn: Some("admin@contoso.com".into()),
            exp: Some(1_000),
            ..Claims::default()
        };
        let p = judge(
            &c,
            Intended::Smtp,
            1_200,
            300,
            None,
            Some("relay@contoso.com"),
        );
        assert_eq!(
            p,
            vec![Problem::IdentityMismatch {
                token_user: "admin@contoso.com".into()
            }]
        );
        let p = judge(
            &c,
            Intended::Smtp,
            1_400,
            300,
            None,
            Some("ADMIN@contoso.com"),
        );
        assert_eq!(p, vec![Problem::Expired { exp: 1_000 }]);
    }

    #[test]
    fn tenant_mismatch_is_reported() {
        let c = app("https://graph.microsoft.com", &["Mail.Send"]);
        assert_eq!(
            judge(&c, Intended::Graph, 10, 0, Some("t2"), None),
            vec![Problem::TenantMismatch {
                token_tid: "t1".into()
            }]
        );
    }
}
