//! `smtp-send` (only with `--send-test TO`): after XOAUTH2, `MAIL FROM` / `RCPT TO` / `DATA` of
//! one small test message, From the address the device uses. The replies name Send As refusals,
//! the per-mailbox concurrency limit, submission quotas, a full mailbox, restricted senders and
//! tenant-level blocks. `250` after the final dot means queued, not delivered.
use std::sync::Arc;

use super::{
    context::Ctx,
    smtp_auth::authenticate,
    smtp_tls::{endpoint, error_finding, open_submission, refused, tls_setup, transcript_evidence},
};
use crate::{
    check::CheckId,
    classify::smtp::SmtpPath,
    finding::{Evidence, Finding},
    net::smtp::{Reply, SmtpClient, SmtpError, TlsVersions},
};

const CHECK: CheckId = CheckId::SmtpSend;

pub(crate) async fn run(cx: &Arc<Ctx>) -> Finding {
    let Some(to) = cx
        .target
        .send_test
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Finding::skip(CHECK, "no test recipient was given (--send-test)");
    };
    let Some(user) = cx
        .target
        .mailbox
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    else {
        return Finding::skip(CHECK, "no sending mailbox was given (--mailbox)");
    };
    let from = cx
        .target
        .from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or(user);
    let setup = match tls_setup(cx, CHECK) {
        Ok(s) => s,
        Err(f) => return *f,
    };
    let mut session = match open_submission(cx, CHECK, &setup, TlsVersions::Modern).await {
        Ok(s) => s,
        Err(f) => return *f,
    };
    let mut f = match authenticate(cx, CHECK, &mut session, user).await {
        Ok(_) => send(cx, &mut session.client, from, to).await,
        Err(f) => *f,
    };
    session.client.quit().await;
    f.evidence.push(Evidence::new("from", from));
    f.evidence.push(Evidence::new("to", to));
    f.evidence
        .extend(transcript_evidence(session.client.transcript()));
    f
}

/// One message from `from` to `to` on an authenticated session.
async fn send(cx: &Ctx, client: &mut SmtpClient, from: &str, to: &str) -> Finding {
    let steps = async {
        let r = client.mail_from(from).await?;
        if !r.is_positive() {
            return Ok(Err(("refused MAIL FROM", r)));
        }
        let r = client.rcpt_to(to).await?;
        if !r.is_positive() {
            return Ok(Err(("refused the recipient", r)));
        }
        let domain = from
            .split_once('@')
            .map(|(_, d)| d)
            .unwrap_or("xdiag.invalid");
        let data = client.data(&message(from, to, domain)).await?;
        match data.end {
            None => Ok(Err(("refused DATA", data.start))),
            Some(end) if end.is_positive() => Ok(Ok(end)),
            Some(end) => Ok(Err(("refused the message", end))),
        }
    };
    let outcome: Result<Result<Reply, (&str, Reply)>, SmtpError> = steps.await;
    match outcome {
        Ok(Ok(end)) => Finding::pass(
            CHECK,
            format!(
                "{} accepted the test message to {to} ({})",
                endpoint(cx),
                end.one_line()
            ),
        ),
        // The transcript is added by the caller.
        Ok(Err((what, reply))) => {
            let mut f = refused(
                cx,
                CHECK,
                what,
                &reply,
                SmtpPath::Submission,
                &Default::default(),
            );
            f.evidence.retain(|e| e.key != "smtp");
            f
        }
        Err(e) => error_finding(cx, CHECK, &e, SmtpPath::Submission, &Default::default()),
    }
}

/// A small plain-text message (RFC 5322): who, when, and that xdiag sent it.
pub(super) fn message(from: &str, to: &str, domain: &str) -> String {
    let date = chrono::Utc::now().to_rfc2822();
    let id = uuid::Uuid::new_v4();
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: xdiag test message\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nX-Mailer: xdiag/{}\r\n\r\n\
         This message was sent by xdiag check --send-test to test sending by SMTP.\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_message_has_the_headers_a_server_checks() {
        let m = message("scanner@contoso.com", "it@contoso.com", "contoso.com");
        for h in [
            "From: <scanner@contoso.com>",
            "To: <it@contoso.com>",
            "Subject: xdiag test message",
            "Date: ",
            "Message-ID: <",
        ] {
            assert!(m.contains(h), "{h} in {m}");
        }
        assert!(m.contains("\r\n\r\n"), "headers end with an empty line");
    }
}
