//! `smtp-tls`: the submission host as a device meets it. Greeting, EHLO, STARTTLS, the
//! negotiated TLS version and cipher suite, the chain the server presents and the root it
//! anchors to (Microsoft moved to DigiCert Global Root G2: the root is named so the technician
//! knows what the device must trust), then EHLO again for the AUTH mechanisms. A port that
//! answers TLS at once (implicit TLS, as on 465) and a server without STARTTLS are their own
//! findings. When TLS 1.3 was negotiated, a second handshake limited to TLS 1.2 shows whether a
//! device that stops at 1.2 (most printers) still gets in.
//!
//! The session helpers here (`open_submission`, `error_finding`) are shared by `smtp-auth` and
//! `smtp-send`, which open their own connection the same way.
use std::sync::Arc;

use super::context::Ctx;
use crate::{
    check::CheckId,
    classify::smtp::{SmtpPath, classify},
    finding::{Evidence, Finding},
    net::{
        smtp::{
            Capabilities, DeviceStartTls, ImplicitTls, Reply, ServerChose, SmtpClient, SmtpError,
            StartTls, TlsFailure, TlsFailureKind, TlsInfo, TlsSetup, TlsVersions, Transcript,
            describe_device_tls, probe_implicit_tls,
        },
        tcp::{ConnectFailure, host_port},
    },
    rules::{RuleId, ids},
    target::DeviceTls,
};

const CHECK: CheckId = CheckId::SmtpTls;

/// Every rule `reach`, `smtp-tls`, `smtp-auth`, `smtp-send` and `relay` can put into a finding
/// (for `checks::emitted_rules`): the network, DNS and TLS ones they name themselves, and every
/// rule the SMTP reply classifier names (including the narrowing of a bare `535 5.7.3`).
pub(crate) fn rules() -> Vec<RuleId> {
    let mut all = vec![
        ids::NET_PORT_587_BLOCKED,
        ids::NET_PORT_25_BLOCKED,
        ids::NET_CONNECT_TIMEOUT,
        ids::DNS_DOMAIN_NOT_FOUND,
        ids::DNS_MX_MISSING,
        ids::DNS_TIMEOUT,
        ids::SMTP_STARTTLS_REQUIRED,
        ids::SMTP_IMPLICIT_TLS_ON_587,
        ids::TLS_UNTRUSTED_ROOT,
        ids::TLS_NO_SHARED_CIPHER,
        ids::TLS_VERSION_TOO_OLD,
        ids::XDIAG_INTERNAL_ERROR,
    ];
    all.extend(crate::classify::smtp::rules());
    all
}

/// A submission connection after STARTTLS and the second EHLO.
pub(super) struct Session {
    pub client: SmtpClient,
    pub greeting: Reply,
    pub before: Capabilities,
    pub after: Capabilities,
    pub tls: TlsInfo,
}

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let setup = match tls_setup(cx, CHECK) {
        Ok(s) => s,
        Err(f) => return *f,
    };
    let mut session = match open_submission(cx, CHECK, &setup, TlsVersions::Modern).await {
        Ok(s) => s,
        Err(f) => return *f,
    };
    session.client.quit().await;
    let mut evidence = session_evidence(cx, &session);

    // Most printers stop at TLS 1.2: if 1.3 was chosen, see whether 1.2 is still accepted.
    let mut finding = None;
    if session.tls.version == "TLS 1.3" {
        match tls12_probe(cx, &setup).await {
            Ok(info) => evidence.push(Evidence::new(
                "tls12",
                format!("accepted ({})", info.cipher),
            )),
            Err(SmtpError::Tls(f))
                if matches!(
                    f.kind,
                    TlsFailureKind::NoSharedCipher | TlsFailureKind::ProtocolVersion
                ) =>
            {
                evidence.push(Evidence::new("tls12", format!("refused: {}", f.detail)));
                // A refused version is a version problem; a refused cipher list a cipher one.
                let rule = if f.kind == TlsFailureKind::ProtocolVersion {
                    ids::TLS_VERSION_TOO_OLD
                } else {
                    ids::TLS_NO_SHARED_CIPHER
                };
                finding = Some(Finding::warn(
                    CHECK,
                    rule,
                    format!(
                        "{} accepts TLS 1.3 only: a device limited to TLS 1.2 cannot connect",
                        endpoint(cx)
                    ),
                ));
            }
            Err(e) => evidence.push(Evidence::new("tls12", format!("not tested: {e}"))),
        }
    }
    // An older device offers less than xdiag: send its ClientHello and see what the server says.
    let mut device_transcript = None;
    let device = cx.target.device_tls;
    if device != DeviceTls::Modern {
        evidence.push(Evidence::new("device_tls", describe_device_tls(device)));
        let (result, transcript) = device_probe(cx, device).await;
        device_transcript = transcript;
        match result {
            Ok(chose) => evidence.push(Evidence::new(
                "device_handshake",
                format!(
                    "accepted: the server chose {} with {}",
                    chose.version, chose.suite
                ),
            )),
            Err(SmtpError::Tls(t))
                if matches!(
                    t.kind,
                    TlsFailureKind::NoSharedCipher
                        | TlsFailureKind::ProtocolVersion
                        | TlsFailureKind::Closed
                ) =>
            {
                evidence.push(Evidence::new(
                    "device_handshake",
                    format!("refused: {}", t.detail),
                ));
                finding = Some(device_refused(cx, device, &t));
            }
            Err(e) => evidence.push(Evidence::new(
                "device_handshake",
                format!("not tested: {e}"),
            )),
        }
    }
    let mut f = finding.unwrap_or_else(|| Finding::pass(CHECK, pass_summary(&session.tls)));
    f.evidence.extend(evidence);
    f.evidence
        .extend(transcript_evidence(session.client.transcript()));
    if let Some(t) = device_transcript {
        f.evidence.extend(
            transcript_evidence(&t)
                .into_iter()
                .map(|e| Evidence::new("device_smtp", e.value)),
        );
    }
    f
}

/// The server refused the device's own ClientHello: no suite (case-26) or no version in common.
fn device_refused(cx: &Ctx, device: DeviceTls, t: &TlsFailure) -> Finding {
    let host = endpoint(cx);
    let (rule, summary) = match device {
        DeviceTls::Tls11 => (
            ids::TLS_VERSION_TOO_OLD,
            format!("{host} refused the device's TLS 1.0/1.1 handshake: it needs TLS 1.2 or later"),
        ),
        _ => (
            ids::TLS_NO_SHARED_CIPHER,
            format!(
                "{host} refused the device's TLS handshake: no cipher suite in common (the device offers static-RSA suites only, the server ECDHE only)"
            ),
        ),
    };
    cx.judged(CHECK, rule, summary)
        .with("tls_error", format!("{}: {}", t.kind.as_str(), t.detail))
}

/// A second connection on which the device's own ClientHello goes out after STARTTLS.
async fn device_probe(
    cx: &Ctx,
    device: DeviceTls,
) -> (Result<ServerChose, SmtpError>, Option<Transcript>) {
    let ep = &cx.target.endpoints;
    let host = ep.smtp_host.trim();
    let addr = match super::reach::address(cx, host, ep.smtp_port, ep.smtp_addr).await {
        Ok(a) => a,
        Err(e) => return (Err(SmtpError::Connect(e)), None),
    };
    let mut client = match SmtpClient::connect(host, ep.smtp_port, addr, cx.target.timeout).await {
        Ok(c) => c,
        Err(e) => return (Err(e), None),
    };
    let result = async {
        let g = client.greeting().await?;
        let e = client.ehlo().await?;
        if g.code != 220 || !e.is_positive() || !Capabilities::from_reply(&e).starttls() {
            return Err(SmtpError::BadInput(
                "the server did not offer STARTTLS the second time".into(),
            ));
        }
        match client.starttls_as_device(device).await? {
            DeviceStartTls::Accepted(chose) => Ok(chose),
            DeviceStartTls::Refused(r) => {
                Err(SmtpError::BadInput(format!("STARTTLS refused: {r}")))
            }
        }
    }
    .await;
    (result, Some(client.transcript().clone()))
}

fn pass_summary(tls: &TlsInfo) -> String {
    let root = tls
        .root
        .as_ref()
        .map(|r| common_name(&r.name))
        .unwrap_or_else(|| "an unnamed root".into());
    format!("{} ({}), chain anchored at {root}", tls.version, tls.cipher)
}

/// The trust store for this run: the system's roots plus the lab's CA when given.
pub(super) fn tls_setup(cx: &Ctx, check: CheckId) -> Result<TlsSetup, Box<Finding>> {
    TlsSetup::new(cx.target.endpoints.extra_ca_pem.as_deref()).map_err(|e| {
        Box::new(Ctx::internal(
            check,
            format!("TLS could not be set up: {e}"),
        ))
    })
}

/// `smtp.office365.com:587`.
pub(super) fn endpoint(cx: &Ctx) -> String {
    host_port(
        cx.target.endpoints.smtp_host.trim(),
        cx.target.endpoints.smtp_port,
    )
}

/// Connects to the submission host and goes as far as EHLO after STARTTLS. Every way this can
/// fail is the finding that explains it (with the transcript so far).
pub(super) async fn open_submission(
    cx: &Ctx,
    check: CheckId,
    setup: &TlsSetup,
    versions: TlsVersions,
) -> Result<Session, Box<Finding>> {
    let ep = &cx.target.endpoints;
    let host = ep.smtp_host.trim();
    let deadline = cx.target.timeout;
    let addr = super::reach::address(cx, host, ep.smtp_port, ep.smtp_addr)
        .await
        .map_err(|e| {
            Box::new(error_finding(
                cx,
                check,
                &SmtpError::Connect(e),
                SmtpPath::Submission,
                &Transcript::default(),
            ))
        })?;
    let mut client = SmtpClient::connect(host, ep.smtp_port, addr, deadline)
        .await
        .map_err(|e| {
            Box::new(error_finding(
                cx,
                check,
                &e,
                SmtpPath::Submission,
                &Transcript::default(),
            ))
        })?;
    let fail = |client: &SmtpClient, e: &SmtpError| {
        Box::new(error_finding(
            cx,
            check,
            e,
            SmtpPath::Submission,
            client.transcript(),
        ))
    };

    let greeting = match client.greeting().await {
        Ok(r) if r.code == 220 => r,
        Ok(r) => {
            return Err(Box::new(refused(
                cx,
                check,
                "greeted with a refusal",
                &r,
                SmtpPath::Submission,
                client.transcript(),
            )));
        }
        Err(SmtpError::Timeout { .. }) => {
            return Err(Box::new(silent_greeting(cx, check, setup, &client).await));
        }
        Err(e) => return Err(fail(&client, &e)),
    };
    let ehlo = client.ehlo().await.map_err(|e| fail(&client, &e))?;
    if !ehlo.is_positive() {
        return Err(Box::new(refused(
            cx,
            check,
            "refused EHLO",
            &ehlo,
            SmtpPath::Submission,
            client.transcript(),
        )));
    }
    let before = Capabilities::from_reply(&ehlo);
    if !before.starttls() {
        let mut f = cx.judged(
            check,
            ids::SMTP_STARTTLS_REQUIRED,
            format!("{} does not offer STARTTLS, so no device can authenticate there (a firewall may strip it)", endpoint(cx)),
        );
        f.evidence.push(Evidence::new("ehlo", before.summary()));
        f.evidence.extend(transcript_evidence(client.transcript()));
        client.quit().await;
        return Err(Box::new(f));
    }
    let tls = match client.starttls(setup, versions).await {
        Ok(StartTls::Upgraded(info)) => info,
        Ok(StartTls::Refused(r)) => {
            return Err(Box::new(refused(
                cx,
                check,
                "refused STARTTLS",
                &r,
                SmtpPath::Submission,
                client.transcript(),
            )));
        }
        Err(e) => return Err(fail(&client, &e)),
    };
    let ehlo = client.ehlo().await.map_err(|e| fail(&client, &e))?;
    if !ehlo.is_positive() {
        return Err(Box::new(refused(
            cx,
            check,
            "refused EHLO after STARTTLS",
            &ehlo,
            SmtpPath::Submission,
            client.transcript(),
        )));
    }
    let after = Capabilities::from_reply(&ehlo);
    Ok(Session {
        client,
        greeting,
        before,
        after,
        tls,
    })
}

/// No greeting: a port that waits for a TLS ClientHello (implicit TLS) or a silent one.
async fn silent_greeting(
    cx: &Ctx,
    check: CheckId,
    setup: &TlsSetup,
    client: &SmtpClient,
) -> Finding {
    let deadline = cx.target.timeout;
    let probe = match client.peer_addr() {
        Some(addr) => probe_implicit_tls(setup, client.host(), addr, deadline).await,
        None => ImplicitTls::NoConnection("the peer address is unknown".into()),
    };
    let mut f = match &probe {
        ImplicitTls::Speaks(result) => {
            let mut f = cx.judged(
                check,
                ids::SMTP_IMPLICIT_TLS_ON_587,
                format!("{} expects TLS at once (implicit TLS, as on 465) instead of an SMTP greeting and STARTTLS", endpoint(cx)),
            );
            match result {
                Ok(info) => f.evidence.extend(tls_evidence(info)),
                Err(fail) => {
                    f.evidence.push(Evidence::new(
                        "implicit_tls",
                        format!("handshake started, then failed: {}", fail.detail),
                    ));
                    f.evidence.extend(chain_evidence(fail));
                }
            }
            f
        }
        ImplicitTls::Silent | ImplicitTls::PlainText(_) | ImplicitTls::NoConnection(_) => {
            let mut f = cx.judged(
                check,
                ids::NET_CONNECT_TIMEOUT,
                format!(
                    "{} accepted the connection but sent no greeting within {}",
                    endpoint(cx),
                    human(cx)
                ),
            );
            let what = match &probe {
                ImplicitTls::Silent => "no answer to a TLS handshake either".to_string(),
                ImplicitTls::PlainText(d) => {
                    format!("answered a TLS handshake in plain text ({d})")
                }
                ImplicitTls::NoConnection(d) => format!("not tried: {d}"),
                ImplicitTls::Speaks(_) => String::new(),
            };
            f.evidence.push(Evidence::new("implicit_tls_probe", what));
            f
        }
    };
    f.evidence.extend(transcript_evidence(client.transcript()));
    f
}

/// A second connection offering TLS 1.2 only (ECDHE suites: rustls has no others).
async fn tls12_probe(cx: &Ctx, setup: &TlsSetup) -> Result<TlsInfo, SmtpError> {
    let ep = &cx.target.endpoints;
    let host = ep.smtp_host.trim();
    let addr = super::reach::address(cx, host, ep.smtp_port, ep.smtp_addr)
        .await
        .map_err(SmtpError::Connect)?;
    let mut client = SmtpClient::connect(host, ep.smtp_port, addr, cx.target.timeout).await?;
    let result = async {
        let g = client.greeting().await?;
        let e = client.ehlo().await?;
        if g.code != 220 || !e.is_positive() || !Capabilities::from_reply(&e).starttls() {
            return Err(SmtpError::BadInput(
                "the server did not offer STARTTLS the second time".into(),
            ));
        }
        match client.starttls(setup, TlsVersions::Tls12Only).await? {
            StartTls::Upgraded(info) => Ok(info),
            StartTls::Refused(r) => Err(SmtpError::BadInput(format!("STARTTLS refused: {r}"))),
        }
    }
    .await;
    client.quit().await;
    result
}

/// A negative reply where a positive one was needed: the rule it names, else an xdiag error
/// naming the reply (there is no rule for it).
pub(super) fn refused(
    cx: &Ctx,
    check: CheckId,
    what: &str,
    reply: &Reply,
    path: SmtpPath,
    transcript: &Transcript,
) -> Finding {
    let mut f = match classify(reply.code, &reply.text(), path) {
        Some(rule) => cx.judged(
            check,
            rule,
            format!("the server {what}: {}", reply.one_line()),
        ),
        None => Ctx::internal(
            check,
            format!(
                "the server {what} with a reply xdiag has no rule for: {}",
                reply.one_line()
            ),
        ),
    };
    f.evidence.push(Evidence::new("reply", reply.one_line()));
    f.evidence.extend(transcript_evidence(transcript));
    f
}

/// An exchange that produced no reply, as the finding that explains it.
pub(super) fn error_finding(
    cx: &Ctx,
    check: CheckId,
    err: &SmtpError,
    path: SmtpPath,
    transcript: &Transcript,
) -> Finding {
    let port_blocked = match path {
        SmtpPath::Submission => ids::NET_PORT_587_BLOCKED,
        SmtpPath::Mx => ids::NET_PORT_25_BLOCKED,
    };
    let mut f = match err {
        SmtpError::Connect(e) => {
            let rule = if e.kind == ConnectFailure::Dns {
                ids::DNS_DOMAIN_NOT_FOUND
            } else {
                port_blocked
            };
            let mut f = cx.judged(check, rule, e.describe());
            f.evidence.push(Evidence::new("network", e.kind.as_str()));
            if let Some(a) = e.addr {
                f.evidence.push(Evidence::new("address", a.to_string()));
            }
            f
        }
        SmtpError::Timeout { waiting_for, after } => cx.judged(
            check,
            ids::NET_CONNECT_TIMEOUT,
            format!("connected, but no reply to {waiting_for} within {after}"),
        ),
        SmtpError::Closed { waiting_for } if waiting_for == "the greeting" => cx.judged(
            check,
            port_blocked,
            "the server closed the connection without a greeting".to_string(),
        ),
        SmtpError::NotSmtp {
            looks_like_tls: true,
            waiting_for,
            ..
        } if waiting_for == "the greeting" => cx.judged(
            check,
            ids::SMTP_IMPLICIT_TLS_ON_587,
            "the server sent TLS instead of an SMTP greeting (implicit TLS, as on 465)".to_string(),
        ),
        SmtpError::Tls(t) => {
            let mut f = tls_finding(cx, check, t);
            f.evidence.extend(chain_evidence(t));
            f
        }
        SmtpError::Closed { .. }
        | SmtpError::TooLong { .. }
        | SmtpError::NotSmtp { .. }
        | SmtpError::Io { .. }
        | SmtpError::BadInput(_) => {
            Ctx::internal(check, format!("the SMTP exchange stopped: {err}"))
        }
    };
    f.evidence.extend(transcript_evidence(transcript));
    f
}

fn tls_finding(cx: &Ctx, check: CheckId, t: &TlsFailure) -> Finding {
    let host = endpoint(cx);
    let root = t.root.as_ref().map(|r| common_name(&r.name));
    let (rule, summary): (RuleId, String) = match t.kind {
        TlsFailureKind::Untrusted => (
            ids::TLS_UNTRUSTED_ROOT,
            match root {
                Some(r) => format!(
                    "the certificate chain of {host} ends at {r}, which is not a trusted root here"
                ),
                None => format!("the certificate chain of {host} does not lead to a trusted root"),
            },
        ),
        TlsFailureKind::NameMismatch => (
            ids::TLS_UNTRUSTED_ROOT,
            format!("the certificate {host} presented is not issued for that name"),
        ),
        TlsFailureKind::Expired => (
            ids::TLS_UNTRUSTED_ROOT,
            format!("the certificate {host} presented is expired or not yet valid"),
        ),
        TlsFailureKind::NoSharedCipher => (
            ids::TLS_NO_SHARED_CIPHER,
            format!("{host} refused the TLS handshake: no cipher suite in common"),
        ),
        TlsFailureKind::ProtocolVersion => (
            ids::TLS_NO_SHARED_CIPHER,
            format!("{host} refused the TLS handshake: no TLS version in common"),
        ),
        TlsFailureKind::Closed => (
            ids::TLS_NO_SHARED_CIPHER,
            format!("{host} closed the connection during the TLS handshake"),
        ),
        TlsFailureKind::Timeout => (
            ids::NET_CONNECT_TIMEOUT,
            format!(
                "{host} did not complete the TLS handshake within {}",
                human(cx)
            ),
        ),
        TlsFailureKind::NotTls | TlsFailureKind::Other => {
            return Ctx::internal(
                check,
                format!("the TLS handshake with {host} failed: {}", t.detail),
            );
        }
    };
    cx.judged(check, rule, summary)
        .with("tls_error", format!("{}: {}", t.kind.as_str(), t.detail))
}

/// What the greeting, both EHLOs and the handshake showed.
pub(super) fn session_evidence(cx: &Ctx, s: &Session) -> Vec<Evidence> {
    let mut ev = vec![Evidence::new("server", endpoint(cx))];
    if let Some(a) = s.client.peer_addr() {
        ev.push(Evidence::new("address", a.to_string()));
    }
    ev.push(Evidence::new("greeting", s.greeting.one_line()));
    ev.push(Evidence::new("ehlo_before_tls", s.before.summary()));
    ev.extend(tls_evidence(&s.tls));
    let mechs = s.after.auth_mechanisms();
    ev.push(Evidence::new(
        "auth_mechanisms",
        if mechs.is_empty() {
            "(none offered)".to_string()
        } else {
            mechs.join(" ")
        },
    ));
    ev
}

pub(super) fn tls_evidence(tls: &TlsInfo) -> Vec<Evidence> {
    let mut ev = vec![
        Evidence::new("tls_version", &tls.version),
        Evidence::new("cipher_suite", &tls.cipher),
    ];
    ev.extend(certificates(&tls.chain));
    if let Some(r) = &tls.root {
        ev.extend(root_evidence(r));
    }
    ev
}

fn chain_evidence(t: &TlsFailure) -> Vec<Evidence> {
    let mut ev = certificates(&t.chain);
    if let Some(r) = &t.root {
        ev.extend(root_evidence(r));
    }
    ev
}

fn certificates(chain: &[crate::net::smtp::CertSummary]) -> Vec<Evidence> {
    chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = if i == 0 {
                "certificate".to_string()
            } else {
                format!("chain_{i}")
            };
            Evidence::new(
                key,
                format!(
                    "{} (issuer {}, expires {}, SHA-1 {})",
                    c.subject, c.issuer, c.not_after, c.sha1
                ),
            )
        })
        .collect()
}

fn root_evidence(r: &crate::net::smtp::RootInfo) -> Vec<Evidence> {
    let mut ev = vec![Evidence::new("root", &r.name)];
    if let Some(s) = &r.sha1 {
        ev.push(Evidence::new("root_sha1", s));
    }
    ev.push(Evidence::new(
        "root_trusted_here",
        if r.in_trust_store { "yes" } else { "no" },
    ));
    ev
}

/// The transcript, one evidence line per line (renderers show evidence one line each).
pub(super) fn transcript_evidence(t: &Transcript) -> Vec<Evidence> {
    let mut ev: Vec<Evidence> = t.lines().iter().map(|l| Evidence::new("smtp", l)).collect();
    let text = t.to_text();
    if let Some(last) = text
        .lines()
        .last()
        .filter(|l| l.ends_with("more lines not kept"))
    {
        ev.push(Evidence::new("smtp", last));
    }
    ev
}

/// `CN=DigiCert Global Root G2, O=...` -> `DigiCert Global Root G2`.
pub(super) fn common_name(dn: &str) -> String {
    dn.split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or_else(|| dn.to_string())
}

fn human(cx: &Ctx) -> String {
    let ms = cx.target.timeout.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_named_by_its_common_name() {
        assert_eq!(
            common_name("CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US"),
            "DigiCert Global Root G2"
        );
        assert_eq!(common_name("O=Example"), "O=Example");
    }
}
