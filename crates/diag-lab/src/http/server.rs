//! Loopback listeners: HTTPS (tokio-rustls + hyper) for the login and Graph hosts, a port that
//! refuses connections (a host that is down), and a fixed answer delay.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::error::LabError;

/// A client that connects but never finishes the handshake must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener on 127.0.0.1 with a port chosen by the system.
pub(crate) async fn bind_loopback(what: &'static str) -> Result<TcpListener, LabError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|source| LabError::Bind { what, source })
}

/// A port that is bound but never listens: connections to it are refused at once, and no
/// other process can take the port while the socket is held.
pub(crate) fn refusing_port(what: &'static str) -> Result<(TcpSocket, SocketAddr), LabError> {
    let bind = || -> std::io::Result<(TcpSocket, SocketAddr)> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let addr = socket.local_addr()?;
        Ok((socket, addr))
    };
    bind().map_err(|source| LabError::Bind { what, source })
}

/// Delays every answer of `router` by `delay` (the benchmark latency, or a slow host).
pub(crate) fn delayed(router: Router, delay: Duration) -> Router {
    if delay.is_zero() {
        return router;
    }
    router.layer(middleware::from_fn(
        move |request: Request, next: Next| async move {
            tokio::time::sleep(delay).await;
            next.run(request).await
        },
    ))
}

/// Serves `router` over TLS on `listener` until the returned task is aborted; aborting it
/// drops every connection task with it.
pub(crate) fn spawn_https(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
) -> JoinHandle<()> {
    let acceptor = TlsAcceptor::from(tls);
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((tcp, _peer)) = listener.accept().await else {
                // Out of file descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            while connections.try_join_next().is_some() {}
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(router.clone());
            connections.spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                else {
                    return;
                };
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    })
}
