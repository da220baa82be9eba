//! Redaction of secrets in any text xdiag prints: JWTs (whole, or what is left of a truncated
//! one), bearer and basic credentials, client secrets and passwords in `key=value` or JSON form,
//! SMTP AUTH blobs (XOAUTH2, PLAIN, LOGIN answers) and Entra client-secret values by their shape.
//!
//! Redaction keeps the shape of the line so a technician can still read it:
//! `Authorization: Bearer [redacted]`, `"client_secret":"[redacted]"`.
use std::{borrow::Cow, sync::LazyLock};

use regex::{Captures, Regex};

pub const REDACTED: &str = "[redacted]";

struct Rule {
    re: Regex,
    with: With,
}

enum With {
    /// A replacement template; `$pre` keeps the part before the secret.
    Template(&'static str),
    /// A replacement that looks at what matched first.
    Func(fn(&Captures) -> String),
}

/// Words that end the name of a setting holding a secret: `SMTP_PASSWORD`, `smtp_pass`,
/// `ClientSecret`, `api_key`, `refresh_token`, `Credentials`. Matched case-insensitively at the
/// end of the name (optionally followed by `value` or a plural `s`).
const SECRET_KEY: &str = r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|key|credentials?|assertion)";

/// Names that end in a secret word but name an error, not a setting
/// (`InvalidAuthenticationToken: Access token is empty`): the text after them is prose.
const ERROR_NAME_WORDS: &[&str] = &[
    "invalid",
    "expired",
    "missing",
    "exception",
    "error",
    "bypass",
];

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |re: &str, with: &'static str| Rule {
        re: Regex::new(re).expect("static redaction regex"),
        with: With::Template(with),
    };
    let func = |re: &str, f: fn(&Captures) -> String| Rule {
        re: Regex::new(re).expect("static redaction regex"),
        with: With::Func(f),
    };
    vec![
        // SMTP AUTH with an initial response: the blob holds a password or a bearer token.
        func(
            r"(?i)(?P<pre>\bAUTH[ \t]+(?:XOAUTH2|OAUTHBEARER|PLAIN|LOGIN)[ \t]+)(?P<val>[A-Za-z0-9+/\-]{4,}={0,2})",
            redact_unless_word,
        ),
        rule(
            r"(?i)(?P<pre>\bBearer[ \t]+)[A-Za-z0-9\-._~+/]{16,}=*",
            "${pre}[redacted]",
        ),
        func(
            r"(?i)(?P<pre>\bBasic[ \t]+)(?P<val>[A-Za-z0-9+/]{8,}={0,2})",
            redact_unless_word,
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
        // A password in a URL: `smtp://user:password@host`.
        rule(
            r"(?i)(?P<pre>\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:)[^\s@/]+(?P<post>@)",
            "${pre}[redacted]${post}",
        ),
        // PowerShell: `ConvertTo-SecureString "..." -AsPlainText`, `NetworkCredential("u", "p")`.
        rule(
            r#"(?i)(?P<pre>\bConvertTo-SecureString[ \t]+(?:-String[ \t]+)?)(?:"[^"\n]*"|'[^'\n]*'|[^\s|)]+)"#,
            "${pre}[redacted]",
        ),
        rule(
            r#"(?i)(?P<pre>\b(?:NetworkCredential|PSCredential)\s*\(\s*(?:"[^"\n]*"|'[^'\n]*'|\$\w+)\s*,\s*)(?:"[^"\n]*"|'[^'\n]*')"#,
            "${pre}[redacted]",
        ),
        // A setting whose name ends in a secret word, in every form a config or log writes it:
        // `SMTP_PASSWORD=x`, `smtp_pass = x`, `ClientSecret: x`, `"clientSecret": "x"`,
        // `\"client_secret\":\"x\"` (JSON inside a JSON string), `'api_key' => 'x'`.
        func(
            &format!(
                r#"(?i)(?P<key>\b[A-Za-z0-9_.\-]*?{SECRET_KEY}(?:_?value|s)?)(?P<sep>\\?["']?[ \t]*(?:=>|[:=])[ \t]*)(?P<val>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\\"(?:[^"\\\n]|\\[^"\n])*\\"|[^\s"'&,;}}<>\[\\][^\s"'&,;}}<>\\]*|["'][^\s"']+)"#
            ),
            redact_setting,
        ),
        // The same on a command line: `--password x`, `--client-secret=x`.
        rule(
            r#"(?i)(?P<pre>(?:^|[ \t])--?[A-Za-z0-9_\-]*(?:password|passwd|pwd|secret|token|api-?key)(?:[ \t]+|=))(?:"[^"\n]*"|'[^'\n]*'|[^\s"'\-\[][^\s"']*)"#,
            "${pre}[redacted]",
        ),
        // `sig=` in a SAS URL.
        rule(r#"(?i)(?P<pre>\bsig=)[^"'&\s,;}<>\[]+"#, "${pre}[redacted]"),
        // Entra client-secret values by their shape, wherever they stand: about 40 characters
        // of base64url with a `~` in the first few (`abc8Q~...`, `Qx8Q~...`).
        rule(
            r"(?P<pre>^|[^A-Za-z0-9_.~\-])[A-Za-z0-9_.\-]{3,5}~[A-Za-z0-9_.~\-]{28,}",
            "${pre}[redacted secret]",
        ),
        // A client line that is only a base64 blob: an AUTH LOGIN / PLAIN answer.
        rule(
            r"(?m)(?P<pre>^\s*(?:C:|>>>|->|-->)\s*)[A-Za-z0-9+/]*[a-z0-9+/][A-Za-z0-9+/]{6,}={0,2}\s*$",
            "${pre}[redacted]",
        ),
    ]
});

/// `key=value` and its kin with the value replaced, keeping the quotes around it; left alone
/// when the name is an error name or the value is already a redaction marker.
/// After `Basic` or `AUTH <mechanism>`: a credential is replaced, but a plain word is prose or
/// a server's list of mechanisms (`basic authentication is disabled`, `250-AUTH LOGIN XOAUTH2`).
fn redact_unless_word(c: &Captures) -> String {
    const MECHANISMS: &[&str] = &[
        "XOAUTH2",
        "OAUTHBEARER",
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
        "DIGEST-MD5",
        "GSSAPI",
        "NTLM",
    ];
    let val = &c["val"];
    let letters = val.bytes().all(|b| b.is_ascii_alphabetic());
    let rest = &val[1..];
    let word = letters
        && (val.bytes().all(|b| b.is_ascii_lowercase())
            || val.bytes().all(|b| b.is_ascii_uppercase())
            || rest.bytes().all(|b| b.is_ascii_lowercase()));
    if word || MECHANISMS.iter().any(|m| m.eq_ignore_ascii_case(val)) {
        c[0].to_string()
    } else {
        format!("{}{REDACTED}", &c["pre"])
    }
}

fn redact_setting(c: &Captures) -> String {
    let (key, sep, val) = (&c["key"], &c["sep"], &c["val"]);
    let lower = key.to_ascii_lowercase();
    if ERROR_NAME_WORDS.iter().any(|w| lower.contains(w)) || val.contains("[redacted") {
        return c[0].to_string();
    }
    let quote = ["\\\"", "\"", "'"]
        .into_iter()
        .find(|q| val.len() >= 2 * q.len() && val.starts_with(q) && val.ends_with(q))
        .unwrap_or("");
    format!("{key}{sep}{quote}{REDACTED}{quote}")
}

/// `text` with every secret xdiag recognises replaced by a marker.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for r in RULES.iter() {
        let replaced = match &r.with {
            With::Template(t) => r.re.replace_all(&out, *t),
            With::Func(f) => r.re.replace_all(&out, |c: &Captures| f(c)),
        };
        if let Cow::Owned(s) = replaced {
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
    fn settings_named_like_secrets_are_replaced_in_every_form() {
        let cases = [
            (
                "SMTP_PASSWORD=Winter2026!secret 535 5.7.3",
                "SMTP_PASSWORD=[redacted] 535 5.7.3",
            ),
            ("smtp_pass=Winter2026!secret x", "smtp_pass=[redacted] x"),
            (
                "export MAIL_PASSWORD='a b c'",
                "export MAIL_PASSWORD='[redacted]'",
            ),
            (
                "ClientSecret: Qx8Q~abcDEF1234567890ghiJKL",
                "ClientSecret: [redacted]",
            ),
            ("  client_secret: hunter2", "  client_secret: [redacted]"),
            ("Password = hunter2", "Password = [redacted]"),
            (
                r#"{"clientSecret": "s3 cr\"et", "a": 1}"#,
                r#"{"clientSecret": "[redacted]", "a": 1}"#,
            ),
            (
                r#""body":"{\"client_secret\":\"s3cr3t\",\"x\":1}""#,
                r#""body":"{\"client_secret\":\"[redacted]\",\"x\":1}""#,
            ),
            ("'api_key' => 'abc123'", "'api_key' => '[redacted]'"),
            (
                "Server=x;User=y;Password=p@ss;Port=587",
                "Server=x;User=y;Password=[redacted];Port=587",
            ),
            ("apiKey:abc", "apiKey:[redacted]"),
            ("XDIAG_CREDENTIALS=abc", "XDIAG_CREDENTIALS=[redacted]"),
            ("refresh_token=0.AXoAabc", "refresh_token=[redacted]"),
            (
                "xdiag check --client-secret hunter2 --tenant x",
                "xdiag check --client-secret [redacted] --tenant x",
            ),
            (
                "smtp://scanner:hunter2@smtp.office365.com:587",
                "smtp://scanner:[redacted]@smtp.office365.com:587",
            ),
            (
                r#"$p = ConvertTo-SecureString "Winter2026!" -AsPlainText -Force"#,
                "$p = ConvertTo-SecureString [redacted] -AsPlainText -Force",
            ),
            (
                r#"New-Object System.Net.NetworkCredential("scanner@contoso.com", "Winter2026!")"#,
                r#"New-Object System.Net.NetworkCredential("scanner@contoso.com", [redacted])"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn entra_secret_values_are_replaced_by_their_shape() {
        for secret in [
            "Qx8Q~abcDEF1234567890ghiJKLmnopQRstuVWxyz12",
            "abc8Q~0123456789abcdefghij0123456789abc",
            "-x.7Q~_0123456789abcdefghij0123456789ab",
        ] {
            let out =
                redact(&format!("{secret} 535 5.7.3 Authentication unsuccessful")).into_owned();
            assert_eq!(
                out,
                "[redacted secret] 535 5.7.3 Authentication unsuccessful"
            );
            let out = redact(&format!("secret was ({secret})")).into_owned();
            assert!(!out.contains(&secret[6..]), "{out}");
        }
    }

    #[test]
    fn words_after_basic_or_auth_are_prose_not_credentials() {
        for keep in [
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            "Basic Authentication is turned off",
            "250-AUTH LOGIN XOAUTH2",
            "250 AUTH PLAIN LOGIN CRAM-MD5",
        ] {
            assert_eq!(redact(keep), keep);
        }
        assert_eq!(
            redact("Authorization: Basic dXNlcjpwYXNzd29yZA=="),
            "Authorization: Basic [redacted]"
        );
        assert_eq!(
            redact("C: AUTH LOGIN c2Nhbm5lcg=="),
            "C: AUTH LOGIN [redacted]"
        );
        assert_eq!(
            redact("AUTH PLAIN AHVzZXIAcGFzcw=="),
            "AUTH PLAIN [redacted]"
        );
    }

    #[test]
    fn redaction_is_stable_and_keeps_markers() {
        let once = redact(&format!("token={JWT} SMTP_PASSWORD=x")).into_owned();
        assert_eq!(once, "token=[redacted JWT] SMTP_PASSWORD=[redacted]");
        assert_eq!(redact(&once), once);
    }

    #[test]
    fn names_and_prose_that_only_look_like_settings_are_left_alone() {
        for line in [
            r#"{"error":"invalid_client","error_codes":[7000215],"trace_id":"0f3c","correlation_id":"x"}"#,
            "Trace ID: 0f3c0f3c-1111-2222-3333-444455556666 Correlation ID: 1234",
            "InvalidAuthenticationToken: Access token is empty.",
            "error_description: AADSTS7000222: The provided client secret keys for app are expired.",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent is the value",
            "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
            "SecurityTokenExpired: Lifetime validation failed",
            r#"{"token_type":"Bearer","expires_in":3599}"#,
            "C:\\PROGRA~1\\Xerox\\scan~1.log",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "grant_type=password&scope=https://outlook.office.com/SMTP.Send",
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
