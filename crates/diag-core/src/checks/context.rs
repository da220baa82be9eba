//! What every check of a run shares: the target, the HTTPS client, the facts, and lookups that
//! several checks (or a check and a prefetch) want once: OpenID discovery with the tenant's keys,
//! the Graph token for lookups, the user record and the mailbox settings. Each is computed at
//! most once (`OnceCell`), so a prefetch started early and a check that arrives later share one
//! round trip.
use std::sync::{Arc, Mutex};

use tokio::{sync::OnceCell, task::AbortHandle};

use super::{
    Event,
    token::{self, TokenFailure},
};
use crate::{
    check::CheckId,
    facts::Facts,
    finding::{Finding, Status},
    jwt::{Keys, OpenIdConfiguration},
    net::{DEFAULT_BODY_CAP, Http, HttpReply, NetError, NetSetupError},
    rules::{RuleId, Rulebook, Severity, ids},
    secret::Secret,
    target::{Credential, Method, Target},
};

/// The tenant's OpenID configuration and signing keys.
#[derive(Clone, Debug)]
pub(crate) struct Discovery {
    pub config: OpenIdConfiguration,
    pub keys: Keys,
}

/// The Graph token used to read the user and mailbox.
#[derive(Debug)]
pub(crate) enum LookupToken {
    Ready(Secret<String>),
    /// Why there is none (e.g. device-code sign-in for smtp gives an Exchange token only).
    Unavailable(String),
    /// The token endpoint refused or could not be reached.
    Failed(TokenFailure),
}

/// One Graph read: an answer, no answer, or no token to ask with.
#[derive(Debug)]
pub(crate) enum GraphFetch {
    Reply(HttpReply),
    Net(NetError),
    NoToken,
    NoMailbox,
}

/// `$select` of the user lookup: what the mailbox and licence checks read (reference §8).
const USER_SELECT: &str = "id,userPrincipalName,mail,accountEnabled,assignedLicenses,assignedPlans,onPremisesSyncEnabled,userType";

pub(crate) struct Ctx {
    pub target: Target,
    pub http: Result<Http, NetSetupError>,
    pub facts: Facts,
    /// Start independent work early (prefetches); false in sequential mode.
    pub overlap: bool,
    plan: Vec<CheckId>,
    rulebook: Arc<Rulebook>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
    discovery: OnceCell<Result<Discovery, String>>,
    lookup_token: OnceCell<LookupToken>,
    user: OnceCell<GraphFetch>,
    settings: OnceCell<GraphFetch>,
    background: Mutex<Vec<AbortHandle>>,
}

impl Ctx {
    pub fn new(
        target: Target,
        plan: Vec<CheckId>,
        overlap: bool,
        rulebook: Arc<Rulebook>,
        events: tokio::sync::mpsc::UnboundedSender<Event>,
    ) -> Ctx {
        let http = Http::new(&target.endpoints, target.timeout);
        Ctx {
            target,
            http,
            facts: Facts::default(),
            overlap,
            plan,
            rulebook,
            events,
            discovery: OnceCell::new(),
            lookup_token: OnceCell::new(),
            user: OnceCell::new(),
            settings: OnceCell::new(),
            background: Mutex::new(Vec::new()),
        }
    }

    pub fn planned(&self, check: CheckId) -> bool {
        self.plan.contains(&check)
    }

    pub fn emit(&self, event: Event) {
        // The receiver lives as long as the pipeline; after that nobody is listening anyway.
        let _ = self.events.send(event);
    }

    // ---- findings --------------------------------------------------------------------------

    /// A finding for `rule`, failing or warning as the rule's severity says.
    pub fn judged(&self, check: CheckId, rule: RuleId, summary: impl Into<String>) -> Finding {
        match self.rulebook.get(rule.as_str()).map(|r| r.severity) {
            Some(Severity::Warn | Severity::Info) => Finding::warn(check, rule, summary),
            _ => Finding::fail(check, rule, summary),
        }
    }

    /// xdiag could not run the check: a bug or a condition it does not know.
    pub fn internal(check: CheckId, summary: impl Into<String>) -> Finding {
        let mut f = Finding::fail(check, ids::XDIAG_INTERNAL_ERROR, summary);
        f.status = Status::Error;
        f
    }

    /// The HTTPS client, or the finding that says why there is none.
    pub fn http_or_finding(&self, check: CheckId) -> Result<&Http, Finding> {
        self.http
            .as_ref()
            .map_err(|e| Ctx::internal(check, format!("the HTTPS client could not be set up: {e}")))
    }

    // ---- URLs --------------------------------------------------------------------------------

    fn login_base(&self) -> &str {
        self.target.endpoints.login_base.trim_end_matches('/')
    }
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.login_base(),
            self.target.tenant.trim()
        )
    }
    pub fn devicecode_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/devicecode",
            self.login_base(),
            self.target.tenant.trim()
        )
    }
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            self.login_base(),
            self.target.tenant.trim()
        )
    }
    /// `{graph_base}/v1.0/users/{mailbox}/{rest...}`, the address encoded as one path segment.
    pub fn graph_user_url(&self, rest: &[&str]) -> Option<String> {
        let mailbox = self.target.mailbox.as_deref()?.trim();
        let mut url = url::Url::parse(&self.target.endpoints.graph_base).ok()?;
        {
            let mut segs = url.path_segments_mut().ok()?;
            segs.pop_if_empty().push("v1.0").push("users").push(mailbox);
            for r in rest {
                segs.push(r);
            }
        }
        Some(url.to_string())
    }
    pub fn graph_scope(&self) -> String {
        format!(
            "{}/.default",
            self.target.endpoints.graph_resource.trim_end_matches('/')
        )
    }

    // ---- shared lookups ----------------------------------------------------------------------

    /// OpenID discovery and the tenant's keys (two round trips, fetched once).
    pub async fn discovery(&self) -> &Result<Discovery, String> {
        self.discovery.get_or_init(|| self.fetch_discovery()).await
    }

    async fn fetch_discovery(&self) -> Result<Discovery, String> {
        let http = self.http.as_ref().map_err(|e| e.to_string())?;
        let reply = http
            .get(&self.discovery_url(), None, DEFAULT_BODY_CAP)
            .await
            .map_err(|e| e.describe())?;
        if !reply.is_success() {
            return Err(format!(
                "the OpenID configuration answered {}",
                reply.shape()
            ));
        }
        let config: OpenIdConfiguration = reply.json().ok_or_else(|| {
            format!(
                "the OpenID configuration is not the expected JSON ({})",
                reply.shape()
            )
        })?;
        let keys = http
            .get(&config.jwks_uri, None, DEFAULT_BODY_CAP)
            .await
            .map_err(|e| e.describe())?;
        if !keys.is_success() {
            return Err(format!("the signing keys answered {}", keys.shape()));
        }
        let keys = Keys::parse(&keys.body).ok_or_else(|| {
            format!(
                "the signing keys are not a JWKS document ({})",
                keys.shape()
            )
        })?;
        Ok(Discovery { config, keys })
    }

    /// The tenant's v1.0 key set (`.../discovery/keys`), next to the v2.0 one discovery named.
    pub async fn v1_keys(&self, config: &OpenIdConfiguration) -> Option<Keys> {
        let url = config
            .jwks_uri
            .replace("/discovery/v2.0/keys", "/discovery/keys");
        if url == config.jwks_uri {
            return None;
        }
        let reply = self
            .http
            .as_ref()
            .ok()?
            .get(&url, None, DEFAULT_BODY_CAP)
            .await
            .ok()?;
        reply
            .is_success()
            .then(|| Keys::parse(&reply.body))
            .flatten()
    }

    /// The Graph token for reading the user: the main token for method graph, a second
    /// client-credentials token (same credential, Graph `.default`) for method smtp.
    pub async fn lookup_token(&self) -> &LookupToken {
        self.lookup_token
            .get_or_init(|| self.obtain_lookup_token())
            .await
    }

    async fn obtain_lookup_token(&self) -> LookupToken {
        if self.target.method == Method::Graph {
            return match self.facts.token.get() {
                Some(t) => LookupToken::Ready(t.value.clone()),
                None => LookupToken::Unavailable(
                    "there is no Graph token (the token check did not pass)".into(),
                ),
            };
        }
        match &self.target.credential {
            Credential::Secret(_) | Credential::Certificate { .. } => {
                match token::client_credentials(self, &self.graph_scope()).await {
                    Ok(ok) => LookupToken::Ready(ok.access_token),
                    Err(failure) => LookupToken::Failed(failure),
                }
            }
            Credential::DeviceCode => LookupToken::Unavailable(
                "the device-code sign-in for smtp gives an Exchange token only, and reading the mailbox needs a Graph token".into(),
            ),
            Credential::None => LookupToken::Unavailable("no credential was given".into()),
        }
    }

    /// `GET /v1.0/users/{mailbox}?$select=...`, fetched once.
    pub async fn user_reply(&self) -> &GraphFetch {
        self.user
            .get_or_init(|| async {
                let Some(mut url) = self.graph_user_url(&[]) else {
                    return GraphFetch::NoMailbox;
                };
                url.push_str("?$select=");
                url.push_str(USER_SELECT);
                self.graph_get(&url).await
            })
            .await
    }

    /// `GET /v1.0/users/{mailbox}/mailboxSettings`, fetched once.
    pub async fn settings_reply(&self) -> &GraphFetch {
        self.settings
            .get_or_init(|| async {
                let Some(url) = self.graph_user_url(&["mailboxSettings"]) else {
                    return GraphFetch::NoMailbox;
                };
                self.graph_get(&url).await
            })
            .await
    }

    async fn graph_get(&self, url: &str) -> GraphFetch {
        let LookupToken::Ready(token) = self.lookup_token().await else {
            return GraphFetch::NoToken;
        };
        let Ok(http) = self.http.as_ref() else {
            return GraphFetch::NoToken;
        };
        match http.get(url, Some(token), DEFAULT_BODY_CAP).await {
            Ok(reply) => GraphFetch::Reply(reply),
            Err(e) => GraphFetch::Net(e),
        }
    }

    // ---- prefetches --------------------------------------------------------------------------

    /// Starts discovery now (in parallel with the token request) if `claims` will want it.
    pub fn prefetch_discovery(self: &Arc<Self>) {
        if self.overlap && self.planned(CheckId::Claims) {
            let cx = Arc::clone(self);
            self.spawn_background(async move {
                let _ = cx.discovery().await;
            });
        }
    }

    /// Starts the Graph lookups now (user record, mailbox settings) if `mailbox` or `licence`
    /// will want them. For method graph, call this once the main token is in `facts`.
    pub fn prefetch_graph_lookups(self: &Arc<Self>) {
        if !self.overlap || !(self.planned(CheckId::Mailbox) || self.planned(CheckId::Licence)) {
            return;
        }
        if self.target.mailbox.is_none() {
            return;
        }
        let cx = Arc::clone(self);
        self.spawn_background(async move {
            let _ = cx.user_reply().await;
        });
        let cx = Arc::clone(self);
        self.spawn_background(async move {
            let _ = cx.settings_reply().await;
        });
    }

    fn spawn_background(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work).abort_handle();
        if let Ok(mut list) = self.background.lock() {
            list.push(handle);
        }
    }

    /// Stops prefetches nobody will read any more (the run is over).
    pub fn abort_background(&self) {
        if let Ok(mut list) = self.background.lock() {
            for h in list.drain(..) {
                h.abort();
            }
        }
    }
}
