//! The one list of checks: their ids, their order, and what each needs. The pipeline walks this.
use serde::Serialize;

use crate::target::Method;

/// A live check. The kebab-case names are a contract (`findings[].check` in the JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    Config,
    Token,
    Claims,
    Mailbox,
    Licence,
    Send,
    Dns,
    Reach,
    SmtpTls,
    SmtpAuth,
    SmtpSend,
    Relay,
}

impl CheckId {
    /// Every check, in the order a report lists them.
    pub const ORDER: &'static [CheckId] = &[
        CheckId::Config,
        CheckId::Token,
        CheckId::Claims,
        CheckId::Mailbox,
        CheckId::Licence,
        CheckId::Send,
        CheckId::Dns,
        CheckId::Reach,
        CheckId::SmtpTls,
        CheckId::SmtpAuth,
        CheckId::SmtpSend,
        CheckId::Relay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Config => "config",
            CheckId::Token => "token",
            CheckId::Claims => "claims",
            CheckId::Mailbox => "mailbox",
            CheckId::Licence => "licence",
            CheckId::Send => "send",
            CheckId::Dns => "dns",
            CheckId::Reach => "reach",
            CheckId::SmtpTls => "smtp-tls",
            CheckId::SmtpAuth => "smtp-auth",
            CheckId::SmtpSend => "smtp-send",
            CheckId::Relay => "relay",
        }
    }

    pub fn parse(name: &str) -> Option<CheckId> {
        CheckId::ORDER.iter().copied().find(|c| c.as_str() == name)
    }

    /// Checks that must pass (or warn) before this one can run.
    pub fn needs(self) -> &'static [CheckId] {
        use CheckId::*;
        match self {
            Config => &[],
            Token | Dns | Reach => &[Config],
            Claims => &[Token],
            Mailbox | Licence => &[Claims],
            Send => &[Claims, Mailbox],
            SmtpTls => &[Reach],
            SmtpAuth => &[SmtpTls, Claims],
            SmtpSend => &[SmtpAuth],
            Relay => &[Reach],
        }
    }
}

impl CheckId {
    /// Checks whose failure makes this one pointless, when they are part of the run; unlike
    /// `needs`, one that could not decide (skipped itself, e.g. no permission to read) does not
    /// hold this one back, and they are not added to an `--only` run. A mailbox that does not
    /// exist or has no licence also fails at AUTH: its own finding is the cause, so smtp-auth
    /// waits for it instead of naming another.
    pub fn waits_for(self) -> &'static [CheckId] {
        use CheckId::*;
        match self {
            SmtpAuth | SmtpSend => &[Mailbox, Licence],
            _ => &[],
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Does this method use this check at all? (`send_test`: the user asked for a real test message.)
pub fn applies(check: CheckId, method: Method, send_test: bool) -> bool {
    use CheckId::*;
    match method {
        Method::Graph => {
            matches!(check, Config | Token | Claims | Mailbox | Licence)
                || (check == Send && send_test)
        }
        Method::Smtp => {
            matches!(
                check,
                Config | Token | Claims | Mailbox | Licence | Dns | Reach | SmtpTls | SmtpAuth
            ) || (check == SmtpSend && send_test)
        }
        Method::DirectSend | Method::Relay => matches!(check, Config | Dns | Reach | Relay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_need_comes_earlier_in_order() {
        for (i, c) in CheckId::ORDER.iter().enumerate() {
            for n in c.needs() {
                let j = CheckId::ORDER
                    .iter()
                    .position(|x| x == n)
                    .expect("need is listed");
                assert!(j < i, "{c} needs {n}, which comes later");
            }
            for w in c.waits_for() {
                let j = CheckId::ORDER.iter().position(|x| x == w).expect("listed");
                assert!(j < i, "{c} waits for {w}, which comes later");
            }
        }
    }

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<_> = CheckId::ORDER.iter().map(|c| c.as_str()).collect();
        for n in &names {
            assert_eq!(CheckId::parse(n).map(CheckId::as_str), Some(*n));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CheckId::ORDER.len());
    }

    #[test]
    fn a_method_only_runs_checks_whose_needs_it_also_runs() {
        for method in [
            Method::Graph,
            Method::Smtp,
            Method::DirectSend,
            Method::Relay,
        ] {
            for send_test in [false, true] {
                for c in CheckId::ORDER
                    .iter()
                    .filter(|c| applies(**c, method, send_test))
                {
                    for n in c.needs() {
                        assert!(
                            applies(*n, method, send_test),
                            "{c} under {method:?} needs {n}"
                        );
                    }
                }
            }
        }
    }
}
