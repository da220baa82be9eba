//! SMTP replies as the client holds them: arbitrary lines under any code, read for the enhanced
//! code, the EHLO capabilities and a `334` challenge. Nothing may panic.
#![no_main]
use diag_core::net::smtp::{Capabilities, Challenge, EnhancedCode, Reply, preview};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let code = data.first().map_or(250, |b| 200 + u16::from(*b) % 400);
    let reply = Reply {
        code,
        lines: text.lines().take(64).map(str::to_string).collect(),
    };
    let _ = (reply.text(), reply.enhanced(), reply.one_line());
    let caps = Capabilities::from_reply(&reply);
    let _ = (caps.auth_mechanisms(), caps.summary(), caps.starttls());
    let _ = Challenge::parse(&text);
    let _ = EnhancedCode::parse(&text);
    let _ = preview(data);
});
