//! `shoots serve`: run the daemon, in the foreground or detached (`--daemon`).

mod detach;

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::daemon::storage::StorePatience;
use crate::daemon::{self, Secret, ServeConfig};
use crate::error::{CliError, Result};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SHOOTS_HOST", default_value = "localhost")]
    pub host: String,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, env = "SHOOTS_PORT", default_value_t = 8081)]
    pub port: u16,
    /// Where every bucket and dataframe lives: a directory, file://PATH, or
    /// s3://BUCKET[/PREFIX] (settings from the AWS_* environment)
    #[arg(long, alias = "bucket_dir", env = "SHOOTS_BUCKET_DIR", default_value = "./buckets")]
    pub bucket_dir: String,
    /// PEM certificate (chain) for TLS; needs --key-file.
    #[arg(long, alias = "cert_file", env = "SHOOTS_CERT_FILE", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// PEM private key for TLS; needs --cert-file.
    #[arg(long, alias = "key_file", env = "SHOOTS_KEY_FILE", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// Memory for query execution, e.g. 512MiB or 2GiB; queries needing more
    /// spill to disk where they can, or fail cleanly.
    #[arg(long, env = "SHOOTS_MEMORY_LIMIT", default_value = "1GiB", value_parser = parse_size)]
    pub memory_limit: usize,
    /// Versions of each dataframe that vacuum keeps (compaction vacuums too)
    #[arg(long, env = "SHOOTS_RETAIN_VERSIONS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub retain_versions: u64,
    /// How long vacuum leaves files no retained version needs (and files of
    /// unfinished puts) before deleting them, e.g. 30m, 1h, 7d: reads and
    /// puts on other daemons of the same store get this long to finish
    #[arg(long, env = "SHOOTS_VACUUM_GRACE", default_value = "1h", value_parser = crate::cmd::token::parse_duration)]
    pub vacuum_grace: std::time::Duration,
    /// The other daemons of the same store (grpc://HOST:PORT or
    /// grpc+tls://HOST:PORT, comma-separated): queries large enough are
    /// spread over them and this one
    #[arg(long, env = "SHOOTS_PEERS", value_delimiter = ',')]
    pub peers: Vec<String>,
    /// PEM certificate(s) of the CA that grpc+tls:// peers' certificates
    /// chain to
    #[arg(long, env = "SHOOTS_PEER_CA_FILE")]
    pub peer_ca_file: Option<PathBuf>,
    /// Also serve HTTP on this port (0 picks a free one): the web console at
    /// /, /health, /metrics (Prometheus) and the JSON API; https with
    /// --cert-file, the same tokens as Flight
    #[arg(long, env = "SHOOTS_HTTP_PORT")]
    pub http_port: Option<u16>,
    /// Also answer the Postgres wire protocol on this port (0 picks a free
    /// one): psql, BI tools and drivers; the database is the bucket, TLS
    /// with --cert-file, a token as the password with --secret
    #[arg(long, env = "SHOOTS_PG_PORT")]
    pub pg_port: Option<u16>,
    /// How long a put may send nothing before the daemon cuts it off (and
    /// keeps none of it), e.g. 30s, 5m
    #[arg(long, env = "SHOOTS_IDLE_TIMEOUT", default_value = "5m", value_parser = crate::cmd::token::parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// How often the daemon drops rows older than each dataframe's retention
    /// (`shoots retention`), e.g. 1m, 1h; also soon after one is set
    #[arg(long, env = "SHOOTS_RETENTION_EVERY", default_value = "10m", value_parser = crate::cmd::token::parse_duration)]
    pub retention_every: std::time::Duration,
    /// Compact a dataframe in the background once a put leaves this many
    /// small files at its end (0: only when asked, with `shoots compact`)
    #[arg(long, env = "SHOOTS_COMPACT_AFTER", default_value_t = 8)]
    pub compact_after: usize,
    /// Detach and run in the background, with a pid file and a log file
    #[arg(long)]
    pub daemon: bool,
    /// Pid file for --daemon [default: shoots-PORT.pid in the platform state directory]
    #[arg(long, requires = "daemon")]
    pub pid_file: Option<PathBuf>,
    /// Log file for --daemon [default: shoots-PORT.log in the platform state directory]
    #[arg(long, requires = "daemon")]
    pub log_file: Option<PathBuf>,
    /// Retries of an object store request that failed (a 5xx, a cut
    /// connection, a timeout), with exponential backoff
    #[arg(long, env = "SHOOTS_STORE_RETRIES", default_value_t = 3)]
    pub store_retries: usize,
    /// No retry of an object store request starts after this long since its
    /// first attempt, e.g. 20s, 2m
    #[arg(long, env = "SHOOTS_STORE_RETRY_TIMEOUT", default_value = "20s", value_parser = crate::cmd::token::parse_duration)]
    pub store_retry_timeout: std::time::Duration,
    /// How long one attempt of an object store request may take, body
    /// included, e.g. 30s
    #[arg(long, env = "SHOOTS_STORE_TIMEOUT", default_value = "30s", value_parser = crate::cmd::token::parse_duration)]
    pub store_timeout: std::time::Duration,
    /// Require a token signed with this secret on every call (see `shoots token create`)
    #[arg(long, env = "SHOOTS_SECRET", hide_env_values = true)]
    pub secret: Option<Secret>,
}

/// `512MiB`, `2GiB`, `1G`, `1000000`.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} (use KiB, MiB, GiB)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("size too large: {s}"))
}

fn read(path: &PathBuf, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::Local(format!("cannot read {what} {}: {e}", path.display())))
}

impl ServeArgs {
    pub fn run(self) -> Result<()> {
        // Files are read before any fork, so a bad path fails in the foreground.
        let tls = match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Some((read(cert, "certificate")?, read(key, "key")?)),
            _ => None,
        };
        let config = ServeConfig {
            host: self.host.clone(),
            port: self.port,
            bucket_dir: self.bucket_dir.clone(),
            tls,
            memory_limit: Some(self.memory_limit),
            secret: self.secret.clone(),
            retain_versions: self.retain_versions as usize,
            vacuum_grace: self.vacuum_grace,
            store_patience: StorePatience {
                retries: self.store_retries,
                retry_timeout: self.store_retry_timeout,
                timeout: self.store_timeout,
            },
            peers: self.peers.clone(),
            peer_ca: self.peer_ca_file.as_ref().map(|p| read(p, "peer CA certificate")).transpose()?,
            http_port: self.http_port,
            pg_port: self.pg_port,
            idle_timeout: self.idle_timeout,
            retention_every: self.retention_every,
            compact_after: self.compact_after,
        };
        if self.daemon {
            let files = detach::Files::resolve(self.pid_file.clone(), self.log_file.clone(), self.port)?;
            return detach::run(files, |announce| serve_blocking(config, announce));
        }
        serve_blocking(config, |line| {
            // Scripts and tests read the port from this line (with --port 0).
            println!("{line}");
            let _ = std::io::stdout().flush();
        })
    }
}

/// Runs the daemon on this thread until it stops; `announce` gets the
/// "listening on" line once the port is bound.
fn serve_blocking(config: ServeConfig, announce: impl FnOnce(String)) -> Result<()> {
    crate::logging::init_daemon();
    // A panic in one call (a bug, or input a library did not expect) ends
    // that call only; log it as one line like everything else.
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        tracing::error!("internal error, please report: {message}");
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))?;
    let (scheme, web) = if config.tls.is_some() { ("grpc+tls", "https") } else { ("grpc", "http") };
    let tokens = if config.secret.is_some() { ", tokens required" } else { "" };
    let dir = config.bucket_dir.clone();
    runtime
        .block_on(daemon::serve(config, |bound| {
            let addr = bound.flight;
            tracing::info!("listening on {scheme}://{addr}, bucket directory {dir}");
            let console = match bound.http {
                Some(http) => {
                    tracing::info!("console, /health and /metrics on {web}://{http}");
                    format!("; console on {web}://{http}/")
                }
                None => String::new(),
            };
            let postgres = match bound.postgres {
                Some(pg) => {
                    tracing::info!("postgres wire protocol on {pg}");
                    format!("; postgres on {pg}")
                }
                None => String::new(),
            };
            announce(format!(
                "shoots serve: listening on {scheme}://{addr} (bucket directory {dir}{tokens}){console}{postgres}"
            ));
        }))
        .map_err(|e| CliError::Local(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("12 parsecs").is_err());
    }
}
