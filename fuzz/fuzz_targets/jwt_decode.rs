//! JWT decoding, token finding and judging on arbitrary text; errors never echo the input.
#![no_main]
use diag_core::explain::readers::jwt::judge_token;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for range in diag_core::jwt::find_tokens(&text) {
        let _ = judge_token(&text[range], 1, "jwt", None, Some("a@b.c"), 1_741_939_200);
    }
    if let Err(e) = diag_core::jwt::decode(&text) {
        let msg = e.to_string();
        assert!(
            text.len() < 12 || !msg.contains(&*text),
            "error echoes the token"
        );
    }
    let _ = diag_core::explain::readers::xoauth2::find(&text);
});
