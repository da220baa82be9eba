//! SPF records from DNS (any bytes) and macro strings: a syntax error is a result, never a panic.
#![no_main]
use diag_core::spf::{macros::MacroString, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::parse_bytes(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse::parse(text).map(|r| format!("{r:?}"));
        let _ = MacroString::parse(text, true);
        let _ = MacroString::parse(text, false);
    }
});
