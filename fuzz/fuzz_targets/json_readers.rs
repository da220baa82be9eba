//! The JSON error-body readers and the code tokenizer on arbitrary text.
#![no_main]
use diag_core::explain::{readers::json, tokens};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (start, len, value) in json::objects(&text) {
        assert!(start + len <= text.len());
        let _ = json::facts(&value);
    }
    for t in tokens::scan(&text) {
        assert!(t.start <= text.len());
    }
    let _ = diag_core::redact::redact(&text);
});
