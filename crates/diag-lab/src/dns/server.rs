//! Serving the zones with hickory-server (in-memory zone handlers in a catalog) on one
//! loopback port, UDP and TCP.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::rr::LowerName;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

use super::Zones;
use crate::error::LabError;
use crate::scenario::ScenarioError;

/// A TCP client that sends nothing is dropped after this long.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// The running DNS server. Dropping it stops it.
pub(crate) struct DnsServer {
    server: Server<Delayed>,
    pub addr: SocketAddr,
}

impl DnsServer {
    /// Serves `zones`; `origin` names the scenario in errors.
    pub async fn start(
        zones: &Zones,
        origin: &str,
        latency: Duration,
    ) -> Result<DnsServer, LabError> {
        let mut catalog = Catalog::new();
        for (apex, records) in zones.zones() {
            let mut handler: InMemoryZoneHandler =
                InMemoryZoneHandler::empty(apex.clone(), ZoneType::Primary, AxfrPolicy::Deny);
            for record in records {
                // The SOA comes first, so every later record lands in a valid zone.
                if !handler.upsert_mut(record.clone(), 1) {
                    return Err(LabError::Scenario(ScenarioError::Invalid {
                        origin: origin.to_string(),
                        key: "dns.records".into(),
                        message: format!(
                            "the record at {} does not fit zone {apex} (e.g. a CNAME beside other data)",
                            record.name
                        ),
                    }));
                }
            }
            let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
            catalog.upsert(LowerName::new(apex), vec![handler]);
        }
        let (udp, tcp) = bind_pair().await?;
        let addr = udp.local_addr().map_err(|source| LabError::Bind {
            what: "the DNS port",
            source,
        })?;
        let mut server = Server::new(Delayed { catalog, latency });
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE, 64);
        Ok(DnsServer { server, addr })
    }

    pub async fn shutdown(mut self) {
        let _ = self.server.shutdown_gracefully().await;
    }
}

/// The catalog, answering each query after `latency` (`LabOptions::latency`: one round trip).
pub(crate) struct Delayed {
    catalog: Catalog,
    latency: Duration,
}

// The trait is declared with `async_trait`; this is its expansion, written out so the lab needs
// no extra dependency.
impl RequestHandler for Delayed {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: ResponseHandler + 'async_trait,
        T: Time + 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            if !self.latency.is_zero() {
                tokio::time::sleep(self.latency).await;
            }
            self.catalog
                .handle_request::<R, T>(request, response_handle)
                .await
        })
    }
}

/// A UDP socket and a TCP listener on the same loopback port (retrying when the TCP side of a
/// fresh UDP port is taken).
async fn bind_pair() -> Result<(UdpSocket, TcpListener), LabError> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|source| LabError::Bind {
                what: "the DNS port (UDP)",
                source,
            })?;
        let port = udp
            .local_addr()
            .map_err(|source| LabError::Bind {
                what: "the DNS port",
                source,
            })?
            .port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(LabError::Bind {
        what: "the DNS port (TCP)",
        source: last.unwrap_or_else(|| std::io::Error::other("no free port")),
    })
}
