//! The lab DNS (hickory-server) answered through hickory-resolver and raw queries: records
//! intact, NXDOMAIN vs NODATA, authoritative answers with the SOA; and what blocked and
//! refused ports do to a client's connect.

mod mail_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use mail_support::*;

fn resolver(addr: SocketAddr, tcp: bool) -> Res<Resolver<TokioRuntimeProvider>> {
    let mut connection = if tcp {
        ConnectionConfig::tcp()
    } else {
        ConnectionConfig::udp()
    };
    connection.port = addr.port();
    let server = NameServerConfig::new(addr.ip(), true, vec![connection]);
    let config = ResolverConfig::from_parts(None, vec![], vec![server]);
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    builder.options_mut().cache_size = 0;
    builder.options_mut().attempts = 1;
    Ok(builder.build()?)
}

fn dns_addr(lab: &diag_lab::Lab) -> Res<SocketAddr> {
    lab.endpoints().dns.ok_or_else(|| "no DNS endpoint".into())
}

/// The response code of a lookup that found nothing.
fn negative(result: Result<hickory_resolver::lookup::Lookup, NetError>) -> Res<ResponseCode> {
    match result {
        Ok(lookup) => Err(format!("expected no records, got {:?}", lookup.answers()).into()),
        Err(NetError::Dns(DnsError::NoRecordsFound(no))) => Ok(no.response_code),
        Err(NetError::Dns(DnsError::ResponseCode(code))) => Ok(code),
        Err(e) => Err(format!("unexpected error {e}").into()),
    }
}

#[tokio::test]
async fn records_nxdomain_and_nodata() -> TestResult {
    let mut s = builtin("healthy")?;
    s.dns.records.push("selector1._domainkey.contoso.com. 3600 IN TXT \"v=DKIM1; k=rsa; \" \"p=MIGfMA0GCSqGSIb3DQEBAQUAA4\"".into());
    let lab = start_scenario(&s).await?;
    for tcp in [false, true] {
        let r = resolver(dns_addr(&lab)?, tcp)?;
        let mx = r.lookup("contoso.com.", RecordType::MX).await?;
        let exchanges: Vec<String> = mx
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::MX(mx) => Some(format!("{} {}", mx.preference, mx.exchange)),
                _ => None,
            })
            .collect();
        assert_eq!(
            exchanges,
            vec!["0 contoso-com.mail.protection.outlook.com.".to_string()]
        );
        let txt = r.lookup("contoso.com.", RecordType::TXT).await?;
        let texts: Vec<Vec<String>> = txt
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            vec![vec![
                "v=spf1 include:spf.protection.outlook.com -all".to_string()
            ]],
            "TXT intact (tcp={tcp})"
        );
        let dkim = r
            .lookup("selector1._domainkey.contoso.com.", RecordType::TXT)
            .await?;
        let RData::TXT(t) = &dkim.answers()[0].data else {
            return Err("not TXT".into());
        };
        let parts: Vec<String> = t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        assert_eq!(
            parts,
            vec![
                "v=DKIM1; k=rsa; ".to_string(),
                "p=MIGfMA0GCSqGSIb3DQEBAQUAA4".to_string()
            ]
        );
        let dmarc = r.lookup("_dmarc.contoso.com.", RecordType::TXT).await?;
        assert_eq!(dmarc.answers().len(), 1);
        // Microsoft's include resolves too (the lab's built-in record).
        assert!(
            r.lookup("spf.protection.outlook.com.", RecordType::TXT)
                .await
                .is_ok()
        );

        assert_eq!(
            negative(r.lookup("contoso.com.", RecordType::AAAA).await)?,
            ResponseCode::NoError,
            "NODATA (tcp={tcp})"
        );
        assert_eq!(
            negative(r.lookup("nothere.contoso.com.", RecordType::MX).await)?,
            ResponseCode::NXDomain
        );
        assert_eq!(
            negative(r.lookup("fabrikam.com.", RecordType::MX).await)?,
            ResponseCode::NXDomain
        );
        assert_eq!(
            negative(r.lookup("contoso.onmicrosoft.com.", RecordType::MX).await)?,
            ResponseCode::NXDomain,
            "a domain without records does not exist"
        );
        assert_eq!(
            negative(r.lookup("example.org.", RecordType::MX).await)?,
            ResponseCode::Refused
        );
    }
    Ok(())
}

/// One raw UDP query; the whole response.
async fn raw_query(addr: SocketAddr, name: &str, record_type: RecordType) -> Res<Message> {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let mut query = Message::query();
    query.add_query(Query::query(Name::from_ascii(name)?, record_type));
    socket.send_to(&query.to_vec()?, addr).await?;
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf)).await??;
    Ok(Message::from_vec(&buf[..n])?)
}

#[tokio::test]
async fn negative_answers_are_authoritative_with_the_zone_soa() -> TestResult {
    let lab = start("healthy").await?;
    let addr = dns_addr(&lab)?;
    for (name, code) in [
        ("contoso.com.", ResponseCode::NoError),
        ("nothere.contoso.com.", ResponseCode::NXDomain),
    ] {
        let response = raw_query(addr, name, RecordType::AAAA).await?;
        assert_eq!(response.metadata.response_code, code, "{name}");
        assert!(response.metadata.authoritative, "{name}: AA flag");
        assert!(response.answers.is_empty());
        let soa = response
            .authorities
            .iter()
            .find(|r| r.record_type() == RecordType::SOA)
            .ok_or("no SOA in authority")?;
        assert_eq!(soa.name.to_ascii(), "contoso.com.");
    }
    let answer = raw_query(addr, "contoso.com.", RecordType::MX).await?;
    assert!(answer.metadata.authoritative && answer.answers.len() == 1);
    Ok(())
}

#[tokio::test]
async fn scenario_dns_and_port_errors_are_named() -> TestResult {
    for (line, needle) in [
        (
            "contoso.com. 300 IN TXT ( \"v=spf1\" \"-all\" )",
            "parentheses",
        ),
        ("$INCLUDE /etc/hosts", "directives"),
        (
            "contoso.com. 300 IN MX mail.contoso.com.",
            "not a zone-file record",
        ),
    ] {
        let mut s = builtin("healthy")?;
        s.dns.records.push(line.into());
        let error = match start_scenario(&s).await {
            Ok(_) => return Err(format!("{line} was accepted").into()),
            Err(e) => e.to_string(),
        };
        assert!(
            error.contains("dns.records[3]") && error.contains(needle),
            "{error}"
        );
    }
    let mut s = builtin("healthy")?;
    s.network.blocked_ports = vec![25];
    s.network.refused_ports = vec![25];
    let error = start_scenario(&s)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("network.blocked_ports") && error.contains("25"),
        "{error}"
    );
    let error = diag_lab::Scenario::from_toml_str(
        "name = \"x\"\n[[connector]]\nsender_ips = [\"203.0.113.300\"]\n",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(error.contains("203.0.113.300"), "{error}");
    Ok(())
}

#[tokio::test]
async fn blocked_port_connects_hang_until_the_client_deadline() -> TestResult {
    let lab = start("port-25-blocked").await?;
    let started = Instant::now();
    let attempt = tokio::time::timeout(
        Duration::from_millis(1500),
        tokio::net::TcpStream::connect(mx(&lab)?),
    )
    .await;
    assert!(
        attempt.is_err(),
        "connect to a blocked port completed: {attempt:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(1400));
    // A second client hangs as well; submission is unaffected.
    assert!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(mx(&lab)?)
        )
        .await
        .is_err()
    );
    let smtp = Smtp::connect(submission(&lab)?).await?;
    assert!(smtp.banner.starts_with("220 "));
    Ok(())
}

#[tokio::test]
async fn refused_port_refuses_at_once() -> TestResult {
    let lab = start("port-587-refused").await?;
    let started = Instant::now();
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(submission(&lab)?),
    )
    .await?;
    let error = attempt.err().ok_or("connect to a refused port succeeded")?;
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The MX still answers.
    let smtp = Smtp::connect(mx(&lab)?).await?;
    assert!(
        smtp.banner
            .starts_with("220 LAB1EUR01FT001.mail.protection.outlook.com ")
    );
    Ok(())
}

#[tokio::test]
async fn every_mail_scenario_starts_and_states_its_method() -> TestResult {
    use diag_lab::scenario::Method;
    for (name, method) in [
        ("healthy-direct-send", Method::DirectSend),
        ("healthy-relay", Method::Relay),
        ("port-25-blocked", Method::DirectSend),
        ("spf-missing-site-ip", Method::DirectSend),
        ("connector-mismatch", Method::Relay),
        ("tls-ecdhe-only", Method::Smtp),
    ] {
        let lab = start(name).await?;
        assert_eq!(lab.device().settings.method, method, "{name}");
        assert!(
            lab.endpoints().dns.is_some()
                && lab.endpoints().mx.is_some()
                && lab.endpoints().smtp_submission.is_some()
        );
        lab.shutdown().await;
    }
    Ok(())
}
