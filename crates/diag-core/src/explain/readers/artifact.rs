//! Whole artifacts found in pasted text: an SMTP session, a bounce message (NDR), a block of
//! message headers, rows of an Entra sign-in log export. Each artifact reader takes a block of
//! text (the whole input when it fits in one piece, otherwise a window around a trigger line)
//! and returns what it rebuilt, with the rule ids it points at and the line each came from.
//!
//! Every artifact reader has the same shape, so `scan` can run them all alike:
//! `pub fn read(text: &str, first_line: u64, now: i64) -> Vec<Artifact>`, and a list of
//! `TRIGGERS` (lower-case literals, at least one of which any artifact of its kind contains).
//! Everything an artifact holds is already redacted: no token, secret or full local part.

/// What kind of artifact was rebuilt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactKind {
    SmtpSession,
    Bounce,
    Headers,
    SignInLog,
}

impl ArtifactKind {
    /// The name used in JSON output and headings.
    pub fn name(self) -> &'static str {
        match self {
            ArtifactKind::SmtpSession => "smtp-session",
            ArtifactKind::Bounce => "bounce",
            ArtifactKind::Headers => "headers",
            ArtifactKind::SignInLog => "sign-in-log",
        }
    }
}

/// One artifact: where it stands, what it says, and what is wrong in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub kind: ArtifactKind,
    /// 1-based lines of the input the artifact spans.
    pub first_line: u64,
    pub last_line: u64,
    /// One line for a technician: `failed at AUTH (XOAUTH2) after STARTTLS`, `junked: SPF fail`.
    pub summary: String,
    /// What was read, in order: (`reporting host`, `mx.contoso.com`), (`spf`, `fail`), ...
    pub facts: Vec<(String, String)>,
    /// The rebuilt dialogue of an SMTP session (`C: EHLO scanner`, `S: 250 ...`), redacted;
    /// empty for other kinds.
    pub transcript: Vec<String>,
    /// The faults found, each mapped to a rule id.
    pub hits: Vec<ArtifactHit>,
}

/// One fault in an artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactHit {
    /// A rule id (`rules/<id>.md`).
    pub rule: String,
    /// Why, in a few words (lowercase start, no final period).
    pub label: String,
    /// The 1-based input line the fault shows on.
    pub line: u64,
}
