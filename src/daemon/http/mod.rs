//! HTTP beside Flight (`serve --http-port`): `/health`, `/metrics`, the
//! web console at `/` and the JSON API it uses ([`api`]). Same host, same
//! TLS certificate, same tokens as the Flight port.

mod api;
mod console;
mod results;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use super::auth::Auth;
use super::error::{DaemonError, Result};
use super::metrics::Metrics;
use super::query::QueryEngine;
use super::storage::Store;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub store: Arc<Store>,
    pub engine: Arc<QueryEngine>,
    /// Present when the daemon runs with `--secret`.
    pub auth: Option<Arc<Auth>>,
    pub metrics: Arc<Metrics>,
}

/// A TLS handshake or HTTP/1 request headers that have not arrived by then
/// are dropped, so half-open connections cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long open connections get to finish once the daemon stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS acceptor for `cert` and `key`, offering the `alpn` protocols.
pub fn tls_acceptor(cert: &[u8], key: &[u8], alpn: &[&[u8]]) -> Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |e: &dyn std::fmt::Display| DaemonError::Io(format!("bad TLS certificate or key: {e}"));
    let chain =
        CertificateDer::pem_slice_iter(cert).collect::<std::result::Result<Vec<_>, _>>().map_err(|e| bad(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| bad(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(&e))?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves HTTP/1.1 and HTTP/2 on `listener` until `stop` completes, then
/// gives open connections [`DRAIN_TIMEOUT`] to finish.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, state: HttpState, stop: impl Future<Output = ()>) {
    let router = api::router(state);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = super::accept(&listener, "http") => accepted,
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let (service, tls, watcher) = (TowerToHyperService::new(router.clone()), tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            // A client that never finishes its request headers is dropped.
            builder.http1().timer(TokioTimer::new()).header_read_timeout(HANDSHAKE_TIMEOUT);
            let served = match tls {
                None => watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service)).await,
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service)).await
                    }
                    Ok(Err(e)) => return tracing::debug!("http: TLS handshake with {peer} failed: {e}"),
                    Err(_) => return tracing::debug!("http: TLS handshake with {peer} timed out"),
                },
            };
            if let Err(e) = served {
                tracing::debug!("http: connection with {peer} ended: {e}");
            }
        });
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("http: connections still open {}s after the stop; closing them", DRAIN_TIMEOUT.as_secs());
    }
}
