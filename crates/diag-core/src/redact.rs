//! Redaction of secrets in any text xdiag prints: JWTs (whole, or what is left of a truncated
//! one), bearer and basic credentials, client secrets and passwords in `key=value` or JSON form,
//! SMTP AUTH blobs (XOAUTH2, PLAIN, LOGIN answers) and Entra client-secret values by their shape.
//!
//! Redaction keeps the shape of the line so a technician can still read it:
//! `Authorization: Bearer [redacted]`, `"client_secret":"[redacted]"`.
use std::{borrow::Cow, sync::LazyLock};

use regex::Regex;

pub const REDACTED: &str = "[redacted]";

struct Rule {
    re: Regex,
    /// Replacement; `$pre` keeps the part before the secret.
    with: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |re: &str, with: &'static str| Rule {
        re: Regex::new(re).expect("static redaction regex"),
        with,
    };
    vec![
        // SMTP AUTH with an initial response: the blob holds a password or a bearer token.
        rule(
            r"(?i)(?P<pre>\bAUTH[ \t]+(?:XOAUTH2|OAUTHBEARER|PLAIN|LOGIN)[ \t]+)[A-Za-z0-9+/]{4,}={0,2}",
            "${pre}[redacted]",
        ),
        rule(
            r"(?i)(?P<pre>\bBearer[ \t]+)[A-Za-z0-9\-._~+/]{16,}=*",
            "${pre}[redacted]",
        ),
        rule(
            r"(?i)(?P<pre>\bBasic[ \t]+)[A-Za-z0-9+/]{8,}={0,2}",
            "${pre}[redacted]",
        ),
        // An XOAUTH2 / OAUTHBEARER blob standing alone (base64 of `user=` / `n,a=`).
        rule(
            r"(?P<pre>)\b(?:dXNlcj|bixhP|bix1c2)[A-Za-z0-9+/]{6,}={0,2}",
            "[redacted XOAUTH2 blob]",
        ),
        // JWTs, also truncated or encrypted ones: base64url JSON `eyJ...` and any parts after it.
        rule(
            r"(?P<pre>)eyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]*){0,4}",
            "[redacted JWT]",
        ),
        // key=value, key: value, "key":"value" for secret-bearing keys.
        rule(
            r#"(?i)(?P<pre>\b(?:client_secret|client_assertion|password|passwd|pwd|secret|refresh_token|access_token|id_token|api[_-]?key|sig)\b["']?\s*[:=]\s*["']?)[^"'&\s,;}<>]+"#,
            "${pre}[redacted]",
        ),
        // Entra client-secret values (`abc8Q~...`), wherever they stand.
        rule(
            r"(?P<pre>)\b[A-Za-z0-9_\-.]{3}[0-9]Q~[A-Za-z0-9_\-.~]{31,}",
            "[redacted secret]",
        ),
        // A client line that is only a base64 blob: an AUTH LOGIN / PLAIN answer.
        rule(
            r"(?m)(?P<pre>^\s*(?:C:|>>>|->|-->)\s*)[A-Za-z0-9+/]*[a-z0-9+/][A-Za-z0-9+/]{6,}={0,2}\s*$",
            "${pre}[redacted]",
        ),
    ]
});

/// `text` with every secret xdiag recognises replaced by a marker.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for r in RULES.iter() {
        if let Cow::Owned(s) = r.re.replace_all(&out, r.with) {
            out = Cow::Owned(s);
        }
    }
    out
}

/// An e-mail address with its local part masked after the first letter: `s***@contoso.com`.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let first: String = address.chars().take(1).collect();
            format!("{first}***")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str =
        "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl";

    #[test]
    fn tokens_and_credentials_are_replaced() {
        let cases = [
            (
                format!("Authorization: Bearer {JWT}"),
                "Authorization: Bearer [redacted]",
            ),
            (format!("token={JWT}"), "token=[redacted JWT]"),
            (
                "C: AUTH XOAUTH2 dXNlcj1hQGIuY29tAWF1dGg9QmVhcmVyIHh4eAEB".to_string(),
                "C: AUTH XOAUTH2 [redacted]",
            ),
            (
                "client_secret=abc8Q~0123456789abcdefghij0123456789abc&scope=x".to_string(),
                "client_secret=[redacted]&scope=x",
            ),
            (
                r#"{"client_secret": "s3cr3t", "a": 1}"#.to_string(),
                r#"{"client_secret": "[redacted]", "a": 1}"#,
            ),
            (
                "password=hunter2 user=x".to_string(),
                "password=[redacted] user=x",
            ),
            (
                "Authorization: Basic dXNlcjpwYXNzd29yZA==".to_string(),
                "Authorization: Basic [redacted]",
            ),
            ("C: cGFzc3dvcmQxMjM=".to_string(), "C: [redacted]"),
            (
                "value abc8Q~0123456789abcdefghij0123456789abc pasted".to_string(),
                "value [redacted secret] pasted",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(&input), want, "{input}");
        }
    }

    #[test]
    fn truncated_tokens_leave_no_signature_or_claims() {
        let truncated = &JWT[..60];
        let out = redact(&format!("x {truncated}")).into_owned();
        assert!(!out.contains("eyJhdWQ"), "{out}");
        let sig_only = redact(&format!("Bearer {}", &JWT[40..])).into_owned();
        assert!(!sig_only.contains("c2lnbmF0dXJl"), "{sig_only}");
    }

    #[test]
    fn ordinary_log_text_is_left_alone() {
        for line in [
            "S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            "C: EHLO printer",
            "C: STARTTLS",
            "S: 334 UGFzc3dvcmQ6",
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#,
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn addresses_are_masked() {
        assert_eq!(mask_address("scanner@contoso.com"), "s***@contoso.com");
        assert_eq!(mask_address("x"), "x***");
    }
}
