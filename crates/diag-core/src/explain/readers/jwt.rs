//! Access tokens in pasted text: decoded without trusting them, judged for both ways of sending
//! (SMTP XOAUTH2 and Graph sendMail), and turned into findings for the way the text says the
//! token is used. Nothing of the token itself is kept.
use crate::explain::report::{TokenProblem, TokenReport, Usability};
use crate::jwt::{self, Intended, Problem, Resource};
use crate::redact::mask_address;

/// Clock skew tolerated on `exp`/`nbf`, as Entra does.
const SKEW: i64 = 300;

/// A token judged: its report, and the problems that become findings (rule id, summary).
pub struct JudgedToken {
    pub report: TokenReport,
    pub findings: Vec<(&'static str, String)>,
}

/// Decodes and judges `token`. `usage` is how the text says it is used (if it says);
/// `xoauth2_user` the `user=` of the XOAUTH2 blob that carried it.
pub fn judge_token(
    token: &str,
    line: u64,
    found_in: &str,
    usage: Option<Intended>,
    xoauth2_user: Option<&str>,
    now: i64,
) -> JudgedToken {
    let mut report = TokenReport {
        line,
        found_in: found_in.to_string(),
        error: None,
        alg: None,
        signature_present: false,
        verified: false,
        audience: None,
        resource: None,
        app_only: None,
        roles: Vec::new(),
        scopes: Vec::new(),
        tenant: None,
        app_id: None,
        app_name: None,
        user: None,
        xoauth2_user: xoauth2_user.map(mask_address),
        issued_at: None,
        not_before: None,
        expires_at: None,
        expires_in: None,
        used_for: usage.map(|u| describe_use(u).to_string()),
        smtp: Usability::default(),
        graph: Usability::default(),
    };
    let decoded = match jwt::decode(token) {
        Ok(d) => d,
        Err(e) => {
            report.error = Some(e.to_string());
            return JudgedToken {
                report,
                findings: vec![("jwt-malformed", format!("the token cannot be decoded: {e}"))],
            };
        }
    };
    let c = &decoded.claims;
    report.alg = decoded.alg().map(str::to_string);
    report.signature_present = decoded.signature_present;
    report.audience = c.aud.first().cloned();
    let resource = Resource::of(c);
    report.resource = Some(resource.describe().to_string());
    report.app_only = Some(c.is_app_only());
    report.roles = c.roles.clone();
    report.scopes = c.scp.clone();
    report.tenant = c.tid.clone();
    report.app_id = c.client_id().map(str::to_string);
    report.app_name = c.app_displayname.clone();
    report.user = c.user().map(mask_address);
    report.issued_at = c.iat;
    report.not_before = c.nbf;
    report.expires_at = c.exp;
    report.expires_in = c.exp.map(|e| e - now);

    let smtp = jwt::judge(c, Intended::Smtp, now, SKEW, None, xoauth2_user);
    let graph = jwt::judge(c, Intended::Graph, now, SKEW, None, None);
    report.smtp = usability(&smtp, c, Intended::Smtp, xoauth2_user);
    report.graph = usability(&graph, c, Intended::Graph, None);

    // The way it is used decides which problems are findings; without a hint, assume the
    // resource it was asked for is the one meant, so role problems still show.
    let inferred = usage.or(match resource {
        Resource::Graph => Some(Intended::Graph),
        Resource::Exchange => Some(Intended::Smtp),
        _ => None,
    });
    let findings = match inferred {
        Some(u) => {
            let problems = if u == Intended::Smtp { &smtp } else { &graph };
            problems
                .iter()
                .filter(|p| !(matches!(p, Problem::AudienceOther(_)) && u == Intended::Graph))
                .map(|p| (p.rule_id(), summary(p, c, u, xoauth2_user)))
                .collect()
        }
        None => smtp
            .iter()
            .filter(|p| matches!(p, Problem::Expired { .. } | Problem::NotYetValid { .. }))
            .map(|p| (p.rule_id(), summary(p, c, Intended::Smtp, None)))
            .collect(),
    };
    JudgedToken { report, findings }
}

pub fn describe_use(u: Intended) -> &'static str {
    match u {
        Intended::Smtp => "SMTP AUTH (XOAUTH2)",
        Intended::Graph => "Graph sendMail",
    }
}

fn usability(problems: &[Problem], c: &jwt::Claims, u: Intended, user: Option<&str>) -> Usability {
    Usability {
        usable: problems.is_empty(),
        problems: problems
            .iter()
            .map(|p| TokenProblem {
                rule: p.rule_id().to_string(),
                summary: summary(p, c, u, user),
            })
            .collect(),
    }
}

/// A one-line summary of a problem (lowercase start, no final period).
fn summary(p: &Problem, c: &jwt::Claims, u: Intended, xoauth2_user: Option<&str>) -> String {
    let kind = if c.is_app_only() {
        "app-only"
    } else {
        "delegated"
    };
    match p {
        Problem::AudienceGraphForSmtp => {
            "the token is for Microsoft Graph; SMTP AUTH needs a token for Exchange Online (https://outlook.office365.com/.default)".into()
        }
        Problem::AudienceExchangeForGraph => {
            "the token is for Exchange Online; Graph sendMail needs a token for Microsoft Graph (https://graph.microsoft.com/.default)".into()
        }
        Problem::AudienceOther(aud) => format!("the token is for {aud}, which is neither Microsoft Graph nor Exchange Online"),
        Problem::MailSendMissing if c.is_app_only() => "app-only Graph token without Mail.Send in its roles".into(),
        Problem::MailSendMissing => "delegated Graph token without Mail.Send in its scopes".into(),
        Problem::SmtpSendAsAppMissing if c.is_app_only() => "app-only Exchange token without SMTP.SendAsApp in its roles".into(),
        Problem::SmtpSendAsAppMissing => "delegated Exchange token without SMTP.Send in its scopes".into(),
        Problem::DelegatedPermissionOnly => {
            let perm = if u == Intended::Smtp { "SMTP.Send" } else { "Mail.Send" };
            format!("{kind} token: {perm} is only a delegated scope (scp), not an application role")
        }
        Problem::Expired { exp } => format!("the token expired at {}", utc(*exp)),
        Problem::NotYetValid { nbf } => format!("the token is not valid before {} (a clock is wrong)", utc(*nbf)),
        Problem::TenantMismatch { token_tid } => format!("the token was issued by tenant {token_tid}"),
        Problem::IdentityMismatch { token_user } => format!(
            "the token belongs to {}, but XOAUTH2 logs in as {}",
            mask_address(token_user),
            xoauth2_user.map(mask_address).unwrap_or_else(|| "another user".into())
        ),
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn token(claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn graph_token_used_for_smtp() {
        let t = token(
            r#"{"aud":"https://graph.microsoft.com","idtyp":"app","roles":["Mail.Send"],"tid":"t","exp":2000}"#,
        );
        let j = judge_token(&t, 3, "jwt", Some(Intended::Smtp), None, 1000);
        assert_eq!(
            j.findings.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec!["jwt-audience-graph-for-smtp"]
        );
        assert!(j.report.graph.usable);
        assert!(!j.report.smtp.usable);
        assert_eq!(j.report.expires_in, Some(1000));
        assert_eq!(j.report.resource.as_deref(), Some("Microsoft Graph"));
    }

    #[test]
    fn usage_inferred_from_audience_and_expiry_reported() {
        let t =
            token(r#"{"aud":"https://graph.microsoft.com","idtyp":"app","roles":[],"exp":500}"#);
        let j = judge_token(&t, 1, "jwt", None, None, 1000);
        let ids: Vec<_> = j.findings.iter().map(|f| f.0).collect();
        assert_eq!(ids, vec!["jwt-delegated-permission-only", "jwt-expired"]);
    }

    #[test]
    fn truncated_token_is_malformed_without_echo() {
        let t = token(r#"{"aud":"x"}"#);
        let cut = &t[..t.len() - 12];
        let j = judge_token(cut, 1, "jwt", None, None, 0);
        assert_eq!(j.findings[0].0, "jwt-malformed");
        assert!(!j.findings[0].1.contains(&cut[..10]));
    }

    #[test]
    fn utc_formats_known_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_741_939_200), "2025-03-14 08:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
