//! What a server offers in its EHLO reply: every keyword as sent (for evidence), and the few
//! the checks decide on (STARTTLS, the AUTH mechanisms).
use super::reply::Reply;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The greeting line's text (`smtp.example Hello [192.0.2.1]`).
    pub greeting: String,
    /// Every later line, as sent (`STARTTLS`, `AUTH LOGIN XOAUTH2`, `SIZE 157286400`).
    pub keywords: Vec<String>,
}

impl Capabilities {
    /// The capabilities in a positive EHLO reply; none for any other reply.
    pub fn from_reply(reply: &Reply) -> Capabilities {
        if !reply.is_positive() {
            return Capabilities::default();
        }
        let mut texts = reply.texts();
        let greeting = texts.next().unwrap_or("").to_string();
        Capabilities {
            greeting,
            keywords: texts
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        }
    }

    fn keyword(&self, name: &str) -> Option<&str> {
        self.keywords.iter().map(String::as_str).find(|k| {
            let word = k.split([' ', '=']).next().unwrap_or("");
            word.eq_ignore_ascii_case(name)
        })
    }

    pub fn starttls(&self) -> bool {
        self.keyword("STARTTLS").is_some()
    }

    /// `AUTH` mechanisms offered (also the old `AUTH=` form), upper case.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in &self.keywords {
            let upper = k.to_ascii_uppercase();
            let rest = upper
                .strip_prefix("AUTH ")
                .or_else(|| upper.strip_prefix("AUTH="));
            for m in rest.into_iter().flat_map(str::split_whitespace) {
                if !out.iter().any(|o| o == m) {
                    out.push(m.to_string());
                }
            }
        }
        out
    }

    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth_mechanisms()
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// The keywords on one line, for evidence (`STARTTLS, SIZE 157286400, ...`), shortened.
    pub fn summary(&self) -> String {
        if self.keywords.is_empty() {
            return "(none)".into();
        }
        let mut s = String::new();
        for (i, k) in self.keywords.iter().enumerate() {
            if s.len() + k.len() > 300 {
                s.push_str(&format!(", … ({} more)", self.keywords.len() - i));
                break;
            }
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&k.chars().take(80).collect::<String>());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo(lines: &[&str]) -> Capabilities {
        Capabilities::from_reply(&Reply {
            code: 250,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        })
    }

    #[test]
    fn microsoft_before_and_after_tls() {
        let before = ehlo(&[
            "250-XX0PR00CA0000.outlook.office365.com Hello [203.0.113.10]",
            "250-SIZE 157286400",
            "250-PIPELINING",
            "250-STARTTLS",
            "250 SMTPUTF8",
        ]);
        assert!(before.starttls());
        assert!(before.auth_mechanisms().is_empty());
        let after = ehlo(&[
            "250-XX0PR00CA0000.outlook.office365.com Hello [203.0.113.10]",
            "250-SIZE 157286400",
            "250-AUTH LOGIN XOAUTH2",
            "250 SMTPUTF8",
        ]);
        assert!(!after.starttls());
        assert_eq!(after.auth_mechanisms(), vec!["LOGIN", "XOAUTH2"]);
        assert!(after.offers_auth("xoauth2"));
        assert_eq!(
            after.greeting,
            "XX0PR00CA0000.outlook.office365.com Hello [203.0.113.10]"
        );
    }

    #[test]
    fn old_auth_form_and_a_refused_ehlo() {
        let c = ehlo(&["250-mx Hello", "250-AUTH=PLAIN LOGIN", "250 STARTTLSX"]);
        assert_eq!(c.auth_mechanisms(), vec!["PLAIN", "LOGIN"]);
        assert!(!c.starttls(), "STARTTLSX is not STARTTLS");
        let refused = Capabilities::from_reply(&Reply {
            code: 502,
            lines: vec!["502 5.5.1 EHLO not supported".into()],
        });
        assert!(refused.keywords.is_empty());
    }
}
