//! Keeping dataframes fast and small: compaction of many small files into
//! few, and vacuum of what no retained version needs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectMeta;
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use super::data_writer::DataWriter;
use super::layout;
use super::location::Unfinished;
use super::log::{Commit, DataFile, Log, Operation};
use super::{pins, read};
use super::{BucketId, Name, Snapshot, Store};
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
    /// Files no retained version needs that wait out the grace period.
    pub files_waiting: usize,
}

/// Which files a compaction rewrites.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tail {
    /// Every file from the first that is not full ([`Commit::small_tail`]):
    /// what `shoots compact` asks for.
    Whole,
    /// The small files and the tiers no bigger than them
    /// ([`Commit::tiered_tail`]): the daemon's own, after puts.
    Tiered,
}

/// [`Store::compact`].
pub(super) async fn compact(store: &Store, bucket: &BucketId, name: &Name, which: Tail) -> Result<CompactOutcome> {
    let snap = store.snapshot(bucket, name, None).await?;
    let before = snap.commit.files.len();
    let tail = match which {
        Tail::Whole => snap.commit.small_tail(store.options.file_rows),
        Tail::Tiered => snap.commit.tiered_tail(store.options.file_rows),
    };
    // Entries with deleted rows are never full: they are in the tail.
    if tail == 0 || (tail == 1 && !snap.commit.marks_deleted_rows()) {
        return Ok(CompactOutcome { version: None, files_before: before, files_after: before });
    }
    let kept = before - tail;
    let rows = read::scan_files(store, &snap, &snap.commit.files[kept..]);
    let (new_files, _writing) = DataWriter::new(store, bucket, name, snap.schema.clone()).write_all(rows).await?;
    let committed = commit_compaction(store, &snap, kept, &new_files).await;
    match committed {
        Ok(commit) => {
            Ok(CompactOutcome { version: Some(commit.version), files_before: before, files_after: commit.files.len() })
        }
        Err(e) => {
            store.discard_written(bucket, name, &new_files, &e).await;
            Err(e)
        }
    }
}

/// Commits `new_files` (the rows of `snap`'s files after the first `kept`,
/// rewritten) in their place. Like Delta Lake's and Iceberg's conflict
/// checks, it conflicts only with a commit that removed one of `snap`'s
/// files (a replace, a delete, another compaction): appends committed
/// meanwhile only added files, and stay after the compacted rows.
pub(super) async fn commit_compaction(
    store: &Store,
    snap: &Snapshot,
    kept: usize,
    new_files: &[DataFile],
) -> Result<Commit> {
    let (bucket, name) = (&snap.bucket, &snap.name);
    let old: Vec<&str> = snap.commit.files.iter().map(|f| f.path.as_str()).collect();
    let mut conflict_at = None;
    let committed = store
        .commit(bucket, name, |head| {
            let head = head.ok_or_else(|| changed(name))?;
            let still_there = head.operation != Operation::Delete
                && head.files.len() >= old.len()
                && head.files.iter().zip(&snap.commit.files).all(|(f, o)| f == o);
            if !still_there {
                conflict_at = Some(head.version);
                return Err(changed(name));
            }
            let mut files = head.files[..kept].to_vec();
            files.extend_from_slice(new_files);
            files.extend(head.files[old.len()..].iter().cloned());
            let removed = Commit::gone(&head.files, &files);
            Ok(Commit::new(
                head.version + 1,
                Operation::Compact,
                new_files.to_vec(),
                removed,
                files,
                &*head.decode_schema()?,
            )?
            .with_retention(head.retention.clone()))
        })
        .await;
    match (committed, conflict_at) {
        (Err(_), Some(head)) => Err(conflict(store, snap, &old, head).await),
        (result, _) => result,
    }
}

/// Names the commit that took files away from under a compaction.
async fn conflict(store: &Store, snap: &Snapshot, old: &[&str], head: u64) -> DaemonError {
    let log = store.log(&snap.bucket, &snap.name);
    for version in snap.commit.version + 1..=head {
        let Ok(commit) = log.read(version).await else { continue };
        let took_files = commit.remove.iter().any(|r| old.contains(&r.as_str()));
        if took_files || commit.operation == Operation::Delete {
            return DaemonError::Conflict(format!(
                "dataframe {} changed during compaction: version {version} ({}) removed files it was rewriting; nothing changed",
                snap.name,
                commit.operation.as_str()
            ));
        }
    }
    changed(&snap.name)
}

fn changed(name: &Name) -> DaemonError {
    DaemonError::Conflict(format!("dataframe {name} was replaced or deleted during compaction; nothing changed"))
}

/// [`Store::vacuum`]: old versions first, then what waited out the grace
/// period, then what no version names.
pub(super) async fn vacuum(store: &Store, bucket: &BucketId, name: &Name, retain: usize) -> Result<VacuumOutcome> {
    let mut outcome = remove_old_versions(store, bucket, name, retain).await?;
    // After that, so that with no grace period what it listed goes at once.
    let cutoff = SystemTime::now().checked_sub(store.options.grace).unwrap_or(SystemTime::UNIX_EPOCH);
    // Old files listed first, then what is being written, then what the
    // log names: a put that finishes in between is in the second or the third.
    let candidates = Orphans::list(store, bucket, name, cutoff).await?;
    let writing: HashSet<String> = store.writing.keys().into_iter().collect();
    let log = store.log(bucket, name);
    // What a named snapshot pins is named too, whether or not a log entry still is.
    let mut named = pins::pinned_files(store, bucket, name).await?;
    for (v, meta) in log.entries().await? {
        if let Some(commit) = read_unless_vacuumed(&log, v, &meta).await? {
            named.extend(commit.files.iter().flat_map(DataFile::paths).map(String::from));
        }
    }
    let unused = |relative: &str| {
        !named.contains(relative) && !writing.contains(layout::data_file(bucket, name, relative).as_ref())
    };
    // Files on vacuum's lists are not orphans: they go with their list. The
    // lists name every file of the grace period (hundreds of thousands
    // under steady small appends), so they are read one at a time and only
    // the old files' names are kept.
    let mut listed = HashSet::new();
    for (path, since) in pending_lists(store, bucket, name).await? {
        let Some(files) = read_pending_list(store, &path).await? else { continue };
        if since > cutoff {
            outcome.files_waiting += files.len();
        } else {
            let due = files.iter().filter(|f| unused(f)).map(|f| layout::data_file(bucket, name, f));
            outcome.files_deleted += store.delete_paths(due.collect()).await?;
            store.delete_paths(vec![path]).await?;
        }
        listed.extend(files.into_iter().filter(|f| candidates.holds(f)));
    }
    outcome.files_deleted += candidates.remove(store, |f| unused(f) && !listed.contains(f)).await?;
    remove_unfinished_entries(store, bucket, name, cutoff).await?;
    Ok(outcome)
}

/// A log entry or a vacuum list whose write a crash cut short: its staging
/// file is never read (only whole entries are), so it goes once it is older
/// than the grace period, when no daemon can still be writing it. Not
/// counted: no data went with it.
async fn remove_unfinished_entries(store: &Store, bucket: &BucketId, name: &Name, cutoff: SystemTime) -> Result<()> {
    let location = store.location.clone();
    let dirs = [layout::log_dir(bucket, name).to_string(), layout::pending_dir(bucket, name).to_string()];
    blocking(move || {
        for dir in dirs {
            for upload in location.unfinished_uploads(&dir, cutoff)? {
                upload.remove()?;
            }
        }
        Ok(())
    })
    .await
}

/// Puts `files` (no longer needed by whoever held them: a named snapshot
/// that went) on vacuum's list, to be deleted after the grace period unless
/// a version or another snapshot names them by then.
pub(super) async fn release(store: &Store, bucket: &BucketId, name: &Name, files: Vec<String>) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_vec(&PendingFiles { files })
        .map_err(|e| DaemonError::internal("cannot encode vacuum's list", e))?;
    store.os.put(&layout::pending_removal(bucket, name, now_ms()), body.into()).await?;
    Ok(())
}

/// Deletes the log entries of all but the newest `retain` versions; the
/// data files only they used are listed for deletion after the grace
/// period, since a read on another daemon may have begun before.
async fn remove_old_versions(store: &Store, bucket: &BucketId, name: &Name, retain: usize) -> Result<VacuumOutcome> {
    // No snapshot is taken until the old entries are gone: one read before
    // is held (and so kept) by now, one read after is of a kept version.
    let _gate = super::of_frame(&store.gates, bucket, name).write_owned().await;
    let log = store.log(bucket, name);
    let retain = retain.max(1);
    let entries = log.entries().await?;
    if entries.len() <= retain {
        return Ok(VacuumOutcome::default());
    }
    let (old, kept) = entries.split_at(entries.len() - retain);
    // A version someone is reading here stays, with its files, until they are done.
    let read: HashSet<u64> =
        store.reading.keys().into_iter().filter(|(b, n, _)| b == bucket && n == name).map(|(.., v)| v).collect();
    let (old, held): (Vec<_>, Vec<_>) = old.iter().partition(|(v, _)| !read.contains(v));
    let mut needed = HashSet::new();
    for (v, meta) in kept.iter().chain(held) {
        if let Some(commit) = read_unless_vacuumed(&log, *v, meta).await? {
            needed.extend(commit.files.iter().flat_map(DataFile::paths).map(String::from));
        }
    }
    let mut unneeded = std::collections::BTreeSet::new();
    for (v, meta) in &old {
        let Some(commit) = read_unless_vacuumed(&log, *v, meta).await? else { continue };
        let named = commit.files.iter().flat_map(DataFile::paths).map(String::from);
        unneeded.extend(named.chain(commit.remove).filter(|p| !needed.contains(p)));
    }
    // Listed before the entries go: a crash in between leaves a list whose
    // files are still named, and those are never deleted.
    release(store, bucket, name, unneeded.into_iter().collect()).await?;
    // Log entries next: once gone, no reader can ask for those versions.
    store.delete_paths(old.iter().map(|(_, meta)| meta.location.clone()).collect()).await?;
    Ok(VacuumOutcome { versions_removed: old.len(), ..VacuumOutcome::default() })
}

/// A listed version, or `None` when another vacuum (of this daemon or
/// another) removed it since the listing. That vacuum put the files only
/// it named on its list before removing it, so they are neither lost nor
/// taken for orphans.
async fn read_unless_vacuumed(log: &Log<'_>, version: u64, meta: &ObjectMeta) -> Result<Option<Commit>> {
    match log.read_listed(version, meta).await {
        Ok(commit) => Ok(Some(commit)),
        Err(DaemonError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[derive(Serialize, Deserialize)]
struct PendingFiles {
    files: Vec<String>,
}

/// Data files vacuum took out of every retained version, waiting out the
/// grace period: `<df>/_vacuum/<unix ms>-<uuid>.json`.
pub(super) struct PendingRemoval {
    pub path: Path,
    /// Relative to the dataframe, as commits name them.
    pub files: Vec<String>,
}

/// Vacuum's lists, each with when it was made.
async fn pending_lists(store: &Store, bucket: &BucketId, name: &Name) -> Result<Vec<(Path, SystemTime)>> {
    let listed: Vec<Path> =
        store.os.list(Some(&layout::pending_dir(bucket, name))).map_ok(|m| m.location).try_collect().await?;
    Ok(listed
        .into_iter()
        .filter_map(|path| {
            let ms = path.filename()?.split('-').next()?.parse::<u64>().ok()?;
            Some((path, SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms)))
        })
        .collect())
}

/// The files on one of vacuum's lists (relative to the dataframe); `None`
/// when another daemon's vacuum finished it meanwhile.
async fn read_pending_list(store: &Store, path: &Path) -> Result<Option<Vec<String>>> {
    let body = match store.os.get(path).await {
        Ok(got) => got.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let listed: PendingFiles =
        serde_json::from_slice(&body).map_err(|e| DaemonError::Io(format!("corrupt vacuum list {path}: {e}")))?;
    Ok(Some(listed.files))
}

/// Every list of vacuum's, read whole (for a delete of the dataframe).
pub(super) async fn pending_removals(store: &Store, bucket: &BucketId, name: &Name) -> Result<Vec<PendingRemoval>> {
    let mut pending = Vec::new();
    for (path, _) in pending_lists(store, bucket, name).await? {
        if let Some(files) = read_pending_list(store, &path).await? {
            pending.push(PendingRemoval { path, files });
        }
    }
    Ok(pending)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Data files untouched since `cutoff`: what a put cut short by a crash
/// left behind, finished files and unfinished uploads alike, if no version
/// names them and no put writes them. The age matters because a put on
/// another daemon of the same store may not have committed them yet.
struct Orphans {
    /// Paths relative to the dataframe (as commits name files), each with
    /// the object or the upload.
    finished: HashMap<String, Path>,
    unfinished: HashMap<String, Unfinished>,
}

impl Orphans {
    async fn list(store: &Store, bucket: &BucketId, name: &Name, cutoff: SystemTime) -> Result<Orphans> {
        let data_dir = layout::data_dir(bucket, name);
        let frame_dir = layout::frame_dir(bucket, name);
        let relative = |path: &Path| {
            path.prefix_match(&frame_dir)
                .map(|parts| parts.map(|p| p.as_ref().to_string()).collect::<Vec<_>>().join("/"))
        };
        let finished: Vec<Path> = store
            .os
            .list(Some(&data_dir))
            .try_filter_map(|meta| async move {
                Ok((SystemTime::from(meta.last_modified) <= cutoff).then_some(meta.location))
            })
            .try_collect()
            .await?;
        // The disk is read and written off the async threads, as before object_store.
        let (location, dir) = (store.location.clone(), data_dir.to_string());
        let unfinished = blocking(move || location.unfinished_uploads(&dir, cutoff)).await?;
        Ok(Orphans {
            finished: finished.into_iter().filter_map(|p| Some((relative(&p)?, p))).collect(),
            unfinished: unfinished
                .into_iter()
                .filter_map(|u| Some((relative(&data_dir.clone().join(u.target.as_str()))?, u)))
                .collect(),
        })
    }

    /// Whether `relative` is one of them.
    fn holds(&self, relative: &str) -> bool {
        self.finished.contains_key(relative) || self.unfinished.contains_key(relative)
    }

    /// Deletes those whose path relative to the dataframe is `orphan`;
    /// returns how many went.
    async fn remove(self, store: &Store, orphan: impl Fn(&str) -> bool) -> Result<usize> {
        let finished: Vec<Path> = self.finished.into_iter().filter(|(r, _)| orphan(r)).map(|(_, p)| p).collect();
        let mut removed = store.delete_paths(finished).await?;
        let unfinished: Vec<_> = self.unfinished.into_iter().filter(|(r, _)| orphan(r)).map(|(_, u)| u).collect();
        removed += blocking(move || {
            let mut removed = 0;
            for upload in unfinished {
                removed += usize::from(upload.remove()?);
            }
            Ok(removed)
        })
        .await?;
        Ok(removed)
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| DaemonError::internal("a file system task failed", e))?
}

/// [`Store::maybe_compact_in_background`].
pub(super) fn maybe_compact_in_background(store: &Arc<Store>, bucket: &BucketId, name: &Name, small_files: usize) {
    if store.options.compact_files == 0 || small_files < store.options.compact_files {
        return;
    }
    // One compaction of a dataframe at a time in this daemon: when one
    // runs (in the background or asked for), this one is not needed.
    let Ok(one_at_a_time) = store.compaction_lock(bucket, name).try_lock_owned() else {
        return;
    };
    let (store, bucket, name) = (store.clone(), bucket.clone(), name.clone());
    tokio::spawn(async move {
        let _one_at_a_time = one_at_a_time;
        match compact(&store, &bucket, &name, Tail::Tiered).await {
            Ok(done) => {
                tracing::info!(
                    files_before = done.files_before,
                    files_after = done.files_after,
                    "compacted {bucket}/{name}"
                );
                if let Err(e) = store.vacuum(&bucket, &name, store.options.retain_versions).await {
                    tracing::warn!("vacuum of {bucket}/{name} failed: {}", e.chain());
                }
            }
            Err(e) => tracing::info!("background compaction of {bucket}/{name} skipped: {e}"),
        }
    });
}
