//! Changing rows in place: upsert, row deletes and retention all remove
//! the rows a [`Selection`] matches from the current version, and an upsert
//! adds its upload after what is left.
//!
//! Only row groups that hold a matching row change. The Parquet statistics
//! of each row group rule most out without reading them; the rest have the
//! columns the selection needs read (pass 1). A row group that loses more
//! than one row in eight is read whole and written again without them
//! (pass 2); one that loses fewer keeps its rows, marked deleted (see
//! `deleted`). Untouched row groups stay in their file: the new version
//! names that file again with a byte range for each run of them, so a
//! change costs the row groups it touches, not the dataframe.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, RecordBatch};
use arrow::compute::kernels::boolean::not;
use arrow::compute::{concat, filter_record_batch};
use arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::physical_plan::parquet::{ParquetAccessPlan, ParquetFileMetrics, RowGroupAccessPlanFilter};
use datafusion::physical_optimizer::pruning::PruningPredicate;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::{StreamExt, TryStreamExt};
use parquet::file::metadata::ParquetMetaData;

use super::data_writer::DataWriter;
use super::deleted;
use super::in_use::Held;
use super::layout;
use super::log::{Commit, DataFile, Operation, RowChanges};
use super::read::{self, Piece};
pub(super) use super::selection::{KeySet, Selection};
use super::{BucketId, Name, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

/// What one entry of the version becomes.
struct EntryPlan {
    /// Its replacement, in order: ranges of the same file and new files.
    entries: Vec<DataFile>,
    /// Rows it loses.
    removed: u64,
    /// The new data files among `entries`.
    added: Vec<DataFile>,
    /// Every object written for it (data files, deleted rows), kept from
    /// vacuum until committed and deleted if never committed.
    written: Vec<String>,
    _writing: Vec<Held<String>>,
}

/// A change marks rows deleted rather than rewrite their row groups when it
/// takes out at most one in this many of their rows: writing a few
/// positions costs less than encoding the row groups again, and a read
/// skips them for little.
const MARK_AT_MOST_ONE_IN: u64 = 8;

/// The row groups of `groups` that `predicate` does not prune.
fn unpruned(
    predicate: Option<&Arc<PruningPredicate>>,
    schema: &Schema,
    meta: &ParquetMetaData,
    groups: &[usize],
) -> HashSet<usize> {
    let Some(predicate) = predicate else { return groups.iter().copied().collect() };
    let all = meta.row_groups();
    let mut filter = RowGroupAccessPlanFilter::new(ParquetAccessPlan::new_all(all.len()));
    let metrics = ParquetFileMetrics::new(0, "rewrite", &ExecutionPlanMetricsSet::new());
    filter.prune_by_statistics(schema, meta.file_metadata().schema_descr(), all, predicate, &metrics);
    let kept: HashSet<usize> = filter.row_group_indexes().collect();
    groups.iter().copied().filter(|g| kept.contains(g)).collect()
}

/// Masks of consecutive batches as one.
fn concat_masks(parts: &[BooleanArray]) -> Result<BooleanArray> {
    let parts: Vec<&dyn Array> = parts.iter().map(|p| p as &dyn Array).collect();
    let mask = concat(&parts).map_err(|e| DaemonError::internal("row mask", e))?;
    Ok(mask.as_any().downcast_ref::<BooleanArray>().cloned().expect("concat of booleans is boolean"))
}

async fn plan_entry(store: &Store, snap: &Snapshot, entry: &DataFile, selection: &Selection) -> Result<EntryPlan> {
    let meta = read::footer(store, snap, entry).await?;
    let groups = read::row_groups_of(&meta, entry);
    let old = store.deleted.load(store.os.as_ref(), snap.deleted_path(entry).as_ref()).await?;
    let starts = deleted::group_starts(&meta);
    let may_match = unpruned(selection.may_match.as_ref(), &snap.schema, &meta, &groups);
    let some_survive = unpruned(selection.all_match.as_ref(), &snap.schema, &meta, &groups);
    // The positions of a row group's rows that read (those not deleted before).
    let live = |g: usize| (starts[g]..starts[g + 1]).filter(|&p| old.binary_search(&(p as u32)).is_err());
    let live_rows = |g: usize| starts[g + 1] - starts[g] - deleted::within(&old, starts[g], starts[g + 1]).len() as u64;

    // Pass 1: which rows of the row groups that may match do.
    let mut masks: HashMap<usize, BooleanArray> = HashMap::new();
    let mut gone: HashSet<usize> = HashSet::new();
    let mut marks: Vec<u32> = Vec::new();
    let mut removed = 0;
    for &g in &groups {
        if !may_match.contains(&g) {
            continue;
        }
        if !some_survive.contains(&g) {
            gone.insert(g);
            removed += live_rows(g);
            continue;
        }
        let piece = Piece { file: entry.clone(), row_groups: Some(vec![g]) };
        let batches: Vec<RecordBatch> =
            read::read(store, snap, vec![piece], selection.columns.clone()).try_collect().await?;
        let parts = batches.iter().map(|b| (selection.matches)(b)).collect::<Result<Vec<_>>>()?;
        let matched = parts.iter().map(|p| p.true_count()).sum::<usize>() as u64;
        if matched == live_rows(g) {
            gone.insert(g);
        } else if matched > 0 {
            let mask = concat_masks(&parts)?;
            marks.extend(live(g).zip(mask.values().iter()).filter(|(_, hit)| *hit).map(|(p, _)| p as u32));
            masks.insert(g, mask);
        }
        removed += matched;
    }
    let mut plan =
        EntryPlan { entries: Vec::new(), removed, added: Vec::new(), written: Vec::new(), _writing: Vec::new() };
    if masks.is_empty() && gone.is_empty() {
        plan.entries.push(entry.clone());
        return Ok(plan);
    }

    // Few rows out of the row groups they are in: mark them. Then only the
    // row groups that went whole split the entry.
    let partial_rows: u64 = masks.keys().map(|&g| live_rows(g)).sum();
    let mark = !marks.is_empty() && marks.len() as u64 * MARK_AT_MOST_ONE_IN <= partial_rows;
    let (deleted_now, deleted_path) = if mark {
        let mut all = old.as_ref().clone();
        all.extend_from_slice(&marks);
        all.sort_unstable();
        let (path, held) = deleted::save(store, snap, &all).await?;
        plan.written.push(path.clone());
        plan._writing.push(held);
        masks.clear();
        (Arc::new(all), Some(path))
    } else {
        (old.clone(), entry.deleted.as_ref().map(|d| d.path.clone()))
    };

    // Pass 2: runs of untouched row groups stay; the rest lose their matches.
    let touched = |g: &usize| masks.contains_key(g) || gone.contains(g);
    let mut start = 0;
    while start < groups.len() {
        let run_touched = touched(&groups[start]);
        let end = (start..groups.len()).find(|&i| touched(&groups[i]) != run_touched).unwrap_or(groups.len());
        let run = &groups[start..end];
        if !run_touched {
            let whole = run.len() == groups.len();
            let deleted = deleted_path.as_deref().and_then(|p| deleted::entry_rows(p, &meta, run, &deleted_now));
            let rows: u64 =
                run.iter().map(|&g| starts[g + 1] - starts[g]).sum::<u64>() - deleted.as_ref().map_or(0, |d| d.rows);
            plan.entries.push(DataFile {
                path: entry.path.clone(),
                rows,
                bytes: entry.bytes,
                range: if whole {
                    entry.range
                } else {
                    Some(read::range_of(&meta, entry.bytes, run[0], run[run.len() - 1]))
                },
                deleted,
                distinct: entry.distinct.clone(),
            });
        } else {
            let partial: Vec<usize> = run.iter().copied().filter(|g| masks.contains_key(g)).collect();
            if !partial.is_empty() {
                let keep: Vec<BooleanArray> = partial
                    .iter()
                    .map(|g| not(&masks[g]))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| DaemonError::internal("row mask", e))?;
                let keep = concat_masks(&keep)?;
                let piece = Piece { file: entry.clone(), row_groups: Some(partial) };
                let mut offset = 0;
                let survivors = read::read(store, snap, vec![piece], snap.schema.clone()).map(move |batch| {
                    let batch = batch?;
                    let rows = keep.slice(offset, batch.num_rows());
                    offset += batch.num_rows();
                    filter_record_batch(&batch, &rows).map_err(|e| DaemonError::internal("dropping rows", e))
                });
                let writer = DataWriter::new(store, &snap.bucket, &snap.name, snap.schema.clone());
                let (files, writing) = writer.write_all(survivors).await?;
                plan.entries.extend(files.iter().cloned());
                plan.written.extend(files.iter().map(|f| f.path.clone()));
                plan.added.extend(files);
                plan._writing.extend(writing);
            }
        }
        start = end;
    }
    Ok(plan)
}

/// A change to commit on top of the rewritten rows.
pub(super) struct Change {
    pub operation: Operation,
    /// Files added after what is left of the rows (an upsert's upload).
    pub add: Vec<DataFile>,
    /// The new version's schema when it differs from the current one's.
    pub schema: Option<SchemaRef>,
}

/// What a change in place did.
#[derive(Debug, Clone, Copy)]
pub struct ChangeOutcome {
    /// The new version, or the current one when nothing changed.
    pub version: u64,
    /// Rows taken out (replaced, for an upsert).
    pub removed: u64,
    pub committed: bool,
    /// Small data files at the end of the version, for deciding on
    /// compaction; a version with rows marked deleted counts as due.
    pub small_files: usize,
}

/// Marked rows make compaction due once they are more than one in this
/// many of the version's: reads skip them cheaply, and folding them in
/// after every small change would cost what marking them saved.
const FOLD_MARKS_ABOVE_ONE_IN: u64 = 8;

fn small_files(store: &Store, commit: &Commit) -> usize {
    let marked: u64 = commit.files.iter().filter_map(|f| f.deleted.as_ref()).map(|d| d.rows).sum();
    if marked * FOLD_MARKS_ABOVE_ONE_IN > commit.rows + marked {
        store.options.compact_files.max(1)
    } else {
        commit.tiered_tail(store.options.file_rows)
    }
}

/// How often a change that keeps losing its commit to appends on other
/// daemons starts over before giving up.
const ATTEMPTS: usize = 32;

/// Removes the rows `select` (made for the current version) matches and
/// commits `change`. Taking turns with compactions and other changes of the
/// dataframe in this daemon; an append committed meanwhile (here or on
/// another daemon) has its files looked at too, so the change applies to
/// every row committed before it; a rewrite that took files away starts over.
pub(super) async fn rewrite<F>(
    store: &Store,
    bucket: &BucketId,
    name: &Name,
    change: Change,
    select: F,
) -> Result<ChangeOutcome>
where
    F: Fn(&Snapshot) -> Result<Selection>,
{
    let _turn = store.compaction_lock(bucket, name).lock_owned().await;
    let mut plans: Vec<(DataFile, EntryPlan)> = Vec::new();
    let mut discarded: Vec<EntryPlan> = Vec::new();
    let mut schema_seen: Option<String> = None;
    let result = async {
        for _ in 0..ATTEMPTS {
            let snap = store.snapshot(bucket, name, None).await?;
            let same_start = schema_seen.as_ref() == Some(&snap.commit.schema)
                && snap.commit.files.len() >= plans.len()
                && plans.iter().zip(&snap.commit.files).all(|((old, _), now)| old == now);
            if !same_start {
                discarded.extend(plans.drain(..).map(|(_, p)| p));
            }
            schema_seen = Some(snap.commit.schema.clone());
            let selection = select(&snap)?;
            for entry in &snap.commit.files[plans.len()..] {
                plans.push((entry.clone(), plan_entry(store, &snap, entry, &selection).await?));
            }
            let removed: u64 = plans.iter().map(|(_, p)| p.removed).sum();
            if removed == 0 && change.add.is_empty() {
                let small_files = small_files(store, &snap.commit);
                return Ok(ChangeOutcome { version: snap.commit.version, removed, committed: false, small_files });
            }
            let files: Vec<DataFile> =
                plans.iter().flat_map(|(_, p)| p.entries.iter().cloned()).chain(change.add.iter().cloned()).collect();
            let add: Vec<DataFile> =
                plans.iter().flat_map(|(_, p)| p.added.iter().cloned()).chain(change.add.iter().cloned()).collect();
            let added: u64 = change.add.iter().map(|f| f.rows).sum();
            let changes = match change.operation {
                Operation::Upsert => {
                    RowChanges { added: added.saturating_sub(removed), updated: removed.min(added), deleted: 0 }
                }
                _ => RowChanges { added, updated: 0, deleted: removed },
            };
            let schema = change.schema.clone().unwrap_or_else(|| snap.schema.clone());
            let mut moved = false;
            let committed = store
                .commit(bucket, name, |head| match head {
                    Some(head) if head.version == snap.commit.version => {
                        let remove = Commit::gone(&head.files, &files);
                        Commit::new(head.version + 1, change.operation, add.clone(), remove, files.clone(), &schema)
                            .map(|c| c.with_retention(head.retention.clone()).with_changes(changes))
                    }
                    _ => {
                        moved = true;
                        Err(DaemonError::Conflict("moved".into()))
                    }
                })
                .await;
            match committed {
                Ok(commit) => {
                    let small_files = small_files(store, &commit);
                    return Ok(ChangeOutcome { version: commit.version, removed, committed: true, small_files });
                }
                Err(_) if moved => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DaemonError::Conflict(format!(
            "dataframe {name} kept changing during the {}; nothing changed",
            change.operation.as_str()
        )))
    }
    .await;
    // Files of plans that were never committed go (those of a commit that
    // may have been made stay).
    let mut uncommitted: Vec<&EntryPlan> = discarded.iter().collect();
    let maybe_committed =
        matches!(&result, Ok(outcome) if outcome.committed) || matches!(&result, Err(e) if e.commit_uncertain());
    if !maybe_committed {
        uncommitted.extend(plans.iter().map(|(_, p)| p));
    }
    let paths: Vec<_> =
        uncommitted.iter().flat_map(|p| &p.written).map(|f| layout::data_file(bucket, name, f)).collect();
    if !paths.is_empty() {
        store.delete_paths(paths).await.ok();
    }
    result
}
