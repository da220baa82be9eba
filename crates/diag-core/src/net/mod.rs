//! HTTPS for the live checks: one reqwest client per run (rustls with the ring provider, the
//! system roots plus the lab's CA when one is given, `--resolve`-style overrides, the proxy from
//! the environment), a deadline on every operation, a size cap on every body, and failures sorted
//! into kinds a technician can act on (DNS, refused, timeout, proxy, TLS interception).
pub mod dns;
mod error;
mod http;
mod proxy;
pub mod smtp;
pub mod tcp;

pub use error::{NetError, NetErrorKind, NetSetupError};
pub use http::{DEFAULT_BODY_CAP, Http, HttpReply};
pub use proxy::proxy_for;
