//! What `[network] blocked_ports` and `refused_ports` do to the lab's mail services (port 25:
//! the MX; port 587: SMTP submission), on loopback only and without root.
//!
//! - **Refused**: the endpoint is a port that is bound but never listens, so a connect gets a
//!   RST at once (ECONNREFUSED), as from a host with nothing on that port or a firewall that
//!   rejects.
//! - **Blocked** (an ISP that drops outbound TCP/25): a connect must neither succeed nor fail;
//!   it has to hang until the client's own deadline. Dropping SYNs on 127.0.0.1 needs a packet
//!   filter (root), and a listener that accepts but never answers is not equivalent (the connect
//!   completes). The lab uses a listener with a zero backlog whose only accept-queue slot it
//!   fills itself and never accepts: the kernel then silently drops every further SYN (Linux
//!   does this when the accept queue is full), so a client's connect stays in SYN-SENT until its
//!   timeout. The start-up checks that a probe connect really hangs; where the platform does not
//!   behave so, `Lab::start` fails with a clear error instead of simulating the wrong thing.
//!
//! Other port numbers in the lists have no lab mail service to affect and are ignored here.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::error::LabError;
use crate::scenario::Network;

/// The port of the MX role (direct send, relay).
pub(crate) const MX_PORT: u16 = 25;
/// The port of the client-submission role.
pub(crate) const SUBMISSION_PORT: u16 = 587;

/// How long the start-up probe waits before it concludes that a connect hangs.
const PROBE: Duration = Duration::from_millis(300);
/// Filler connections tried before giving up (Linux needs one with a zero backlog).
const MAX_FILLERS: usize = 16;

/// How the site reaches one service role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    Open,
    Refused,
    Blocked,
}

/// The reach of the role served on `port`. A port in both lists is a scenario error.
pub(crate) fn reach(network: &Network, port: u16) -> Reach {
    if network.blocked_ports.contains(&port) {
        Reach::Blocked
    } else if network.refused_ports.contains(&port) {
        Reach::Refused
    } else {
        Reach::Open
    }
}

/// A loopback address whose connections never complete. Keep it alive as long as the address
/// is handed out.
pub(crate) struct Blackhole {
    pub addr: SocketAddr,
    _listener: TcpListener,
    _fillers: Vec<TcpStream>,
}

impl Blackhole {
    pub async fn open() -> Result<Blackhole, LabError> {
        let bind_err = |source| LabError::Bind {
            what: "a blocked port",
            source,
        };
        let socket = TcpSocket::new_v4().map_err(bind_err)?;
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .map_err(bind_err)?;
        let listener = socket.listen(0).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let mut fillers = Vec::new();
        for _ in 0..MAX_FILLERS {
            match tokio::time::timeout(PROBE, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => fillers.push(stream),
                Ok(Err(source)) => return Err(bind_err(source)),
                // The probe hangs: the accept queue is full and SYNs are being dropped.
                Err(_) => {
                    return Ok(Blackhole {
                        addr,
                        _listener: listener,
                        _fillers: fillers,
                    });
                }
            }
        }
        Err(bind_err(std::io::Error::other(
            "connections to a full-backlog listener still complete on this system, so a silently dropped port cannot be simulated",
        )))
    }
}
