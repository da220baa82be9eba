//! Starting the mail path of the lab: the authoritative DNS, the SMTP submission server and
//! the MX, each on its own loopback port, with `[network] refused_ports` / `blocked_ports`
//! applied to the roles of ports 587 and 25 (see `ports`).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpSocket;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::dns::{DnsServer, Zones};
use crate::error::LabError;
use crate::ports::{self, Blackhole, Reach};
use crate::scenario::ScenarioError;
use crate::smtp::{self, Role, Shared};
use crate::state::LabState;

/// Where the mail-path services can be reached.
pub(crate) struct MailEndpoints {
    pub smtp_submission: SocketAddr,
    pub mx: SocketAddr,
    pub dns: SocketAddr,
}

/// The running mail-path services. Dropping it stops them.
pub(crate) struct MailPath {
    tasks: Vec<JoinHandle<()>>,
    dns: Option<DnsServer>,
    /// Bound, never listening: held so the refusing ports stay ours.
    refusing: Vec<TcpSocket>,
    blackhole: Option<Blackhole>,
}

impl MailPath {
    pub async fn start(
        state: Arc<LabState>,
        smtp_tls: Arc<rustls::ServerConfig>,
        latency: std::time::Duration,
    ) -> Result<(MailPath, MailEndpoints), LabError> {
        let origin = format!("`{}`", state.scenario.name);
        let network = &state.scenario.network;
        if let Some(port) = network
            .blocked_ports
            .iter()
            .find(|p| network.refused_ports.contains(p))
        {
            return Err(LabError::Scenario(ScenarioError::Invalid {
                origin,
                key: "network.blocked_ports".into(),
                message: format!(
                    "port {port} is also in refused_ports: a port is either dropped or refused"
                ),
            }));
        }
        let zones = Arc::new(Zones::from_scenario(&state.scenario, &origin)?);
        let dns = DnsServer::start(&zones, &origin, latency).await?;
        let dns_addr = dns.addr;
        let shared = Arc::new(Shared {
            state,
            tls: TlsAcceptor::from(smtp_tls),
            zones,
            latency,
        });
        let mut path = MailPath {
            tasks: Vec::new(),
            dns: Some(dns),
            refusing: Vec::new(),
            blackhole: None,
        };
        let smtp_submission = path
            .serve(Role::Submission, ports::SUBMISSION_PORT, &shared)
            .await?;
        let mx = path.serve(Role::Mx, ports::MX_PORT, &shared).await?;
        Ok((
            path,
            MailEndpoints {
                smtp_submission,
                mx,
                dns: dns_addr,
            },
        ))
    }

    /// Serves `role`, or stands in for it with a refusing or blackholed address.
    async fn serve(
        &mut self,
        role: Role,
        port: u16,
        shared: &Arc<Shared>,
    ) -> Result<SocketAddr, LabError> {
        match ports::reach(&shared.state.scenario.network, port) {
            Reach::Open => {
                let (listener, addr) = smtp::bind(role).await?;
                self.tasks.push(smtp::spawn(listener, role, shared.clone()));
                Ok(addr)
            }
            Reach::Refused => {
                let (socket, addr) = crate::http::server::refusing_port("a refused port")?;
                self.refusing.push(socket);
                Ok(addr)
            }
            Reach::Blocked => match &self.blackhole {
                Some(b) => Ok(b.addr),
                None => {
                    let blackhole = Blackhole::open().await?;
                    let addr = blackhole.addr;
                    self.blackhole = Some(blackhole);
                    Ok(addr)
                }
            },
        }
    }

    /// Stops every server and waits until they are gone.
    pub async fn shutdown(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        if let Some(dns) = self.dns.take() {
            dns.shutdown().await;
        }
        self.refusing.clear();
        self.blackhole = None;
    }
}

impl Drop for MailPath {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
