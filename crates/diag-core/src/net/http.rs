//! The HTTPS client of a run. Every request is bounded twice: by a deadline on the whole
//! operation (connect, TLS, request, every byte of the answer) and by a cap on the body size, so
//! a blackholed endpoint or a 50 MB answer costs one timeout or one capped read, never a hang.
use std::{
    net::SocketAddr,
    sync::{Arc, LazyLock},
    time::Duration,
};

use rustls_pki_types::{CertificateDer, pem::PemObject};
use serde::de::DeserializeOwned;

use super::{
    error::{DnsFailure, NetError, NetSetupError},
    proxy::proxy_for,
};
use crate::{secret::Secret, target::Endpoints};

/// Answers larger than this are cut off: no token, Graph or discovery answer comes near it.
pub const DEFAULT_BODY_CAP: usize = 1 << 20;

/// The operating system's trust anchors, read once per process.
static SYSTEM_ROOTS: LazyLock<Vec<CertificateDer<'static>>> =
    LazyLock::new(|| rustls_native_certs::load_native_certs().certs);

/// One HTTP answer, read up to the cap.
#[derive(Clone, Debug)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: Option<String>,
    /// `Retry-After` as sent (Graph throttling).
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than the cap and was cut off.
    pub truncated: bool,
}

impl HttpReply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The body as JSON of type `T`; `None` when cut off or not that JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        if self.truncated {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }
    pub fn looks_like_json(&self) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
            || self.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    }
    /// What the answer was, for evidence when it is not what we expected (never the body of a
    /// successful token answer, which holds the token).
    pub fn shape(&self) -> String {
        let ct = self.content_type.as_deref().unwrap_or("no content type");
        let size = if self.truncated {
            format!("more than {} bytes", self.body.len())
        } else {
            format!("{} bytes", self.body.len())
        };
        format!("HTTP {}, {ct}, {size}", self.status)
    }
}

/// A reqwest client set up for one run's endpoints.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    deadline: Duration,
}

impl Http {
    /// Trusts the system roots, plus `endpoints.extra_ca_pem` when set (the lab's CA); applies
    /// `endpoints.resolve` overrides; takes the proxy from the environment.
    pub fn new(endpoints: &Endpoints, deadline: Duration) -> Result<Http, NetSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        // Some system bundles hold a certificate rustls refuses; skipping it is what browsers do.
        let (_added, _ignored) = roots.add_parsable_certificates(SYSTEM_ROOTS.iter().cloned());
        if let Some(pem) = &endpoints.extra_ca_pem {
            let mut any = false;
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| NetSetupError::BadExtraCa(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| NetSetupError::BadExtraCa(e.to_string()))?;
                any = true;
            }
            if !any {
                return Err(NetSetupError::BadExtraCa(
                    "no CERTIFICATE block found".into(),
                ));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| NetSetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(SystemResolver))
            .connect_timeout(deadline)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("xdiag/", env!("CARGO_PKG_VERSION")));
        for (host, addr) in &endpoints.resolve {
            builder = builder.resolve(host, *addr);
        }
        let client = builder
            .build()
            .map_err(|e| NetSetupError::Client(e.to_string()))?;
        Ok(Http { client, deadline })
    }

    /// The deadline of every single operation.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    pub async fn get(
        &self,
        url: &str,
        bearer: Option<&Secret<String>>,
        cap: usize,
    ) -> Result<HttpReply, NetError> {
        let mut req = self.client.get(url).header("Accept", "application/json");
        if let Some(token) = bearer {
            req = req.bearer_auth(token.expose());
        }
        self.execute(url, req, cap).await
    }

    /// `application/x-www-form-urlencoded` POST (the token endpoint).
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        cap: usize,
    ) -> Result<HttpReply, NetError> {
        let req = self
            .client
            .post(url)
            .header("Accept", "application/json")
            .form(form);
        self.execute(url, req, cap).await
    }

    pub async fn post_json(
        &self,
        url: &str,
        bearer: Option<&Secret<String>>,
        body: &serde_json::Value,
        cap: usize,
    ) -> Result<HttpReply, NetError> {
        let mut req = self
            .client
            .post(url)
            .header("Accept", "application/json")
            .json(body);
        if let Some(token) = bearer {
            req = req.bearer_auth(token.expose());
        }
        self.execute(url, req, cap).await
    }

    async fn execute(
        &self,
        url: &str,
        req: reqwest::RequestBuilder,
        cap: usize,
    ) -> Result<HttpReply, NetError> {
        let parsed = url::Url::parse(url).map_err(|e| NetError {
            kind: super::NetErrorKind::Other,
            host: String::new(),
            proxy: None,
            detail: format!("not a valid URL: {e}"),
        })?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let proxy = proxy_for(&parsed);
        let deadline = self.deadline;
        let work = async {
            let to_err =
                |e: reqwest::Error| NetError::from_reqwest(&e, &host, proxy.clone(), deadline);
            let mut resp = req.send().await.map_err(to_err)?;
            let header = |name: reqwest::header::HeaderName| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let content_type = header(reqwest::header::CONTENT_TYPE);
            let retry_after = header(reqwest::header::RETRY_AFTER);
            let status = resp.status().as_u16();
            let mut body = Vec::new();
            let mut truncated = resp.content_length().is_some_and(|n| n > cap as u64);
            while !truncated {
                match resp.chunk().await.map_err(to_err)? {
                    None => break,
                    Some(chunk) if body.len() + chunk.len() > cap => {
                        body.extend_from_slice(&chunk[..cap - body.len()]);
                        truncated = true;
                    }
                    Some(chunk) => body.extend_from_slice(&chunk),
                }
            }
            Ok(HttpReply {
                status,
                content_type,
                retry_after,
                body,
                truncated,
            })
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(NetError::timeout(&host, deadline, proxy)),
        }
    }
}

/// The system resolver (getaddrinfo via tokio), raising `DnsFailure` so failures are recognisable.
struct SystemResolver;

impl reqwest::dns::Resolve for SystemResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // IP literals never reach a resolver, so `host:0` is always a name and a port.
            match tokio::net::lookup_host(format!("{host}:0")).await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        Err(Box::new(DnsFailure {
                            host,
                            detail: "no address".into(),
                        }) as _)
                    } else {
                        Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
                    }
                }
                Err(e) => Err(Box::new(DnsFailure {
                    host,
                    detail: e.to_string(),
                }) as _),
            }
        })
    }
}
