//! Client submission specifics: `AUTH XOAUTH2` and `AUTH LOGIN` (only after STARTTLS), and the
//! Send As check when the message is submitted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::conn::Line;
use super::data::Message;
use super::session::{COMMAND_LINE_MAX, Envelope, Session};
use super::{auth_basic, command, replies, xoauth2};

/// `AUTH <mechanism> [initial-response]`.
pub(super) async fn auth(session: &mut Session, argument: &str) -> std::io::Result<()> {
    if !session.greeted {
        return session.fail(replies::SEND_HELLO_FIRST).await;
    }
    if !session.conn.is_tls() {
        return session.fail(replies::MUST_STARTTLS).await;
    }
    if session.authenticated.is_some() {
        return session.fail(replies::ALREADY_AUTHENTICATED).await;
    }
    if session.envelope.is_some() {
        return session.fail(replies::BAD_SEQUENCE).await;
    }
    let (mechanism, initial) = command::split(argument);
    let initial = (!initial.is_empty()).then(|| initial.to_string());
    let result = match mechanism.as_str() {
        "XOAUTH2" => {
            let Some(blob) = response(session, initial, replies::XOAUTH2_PROMPT).await? else {
                return session.fail(replies::AUTH_CANCELLED).await;
            };
            let Some(sasl) = xoauth2::decode(&blob) else {
                return session.fail(replies::XOAUTH2_MALFORMED).await;
            };
            xoauth2::authorize(&session.shared.state, &sasl)
        }
        "LOGIN" => {
            let Some(user) = response(session, initial, replies::LOGIN_USERNAME).await? else {
                return session.fail(replies::AUTH_CANCELLED).await;
            };
            let Some(password) = response(session, None, replies::LOGIN_PASSWORD).await? else {
                return session.fail(replies::AUTH_CANCELLED).await;
            };
            let (Some(user), Some(password)) = (decode_text(&user), decode_text(&password)) else {
                return session.fail(replies::CANNOT_DECODE).await;
            };
            auth_basic::authorize(&session.shared.state, &user, &password)
        }
        _ => return session.fail(replies::UNRECOGNIZED_AUTH).await,
    };
    match result {
        Ok(mailbox) => {
            session.authenticated = Some(mailbox);
            session.reply(replies::AUTH_OK).await
        }
        Err(refusal) => session.fail(refusal).await,
    }
}

/// The client's response: the initial response if given, else what follows `prompt`.
/// None when the client cancels with `*`.
async fn response(
    session: &mut Session,
    initial: Option<String>,
    prompt: &str,
) -> std::io::Result<Option<String>> {
    let text = match initial {
        Some(text) => text,
        None => {
            session.reply(prompt).await?;
            match session.conn.read_line(COMMAND_LINE_MAX).await {
                Ok(Line::Text(text)) => text,
                Ok(Line::TooLong) => String::new(),
                Err(_) => return Err(std::io::Error::from(std::io::ErrorKind::ConnectionAborted)),
            }
        }
    };
    Ok((text.trim() != "*").then(|| text.trim().to_string()))
}

fn decode_text(b64: &str) -> Option<String> {
    String::from_utf8(STANDARD.decode(b64).ok()?).ok()
}

/// Send As (reference §5 "Sender / Send As"): the envelope sender and the From header must be
/// addresses of the authenticated mailbox or ones it has Send As on. Returns the outbox channel
/// and mailbox, or the refusal.
pub(super) fn accept(
    session: &Session,
    envelope: &Envelope,
    message: &Message,
) -> Result<(&'static str, String), String> {
    let state = &session.shared.state;
    let mailbox_address = session.authenticated.clone().unwrap_or_default();
    let Some(mailbox) = state.mailbox_user(&mailbox_address) else {
        return Err(replies::AUTH_FAILED.to_string());
    };
    let may_send_as = |address: &str| {
        mailbox.has_address(address)
            || mailbox
                .send_as
                .iter()
                .any(|a| a.eq_ignore_ascii_case(address))
    };
    for sender in std::iter::once(envelope.from.as_str()).chain(message.from.as_deref()) {
        if !sender.is_empty() && !may_send_as(sender) {
            return Err(replies::send_as_denied(&mailbox.address, sender));
        }
    }
    Ok(("smtp-submission", mailbox.address.clone()))
}
