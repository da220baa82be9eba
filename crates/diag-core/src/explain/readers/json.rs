//! JSON error bodies: the token endpoint's `{"error":"invalid_client","error_codes":[7000215],
//! "trace_id":...}` and Graph's `{"error":{"code":"ErrorAccessDenied","innerError":{...}}}`.
//! Codes read from these fields are structured facts, stronger than the same word in prose.
use serde_json::Value;

use crate::explain::tokens::TokenKind;

/// A code read from a known field: (kind, lowercase text, label for `matched`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonCode {
    pub kind: TokenKind,
    pub text: String,
    pub label: String,
    /// The key it was read from, to find its line in a multi-line body.
    pub key: &'static str,
}

/// What one JSON value says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonFacts {
    pub codes: Vec<JsonCode>,
    /// (key, value) pairs worth quoting: trace, correlation and request ids, timestamps.
    pub evidence: Vec<(String, String)>,
}

const EVIDENCE_KEYS: &[&str] = &[
    "trace_id",
    "correlation_id",
    "timestamp",
    "request-id",
    "client-request-id",
    "date",
];
const MAX_DEPTH: usize = 6;
/// Objects tried per line: enough for a log line with a body or two, bounded for junk.
const MAX_ATTEMPTS: usize = 6;

/// The JSON objects that start at a `{` in `text`, with their byte offsets and lengths.
pub fn objects(text: &str) -> Vec<(usize, usize, Value)> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut attempts = 0;
    while let Some(off) = text[at..].find('{') {
        let start = at + off;
        attempts += 1;
        if attempts > MAX_ATTEMPTS {
            break;
        }
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v @ Value::Object(_))) => {
                let len = stream.byte_offset();
                out.push((start, len, v));
                at = start + len.max(1);
            }
            _ => at = start + 1,
        }
    }
    out
}

/// Codes and evidence in one JSON value (nested error objects included).
pub fn facts(v: &Value) -> JsonFacts {
    let mut f = JsonFacts::default();
    walk(v, 0, &mut f);
    f
}

fn walk(v: &Value, depth: usize, f: &mut JsonFacts) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(codes)) = map.get("error_codes") {
                for c in codes.iter().filter_map(Value::as_u64).take(16) {
                    f.codes.push(JsonCode {
                        kind: TokenKind::Aadsts,
                        text: format!("aadsts{c}"),
                        label: format!("AADSTS{c}"),
                        key: "error_codes",
                    });
                }
            }
            match map.get("error") {
                // The token endpoint: `"error":"invalid_client"`.
                Some(Value::String(e)) => push_word(f, e, "error"),
                // Graph: `"error":{"code":"ErrorAccessDenied"}`.
                Some(Value::Object(err)) => {
                    if let Some(Value::String(code)) = err.get("code") {
                        push_word(f, code, "code");
                    }
                }
                _ => {}
            }
            for (k, val) in map {
                if let Some(s) = val.as_str().filter(|s| {
                    s.len() <= 64 && EVIDENCE_KEYS.iter().any(|e| k.eq_ignore_ascii_case(e))
                }) {
                    f.evidence.push((k.clone(), s.to_string()));
                }
                if matches!(val, Value::Object(_) | Value::Array(_)) {
                    walk(val, depth + 1, f);
                } else if let Some(inner) = val.as_str().and_then(embedded_json) {
                    walk(&inner, depth + 1, f);
                }
            }
        }
        Value::Array(items) => items.iter().take(32).for_each(|i| walk(i, depth + 1, f)),
        _ => {}
    }
}

/// Longest string value read again as JSON.
const EMBEDDED_MAX: usize = 64 * 1024;

/// A JSON body logged as a string inside another JSON line
/// (`"body":"{\"error\":\"invalid_client\",...}"`): serde has already unescaped it, so it only
/// needs parsing again. Only strings that look like an object or array are tried.
fn embedded_json(s: &str) -> Option<Value> {
    let t = s.trim();
    let shaped =
        (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'));
    if !shaped || t.len() > EMBEDDED_MAX {
        return None;
    }
    serde_json::from_str(t)
        .ok()
        .filter(|v| matches!(v, Value::Object(_) | Value::Array(_)))
}

fn push_word(f: &mut JsonFacts, word: &str, key: &'static str) {
    let ok = !word.is_empty()
        && word.len() <= 80
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if ok {
        f.codes.push(JsonCode {
            kind: TokenKind::Word,
            text: word.to_ascii_lowercase(),
            label: word.to_string(),
            key,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_body() {
        let line = r#"401: {"error":"invalid_client","error_description":"AADSTS7000222: x","error_codes":[7000222],"trace_id":"t-1","timestamp":"2025-12-03 22:27:25Z"}"#;
        let objs = objects(line);
        assert_eq!(objs.len(), 1);
        let f = facts(&objs[0].2);
        let codes: Vec<&str> = f.codes.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(codes, vec!["aadsts7000222", "invalid_client"]);
        assert!(f.evidence.contains(&("trace_id".into(), "t-1".into())));
    }

    #[test]
    fn a_body_logged_as_a_string_is_read() {
        let line = r#"{"level":"error","msg":"token request failed","body":"{\"error\":\"invalid_client\",\"error_codes\":[7000215],\"trace_id\":\"abc\"}"}"#;
        let objs = objects(line);
        assert_eq!(objs.len(), 1);
        let f = facts(&objs[0].2);
        let codes: Vec<&str> = f.codes.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(codes, vec!["aadsts7000215", "invalid_client"]);
        assert!(f.evidence.contains(&("trace_id".into(), "abc".into())));
        // Encoded twice over still reads; a string that only looks like JSON is left alone.
        let twice = serde_json::json!({ "m": serde_json::json!({ "b": line }).to_string() });
        assert_eq!(facts(&twice).codes.len(), 2);
        assert!(
            facts(&serde_json::json!({ "m": "{not json}" }))
                .codes
                .is_empty()
        );
    }

    #[test]
    fn graph_body_and_junk() {
        let f = facts(&objects(r#"-> 404 {"error":{"code":"MailboxNotEnabledForRESTAPI","message":"m","innerError":{"request-id":"r"}}}"#)[0].2);
        assert_eq!(f.codes[0].text, "mailboxnotenabledforrestapi");
        assert_eq!(f.evidence, vec![("request-id".into(), "r".into())]);
        assert!(objects("{ not json { neither").is_empty());
        assert!(objects(&"{".repeat(10_000)).is_empty());
    }
}
