//! Versioned Parquet storage on an `object_store`.
//!
//! Layout under the bucket directory (documented in the README):
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

pub mod log;
pub mod names;
mod encode;
mod in_use;
mod maintain;
mod read;
mod write;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::daemon::error::{DaemonError, Result};
pub use log::{Commit, DataFile, Operation};
pub use names::{BucketId, Name};
pub use maintain::{CompactOutcome, VacuumOutcome};
pub use read::Reading;
pub use write::{PutOutcome, WriteMode};

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
    /// A dataframe with this many data files, most of them small, is
    /// compacted in the background after a put.
    pub compact_files: usize,
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
            compact_files: 64,
        }
    }
}

/// One version of one dataframe, as readers see it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub bucket: BucketId,
    pub name: Name,
    pub commit: Commit,
    pub schema: SchemaRef,
}

impl Snapshot {
    pub fn file_path(&self, file: &DataFile) -> Path {
        Path::from(format!("{}/{}/{}", self.bucket.dir(), self.name, file.path))
    }
}

type CommitLock = Arc<tokio::sync::Mutex<()>>;

pub struct Store {
    os: Arc<dyn ObjectStore>,
    options: StoreOptions,
    /// Serialises commits to one dataframe within this daemon; put-if-absent
    /// on the log is what makes them safe, this only avoids retry storms.
    commit_locks: Mutex<HashMap<(BucketId, Name), CommitLock>>,
    /// Dataframes with a background compaction under way.
    compacting: Mutex<std::collections::HashSet<(BucketId, Name)>>,
    /// The bucket directory, for what only the file system shows
    /// (object_store hides the staging files of unfinished uploads).
    root: Option<std::path::PathBuf>,
    /// Object paths of data files written and not yet committed, and the
    /// versions being read: vacuum keeps its hands off both.
    writing: in_use::InUse<String>,
    reading: in_use::InUse<(BucketId, Name, u64)>,
}

impl Store {
    pub fn new(os: Arc<dyn ObjectStore>, options: StoreOptions) -> Store {
        Store {
            os,
            options,
            commit_locks: Mutex::new(HashMap::new()),
            compacting: Mutex::default(),
            root: None,
            writing: Default::default(),
            reading: Default::default(),
        }
    }

    /// A store on the local file system rooted at `dir` (created if missing).
    pub fn open_local(dir: &std::path::Path, options: StoreOptions) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            DaemonError::Io(format!("cannot create bucket directory {}: {e}", dir.display()))
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Store { root: Some(dir.to_path_buf()), ..Store::new(Arc::new(fs), options) })
    }

    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.os.clone()
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    fn commit_lock(&self, bucket: &BucketId, name: &Name) -> CommitLock {
        let mut locks = self.commit_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry((bucket.clone(), name.clone())).or_default().clone()
    }

    fn df_prefix(bucket: &BucketId, name: &Name) -> Path {
        Path::from(format!("{}/{}", bucket.dir(), name))
    }

    fn log_path(bucket: &BucketId, name: &Name, version: u64) -> Path {
        Path::from(format!("{}/{}/_log/{}", bucket.dir(), name, log::entry_name(version)))
    }

    fn bucket_marker(bucket: &BucketId) -> Path {
        Path::from(format!("{}/_bucket", bucket.dir()))
    }

    // ---- versions -------------------------------------------------------

    /// The newest committed version number, whatever its operation.
    async fn latest_version(&self, bucket: &BucketId, name: &Name) -> Result<Option<u64>> {
        let prefix = Path::from(format!("{}/{}/_log", bucket.dir(), name));
        let mut newest = None;
        let mut entries = self.os.list(Some(&prefix));
        while let Some(meta) = entries.try_next().await? {
            if let Some(v) = meta.location.filename().and_then(log::parse_entry_name) {
                newest = newest.max(Some(v));
            }
        }
        Ok(newest)
    }

    async fn read_commit(&self, bucket: &BucketId, name: &Name, version: u64) -> Result<Commit> {
        let path = Self::log_path(bucket, name, version);
        let bytes = match self.os.get(&path).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(DaemonError::NotFound(format!(
                    "dataframe {name} in bucket {bucket} has no version {version}"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| DaemonError::Io(format!("corrupt commit {path}: {e}")))
    }

    /// The newest commit, tombstones included.
    async fn head_commit(&self, bucket: &BucketId, name: &Name) -> Result<Option<Commit>> {
        match self.latest_version(bucket, name).await? {
            None => Ok(None),
            Some(v) => self.read_commit(bucket, name, v).await.map(Some),
        }
    }

    fn snapshot_of(bucket: &BucketId, name: &Name, commit: Commit) -> Result<Snapshot> {
        let schema = commit.decode_schema()?;
        Ok(Snapshot { bucket: bucket.clone(), name: name.clone(), commit, schema })
    }

    /// The current version of a dataframe, or `None` if it does not exist.
    pub async fn current(&self, bucket: &BucketId, name: &Name) -> Result<Option<Snapshot>> {
        match self.head_commit(bucket, name).await? {
            Some(c) if c.operation != Operation::Delete => Self::snapshot_of(bucket, name, c).map(Some),
            _ => Ok(None),
        }
    }

    /// A version of a dataframe (the current one when `version` is `None`).
    pub async fn snapshot(&self, bucket: &BucketId, name: &Name, version: Option<u64>) -> Result<Snapshot> {
        let not_found = || DaemonError::NotFound(format!("dataframe {name} in bucket {bucket} not found"));
        match version {
            None => self.current(bucket, name).await?.ok_or_else(not_found),
            Some(v) => {
                let commit = self.read_commit(bucket, name, v).await?;
                if commit.operation == Operation::Delete {
                    return Err(DaemonError::NotFound(format!(
                        "version {v} of dataframe {name} in bucket {bucket} is a deletion"
                    )));
                }
                Self::snapshot_of(bucket, name, commit)
            }
        }
    }

    /// Commits `make(head)` as the next version with put-if-absent, retrying
    /// when another writer got there first. `make` sees the newest commit
    /// (tombstones included) and may refuse.
    async fn commit_next<F>(&self, bucket: &BucketId, name: &Name, mut make: F) -> Result<Commit>
    where
        F: FnMut(Option<&Commit>) -> Result<Commit>,
    {
        let lock = self.commit_lock(bucket, name);
        let _guard = lock.lock().await;
        loop {
            let head = self.head_commit(bucket, name).await?;
            let commit = make(head.as_ref())?;
            let path = Self::log_path(bucket, name, commit.version);
            let body = serde_json::to_vec_pretty(&commit)
                .map_err(|e| DaemonError::Io(format!("cannot encode commit: {e}")))?;
            let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
            match self.os.put_opts(&path, PutPayload::from(body), opts).await {
                Ok(_) => return Ok(commit),
                Err(object_store::Error::AlreadyExists { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    // ---- buckets ---------------------------------------------------------

    pub async fn bucket_exists(&self, bucket: &BucketId) -> Result<bool> {
        match bucket {
            BucketId::Default => Ok(true),
            BucketId::Named(_) => match self.os.head(&Self::bucket_marker(bucket)).await {
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
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.os.put_opts(&Self::bucket_marker(bucket), PutPayload::from_static(b"{}"), opts).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Named buckets, sorted (the default bucket is not listed, as in the original).
    pub async fn buckets(&self) -> Result<Vec<String>> {
        let listing = self.os.list_with_delimiter(None).await?;
        let mut buckets = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(dir) = prefix.filename() else { continue };
            let Ok(name) = Name::parse("bucket", dir) else { continue };
            let bucket = BucketId::Named(name);
            if self.bucket_exists(&bucket).await? {
                buckets.push(dir.to_string());
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
        let prefix = Path::from(bucket.dir());
        let listing = self.os.list_with_delimiter(Some(&prefix)).await?;
        let mut names: Vec<Name> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().and_then(|f| Name::parse("dataframe", f).ok()))
            .collect();
        names.sort();
        Ok(names)
    }

    // ---- deletion --------------------------------------------------------

    /// Deletes a dataframe: a tombstone commit makes it vanish for readers at
    /// once; then the files its versions name, and its log, are removed.
    pub async fn delete(&self, bucket: &BucketId, name: &Name) -> Result<()> {
        let lock = self.commit_lock(bucket, name);
        let _guard = lock.lock().await;
        let not_found = || DaemonError::NotFound(format!("dataframe {name} in bucket {bucket} not found"));
        let head = self.head_commit(bucket, name).await?.ok_or_else(not_found)?;
        if head.operation == Operation::Delete {
            return Err(not_found());
        }
        let schema = head.decode_schema()?;
        let tombstone = Commit::new(head.version + 1, Operation::Delete, vec![], vec![], vec![], &schema)?;
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        let body = serde_json::to_vec_pretty(&tombstone).map_err(|e| DaemonError::Io(e.to_string()))?;
        self.os.put_opts(&Self::log_path(bucket, name, tombstone.version), body.into(), opts).await?;
        self.remove_dataframe_files(bucket, name).await
    }

    /// Removes every object of a dataframe that its log knows of, log last.
    /// Data files of a put still in flight are not in the log and survive.
    async fn remove_dataframe_files(&self, bucket: &BucketId, name: &Name) -> Result<()> {
        let prefix = Self::df_prefix(bucket, name);
        let log_prefix = Path::from(format!("{prefix}/_log"));
        let mut log_entries: Vec<Path> = self.os.list(Some(&log_prefix)).map_ok(|m| m.location).try_collect().await?;
        log_entries.sort();
        let mut data = std::collections::BTreeSet::new();
        for entry in &log_entries {
            if let Some(v) = entry.filename().and_then(log::parse_entry_name) {
                let commit = self.read_commit(bucket, name, v).await?;
                data.extend(commit.add.into_iter().map(|f| f.path));
            }
        }
        let data_paths: Vec<Path> = data.into_iter().map(|p| Path::from(format!("{prefix}/{p}"))).collect();
        self.delete_paths(data_paths).await?;
        // Newest entry last, so that an interrupted delete still ends in the tombstone.
        self.delete_paths(log_entries).await
    }

    /// Deletes every path it can; one already gone is no error and does
    /// not stop the rest.
    async fn delete_paths(&self, paths: Vec<Path>) -> Result<()> {
        let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
        let mut results = self.os.delete_stream(stream);
        let mut first_error = None;
        while let Some(result) = results.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Deletes a named bucket; unless `force`, only when it holds no dataframe.
    pub async fn delete_bucket(&self, name: &Name, force: bool) -> Result<()> {
        let bucket = BucketId::Named(name.clone());
        let frames = self.dataframes(&bucket).await?;
        if !frames.is_empty() && !force {
            return Err(DaemonError::BucketNotEmpty(format!(
                "bucket {name} is not empty ({} dataframe{}); use mode \"delete\" to delete it with its contents",
                frames.len(),
                if frames.len() == 1 { "" } else { "s" }
            )));
        }
        for frame in &frames {
            match self.delete(&bucket, &frame.name).await {
                Ok(()) | Err(DaemonError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.os.delete(&Self::bucket_marker(&bucket)).await.or_else(|e| match e {
            object_store::Error::NotFound { .. } => Ok(()),
            e => Err(e),
        })?;
        // Whatever is left (leftovers of interrupted deletes) goes too.
        let rest: Vec<Path> = self.os.list(Some(&Path::from(bucket.dir()))).map_ok(|m| m.location).try_collect().await?;
        self.delete_paths(rest).await
    }
}
