//! Queries spread over the daemons of one store (SPEC §13), on
//! `datafusion-distributed`: every daemon serves its `Worker` on its own
//! port beside Flight, and a daemon with `--peers` plans a query's stages
//! onto the peers that answer. A stage's plan travels as `datafusion-proto`:
//! scans are plain Parquet scans of the files of the version this daemon
//! resolved, read by the workers from the shared store.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion_distributed::grpc::{create_worker_client, BoxCloneSyncChannel, DefaultChannelResolver};
use datafusion_distributed::{
    ChannelResolver, DistributedExt, Worker, WorkerChannel, WorkerQueryContext, WorkerResolver,
};
use tonic::{Request, Status};
use url::Url;

use super::auth::{self, Auth, Role};
use super::error::{DaemonError, Result};

/// How a query is planned: `SET shoots.distributed = on|off|auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Over the peers when the scan needs more partitions than this
    /// daemon runs at once (DataFusion's `target_partitions`, each of
    /// `distributed.file_scan_config_bytes_per_partition`, 16 MiB).
    #[default]
    Auto,
    /// Over the peers whatever the size.
    On,
    /// On this daemon only.
    Off,
}

impl FromStr for Mode {
    type Err = DaemonError;
    fn from_str(s: &str) -> Result<Mode> {
        match s.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
            "auto" => Ok(Mode::Auto),
            "on" | "true" => Ok(Mode::On),
            "off" | "false" => Ok(Mode::Off),
            other => Err(DaemonError::InvalidArgument(format!("shoots.distributed is on, off or auto, not {other:?}"))),
        }
    }
}

/// The daemons a query may use: this one and its peers.
pub struct Cluster {
    me: Url,
    peers: Vec<Url>,
    channels: PeerChannels,
}

/// A peer's `grpc://` or `grpc+tls://` address (or `http(s)://`) as the
/// URL its worker is reached at.
pub fn peer_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    let url = if let Some(rest) = raw.strip_prefix("grpc+tls://") {
        format!("https://{rest}")
    } else if let Some(rest) = raw.strip_prefix("grpc://") {
        format!("http://{rest}")
    } else {
        raw.to_string()
    };
    let parsed = Url::parse(&url).map_err(|e| DaemonError::InvalidArgument(format!("bad peer {raw:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() || parsed.port().is_none() {
        return Err(DaemonError::InvalidArgument(format!(
            "bad peer {raw:?}: use grpc://HOST:PORT or grpc+tls://HOST:PORT"
        )));
    }
    Ok(parsed)
}

impl Cluster {
    /// `me` is how the peers reach this daemon; `secret` signs the tokens
    /// this daemon's tasks carry to theirs (all daemons share it).
    /// `channels` reach the workers (see [`PeerChannels::new`]).
    pub fn new(me: Url, peers: Vec<Url>, channels: PeerChannels) -> Cluster {
        let peers: Vec<Url> = peers.into_iter().filter(|p| p != &me).collect();
        Cluster { me, peers, channels }
    }

    pub fn peers(&self) -> &[Url] {
        &self.peers
    }

    /// This daemon and the peers that accept a connection now: a dead peer
    /// is left out of the next plan, not waited for.
    pub async fn live(&self) -> Vec<Url> {
        let checks = self.peers.iter().map(|peer| async move {
            let addr = (peer.host_str().unwrap_or_default().to_string(), peer.port().unwrap_or_default());
            let up = tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(addr)).await;
            if !matches!(up, Ok(Ok(_))) {
                tracing::warn!("peer {peer} does not answer; planning without it");
            }
            matches!(up, Ok(Ok(_))).then(|| peer.clone())
        });
        let mut live = vec![self.me.clone()];
        live.extend(futures::future::join_all(checks).await.into_iter().flatten());
        live
    }

    /// `error` of a query spread over the workers, naming the peers that
    /// no longer answer, if any (the usual reason).
    pub async fn explain_failure(&self, error: DataFusionError) -> DataFusionError {
        let live = self.live().await;
        let gone: Vec<String> = self.peers.iter().filter(|p| !live.contains(p)).map(|p| p.to_string()).collect();
        if !gone.is_empty() {
            return DataFusionError::Execution(format!(
                "worker {} stopped answering during this distributed query, which failed; the next query plans without it (cause: {error})",
                gone.join(", ")
            ));
        }
        // A connection that broke although every peer answers again (the
        // worker restarted, or the network failed for a moment).
        let text = error.to_string();
        let transport = ["h2 protocol error", "broken pipe", "transport error", "connection reset", "Error connecting"];
        if transport.iter().any(|t| text.to_lowercase().contains(&t.to_lowercase())) {
            let workers: Vec<String> = self.peers.iter().map(|p| p.to_string()).collect();
            return DataFusionError::Execution(format!(
                "the connection to a worker of this distributed query broke, which failed it (workers: {}; cause: {error})",
                workers.join(", ")
            ));
        }
        error
    }

    /// The workers one query runs on.
    pub fn resolver(live: Vec<Url>) -> impl WorkerResolver + 'static {
        LiveWorkers(live)
    }

    pub fn channels(&self) -> PeerChannels {
        self.channels.clone()
    }
}

/// The workers that answered when the query was planned.
struct LiveWorkers(Vec<Url>);

#[async_trait]
impl WorkerResolver for LiveWorkers {
    fn get_urls(&self) -> std::result::Result<Vec<Url>, DataFusionError> {
        Ok(self.0.clone())
    }
}

/// Connections to the workers, kept across queries, each call carrying
/// this daemon's token.
#[derive(Clone)]
pub struct PeerChannels {
    plain: DefaultChannelResolver,
    /// `https://` workers: one channel each, trusting `--peer-ca-file`.
    tls: Arc<tokio::sync::Mutex<std::collections::HashMap<Url, tonic::transport::Channel>>>,
    ca: Option<Arc<[u8]>>,
    secret: Option<Arc<str>>,
}

impl PeerChannels {
    /// `secret` signs the tokens tasks carry (all daemons share it); `ca`
    /// (PEM) is what TLS peers' certificates must chain to.
    pub fn new(secret: Option<&str>, ca: Option<Vec<u8>>) -> PeerChannels {
        PeerChannels {
            plain: DefaultChannelResolver::default(),
            tls: Arc::default(),
            ca: ca.map(Arc::from),
            secret: secret.map(Arc::from),
        }
    }

    async fn channel(&self, url: &Url) -> std::result::Result<BoxCloneSyncChannel, DataFusionError> {
        if url.scheme() != "https" {
            return self.plain.get_channel(url).await;
        }
        let mut channels = self.tls.lock().await;
        if let Some(channel) = channels.get(url) {
            return Ok(BoxCloneSyncChannel::new(channel.clone()));
        }
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            DataFusionError::Execution(format!(
                "Error connecting to Distributed DataFusion worker on '{url}': {what}: {e}"
            ))
        };
        let mut tls = tonic::transport::ClientTlsConfig::new().domain_name(url.host_str().unwrap_or_default());
        if let Some(ca) = &self.ca {
            tls = tls.ca_certificate(tonic::transport::Certificate::from_pem(ca.as_ref()));
        }
        let channel = tonic::transport::Endpoint::from_shared(url.to_string())
            .map_err(|e| failed("bad URL", &e))?
            .tls_config(tls)
            .map_err(|e| failed("TLS", &e))?
            .connect()
            .await
            .map_err(|e| failed("cannot connect", &e))?;
        channels.insert(url.clone(), channel.clone());
        Ok(BoxCloneSyncChannel::new(channel))
    }
}

impl std::fmt::Debug for PeerChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerChannels").field("authenticated", &self.secret.is_some()).finish()
    }
}

#[async_trait]
impl ChannelResolver for PeerChannels {
    async fn get_worker_client_for_url(
        &self,
        url: &Url,
    ) -> std::result::Result<Box<dyn WorkerChannel>, DataFusionError> {
        let channel = self.channel(url).await?;
        let Some(secret) = &self.secret else { return Ok(create_worker_client(channel)) };
        // Minted per call and short-lived: a token that leaks from a task is soon useless.
        let token = auth::mint(secret, Role::Admin, &[], Some(Duration::from_secs(600)))
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let value: http::HeaderValue = format!("Bearer {token}")
            .parse()
            .map_err(|e| DataFusionError::External(Box::new(DaemonError::internal("a token is not a header", e))))?;
        let with_token = tower::ServiceBuilder::new()
            .map_request(move |mut request: http::Request<tonic::body::Body>| {
                request.headers_mut().insert(http::header::AUTHORIZATION, value.clone());
                request
            })
            .service(channel);
        Ok(create_worker_client(BoxCloneSyncChannel::new(with_token)))
    }
}

/// This daemon's worker: tasks run on the daemon's runtime (its store,
/// footer cache and memory pool), and reach other workers (a stage reads
/// the one below it) with this daemon's tokens.
pub fn worker(runtime: Arc<RuntimeEnv>, channels: PeerChannels) -> Worker {
    let sessions = move |ctx: WorkerQueryContext| {
        let channels = channels.clone();
        async move {
            tracing::info!(target: "shoots::worker", "running a task of a distributed query");
            Ok::<_, DataFusionError>(ctx.builder.with_distributed_channel_resolver(channels).build())
        }
    };
    Worker::from_session_builder(sessions).with_runtime_env(runtime)
}

/// What a call to the worker must show: a task reads any file of the
/// store, so only an admin token (which peers mint from the shared secret)
/// may start one.
pub fn task_gate(
    auth: Option<Arc<Auth>>,
) -> impl FnMut(Request<()>) -> std::result::Result<Request<()>, Status> + Clone + Send + Sync + 'static {
    move |request: Request<()>| {
        if let Some(auth) = &auth {
            let principal = auth.check(request.metadata()).map_err(|e| e.into_plain_status())?;
            principal.require(Role::Admin, "run tasks of distributed queries").map_err(|e| e.into_plain_status())?;
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_grpc_addresses() {
        assert_eq!(peer_url("grpc://10.0.0.2:8081").unwrap().as_str(), "http://10.0.0.2:8081/");
        assert_eq!(peer_url("grpc+tls://db.example:8081").unwrap().scheme(), "https");
        assert!(peer_url("10.0.0.2").is_err());
        assert!(peer_url("grpc://host").is_err());
    }
}
