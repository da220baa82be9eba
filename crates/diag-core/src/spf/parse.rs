//! The SPF record parser (RFC 7208 §4.5, §4.6, §5, §6 and the ABNF of §12). A syntax error says
//! where (byte offset in the record, 0-based like checkdmarc) and in which term.
use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
};

use super::macros::MacroString;

/// `+` `-` `~` `?` in front of a mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    /// `a[:domain][/cidr4][//cidr6]`.
    A {
        domain: Option<MacroString>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    /// `mx[:domain][/cidr4][//cidr6]`.
    Mx {
        domain: Option<MacroString>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    Ptr(Option<MacroString>),
    Ip4 {
        addr: Ipv4Addr,
        prefix: u8,
    },
    Ip6 {
        addr: Ipv6Addr,
        prefix: u8,
    },
    Exists(MacroString),
}

impl Mechanism {
    /// Include, a, mx, ptr and exists cost a DNS lookup (RFC 7208 §4.6.4); all, ip4 and ip6 do not.
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermKind {
    Directive {
        qualifier: Qualifier,
        mechanism: Mechanism,
    },
    Redirect(MacroString),
    Exp(MacroString),
    /// An unknown modifier: ignored (RFC 7208 §6).
    Unknown {
        name: String,
    },
}

/// One term of a record, with where it starts and how it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub position: usize,
    pub text: String,
    pub kind: TermKind,
}

/// A parsed record: its terms in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub terms: Vec<Term>,
}

impl Record {
    /// The `redirect=` modifier, if any.
    pub fn redirect(&self) -> Option<(&Term, &MacroString)> {
        self.terms.iter().find_map(|t| match &t.kind {
            TermKind::Redirect(d) => Some((t, d)),
            _ => None,
        })
    }

    /// Has an `all` mechanism anywhere (then `redirect` is ignored: RFC 7208 §6.1).
    pub fn has_all(&self) -> bool {
        self.terms.iter().any(|t| {
            matches!(
                t.kind,
                TermKind::Directive {
                    mechanism: Mechanism::All,
                    ..
                }
            )
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// The record does not start with `v=spf1`.
    NotSpf,
    /// A byte outside printable ASCII (a tab, a control byte, non-ASCII text, binary).
    InvalidByte(u8),
    UnknownMechanism(String),
    /// A term that starts with something other than a letter or qualifier + letter.
    NotATerm,
    QualifiedModifier,
    MissingValue,
    UnexpectedValue,
    InvalidIp4(String),
    InvalidIp6(String),
    InvalidCidr(String),
    InvalidMacro(String),
    /// `redirect` or `exp` a second time.
    DuplicateModifier(String),
    EmptyDomain,
}

/// Where and why a record does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the record (0-based) of the offending byte or term.
    pub position: usize,
    /// The term that holds it, as written (at most 100 characters, bytes outside ASCII escaped).
    pub term: String,
    pub kind: SyntaxErrorKind,
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxErrorKind::NotSpf => f.write_str("the record does not start with 'v=spf1'"),
            SyntaxErrorKind::InvalidByte(b) => {
                write!(f, "byte 0x{b:02x} is not allowed in an SPF record")
            }
            SyntaxErrorKind::UnknownMechanism(n) => write!(f, "'{n}' is not an SPF mechanism"),
            SyntaxErrorKind::NotATerm => f.write_str("not an SPF mechanism or modifier"),
            SyntaxErrorKind::QualifiedModifier => f.write_str("a modifier cannot have a qualifier"),
            SyntaxErrorKind::MissingValue => f.write_str("the value is missing"),
            SyntaxErrorKind::UnexpectedValue => f.write_str("this mechanism takes no such value"),
            SyntaxErrorKind::InvalidIp4(v) => write!(f, "'{v}' is not an IPv4 address"),
            SyntaxErrorKind::InvalidIp6(v) => write!(f, "'{v}' is not an IPv6 address"),
            SyntaxErrorKind::InvalidCidr(v) => write!(f, "'{v}' is not a valid prefix length"),
            SyntaxErrorKind::InvalidMacro(d) => write!(f, "bad macro: {d}"),
            SyntaxErrorKind::DuplicateModifier(n) => write!(f, "'{n}=' appears more than once"),
            SyntaxErrorKind::EmptyDomain => f.write_str("the domain is empty"),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at position {} ('{}')",
            self.kind, self.position, self.term
        )
    }
}

/// A record text as evidence: at most `max` characters, bytes outside printable ASCII as `\xNN`.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes {
        if out.len() >= max {
            out.push_str(&format!("... ({} bytes)", bytes.len()));
            return out;
        }
        if (0x20..=0x7e).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Is this TXT record an SPF record (RFC 7208 §4.5: starts with exactly `v=spf1`, then a space or
/// the end; case-insensitive)?
pub fn is_spf(txt: &[u8]) -> bool {
    txt.len() >= 6 && txt[..6].eq_ignore_ascii_case(b"v=spf1") && (txt.len() == 6 || txt[6] == b' ')
}

/// Parses a record given as bytes (a joined TXT record): bytes that are not text are a syntax
/// error too, reported at the first one unless an earlier term is already wrong.
pub fn parse_bytes(record: &[u8]) -> Result<Record, SyntaxError> {
    let at = match std::str::from_utf8(record) {
        Ok(s) => return parse(s),
        Err(e) => e.valid_up_to(),
    };
    let start = record[..at]
        .iter()
        .rposition(|&b| b == b' ')
        .map_or(0, |p| p + 1);
    if start > 0 {
        // Valid UTF-8: it ends before the first invalid byte.
        parse(std::str::from_utf8(&record[..start]).unwrap_or_default())?;
    }
    let end = record[at..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(record.len(), |p| p + at);
    Err(SyntaxError {
        position: at,
        term: printable(&record[start..end], 100),
        kind: SyntaxErrorKind::InvalidByte(record[at]),
    })
}

/// Parses an SPF record.
pub fn parse(record: &str) -> Result<Record, SyntaxError> {
    let bytes = record.as_bytes();
    if !is_spf(bytes) {
        let end = record.find(' ').unwrap_or(record.len());
        return Err(SyntaxError {
            position: 0,
            term: printable(&bytes[..end], 100),
            kind: SyntaxErrorKind::NotSpf,
        });
    }
    let mut terms = Vec::new();
    let mut seen_redirect = false;
    let mut seen_exp = false;
    let mut pos = 6;
    while pos < bytes.len() {
        if bytes[pos] == b' ' {
            pos += 1;
            continue;
        }
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(bytes.len(), |p| p + pos);
        let text = &record[pos..end];
        let term = parse_term(text, pos)?;
        match &term.kind {
            TermKind::Redirect(_) if std::mem::replace(&mut seen_redirect, true) => {
                return Err(err(
                    text,
                    pos,
                    0,
                    SyntaxErrorKind::DuplicateModifier("redirect".into()),
                ));
            }
            TermKind::Exp(_) if std::mem::replace(&mut seen_exp, true) => {
                return Err(err(
                    text,
                    pos,
                    0,
                    SyntaxErrorKind::DuplicateModifier("exp".into()),
                ));
            }
            _ => {}
        }
        terms.push(term);
        pos = end;
    }
    Ok(Record { terms })
}

fn err(term: &str, term_pos: usize, offset: usize, kind: SyntaxErrorKind) -> SyntaxError {
    SyntaxError {
        position: term_pos + offset,
        term: printable(term.as_bytes(), 100),
        kind,
    }
}

fn parse_term(text: &str, pos: usize) -> Result<Term, SyntaxError> {
    let bytes = text.as_bytes();
    if let Some(bad) = bytes.iter().position(|b| !(0x21..=0x7e).contains(b)) {
        return Err(err(
            text,
            pos,
            bad,
            SyntaxErrorKind::InvalidByte(bytes[bad]),
        ));
    }
    let (qualifier, name_start) = match bytes[0] {
        b'+' => (Some(Qualifier::Pass), 1),
        b'-' => (Some(Qualifier::Fail), 1),
        b'~' => (Some(Qualifier::SoftFail), 1),
        b'?' => (Some(Qualifier::Neutral), 1),
        _ => (None, 0),
    };
    // name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
        return Err(err(text, pos, name_start, SyntaxErrorKind::NotATerm));
    }
    let name_end = bytes[name_start..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"-_.".contains(b)))
        .map_or(bytes.len(), |p| p + name_start);
    let name = text[name_start..name_end].to_ascii_lowercase();
    let rest = &text[name_end..];
    let at = |offset: usize, kind| err(text, pos, offset, kind);

    if let Some(value) = rest.strip_prefix('=') {
        if qualifier.is_some() {
            return Err(at(0, SyntaxErrorKind::QualifiedModifier));
        }
        let value_at = name_end + 1;
        let kind = match name.as_str() {
            "redirect" => TermKind::Redirect(domain_spec(value, text, pos, value_at)?),
            "exp" => TermKind::Exp(domain_spec(value, text, pos, value_at)?),
            _ => {
                MacroString::parse(value, true).map_err(|e| {
                    at(value_at + e.offset, SyntaxErrorKind::InvalidMacro(e.detail))
                })?;
                TermKind::Unknown { name }
            }
        };
        return Ok(Term {
            position: pos,
            text: text.to_string(),
            kind,
        });
    }

    let qualifier = qualifier.unwrap_or(Qualifier::Pass);
    let value_at = name_end + 1;
    let mechanism = match name.as_str() {
        "all" => {
            if !rest.is_empty() {
                return Err(at(name_end, SyntaxErrorKind::UnexpectedValue));
            }
            Mechanism::All
        }
        "include" | "exists" => {
            let Some(value) = rest.strip_prefix(':') else {
                return Err(at(name_end, SyntaxErrorKind::MissingValue));
            };
            let spec = domain_spec(value, text, pos, value_at)?;
            if name == "include" {
                Mechanism::Include(spec)
            } else {
                Mechanism::Exists(spec)
            }
        }
        "a" | "mx" => {
            let (domain, cidr_text, cidr_at) = match rest.strip_prefix(':') {
                Some(value) => {
                    let split = cidr_start(value);
                    let spec = domain_spec(&value[..split], text, pos, value_at)?;
                    (Some(spec), &value[split..], value_at + split)
                }
                None => (None, rest, name_end),
            };
            let (cidr4, cidr6) = dual_cidr(cidr_text)
                .map_err(|()| at(cidr_at, SyntaxErrorKind::InvalidCidr(cidr_text.to_string())))?;
            if name == "a" {
                Mechanism::A {
                    domain,
                    cidr4,
                    cidr6,
                }
            } else {
                Mechanism::Mx {
                    domain,
                    cidr4,
                    cidr6,
                }
            }
        }
        "ptr" => match rest.strip_prefix(':') {
            Some(value) => Mechanism::Ptr(Some(domain_spec(value, text, pos, value_at)?)),
            None if rest.is_empty() => Mechanism::Ptr(None),
            None => return Err(at(name_end, SyntaxErrorKind::UnexpectedValue)),
        },
        "ip4" => {
            let Some(value) = rest.strip_prefix(':') else {
                return Err(at(name_end, SyntaxErrorKind::MissingValue));
            };
            let (addr_text, prefix) = split_prefix(value, 32).map_err(|p| {
                at(
                    value_at + p,
                    SyntaxErrorKind::InvalidCidr(value.to_string()),
                )
            })?;
            let addr = addr_text
                .parse::<Ipv4Addr>()
                .map_err(|_| at(value_at, SyntaxErrorKind::InvalidIp4(addr_text.to_string())))?;
            Mechanism::Ip4 {
                addr,
                prefix: prefix.unwrap_or(32),
            }
        }
        "ip6" => {
            let Some(value) = rest.strip_prefix(':') else {
                return Err(at(name_end, SyntaxErrorKind::MissingValue));
            };
            let (addr_text, prefix) = split_prefix(value, 128).map_err(|p| {
                at(
                    value_at + p,
                    SyntaxErrorKind::InvalidCidr(value.to_string()),
                )
            })?;
            let addr = addr_text
                .parse::<Ipv6Addr>()
                .map_err(|_| at(value_at, SyntaxErrorKind::InvalidIp6(addr_text.to_string())))?;
            Mechanism::Ip6 {
                addr,
                prefix: prefix.unwrap_or(128),
            }
        }
        _ => {
            return Err(at(
                name_start,
                SyntaxErrorKind::UnknownMechanism(text[name_start..name_end].to_string()),
            ));
        }
    };
    Ok(Term {
        position: pos,
        text: text.to_string(),
        kind: TermKind::Directive {
            qualifier,
            mechanism,
        },
    })
}

/// A domain-spec: a non-empty macro string (RFC 7208 §8.1). A domain-end that is not a proper
/// top label is tolerated (the lookup then finds nothing), as checkdmarc does.
fn domain_spec(
    value: &str,
    term: &str,
    term_pos: usize,
    value_at: usize,
) -> Result<MacroString, SyntaxError> {
    if value.is_empty() {
        return Err(err(term, term_pos, value_at, SyntaxErrorKind::EmptyDomain));
    }
    MacroString::parse(value, false).map_err(|e| {
        err(
            term,
            term_pos,
            value_at + e.offset,
            SyntaxErrorKind::InvalidMacro(e.detail),
        )
    })
}

/// Where the dual-cidr-length of an `a:`/`mx:` value starts: the first `/` outside a `%{...}`.
fn cidr_start(value: &str) -> usize {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if bytes.get(i + 1) == Some(&b'{') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'%' => i += 2,
            b'/' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `""`, `/24`, `//64`, `/24//64`.
fn dual_cidr(text: &str) -> Result<(Option<u8>, Option<u8>), ()> {
    if text.is_empty() {
        return Ok((None, None));
    }
    let (v4, v6) = match text.split_once("//") {
        Some((v4, v6)) => (v4, Some(v6)),
        None => (text, None),
    };
    let v4 = match v4 {
        "" => None,
        s => Some(prefix_length(s.strip_prefix('/').ok_or(())?, 32)?),
    };
    let v6 = v6.map(|s| prefix_length(s, 128)).transpose()?;
    Ok((v4, v6))
}

/// `0` or a number without leading zeros, at most `max`.
fn prefix_length(s: &str, max: u8) -> Result<u8, ()> {
    if s.is_empty()
        || s.len() > 3
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(());
    }
    let n: u16 = s.parse().map_err(|_| ())?;
    if n > u16::from(max) {
        return Err(());
    }
    Ok(n as u8)
}

/// `addr[/len]` of ip4/ip6; the error is the offset of the bad prefix.
fn split_prefix(value: &str, max: u8) -> Result<(&str, Option<u8>), usize> {
    match value.split_once('/') {
        None => Ok((value, None)),
        Some((addr, len)) => {
            let n = prefix_length(len, max).map_err(|()| addr.len())?;
            Ok((addr, Some(n)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(record: &str) -> Vec<TermKind> {
        parse(record)
            .unwrap_or_else(|e| panic!("{record}: {e}"))
            .terms
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn error(record: &str) -> SyntaxError {
        parse(record).expect_err(record)
    }

    fn directive(kind: &TermKind) -> (Qualifier, &Mechanism) {
        match kind {
            TermKind::Directive {
                qualifier,
                mechanism,
            } => (*qualifier, mechanism),
            other => panic!("not a directive: {other:?}"),
        }
    }

    #[test]
    fn selects_only_v_spf1_records() {
        assert!(is_spf(b"v=spf1"));
        assert!(is_spf(b"V=SPF1 -all"));
        assert!(!is_spf(b"v=spf10 -all"));
        assert!(!is_spf(b" v=spf1 -all"));
        assert!(!is_spf(b"v=spf"));
        assert!(!is_spf(b"MS=ms12345678"));
    }

    #[test]
    fn every_mechanism_and_qualifier() {
        let t = terms(
            "v=spf1 +all -include:spf.protection.outlook.com ~a ?a:mail.contoso.com/24 a/24//64 mx mx:contoso.com//64 \
             ptr ptr:contoso.com ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:db8::/32 ip6:2001:db8::1 exists:%{i}._spf.%{d}",
        );
        assert_eq!(t.len(), 14);
        assert_eq!(directive(&t[0]), (Qualifier::Pass, &Mechanism::All));
        let (q, m) = directive(&t[1]);
        assert_eq!(q, Qualifier::Fail);
        assert!(matches!(m, Mechanism::Include(d) if d.raw == "spf.protection.outlook.com"));
        assert_eq!(
            directive(&t[2]),
            (
                Qualifier::SoftFail,
                &Mechanism::A {
                    domain: None,
                    cidr4: None,
                    cidr6: None
                }
            )
        );
        let (q, m) = directive(&t[3]);
        assert_eq!(q, Qualifier::Neutral);
        assert!(
            matches!(m, Mechanism::A { domain: Some(d), cidr4: Some(24), cidr6: None } if d.raw == "mail.contoso.com")
        );
        assert!(matches!(
            directive(&t[4]).1,
            Mechanism::A {
                domain: None,
                cidr4: Some(24),
                cidr6: Some(64)
            }
        ));
        assert!(matches!(
            directive(&t[5]).1,
            Mechanism::Mx { domain: None, .. }
        ));
        assert!(matches!(
            directive(&t[6]).1,
            Mechanism::Mx {
                domain: Some(_),
                cidr4: None,
                cidr6: Some(64)
            }
        ));
        assert!(matches!(directive(&t[7]).1, Mechanism::Ptr(None)));
        assert!(matches!(directive(&t[8]).1, Mechanism::Ptr(Some(_))));
        assert_eq!(
            directive(&t[9]).1,
            &Mechanism::Ip4 {
                addr: "192.0.2.0".parse().expect("ip"),
                prefix: 24
            }
        );
        assert_eq!(
            directive(&t[10]).1,
            &Mechanism::Ip4 {
                addr: "192.0.2.1".parse().expect("ip"),
                prefix: 32
            }
        );
        assert_eq!(
            directive(&t[11]).1,
            &Mechanism::Ip6 {
                addr: "2001:db8::".parse().expect("ip"),
                prefix: 32
            }
        );
        assert_eq!(
            directive(&t[12]).1,
            &Mechanism::Ip6 {
                addr: "2001:db8::1".parse().expect("ip"),
                prefix: 128
            }
        );
        assert!(
            matches!(directive(&t[13]).1, Mechanism::Exists(d) if d.has_percent() && d.uses('i'))
        );
    }

    #[test]
    fn modifiers_and_case() {
        let t = terms(
            "V=SPF1 MX REDIRECT=_spf.contoso.com EXP=explain.%{d} x-vendor=%{d}-tag ra=postmaster",
        );
        assert!(matches!(
            &t[0],
            TermKind::Directive {
                mechanism: Mechanism::Mx { .. },
                ..
            }
        ));
        assert!(matches!(&t[1], TermKind::Redirect(d) if d.raw == "_spf.contoso.com"));
        assert!(matches!(&t[2], TermKind::Exp(_)));
        assert_eq!(
            t[3],
            TermKind::Unknown {
                name: "x-vendor".into()
            }
        );
        assert_eq!(t[4], TermKind::Unknown { name: "ra".into() });
        let r = parse("v=spf1 redirect=a.example").expect("parses");
        assert!(r.redirect().is_some() && !r.has_all());
        assert!(parse("v=spf1").expect("empty record").terms.is_empty());
        assert_eq!(
            parse("v=spf1   -all   ").expect("extra spaces").terms.len(),
            1
        );
    }

    #[test]
    fn errors_name_the_position_and_term() {
        let e = error("v=spf1 inclde:spf.protection.lab.test -all");
        assert_eq!(
            (e.position, e.term.as_str()),
            (7, "inclde:spf.protection.lab.test")
        );
        assert_eq!(e.kind, SyntaxErrorKind::UnknownMechanism("inclde".into()));
        assert_eq!(
            e.to_string(),
            "'inclde' is not an SPF mechanism at position 7 ('inclde:spf.protection.lab.test')"
        );

        let e = error("v=spf1 ip4:192.0.2.300 include:spf.protection.lab.test -all");
        assert_eq!(
            (e.position, e.kind),
            (11, SyntaxErrorKind::InvalidIp4("192.0.2.300".into()))
        );
        let e = error("v=spf1 ip4:192.0.2.0/33 -all");
        assert_eq!(e.kind, SyntaxErrorKind::InvalidCidr("192.0.2.0/33".into()));
        assert_eq!(e.position, 20);
        assert!(matches!(
            error("v=spf1 ip6:2001:db8::/129").kind,
            SyntaxErrorKind::InvalidCidr(_)
        ));
        assert!(matches!(
            error("v=spf1 ip6:192.0.2.1").kind,
            SyntaxErrorKind::InvalidIp6(_)
        ));
        assert!(matches!(
            error("v=spf1 ip4:2001:db8::1").kind,
            SyntaxErrorKind::InvalidIp4(_)
        ));
        assert!(
            matches!(
                error("v=spf1 ip4:192.0.2.0/024").kind,
                SyntaxErrorKind::InvalidCidr(_)
            ),
            "leading zero"
        );
        assert_eq!(
            error("v=spf1 include: spf.protection.outlook.com").kind,
            SyntaxErrorKind::EmptyDomain
        );
        assert_eq!(error("v=spf1 include").kind, SyntaxErrorKind::MissingValue);
        assert_eq!(error("v=spf1 ip4").kind, SyntaxErrorKind::MissingValue);
        assert_eq!(
            error("v=spf1 -all:foo").kind,
            SyntaxErrorKind::UnexpectedValue
        );
        assert_eq!(
            error("v=spf1 ptr/24").kind,
            SyntaxErrorKind::UnexpectedValue
        );
        assert!(matches!(
            error("v=spf1 a/33").kind,
            SyntaxErrorKind::InvalidCidr(_)
        ));
        assert!(matches!(
            error("v=spf1 mx:contoso.com/24/64").kind,
            SyntaxErrorKind::InvalidCidr(_)
        ));
        assert_eq!(
            error("v=spf1 -redirect=contoso.com").kind,
            SyntaxErrorKind::QualifiedModifier
        );
        let e = error("v=spf1 redirect=a.example redirect=b.example");
        assert_eq!(
            (e.position, e.kind),
            (26, SyntaxErrorKind::DuplicateModifier("redirect".into()))
        );
        assert_eq!(
            error("v=spf1 exp=a.example exp=b.example").kind,
            SyntaxErrorKind::DuplicateModifier("exp".into())
        );
        let e = error("v=spf1 exists:%{q}.example");
        assert_eq!(e.position, 14);
        assert!(matches!(e.kind, SyntaxErrorKind::InvalidMacro(_)));
        assert_eq!(error("v=spf1 ~~all").kind, SyntaxErrorKind::NotATerm);
        assert_eq!(error("v=spf1 1.2.3.4").kind, SyntaxErrorKind::NotATerm);
        assert_eq!(error("spf1 -all").kind, SyntaxErrorKind::NotSpf);
        // Typographic quotes copied from a document.
        let e = error("v=spf1 include:spf.protection.outlook.com \u{201c}-all\u{201d}");
        assert_eq!(
            (e.position, e.kind),
            (42, SyntaxErrorKind::InvalidByte(0xe2))
        );
        // A tab is not a separator (RFC 7208 §12: SP only).
        assert_eq!(error("v=spf1\t-all").kind, SyntaxErrorKind::NotSpf);
        assert_eq!(
            error("v=spf1 a\t-all").kind,
            SyntaxErrorKind::InvalidByte(b'\t')
        );
    }

    #[test]
    fn binary_bytes_are_a_syntax_error_with_their_position() {
        let mut record = b"v=spf1 ip4:192.0.2.1 ".to_vec();
        record.extend_from_slice(&[0xff, 0x00, 0x9c]);
        record.extend_from_slice(b" -all");
        let e = parse_bytes(&record).expect_err("binary");
        assert_eq!(
            (e.position, e.kind.clone()),
            (21, SyntaxErrorKind::InvalidByte(0xff))
        );
        assert_eq!(e.term, "\\xff\\x00\\x9c");
        // An error before the binary part wins.
        let mut record = b"v=spf1 inclde:x.example ".to_vec();
        record.push(0xff);
        assert_eq!(parse_bytes(&record).expect_err("typo first").position, 7);
        // A NUL inside valid UTF-8.
        assert_eq!(
            parse_bytes(b"v=spf1 a\0 -all").expect_err("nul").kind,
            SyntaxErrorKind::InvalidByte(0)
        );
    }

    #[test]
    fn a_ten_kilobyte_record_parses_in_bounded_time() {
        let mut record = String::from("v=spf1");
        let mut n = 0u32;
        while record.len() < 10 * 1024 {
            record.push_str(&format!(" ip4:10.{}.{}.0/24", n / 256, n % 256));
            n += 1;
        }
        record.push_str(" -all");
        let started = std::time::Instant::now();
        let r = parse(&record).expect("10 KB record");
        assert_eq!(r.terms.len() as u32, n + 1);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        // 10 KB of garbage: one error, at the first bad term.
        let garbage = format!("v=spf1 {}", "x=".repeat(5000) + "%");
        assert!(parse(&garbage).is_err());
    }

    #[test]
    fn printable_escapes_and_clips() {
        assert_eq!(printable(b"v=spf1 \x01", 50), "v=spf1 \\x01");
        let long = printable(&[b'a'; 300], 10);
        assert!(
            long.starts_with("aaaaaaaaaa") && long.ends_with("(300 bytes)"),
            "{long}"
        );
    }
}
