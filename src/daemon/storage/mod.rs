//! Versioned Parquet storage on an `object_store`.
//!
//! Layout under the bucket directory (documented in the README, paths made
//! in [`layout`]):
//!
//! ```text
//! _default/                       the default bucket
//! <bucket>/_bucket                marker: the bucket exists (even when empty)
//! <bucket>/<dataframe>/_log/<version>.json   commits (see `log`)
//! <bucket>/<dataframe>/data/<uuid>.parquet   immutable data files
//! ```
//!
//! Names may not start with `_` (see `names`), so `_default`, `_bucket`,
//! `_log` can never collide with a user's bucket or dataframe, and the depth
//! of a path says what it is.
//!
//! [`Store`]'s whole API is the one `impl` block below; the submodules hold
//! how each part works: writing ([`write`]), reading ([`read`]),
//! compaction and vacuum ([`maintain`]), the log ([`log`]). Every commit
//! goes through [`Store::commit`].

mod aws_profile;
mod byte_statistics;
mod counted;
mod data_writer;
mod deleted;
mod dictionaries;
mod dictionary_values;
mod distinct;
mod encode;
mod evolve;
mod footers;
mod in_use;
mod layout;
mod location;
pub mod log;
mod maintain;
pub mod names;
mod pins;
mod read;
mod rewrite;
mod selection;
#[cfg(test)]
mod tests;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode as Create, PutOptions, PutPayload};

use crate::daemon::error::{DaemonError, Result};
use crate::protocol::BucketDeleteMode;
use counted::{Counted, RequestCounts};
pub use location::{Location, StorePatience};
pub use log::{Commit, DataFile, Operation, RetentionRule};
use log::{Log, LogCache};
pub use maintain::{CompactOutcome, VacuumOutcome};
pub use names::{BucketId, Name, Target};
pub use pins::{pinning, NamedSnapshot};
pub use rewrite::ChangeOutcome;
pub use write::{PutOutcome, PutSpec};

/// Tuning of how data files are written and read.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Rows per Parquet row group: the unit of parallel decode and of the
    /// writer's memory.
    pub row_group_rows: usize,
    /// A put rolls over to a new data file after this many rows.
    pub file_rows: usize,
    /// Rows per batch when reading.
    pub read_batch_rows: usize,
    /// Threads one put encodes its columns on.
    pub encode_threads: usize,
    /// Versions vacuum keeps (the newest ones; at least 1).
    pub retain_versions: usize,
    /// A dataframe whose newest data files include this many in a row
    /// that are smaller than a full file is compacted in the background
    /// after a put (see `Commit::tiered_tail`); 0: never.
    pub compact_files: usize,
    /// How long vacuum leaves a data file no retained version needs before
    /// deleting it: a read on another daemon may have begun before the
    /// version went, and a put on another daemon may not have committed
    /// the files it wrote yet (`--vacuum-grace`).
    pub grace: std::time::Duration,
    /// Retries and timeouts of requests to an object store.
    pub patience: StorePatience,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            row_group_rows: crate::parquet_format::ROW_GROUP_ROWS,
            file_rows: 4 * 1024 * 1024,
            // Each batch is copied twice more on its way out (IPC, gRPC frame),
            // so smaller batches keep a DoGet's memory low: 8 concurrent
            // readers of the benchmark's table peaked at 200 MB with 32K-row
            // batches, 160 with 16K and 120 with 8K, moving as many rows a
            // second (a single reader's get within noise of 32K's).
            read_batch_rows: 8 * 1024,
            encode_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            retain_versions: 10,
            compact_files: 8,
            grace: std::time::Duration::from_secs(3600),
            patience: StorePatience::default(),
        }
    }
}

/// How often an asked-for compaction starts again on the newest version
/// after another writer changed the files it was rewriting.
const COMPACT_ATTEMPTS: u32 = 3;

/// Parquet footers by data file path.
pub type FooterCache = datafusion::execution::cache::cache_manager::FileMetadataCache;
pub use footers::FOOTER_CACHE_BYTES;

/// What `<bucket>/_bucket` holds.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct BucketMarker {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention: Option<RetentionRule>,
}

/// One version of one dataframe, as readers see it. Vacuum keeps the
/// version, with its files, while a snapshot of it (or a clone) lives.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub bucket: BucketId,
    pub name: Name,
    pub commit: Commit,
    pub schema: SchemaRef,
    reading: Reading,
}

impl Snapshot {
    pub fn file_path(&self, file: &DataFile) -> Path {
        layout::data_file(&self.bucket, &self.name, &file.path)
    }

    /// The retention that applies to this dataframe, given its bucket's,
    /// and whether it is the bucket's: its own, else the bucket's if the
    /// dataframe has that column (a bucket's passes over the others).
    pub fn retention<'a>(&'a self, bucket: Option<&'a RetentionRule>) -> Option<(&'a RetentionRule, bool)> {
        match (&self.commit.retention, bucket) {
            (Some(own), _) => Some((own, false)),
            (None, Some(rule)) if self.schema.field_with_name(&rule.time_col).is_ok() => Some((rule, true)),
            _ => None,
        }
    }

    /// Where `file`'s deleted rows are listed, if some are.
    pub fn deleted_path(&self, file: &DataFile) -> Option<Path> {
        file.deleted.as_ref().map(|d| layout::data_file(&self.bucket, &self.name, &d.path))
    }

    /// This version read through `files` only (some of its entries): what a
    /// diff of two versions reads.
    pub fn with_files(&self, files: Vec<DataFile>) -> Snapshot {
        let mut commit = self.commit.clone();
        commit.rows = files.iter().map(|f| f.rows).sum();
        commit.files = files;
        Snapshot { commit, ..self.clone() }
    }

    /// What keeps this version from vacuum, for what outlives the snapshot.
    pub fn reading(&self) -> Reading {
        self.reading.clone()
    }
}

/// A version being read: (bucket, dataframe, version). Vacuum keeps it,
/// with its files, while the value lives.
pub type Reading = Arc<in_use::Held<(BucketId, Name, u64)>>;

type FrameKey = (BucketId, Name);

pub struct Store {
    os: Arc<dyn ObjectStore>,
    requests: Arc<RequestCounts>,
    location: Location,
    options: StoreOptions,
    logs: LogCache,
    /// Parquet footers of data files (immutable, uniquely named), shared
    /// by gets and SQL.
    footers: Arc<footers::Footers>,
    /// Serialises commits to one dataframe within this daemon; put-if-absent
    /// on the log is what makes them safe, this only avoids retry storms.
    commit_locks: PerFrame<tokio::sync::Mutex<()>>,
    /// Serialises compactions of one dataframe within this daemon, so an
    /// asked-for compaction waits for a background one instead of
    /// conflicting with it.
    compaction_locks: PerFrame<tokio::sync::Mutex<()>>,
    /// Readers take a dataframe's snapshot through its gate; vacuum closes
    /// it while it picks the versions to remove (see `snapshot_of`).
    gates: PerFrame<tokio::sync::RwLock<()>>,
    /// Object paths of data files written and not yet committed, and the
    /// versions being read: vacuum keeps its hands off both.
    writing: in_use::InUse<String>,
    reading: in_use::InUse<(BucketId, Name, u64)>,
    /// Positions of deleted rows, by file.
    deleted: Arc<deleted::DeletedCache>,
}

/// Per-dataframe values (locks), each made on first use.
type PerFrame<T> = Mutex<HashMap<FrameKey, Arc<T>>>;

/// The value of one dataframe in `map`, made on first use.
fn of_frame<T: Default>(map: &PerFrame<T>, bucket: &BucketId, name: &Name) -> Arc<T> {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    map.entry((bucket.clone(), name.clone())).or_default().clone()
}

pub(super) fn not_found(bucket: &BucketId, name: &Name) -> DaemonError {
    DaemonError::NotFound(format!("dataframe {name} in bucket {bucket} not found"))
}

impl Store {
    pub fn open(location: Location, options: StoreOptions) -> Result<Store> {
        let os = Counted::new(location.open(&options.patience)?);
        Ok(Store {
            requests: os.counts(),
            os: Arc::new(os),
            location,
            options,
            logs: LogCache::default(),
            footers: Arc::default(),
            commit_locks: Mutex::default(),
            compaction_locks: Mutex::default(),
            gates: Mutex::default(),
            writing: Default::default(),
            reading: Default::default(),
            deleted: Default::default(),
        })
    }

    /// Proves that the store can be listed and written under its prefix, so
    /// that a daemon with bad store settings fails at start, within 30 s,
    /// saying why, instead of on its first request.
    pub async fn check(&self) -> Result<()> {
        let probe = async {
            self.os.list_with_delimiter(None).await?;
            // Names starting with `_` are never buckets, so this one is safe.
            let path = Path::from(format!("_store_check/{}", uuid::Uuid::new_v4()));
            self.os.put(&path, PutPayload::from_static(b"ok")).await?;
            self.os.delete(&path).await?;
            Ok::<_, DaemonError>(())
        };
        let location = &self.location;
        match tokio::time::timeout(std::time::Duration::from_secs(30), probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(DaemonError::Io(format!(
                "cannot use the store {location}: {}",
                location::explain_failure(&e.chain())
            ))),
            Err(_) => Err(DaemonError::Timeout(format!("the store {location} did not answer within 30 s"))),
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.os.clone()
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Requests made of the store since it was opened, by kind.
    pub fn requests(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.requests.totals()
    }

    pub fn footers(&self) -> Arc<FooterCache> {
        self.footers.clone()
    }

    /// Each cache's name, the bytes it holds and the most it may hold.
    pub fn caches(&self) -> [(&'static str, usize, usize); 2] {
        [
            ("commits", self.logs.bytes(), log::CACHED_COMMIT_BYTES),
            ("footers", self.footers.memory_used(), FOOTER_CACHE_BYTES),
        ]
    }

    // ---- versions --------------------------------------------------------

    /// The current version of a dataframe, or `None` if it does not exist.
    pub async fn current(&self, bucket: &BucketId, name: &Name) -> Result<Option<Snapshot>> {
        let _gate = of_frame(&self.gates, bucket, name).read_owned().await;
        match self.log(bucket, name).head().await? {
            Some(c) if c.operation != Operation::Delete => self.snapshot_of(bucket, name, c).map(Some),
            _ => Ok(None),
        }
    }

    /// A version of a dataframe (the current one when `version` is `None`).
    pub async fn snapshot(&self, bucket: &BucketId, name: &Name, version: Option<u64>) -> Result<Snapshot> {
        let Some(v) = version else {
            return self.current(bucket, name).await?.ok_or_else(|| not_found(bucket, name));
        };
        let _gate = of_frame(&self.gates, bucket, name).read_owned().await;
        let commit = self.log(bucket, name).read(v).await?;
        if commit.operation == Operation::Delete {
            return Err(DaemonError::NotFound(format!(
                "version {v} of dataframe {name} in bucket {bucket} is a deletion"
            )));
        }
        self.snapshot_of(bucket, name, commit)
    }

    /// A snapshot of `commit`, held from vacuum. Made inside the dataframe's
    /// gate, which vacuum closes while it decides which versions go: a
    /// version read before it closes is held by then, one read after is
    /// one vacuum keeps.
    fn snapshot_of(&self, bucket: &BucketId, name: &Name, commit: Commit) -> Result<Snapshot> {
        let schema = commit.decode_schema()?;
        let reading = Arc::new(self.reading.hold((bucket.clone(), name.clone(), commit.version)));
        Ok(Snapshot { bucket: bucket.clone(), name: name.clone(), commit, schema, reading })
    }

    /// Every version still in the log, oldest first.
    pub async fn history(&self, bucket: &BucketId, name: &Name) -> Result<Vec<Commit>> {
        let log = self.log(bucket, name);
        let entries = log.entries().await?;
        if entries.is_empty() {
            return Err(not_found(bucket, name));
        }
        let log = &log;
        let read: Vec<Option<Commit>> = futures::stream::iter(entries)
            .map(|(v, meta)| async move {
                match log.read_listed(v, &meta).await {
                    // Vacuumed (by another daemon, say) since the listing.
                    Err(DaemonError::NotFound(_)) => Ok(None),
                    read => read.map(Some),
                }
            })
            .buffered(8)
            .try_collect()
            .await?;
        let commits: Vec<Commit> = read.into_iter().flatten().collect();
        if commits.is_empty() {
            return Err(not_found(bucket, name));
        }
        Ok(commits)
    }

    // ---- reading and writing ---------------------------------------------

    /// How a query reads `file` of `snap` when rows of it are deleted:
    /// DataFusion's access plan for its row groups less those rows.
    pub async fn access_plan(
        &self,
        snap: &Snapshot,
        file: &DataFile,
    ) -> Result<Option<datafusion::datasource::physical_plan::parquet::ParquetAccessPlan>> {
        if file.deleted.is_none() {
            return Ok(None);
        }
        let positions = self.deleted.load(self.os.as_ref(), snap.deleted_path(file).as_ref()).await?;
        let meta = read::footer(self, snap, file).await?;
        let groups = read::row_groups_of(&meta, file);
        Ok(Some(deleted::access_plan(&meta, &groups, &positions)))
    }

    /// How many distinct non-null values `column` holds in `snap`, read
    /// from the Parquet dictionaries alone; `None` where they cannot tell
    /// (see [`dictionary_values`]).
    pub async fn distinct_in_dictionaries(&self, snap: &Snapshot, column: &str) -> Result<Option<u64>> {
        dictionary_values::count(self, snap, column).await
    }

    /// For each value of column `group`, how many distinct non-null values
    /// of `counted` its rows hold, read from the dictionary indices of the
    /// two columns' pages; `None` where they cannot tell (see
    /// [`dictionary_values`]).
    pub async fn distinct_per_group_in_dictionaries(
        &self,
        snap: &Snapshot,
        group: &str,
        counted: &str,
    ) -> Result<Option<(arrow::array::ArrayRef, Vec<i64>)>> {
        dictionary_values::count_per_group(self, snap, group, counted).await
    }

    /// The rows of `snap` in commit order, each batch carrying the
    /// dataframe's exact schema; the version is held while the stream lives.
    pub fn scan(&self, snap: &Snapshot) -> BoxStream<'static, Result<RecordBatch>> {
        read::scan(self, snap)
    }

    /// Stores `batches` (whose schema is `schema`) as the next version of a
    /// dataframe. Nothing becomes visible unless the whole stream arrives.
    pub async fn put<S>(
        &self,
        bucket: &BucketId,
        name: &Name,
        spec: PutSpec,
        schema: SchemaRef,
        batches: S,
    ) -> Result<PutOutcome>
    where
        S: Stream<Item = Result<RecordBatch>> + Send,
    {
        write::put(self, bucket, name, &spec, schema, batches).await
    }

    /// Commits `make(head)` as the next version with put-if-absent,
    /// retrying when another writer (another daemon, say) got there first.
    /// `make` sees the newest commit, tombstones included, and may refuse.
    /// Every commit of the store is made here.
    async fn commit<F>(&self, bucket: &BucketId, name: &Name, mut make: F) -> Result<Commit>
    where
        F: FnMut(Option<&Commit>) -> Result<Commit>,
    {
        let _guard = of_frame(&self.commit_locks, bucket, name).lock_owned().await;
        let log = self.log(bucket, name);
        loop {
            let commit = make(log.head().await?.as_ref())?;
            if log.create(&commit).await? {
                self.footers.retire(commit.remove.iter().map(|path| layout::data_file(bucket, name, path)));
                return Ok(commit);
            }
        }
    }

    // ---- changing rows in place ---------------------------------------------

    /// Removes the rows where the SQL predicate `sql` is true, as a new
    /// `delete_rows` version (none when no row matched).
    pub async fn delete_rows(&self, bucket: &BucketId, name: &Name, sql: &str) -> Result<ChangeOutcome> {
        let change = rewrite::Change { operation: Operation::DeleteRows, add: Vec::new(), schema: None };
        rewrite::rewrite(self, bucket, name, change, |snap| rewrite::Selection::sql(&snap.schema, sql)).await
    }

    /// Sets (or with `None` removes) a dataframe's retention, as a new
    /// `set_retention` version with the same rows.
    pub async fn set_retention(&self, bucket: &BucketId, name: &Name, rule: Option<RetentionRule>) -> Result<u64> {
        let commit = self
            .commit(bucket, name, |head| {
                let head = head.filter(|h| h.operation != Operation::Delete).ok_or_else(|| not_found(bucket, name))?;
                let schema = head.decode_schema()?;
                if let Some(rule) = &rule {
                    // The same checks the background run makes, made now.
                    rewrite::Selection::older_than(&schema, &rule.time_col, 0)?;
                }
                let files = head.files.clone();
                Ok(Commit::new(head.version + 1, Operation::SetRetention, vec![], vec![], files, &schema)?
                    .with_retention(rule.clone()))
            })
            .await?;
        Ok(commit.version)
    }

    /// The retention set on a bucket for its dataframes.
    pub async fn bucket_retention(&self, bucket: &BucketId) -> Result<Option<RetentionRule>> {
        let marker = match self.os.get(&layout::bucket_marker(bucket)).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let marker: BucketMarker = serde_json::from_slice(&marker)
            .map_err(|e| DaemonError::Io(format!("corrupt bucket marker of bucket {bucket}: {e}")))?;
        Ok(marker.retention)
    }

    /// Sets (or removes) the retention of every dataframe of a bucket that
    /// has the column and no retention of its own. Kept in the bucket's marker.
    pub async fn set_bucket_retention(&self, bucket: &BucketId, rule: Option<RetentionRule>) -> Result<()> {
        self.require_bucket(bucket).await?;
        let body = serde_json::to_vec(&BucketMarker { retention: rule })
            .map_err(|e| DaemonError::internal("cannot encode a bucket marker", e))?;
        self.os.put(&layout::bucket_marker(bucket), body.into()).await?;
        Ok(())
    }

    /// Removes the rows of `snap`'s dataframe older than `rule` allows, as a
    /// new `retention` version (none when no row is that old).
    pub async fn apply_retention(&self, snap: &Snapshot, rule: &RetentionRule) -> Result<ChangeOutcome> {
        let keep_ns = i64::try_from(rule.keep_s).ok().and_then(|s| s.checked_mul(1_000_000_000)).unwrap_or(i64::MAX);
        let now_ns = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        let cutoff = now_ns.saturating_sub(keep_ns);
        let change = rewrite::Change { operation: Operation::Retention, add: Vec::new(), schema: None };
        let (bucket, name) = (&snap.bucket, &snap.name);
        rewrite::rewrite(self, bucket, name, change, |snap| {
            rewrite::Selection::older_than(&snap.schema, &rule.time_col, cutoff)
        })
        .await
    }

    fn log<'a>(&'a self, bucket: &'a BucketId, name: &'a Name) -> Log<'a> {
        Log::new(self.os.as_ref(), &self.logs, bucket, name)
    }

    // ---- keeping dataframes small ------------------------------------------

    /// Rewrites the current version's files into as few as the file size
    /// allows, same rows in the same order, as a new `compact` version.
    pub async fn compact(&self, bucket: &BucketId, name: &Name) -> Result<CompactOutcome> {
        let _one_at_a_time = self.compaction_lock(bucket, name).lock_owned().await;
        // Another writer took the files away (most often another daemon's
        // compaction of the same tail): what is asked is a compact newest
        // version, so compact the new one, which may have nothing left to do.
        let mut attempts = 0;
        loop {
            match maintain::compact(self, bucket, name, maintain::Tail::Whole).await {
                Err(DaemonError::Conflict(_)) if attempts < COMPACT_ATTEMPTS => attempts += 1,
                done => return done,
            }
        }
    }

    fn compaction_lock(&self, bucket: &BucketId, name: &Name) -> Arc<tokio::sync::Mutex<()>> {
        of_frame(&self.compaction_locks, bucket, name)
    }

    /// Deletes all but the newest `retain` versions; the data files only
    /// they used go once [`StoreOptions::grace`] has passed, as do data files
    /// no version names (what crashed puts left).
    pub async fn vacuum(&self, bucket: &BucketId, name: &Name, retain: usize) -> Result<VacuumOutcome> {
        maintain::vacuum(self, bucket, name, retain).await
    }

    /// After a put: many small files make reads slow, so compact (and
    /// vacuum) in the background, one run per dataframe at a time.
    pub fn maybe_compact_in_background(self: &Arc<Self>, bucket: &BucketId, name: &Name, small_files: usize) {
        maintain::maybe_compact_in_background(self, bucket, name, small_files)
    }

    // ---- buckets and listing -----------------------------------------------

    pub async fn bucket_exists(&self, bucket: &BucketId) -> Result<bool> {
        match bucket {
            BucketId::Default => Ok(true),
            BucketId::Named(_) => match self.os.head(&layout::bucket_marker(bucket)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            },
        }
    }

    pub async fn require_bucket(&self, bucket: &BucketId) -> Result<()> {
        if self.bucket_exists(bucket).await? {
            Ok(())
        } else {
            Err(DaemonError::NotFound(format!("bucket {bucket} not found")))
        }
    }

    /// Buckets are created implicitly by the first put into them.
    async fn ensure_bucket(&self, bucket: &BucketId) -> Result<()> {
        if self.bucket_exists(bucket).await? {
            return Ok(());
        }
        let opts = PutOptions { mode: Create::Create, ..Default::default() };
        match self.os.put_opts(&layout::bucket_marker(bucket), PutPayload::from_static(b"{}"), opts).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every bucket: the default one first, then the named ones, sorted (the
    /// `buckets` action lists the named ones only, as in the original).
    pub async fn bucket_ids(&self) -> Result<Vec<BucketId>> {
        let named = self.named_buckets().await?.into_iter().map(BucketId::Named);
        Ok(std::iter::once(BucketId::Default).chain(named).collect())
    }

    async fn named_buckets(&self) -> Result<Vec<Name>> {
        let listing = self.os.list_with_delimiter(None).await?;
        let mut buckets = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(dir) = prefix.filename() else { continue };
            let Ok(name) = Name::parse("bucket", dir) else { continue };
            if self.bucket_exists(&BucketId::Named(name.clone())).await? {
                buckets.push(name);
            }
        }
        buckets.sort();
        Ok(buckets)
    }

    /// The current snapshot of every dataframe in a bucket, sorted by name.
    pub async fn dataframes(&self, bucket: &BucketId) -> Result<Vec<Snapshot>> {
        Ok(futures::stream::iter(self.dataframe_names(bucket).await?)
            .map(|name| async move { self.current(bucket, &name).await })
            .buffered(8)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Names of the dataframe directories of a bucket (some may be deleted).
    pub async fn dataframe_names(&self, bucket: &BucketId) -> Result<Vec<Name>> {
        self.require_bucket(bucket).await?;
        let listing = self.os.list_with_delimiter(Some(&Path::from(bucket.dir()))).await?;
        let mut names: Vec<Name> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().and_then(|f| Name::parse("dataframe", f).ok()))
            .collect();
        names.sort();
        Ok(names)
    }

    // ---- named snapshots ---------------------------------------------------

    /// Pins the current version of every dataframe of `bucket` (or of
    /// `only`) under `name`; `Exists` if the bucket has that snapshot.
    pub async fn create_snapshot(
        &self,
        bucket: &BucketId,
        name: &Name,
        only: Option<&[Name]>,
    ) -> Result<NamedSnapshot> {
        pins::create(self, bucket, name, only).await
    }

    /// A bucket's named snapshots, sorted by name.
    pub async fn named_snapshots(&self, bucket: &BucketId) -> Result<Vec<NamedSnapshot>> {
        self.require_bucket(bucket).await?;
        pins::list(self, bucket).await
    }

    /// Removes a named snapshot; what only it kept goes after the grace period.
    pub async fn drop_snapshot(&self, bucket: &BucketId, name: &Name) -> Result<NamedSnapshot> {
        pins::drop(self, bucket, name).await
    }

    /// The version of dataframe `frame` that snapshot `name` pins.
    pub async fn pinned(&self, bucket: &BucketId, name: &Name, frame: &Name) -> Result<Snapshot> {
        let mut snapshot = pins::read(self, bucket, name).await?;
        let Some(commit) = snapshot.frames.remove(frame.as_str()) else {
            let held: Vec<&str> = snapshot.frames.keys().map(String::as_str).collect();
            return Err(DaemonError::NotFound(format!(
                "dataframe {frame} is not in snapshot {name} of bucket {bucket} (it holds: {})",
                if held.is_empty() { "nothing".to_string() } else { held.join(", ") }
            )));
        };
        self.snapshot_of(bucket, frame, commit)
    }

    // ---- deletion ----------------------------------------------------------

    /// Deletes a dataframe: a tombstone commit makes it vanish for readers at
    /// once; then the files its versions name, and its log, are removed.
    pub async fn delete(&self, bucket: &BucketId, name: &Name) -> Result<()> {
        self.commit(bucket, name, |head| match head {
            Some(head) if head.operation != Operation::Delete => {
                Commit::new(head.version + 1, Operation::Delete, vec![], vec![], vec![], &*head.decode_schema()?)
            }
            _ => Err(not_found(bucket, name)),
        })
        .await?;
        self.remove_frame_files(bucket, name).await
    }

    /// Removes every object of a dataframe that its log knows of (the files
    /// its versions name, those waiting out vacuum's grace), log last. Data
    /// files of a put still in flight are not in the log and survive, as do
    /// those a named snapshot pins.
    async fn remove_frame_files(&self, bucket: &BucketId, name: &Name) -> Result<()> {
        let log = self.log(bucket, name);
        let entries = log.entries().await?;
        let mut data = std::collections::BTreeSet::new();
        for (v, meta) in &entries {
            let commit = log.read_listed(*v, meta).await?;
            data.extend(commit.files.iter().chain(&commit.add).flat_map(DataFile::paths).map(String::from));
        }
        let pending = maintain::pending_removals(self, bucket, name).await?;
        data.extend(pending.iter().flat_map(|p| p.files.iter().cloned()));
        // A named snapshot still reads these; they go when it does.
        let pinned = pins::pinned_files(self, bucket, name).await?;
        data.retain(|p| !pinned.contains(p));
        self.delete_paths(data.iter().map(|p| layout::data_file(bucket, name, p)).collect()).await?;
        let mut meta: Vec<Path> = pending.into_iter().map(|p| p.path).collect();
        meta.push(log.pointer_path());
        self.delete_paths(meta).await?;
        // Newest entry last, so that an interrupted delete still ends in the tombstone.
        self.delete_paths(entries.into_iter().map(|(_, m)| m.location).collect()).await.map(|_| ())
    }

    /// Deletes a named bucket; with [`BucketDeleteMode::Error`] only when it
    /// holds no dataframe.
    pub async fn delete_bucket(&self, name: &Name, mode: BucketDeleteMode) -> Result<()> {
        let bucket = BucketId::Named(name.clone());
        let frames = self.dataframes(&bucket).await?;
        let snapshots = pins::list(self, &bucket).await?;
        if (!frames.is_empty() || !snapshots.is_empty()) && mode == BucketDeleteMode::Error {
            let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            let mut held = vec![count(frames.len(), "dataframe")];
            if !snapshots.is_empty() {
                held.push(count(snapshots.len(), "snapshot"));
            }
            return Err(DaemonError::BucketNotEmpty(format!(
                "bucket {name} is not empty ({}); use mode \"delete\" to delete it with its contents",
                held.join(", ")
            )));
        }
        for frame in &frames {
            match self.delete(&bucket, &frame.name).await {
                Ok(()) | Err(DaemonError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.delete_paths(vec![layout::bucket_marker(&bucket)]).await?;
        // Whatever is left (leftovers of interrupted deletes) goes too.
        let rest: Vec<Path> =
            self.os.list(Some(&Path::from(bucket.dir()))).map_ok(|m| m.location).try_collect().await?;
        self.delete_paths(rest).await.map(|_| ())
    }

    /// Deletes every path it can; one already gone is no error and does
    /// not stop the rest. Returns how many it deleted.
    /// After a commit failed with `failure`: deletes the data files it would
    /// have named, unless it may have been made after all (then they stay,
    /// and vacuum's grace period takes them if it was not).
    async fn discard_written(&self, bucket: &BucketId, name: &Name, files: &[DataFile], failure: &DaemonError) {
        if !failure.commit_uncertain() {
            let paths = files.iter().map(|f| layout::data_file(bucket, name, &f.path)).collect();
            self.delete_paths(paths).await.ok();
        }
    }

    async fn delete_paths(&self, paths: Vec<Path>) -> Result<usize> {
        let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
        let mut results = self.os.delete_stream(stream);
        let (mut deleted, mut first_error) = (0, None);
        while let Some(result) = results.next().await {
            match result {
                Ok(_) => deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(deleted), |e| Err(e.into()))
    }
}
