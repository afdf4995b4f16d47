//! The commit log of one dataframe.
//!
//! `<df>/_log/<version, 20 digits>.json` — version N names the data files it
//! adds and removes, and (so that a reader needs one object, not a replay)
//! the full list of files that make up version N. A commit is made by
//! creating the next entry with put-if-absent; whoever loses the race
//! re-reads and retries. `<df>/_log/_latest` points near the newest entry
//! (see [`Log::head`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::{IpcMessage, SchemaAsIpc};
use base64::Engine;
use futures::stream::BoxStream;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::layout;
use super::names::{BucketId, Name};
use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Create,
    Append,
    Replace,
    Compact,
    /// A tombstone: the dataframe no longer exists from this version on.
    Delete,
    /// Rows whose keys the upload has were replaced, the rest appended.
    Upsert,
    /// Rows matching a predicate were removed.
    DeleteRows,
    /// Rows older than the retention were removed.
    Retention,
    /// The retention setting changed; the rows did not.
    SetRetention,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Append => "append",
            Operation::Replace => "replace",
            Operation::Compact => "compact",
            Operation::Delete => "delete",
            Operation::Upsert => "upsert",
            Operation::DeleteRows => "delete_rows",
            Operation::Retention => "retention",
            Operation::SetRetention => "set_retention",
        }
    }
}

/// What one node of a `BTreeMap<String, u64>` allocates: room for 11 keys
/// and values, the parent pointer and two counts.
const BTREE_NODE_BYTES: usize =
    11 * (std::mem::size_of::<String>() + std::mem::size_of::<u64>()) + std::mem::size_of::<usize>() + 8;

/// One immutable Parquet data file, path relative to the dataframe's
/// directory, or some of its row groups: a change that rewrites a few row
/// groups of a file keeps the others where they are, as entries naming
/// the same file with a `range`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    pub path: String,
    /// Rows of this entry (of its row groups when it has a `range`).
    pub rows: u64,
    /// The file's size.
    pub bytes: u64,
    /// Only the row groups whose first page starts in this byte range
    /// (DataFusion's rule for a file range, so a query reads the same rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[u64; 2]>,
    /// Rows of the file a change took out without rewriting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedRows>,
    /// Distinct values of the file's low-cardinality columns, counted on a
    /// sample of its rows (estimates for the query planner).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub distinct: BTreeMap<String, u64>,
}

/// A file of row positions (in the data file) that read as gone; `rows`
/// of them fall in the entry's row groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedRows {
    pub path: String,
    pub rows: u64,
}

impl DataFile {
    pub fn whole(path: String, rows: u64, bytes: u64) -> DataFile {
        DataFile { path, rows, bytes, range: None, deleted: None, distinct: BTreeMap::new() }
    }

    /// The objects this entry reads: its data file, and its deleted rows' file.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.path.as_str()).chain(self.deleted.as_ref().map(|d| d.path.as_str()))
    }
}

/// Keep only rows whose `time_col` is newer than `keep_s` seconds ago.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRule {
    pub time_col: String,
    pub keep_s: u64,
}

/// Rows a change added, replaced and removed, where the files do not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowChanges {
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub version: u64,
    pub timestamp_ms: i64,
    pub operation: Operation,
    pub add: Vec<DataFile>,
    pub remove: Vec<String>,
    /// Every file of this version, in row order.
    pub files: Vec<DataFile>,
    pub rows: u64,
    pub bytes: u64,
    /// The dataframe's exact Arrow schema (IPC-encoded, base64), so that an
    /// empty dataframe still has one and listing needs no Parquet footer.
    pub schema: String,
    /// The dataframe's retention; every commit carries its head's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionRule>,
    /// For upserts and row deletes, whose added files also hold rewritten rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<RowChanges>,
}

impl Commit {
    /// What `history` says of this version.
    pub fn summary(&self) -> crate::protocol::VersionInfo {
        crate::protocol::VersionInfo {
            version: self.version,
            timestamp_ms: self.timestamp_ms,
            operation: self.operation.as_str().into(),
            rows: self.rows,
            rows_added: self.changes.map_or_else(|| self.add.iter().map(|f| f.rows).sum(), |c| c.added),
            rows_updated: self.changes.map_or(0, |c| c.updated),
            rows_deleted: self.changes.map_or(0, |c| c.deleted),
            files_added: self.add.len(),
            files_removed: self.remove.len(),
            files: self.files.len(),
        }
    }

    /// How many of this version's files, from the first one smaller than
    /// a full file (`file_rows`) to the last, compaction rewrites. Full files
    /// before it stay as they are, so a compaction costs about one file's
    /// rows plus the small ones, however big the dataframe (the rows it
    /// writes fill files in order, so at most one file before the small
    /// ones is not full).
    pub fn small_tail(&self, file_rows: usize) -> usize {
        let files = &self.files;
        files.iter().position(|f| (f.rows as usize) < file_rows).map_or(0, |first| files.len() - first)
    }

    /// How many files at the end a compaction in the background rewrites:
    /// the [`small_tail`](Self::small_tail) less the files at its start
    /// that hold more rows than all the files after them (and mark no
    /// rows deleted). Those stay: under steady small appends, rewriting the
    /// one partly filled file with each few hundred new rows cost up to a
    /// whole file's rows a compaction (seconds at 4M rows), long enough for
    /// hundreds more appends to arrive, so versions kept hundreds of files.
    /// Merged only with at least as many rows after them, files grow in
    /// tiers, and a row is rewritten a few times on its way to a full file.
    pub fn tiered_tail(&self, file_rows: usize) -> usize {
        let tail = self.small_tail(file_rows);
        let files = &self.files[self.files.len() - tail..];
        let mut after: u64 = files.iter().map(|f| f.rows).sum();
        let kept = files
            .iter()
            .take_while(|f| {
                after -= f.rows;
                f.rows > after && f.deleted.is_none()
            })
            .count();
        tail - kept
    }

    /// About how much memory this commit takes (what the log cache counts).
    pub fn memory(&self) -> usize {
        let file = |f: &DataFile| {
            let deleted = f.deleted.as_ref().map_or(0, |d| d.path.capacity());
            // A B-tree map's entries live in nodes of room for 11, each
            // node allocated whole (368 bytes for these keys and values) and
            // about half full when filled in order, as a commit is read. A
            // small file has a map of every column: counting only each
            // entry's share of a node undercounted the cache's commits 2.4x
            // (a heap profile under #33's load: 19 MB held for 8 MiB counted).
            let nodes = f.distinct.len().div_ceil(6);
            let keys: usize = f.distinct.keys().map(|k| k.capacity().max(8)).sum();
            let distinct = nodes * BTREE_NODE_BYTES + keys;
            std::mem::size_of::<DataFile>() + f.path.capacity() + deleted + distinct
        };
        std::mem::size_of::<Commit>()
            + self.files.iter().chain(&self.add).map(file).sum::<usize>()
            + self.remove.iter().map(|r| r.capacity() + std::mem::size_of::<String>()).sum::<usize>()
            + self.schema.capacity()
    }

    /// Whether any entry reads with rows marked deleted (compaction folds
    /// them in, whatever the size of the files).
    pub fn marks_deleted_rows(&self) -> bool {
        self.files.iter().any(|f| f.deleted.is_some())
    }

    pub fn new(
        version: u64,
        operation: Operation,
        add: Vec<DataFile>,
        remove: Vec<String>,
        files: Vec<DataFile>,
        schema: &Schema,
    ) -> Result<Commit> {
        let mut paths = std::collections::HashSet::new();
        Ok(Commit {
            version,
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
            operation,
            rows: files.iter().map(|f| f.rows).sum(),
            // A file several entries name counts once.
            bytes: files.iter().filter(|f| paths.insert(f.path.as_str())).map(|f| f.bytes).sum(),
            add,
            remove,
            files,
            schema: encode_schema(schema)?,
            retention: None,
            changes: None,
        })
    }

    /// The same commit carrying `retention` (its head's, usually).
    pub fn with_retention(mut self, retention: Option<RetentionRule>) -> Commit {
        self.retention = retention;
        self
    }

    pub fn with_changes(mut self, changes: RowChanges) -> Commit {
        self.changes = Some(changes);
        self
    }

    /// The files of `before` that no entry of `after` names any more.
    pub fn gone(before: &[DataFile], after: &[DataFile]) -> Vec<String> {
        let mut seen: std::collections::HashSet<&str> = after.iter().flat_map(DataFile::paths).collect();
        before.iter().flat_map(DataFile::paths).filter(|p| seen.insert(p)).map(String::from).collect()
    }

    pub fn decode_schema(&self) -> Result<SchemaRef> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.schema)
            .map_err(|e| DaemonError::Io(format!("corrupt schema in commit {}: {e}", self.version)))?;
        let schema = Schema::try_from(IpcMessage(bytes.into()))
            .map_err(|e| DaemonError::Io(format!("corrupt schema in commit {}: {e}", self.version)))?;
        Ok(Arc::new(schema))
    }
}

pub fn encode_schema(schema: &Schema) -> Result<String> {
    let options = IpcWriteOptions::default();
    let message: IpcMessage = SchemaAsIpc::new(schema, &options)
        .try_into()
        .map_err(|e| DaemonError::internal("cannot encode the schema for the log", e))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&message.0))
}

/// What one daemon remembers of the logs it has read, so that a read
/// costs few store requests however long a dataframe's history is.
///
/// Commits are immutable, but an entry's path comes back after a dataframe
/// is deleted and made anew, so a cached commit is only used for the entry
/// a listing shows with the same e-tag.
#[derive(Debug, Default)]
pub struct LogCache {
    commits: Mutex<CachedCommits>,
    /// The newest version seen, per log directory: where the next look
    /// for newer entries starts.
    heads: Mutex<HashMap<Path, u64>>,
}

/// Commits by entry path and e-tag, oldest first out once the memory they
/// take passes [`CACHED_COMMIT_BYTES`]. Each commit lists every file of its
/// version, so a dataframe fed by many small appends makes commits of tens
/// of kilobytes: a bound by count (4,096 of them) let this cache alone grow
/// to hundreds of megabytes. Counted by [`Commit::memory`], not by the size
/// of the entries: a heap profile showed the commits taking 3.5 times
/// their JSON's bytes (28 MB for 8 MiB of entries).
#[derive(Debug, Default)]
struct CachedCommits {
    by_key: HashMap<(Path, String), (Commit, usize)>,
    order: VecDeque<(Path, String)>,
    bytes: usize,
}

/// Memory for cached commits: room for the head commits of the dataframes
/// being written and read and the recent ones around them (32 MiB let the
/// test suite's soak grow).
pub const CACHED_COMMIT_BYTES: usize = 8 << 20;

/// Every this many versions a commit also rewrites the log's pointer
/// (`_log/_latest`), so that a daemon new to a dataframe lists only the
/// entries after it: never more than this many, whatever the history.
const POINTER_EVERY: u64 = 16;

impl LogCache {
    fn commit(&self, path: &Path, e_tag: Option<&str>) -> Option<Commit> {
        let commits = self.commits.lock().unwrap_or_else(|p| p.into_inner());
        commits.by_key.get(&(path.clone(), e_tag?.to_string())).map(|(commit, _)| commit.clone())
    }

    /// Keeps `commit`.
    fn keep(&self, path: &Path, e_tag: Option<String>, commit: &Commit) {
        let Some(e_tag) = e_tag else { return };
        let bytes = commit.memory();
        let mut commits = self.commits.lock().unwrap_or_else(|p| p.into_inner());
        let key = (path.clone(), e_tag);
        if let Some((_, old)) = commits.by_key.insert(key.clone(), (commit.clone(), bytes)) {
            commits.bytes -= old;
        } else {
            commits.order.push_back(key);
        }
        commits.bytes += bytes;
        while commits.bytes > CACHED_COMMIT_BYTES {
            let Some(oldest) = commits.order.pop_front() else { break };
            if let Some((_, size)) = commits.by_key.remove(&oldest) {
                commits.bytes -= size;
            }
        }
    }

    /// The memory the cached commits take.
    pub fn bytes(&self) -> usize {
        self.commits.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    fn head(&self, dir: &Path) -> Option<u64> {
        self.heads.lock().unwrap_or_else(|p| p.into_inner()).get(dir).copied()
    }

    fn saw_head(&self, dir: &Path, version: Option<u64>) {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        match version {
            Some(v) => heads.insert(dir.clone(), v),
            None => heads.remove(dir),
        };
    }
}

/// The log of one dataframe in a store: reading its entries and creating
/// the next one. Making a commit (the lock, the retry) is
/// [`Store::commit`](super::Store), the one place that calls [`Log::create`].
pub struct Log<'a> {
    os: &'a dyn ObjectStore,
    cache: &'a LogCache,
    bucket: &'a BucketId,
    name: &'a Name,
}

impl<'a> Log<'a> {
    pub fn new(os: &'a dyn ObjectStore, cache: &'a LogCache, bucket: &'a BucketId, name: &'a Name) -> Log<'a> {
        Log { os, cache, bucket, name }
    }

    fn dir(&self) -> Path {
        layout::log_dir(self.bucket, self.name)
    }

    pub fn entry_path(&self, version: u64) -> Path {
        self.dir().join(entry_name(version).as_str())
    }

    /// `_log/_latest`: a version that exists or existed, at most
    /// [`POINTER_EVERY`] behind the newest. A hint, never the truth: it is
    /// overwritten without a condition, and a slower writer may set it back.
    pub fn pointer_path(&self) -> Path {
        self.dir().join("_latest")
    }

    /// Every version in the log, oldest first.
    pub async fn versions(&self) -> Result<Vec<u64>> {
        Ok(self.entries().await?.into_iter().map(|(v, _)| v).collect())
    }

    /// Every entry in the log, oldest first.
    pub async fn entries(&self) -> Result<Vec<(u64, ObjectMeta)>> {
        let mut entries: Vec<_> = self.listed(self.os.list(Some(&self.dir()))).try_collect().await?;
        entries.sort_unstable_by_key(|(v, _)| *v);
        Ok(entries)
    }

    /// The log's entries in `listing`, in listing order.
    fn listed(
        &self,
        listing: BoxStream<'static, object_store::Result<ObjectMeta>>,
    ) -> impl futures::Stream<Item = Result<(u64, ObjectMeta)>> {
        listing.map_err(DaemonError::from).try_filter_map(|meta| async move {
            Ok(meta.location.filename().and_then(parse_entry_name).map(|v| (v, meta)))
        })
    }

    pub async fn read(&self, version: u64) -> Result<Commit> {
        let path = self.entry_path(version);
        let got = match self.os.get(&path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                let (name, bucket) = (self.name, self.bucket);
                return Err(DaemonError::NotFound(format!(
                    "dataframe {name} in bucket {bucket} has no version {version}"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let e_tag = got.meta.e_tag.clone();
        let bytes = got.bytes().await?;
        let commit: Commit =
            serde_json::from_slice(&bytes).map_err(|e| DaemonError::Io(format!("corrupt commit {path}: {e}")))?;
        self.cache.keep(&path, e_tag, &commit);
        Ok(commit)
    }

    /// The commit of an entry a listing showed: from the cache when it
    /// holds that very object.
    pub async fn read_listed(&self, version: u64, meta: &ObjectMeta) -> Result<Commit> {
        match self.cache.commit(&meta.location, meta.e_tag.as_deref()) {
            Some(commit) => Ok(commit),
            None => self.read(version).await,
        }
    }

    /// The newest commit, tombstones included. One listing of the entries
    /// from the newest this daemon saw (or the pointer's) on, so its cost
    /// does not grow with the history; the full log only when those are
    /// gone (the dataframe was deleted since).
    pub async fn head(&self) -> Result<Option<Commit>> {
        let dir = self.dir();
        let known = match self.cache.head(&dir) {
            Some(v) => Some(v),
            None => self.pointer().await?,
        };
        let newest = |listing| {
            self.listed(listing).try_fold(None, |newest: Option<(u64, ObjectMeta)>, entry| async {
                Ok(if newest.as_ref().is_some_and(|(v, _)| *v > entry.0) { newest } else { Some(entry) })
            })
        };
        let mut found = None;
        if let Some(v) = known.filter(|v| *v > 0) {
            // Entries after v - 1: v itself and anything newer.
            found = newest(self.os.list_with_offset(Some(&dir), &self.entry_path(v - 1))).await?;
        }
        if found.is_none() {
            found = newest(self.os.list(Some(&dir))).await?;
        }
        self.cache.saw_head(&dir, found.as_ref().map(|(v, _)| *v));
        match found {
            None => Ok(None),
            Some((v, meta)) => self.read_listed(v, &meta).await.map(Some),
        }
    }

    async fn pointer(&self) -> Result<Option<u64>> {
        match self.os.get(&self.pointer_path()).await {
            Ok(got) => Ok(std::str::from_utf8(&got.bytes().await?).ok().and_then(|s| s.trim().parse().ok())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates `commit`'s entry if no entry of its version exists yet
    /// (put-if-absent); `false` when another writer got there first.
    ///
    /// A commit is judged by what is on the store, never by the answer to
    /// its request: a store may make the entry and then fail the answer (a
    /// 500 after the write, a connection cut), and a retry of our own PUT
    /// then finds our entry there. So whenever the answer is not a plain
    /// success the entry is read back: our bytes are our commit, anyone
    /// else's mean we lost the race, and no entry means the same bytes are
    /// offered again. When the store never tells, the error is
    /// [`DaemonError::CommitUncertain`] and the caller must keep its files.
    pub async fn create(&self, commit: &Commit) -> Result<bool> {
        let body: bytes::Bytes =
            serde_json::to_vec_pretty(commit).map_err(|e| DaemonError::internal("cannot encode a commit", e))?.into();
        let path = self.entry_path(commit.version);
        let mut attempt = 0;
        let e_tag = loop {
            let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
            let failure = match self.os.put_opts(&path, PutPayload::from(body.clone()), opts).await {
                Ok(put) => break put.e_tag,
                // Refused before anything was written.
                Err(
                    e @ (object_store::Error::NotImplemented { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
                    | object_store::Error::InvalidPath { .. }),
                ) => return Err(e.into()),
                Err(e) => e,
            };
            match self.read_back(&path, &body).await {
                Ok(Entry::Ours(e_tag)) => break e_tag,
                Ok(Entry::Theirs) => return Ok(false),
                // Gone again after the store said it existed: a delete of the
                // dataframe ran in between, which the caller's re-read sees.
                Ok(Entry::Absent) if matches!(failure, object_store::Error::AlreadyExists { .. }) => return Ok(false),
                Ok(Entry::Absent) | Err(_) if attempt + 1 < COMMIT_ATTEMPTS => {
                    tracing::warn!(
                        "commit {} of {}/{}: {failure}; its entry is not there yet, offering it again",
                        commit.version,
                        self.bucket,
                        self.name
                    );
                }
                Ok(Entry::Absent) | Err(_) => {
                    return Err(DaemonError::CommitUncertain(format!(
                        "cannot tell whether version {} of dataframe {} was committed: {failure}",
                        commit.version, self.name
                    )))
                }
            }
            attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100 << attempt.min(6))).await;
        };
        self.cache.keep(&path, e_tag, commit);
        self.cache.saw_head(&self.dir(), Some(commit.version));
        if commit.version.is_multiple_of(POINTER_EVERY) {
            // Only a hint: the commit stands whether or not it is written.
            let pointer = PutPayload::from(commit.version.to_string());
            if let Err(e) = self.os.put(&self.pointer_path(), pointer).await {
                tracing::warn!("cannot update the log pointer of {}/{}: {e}", self.bucket, self.name);
            }
        }
        Ok(true)
    }

    /// Whose entry is at `path`, if any: ours when it holds `body`.
    async fn read_back(&self, path: &Path, body: &[u8]) -> Result<Entry> {
        let got = match self.os.get(path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(Entry::Absent),
            Err(e) => return Err(e.into()),
        };
        let e_tag = got.meta.e_tag.clone();
        let stored = got.bytes().await?;
        Ok(if stored.as_ref() == body { Entry::Ours(e_tag) } else { Entry::Theirs })
    }
}

/// What reading back a log entry found.
enum Entry {
    Absent,
    /// Our commit, with the e-tag it is stored under.
    Ours(Option<String>),
    Theirs,
}

/// How often a commit whose answer was lost is offered again before the
/// daemon gives up telling whether it was made.
const COMMIT_ATTEMPTS: u32 = 8;

pub fn entry_name(version: u64) -> String {
    format!("{version:020}.json")
}

/// The version an entry file name stands for; `None` for anything else
/// (temporary files of an interrupted write, say).
pub fn parse_entry_name(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".json")?;
    if digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, TimeUnit};
    use std::collections::HashMap;

    #[test]
    fn the_commit_cache_is_bounded_in_bytes_and_lets_the_oldest_go() {
        let schema = Schema::new(vec![Field::new("a", DataType::Int64, false)]);
        let cache = LogCache::default();
        let files = |n: usize| (0..n).map(|i| DataFile::whole(format!("data/{i:036}.parquet"), 1, 1)).collect();
        let probe = Commit::new(0, Operation::Append, vec![], vec![], files(1000), &schema).unwrap();
        let entry = probe.memory();
        assert!(entry > 1000 * 36, "the files' paths count");
        let fit = CACHED_COMMIT_BYTES / entry;
        for v in 0..(fit as u64 + 15) {
            let commit = Commit::new(v, Operation::Append, vec![], vec![], files(1000), &schema).unwrap();
            cache.keep(&Path::from(entry_name(v)), Some(format!("e{v}")), &commit);
            assert!(cache.bytes() <= CACHED_COMMIT_BYTES);
        }
        assert_eq!(cache.bytes(), fit * entry);
        let last = fit as u64 + 14;
        let kept = |v: u64| cache.commit(&Path::from(entry_name(v)), Some(&format!("e{v}"))).is_some();
        assert!(kept(last) && kept(last + 1 - fit as u64) && !kept(last - fit as u64));
        // The same entry kept again is counted once.
        let commit = Commit::new(last, Operation::Append, vec![], vec![], files(1000), &schema).unwrap();
        cache.keep(&Path::from(entry_name(last)), Some(format!("e{last}")), &commit);
        assert_eq!(cache.bytes(), fit * entry);
    }

    #[test]
    fn background_compaction_leaves_a_tier_bigger_than_what_follows() {
        let schema = Schema::new(vec![Field::new("a", DataType::Int64, false)]);
        let tail = |rows: &[u64]| {
            let files = rows.iter().enumerate().map(|(i, r)| DataFile::whole(format!("{i}"), *r, 1)).collect();
            let commit = Commit::new(1, Operation::Append, vec![], vec![], files, &schema).unwrap();
            (commit.small_tail(100), commit.tiered_tail(100))
        };
        // A full file, a partly filled one and a few small appends: the
        // partly filled one stays until the rows after it are as many.
        assert_eq!(tail(&[100, 90, 5, 5, 5]), (4, 3));
        assert_eq!(tail(&[100, 90, 50, 40]), (3, 3));
        // Tiers bigger than everything after them stay, each.
        assert_eq!(tail(&[64, 32, 16, 8, 1, 1]), (6, 2));
        // One file alone is not worth rewriting.
        assert_eq!(tail(&[100, 40]), (1, 0));
        assert_eq!(tail(&[100, 100]), (0, 0));
        // A file with rows marked deleted is rewritten, whatever its size.
        let mut marked = DataFile::whole("m".into(), 90, 1);
        marked.deleted = Some(DeletedRows { path: "d".into(), rows: 3 });
        let files = vec![marked, DataFile::whole("s".into(), 5, 1)];
        let commit = Commit::new(1, Operation::Append, vec![], vec![], files, &schema).unwrap();
        assert_eq!(commit.tiered_tail(100), 2);
    }

    #[test]
    fn entry_names_sort_by_version_and_parse_back() {
        assert_eq!(entry_name(7), "00000000000000000007.json");
        assert!(entry_name(9) < entry_name(10));
        assert_eq!(parse_entry_name(&entry_name(12345)), Some(12345));
        assert_eq!(parse_entry_name("00000000000000000007.json#tmp"), None);
        assert_eq!(parse_entry_name("7.json"), None);
    }

    #[test]
    fn schema_survives_the_log_exactly() {
        let schema = Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, Some("Europe/Paris".into())), true),
            Field::new("u", DataType::UInt64, false),
            Field::new_dictionary("c", DataType::Int8, DataType::Utf8, true),
        ])
        .with_metadata(HashMap::from([("pandas".to_string(), "{\"x\": 1}".to_string())]));
        let commit = Commit::new(1, Operation::Create, vec![], vec![], vec![], &schema).unwrap();
        let json = serde_json::to_string(&commit).unwrap();
        let back: Commit = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode_schema().unwrap().as_ref(), &schema);
    }
}
