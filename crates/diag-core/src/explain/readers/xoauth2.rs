//! SMTP XOAUTH2 blobs: base64 of `user=<address>^Aauth=Bearer <token>^A^A`. The blob tells
//! both who logs in and which token is used, so the token can be judged for SMTP and its user
//! compared with the login. Also here: the time a log line says it was written (a token is
//! judged against that, not against today), and a server's `334 <base64>` challenge decoded.
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
    /// Every way the blob departs from the XOAUTH2 format, most basic first.
    pub faults: Vec<&'static str>,
}

impl Blob {
    /// The first format fault, if any.
    pub fn malformed(&self) -> Option<&'static str> {
        self.faults.first().copied()
    }
}

pub const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// How a blob starts in base64: `user=`, or `auth=` when the client left `user=` out or put
/// it later.
pub const STARTS: [&str; 2] = ["dXNlcj", "YXV0aD"];

/// Blobs in `line` (each starts with base64 of `user=` or of `auth=`).
pub fn find(line: &str) -> Vec<Blob> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    // The next place each start is found, refreshed only once passed (a long line is not
    // searched again for a start it does not hold).
    let mut ahead = STARTS.map(|s| memchr::memmem::find(bytes, s.as_bytes()));
    loop {
        for (i, s) in STARTS.iter().enumerate() {
            if ahead[i].is_some_and(|p| p < at) {
                ahead[i] = memchr::memmem::find(&bytes[at..], s.as_bytes()).map(|o| at + o);
            }
        }
        let Some(start) = ahead.iter().flatten().copied().min() else {
            break;
        };
        if start > 0 && is_b64(bytes[start - 1]) {
            at = start + 1;
            continue;
        }
        let end = start + bytes[start..].iter().take_while(|&&b| is_b64(b)).count();
        at = end.max(start + 1);
        // A run broken off by characters base64 never holds (`...IGV5Sh!!**%$`) is no blob: its
        // decodable head holds no whole token to judge.
        if bytes.get(end).is_some_and(|b| b"!*%$@#^~|?".contains(b)) {
            if out.len() < 8 {
                out.push(Blob {
                    offset: start,
                    user: None,
                    token: None,
                    faults: vec![NotABlob::NotBase64.describe()],
                });
            }
            continue;
        }
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

/// Lines of a wrapped blob joined back at most (a blob of 4 KB wrapped at 64 columns).
const WRAP_LINES_MAX: usize = 80;

/// `line` with the lines of `after` that continue its final blob joined on, when a log wrapped
/// a long blob (at 76 columns, say): the line ends in a blob (a long base64 run with no padding
/// yet) and the next lines are pure base64. `None` when nothing continues it.
pub fn join_wrapped(line: &str, after: &[u8]) -> Option<String> {
    let t = line.trim_end();
    let run = t.bytes().rev().take_while(|&b| is_b64(b)).count();
    let tail = &t[t.len() - run..];
    if run < 40 || t.ends_with('=') || !STARTS.iter().any(|s| tail.starts_with(s)) {
        return None;
    }
    let mut joined = t.to_string();
    let mut added = 0;
    for next in after.split(|&b| b == b'\n').take(WRAP_LINES_MAX) {
        let next = next.strip_suffix(b"\r").unwrap_or(next);
        if next.len() < 4 || !next.iter().all(|&b| is_b64(b)) {
            break;
        }
        // Pure base64 is ASCII.
        joined.push_str(std::str::from_utf8(next).ok()?);
        added += 1;
        if next.ends_with(b"=") {
            break;
        }
    }
    (added > 0).then_some(joined)
}

/// Why a piece of text sent after `AUTH XOAUTH2` is not a blob at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotABlob {
    /// Not base64 (or not whole groups of four characters).
    NotBase64,
    /// Base64, but what it decodes to has neither `user=` nor `auth=`.
    NotXoauth2,
}

impl NotABlob {
    pub fn describe(self) -> &'static str {
        match self {
            NotABlob::NotBase64 => "what follows AUTH XOAUTH2 is not valid base64",
            NotABlob::NotXoauth2 => {
                "what follows AUTH XOAUTH2 decodes to something without `user=` or `auth=`"
            }
        }
    }
}

/// Reads the base64 `text` a client sent as its XOAUTH2 response (after `AUTH XOAUTH2`, or alone
/// after the server's `334`), whatever field comes first.
pub fn decode(text: &str) -> Result<Blob, NotABlob> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(is_b64) {
        return Err(NotABlob::NotBase64);
    }
    let usable = t.len() / 4 * 4;
    let raw = LENIENT
        .decode(&t.as_bytes()[..usable])
        .map_err(|_| NotABlob::NotBase64)?;
    let lower = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    if !lower.contains("user=") && !lower.contains("auth=") {
        return Err(NotABlob::NotXoauth2);
    }
    Ok(parse(0, &raw, usable == t.len()))
}

fn parse(offset: usize, raw: &[u8], complete: bool) -> Blob {
    let text = String::from_utf8_lossy(raw);
    // Builders that write the separator as text instead of the byte 0x01.
    let literal_sep = ["^A", "\\x01", "\\u0001", "\\001"]
        .into_iter()
        .find(|s| text.contains(s));
    let sep = if text.contains('\u{1}') {
        "\u{1}"
    } else {
        literal_sep.unwrap_or("\u{1}")
    };
    let fields: Vec<&str> = text.split(sep).collect();
    let field = |name: &str| {
        fields.iter().find_map(|f| {
            let lf = f.trim_start().to_ascii_lowercase();
            lf.starts_with(name).then_some(f.trim_start())
        })
    };
    let user_field = field("user=");
    let auth_field = field("auth=");
    let user = user_field.map(|u| u["user=".len()..].trim().to_string());
    let token = auth_field.map(|a| {
        let v = &a["auth=".len()..];
        let v = v.trim_start();
        let v = if v.get(..6).is_some_and(|b| b.eq_ignore_ascii_case("bearer")) {
            &v[6..]
        } else {
            v
        };
        v.trim().to_string()
    });

    let mut faults = Vec::new();
    if !text.contains('\u{1}') {
        faults.push(match literal_sep {
            Some(_) => "the separators are written as text (`^A`, `\\x01`), not the byte 0x01",
            None => "the fields are not separated by ^A (0x01)",
        });
    }
    match user_field {
        None => faults.push("there is no `user=` field"),
        Some(_) if !fields.first().is_some_and(|f| f.starts_with("user=")) => {
            faults.push("`user=` is not the first field")
        }
        Some(_) => {}
    }
    let run_together = auth_field.is_none()
        && user
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().contains("auth="));
    match auth_field {
        None if run_together => faults.push("no ^A (0x01) between the `user=` and `auth=` fields"),
        None => faults.push("there is no `auth=Bearer <token>` field"),
        Some(a) => {
            let after = &a["auth=".len()..];
            if !a.starts_with("auth=") {
                faults.push("`auth=` must be written in lower case");
            }
            if after.starts_with("Bearer ") {
            } else if let Some(word) = after.get(..6).filter(|w| w.eq_ignore_ascii_case("bearer")) {
                if word != "Bearer" {
                    faults.push("`Bearer` must be written `Bearer` (capital B, then lower case)");
                }
                if !after[6..].starts_with(' ') {
                    faults.push("`Bearer` must be followed by one space before the token");
                } else if after[6..].starts_with("  ") {
                    faults.push("`Bearer` is followed by more than one space");
                }
            } else {
                faults.push("the auth field lacks `Bearer ` before the token");
            }
        }
    }
    if complete && text.contains('\u{1}') {
        if !text.ends_with('\u{1}') {
            faults.push("the blob does not end with ^A^A (0x01 0x01)");
        } else if !text.ends_with("\u{1}\u{1}") {
            faults.push("the blob ends with one ^A instead of two (0x01 0x01)");
        }
    }
    if !run_together && user.as_deref().is_some_and(|u| !u.contains('@')) {
        faults.push("`user=` is not an e-mail address");
    }
    let token = token.filter(|t| !t.is_empty());
    if auth_field.is_some() && token.is_none() {
        faults.push("there is no token after `auth=Bearer `");
    }
    // A user= and auth= run together in one field: split them for the judge.
    let (user, token) = match (&user, &token) {
        (Some(u), None) if u.to_ascii_lowercase().contains("auth=") => {
            let at = u.to_ascii_lowercase().find("auth=").unwrap_or(u.len());
            let t = u[at + 5..].trim_start();
            let t = t.strip_prefix("Bearer").unwrap_or(t).trim().to_string();
            (
                Some(u[..at].trim().to_string()),
                (!t.is_empty()).then_some(t),
            )
        }
        _ => (user, token),
    };
    faults.dedup();
    Blob {
        offset,
        user: user.filter(|u| !u.is_empty()),
        token,
        faults,
    }
}

/// What a server's `334 <base64>` challenge says, decoded: the prompt of AUTH LOGIN
/// (`Username:`), or the JSON error some servers send after a refused XOAUTH2 blob, laid out as
/// `key=value` pairs. `None` when it is empty or does not decode to text.
pub fn challenge(b64: &str) -> Option<String> {
    let t = b64.trim();
    if t.is_empty() || !t.bytes().all(is_b64) {
        return None;
    }
    let raw = LENIENT.decode(t.as_bytes()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        let pairs: Vec<String> = map
            .iter()
            .take(8)
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{k}={}", v.chars().take(120).collect::<String>())
            })
            .collect();
        return Some(format!("JSON {{{}}}", pairs.join(", ")));
    }
    let clean: String = text.chars().filter(|c| !c.is_control()).take(120).collect();
    (!clean.trim().is_empty()).then(|| clean.trim().to_string())
}

/// Whether `text` decodes to a JSON error (a failed XOAUTH2 attempt on servers that send one).
pub fn challenge_is_error(b64: &str) -> bool {
    challenge(b64).is_some_and(|c| c.starts_with("JSON {"))
}

/// The time a log line says it was written, in Unix seconds (UTC when it names no zone): an
/// ISO 8601 stamp (`2025-03-14T08:00:01.123Z`, `2025-03-14 08:00:01`, `+01:00`) or a syslog
/// stamp at the start (`Mar 14 08:00:01`, its year taken from `now`).
pub fn line_time(line: &str, now: i64) -> Option<i64> {
    let head = &line[..floor_boundary(line, 64)];
    iso_time(head).or_else(|| syslog_time(head.trim_start(), now))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    if !part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(part).ok()?.parse().ok()
}

fn iso_time(head: &str) -> Option<i64> {
    let b = head.as_bytes();
    for start in 0..b.len().saturating_sub(18) {
        if start > 0 && b[start - 1].is_ascii_digit() {
            continue;
        }
        let (Some(y), Some(mo), Some(d)) = (
            digits(b, start, 4),
            digits(b, start + 5, 2),
            digits(b, start + 8, 2),
        ) else {
            continue;
        };
        if b[start + 4] != b'-' || b[start + 7] != b'-' || !matches!(b[start + 10], b'T' | b' ') {
            continue;
        }
        let (Some(h), Some(mi), Some(s)) = (
            digits(b, start + 11, 2),
            digits(b, start + 14, 2),
            digits(b, start + 17, 2),
        ) else {
            continue;
        };
        if b[start + 13] != b':' || b[start + 16] != b':' {
            continue;
        }
        let date = chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?;
        let secs = date.and_hms_opt(h, mi, s)?.and_utc().timestamp();
        let mut at = start + 19;
        if b.get(at) == Some(&b'.') || b.get(at) == Some(&b',') {
            at += 1;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
        let offset = match b.get(at) {
            Some(&sign @ (b'+' | b'-')) => {
                let oh = digits(b, at + 1, 2);
                let om = if b.get(at + 3) == Some(&b':') {
                    digits(b, at + 4, 2)
                } else {
                    digits(b, at + 3, 2)
                };
                match (oh, om) {
                    (Some(oh), Some(om)) => {
                        let o = i64::from(oh * 3600 + om * 60);
                        if sign == b'+' { o } else { -o }
                    }
                    _ => 0,
                }
            }
            _ => 0,
        };
        return Some(secs - offset);
    }
    None
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn syslog_time(head: &str, now: i64) -> Option<i64> {
    let month = MONTHS.iter().position(|m| head.starts_with(m))? as u32 + 1;
    let b = head.as_bytes();
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let rest = head[4..].trim_start();
    let day_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&day_len) {
        return None;
    }
    let day: u32 = rest[..day_len].parse().ok()?;
    let t = rest[day_len..].strip_prefix(' ')?.as_bytes();
    let (h, mi, s) = (digits(t, 0, 2)?, digits(t, 3, 2)?, digits(t, 6, 2)?);
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let year = chrono::DateTime::from_timestamp(now, 0)
        .map_or(1970, |d| chrono::Datelike::year(&d.date_naive()));
    let at = |y: i32| {
        chrono::NaiveDate::from_ymd_opt(y, month, day)
            .and_then(|d| d.and_hms_opt(h, mi, s))
            .map(|d| d.and_utc().timestamp())
    };
    // Syslog has no year: a stamp later than tomorrow belongs to last year.
    match at(year)? {
        t if t > now + 86_400 => at(year - 1),
        t => Some(t),
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
        assert_eq!(found[0].malformed(), None);
        assert_eq!(decode(&blob).expect("blob").faults, Vec::<&str>::new());
    }

    #[test]
    fn spots_malformed_blobs() {
        let no_ctrl = B64.encode("user=relay@contoso.com auth=Bearer abc");
        assert!(find(&no_ctrl)[0].malformed().is_some());
        let no_bearer = B64.encode("user=relay@contoso.com\u{1}auth=abc\u{1}\u{1}");
        assert!(find(&no_bearer)[0].malformed().is_some());
        assert!(find("dXNlcj").iter().all(|b| b.token.is_none()));
    }

    fn faults(raw: &str) -> Vec<&'static str> {
        decode(&B64.encode(raw)).expect("an XOAUTH2 blob").faults
    }

    #[test]
    fn each_format_fault_is_named() {
        let f = faults("auth=Bearer abc\u{1}user=a@contoso.com\u{1}\u{1}");
        assert_eq!(f, vec!["`user=` is not the first field"]);
        let f = faults("user=a@contoso.com\u{1}auth=bearer abc\u{1}\u{1}");
        assert_eq!(
            f,
            vec!["`Bearer` must be written `Bearer` (capital B, then lower case)"]
        );
        let f = faults("user=a@contoso.com\u{1}auth=Bearerabc\u{1}\u{1}");
        assert_eq!(
            f,
            vec!["`Bearer` must be followed by one space before the token"]
        );
        let f = faults("user=a@contoso.com\u{1}auth=Bearer abc\u{1}");
        assert_eq!(
            f,
            vec!["the blob ends with one ^A instead of two (0x01 0x01)"]
        );
        let f = faults("user=a@contoso.com\u{1}auth=Bearer abc");
        assert_eq!(f, vec!["the blob does not end with ^A^A (0x01 0x01)"]);
        let f = faults("user=a@contoso.com^Aauth=Bearer abc^A^A");
        assert_eq!(
            f[0],
            "the separators are written as text (`^A`, `\\x01`), not the byte 0x01"
        );
        let f = faults("user=a@contoso.com\u{1}auth=Bearer \u{1}\u{1}");
        assert_eq!(f, vec!["there is no token after `auth=Bearer `"]);
        let f = faults("user=a@contoso.comauth=Bearer abc\u{1}\u{1}");
        assert!(
            f.contains(&"no ^A (0x01) between the `user=` and `auth=` fields"),
            "{f:?}"
        );
        assert_eq!(
            decode(&B64.encode("user=a@contoso.comauth=Bearer abc\u{1}\u{1}"))
                .expect("blob")
                .token
                .as_deref(),
            Some("abc")
        );
        assert_eq!(decode("not base64!"), Err(NotABlob::NotBase64));
        assert_eq!(decode(&B64.encode("hello")), Err(NotABlob::NotXoauth2));
    }

    #[test]
    fn challenges_decode() {
        let json = B64.encode(
            r#"{"status":"401","schemes":"bearer","scope":"https://outlook.office365.com/"}"#,
        );
        let c = challenge(&json).expect("json");
        assert!(
            c.contains("status=401") && c.contains("schemes=bearer"),
            "{c}"
        );
        assert!(challenge_is_error(&json));
        assert_eq!(challenge("VXNlcm5hbWU6").as_deref(), Some("Username:"));
        assert_eq!(challenge(""), None);
        assert_eq!(challenge("!!"), None);
    }

    #[test]
    fn line_times() {
        let now = 1_741_939_200; // 2025-03-14 08:00:00 UTC
        assert_eq!(line_time("2025-03-14T08:00:00Z x", now), Some(now));
        assert_eq!(line_time("2025-03-14 09:00:00.123+01:00 x", now), Some(now));
        assert_eq!(
            line_time("[2025-03-14 07:00:00,5] x", now),
            Some(now - 3600)
        );
        assert_eq!(line_time("Mar 14 08:00:00 relay postfix", now), Some(now));
        // A December stamp read in March is last December.
        assert!(line_time("Dec 31 23:00:00 relay", now).is_some_and(|t| t < now));
        assert_eq!(line_time("S: 250 OK", now), None);
        assert_eq!(line_time("2025-13-40 99:99:99", now), None);
    }
}
