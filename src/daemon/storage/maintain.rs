//! Keeping dataframes fast and small: history, compaction of many small
//! files into few, and vacuum of what no retained version needs.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;

use super::log::{self, Commit, Operation};
use super::write::DataWriter;
use super::{BucketId, Name, Store};
use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Copy)]
pub struct CompactOutcome {
    /// The compacting commit, or `None` when there was nothing to do.
    pub version: Option<u64>,
    pub files_before: usize,
    pub files_after: usize,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct VacuumOutcome {
    pub versions_removed: usize,
    pub files_deleted: usize,
}

impl Store {
    /// Every version still in the log, oldest first.
    pub async fn history(&self, bucket: &BucketId, name: &Name) -> Result<Vec<Commit>> {
        let versions = self.versions(bucket, name).await?;
        if versions.is_empty() {
            return Err(DaemonError::NotFound(format!("dataframe {name} in bucket {bucket} not found")));
        }
        futures::stream::iter(versions).map(|v| self.read_commit(bucket, name, v)).buffered(8).try_collect().await
    }

    async fn versions(&self, bucket: &BucketId, name: &Name) -> Result<Vec<u64>> {
        let prefix = Path::from(format!("{}/{}/_log", bucket.dir(), name));
        let mut versions: Vec<u64> = self
            .os
            .list(Some(&prefix))
            .try_filter_map(|meta| async move { Ok(meta.location.filename().and_then(log::parse_entry_name)) })
            .try_collect()
            .await?;
        versions.sort_unstable();
        Ok(versions)
    }

    /// Rewrites the current version's files into as few as the file size
    /// allows, same rows in the same order, as a new `compact` version.
    /// Appends committed meanwhile are kept after the compacted rows; a
    /// replace or delete meanwhile makes the compaction give up.
    pub async fn compact(&self, bucket: &BucketId, name: &Name) -> Result<CompactOutcome> {
        let snap = self.snapshot(bucket, name, None).await?;
        let before = snap.commit.files.len();
        let small = snap.commit.files.iter().filter(|f| (f.rows as usize) < self.options.file_rows).count();
        if before <= 1 || small <= 1 {
            return Ok(CompactOutcome { version: None, files_before: before, files_after: before });
        }
        let (new_files, _writing) =
            DataWriter::new(self, bucket, name, snap.schema.clone()).write_all(self.scan(&snap)).await?;
        let old: Vec<String> = snap.commit.files.iter().map(|f| f.path.clone()).collect();
        let committed = self
            .commit_next(bucket, name, |head| {
                let head = head.filter(|h| h.operation != Operation::Delete).ok_or_else(|| changed(name))?;
                let head_paths: Vec<&str> = head.files.iter().map(|f| f.path.as_str()).collect();
                if head_paths.len() < old.len() || head_paths[..old.len()] != old.iter().map(String::as_str).collect::<Vec<_>>()[..]
                {
                    return Err(changed(name));
                }
                let mut files = new_files.clone();
                files.extend(head.files[old.len()..].iter().cloned());
                Commit::new(head.version + 1, Operation::Compact, new_files.clone(), old.clone(), files, &*head.decode_schema()?)
            })
            .await;
        match committed {
            Ok(commit) => Ok(CompactOutcome { version: Some(commit.version), files_before: before, files_after: commit.files.len() }),
            Err(e) => {
                let prefix = Store::df_prefix(bucket, name);
                self.delete_paths(new_files.iter().map(|f| Path::from(format!("{prefix}/{}", f.path))).collect()).await.ok();
                Err(e)
            }
        }
    }

    /// Deletes the log entries of all but the newest `retain` versions and
    /// the data files only they used, then the data files no version names
    /// (see [`remove_orphans`](Self::remove_orphans)).
    pub async fn vacuum(&self, bucket: &BucketId, name: &Name, retain: usize) -> Result<VacuumOutcome> {
        let mut outcome = self.remove_old_versions(bucket, name, retain).await?;
        outcome.files_deleted += self.remove_orphans(bucket, name).await?;
        Ok(outcome)
    }

    async fn remove_old_versions(&self, bucket: &BucketId, name: &Name, retain: usize) -> Result<VacuumOutcome> {
        let retain = retain.max(1);
        let versions = self.versions(bucket, name).await?;
        if versions.len() <= retain {
            return Ok(VacuumOutcome::default());
        }
        let (old, kept) = versions.split_at(versions.len() - retain);
        // A version someone is reading stays, with its files, until they are done.
        let read: HashSet<u64> =
            self.reading.keys().into_iter().filter(|(b, n, _)| b == bucket && n == name).map(|(.., v)| v).collect();
        let (old, held): (Vec<u64>, Vec<u64>) = old.iter().partition(|v| !read.contains(v));
        let mut needed = HashSet::new();
        for v in kept.iter().chain(&held) {
            needed.extend(self.read_commit(bucket, name, *v).await?.files.into_iter().map(|f| f.path));
        }
        let mut unneeded = HashSet::new();
        for v in &old {
            let commit = self.read_commit(bucket, name, *v).await?;
            unneeded.extend(commit.files.into_iter().map(|f| f.path).chain(commit.remove).filter(|p| !needed.contains(p)));
        }
        // Log entries first: once gone, no reader can ask for those versions.
        self.delete_paths(old.iter().map(|v| Store::log_path(bucket, name, *v)).collect()).await?;
        let prefix = Store::df_prefix(bucket, name);
        let files_deleted = unneeded.len();
        self.delete_paths(unneeded.into_iter().map(|p| Path::from(format!("{prefix}/{p}"))).collect()).await?;
        Ok(VacuumOutcome { versions_removed: old.len(), files_deleted })
    }

    /// Deletes data files that no version in the log names and no put or
    /// compaction of this daemon is writing: what a put cut short by a crash
    /// left behind, finished files and unfinished uploads' staging files
    /// alike. Only files untouched for [`ORPHAN_AGE`] go, in case another
    /// process writes to the same directory. Returns how many went.
    async fn remove_orphans(&self, bucket: &BucketId, name: &Name) -> Result<usize> {
        let Some(root) = &self.root else { return Ok(0) };
        let dir = root.join(bucket.dir()).join(name.as_str()).join("data");
        // Listed first, then what is being written, then what the log names:
        // a put that finishes in between is in the second or the third.
        let listed = tokio::task::spawn_blocking(move || old_files(&dir))
            .await
            .map_err(|e| DaemonError::Io(format!("listing data files failed: {e}")))??;
        let writing: HashSet<String> = self.writing.keys().into_iter().collect();
        let mut named = HashSet::new();
        for v in self.versions(bucket, name).await? {
            named.extend(self.read_commit(bucket, name, v).await?.files.into_iter().map(|f| f.path));
        }
        let prefix = Store::df_prefix(bucket, name);
        let orphans: Vec<std::path::PathBuf> = listed
            .into_iter()
            .filter(|(_, relative)| !named.contains(relative) && !writing.contains(&format!("{prefix}/{relative}")))
            .map(|(path, _)| path)
            .collect();
        tokio::task::spawn_blocking(move || {
            let mut removed = 0;
            for path in orphans {
                match std::fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(DaemonError::Io(format!("cannot delete {}: {e}", path.display()))),
                }
            }
            Ok(removed)
        })
        .await
        .map_err(|e| DaemonError::Io(format!("deleting data files failed: {e}")))?
    }

    /// After a put: many small files make reads slow, so compact (and
    /// vacuum) in the background, one run per dataframe at a time.
    pub fn maybe_compact_in_background(self: &Arc<Self>, bucket: &BucketId, name: &Name, files: usize) {
        if files < self.options.compact_files {
            return;
        }
        let key = (bucket.clone(), name.clone());
        if !self.compacting.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let (bucket, name) = &key;
            match store.compact(bucket, name).await {
                Ok(done) => {
                    tracing::info!(files_before = done.files_before, files_after = done.files_after, "compacted {bucket}/{name}");
                    if let Err(e) = store.vacuum(bucket, name, store.options.retain_versions).await {
                        tracing::warn!("vacuum of {bucket}/{name} failed: {e}");
                    }
                }
                Err(e) => tracing::info!("background compaction of {bucket}/{name} skipped: {e}"),
            }
            store.compacting.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        });
    }
}

/// How long a data file no version names must have been left alone before
/// vacuum deletes it.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// The files in a dataframe's `data` directory last modified more than
/// [`ORPHAN_AGE`] ago, each with the path a commit would name it by
/// (`data/NAME`, without an unfinished upload's `#N` suffix).
fn old_files(dir: &std::path::Path) -> Result<Vec<(std::path::PathBuf, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DaemonError::Io(format!("cannot list {}: {e}", dir.display()))),
    };
    let cutoff = SystemTime::now().checked_sub(ORPHAN_AGE).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut old = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DaemonError::Io(format!("cannot list {}: {e}", dir.display())))?;
        let Ok(meta) = entry.metadata() else { continue };
        let Some(file_name) = entry.file_name().to_str().map(String::from) else { continue };
        if !meta.is_file() || meta.modified().map_or(true, |m| m > cutoff) {
            continue;
        }
        let committed_name = file_name.split_once('#').map_or(file_name.as_str(), |(base, _)| base);
        old.push((entry.path(), format!("data/{committed_name}")));
    }
    Ok(old)
}

fn changed(name: &Name) -> DaemonError {
    DaemonError::Io(format!("dataframe {name} was replaced or deleted during compaction; nothing changed"))
}
