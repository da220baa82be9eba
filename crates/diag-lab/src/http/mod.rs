//! Serving axum routers over TLS on loopback.

pub(crate) mod server;
