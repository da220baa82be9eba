//! Upstream error answers -> rule ids. Each classifier reads the structured fields a service
//! documents (`error_codes` and `error` at the token endpoint, `error.code` at Graph) and never
//! the human wording, except where the service uses one code for two causes (noted there).
pub mod aadsts;
pub mod graph;
pub mod smtp;
