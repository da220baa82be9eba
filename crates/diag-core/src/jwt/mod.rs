//! Access tokens: decoding a JWT's header and claims *without trusting them* (what jwt.ms does),
//! finding tokens inside pasted text, and judging what a token can be used for (`judge`).
//! Signature verification against a tenant's JWKS is separate (`verify`), because Graph tokens
//! cannot be verified by third parties by design.
mod decode;
mod judge;
mod verify;

pub use decode::{Claims, Jwt, JwtError, decode, find_tokens};
pub use judge::{Intended, Problem, Resource, judge};
pub use verify::{Keys, OpenIdConfiguration, SignatureCheck, is_guid, verify};

/// Microsoft Graph's application id, the `aud` of v1 Graph tokens in some tenants.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Exchange Online's application id.
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
