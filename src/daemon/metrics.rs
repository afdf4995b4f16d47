//! The daemon's Prometheus metrics. Flight calls count themselves here as
//! they finish ([`Metrics::request`]) and as data passes; what the store
//! holds and the process uses is read at scrape time ([`Metrics::render`]).

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use super::error::Result;
use super::storage::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    /// The Flight method, or `HTTP` for the console's API.
    method: String,
    /// An action's name, or the HTTP path; empty for other methods.
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    method: String,
    action: String,
    /// `ok`, `cancelled`, or the error's wire type (`DataFusionError`, ...).
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Direction {
    /// `in` (uploads), `out` (gets, query results).
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    /// `commits` (log entries) or `footers` (Parquet footers).
    cache: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabels {
    /// `_default` for the default bucket, as SQL names it.
    bucket: String,
}

fn durations() -> Histogram {
    // 1 ms to about 65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    duration: Family<CallLabels, Histogram, fn() -> Histogram>,
    rows: Family<Direction, Counter>,
    bytes: Family<Direction, Counter>,
    active_streams: Gauge,
    stream_duration: Histogram,
    stream_failures: Counter,
    started: Instant,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("shoots");
        let requests = Family::<OutcomeLabels, Counter>::default();
        let duration = Family::<CallLabels, Histogram, fn() -> Histogram>::new_with_constructor(durations);
        let rows = Family::<Direction, Counter>::default();
        let bytes = Family::<Direction, Counter>::default();
        let active_streams = Gauge::default();
        registry.register("requests", "Requests by method, action and outcome", requests.clone());
        registry.register_with_unit(
            "request_duration",
            "How long requests took to answer (a DoGet: until its stream starts)",
            Unit::Seconds,
            duration.clone(),
        );
        registry.register("rows", "Rows received in uploads and sent in results", rows.clone());
        registry.register_with_unit(
            "transfer",
            "Arrow IPC bytes received in uploads and sent in results",
            Unit::Bytes,
            bytes.clone(),
        );
        registry.register("active_streams", "Results being streamed right now", active_streams.clone());
        let stream_duration = durations();
        registry.register_with_unit(
            "stream_duration",
            "How long results took to stream, from the first message to the last",
            Unit::Seconds,
            stream_duration.clone(),
        );
        // A DoGet counts as `ok` once its stream starts; this counts the
        // streams that failed after that.
        let stream_failures = Counter::default();
        registry.register("stream_failures", "Results that failed while streaming", stream_failures.clone());
        Metrics {
            registry,
            requests,
            duration,
            rows,
            bytes,
            active_streams,
            stream_duration,
            stream_failures,
            started: Instant::now(),
        }
    }
}

/// Held while a result streams: counted as active until it is dropped.
pub struct Streaming {
    active: Gauge,
    took: Histogram,
    started: Instant,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.active.dec();
        self.took.observe(self.started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// A finished request.
    pub fn request(&self, method: &str, action: &str, outcome: &str, took: Duration) {
        let call = CallLabels { method: method.into(), action: action.into() };
        self.duration.get_or_create(&call).observe(took.as_secs_f64());
        let labels = OutcomeLabels { method: call.method, action: call.action, outcome: outcome.into() };
        self.requests.get_or_create(&labels).inc();
    }

    pub fn received(&self, rows: u64, bytes: u64) {
        self.rows.get_or_create(&Direction { direction: "in" }).inc_by(rows);
        self.bytes.get_or_create(&Direction { direction: "in" }).inc_by(bytes);
    }

    pub fn sent(&self, rows: u64, bytes: u64) {
        self.rows.get_or_create(&Direction { direction: "out" }).inc_by(rows);
        self.bytes.get_or_create(&Direction { direction: "out" }).inc_by(bytes);
    }

    pub fn stream_failed(&self) {
        self.stream_failures.inc();
    }

    pub fn streaming(&self) -> Streaming {
        self.active_streams.inc();
        Streaming { active: self.active_streams.clone(), took: self.stream_duration.clone(), started: Instant::now() }
    }

    /// The OpenMetrics text of everything, reading the store's counts and
    /// contents now. Dataframes and bytes count current versions; a bucket
    /// listing costs the store one request per dataframe on a cold daemon.
    pub async fn render(&self, store: &Store) -> Result<String> {
        let mut now = Registry::with_prefix("shoots");
        let store_requests = Family::<KindLabels, Counter>::default();
        for (kind, n) in store.requests() {
            store_requests.get_or_create(&KindLabels { kind: kind.into() }).inc_by(n);
        }
        now.register("store_requests", "Requests this daemon made to its store, by kind", store_requests);
        let (frames, rows, bytes) = (
            Family::<BucketLabels, Gauge>::default(),
            Family::<BucketLabels, Gauge>::default(),
            Family::<BucketLabels, Gauge>::default(),
        );
        for bucket in store.bucket_ids().await? {
            let labels = BucketLabels { bucket: bucket.dir().to_string() };
            let snaps = store.dataframes(&bucket).await?;
            frames.get_or_create(&labels).set(snaps.len() as i64);
            rows.get_or_create(&labels).set(snaps.iter().map(|s| s.commit.rows as i64).sum());
            bytes.get_or_create(&labels).set(snaps.iter().map(|s| s.commit.bytes as i64).sum());
        }
        now.register("dataframes", "Dataframes per bucket", frames);
        now.register("stored_rows", "Rows of the current versions, per bucket", rows);
        now.register_with_unit("stored", "Bytes of the current versions' data files, per bucket", Unit::Bytes, bytes);
        let (held, limits) = (Family::<CacheLabels, Gauge>::default(), Family::<CacheLabels, Gauge>::default());
        for (cache, used, limit) in store.caches() {
            let labels = CacheLabels { cache: cache.into() };
            held.get_or_create(&labels).set(used as i64);
            limits.get_or_create(&labels).set(limit as i64);
        }
        now.register_with_unit("cache", "Memory held by each of the daemon's caches", Unit::Bytes, held);
        now.register_with_unit("cache_limit", "The most each cache may hold", Unit::Bytes, limits);
        let uptime = Gauge::<f64, AtomicU64>::default();
        uptime.set(self.uptime().as_secs_f64());
        now.register_with_unit("uptime", "Time since the daemon started", Unit::Seconds, uptime);
        let mut process = Registry::with_prefix("process");
        let process_metrics = process_now();
        if let Some(rss) = process_metrics.resident_bytes {
            let g = Gauge::<i64>::default();
            g.set(rss as i64);
            process.register_with_unit("resident_memory", "Resident memory of the daemon", Unit::Bytes, g);
        }
        let heap = Family::<KindLabels, Gauge>::default();
        for (kind, bytes) in heap_now() {
            heap.get_or_create(&KindLabels { kind: kind.into() }).set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        process.register_with_unit(
            "heap",
            "The allocator's bytes: allocated (in use), active (its pages), resident, retained (unmapped, kept for reuse)",
            Unit::Bytes,
            heap,
        );
        if let Some(fds) = process_metrics.open_fds {
            let g = Gauge::<i64>::default();
            g.set(fds as i64);
            process.register("open_fds", "Open file descriptors of the daemon", g);
        }
        let mut text = String::new();
        let encoded = encode_registry(&mut text, &self.registry)
            .and_then(|()| encode_registry(&mut text, &now))
            .and_then(|()| encode_registry(&mut text, &process))
            .and_then(|()| encode_eof(&mut text));
        encoded.map_err(|e| super::error::DaemonError::internal("encoding metrics", e))?;
        Ok(text)
    }
}

#[derive(Default)]
struct ProcessNow {
    resident_bytes: Option<u64>,
    open_fds: Option<usize>,
}

/// jemalloc's counts, where it is the allocator: allocated against resident
/// tells live data from pages the allocator holds on to.
#[cfg(not(target_env = "msvc"))]
fn heap_now() -> Vec<(&'static str, usize)> {
    use tikv_jemalloc_ctl::{epoch, stats};
    if epoch::advance().is_err() {
        return Vec::new();
    }
    let counts = [
        ("allocated", stats::allocated::read()),
        ("active", stats::active::read()),
        ("resident", stats::resident::read()),
        ("retained", stats::retained::read()),
    ];
    counts.into_iter().filter_map(|(kind, n)| Some((kind, n.ok()?))).collect()
}

#[cfg(target_env = "msvc")]
fn heap_now() -> Vec<(&'static str, usize)> {
    Vec::new()
}

/// Read from /proc where there is one; elsewhere the process metrics are left out.
fn process_now() -> ProcessNow {
    // SAFETY: sysconf only reads a constant of the system.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let resident_bytes = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page);
    let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count());
    ProcessNow { resident_bytes, open_fds }
}
