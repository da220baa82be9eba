//! The lab's authoritative DNS: every zone the scenario's `[dns] records` touch, served on
//! 127.0.0.1 (UDP and TCP, one port) by hickory-server's in-memory zone handler, a real DNS
//! server implementation. Names the lab owns but does not list get NXDOMAIN; existing names
//! without the asked type get NOERROR with no answer (NODATA); both carry the zone's SOA.
//! Names outside every zone are REFUSED. The same records back the lab's own look-ups (SPF on
//! the MX), so what the client resolves and what the MX evaluates cannot drift apart.

mod server;
mod zones;

pub(crate) use server::DnsServer;
pub(crate) use zones::{Answer, Zones};
