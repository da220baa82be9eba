//! The offline lab tenant: a simulated Microsoft 365 tenant on loopback, driven by a scenario
//! file that describes tenant **state** (never the expected diagnosis). `xdiag lab` runs the
//! real `check` pipeline against it, and the integration tests use it as their target.
//!
//! This crate knows nothing of the client (`diag-core`) on purpose: it implements the server
//! side from `shared/reference/microsoft-facts.md` on its own, so a misreading of the service
//! cannot hide in code shared by both sides.
//!
//! What it emulates, and where each behaviour comes from in the reference:
//! - **Entra ID token endpoint** (`entra`): `POST /{tenant}/oauth2/v2.0/token` for client
//!   credentials (secret or RS256 client assertion), device code, password and refresh grants;
//!   `POST /{tenant}/oauth2/v2.0/devicecode`. Tenant by GUID or verified domain. Every failure is
//!   the AADSTS code of §1 (1a tenant, 1b credentials, 1c scope/consent, 1d Conditional Access and
//!   MFA, 1e device code) in the JSON body of §2, `error_description` carrying Trace ID,
//!   Correlation ID and Timestamp. Client credentials without consent still get a token, just
//!   without `roles` (§1c last paragraph, §3 `roles`).
//! - **Tokens** (`entra::issue`, `jwt`): v1.0 RS256 JWTs signed by a key generated at start,
//!   `kid`/`x5t` matching the JWKS, with the claims of §3 (`aud` in the form the scope named the
//!   resource, `iss` = `https://sts.windows.net/{tid}/`, `tid`, `appid`, `appidacr`, `roles` or
//!   `scp`, `idtyp`, `oid`, `upn`...). Graph tokens carry a header `nonce` and are signed over
//!   its hash, so standard verification fails as §3 "Graph tokens can't be signature-checked by
//!   third parties" describes; the lab's Graph knows the rule.
//! - **Discovery** (`entra::discovery`): the v2 and v1 OpenID configuration documents and the
//!   JWKS of §3 "Signing keys / discovery", pointing at the lab's own base URL.
//! - **Microsoft Graph** (`graph`): `/v1.0/users/{id | upn}` (default property set, `$select`,
//!   `assignedLicenses`/`assignedPlans` per §8), `/mailboxSettings`, `/sendMail` (202, or the
//!   codes of §6: ErrorAccessDenied, "Access to OData is disabled." for an Application Access
//!   Policy, ErrorSendAsDenied, ErrorInvalidRecipients, ErrorInvalidUser,
//!   MailboxNotEnabledForRESTAPI, Authorization_RequestDenied, InvalidAuthenticationToken), with
//!   Graph's error body of §6. Every call validates its bearer token.
//! - **Network** (`http::server`): `token_endpoint = "down"` leaves the login port refusing
//!   connections; `"slow"` answers after [`SLOW_ANSWER_DELAY`]; [`LabOptions::latency`] delays
//!   every answer.
//! - **TLS** (`crypto`): a CA generated at start (rcgen) issues the server certificate for
//!   `localhost` and `127.0.0.1` on an RSA key; rustls with the ring provider serves it.
//!
//! - **SMTP submission** (`smtp`, §4, §5): STARTTLS, `AUTH LOGIN XOAUTH2` only after TLS, XOAUTH2
//!   tokens checked as Exchange does (signature, audience, switches, SMTP.SendAsApp / service
//!   principal / FullAccess, or SMTP.Send and the signed-in user), Basic per tenant policy, Send
//!   As at submission; every reply word for word (`smtp::replies` names each source).
//! - **MX** (`smtp`, §7): direct send and connector relay (`[[connector]]`), the site seen as
//!   `site_public_ip`; 5.7.54 / 5.7.64 / 5.7.68 / 5.4.1 / 5.7.606 at RCPT, SPF and DMARC (the
//!   lab's own evaluator) at the end of DATA.
//! - **DNS** (`dns`): the scenario's records, authoritative, on hickory-server; NXDOMAIN and
//!   NODATA kept apart.
//! - **Ports** (`ports`): `refused_ports` / `blocked_ports` for the 587 and 25 roles (a refusing
//!   port, or a loopback address whose connects hang until the client's deadline).
//!
//! ```no_run
//! # async fn demo() -> Result<(), diag_lab::LabError> {
//! let scenario = diag_lab::Scenario::builtin("expired-secret").expect("built in");
//! let lab = diag_lab::Lab::start(&scenario, diag_lab::LabOptions::default()).await?;
//! let token_url = format!("{}/{}/oauth2/v2.0/token", lab.endpoints().login_base, lab.device().settings.tenant);
//! # let _ = token_url;
//! lab.shutdown().await;
//! # Ok(()) }
//! ```

mod crypto;
mod dns;
mod endpoints;
mod entra;
mod error;
mod graph;
mod http;
mod ids;
mod jwt;
mod lab;
mod mail_path;
mod outbox;
mod plans;
mod ports;
mod resource;
pub mod scenario;
mod smtp;
mod state;

pub use endpoints::{ClientCertificate, DeviceInputs, Endpoints};
pub use error::LabError;
pub use lab::{Lab, LabOptions, SLOW_ANSWER_DELAY};
pub use outbox::SentMessage;
pub use scenario::{Scenario, ScenarioError};
