//! A device's own TLS ClientHello, written by hand, and the server's first answer to it.
//!
//! rustls cannot offer what older printer firmware offers (static-RSA key exchange, TLS 1.0/1.1),
//! so to see how a server treats such a device xdiag sends that device's ClientHello itself and
//! reads one record back: a `handshake_failure` alert (no cipher suite in common, case-26), a
//! `protocol_version` alert (no version in common), or a ServerHello (the server would go on).
//! The handshake is never completed: this is a probe, not a TLS implementation.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::tls::{TlsFailure, TlsFailureKind};
use crate::target::DeviceTls;

/// Static-RSA suites old firmware offers: AES-GCM, AES-CBC (SHA-1, SHA-256), 3DES.
const RSA_SUITES: [u16; 7] = [0x009C, 0x009D, 0x002F, 0x0035, 0x003C, 0x003D, 0x000A];
/// A TLS 1.0/1.1 stack: ECDHE-CBC and RSA-CBC suites.
const TLS11_SUITES: [u16; 5] = [0xC013, 0xC014, 0x002F, 0x0035, 0x000A];
/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV, sent by every stack of that age.
const RENEGOTIATION_SCSV: u16 = 0x00FF;
/// An alert is 7 bytes, a ServerHello well under 1 KB: more than this is not needed.
const READ_CAP: usize = 4096;

/// What the server answered the device's ClientHello with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerChose {
    /// `TLS 1.2`, `TLS 1.1`, ...
    pub version: String,
    /// IANA name where known, else the code (`0x009C`).
    pub suite: String,
}

/// What the device offers, for evidence: `TLS 1.2, TLS_RSA_WITH_* only, no elliptic-curve extensions`.
pub fn describe(offer: DeviceTls) -> &'static str {
    match offer {
        DeviceTls::RsaOnly => {
            "TLS 1.2 with static-RSA suites only (TLS_RSA_WITH_*), no elliptic-curve extensions"
        }
        DeviceTls::Tls11 => "TLS 1.1 at most (ECDHE and RSA CBC suites)",
        DeviceTls::Modern => "TLS 1.2 and 1.3 with ECDHE suites",
    }
}

/// The ClientHello record the device would send. `Modern` has no hand-written form.
pub fn client_hello(offer: DeviceTls, server_name: &str) -> Option<Vec<u8>> {
    let (version, suites): (u16, &[u16]) = match offer {
        DeviceTls::RsaOnly => (0x0303, &RSA_SUITES),
        DeviceTls::Tls11 => (0x0302, &TLS11_SUITES),
        DeviceTls::Modern => return None,
    };
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random());
    body.push(0); // no session id
    let suite_bytes: Vec<u8> = suites
        .iter()
        .chain(std::iter::once(&RENEGOTIATION_SCSV))
        .flat_map(|s| s.to_be_bytes())
        .collect();
    push_u16_prefixed(&mut body, &suite_bytes);
    body.extend_from_slice(&[1, 0]); // compression: null only

    let mut ext = Vec::new();
    let name = server_name.trim_end_matches('.');
    if !name.is_empty() && name.parse::<std::net::IpAddr>().is_err() && name.len() < 256 {
        let mut list = vec![0u8]; // host_name
        push_u16_prefixed(&mut list, name.as_bytes());
        let mut sni = Vec::new();
        push_u16_prefixed(&mut sni, &list);
        push_extension(&mut ext, 0x0000, &sni);
    }
    // rsa_pkcs1_sha256, rsa_pkcs1_sha384, rsa_pkcs1_sha1: so a refusal can only be about the
    // key exchange or the version (TLS 1.1 servers ignore it; rustls wants it before anything).
    let mut algs = Vec::new();
    push_u16_prefixed(&mut algs, &[0x04, 0x01, 0x05, 0x01, 0x02, 0x01]);
    push_extension(&mut ext, 0x000d, &algs);
    match offer {
        DeviceTls::RsaOnly => {}
        DeviceTls::Tls11 => {
            let mut groups = Vec::new();
            push_u16_prefixed(&mut groups, &[0x00, 0x17, 0x00, 0x18]); // P-256, P-384
            push_extension(&mut ext, 0x000a, &groups);
            push_extension(&mut ext, 0x000b, &[1, 0]); // uncompressed points
        }
        DeviceTls::Modern => {}
    }
    push_u16_prefixed(&mut body, &ext);

    let mut handshake = vec![1u8]; // client_hello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01]; // handshake, record version TLS 1.0 as stacks send
    push_u16_prefixed(&mut record, &handshake);
    Some(record)
}

/// Sends the device's ClientHello on `stream` (after STARTTLS's `220`) and reads the first
/// record back, within `deadline`. A refusal is a `TlsFailure` like rustls' own.
pub async fn offer(
    stream: &mut TcpStream,
    offer: DeviceTls,
    server_name: &str,
    deadline: Duration,
) -> Result<ServerChose, TlsFailure> {
    let Some(hello) = client_hello(offer, server_name) else {
        return Err(failure(
            TlsFailureKind::Other,
            "a modern TLS stack has no hand-written ClientHello".into(),
        ));
    };
    match tokio::time::timeout(deadline, exchange(stream, &hello)).await {
        Ok(answer) => answer,
        Err(_) => Err(failure(
            TlsFailureKind::Timeout,
            format!(
                "no answer to the ClientHello within {}",
                super::super::error::human_duration(deadline)
            ),
        )),
    }
}

async fn exchange(stream: &mut TcpStream, hello: &[u8]) -> Result<ServerChose, TlsFailure> {
    let io = |e: std::io::Error| failure(TlsFailureKind::Closed, e.to_string());
    stream.write_all(hello).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        match read_answer(&buf) {
            Parsed::Need => {}
            Parsed::Done(result) => return result,
        }
        if buf.len() >= READ_CAP {
            return Err(failure(
                TlsFailureKind::Other,
                "the answer to the ClientHello is larger than any ServerHello".into(),
            ));
        }
        let n = stream.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(failure(
                TlsFailureKind::Closed,
                if buf.is_empty() {
                    "the server closed the connection without answering the ClientHello".into()
                } else {
                    "the server closed the connection in the middle of its answer".into()
                },
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

enum Parsed {
    Need,
    Done(Result<ServerChose, TlsFailure>),
}

/// The first record of `buf`, once it is complete.
fn read_answer(buf: &[u8]) -> Parsed {
    let Some(&content_type) = buf.first() else {
        return Parsed::Need;
    };
    if !(0x14..=0x17).contains(&content_type) {
        return Parsed::Done(Err(failure(
            TlsFailureKind::NotTls,
            format!(
                "the server answered the ClientHello with something that is not TLS ({})",
                super::preview(&buf[..buf.len().min(32)])
            ),
        )));
    }
    if buf.len() < 5 {
        return Parsed::Need;
    }
    let rec = &buf[5..];
    match content_type {
        0x15 if rec.len() < 2 => Parsed::Need,
        0x15 => Parsed::Done(Err(alert(rec[0], rec[1]))),
        0x16 if rec.is_empty() => Parsed::Need,
        0x16 if rec[0] == 2 => {
            // type, length, version, random, session id length: then the id and the suite.
            if rec.len() < 39 || rec.len() < 41 + usize::from(rec[38]) {
                return Parsed::Need;
            }
            let sid = usize::from(rec[38]);
            Parsed::Done(Ok(ServerChose {
                version: version_name(u16::from_be_bytes([rec[4], rec[5]])),
                suite: suite_name(u16::from_be_bytes([rec[39 + sid], rec[40 + sid]])),
            }))
        }
        _ => Parsed::Done(Err(failure(
            TlsFailureKind::Other,
            format!(
                "the server answered the ClientHello with record type {content_type} instead of a ServerHello or an alert"
            ),
        ))),
    }
}

fn alert(level: u8, description: u8) -> TlsFailure {
    let (kind, name) = match description {
        40 => (TlsFailureKind::NoSharedCipher, "handshake_failure"),
        71 => (TlsFailureKind::NoSharedCipher, "insufficient_security"),
        70 => (TlsFailureKind::ProtocolVersion, "protocol_version"),
        47 => (TlsFailureKind::Other, "illegal_parameter"),
        50 => (TlsFailureKind::Other, "decode_error"),
        80 => (TlsFailureKind::Other, "internal_error"),
        _ => (TlsFailureKind::Other, "another alert"),
    };
    let level = if level == 2 { "fatal" } else { "warning" };
    failure(
        kind,
        format!(
            "the server answered the device's ClientHello with a {level} {name} alert ({description})"
        ),
    )
}

fn failure(kind: TlsFailureKind, detail: String) -> TlsFailure {
    TlsFailure {
        kind,
        detail,
        chain: Vec::new(),
        root: None,
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        other => format!("0x{other:04X}"),
    }
}

fn suite_name(s: u16) -> String {
    match s {
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256".into(),
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384".into(),
        0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA".into(),
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA".into(),
        0x003C => "TLS_RSA_WITH_AES_128_CBC_SHA256".into(),
        0x003D => "TLS_RSA_WITH_AES_256_CBC_SHA256".into(),
        0x000A => "TLS_RSA_WITH_3DES_EDE_CBC_SHA".into(),
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA".into(),
        other => format!("0x{other:04X}"),
    }
}

fn push_u16_prefixed(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_prefixed(out, data);
}

/// The ClientHello random: it protects nothing here (the handshake never completes), so a hash
/// of the clock is enough.
fn random() -> [u8; 32] {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let a = Sha1::digest(now.to_be_bytes());
    let b = Sha1::digest(a);
    let mut r = [0u8; 32];
    r[..20].copy_from_slice(&a);
    r[20..].copy_from_slice(&b[..12]);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rsa_only_hello_offers_no_ecdhe_and_no_curves() {
        let h = client_hello(DeviceTls::RsaOnly, "smtp.office365.com").expect("hello");
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(h[5], 1, "client_hello");
        assert_eq!(&h[9..11], &[0x03, 0x03], "TLS 1.2");
        let suites_len = usize::from(u16::from_be_bytes([h[44], h[45]]));
        let suites: Vec<u16> = h[46..46 + suites_len]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        assert!(suites.iter().all(|s| *s >> 8 == 0), "{suites:04X?}");
        assert!(suites.contains(&0x009C));
        // No supported_groups (0x000a) extension anywhere in the extensions block.
        let ext_start = 46 + suites_len + 2;
        let ext = &h[ext_start + 2..];
        let mut i = 0;
        let mut kinds = Vec::new();
        while i + 4 <= ext.len() {
            kinds.push(u16::from_be_bytes([ext[i], ext[i + 1]]));
            i += 4 + usize::from(u16::from_be_bytes([ext[i + 2], ext[i + 3]]));
        }
        assert_eq!(i, ext.len());
        assert_eq!(kinds, vec![0x0000, 0x000d]);
    }

    #[test]
    fn the_tls11_hello_says_tls11() {
        let h = client_hello(DeviceTls::Tls11, "10.0.0.1").expect("hello");
        assert_eq!(&h[9..11], &[0x03, 0x02]);
        assert!(client_hello(DeviceTls::Modern, "x").is_none());
    }

    #[test]
    fn answers_are_read_whole_and_named() {
        let Parsed::Done(Err(f)) = read_answer(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]) else {
            panic!("alert");
        };
        assert_eq!(f.kind, TlsFailureKind::NoSharedCipher);
        assert!(f.detail.contains("handshake_failure"), "{}", f.detail);
        let Parsed::Done(Err(f)) = read_answer(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70]) else {
            panic!("alert");
        };
        assert_eq!(f.kind, TlsFailureKind::ProtocolVersion);
        assert!(matches!(
            read_answer(&[0x15, 0x03, 0x03, 0x00]),
            Parsed::Need
        ));
        assert!(matches!(read_answer(&[]), Parsed::Need));
        let Parsed::Done(Err(f)) = read_answer(b"220 hello") else {
            panic!("plain text");
        };
        assert_eq!(f.kind, TlsFailureKind::NotTls);
        // A ServerHello choosing TLS_RSA_WITH_AES_128_GCM_SHA256 with an empty session id.
        let mut sh = vec![
            0x16, 0x03, 0x03, 0x00, 0x2A, 0x02, 0x00, 0x00, 0x26, 0x03, 0x03,
        ];
        sh.extend_from_slice(&[7u8; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0x00, 0x9C, 0x00]);
        let Parsed::Done(Ok(chose)) = read_answer(&sh) else {
            panic!("server hello");
        };
        assert_eq!(chose.version, "TLS 1.2");
        assert_eq!(chose.suite, "TLS_RSA_WITH_AES_128_GCM_SHA256");
        // Cut short: wait for more.
        assert!(matches!(read_answer(&sh[..20]), Parsed::Need));
    }
}
