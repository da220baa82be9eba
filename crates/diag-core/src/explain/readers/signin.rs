//! Entra sign-in log exports: the portal's JSON download (an array of sign-in objects, also a
//! Graph `{"value":[...]}` page) and its CSV download (a header row naming "Sign-in error code",
//! "Failure reason", "Application", ...). Each failing sign-in is read for its error code, app,
//! resource, kind (client credentials or a user) and the Conditional Access policies that
//! applied; identical failures collapse into one artifact with a count. Successful sign-ins give
//! no finding.
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::artifact::{Artifact, ArtifactHit, ArtifactKind};
use super::bounce::rule_for;
use super::headers::clean;
use crate::redact::mask_address;
use crate::rules::ids;

/// Lower-case literals, one of which every export this reader reads holds.
pub const TRIGGERS: &[&str] = &[
    "\"appdisplayname\"",
    "appliedconditionalaccesspolicies",
    "sign-in error code",
];

/// Rows read per call (a larger export is read up to here and says so).
const ROW_CAP: usize = 50_000;
/// Distinct failures reported; the rest are counted.
const GROUP_CAP: usize = 50;
/// JSON starts that did not parse before the reader gives up on the rest.
const FAILED_PARSE_CAP: usize = 4096;
/// Longest CSV field: a longer one means the quoting is broken.
const FIELD_MAX: usize = 64 * 1024;
/// CSV tables (header rows) read per call.
const TABLE_CAP: usize = 16;
/// Conditional Access policies kept per row.
const POLICY_CAP: usize = 20;

/// One sign-in, as far as the export tells.
#[derive(Clone, Debug, Default)]
struct Row {
    line: u64,
    /// The last line of the row (a JSON object or a CSV record can span several).
    end_line: u64,
    ok: bool,
    code: Option<u64>,
    reason: Option<String>,
    app: Option<String>,
    app_id: Option<String>,
    resource: Option<String>,
    credential: Option<String>,
    event_types: Vec<String>,
    interactive: Option<bool>,
    user: Option<String>,
    service_principal: Option<String>,
    ca_status: Option<String>,
    /// (policy name, result).
    policies: Vec<(String, String)>,
    client_app: Option<String>,
    when: Option<String>,
    correlation: Option<String>,
    ip: Option<String>,
}

impl Row {
    /// Client credentials (an app alone) or a user sign-in.
    fn kind(&self) -> String {
        let events: Vec<String> = self
            .event_types
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .collect();
        let credential = self
            .credential
            .as_deref()
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("none"));
        let app_only = events
            .iter()
            .any(|e| e == "serviceprincipal" || e == "managedidentity")
            || self.service_principal.is_some()
            || (credential.is_some() && self.user.is_none());
        if app_only {
            return match credential {
                Some(c) => format!("client credentials ({c})"),
                None => "client credentials".to_string(),
            };
        }
        let interactive = self
            .interactive
            .or_else(|| {
                events
                    .iter()
                    .any(|e| e == "interactiveuser")
                    .then_some(true)
            })
            .or_else(|| {
                events
                    .iter()
                    .any(|e| e == "noninteractiveuser")
                    .then_some(false)
            });
        match interactive {
            Some(true) => "user, interactive".to_string(),
            Some(false) => "user, non-interactive".to_string(),
            None => "user".to_string(),
        }
    }

    fn failed_policies(&self) -> Vec<String> {
        self.policies
            .iter()
            .filter(|(_, r)| r.eq_ignore_ascii_case("failure"))
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn ca_failed(&self) -> bool {
        !self.failed_policies().is_empty()
            || self
                .ca_status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("failure"))
    }

    /// What identical failures share.
    fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}",
            self.code,
            self.app_id.as_ref().or(self.app.as_ref()),
            self.resource,
            self.user.as_deref().map(str::to_ascii_lowercase),
            self.kind(),
            self.failed_policies(),
            self.ca_status,
        )
    }
}

/// Reads the sign-ins in `text` (JSON or CSV) and reports each distinct failure.
pub fn read(text: &str, first_line: u64, _now: i64) -> Vec<Artifact> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    json_rows(text, first_line, &mut rows, &mut problems);
    csv_rows(text, first_line, &mut rows, &mut problems);
    if rows.len() >= ROW_CAP {
        problems.push(format!(
            "only the first {ROW_CAP} sign-ins were read; the export is larger"
        ));
    }
    artifacts(rows, problems)
}

/// Finds 1-based line numbers of byte offsets met in increasing order, in one pass.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_of(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset > self.at {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.at..offset]).count() as u64;
            self.at = offset;
        }
        self.line
    }
}

fn json_rows(text: &str, first_line: u64, rows: &mut Vec<Row>, problems: &mut Vec<String>) {
    let bytes = text.as_bytes();
    let keyed = ["\"appDisplayName\"", "\"appliedConditionalAccessPolicies\""]
        .iter()
        .any(|k| memchr::memmem::find(bytes, k.as_bytes()).is_some());
    if !keyed {
        return;
    }
    let mut lines = LineCounter {
        text: bytes,
        at: 0,
        line: first_line,
    };
    let mut at = 0;
    let mut failed = 0;
    let mut truncated = false;
    while let Some(off) = memchr::memchr(b'{', &bytes[at..]) {
        if rows.len() >= ROW_CAP {
            return;
        }
        let start = at + off;
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(Value::Object(map))) => {
                let end = start + stream.byte_offset();
                if is_sign_in(&map) {
                    let line = lines.line_of(start);
                    let mut row = json_row(&map, line);
                    row.end_line = lines.line_of(end.saturating_sub(1));
                    rows.push(row);
                    at = end;
                } else if let Some(Value::Array(items)) = map.get("value") {
                    // A Graph page: its rows are not placed one by one, the page is.
                    let line = lines.line_of(start);
                    let end_line = lines.line_of(end.saturating_sub(1));
                    let room = ROW_CAP.saturating_sub(rows.len());
                    rows.extend(
                        items
                            .iter()
                            .filter_map(Value::as_object)
                            .filter(|m| is_sign_in(m))
                            .take(room)
                            .map(|m| Row {
                                end_line,
                                ..json_row(m, line)
                            }),
                    );
                    at = end;
                } else {
                    // A wrapper or a nested object: the sign-ins may be inside it.
                    at = start + 1;
                }
            }
            Some(Err(e)) if e.is_eof() => {
                truncated = true;
                at = start + 1;
            }
            _ => {
                failed += 1;
                if failed > FAILED_PARSE_CAP {
                    problems.push("the JSON export is damaged; the rest was not read".to_string());
                    return;
                }
                at = start + 1;
            }
        }
    }
    if truncated && rows.is_empty() {
        problems.push("the JSON export ends in the middle of a sign-in (truncated)".to_string());
    }
}

fn is_sign_in(m: &Map<String, Value>) -> bool {
    let status = m
        .get("status")
        .and_then(Value::as_object)
        .is_some_and(|s| s.contains_key("errorCode"));
    let named = m.contains_key("appDisplayName") || m.contains_key("userPrincipalName");
    let stamped = m.contains_key("createdDateTime") || m.contains_key("correlationId");
    status || (named && stamped)
}

fn text_of(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_row(m: &Map<String, Value>, line: u64) -> Row {
    let status = m.get("status").and_then(Value::as_object);
    let code = status.and_then(|s| match s.get("errorCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    });
    let policies = m
        .get("appliedConditionalAccessPolicies")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .take(POLICY_CAP)
                .map(|p| {
                    (
                        text_of(p, "displayName")
                            .or_else(|| text_of(p, "id"))
                            .unwrap_or_default(),
                        text_of(p, "result").unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let event_types = m
        .get("signInEventTypes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .take(8)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Row {
        line,
        end_line: line,
        ok: code == Some(0),
        code,
        reason: status.and_then(|s| text_of(s, "failureReason")),
        app: text_of(m, "appDisplayName"),
        app_id: text_of(m, "appId"),
        resource: text_of(m, "resourceDisplayName").or_else(|| text_of(m, "resourceId")),
        credential: text_of(m, "clientCredentialType"),
        event_types,
        interactive: m.get("isInteractive").and_then(Value::as_bool),
        user: text_of(m, "userPrincipalName"),
        service_principal: text_of(m, "servicePrincipalName")
            .or_else(|| text_of(m, "servicePrincipalId")),
        ca_status: text_of(m, "conditionalAccessStatus"),
        policies,
        client_app: text_of(m, "clientAppUsed"),
        when: text_of(m, "createdDateTime"),
        correlation: text_of(m, "correlationId"),
        ip: text_of(m, "ipAddress"),
    }
}

/// One CSV record: the lines it starts and ends on, and its fields.
type Record = (u64, u64, Vec<String>);

/// Reads CSV records from `text` (RFC 4180: quoted fields may hold the delimiter, newlines and
/// doubled quotes) until a blank line, a broken quote or `limit` records.
fn csv_records(
    text: &str,
    first_line: u64,
    delim: char,
    limit: usize,
) -> (Vec<Record>, Option<String>) {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = first_line;
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut record_line = line;
    let mut at_field_start = true;
    loop {
        if out.len() >= limit {
            return (out, None);
        }
        let Some(c) = chars.next() else {
            if !record.is_empty() || !field.is_empty() {
                record.push(std::mem::take(&mut field));
                out.push((record_line, line, std::mem::take(&mut record)));
            }
            return (out, None);
        };
        if at_field_start && c == '"' {
            // A quoted field: to the closing quote, `""` standing for one quote.
            let start_line = line;
            loop {
                match chars.next() {
                    None => {
                        return (
                            out,
                            Some(format!(
                                "broken CSV quoting: a quoted field opened on line {start_line} is never closed; the rows from there on were not read"
                            )),
                        );
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(ch) => {
                        if ch == '\n' {
                            line += 1;
                        }
                        if field.len() >= FIELD_MAX {
                            return (
                                out,
                                Some(format!(
                                    "broken CSV quoting: a quoted field opened on line {start_line} runs on for more than {} KB; the rows from there on were not read",
                                    FIELD_MAX / 1024
                                )),
                            );
                        }
                        field.push(ch);
                    }
                }
            }
            at_field_start = false;
            continue;
        }
        at_field_start = false;
        if c == delim {
            record.push(std::mem::take(&mut field));
            at_field_start = true;
        } else if c == '\n' {
            line += 1;
            if field.ends_with('\r') {
                field.pop();
            }
            if record.is_empty() && field.trim().is_empty() {
                // A blank line ends the table.
                return (out, None);
            }
            record.push(std::mem::take(&mut field));
            out.push((record_line, line - 1, std::mem::take(&mut record)));
            record_line = line;
            at_field_start = true;
        } else if field.len() < FIELD_MAX {
            field.push(c);
        }
    }
}

/// Rows whose quoting is broken, named one by one; beyond this they are counted.
const BROKEN_ROWS_NAMED: usize = 5;

/// Whether a line starts a row of an export whose first column is a date
/// (`2026-04-16T09:00:01Z`, `"4/16/2026, 9:00:01 AM"`).
fn starts_dated_row(line: &str) -> bool {
    let t = line.trim_start_matches(['\u{feff}', '"', ' ']);
    let b = t.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=4).contains(&digits)
        && matches!(b.get(digits), Some(b'-' | b'/' | b'.'))
        && b.get(digits + 1).is_some_and(u8::is_ascii_digit)
}

/// The records of a table body whose rows each start with a date: a line that does not start
/// one continues the row before (a quoted field may hold a newline). A row whose quoting is
/// broken is read leniently and reported, and the next dated line starts afresh.
fn dated_records(
    text: &str,
    first_line: u64,
    delim: char,
    columns: usize,
    limit: usize,
) -> (Vec<Record>, Vec<String>) {
    let mut chunks: Vec<(u64, u64, usize, usize)> = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let no = first_line + i as u64;
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.to_ascii_lowercase().contains("sign-in error code") {
            break; // a blank line or another export's header ends the table
        }
        let full = chunks.len() >= limit;
        match chunks.last_mut() {
            Some(c) if !starts_dated_row(line) && c.3 - c.2 < FIELD_MAX * 4 => {
                c.1 = no;
                c.3 = offset;
            }
            _ if full => break,
            _ => chunks.push((no, no, start, offset)),
        }
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut broken = 0;
    for (line, end, from, to) in chunks {
        let chunk = &text[from..to];
        let (strict, problem) = csv_records(chunk, line, delim, 2);
        if problem.is_none() && strict.len() == 1 && strict[0].2.len() == columns {
            out.extend(strict);
            continue;
        }
        let (fields, dirty) = lenient_fields(chunk, delim);
        broken += 1;
        if broken <= BROKEN_ROWS_NAMED {
            problems.push(format!(
                "broken CSV quoting in the row on line {line}: its columns were recovered from both ends as far as they could be"
            ));
        }
        out.push((line, end, align(fields, &dirty, columns)));
    }
    if broken > BROKEN_ROWS_NAMED {
        problems.push(format!(
            "{} more rows with broken CSV quoting",
            broken - BROKEN_ROWS_NAMED
        ));
    }
    (out, problems)
}

/// The fields of one row read leniently: a quote closes a quoted field only before the
/// delimiter or the end of the line. Also which fields held a stray or unclosed quote.
fn lenient_fields(row: &str, delim: char) -> (Vec<String>, Vec<usize>) {
    let chars: Vec<char> = row.trim_end_matches(['\n', '\r']).chars().collect();
    let mut fields = Vec::new();
    let mut dirty = Vec::new();
    let mut i = 0;
    loop {
        let mut f = String::new();
        let mut bad = false;
        if chars.get(i) == Some(&'"') {
            i += 1;
            let mut closed = false;
            while i < chars.len() {
                let c = chars[i];
                i += 1;
                if c != '"' {
                    f.push(c);
                } else if chars.get(i) == Some(&'"') {
                    f.push('"');
                    i += 1;
                } else if chars.get(i).is_none_or(|&n| n == delim) {
                    closed = true;
                    break;
                } else {
                    bad = true;
                    f.push('"');
                }
            }
            bad |= !closed;
        } else {
            while i < chars.len() && chars[i] != delim {
                bad |= chars[i] == '"';
                f.push(chars[i]);
                i += 1;
            }
        }
        if bad {
            dirty.push(fields.len());
        }
        fields.push(f);
        if chars.get(i) == Some(&delim) {
            i += 1;
        } else {
            break;
        }
    }
    (fields, dirty)
}

/// A leniently read row laid on `columns` columns: the columns before its first broken field
/// are counted from the start, those after its last broken field from the end; the ones in
/// between are not known.
fn align(fields: Vec<String>, dirty: &[usize], columns: usize) -> Vec<String> {
    if fields.len() == columns {
        return fields;
    }
    let first = dirty.first().copied().unwrap_or(fields.len());
    let mut out = vec![String::new(); columns];
    for (c, slot) in out.iter_mut().enumerate() {
        if c < first && c < fields.len() {
            *slot = fields[c].clone();
        } else if let Some(&last) = dirty.last()
            && let Some(at) = (fields.len() + c).checked_sub(columns)
            && at > last
        {
            *slot = fields[at].clone();
        }
    }
    out
}

fn csv_rows(text: &str, first_line: u64, rows: &mut Vec<Row>, problems: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    let mut lines = LineCounter {
        text: text.as_bytes(),
        at: 0,
        line: first_line,
    };
    let mut tables = 0;
    while let Some(off) = lower[from..].find("sign-in error code") {
        tables += 1;
        if tables > TABLE_CAP {
            problems.push(format!(
                "only the first {TABLE_CAP} CSV header rows were read"
            ));
            return;
        }
        let hit = from + off;
        let start = lower[..hit].rfind('\n').map_or(0, |p| p + 1);
        let header_end = lower[start..].find('\n').map_or(lower.len(), |p| start + p);
        let header_line = &text[start..header_end];
        let delim = [',', ';', '\t']
            .into_iter()
            .max_by_key(|d| header_line.matches(*d).count())
            .unwrap_or(',');
        let line = lines.line_of(start);
        let room = ROW_CAP.saturating_sub(rows.len()) + 1;
        let (head, _) = csv_records(&text[start..header_end], line, delim, 1);
        let dated = head
            .first()
            .is_some_and(|(_, _, h)| Columns::new(h).when == Some(0));
        let (records, problem) = if dated && header_end < text.len() {
            // Each row starts with its date: a broken quote costs only its own row.
            let mut recs = head;
            let (body, problems_here) = dated_records(
                &text[header_end + 1..],
                line + 1,
                delim,
                recs[0].2.len(),
                room,
            );
            recs.extend(body);
            problems.extend(problems_here);
            (recs, None)
        } else {
            csv_records(&text[start..], line, delim, room)
        };
        problems.extend(problem);
        let mut it = records.into_iter();
        if let Some((_, _, header)) = it.next() {
            let columns = Columns::new(&header);
            for (line, end_line, fields) in it {
                // Another export's header row: that table is read on its own.
                if fields
                    .iter()
                    .any(|f| f.trim().eq_ignore_ascii_case("sign-in error code"))
                {
                    break;
                }
                if let Some(row) = columns.row(&fields, line) {
                    rows.push(Row { end_line, ..row });
                }
            }
        }
        from = header_end;
    }
}

/// Which CSV column holds what (the portal's English headers).
#[derive(Default)]
struct Columns {
    when: Option<usize>,
    correlation: Option<usize>,
    user: Option<usize>,
    app: Option<usize>,
    app_id: Option<usize>,
    resource: Option<usize>,
    ip: Option<usize>,
    status: Option<usize>,
    code: Option<usize>,
    reason: Option<usize>,
    client_app: Option<usize>,
    credential: Option<usize>,
    ca: Option<usize>,
    service_principal: Option<usize>,
    event_types: Option<usize>,
    interactive: Option<usize>,
}

impl Columns {
    fn new(header: &[String]) -> Columns {
        let mut c = Columns::default();
        for (i, name) in header.iter().enumerate() {
            let name = name
                .trim()
                .trim_start_matches('\u{feff}')
                // A byte-order mark before the first quote leaves that field's quotes on.
                .trim_matches('"')
                .to_ascii_lowercase();
            let slot = match name.as_str() {
                "date (utc)" | "date" | "created date time" => &mut c.when,
                "correlation id" => &mut c.correlation,
                "username" | "user principal name" => &mut c.user,
                "application" | "app display name" => &mut c.app,
                "application id" | "app id" => &mut c.app_id,
                "resource" | "resource display name" => &mut c.resource,
                "ip address" => &mut c.ip,
                "status" => &mut c.status,
                "sign-in error code" => &mut c.code,
                "failure reason" => &mut c.reason,
                "client app" => &mut c.client_app,
                "client credential type" => &mut c.credential,
                "conditional access" => &mut c.ca,
                "service principal name" | "service principal id" => &mut c.service_principal,
                "sign-in event types" | "sign-in event type" => &mut c.event_types,
                "is interactive" => &mut c.interactive,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }

    fn row(&self, f: &[String], line: u64) -> Option<Row> {
        let get = |i: Option<usize>| {
            i.and_then(|i| f.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let status = get(self.status);
        let code = get(self.code).and_then(|c| c.parse::<u64>().ok());
        let ok = match (&status, code) {
            (_, Some(0)) => true,
            (Some(s), None) => s.eq_ignore_ascii_case("success"),
            (Some(s), Some(_)) => s.eq_ignore_ascii_case("success"),
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        Some(Row {
            line,
            end_line: line,
            ok,
            code,
            reason: get(self.reason),
            app: get(self.app),
            app_id: get(self.app_id),
            resource: get(self.resource),
            credential: get(self.credential),
            event_types: get(self.event_types)
                .map(|e| e.split([',', ';']).map(|s| s.trim().to_string()).collect())
                .unwrap_or_default(),
            interactive: get(self.interactive).and_then(|v| {
                match v.to_ascii_lowercase().as_str() {
                    "true" | "yes" => Some(true),
                    "false" | "no" => Some(false),
                    _ => None,
                }
            }),
            user: get(self.user),
            service_principal: get(self.service_principal),
            ca_status: get(self.ca),
            policies: Vec::new(),
            client_app: get(self.client_app),
            when: get(self.when),
            correlation: get(self.correlation),
            ip: get(self.ip),
        })
    }
}

/// Identical failures: the first row, how many, and when the last one was.
struct Group {
    row: Row,
    count: u64,
    last_line: u64,
    last_when: Option<String>,
}

fn artifacts(rows: Vec<Row>, problems: Vec<String>) -> Vec<Artifact> {
    let total = rows.len();
    let (mut lo, mut hi) = (u64::MAX, 0);
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut dropped = 0u64;
    for row in rows {
        lo = lo.min(row.line);
        hi = hi.max(row.end_line);
        if row.ok {
            continue;
        }
        let key = row.key();
        match index.get(&key) {
            Some(&i) => {
                let g = &mut groups[i];
                g.count += 1;
                g.last_line = g.last_line.max(row.end_line);
                if row.when.is_some() {
                    g.last_when = row.when.clone();
                }
            }
            None if groups.len() < GROUP_CAP => {
                index.insert(key, groups.len());
                groups.push(Group {
                    last_line: row.end_line,
                    last_when: row.when.clone(),
                    row,
                    count: 1,
                });
            }
            None => dropped += 1,
        }
    }
    let mut out: Vec<Artifact> = groups.iter().map(group_artifact).collect();
    if out.is_empty() && total > 0 {
        out.push(Artifact {
            kind: ArtifactKind::SignInLog,
            first_line: lo,
            last_line: hi,
            summary: format!("{total} sign-in(s), none failed"),
            facts: vec![("sign-ins".to_string(), total.to_string())],
            transcript: Vec::new(),
            hits: Vec::new(),
        });
    }
    if dropped > 0
        && let Some(last) = out.last_mut()
    {
        last.facts.push((
            "more failures".to_string(),
            format!("{dropped} more failing sign-in(s) of other kinds were not listed"),
        ));
    }
    if !problems.is_empty() {
        if out.is_empty() {
            out.push(Artifact {
                kind: ArtifactKind::SignInLog,
                first_line: if lo == u64::MAX { 0 } else { lo },
                last_line: hi,
                summary: format!("sign-in log export not read: {}", clean(&problems[0], 200)),
                facts: Vec::new(),
                transcript: Vec::new(),
                hits: Vec::new(),
            });
        }
        for p in &problems {
            out[0].facts.push(("problem".to_string(), clean(p, 300)));
        }
    }
    out
}

fn group_artifact(g: &Group) -> Artifact {
    let r = &g.row;
    let code = r.code.map(|c| format!("AADSTS{c}"));
    let mut hits = Vec::new();
    let rule = code.as_deref().and_then(rule_for);
    let failed_policies = r.failed_policies();
    let ca_rule = ids::ENTRA_CONDITIONAL_ACCESS_BLOCKED.as_str();
    if let Some(rule) = &rule {
        let mut label = format!(
            "sign-in failed with {}{}",
            code.as_deref().unwrap_or("an error"),
            r.app
                .as_deref()
                .map(|a| format!(" for {a}"))
                .unwrap_or_default()
        );
        if rule == ca_rule && !failed_policies.is_empty() {
            label.push_str(&format!(", policy {}", failed_policies.join(", ")));
        }
        hits.push(ArtifactHit {
            rule: rule.clone(),
            label: clean(&label, 200),
            line: r.line,
        });
    }
    if r.ca_failed() && rule.as_deref() != Some(ca_rule) {
        let label = if failed_policies.is_empty() {
            "conditional access failed for this sign-in".to_string()
        } else {
            format!(
                "conditional access policy failed: {}",
                failed_policies.join(", ")
            )
        };
        hits.push(ArtifactHit {
            rule: ca_rule.to_string(),
            label: clean(&label, 160),
            line: r.line,
        });
    }

    let mut facts: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: &str| facts.push((k.to_string(), clean(v, 300)));
    match &code {
        Some(c) => put("error code", c),
        None => put("status", "failure"),
    }
    if let Some(v) = &r.reason {
        put("failure reason", v);
    }
    put("count", &g.count.to_string());
    if let Some(v) = &r.app {
        put("app", v);
    }
    if let Some(v) = &r.app_id {
        put("app id", v);
    }
    if let Some(v) = &r.resource {
        put("resource", v);
    }
    put("sign-in", &r.kind());
    if let Some(v) = &r.user {
        put("user", &mask_address(v));
    }
    if let Some(v) = &r.client_app {
        put("client app", v);
    }
    if let Some(v) = &r.ca_status {
        put("conditional access", v);
    }
    if !r.policies.is_empty() {
        let list: Vec<String> = r
            .policies
            .iter()
            .filter(|(_, res)| {
                !res.eq_ignore_ascii_case("notapplied") && !res.eq_ignore_ascii_case("notenabled")
            })
            .map(|(n, res)| format!("{n}: {res}"))
            .collect();
        if !list.is_empty() {
            put("ca policies", &list.join("; "));
        }
    }
    if let Some(v) = &r.when {
        put("first seen", v);
    }
    if g.count > 1
        && let Some(v) = &g.last_when
    {
        put("last seen", v);
    }
    if let Some(v) = &r.correlation {
        put("correlation id", v);
    }
    if let Some(v) = &r.ip {
        put("ip address", v);
    }

    let times = if g.count > 1 {
        format!("{} failed sign-ins", g.count)
    } else {
        "failed sign-in".to_string()
    };
    let mut summary = format!("{times}: {}", code.as_deref().unwrap_or("no error code"));
    if let Some(a) = &r.app {
        summary.push_str(&format!(", app {a}"));
    }
    if let Some(res) = &r.resource {
        summary.push_str(&format!(", resource {res}"));
    }
    summary.push_str(&format!(" ({})", r.kind()));
    if rule.is_none() && !r.ca_failed() {
        summary.push_str("; no rule for this code");
    }
    Artifact {
        kind: ArtifactKind::SignInLog,
        first_line: r.line,
        last_line: g.last_line,
        summary: clean(&summary, 300),
        facts,
        transcript: Vec::new(),
        hits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let (recs, problem) = csv_records(
            "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n",
            1,
            ',',
            100,
        );
        assert!(problem.is_none());
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].2, vec!["x, y", "say \"hi\"", "two\nlines"]);
        assert_eq!((recs[1].0, recs[1].1), (2, 3));
        assert_eq!(recs[2].0, 4);
        assert_eq!(recs[2].2, vec!["last", "", ""]);
        let (recs, problem) = csv_records("a,b\n\"open,b\nc,d\n", 7, ',', 100);
        assert_eq!(recs.len(), 1);
        assert!(problem.expect("a problem").contains("line 8"));
    }
}
