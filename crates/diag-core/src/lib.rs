//! xdiag's library: the rule book, `explain` over pasted text, the live checks and the renderers.
//!
//! The picture, top to bottom: the CLI calls `pipeline`, `render` and `explain`; those use
//! `checks`; checks use `finding`, `classify` and `target`; leaves are `net`, `spf`, `jwt`,
//! `rules`, `secret`. Nothing imports upwards.
pub mod check;
pub mod finding;
pub mod jwt;
pub mod report;
pub mod rules;
pub mod secret;
pub mod target;
