//! A scripted fake of Entra ID and Microsoft Graph for the check tests: real HTTPS (rustls, a CA
//! made at start) on 127.0.0.1, answering with the JSON shapes of the reference, tokens signed
//! RS256 by a test key whose JWKS it publishes. Each test scripts the answers it needs; the
//! defaults are a healthy tenant. Independent of diag-lab on purpose (small, deterministic).
#![allow(dead_code)]

pub mod lab;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{Method as HttpMethod, Uri},
    response::Response,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use diag_core::{
    secret::Secret,
    target::{Cloud, Credential, Endpoints, Method, Target},
};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{
    RsaPrivateKey,
    pkcs1::EncodeRsaPrivateKey,
    pkcs8::{EncodePrivateKey, LineEnding},
    traits::PublicKeyParts,
};
use serde_json::{Value, json};

pub const TENANT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const OTHER_TENANT_ID: &str = "99999999-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "00000000-0000-0000-0000-000000000001";
pub const SECRET: &str = "Xy7~Q_abcdefghijklmnopqrstuvwx.yz0123456";
pub const MAILBOX: &str = "scanner@contoso.com";
pub const LOGIN_HOST: &str = "login.fake.test";
pub const GRAPH_HOST: &str = "graph.fake.test";
pub const EXCHANGE_RESOURCE: &str = "https://outlook.office365.com";
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";

// ---- keys and tokens ----------------------------------------------------------------------

pub struct TestKey {
    pub kid: String,
    pub pkcs1_pem: String,
    pub pkcs8_pem: String,
    pub n: String,
    pub e: String,
}

fn make_key(kid: &str) -> TestKey {
    let mut rng = rsa::rand_core::OsRng;
    let key = RsaPrivateKey::new(&mut rng, 2048).expect("rsa key");
    TestKey {
        kid: kid.to_string(),
        pkcs1_pem: key.to_pkcs1_pem(LineEnding::LF).expect("pkcs1").to_string(),
        pkcs8_pem: key.to_pkcs8_pem(LineEnding::LF).expect("pkcs8").to_string(),
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    }
}

/// The tenant's signing key (published in the JWKS).
pub static KEY: LazyLock<TestKey> = LazyLock::new(|| make_key("tenant-key-1"));
/// Another key with the same `kid`: a token signed with it has a bad signature.
pub static FORGED: LazyLock<TestKey> = LazyLock::new(|| make_key("tenant-key-1"));
/// The app's certificate key (client assertion tests).
pub static APP_KEY: LazyLock<TestKey> = LazyLock::new(|| make_key("app"));

pub fn jwks() -> Value {
    jwks_of(&KEY)
}

pub fn jwks_of(key: &TestKey) -> Value {
    json!({ "keys": [ { "kty": "RSA", "use": "sig", "kid": key.kid, "x5t": key.kid, "n": key.n, "e": key.e } ] })
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn sign_with(key: &TestKey, claims: &Value, nonce: bool) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    if nonce {
        header.extras.insert("nonce", "graph-nonce-value");
    }
    let k = EncodingKey::from_rsa_pem(key.pkcs1_pem.as_bytes()).expect("encoding key");
    jsonwebtoken::encode(&header, claims, &k).expect("sign")
}

pub fn app_claims(aud: &str, roles: &[&str]) -> Value {
    let t = now();
    json!({
        "aud": aud, "iss": format!("https://sts.windows.net/{TENANT_ID}/"), "tid": TENANT_ID,
        "appid": CLIENT_ID, "idtyp": "app", "roles": roles, "oid": "aaaaaaaa-0000-0000-0000-000000000001",
        "iat": t, "nbf": t, "exp": t + 3600, "ver": "1.0"
    })
}

pub fn delegated_claims(aud: &str, scp: &str, upn: &str) -> Value {
    let t = now();
    json!({
        "aud": aud, "iss": format!("https://sts.windows.net/{TENANT_ID}/"), "tid": TENANT_ID,
        "appid": CLIENT_ID, "idtyp": "user", "scp": scp, "upn": upn, "oid": "bbbbbbbb-0000-0000-0000-000000000001",
        "iat": t, "nbf": t, "exp": t + 3600, "ver": "1.0"
    })
}

/// A token answer as Entra sends it.
pub fn token_answer(access_token: &str) -> Reply {
    Reply::json(
        200,
        json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token }),
    )
}

/// A token-endpoint error as Entra sends it (reference §2).
pub fn aadsts(status: u16, error: &str, code: u64, text: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0b9e3c2a-0000-4000-8000-000000000001\r\nCorrelation ID: 7c1d8e3f-0000-4000-8000-000000000002\r\nTimestamp: 2026-04-09 12:13:06Z"),
            "error_codes": [code],
            "timestamp": "2026-04-09 12:13:06Z",
            "trace_id": "0b9e3c2a-0000-4000-8000-000000000001",
            "correlation_id": "7c1d8e3f-0000-4000-8000-000000000002",
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}")
        }),
    )
}

/// A Graph error as Graph sends it (reference §6).
pub fn graph_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message,
            "innerError": { "request-id": "5f0c0000-0000-4000-8000-000000000003", "date": "2026-04-09T12:13:06", "client-request-id": "5f0c0000-0000-4000-8000-000000000004" } } }),
    )
}

pub fn plan(id: &str) -> Value {
    json!({ "assignedDateTime": "2025-01-01T00:00:00Z", "capabilityStatus": "Enabled", "service": "exchange", "servicePlanId": id })
}

pub const EXCHANGE_S_STANDARD: &str = "9aaf7827-d63c-4b61-89c3-182f06f82e5c";
pub const EXCHANGE_S_FOUNDATION: &str = "113feb6c-3fe4-4440-bddc-54d774bf0318";

pub fn user(enabled: bool, plans: &[&str]) -> Reply {
    let plans: Vec<Value> = plans.iter().map(|p| plan(p)).collect();
    Reply::json(
        200,
        json!({ "id": "cccccccc-0000-0000-0000-000000000001", "userPrincipalName": MAILBOX, "mail": MAILBOX,
                "accountEnabled": enabled, "assignedLicenses": [], "assignedPlans": plans,
                "onPremisesSyncEnabled": null, "userType": "Member" }),
    )
}

pub fn settings(purpose: &str) -> Reply {
    Reply::json(200, json!({ "timeZone": "UTC", "userPurpose": purpose }))
}

// ---- the scripted server --------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: v.to_string().into_bytes(),
        }
    }
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// The token endpoint's behaviour: the form fields in, an answer out.
pub type TokenFn = Arc<dyn Fn(&HashMap<String, String>) -> Reply + Send + Sync>;

#[derive(Clone)]
pub struct Script {
    pub token: TokenFn,
    pub devicecode: Reply,
    pub discovery: Option<Reply>,
    pub keys: Reply,
    /// The v1.0 key set (`/discovery/keys`).
    pub v1_keys: Reply,
    pub user: Reply,
    pub settings: Reply,
    pub send: Reply,
    /// Added before every answer.
    pub latency: Duration,
}

/// A healthy token endpoint: checks the secret (or accepts any assertion), then issues an
/// Exchange token with `SMTP.SendAsApp` or a Graph token with `Mail.Send` by scope.
pub fn healthy_token(form: &HashMap<String, String>) -> Reply {
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return aadsts(
            400,
            "unauthorized_client",
            700016,
            "Application not found in the directory.",
        );
    }
    if form.get("client_secret").is_some_and(|s| s != SECRET) {
        return aadsts(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope.contains("graph") {
        token_answer(&sign_with(
            &KEY,
            &app_claims(
                "https://graph.microsoft.com",
                &["Mail.Send", "User.Read.All"],
            ),
            true,
        ))
    } else {
        token_answer(&sign_with(
            &KEY,
            &app_claims(EXCHANGE_RESOURCE, &["SMTP.SendAsApp"]),
            false,
        ))
    }
}

impl Script {
    pub fn healthy() -> Script {
        Script {
            token: Arc::new(healthy_token),
            devicecode: Reply::json(404, json!({})),
            discovery: None,
            keys: Reply::json(200, jwks()),
            v1_keys: Reply::raw(404, "text/plain", "not found"),
            user: user(true, &[EXCHANGE_S_STANDARD]),
            settings: settings("user"),
            send: Reply::raw(202, "text/plain", ""),
            latency: Duration::ZERO,
        }
    }
    pub fn token(
        mut self,
        f: impl Fn(&HashMap<String, String>) -> Reply + Send + Sync + 'static,
    ) -> Script {
        self.token = Arc::new(f);
        self
    }
}

struct Shared {
    script: Mutex<Script>,
    log: Mutex<Vec<String>>,
    port: u16,
}

pub struct Fake {
    pub port: u16,
    pub ca_pem: String,
    /// A DNS server on loopback that refuses every query at once (see `refusing_dns`).
    pub dns: SocketAddr,
    shared: Arc<Shared>,
}

impl Fake {
    pub async fn start(script: Script) -> Fake {
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "xdiag test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf_params =
            rcgen::CertificateParams::new(vec![LOGIN_HOST.to_string(), GRAPH_HOST.to_string()])
                .expect("leaf params");
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            log: Mutex::new(Vec::new()),
            port,
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Fake {
            port,
            ca_pem: ca_cert.pem(),
            dns: refusing_dns().await,
            shared,
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.shared.script.lock().expect("script"));
    }

    /// `METHOD /path` of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().expect("log").clone()
    }

    pub fn endpoints(&self) -> Endpoints {
        let mut e = Cloud::Global.endpoints();
        e.login_base = format!("https://{LOGIN_HOST}:{}", self.port);
        e.graph_base = format!("https://{GRAPH_HOST}:{}", self.port);
        e.extra_ca_pem = Some(self.ca_pem.clone());
        e.resolve = vec![
            (
                LOGIN_HOST.to_string(),
                SocketAddr::from(([127, 0, 0, 1], self.port)),
            ),
            (
                GRAPH_HOST.to_string(),
                SocketAddr::from(([127, 0, 0, 1], self.port)),
            ),
        ];
        // Nothing here ever leaves loopback: the mail path points at a closed local port, and
        // DNS at a server that refuses at once (a closed UDP port would cost every query the
        // whole deadline: the ICMP "port unreachable" never reaches an unconnected socket).
        let closed = SocketAddr::from(([127, 0, 0, 1], 9));
        e.smtp_addr = Some(closed);
        e.mx_addr = Some(closed);
        e.dns_server = Some(self.dns);
        e
    }

    /// A healthy client-secret target for `method`.
    pub fn target(&self, method: Method) -> Target {
        Target {
            tenant: TENANT_ID.to_string(),
            client_id: CLIENT_ID.to_string(),
            credential: Credential::Secret(Secret::new(SECRET.to_string())),
            mailbox: Some(MAILBOX.to_string()),
            from: None,
            method,
            scope: None,
            domain: None,
            public_ip: None,
            cloud: Cloud::Global,
            endpoints: self.endpoints(),
            timeout: Duration::from_secs(5),
            send_test: None,
            only: None,
            device_tls: Default::default(),
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: HttpMethod,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    shared
        .log
        .lock()
        .expect("log")
        .push(format!("{method} {path}"));
    let script = shared.script.lock().expect("script").clone();
    if !script.latency.is_zero() {
        tokio::time::sleep(script.latency).await;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let reply = if path.ends_with("/oauth2/v2.0/token") {
        (script.token)(&form)
    } else if path.ends_with("/oauth2/v2.0/devicecode") {
        script.devicecode.clone()
    } else if path.ends_with("/v2.0/.well-known/openid-configuration") {
        script.discovery.clone().unwrap_or_else(|| {
            Reply::json(200, json!({
                "issuer": format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
                "jwks_uri": format!("https://{LOGIN_HOST}:{}/{TENANT_ID}/discovery/v2.0/keys", shared.port),
                "token_endpoint": format!("https://{LOGIN_HOST}:{}/{TENANT_ID}/oauth2/v2.0/token", shared.port),
            }))
        })
    } else if path.ends_with("/discovery/v2.0/keys") {
        script.keys.clone()
    } else if path.ends_with("/discovery/keys") {
        script.v1_keys.clone()
    } else if path.starts_with("/v1.0/users/") && path.ends_with("/mailboxSettings") {
        script.settings.clone()
    } else if path.starts_with("/v1.0/users/") && path.ends_with("/sendMail") {
        script.send.clone()
    } else if path.starts_with("/v1.0/users/") {
        script.user.clone()
    } else {
        Reply::raw(404, "text/plain", "not found")
    };
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(reply.body)).expect("response")
}

/// A UDP DNS server on loopback that answers every query `REFUSED` (RFC 1035 §4.1.1): the
/// question is echoed with QR set and RCODE 5, so a resolver gives up at once.
pub async fn refusing_dns() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind dns");
    let addr = socket.local_addr().expect("dns addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            if n < 12 {
                continue;
            }
            let mut answer = buf[..n].to_vec();
            answer[2] = 0x80 | (answer[2] & 0x79); // QR, keep opcode and RD, not AA/TC
            answer[3] = 0x80 | 5; // RA, REFUSED
            let _ = socket.send_to(&answer, peer).await;
        }
    });
    addr
}

/// A port that accepts connections and never says a word.
pub async fn blackhole() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    port
}

/// Runs the pipeline, collecting every event.
pub async fn run(target: &Target) -> (diag_core::report::Report, Vec<diag_core::pipeline::Event>) {
    let mut events = Vec::new();
    let report = diag_core::pipeline::run(target, &mut |e| events.push(e)).await;
    (report, events)
}

pub fn finding<'a>(
    report: &'a diag_core::report::Report,
    check: &str,
) -> &'a diag_core::finding::Finding {
    report
        .findings
        .iter()
        .find(|f| f.check.as_str() == check)
        .unwrap_or_else(|| panic!("no {check} finding in {:#?}", report.findings))
}

pub fn rule_of(report: &diag_core::report::Report, check: &str) -> Option<&'static str> {
    finding(report, check).rule.map(|r| r.as_str())
}

pub fn evidence<'a>(f: &'a diag_core::finding::Finding, key: &str) -> Option<&'a str> {
    f.evidence
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}
