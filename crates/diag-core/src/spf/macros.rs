//! SPF macro strings (RFC 7208 §7): parsing `%{d}`, `%{ir}`, `%{l1r-}`, `%%`, `%_`, `%-`, and
//! expanding them for one evaluation.
use std::{fmt, net::IpAddr};

/// The letters a domain-spec may use, and the three that only explanation text may use.
const LETTERS: &str = "slodiphv";
const EXP_ONLY_LETTERS: &str = "crt";
const DELIMITERS: &str = ".-+,/_=";

/// A domain-spec or modifier value, as written and as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroString {
    /// The text as written in the record.
    pub raw: String,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text (escapes already resolved: `%%` is `%`, `%_` a space, `%-` is `%20`).
    Literal(String),
    Macro(Macro),
}

/// `%{` letter digits `r` delimiters `}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Macro {
    /// Lowercase macro letter.
    pub letter: char,
    /// Written in uppercase: the value is URL-escaped.
    pub escape: bool,
    /// Keep this many right-hand parts.
    pub keep: Option<u32>,
    pub reverse: bool,
    /// Split on these (default `.`).
    pub delimiters: String,
}

/// What is wrong in a macro string, at which byte offset of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroError {
    pub offset: usize,
    pub detail: String,
}

impl fmt::Display for MacroError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl MacroString {
    /// Parses `text`. `exp_letters` also allows `c`, `r` and `t` (explanation text only).
    pub fn parse(text: &str, exp_letters: bool) -> Result<MacroString, MacroError> {
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b != b'%' {
                if !(0x21..=0x7e).contains(&b) {
                    return Err(MacroError {
                        offset: i,
                        detail: format!("byte 0x{b:02x} is not allowed here"),
                    });
                }
                literal.push(b as char);
                i += 1;
                continue;
            }
            match bytes.get(i + 1) {
                Some(b'%') => literal.push('%'),
                Some(b'_') => literal.push(' '),
                Some(b'-') => literal.push_str("%20"),
                Some(b'{') => {
                    let close = bytes[i + 2..]
                        .iter()
                        .position(|&c| c == b'}')
                        .map(|p| p + i + 2);
                    let Some(close) = close else {
                        return Err(MacroError {
                            offset: i,
                            detail: "'%{' without a closing '}'".into(),
                        });
                    };
                    let m = parse_macro(&text[i + 2..close], exp_letters)
                        .map_err(|detail| MacroError { offset: i, detail })?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Macro(m));
                    i = close + 1;
                    continue;
                }
                _ => {
                    return Err(MacroError {
                        offset: i,
                        detail: "'%' must start a macro ('%{...}') or an escape ('%%', '%_', '%-')"
                            .into(),
                    });
                }
            }
            i += 2;
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(MacroString {
            raw: text.to_string(),
            parts,
        })
    }

    /// Written with a `%` (a macro or an escape): a static analysis cannot follow it.
    pub fn has_percent(&self) -> bool {
        self.raw.contains('%')
    }

    /// Expands for one evaluation.
    pub fn expand(&self, cx: &MacroContext) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Macro(m) => out.push_str(&m.expand(cx)),
            }
        }
        out
    }

    /// Does it use this letter (`p` needs an extra lookup before expanding)?
    pub fn uses(&self, letter: char) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Macro(m) if m.letter == letter))
    }
}

/// `letter [digits] [r] [delimiters]`, the inside of `%{...}`.
fn parse_macro(inner: &str, exp_letters: bool) -> Result<Macro, String> {
    let mut chars = inner.chars();
    let Some(first) = chars.next() else {
        return Err("empty macro '%{}'".into());
    };
    let letter = first.to_ascii_lowercase();
    if !(LETTERS.contains(letter) || exp_letters && EXP_ONLY_LETTERS.contains(letter))
        || !first.is_ascii_alphabetic()
    {
        return Err(format!("unknown macro letter '{first}'"));
    }
    let rest = chars.as_str();
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let keep = if digits_len > 0 {
        // Saturate: "keep 99999999999 parts" means keep all of them.
        let n = rest[..digits_len].parse::<u32>().unwrap_or(u32::MAX);
        if n == 0 {
            return Err("a macro may not keep 0 parts".into());
        }
        Some(n)
    } else {
        None
    };
    let mut rest = &rest[digits_len..];
    let reverse = matches!(rest.as_bytes().first(), Some(b'r' | b'R'));
    if reverse {
        rest = &rest[1..];
    }
    if let Some(bad) = rest.chars().find(|c| !DELIMITERS.contains(*c)) {
        return Err(format!(
            "'{bad}' is not a macro delimiter (one of {DELIMITERS})"
        ));
    }
    Ok(Macro {
        letter,
        escape: first.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: rest.to_string(),
    })
}

/// The values macros expand to in one evaluation.
#[derive(Clone, Debug)]
pub struct MacroContext {
    /// `s`: the sender (`local@domain`).
    pub sender: String,
    /// `d`: the domain whose record is being evaluated.
    pub domain: String,
    pub ip: IpAddr,
    /// `h`: the HELO/EHLO name.
    pub helo: String,
    /// `p`: the validated name of `ip`, or `unknown`.
    pub validated_name: String,
}

impl MacroContext {
    fn value(&self, letter: char) -> String {
        match letter {
            's' => self.sender.clone(),
            'l' => self
                .sender
                .rsplit_once('@')
                .map_or("postmaster", |(l, _)| l)
                .to_string(),
            'o' => self
                .sender
                .rsplit_once('@')
                .map_or(self.sender.as_str(), |(_, d)| d)
                .to_string(),
            'd' => self.domain.clone(),
            'i' => dotted_ip(self.ip),
            'p' => self.validated_name.clone(),
            'v' => if self.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_string(),
            'h' => self.helo.clone(),
            'c' => self.ip.to_string(),
            'r' => "unknown".to_string(),
            't' => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
                .to_string(),
            _ => String::new(),
        }
    }
}

/// `%{i}`: dotted quad, or dot-separated nibbles for IPv6 (RFC 7208 §7.3).
fn dotted_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let mut nibbles = Vec::with_capacity(32);
            for b in v6.octets() {
                nibbles.push(format!("{:x}", b >> 4));
                nibbles.push(format!("{:x}", b & 0xf));
            }
            nibbles.join(".")
        }
    }
}

impl Macro {
    fn expand(&self, cx: &MacroContext) -> String {
        let value = cx.value(self.letter);
        let delimiters = if self.delimiters.is_empty() {
            "."
        } else {
            self.delimiters.as_str()
        };
        let mut parts: Vec<&str> = value.split(|c| delimiters.contains(c)).collect();
        if self.reverse {
            parts.reverse();
        }
        if let Some(keep) = self.keep {
            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
            if keep < parts.len() {
                parts.drain(..parts.len() - keep);
            }
        }
        let joined = parts.join(".");
        if self.escape {
            url_escape(&joined)
        } else {
            joined
        }
    }
}

/// RFC 3986 escaping of everything but the unreserved characters (RFC 7208 §7.3).
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A name made by expansion and used in a query: longer than 253 characters, labels are dropped
/// from the left until it fits (RFC 7208 §7.3).
pub fn fit_domain(name: &str) -> String {
    let mut s = name.trim_end_matches('.');
    while s.len() > 253 {
        match s.split_once('.') {
            Some((_, rest)) => s = rest,
            None => return String::new(),
        }
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(ip: &str) -> MacroContext {
        // RFC 7208 §7.4 example values.
        MacroContext {
            sender: "strong-bad@email.example.com".into(),
            domain: "email.example.com".into(),
            ip: ip.parse().expect("ip"),
            helo: "mx.example.org".into(),
            validated_name: "mx.example.org".into(),
        }
    }

    fn expand(s: &str, ip: &str) -> String {
        MacroString::parse(s, true).expect("parses").expand(&cx(ip))
    }

    #[test]
    fn rfc_7208_section_7_4_examples() {
        let v4 = "192.0.2.3";
        assert_eq!(expand("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}", v4), "email.example.com");
        assert_eq!(expand("%{d}", v4), "email.example.com");
        assert_eq!(expand("%{d4}", v4), "email.example.com");
        assert_eq!(expand("%{d3}", v4), "email.example.com");
        assert_eq!(expand("%{d2}", v4), "example.com");
        assert_eq!(expand("%{d1}", v4), "com");
        assert_eq!(expand("%{dr}", v4), "com.example.email");
        assert_eq!(expand("%{d2r}", v4), "example.email");
        assert_eq!(expand("%{l}", v4), "strong-bad");
        assert_eq!(expand("%{l-}", v4), "strong.bad");
        assert_eq!(expand("%{lr}", v4), "strong-bad");
        assert_eq!(expand("%{lr-}", v4), "bad.strong");
        assert_eq!(expand("%{l1r-}", v4), "strong");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", v4),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp._spf.%{d2}", v4),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", v4),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{d2}.trusted-domains.example.net", v4),
            "example.com.trusted-domains.example.net"
        );
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
    }

    #[test]
    fn escapes_uppercase_and_helo() {
        assert_eq!(expand("%%%_%-", "192.0.2.3"), "% %20");
        assert_eq!(
            expand("%{S}", "192.0.2.3"),
            "strong-bad%40email.example.com"
        );
        assert_eq!(expand("%{h}", "192.0.2.3"), "mx.example.org");
        assert_eq!(expand("%{p}", "192.0.2.3"), "mx.example.org");
    }

    #[test]
    fn bad_macros_say_where() {
        let e = MacroString::parse("a.%{x}.example", false).expect_err("x");
        assert_eq!(e.offset, 2);
        assert!(e.detail.contains("'x'"), "{}", e.detail);
        assert_eq!(
            MacroString::parse("%{d", false).expect_err("open").offset,
            0
        );
        assert!(MacroString::parse("%{d0}", false).is_err(), "keep 0 parts");
        assert!(
            MacroString::parse("%{d2q}", false).is_err(),
            "q is no delimiter"
        );
        assert!(MacroString::parse("100%", false).is_err(), "a lone %");
        assert!(
            MacroString::parse("%{c}", false).is_err(),
            "c only in exp text"
        );
        assert!(MacroString::parse("%{c}", true).is_ok());
        // A huge digit count saturates instead of overflowing.
        assert_eq!(
            expand("%{d99999999999999999999}", "192.0.2.3"),
            "email.example.com"
        );
    }

    #[test]
    fn long_expansions_are_cut_from_the_left() {
        let long = format!("{}.example.com", vec!["x".repeat(60); 5].join("."));
        let fitted = fit_domain(&long);
        assert!(
            fitted.len() <= 253 && fitted.ends_with(".example.com"),
            "{fitted}"
        );
        assert_eq!(fit_domain("a.b."), "a.b");
    }
}
