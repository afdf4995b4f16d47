//! SQL over the store with DataFusion: every bucket a schema, every
//! dataframe a table read straight from the data files of its current
//! version. Independent of the JSON request dialect, so a Flight SQL front
//! end can share it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, SchemaProvider, TableProvider};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::memory_pool::{FairSpillPool, MemoryConsumer, MemoryReservation, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt};
use futures::StreamExt;

use crate::daemon::auth::Principal;
use crate::daemon::dictionary_count;
use crate::daemon::distributed::{Cluster, Mode};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::sql::history::HistoryFunction;
use crate::daemon::sql::{diff, versions, Query};
use crate::daemon::storage::{BucketId, Name, Reading, Snapshot, Store};
pub use crate::daemon::table::plain_strings;
use crate::daemon::table::{DataframeTable, STORE_URL};
use crate::protocol::Ticket;

const CATALOG: &str = "shoots";

/// How the rows of a daemon's own query over one snapshot are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitions {
    /// However DataFusion likes.
    Any,
    /// Each partition a consecutive range of the stored rows, in order, and
    /// partition `i` before `i + 1`: work that must know which of two equal
    /// rows came first can still run in parallel.
    StoredRanges,
    /// One partition, the stored order.
    One,
}

pub struct QueryEngine {
    store: Arc<Store>,
    runtime: Arc<RuntimeEnv>,
    memory_limit: Option<usize>,
    /// The other daemons of the store, when queries may be spread over them.
    cluster: Option<Arc<Cluster>>,
}

/// What a query sees: every bucket is a schema and every dataframe a table
/// in it (`bucket.name`); the dataframes of `default` also by bare name.
/// The default bucket's schema is `_default`.
/// A bucket-scoped token narrows `visible` to its buckets.
#[derive(Debug, Clone)]
pub struct Scope {
    pub default: BucketId,
    pub visible: Option<BTreeSet<BucketId>>,
    /// What a front end adds to each session (Postgres: `pg_catalog` and
    /// the functions its clients call).
    pub extension: Option<Arc<dyn SessionExtension>>,
}

impl Scope {
    pub fn new(default: BucketId, caller: &Principal) -> Scope {
        Scope { default, visible: caller.buckets.clone(), extension: None }
    }

    pub fn with_extension(self, extension: Arc<dyn SessionExtension>) -> Scope {
        Scope { extension: Some(extension), ..self }
    }

    /// The scope of a caller's SQL run from `default`: any token may start
    /// from the default bucket (a scoped one then sees only its buckets);
    /// a named bucket must be one the token covers.
    pub fn of_caller(default: BucketId, caller: &Principal) -> Result<Scope> {
        if default != BucketId::Default {
            caller.require_bucket(&default)?;
        }
        Ok(Scope::new(default, caller))
    }
}

/// Tables and functions a front end adds to every session of its queries.
pub trait SessionExtension: std::fmt::Debug + Send + Sync {
    /// Adds them to `ctx`, whose catalog is `catalog`.
    fn install(&self, ctx: &SessionContext, catalog: &str) -> Result<()>;
}

impl QueryEngine {
    pub fn new(store: Arc<Store>, memory_limit: Option<usize>, cluster: Option<Cluster>) -> Result<QueryEngine> {
        // One footer cache for gets and queries.
        // DataFusion sets the shared cache's limit to its own (50 MiB by
        // default) when it takes it: give it the store's.
        let caches = CacheManagerConfig::default()
            .with_file_metadata_cache(Some(store.footers()))
            .with_metadata_cache_limit(crate::daemon::storage::FOOTER_CACHE_BYTES);
        let mut builder = RuntimeEnvBuilder::new().with_cache_manager(caches);
        if let Some(limit) = memory_limit {
            // Fair shares, so a sort that can spill is made to before another
            // query's merge runs out; the tracker names the top consumers
            // when a query still does not fit.
            let pool = FairSpillPool::new(limit);
            let top = std::num::NonZeroUsize::new(5).expect("non-zero");
            builder = builder.with_memory_pool(Arc::new(TrackConsumersPool::new(pool, top)));
        }
        let runtime = builder.build_arc()?;
        let url = url::Url::parse(STORE_URL).expect("static URL");
        runtime.register_object_store(&url, store.object_store());
        Ok(QueryEngine { store, runtime, memory_limit, cluster: cluster.map(Arc::new) })
    }

    /// The runtime queries run on (the store, the footer cache, the memory
    /// pool), which this daemon's worker shares.
    pub fn runtime(&self) -> Arc<RuntimeEnv> {
        self.runtime.clone()
    }

    /// A session over the buckets `scope` sees; every version a query in it
    /// resolves is held in `holds`, so vacuum keeps it while the query runs.
    async fn session(&self, scope: &Scope, holds: &Holds, mode: Mode) -> Result<SessionContext> {
        let mut buckets = self.store.bucket_ids().await?;
        buckets.retain(|b| scope.visible.as_ref().is_none_or(|v| v.contains(b)));
        let config = self
            .config(Partitions::Any)
            .with_default_catalog_and_schema(CATALOG, scope.default.dir())
            .with_information_schema(true);
        let ctx = match (&self.cluster, mode) {
            (Some(cluster), Mode::Auto | Mode::On) => {
                // Stages are cut where a plan repartitions; a daemon on one
                // core would plan none, and so have nothing to spread.
                let partitions = config.target_partitions().max(2);
                let state = SessionStateBuilder::new()
                    .with_default_features()
                    .with_config(config.with_target_partitions(partitions))
                    .with_runtime_env(self.runtime.clone())
                    .with_distributed_worker_resolver(Cluster::resolver(cluster.live().await))
                    .with_distributed_channel_resolver(cluster.channels())
                    .with_distributed_planner();
                let state = match mode {
                    // Every partition its own task, however small the scan.
                    Mode::On => state.with_distributed_file_scan_config_bytes_per_partition(1)?,
                    _ => state,
                };
                SessionContext::new_with_state(state.build())
            }
            _ => SessionContext::new_with_config_rt(config, self.runtime.clone()),
        };
        let catalog = MemoryCatalogProvider::new();
        for bucket in buckets {
            let names = self.store.dataframe_names(&bucket).await?;
            let schema =
                BucketSchema { store: self.store.clone(), bucket: bucket.clone(), names, holds: holds.clone() };
            catalog.register_schema(bucket.dir(), Arc::new(schema))?;
        }
        ctx.register_catalog(CATALOG, Arc::new(catalog));
        let history = HistoryFunction::new(self.store.clone(), scope.default.clone(), scope.visible.clone());
        ctx.register_udtf("history", Arc::new(history));
        if let Some(extension) = &scope.extension {
            extension.install(&ctx, CATALOG)?;
        }
        Ok(ctx)
    }

    fn config(&self, partitions: Partitions) -> SessionConfig {
        let config = SessionConfig::new();
        let mut config = match partitions {
            Partitions::One => config.with_target_partitions(1),
            Partitions::Any => config,
            Partitions::StoredRanges => {
                // Without round-robin repartitioning the partitions are the
                // scan's file groups, consecutive ranges of stored order
                // (each read by its own partition: `DataframeTable::in_order`).
                let mut config = config;
                config.options_mut().optimizer.enable_round_robin_repartition = false;
                config
            }
        };
        if let Some(limit) = self.memory_limit {
            // Each sorting partition sets this much aside for merging its
            // spill files (10 MB by default); under a small limit that alone
            // would exhaust the pool before anything spills.
            let partitions = config.target_partitions().max(1);
            let reservation = (limit / (4 * partitions)).min(10 * 1024 * 1024);
            config.options_mut().execution.sort_spill_reservation_bytes = reservation;
        }
        config
    }

    /// Query memory for the daemon's own work that holds values outside
    /// DataFusion's operators, counted against `--memory-limit` with theirs.
    pub fn reservation(&self, name: &str) -> MemoryReservation {
        MemoryConsumer::new(name).register(&self.runtime.memory_pool)
    }

    /// Plans `sql` over exactly `snapshot`, the only table it sees, named
    /// `table`: work that reads a dataframe in several passes sees one
    /// version throughout, whatever is committed meanwhile. For the
    /// daemon's own queries; users' SQL goes through [`execute`](Self::execute).
    pub async fn snapshot_query(
        &self,
        snapshot: &Snapshot,
        table: &str,
        sql: &str,
        partitions: Partitions,
    ) -> Result<DataFrame> {
        let ctx = SessionContext::new_with_config_rt(self.config(partitions), self.runtime.clone());
        let in_order = partitions != Partitions::Any;
        ctx.register_table(table, Arc::new(DataframeTable::new(snapshot.clone(), self.store.clone(), in_order)))?;
        Ok(ctx.sql(sql).await?)
    }

    /// A ticket's selection from `snapshot`, in stored order: its columns
    /// (all when it names none) of the rows where its SQL predicate holds,
    /// at most its limit. The predicate is parsed as an expression over the
    /// dataframe's columns, so it cannot reach anything else.
    pub async fn select(&self, snapshot: &Snapshot, ticket: &Ticket) -> Result<DataFrame> {
        let ctx = SessionContext::new_with_config_rt(self.config(Partitions::One), self.runtime.clone());
        let mut df = ctx.read_table(Arc::new(DataframeTable::new(snapshot.clone(), self.store.clone(), true)))?;
        if let Some(filter) = &ticket.filter {
            let predicate = df.parse_sql_expr(filter)?;
            df = df.filter(predicate)?;
        }
        if let Some(columns) = &ticket.columns {
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            df = df.select_columns(&columns)?;
        }
        if let Some(limit) = ticket.limit {
            df = df.limit(0, Some(usize::try_from(limit).unwrap_or(usize::MAX)))?;
        }
        plain_strings(df)
    }

    /// All of `table`'s rows (a diff), as clients read them.
    pub fn read(&self, table: Arc<dyn TableProvider>) -> Result<DataFrame> {
        let ctx = SessionContext::new_with_config_rt(self.config(Partitions::Any), self.runtime.clone());
        plain_strings(ctx.read_table(table)?)
    }

    /// Plans `query` read-only: DDL, DML (`INSERT`, `COPY`), `SET` and other
    /// statements are refused before anything runs. `params` fill the
    /// placeholders `$1`, `$2`, ... (none: the plan keeps them).
    async fn plan(&self, scope: &Scope, query: &Query, params: &[ScalarValue], holds: &Holds) -> Result<DataFrame> {
        let mode = query.mode.unwrap_or_default();
        let planned = self.plan_as(scope, query, params, holds, mode).await?;
        if self.cluster.is_some() && !matches!(mode, Mode::Off) && holds.local_only() {
            // Rows marked deleted travel in no plan a worker gets: such a
            // query runs here (until compaction folds the marks in).
            return plain_strings(self.plan_as(scope, query, params, holds, Mode::Off).await?);
        }
        plain_strings(planned)
    }

    async fn plan_as(
        &self,
        scope: &Scope,
        query: &Query,
        params: &[ScalarValue],
        holds: &Holds,
        mode: Mode,
    ) -> Result<DataFrame> {
        let ctx = self.session(scope, holds, mode).await?;
        let options = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        if let (Some(cluster), Some(explained)) = (&self.cluster, &query.explained) {
            // DataFusion's EXPLAIN shows the plan before it is spread over
            // the workers; show the stages, and on which workers they run.
            let plan = ctx.sql_with_options(explained, options).await?.create_physical_plan().await?;
            if plan.is::<datafusion_distributed::DistributedExec>() {
                let workers: Vec<String> = cluster.live().await.iter().map(|w| w.to_string()).collect();
                let stages = datafusion_distributed::display_plan_ascii(plan.as_ref(), false);
                let text = format!("{stages}\nworkers (tasks go to them in turn): {}", workers.join(", "));
                let batch = arrow::record_batch::RecordBatch::try_from_iter([
                    ("plan_type", Arc::new(arrow::array::StringArray::from(vec!["distributed_plan"])) as _),
                    ("plan", Arc::new(arrow::array::StringArray::from(vec![text])) as _),
                ])
                .map_err(DataFusionError::from)?;
                return Ok(ctx.read_batch(batch)?);
            }
        }
        let planned = ctx.sql_with_options(&query.sql, options).await.map_err(|e| match e {
            DataFusionError::Plan(m) if m.contains(" not supported: ") => {
                DaemonError::DataFusion(format!("SQL in shoots is read-only: {m}"))
            }
            other => other.into(),
        })?;
        if params.is_empty() {
            return Ok(planned);
        }
        // Each value takes the type the plan infers for its placeholder.
        let types = planned.logical_plan().get_parameter_types()?;
        let values = params
            .iter()
            .enumerate()
            .map(|(i, value)| match types.get(&format!("${}", i + 1)) {
                Some(Some(wanted)) if wanted != &value.data_type() => Ok(value.cast_to(wanted)?),
                _ => Ok(value.clone()),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(planned.with_param_values(values)?)
    }

    pub async fn schema(&self, scope: &Scope, query: &Query) -> Result<SchemaRef> {
        self.bound_schema(scope, query, &[]).await
    }

    pub async fn execute(&self, scope: &Scope, query: &Query) -> Result<SendableRecordBatchStream> {
        self.execute_bound(scope, query, &[]).await
    }

    /// The result's schema with `params` in the placeholders.
    pub async fn bound_schema(&self, scope: &Scope, query: &Query, params: &[ScalarValue]) -> Result<SchemaRef> {
        Ok(self.plan(scope, query, params, &Holds::default()).await?.schema().inner().clone())
    }

    /// The placeholders of `query` (`$1`, ...) with the types the plan
    /// infers, in order, and the result's schema.
    pub async fn prepare(&self, scope: &Scope, query: &Query) -> Result<(SchemaRef, Vec<(String, Option<DataType>)>)> {
        let planned = self.plan(scope, query, &[], &Holds::default()).await?;
        let mut params: Vec<(String, Option<DataType>)> = planned
            .logical_plan()
            .get_parameter_types()?
            .into_iter()
            // Compared with a string column, a placeholder is inferred as the
            // view it is scanned as; clients bind plain strings (cast on bind).
            .map(|(name, t)| (name, t.map(|t| if t == DataType::Utf8View { DataType::Utf8 } else { t })))
            .collect();
        params.sort_by_key(|(name, _)| name.trim_start_matches('$').parse::<usize>().unwrap_or(usize::MAX));
        Ok((planned.schema().inner().clone(), params))
    }

    pub async fn execute_bound(
        &self,
        scope: &Scope,
        query: &Query,
        params: &[ScalarValue],
    ) -> Result<SendableRecordBatchStream> {
        let holds = Holds::default();
        let mut planned = self.plan(scope, query, params, &holds).await?;
        // `SET shoots.distributed = on` spreads every query over the peers,
        // this one too.
        if self.cluster.is_none() || query.mode != Some(Mode::On) {
            if let Some(plan) = dictionary_count::rewrite(&self.store, planned.logical_plan()).await? {
                planned = DataFrame::new(planned.into_parts().0, plan);
            }
        }
        let task = Arc::new(planned.task_ctx());
        let plan = planned.create_physical_plan().await?;
        // A failure of a spread query names the workers that stopped answering.
        let cluster = self.cluster.clone().filter(|_| plan.is::<datafusion_distributed::DistributedExec>());
        let stream = datafusion::physical_plan::execute_stream(plan, task)?;
        let schema = stream.schema();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream.then(move |batch| {
                let _ = &holds; // held as long as the results stream
                let cluster = cluster.clone();
                async move {
                    match (batch, cluster) {
                        (Err(e), Some(cluster)) => Err(cluster.explain_failure(e).await),
                        (batch, _) => batch,
                    }
                }
            }),
        )))
    }
}

/// The versions a query reads, kept from vacuum while it runs.
type Holds = Arc<ReadSet>;

#[derive(Debug, Default)]
struct ReadSet {
    readings: Mutex<Vec<Reading>>,
    /// A table read has rows marked deleted (see `Store::access_plan`).
    local_only: std::sync::atomic::AtomicBool,
}

impl ReadSet {
    fn keep(&self, snapshot: &Snapshot) {
        self.readings.lock().unwrap_or_else(|p| p.into_inner()).push(snapshot.reading());
        if snapshot.commit.marks_deleted_rows() {
            self.local_only.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The query must run on this daemon alone.
    fn run_here(&self) {
        self.local_only.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn local_only(&self) -> bool {
        self.local_only.load(std::sync::atomic::Ordering::Relaxed)
    }
}

struct BucketSchema {
    store: Arc<Store>,
    bucket: BucketId,
    names: Vec<Name>,
    holds: Holds,
}

impl std::fmt::Debug for BucketSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketSchema").field("bucket", &self.bucket).field("names", &self.names).finish()
    }
}

impl BucketSchema {
    /// The version of `name` that `at` names; a version vacuum removed is
    /// `NotFound`, naming the oldest that is kept.
    async fn version(&self, name: &Name, at: &versions::At) -> Result<Snapshot> {
        let ms = match at {
            versions::At::Snapshot(snapshot) => {
                return self.store.pinned(&self.bucket, &Name::parse("snapshot", snapshot)?, name).await
            }
            versions::At::Version(v) => return self.kept(name, *v).await,
            versions::At::Timestamp(ms) => *ms,
        };
        let history = self.store.history(&self.bucket, name).await?;
        match history.iter().rev().find(|c| c.timestamp_ms <= ms) {
            Some(commit) => self.store.snapshot(&self.bucket, name, Some(commit.version)).await,
            None => {
                let oldest = history.first().map_or(0, |c| c.timestamp_ms);
                Err(DaemonError::NotFound(format!(
                    "dataframe {name} has no version at that time: its oldest kept version is from {} (ms since 1970, UTC: {oldest})",
                    chrono::DateTime::from_timestamp_millis(oldest).map_or(String::new(), |t| t.to_rfc3339())
                )))
            }
        }
    }

    async fn kept(&self, name: &Name, version: u64) -> Result<Snapshot> {
        match self.store.snapshot(&self.bucket, name, Some(version)).await {
            Err(DaemonError::NotFound(_)) => {
                let history = self.store.history(&self.bucket, name).await?;
                let oldest = history.first().map_or(0, |c| c.version);
                Err(DaemonError::NotFound(format!(
                    "version {version} of dataframe {name} is not kept (vacuumed, or not made yet); the oldest kept is {oldest}, the newest {}",
                    history.last().map_or(0, |c| c.version)
                )))
            }
            found => found,
        }
    }

    /// The table a reference the rewrite made stands for.
    async fn versioned(&self, name: &Name, versioned: &versions::Versioned) -> Result<Arc<dyn TableProvider>> {
        match versioned {
            versions::Versioned::At(at) => {
                let snapshot = self.version(name, at).await?;
                self.holds.keep(&snapshot);
                Ok(Arc::new(DataframeTable::new(snapshot, self.store.clone(), false)))
            }
            versions::Versioned::Diff(spec) => {
                let (before, after) = (self.kept(name, spec.from).await?, self.kept(name, spec.to).await?);
                // Read here: a worker's plan carries no diff.
                self.holds.run_here();
                Ok(diff::diff(&self.store, &before, &after, &spec.keys).await?.table)
            }
        }
    }
}

#[async_trait]
impl SchemaProvider for BucketSchema {
    fn table_names(&self) -> Vec<String> {
        self.names.iter().map(|n| n.to_string()).collect()
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        let external = |e| DataFusionError::External(Box::new(e));
        let Some((name, versioned)) = versions::split(name) else {
            let Ok(name) = Name::parse("dataframe", name) else { return Ok(None) };
            return match self.store.current(&self.bucket, &name).await.map_err(external)? {
                Some(snapshot) => {
                    self.holds.keep(&snapshot);
                    Ok(Some(Arc::new(DataframeTable::new(snapshot, self.store.clone(), false))))
                }
                None => Ok(None),
            };
        };
        let name = Name::parse("dataframe", name).map_err(external)?;
        self.versioned(&name, &versioned).await.map(Some).map_err(external)
    }

    fn table_exist(&self, name: &str) -> bool {
        let name = versions::split(name).map_or(name, |(name, _)| name);
        self.names.iter().any(|n| n.as_str() == name)
    }
}
