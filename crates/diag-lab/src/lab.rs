//! Starting and stopping the lab: generate keys and certificates, bind loopback ports, serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpSocket;
use tokio::task::JoinHandle;

use crate::crypto::app_certs::{self, Generated};
use crate::crypto::material::Material;
use crate::crypto::thumbprint;
use crate::endpoints::{ClientCertificate, DeviceInputs, Endpoints};
use crate::entra::device_code::DeviceFlows;
use crate::error::LabError;
use crate::http::server;
use crate::mail_path::MailPath;
use crate::outbox::{Outbox, SentMessage};
use crate::scenario::{Scenario, TokenEndpointState};
use crate::state::LabState;

/// How long a `token_endpoint = "slow"` login host takes to answer: longer than any sane
/// client timeout, short enough that a forgotten lab does not hold connections for hours.
pub const SLOW_ANSWER_DELAY: Duration = Duration::from_secs(600);

/// Options for a lab run.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    /// Fixed delay added to every HTTP answer (e.g. 200 ms for a benchmark).
    pub latency: Duration,
}

/// A running lab. Dropping it (or `shutdown`) stops every server.
pub struct Lab {
    endpoints: Endpoints,
    ca_pem: String,
    device: DeviceInputs,
    state: Arc<LabState>,
    tasks: Vec<JoinHandle<()>>,
    /// Holds the refusing port of a "down" login host so nobody else takes it.
    _reserved: Option<TcpSocket>,
    /// DNS, SMTP submission and MX.
    mail: MailPath,
}

impl Lab {
    /// Generates the CA, server certificate and keys, binds loopback ports (chosen by the
    /// system) and serves the scenario.
    pub async fn start(scenario: &Scenario, opts: LabOptions) -> Result<Lab, LabError> {
        scenario.validate()?;
        let material = Material::generate(scenario).await?;
        let generated = Generated {
            device: material.device.as_ref().map(|(cert, _)| cert),
            unrelated: material.unrelated.as_ref(),
        };
        let origin = format!("`{}`", scenario.name);
        let app_certificates = scenario
            .apps
            .iter()
            .enumerate()
            .map(|(i, app)| app_certs::resolve(app, i, &generated, &origin))
            .collect::<Result<Vec<_>, _>>()?;

        let graph_listener = server::bind_loopback("the Graph port").await?;
        let graph_base = format!(
            "https://localhost:{}",
            port_of(graph_listener.local_addr().ok())
        );
        let (login_listener, reserved, login_port) = match scenario.network.token_endpoint {
            TokenEndpointState::Down => {
                let (socket, addr) = server::refusing_port("the login port")?;
                (None, Some(socket), addr.port())
            }
            TokenEndpointState::Up | TokenEndpointState::Slow => {
                let listener = server::bind_loopback("the login port").await?;
                let port = port_of(listener.local_addr().ok());
                (Some(listener), None, port)
            }
        };
        let login_base = format!("https://localhost:{login_port}");

        let certificate = match (&material.device, scenario.device.certificate) {
            (Some((cert, key)), true) => Some(ClientCertificate {
                certificate_pem: cert.pem.clone(),
                private_key_pem: key.pkcs8_pem()?,
                thumbprint: thumbprint::hex(&cert.der),
                x5t: thumbprint::x5t(&cert.der),
            }),
            _ => None,
        };
        let state = Arc::new(LabState {
            scenario: scenario.clone(),
            signing: material.signing,
            app_certificates,
            device_flows: DeviceFlows::default(),
            outbox: Outbox::default(),
            login_base: login_base.clone(),
        });
        let smtp_tls = crate::smtp::server_config(&material.https, &scenario.tls)?;
        let (mail, mail_endpoints) = MailPath::start(state.clone(), smtp_tls, opts.latency).await?;
        let graph = server::delayed(crate::graph::router(state.clone()), opts.latency);
        let mut tasks = vec![server::spawn_https(
            graph_listener,
            material.https.clone(),
            graph,
        )];
        if let Some(listener) = login_listener {
            let slow = scenario.network.token_endpoint == TokenEndpointState::Slow;
            let delay = opts.latency
                + if slow {
                    SLOW_ANSWER_DELAY
                } else {
                    Duration::ZERO
                };
            let login = server::delayed(crate::entra::router(state.clone()), delay);
            tasks.push(server::spawn_https(listener, material.https, login));
        }
        Ok(Lab {
            endpoints: Endpoints {
                login_base,
                graph_base,
                smtp_submission: Some(mail_endpoints.smtp_submission),
                mx: Some(mail_endpoints.mx),
                dns: Some(mail_endpoints.dns),
                tls_server_name: "localhost".into(),
            },
            ca_pem: material.ca_pem,
            device: DeviceInputs {
                settings: scenario.device.clone(),
                certificate,
            },
            state,
            tasks,
            _reserved: reserved,
            mail,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The lab CA (PEM). Trust it only for connections to the lab.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// What the technician enters, with generated credentials filled in.
    pub fn device(&self) -> &DeviceInputs {
        &self.device
    }

    /// The scenario being served.
    pub fn scenario(&self) -> &Scenario {
        &self.state.scenario
    }

    /// Messages the lab accepted so far.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.state.outbox.snapshot()
    }

    /// Stops every server and waits until they are gone.
    pub async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
        self.mail.shutdown().await;
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn port_of(addr: Option<SocketAddr>) -> u16 {
    addr.map(|a| a.port()).unwrap_or(0)
}
