//! Parsing command lines: the verb, `MAIL FROM:<...>` / `RCPT TO:<...>` paths, addresses.

/// `(VERB in uppercase, the rest trimmed)`.
pub(super) fn split(line: &str) -> (String, &str) {
    let line = line.trim_start();
    let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    (verb.to_ascii_uppercase(), rest.trim())
}

/// The path of `FROM:<a@b> PARAMS` (keyword `FROM` or `TO`, any case, spaces tolerated around
/// the colon). `Some("")` is the null path `<>`.
pub(super) fn path<'a>(argument: &'a str, keyword: &str) -> Option<&'a str> {
    let (word, rest) = argument.split_once(':')?;
    if !word.trim().eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest.trim_start();
    let inner = if let Some(stripped) = rest.strip_prefix('<') {
        &stripped[..stripped.find('>')?]
    } else {
        // Some devices omit the brackets.
        rest.split_whitespace().next().unwrap_or("")
    };
    let inner = inner.trim();
    if inner.is_empty() || is_mailbox(inner) {
        Some(inner)
    } else {
        None
    }
}

/// `local@domain` with a plausible domain (one label allowed: devices send `x@localhost`).
pub(super) fn is_mailbox(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.is_empty()
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// The domain of an address, lowercase.
pub(super) fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_and_paths() {
        assert_eq!(
            split("mail FROM:<a@contoso.com> SIZE=10"),
            ("MAIL".to_string(), "FROM:<a@contoso.com> SIZE=10")
        );
        assert_eq!(split("QUIT"), ("QUIT".to_string(), ""));
        assert_eq!(
            path("FROM:<a@contoso.com> SIZE=10", "FROM"),
            Some("a@contoso.com")
        );
        assert_eq!(
            path("from: <scanner@localhost>", "FROM"),
            Some("scanner@localhost")
        );
        assert_eq!(path("FROM:<>", "FROM"), Some(""));
        assert_eq!(path("TO:b@fabrikam.com", "TO"), Some("b@fabrikam.com"));
        assert_eq!(path("TO:<not an address>", "TO"), None);
        assert_eq!(path("FROM:<a@contoso.com>", "TO"), None);
        assert_eq!(domain_of("A@Contoso.COM"), "contoso.com");
    }
}
