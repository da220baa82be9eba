//! Integration tests: drive the lab over real HTTPS (reqwest + rustls trusting only the lab
//! CA) and check what it answers against the reference's documented shapes.

mod common;
mod device_code;
mod discovery;
mod graph_common;
mod graph_send;
mod graph_users;
mod scenarios;
mod token;
