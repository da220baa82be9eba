//! `token`: can the app (or the signed-in user) get an access token for the method's resource?
//! Client credentials with a secret or a certificate assertion here; device code in
//! `device_code.rs`. Every refusal is classified from `error_codes`/`error` (classify::aadsts).
use std::sync::Arc;

use super::{assertion, context::Ctx, device_code};
use crate::{
    check::CheckId,
    classify::aadsts::{self, Flow, TokenError},
    facts::AccessToken,
    finding::{Evidence, Finding},
    net::{DEFAULT_BODY_CAP, HttpReply, NetError},
    rules::{RuleId, ids},
    secret::Secret,
    target::Credential,
};

const CHECK: CheckId = CheckId::Token;
const UNREACHABLE: RuleId = ids::ENTRA_ENDPOINT_UNREACHABLE;

/// A token the endpoint issued.
#[derive(Debug)]
pub(crate) struct TokenOk {
    pub access_token: Secret<String>,
    pub expires_in: Option<u64>,
    pub token_type: Option<String>,
}

/// Why no token came back.
#[derive(Debug)]
pub(crate) enum TokenFailure {
    /// The credential cannot be used as given (unreadable certificate or key).
    BadCredential { rule: RuleId, why: String },
    /// No HTTPS client (setup problem).
    Setup(String),
    /// No answer.
    Net(NetError),
    /// A token-endpoint error body.
    Refused {
        status: u16,
        error: Box<TokenError>,
        rule: Option<RuleId>,
    },
    /// An answer that is not the token endpoint speaking (HTML, a cut-off body, no token).
    Unexpected { shape: String, why: String },
}

impl TokenFailure {
    /// The finding for `check`, with evidence that never contains the credential.
    pub fn finding(&self, cx: &Ctx, check: CheckId, url: &str) -> Finding {
        let mut f = match self {
            TokenFailure::BadCredential { rule, why } => cx.judged(check, *rule, why.clone()),
            TokenFailure::Setup(why) => Ctx::internal(
                check,
                format!("the HTTPS client could not be set up: {why}"),
            ),
            TokenFailure::Net(e) => {
                let mut f = cx.judged(
                    check,
                    UNREACHABLE,
                    format!("token endpoint unreachable: {}", e.describe()),
                );
                f.evidence.extend(e.evidence());
                f
            }
            TokenFailure::Refused {
                status,
                error,
                rule,
            } => {
                let code = error
                    .first_code()
                    .unwrap_or_else(|| "no AADSTS code".into());
                let summary = format!("the token endpoint refused: {code} ({})", error.error);
                let mut f = match rule {
                    Some(rule) => cx.judged(check, *rule, summary),
                    None => Ctx::internal(check, format!("{summary}, which xdiag does not know")),
                };
                f.evidence
                    .push(Evidence::new("http_status", status.to_string()));
                f.evidence.extend(error.evidence());
                f
            }
            TokenFailure::Unexpected { shape, why } => {
                let mut f = cx.judged(
                    check,
                    UNREACHABLE,
                    format!("the token endpoint did not answer as Entra ID does: {why}"),
                );
                f.evidence.push(Evidence::new("answer", shape));
                f
            }
        };
        f.evidence.insert(0, Evidence::new("endpoint", url));
        f
    }

    /// The rule this failure names (for skip summaries and tests).
    pub fn rule(&self) -> RuleId {
        match self {
            TokenFailure::BadCredential { rule, .. } => *rule,
            TokenFailure::Refused {
                rule: Some(rule), ..
            } => *rule,
            TokenFailure::Setup(_) | TokenFailure::Refused { rule: None, .. } => {
                ids::XDIAG_INTERNAL_ERROR
            }
            TokenFailure::Net(_) | TokenFailure::Unexpected { .. } => UNREACHABLE,
        }
    }
}

/// Reads a token-endpoint answer: a token, or why not.
pub(crate) fn read_reply(reply: &HttpReply, flow: Flow) -> Result<TokenOk, TokenFailure> {
    if reply.truncated {
        return Err(TokenFailure::Unexpected {
            shape: reply.shape(),
            why: "the answer is far larger than any token answer".into(),
        });
    }
    if !reply.is_success() {
        return match TokenError::parse(&reply.body) {
            Some(error) => {
                let rule = aadsts::classify(&error, flow);
                Err(TokenFailure::Refused {
                    status: reply.status,
                    error: Box::new(error),
                    rule,
                })
            }
            None => Err(TokenFailure::Unexpected {
                shape: reply.shape(),
                why: "an HTTP error without an Entra ID error body (a proxy or gateway answering?)"
                    .into(),
            }),
        };
    }
    let Some(body) = reply.json::<serde_json::Value>() else {
        return Err(TokenFailure::Unexpected {
            shape: reply.shape(),
            why: "the answer is not JSON (a proxy, captive portal or filter answering?)".into(),
        });
    };
    let Some(token) = body
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
    else {
        return Err(TokenFailure::Unexpected {
            shape: reply.shape(),
            why: "the answer holds no access_token".into(),
        });
    };
    // `expires_in` is a number in v2 answers and a string in some v1 ones.
    let expires_in = body.get("expires_in").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    let token_type = body
        .get("token_type")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    Ok(TokenOk {
        access_token: Secret::new(token.to_string()),
        expires_in,
        token_type,
    })
}

/// A client-credentials token for `scope` with the target's secret or certificate.
pub(crate) async fn client_credentials(cx: &Ctx, scope: &str) -> Result<TokenOk, TokenFailure> {
    let http = cx
        .http
        .as_ref()
        .map_err(|e| TokenFailure::Setup(e.to_string()))?;
    let url = cx.token_url();
    let client_id = cx.target.client_id.trim();
    let reply = match &cx.target.credential {
        Credential::Secret(secret) => {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("scope", scope),
                ("client_secret", secret.expose().as_str()),
            ];
            http.post_form(&url, &form, DEFAULT_BODY_CAP).await
        }
        Credential::Certificate {
            certificate_pem,
            private_key_pem,
        } => {
            let now = chrono::Utc::now().timestamp();
            let a = assertion::build(certificate_pem, private_key_pem, client_id, &url, now)
                .map_err(|why| TokenFailure::BadCredential {
                    rule: ids::ENTRA_CERTIFICATE_INVALID,
                    why,
                })?;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("scope", scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", a.jwt.expose().as_str()),
            ];
            http.post_form(&url, &form, DEFAULT_BODY_CAP).await
        }
        Credential::DeviceCode | Credential::None => {
            return Err(TokenFailure::BadCredential {
                rule: ids::ENTRA_CLIENT_CREDENTIAL_MISSING,
                why: "no client secret or certificate was given".into(),
            });
        }
    };
    let flow = match cx.target.credential {
        Credential::Certificate { .. } => Flow::ClientAssertion,
        _ => Flow::ClientSecret,
    };
    read_reply(&reply.map_err(TokenFailure::Net)?, flow)
}

/// The scope of the main token: what the technician typed, else what the method needs.
pub(crate) fn main_scope(cx: &Ctx) -> String {
    cx.target
        .scope
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| cx.target.default_scope())
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    // Independent work starts now, while the token request is in flight.
    cx.prefetch_discovery();
    if cx.target.method != crate::target::Method::Graph {
        cx.prefetch_graph_lookups();
    }
    let url = cx.token_url();
    let (result, scope, delegated, credential) = match &cx.target.credential {
        Credential::DeviceCode => match device_code::obtain(cx).await {
            Ok((ok, scope)) => (Ok(ok), scope, true, "device code".to_string()),
            Err(finding) => return finding,
        },
        Credential::None => {
            let f = cx.judged(
                CHECK,
                ids::ENTRA_CLIENT_CREDENTIAL_MISSING,
                "no client secret, certificate or device code was given",
            );
            return f.with("endpoint", url);
        }
        Credential::Secret(_) => {
            let scope = main_scope(cx);
            (
                client_credentials(cx, &scope).await,
                scope,
                false,
                "client secret".to_string(),
            )
        }
        Credential::Certificate {
            certificate_pem, ..
        } => {
            let scope = main_scope(cx);
            let thumb =
                assertion::thumbprint(certificate_pem).unwrap_or_else(|_| "unreadable".into());
            (
                client_credentials(cx, &scope).await,
                scope,
                false,
                format!("certificate (thumbprint {thumb})"),
            )
        }
    };
    let ok = match result {
        Ok(ok) => ok,
        Err(failure) => {
            return failure
                .finding(cx, CHECK, &url)
                .with("scope", scope)
                .with("credential", credential);
        }
    };
    let expires = ok
        .expires_in
        .map(|s| format!(", expires in {} min", s / 60))
        .unwrap_or_default();
    let kind = if delegated {
        "delegated token"
    } else {
        "app token"
    };
    let mut f = Finding::pass(CHECK, format!("{kind} issued for {scope}{expires}"))
        .with("endpoint", url)
        .with("scope", scope.clone())
        .with("credential", credential);
    if let Some(t) = &ok.token_type {
        f = f.with("token_type", t);
    }
    if let Some(s) = ok.expires_in {
        f = f.with("expires_in", format!("{s} s"));
    }
    let _ = cx.facts.token.set(AccessToken {
        value: ok.access_token,
        scope,
        delegated,
        expires_in: ok.expires_in,
    });
    if cx.target.method == crate::target::Method::Graph {
        // The main token is the Graph token: the user lookups can start before claims finishes.
        cx.prefetch_graph_lookups();
    }
    f
}
