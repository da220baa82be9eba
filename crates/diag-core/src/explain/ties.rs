//! When the input does not decide between rules. A bare code that several rules share
//! (`5.7.139`, `535 5.7.3`) gives them all the same score on the same lines: the first one is
//! first only by rank or id, and the reader must be told so, with what would decide.
use super::report::Finding;

/// The rules that tie with the first finding: the same score, the same matched codes and
/// phrases and the same lines. Empty when the first finding leads on its own.
pub fn tied_with_first(findings: &[Finding]) -> Vec<String> {
    let Some((first, rest)) = findings.split_first() else {
        return Vec::new();
    };
    let tied: Vec<String> = rest
        .iter()
        .filter(|f| f.score == first.score && f.matched == first.matched && f.lines == first.lines)
        .map(|f| f.rule.clone())
        .collect();
    if tied.is_empty() {
        return tied;
    }
    std::iter::once(first.rule.clone()).chain(tied).collect()
}

/// The note for a tie: which rules, on what, and what tells them apart.
pub fn tie_note(tied: &[String], matched: &[String]) -> String {
    format!(
        "{} alone fits {} rules equally ({}): the input does not say which one applies, and the \
         first is shown in full only by the rule book's order. The text that follows the code \
         in the reply or log tells them apart: paste the whole line",
        if matched.is_empty() {
            "the input".to_string()
        } else {
            matched.join(", ")
        },
        tied.len(),
        tied.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rulebook;

    fn finding(id: &str, score: u32, matched: &[&str], lines: &[u64]) -> Finding {
        let book = Rulebook::embedded();
        let mut f = Finding::from_rule(book.get(id).expect("rule exists"));
        f.score = score;
        f.matched = matched.iter().map(|s| s.to_string()).collect();
        f.lines = lines.to_vec();
        f
    }

    #[test]
    fn equal_score_codes_and_lines_tie() {
        let fs = [
            finding("smtp-auth-disabled-for-mailbox", 2, &["5.7.139"], &[1]),
            finding("smtp-auth-disabled-for-tenant", 2, &["5.7.139"], &[1]),
            finding("smtp-basic-auth-disabled", 2, &["5.7.139"], &[1]),
        ];
        assert_eq!(
            tied_with_first(&fs),
            vec![
                "smtp-auth-disabled-for-mailbox",
                "smtp-auth-disabled-for-tenant",
                "smtp-basic-auth-disabled"
            ]
        );
        let note = tie_note(&tied_with_first(&fs), &fs[0].matched);
        assert!(note.starts_with("5.7.139 alone fits 3 rules"), "{note}");
    }

    #[test]
    fn a_leader_with_more_evidence_does_not_tie() {
        let fs = [
            finding(
                "smtp-auth-disabled-for-mailbox",
                4,
                &["5.7.139", "disabled for the Mailbox"],
                &[1],
            ),
            finding("smtp-auth-disabled-for-tenant", 2, &["5.7.139"], &[1]),
        ];
        assert!(tied_with_first(&fs).is_empty());
        let fs = [
            finding("smtp-auth-disabled-for-mailbox", 2, &["5.7.139"], &[1, 2]),
            finding("smtp-auth-disabled-for-tenant", 2, &["5.7.139"], &[1]),
        ];
        assert!(tied_with_first(&fs).is_empty());
        assert!(tied_with_first(&[]).is_empty());
    }
}
