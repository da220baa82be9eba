//! xdiag's library: the rule book, `explain` over pasted text, the live checks and the renderers.
//!
//! The picture, top to bottom: the CLI calls `pipeline`, `render` and `explain`; those use
//! `checks`; checks use `finding`, `classify` and `target`; leaves are `net`, `spf`, `jwt`,
//! `rules`, `secret`. Nothing imports upwards.
pub mod check;
pub mod checks;
pub mod classify;
pub mod config;
pub mod explain;
pub mod facts;
pub mod finding;
pub mod jwt;
pub mod net;
pub mod pipeline;
pub mod redact;
pub mod render;
pub mod report;
pub mod rules;
pub mod secret;
pub mod spf;
pub mod target;
