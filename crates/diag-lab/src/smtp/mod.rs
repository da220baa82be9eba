//! Exchange Online's SMTP front doors, as the reference describes them: the client-submission
//! host (`smtp.office365.com:587`, STARTTLS, `AUTH LOGIN XOAUTH2` only after TLS, XOAUTH2 bearer
//! tokens validated the way Exchange does) and the tenant's MX
//! (`<tenant>.mail.protection.outlook.com:25`, no AUTH) for direct send and connector relay.
//! Every reply text and where it comes from is in `replies`.
//!
//! Loopback cannot show the site's public IP, so the MX attributes every connection to
//! `[network] site_public_ip`; a lab-only `XCLIENT ADDR=<ip>` command (Postfix syntax, not
//! advertised in EHLO, answered with a fresh 220 greeting) lets a test present another address.

mod auth_basic;
mod command;
mod conn;
mod data;
mod dmarc;
mod mx;
mod replies;
mod session;
mod spf;
mod submission;
mod switches;
mod tls;
mod xoauth2;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::dns::Zones;
use crate::error::LabError;
use crate::state::LabState;

pub(crate) use tls::server_config;

/// Which front door a listener plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Client submission (port 587 role).
    Submission,
    /// The tenant's MX (port 25 role).
    Mx,
}

/// What every session of both roles shares.
pub(crate) struct Shared {
    pub state: Arc<LabState>,
    pub tls: TlsAcceptor,
    /// The lab's DNS data (SPF and DMARC evaluation on the MX).
    pub zones: Arc<Zones>,
    /// Added to every SMTP round trip (`LabOptions::latency`).
    pub latency: std::time::Duration,
}

/// More simultaneous sessions than this on one listener are turned away with a 421.
const MAX_SESSIONS: usize = 64;

/// Binds a loopback listener for `role`.
pub(crate) async fn bind(role: Role) -> Result<(TcpListener, SocketAddr), LabError> {
    let what = match role {
        Role::Submission => "the SMTP submission port",
        Role::Mx => "the MX port",
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|source| LabError::Bind { what, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| LabError::Bind { what, source })?;
    Ok((listener, addr))
}

/// Serves `role` on `listener` until the task is aborted (which drops every session).
pub(crate) fn spawn(listener: TcpListener, role: Role, shared: Arc<Shared>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
        let mut sessions = JoinSet::new();
        loop {
            let Ok((tcp, _peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            while sessions.try_join_next().is_some() {}
            let shared = shared.clone();
            match slots.clone().try_acquire_owned() {
                Ok(permit) => {
                    sessions.spawn(async move {
                        session::run(tcp, role, shared).await;
                        drop(permit);
                    });
                }
                Err(_) => {
                    sessions.spawn(session::turn_away(tcp, role));
                }
            }
        }
    })
}
