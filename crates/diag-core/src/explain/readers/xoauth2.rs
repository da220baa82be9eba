//! SMTP XOAUTH2 blobs: base64 of `user=<address>^Aauth=Bearer <token>^A^A`. The blob tells
//! both who logs in and which token is used, so the token can be judged for SMTP and its user
//! compared with the login.
use base64::{
    Engine as _,
    alphabet::STANDARD,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};

/// What one blob holds. `token` is only ever passed to the JWT reader, never printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub offset: usize,
    pub user: Option<String>,
    pub token: Option<String>,
    /// Why the blob does not follow the XOAUTH2 format, if it does not.
    pub malformed: Option<&'static str>,
}

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Blobs in `line` (each starts with base64 of `user=`).
pub fn find(line: &str) -> Vec<Blob> {
    let bytes = line.as_bytes();
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=';
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(off) = memchr::memmem::find(&bytes[at..], b"dXNlcj") {
        let start = at + off;
        if start > 0 && is_b64(bytes[start - 1]) {
            at = start + 1;
            continue;
        }
        let end = start + bytes[start..].iter().take_while(|&&b| is_b64(b)).count();
        at = end.max(start + 1);
        // Base64 decodes in groups of four; a truncated blob is cut to whole groups.
        let usable = start + (end - start) / 4 * 4;
        let Ok(raw) = LENIENT.decode(&bytes[start..usable]) else {
            continue;
        };
        if out.len() < 8 {
            out.push(parse(start, &raw, usable == end));
        }
    }
    out
}

fn parse(offset: usize, raw: &[u8], complete: bool) -> Blob {
    let text = String::from_utf8_lossy(raw);
    let mut fields = text.split('\u{1}');
    let user = fields
        .next()
        .and_then(|f| f.strip_prefix("user="))
        .map(str::to_string);
    let auth = fields.next();
    let token = auth
        .and_then(|a| a.strip_prefix("auth="))
        .map(|a| a.trim_start_matches("Bearer").trim().to_string());
    let malformed = if !text.contains('\u{1}') {
        Some("the fields are not separated by ^A (0x01)")
    } else if auth.is_none_or(|a| !a.starts_with("auth=Bearer ")) {
        Some("the second field is not `auth=Bearer <token>`")
    } else if complete && !text.ends_with("\u{1}\u{1}") {
        Some("the blob does not end with ^A^A")
    } else if user.as_deref().is_none_or(|u| !u.contains('@')) {
        Some("`user=` is not an e-mail address")
    } else {
        None
    };
    Blob {
        offset,
        user,
        token: token.filter(|t| !t.is_empty()),
        malformed,
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD as B64;

    use super::*;

    #[test]
    fn reads_user_and_token() {
        let blob = B64.encode("user=relay@contoso.com\u{1}auth=Bearer abc.def.ghi\u{1}\u{1}");
        let found = find(&format!("C: AUTH XOAUTH2 {blob}"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].user.as_deref(), Some("relay@contoso.com"));
        assert_eq!(found[0].token.as_deref(), Some("abc.def.ghi"));
        assert_eq!(found[0].malformed, None);
    }

    #[test]
    fn spots_malformed_blobs() {
        let no_ctrl = B64.encode("user=relay@contoso.com auth=Bearer abc");
        assert!(find(&no_ctrl)[0].malformed.is_some());
        let no_bearer = B64.encode("user=relay@contoso.com\u{1}auth=abc\u{1}\u{1}");
        assert!(find(&no_bearer)[0].malformed.is_some());
        assert!(find("dXNlcj").iter().all(|b| b.token.is_none()));
    }
}
