//! `shoots serve`: the Arrow Flight daemon.

pub mod auth;
mod dictionary_count;
pub mod distributed;
pub mod error;
mod flight;
mod http;
pub mod metrics;
mod postgres;
pub mod query;
pub mod resample;
mod retention;
mod shutdown;
mod sql;
pub mod storage;
mod table;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tokio_stream::StreamExt;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::protocol::MAX_MESSAGE_BYTES;
use error::{DaemonError, Result};
use flight::ShootsFlight;
use query::QueryEngine;
use shutdown::{stop_requested, Shutdown};
use storage::{Location, Store, StoreOptions, StorePatience};
/// How long in-flight calls get to finish once a stop was asked for.
const GRACE_PERIOD: Duration = Duration::from_secs(30);

pub struct ServeConfig {
    pub host: String,
    pub port: u16,
    /// A directory, `file://PATH` or `s3://BUCKET[/PREFIX]`.
    pub bucket_dir: String,
    /// PEM certificate chain and key.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    pub memory_limit: Option<usize>,
    /// Turns authentication on (`--secret`).
    pub secret: Option<Secret>,
    /// Versions vacuum keeps.
    pub retain_versions: usize,
    /// How long unneeded files stay before vacuum deletes them.
    pub vacuum_grace: Duration,
    /// Retries and timeouts of object store requests.
    pub store_patience: StorePatience,
    /// The other daemons of the same store (`--peers`), for distributed queries.
    pub peers: Vec<String>,
    /// PEM certificates TLS peers' certificates must chain to (`--peer-ca-file`).
    pub peer_ca: Option<Vec<u8>>,
    /// The HTTP port of the console, `/health` and `/metrics` (`--http-port`).
    pub http_port: Option<u16>,
    /// The port of the Postgres wire protocol (`--pg-port`).
    pub pg_port: Option<u16>,
    /// How long an upload may send nothing before it is cut off (`--idle-timeout`).
    pub idle_timeout: Duration,
    /// How often retention is applied in the background.
    pub retention_every: Duration,
    /// Small files at a dataframe's end that make a put compact it in the
    /// background (0: never).
    pub compact_after: usize,
}

/// Where the daemon listens, once it does.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub flight: SocketAddr,
    pub http: Option<SocketAddr>,
    pub postgres: Option<SocketAddr>,
}

/// The signing secret; never printed.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Secret, String> {
        if s.is_empty() {
            return Err("the secret must not be empty".into());
        }
        Ok(Secret(s.to_string()))
    }
}

async fn bind(host: &str, port: u16) -> Result<tokio::net::TcpListener> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DaemonError::Io(format!("cannot resolve host {host}: {e}")))?
        .collect();
    // Prefer IPv4: "localhost" should mean 127.0.0.1 to every client.
    let addr = addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .ok_or_else(|| DaemonError::Io(format!("host {host} resolves to no address")))?;
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            DaemonError::Io(format!("port {port} on {host} is already in use (another shoots serve?)"))
        } else {
            DaemonError::Io(format!("cannot listen on {addr}: {e}"))
        }
    })
}

/// The next connection on `listener`. A failure to accept (out of file
/// descriptors, say) is logged and waited out rather than spun on.
async fn accept(listener: &tokio::net::TcpListener, what: &str) -> (tokio::net::TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                tracing::warn!("{what}: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Dataframes the Python original left in the directory (`NAME.parquet` at
/// the top and `BUCKET/NAME.parquet` below) are not served; say how to
/// import them.
fn report_legacy_files(dir: &std::path::Path) {
    let found = crate::legacy::find(dir).unwrap_or_default();
    if let Some(first) = found.first() {
        tracing::warn!(
            "{} dataframe file(s) of the Python original in {} (e.g. {}) are not served; import them with `shoots import-legacy {}`",
            found.len(),
            dir.display(),
            first.path.display(),
            dir.display()
        );
    }
}

/// Runs the daemon until a stop is requested and in-flight calls drained.
/// `ready` is told the addresses once the ports are bound.
pub async fn serve(config: ServeConfig, ready: impl FnOnce(Bound)) -> Result<()> {
    let options = StoreOptions {
        retain_versions: config.retain_versions.max(1),
        grace: config.vacuum_grace,
        patience: config.store_patience,
        compact_files: config.compact_after,
        ..StoreOptions::default()
    };
    let store = Arc::new(Store::open(Location::parse(&config.bucket_dir)?, options)?);
    store.check().await?;
    if let Location::Local(dir) = store.location() {
        report_legacy_files(dir);
    }
    let peers = config.peers.iter().map(|p| distributed::peer_url(p)).collect::<Result<Vec<_>>>()?;
    let channels = distributed::PeerChannels::new(config.secret.as_ref().map(|s| s.0.as_str()), config.peer_ca.clone());
    let listener = bind(&config.host, config.port).await?;
    let local = listener.local_addr().map_err(|e| DaemonError::Io(e.to_string()))?;
    let cluster = (!peers.is_empty()).then(|| {
        // How this daemon's own worker is reached when it takes part.
        let host = if local.ip().is_unspecified() { "127.0.0.1".to_string() } else { local.ip().to_string() };
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let me = url::Url::parse(&format!("{scheme}://{host}:{}", local.port())).expect("an address is a URL");
        distributed::Cluster::new(me, peers, channels.clone())
    });
    if let Some(cluster) = &cluster {
        let peers: Vec<String> = cluster.peers().iter().map(|p| p.to_string()).collect();
        tracing::info!("distributed queries over this daemon and {}", peers.join(", "));
    }
    let engine = Arc::new(QueryEngine::new(store.clone(), config.memory_limit, cluster)?);

    let auth = config.secret.as_ref().map(|s| Arc::new(auth::Auth::new(&s.0)));
    if auth.is_some() && config.tls.is_none() && !local.ip().is_loopback() {
        tracing::warn!("authentication is on without TLS on {local}: tokens cross the network in clear text; use --cert-file and --key-file");
        eprintln!("shoots serve: warning: --secret without TLS on {local}; tokens travel in clear text");
    }
    let shutdown = Shutdown::default();
    let metrics = Arc::new(metrics::Metrics::default());
    let http = match config.http_port {
        None => None,
        Some(port) => {
            let listener = bind(&config.host, port).await?;
            let tls = config
                .tls
                .as_ref()
                .map(|(cert, key)| http::tls_acceptor(cert, key, &[b"h2", b"http/1.1"]))
                .transpose()?;
            let addr = listener.local_addr().map_err(|e| DaemonError::Io(e.to_string()))?;
            let state = http::HttpState {
                store: store.clone(),
                engine: engine.clone(),
                auth: auth.clone(),
                metrics: metrics.clone(),
            };
            let stopping = shutdown.clone();
            let task = tokio::spawn(http::serve(listener, tls, state, async move { stopping.wait().await }));
            Some((addr, task))
        }
    };
    let postgres = match config.pg_port {
        None => None,
        Some(port) => {
            let listener = bind(&config.host, port).await?;
            let tls =
                config.tls.as_ref().map(|(cert, key)| http::tls_acceptor(cert, key, &[b"postgresql"])).transpose()?;
            let addr = listener.local_addr().map_err(|e| DaemonError::Io(e.to_string()))?;
            let state = postgres::PgState {
                store: store.clone(),
                engine: engine.clone(),
                auth: auth.clone(),
                catalogs: Default::default(),
            };
            let stopping = shutdown.clone();
            let task = tokio::spawn(postgres::serve(listener, tls, state, async move { stopping.wait().await }));
            Some((addr, task))
        }
    };
    // Every daemon is a worker of distributed queries, on its own port.
    let worker = tonic::service::interceptor::InterceptedService::new(
        distributed::worker(engine.runtime(), channels).into_worker_server(),
        distributed::task_gate(auth.clone()),
    );
    let retention = retention::RetentionJob::start(store.clone(), config.retention_every, shutdown.clone());
    let flight = FlightServiceServer::new(ShootsFlight::new(
        store,
        engine,
        shutdown.clone(),
        auth,
        metrics,
        config.idle_timeout,
        retention,
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES)
    .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let mut builder = Server::builder();
    if let Some((cert, key)) = &config.tls {
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
            .map_err(|e| DaemonError::Io(format!("bad TLS certificate or key: {e}")))?;
    }
    ready(Bound {
        flight: local,
        http: http.as_ref().map(|(addr, _)| *addr),
        postgres: postgres.as_ref().map(|(addr, _)| *addr),
    });

    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        stop_requested(shutdown.clone()).await;
        // A signal stops the HTTP side too, which waits on the same handle.
        shutdown.trigger();
        let _ = stopping_tx.send(());
    };
    // Small replies (a put's result, a ping) must not wait for Nagle's
    // algorithm and the peer's delayed ACK: that alone costs 40 ms a call.
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|conn| {
        conn.inspect(|stream| {
            let _ = stream.set_nodelay(true);
        })
    });
    let server = builder.add_service(flight).add_service(worker).serve_with_incoming_shutdown(incoming, signal);
    tokio::pin!(server);
    tokio::select! {
        done = &mut server => done.map_err(|e| DaemonError::Io(format!("server failed: {e}")))?,
        _ = async { if stopping_rx.await.is_ok() { tokio::time::sleep(GRACE_PERIOD).await } else { std::future::pending().await } } => {
            tracing::warn!("calls still running {}s after the stop request; exiting anyway", GRACE_PERIOD.as_secs());
        }
    }
    for (_, task) in http.into_iter().chain(postgres) {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(())
}
