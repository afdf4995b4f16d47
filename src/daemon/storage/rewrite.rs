//! Changing rows in place: upsert, row deletes and retention all remove
//! the rows a [`Selection`] matches from the current version, and an upsert
//! adds its upload after what is left.
//!
//! Only row groups that hold a matching row are rewritten. The Parquet
//! statistics of each row group rule most out without reading them; the
//! rest have the columns the selection needs read (pass 1), and only
//! those with a match are read whole and written again without the
//! matching rows (pass 2). The row groups around them stay in their file:
//! the new version names that file again with a byte range for each run
//! of untouched row groups, so a change costs the row groups it touches,
//! not the dataframe.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::kernels::boolean::not;
use arrow::compute::{concat, filter_record_batch, prep_null_mask_filter};
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::datasource::physical_plan::parquet::{ParquetAccessPlan, ParquetFileMetrics, RowGroupAccessPlanFilter};
use datafusion::logical_expr::{lit, Expr, ExprSchemable};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};
use parquet::file::metadata::ParquetMetaData;

use super::deleted;
use super::in_use::Held;
use super::layout;
use super::log::{Commit, DataFile, Operation, RowChanges};
use super::read::{self, Piece};
use super::write::DataWriter;
use super::{BucketId, Name, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

/// Which rows of a batch (of a selection's columns) it matches.
type Matcher = Box<dyn Fn(&RecordBatch) -> Result<BooleanArray> + Send + Sync>;

/// Which rows a change removes.
pub(super) struct Selection {
    /// The columns `matches` looks at (some of the dataframe's).
    columns: SchemaRef,
    matches: Matcher,
    /// Row groups this prunes hold no matching row.
    may_match: Option<Arc<PruningPredicate>>,
    /// Row groups this prunes hold nothing but matching rows.
    all_match: Option<Arc<PruningPredicate>>,
}

impl Selection {
    /// The rows where the SQL predicate `sql` is true.
    pub(super) fn sql(schema: &SchemaRef, sql: &str) -> Result<Selection> {
        let ctx = SessionContext::new();
        let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let expr = ctx.parse_sql_expr(sql, &df_schema)?;
        let kind = expr.get_type(&df_schema)?;
        if kind != DataType::Boolean && kind != DataType::Null {
            return Err(DaemonError::DataFusion(format!("the predicate {sql:?} is {kind}, not a boolean")));
        }
        Selection::of(schema, expr, None)
    }

    /// The rows whose `time_col` is before `cutoff_ns` (Unix nanoseconds).
    pub(super) fn older_than(schema: &SchemaRef, time_col: &str, cutoff_ns: i64) -> Result<Selection> {
        let field = schema.field_with_name(time_col).map_err(|_| {
            DaemonError::InvalidArgument(format!("the retention's column {time_col:?} is not in the dataframe"))
        })?;
        let cutoff = time_scalar(field.data_type(), cutoff_ns).ok_or_else(|| {
            DaemonError::InvalidArgument(format!(
                "the retention's column {time_col:?} is {}, not a timestamp or date",
                field.data_type()
            ))
        })?;
        let column = Expr::Column(Column::from_name(time_col));
        let older = column.clone().lt(lit(cutoff.clone()));
        let newer_or_null = column.clone().gt_eq(lit(cutoff)).or(column.is_null());
        Selection::of(schema, older, Some(newer_or_null))
    }

    /// The rows whose key columns hold a key of `keys`.
    pub(super) fn keys(schema: &SchemaRef, keys: Arc<KeySet>) -> Result<Selection> {
        let columns = project(schema, &keys.columns);
        let may_match = keys.bounds().map(|bounds| pruning(schema, bounds)).transpose()?.flatten();
        Ok(Selection { columns, matches: Box::new(move |batch| keys.contains(batch)), may_match, all_match: None })
    }

    /// The rows where `matching` is true; `not_matching`, when given, is
    /// true of every other row (so row groups it rules out go unread).
    fn of(schema: &SchemaRef, matching: Expr, not_matching: Option<Expr>) -> Result<Selection> {
        let mut names: Vec<String> = matching.column_refs().into_iter().map(|c| c.name.clone()).collect();
        if names.is_empty() {
            // Something must be read to count the rows.
            names.extend(schema.fields().first().map(|f| f.name().clone()));
        }
        let columns = project(schema, &names);
        let ctx = SessionContext::new();
        let projected = DFSchema::try_from(columns.as_ref().clone())?;
        let evaluate = ctx.create_physical_expr(matching.clone(), &projected)?;
        let matches = move |batch: &RecordBatch| -> Result<BooleanArray> {
            let value = evaluate.evaluate(batch)?.into_array(batch.num_rows())?;
            let value = value.as_any().downcast_ref::<BooleanArray>().cloned().unwrap_or_else(|| {
                // A predicate of type null (`where null`) matches nothing.
                BooleanArray::from(vec![false; batch.num_rows()])
            });
            // Null is no match.
            Ok(if value.null_count() > 0 { prep_null_mask_filter(&value) } else { value })
        };
        Ok(Selection {
            columns,
            matches: Box::new(matches),
            may_match: pruning(schema, matching)?,
            all_match: not_matching.map(|e| pruning(schema, e)).transpose()?.flatten(),
        })
    }
}

/// `schema`'s fields named in `names`, in `schema`'s order.
fn project(schema: &SchemaRef, names: &[String]) -> SchemaRef {
    let fields: Vec<_> = schema.fields().iter().filter(|f| names.contains(f.name())).cloned().collect();
    Arc::new(Schema::new(fields))
}

/// A statistics test for `expr`, when DataFusion can make one.
fn pruning(schema: &SchemaRef, expr: Expr) -> Result<Option<Arc<PruningPredicate>>> {
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let physical: Arc<dyn PhysicalExpr> = SessionContext::new().create_physical_expr(expr, &df_schema)?;
    Ok(PruningPredicateBuilder::new().with_file_schema(schema.clone()).build(physical))
}

/// `ns` (Unix nanoseconds) as a value of a timestamp or date column.
fn time_scalar(kind: &DataType, ns: i64) -> Option<ScalarValue> {
    Some(match kind {
        DataType::Timestamp(unit, tz) => {
            let tz = tz.clone();
            match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(ns.div_euclid(1_000_000_000)), tz),
                TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(ns.div_euclid(1_000_000)), tz),
                TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(ns.div_euclid(1_000)), tz),
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(ns), tz),
            }
        }
        DataType::Date32 => ScalarValue::Date32(Some(ns.div_euclid(86_400_000_000_000) as i32)),
        DataType::Date64 => ScalarValue::Date64(Some(ns.div_euclid(1_000_000))),
        _ => return None,
    })
}

type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// The keys of an upsert's upload, each once.
pub(super) struct KeySet {
    columns: Vec<String>,
    seen: Seen,
    /// Per key column: the smallest and largest key, and whether a null is one.
    bounds: Vec<(Option<ScalarValue>, Option<ScalarValue>, bool)>,
}

impl KeySet {
    /// `keys` must name columns of `schema`, each once.
    pub(super) fn new(schema: &Schema, keys: &[String]) -> Result<KeySet> {
        if keys.is_empty() {
            return Err(DaemonError::InvalidArgument(
                "an upsert needs \"keys\": the columns that identify a row".into(),
            ));
        }
        let mut types = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                return Err(DaemonError::InvalidArgument(format!("key column {key:?} is named twice")));
            }
            let field = schema.field_with_name(key).map_err(|_| {
                let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
                DaemonError::InvalidArgument(format!("unknown key column {key:?}: the columns are {names:?}"))
            })?;
            types.push(field.data_type().clone());
        }
        let seen = match (types.as_slice(), fixed_width(&types[0])) {
            // One integer-like key (an id, a timestamp): its bits are the key.
            ([_], Some(width)) => Seen::Fixed { width, keys: FastSet::default(), null: false },
            _ => Seen::Rows {
                converter: RowConverter::new(types.into_iter().map(SortField::new).collect())
                    .map_err(|e| DaemonError::InvalidArgument(format!("these columns cannot be keys: {e}")))?,
                keys: FastSet::default(),
            },
        };
        Ok(KeySet { columns: keys.to_vec(), seen, bounds: vec![(None, None, false); keys.len()] })
    }

    fn key_columns(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
        self.columns
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .cloned()
                    .ok_or_else(|| DaemonError::internal("key column", format!("{c} missing")))
            })
            .collect()
    }

    /// Takes note of the keys of `batch`; a key seen before is an error.
    pub(super) fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let columns = self.key_columns(batch)?;
        if let Some(i) = self.seen.insert_all(&columns)? {
            let key: Vec<String> = self
                .columns
                .iter()
                .zip(&columns)
                .map(|(name, c)| {
                    let value = arrow::util::display::array_value_to_string(c, i).unwrap_or_default();
                    format!("{name}={value}")
                })
                .collect();
            return Err(DaemonError::InvalidArgument(format!(
                "the upload holds the key ({}) more than once; an upsert needs each key once; nothing written",
                key.join(", ")
            )));
        }
        for (column, (low, high, null)) in columns.iter().zip(&mut self.bounds) {
            *null |= column.null_count() > 0;
            for (is_min, bound) in [(true, &mut *low), (false, &mut *high)] {
                let Some(extreme) = extreme(column, is_min)? else { continue };
                let better = match bound.as_ref() {
                    None => true,
                    Some(b) => extreme.partial_cmp(b).is_some_and(|o| if is_min { o.is_lt() } else { o.is_gt() }),
                };
                if better {
                    *bound = Some(extreme);
                }
            }
        }
        Ok(())
    }

    /// Which rows of `batch` (which has the key columns) hold one of the keys.
    fn contains(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        self.seen.contains_all(&self.key_columns(batch)?)
    }

    /// True of every row whose key may be one of the keys: each key column
    /// between its smallest and largest key (or null, if a key is).
    fn bounds(&self) -> Option<Expr> {
        let mut all: Option<Expr> = None;
        for (name, (low, high, null)) in self.columns.iter().zip(&self.bounds) {
            let column = Expr::Column(Column::from_name(name.as_str()));
            let mut term = match (low, high) {
                (Some(low), Some(high)) => Some(column.clone().between(lit(low.clone()), lit(high.clone()))),
                _ => None,
            };
            if *null {
                term = Some(match term {
                    Some(t) => t.or(column.is_null()),
                    None => column.is_null(),
                });
            }
            // No bound at all means no key: nothing can match.
            let term = term.unwrap_or_else(|| lit(false));
            all = Some(match all {
                Some(a) => a.and(term),
                None => term,
            });
        }
        all
    }
}

/// The keys seen, as the bits of one integer-like column or in Arrow's row format.
enum Seen {
    Fixed { width: usize, keys: FastSet<u64>, null: bool },
    Rows { converter: RowConverter, keys: FastSet<Box<[u8]>> },
}

/// The byte width of a type whose values are equal exactly when their bits are.
fn fixed_width(kind: &DataType) -> Option<usize> {
    use DataType::*;
    match kind {
        Int8 | UInt8 => Some(1),
        Int16 | UInt16 => Some(2),
        Int32 | UInt32 | Date32 | Time32(_) => Some(4),
        Int64 | UInt64 | Date64 | Time64(_) | Timestamp(..) | Duration(_) => Some(8),
        _ => None,
    }
}

/// The values of a fixed-width column as bits, `None` for a null.
fn bits(column: &ArrayRef, width: usize) -> impl Iterator<Item = Option<u64>> + '_ {
    let data = column.to_data();
    let buffer = data.buffers()[0].clone();
    let offset = data.offset() * width;
    (0..column.len()).map(move |i| {
        let bytes = &buffer.as_slice()[offset..];
        column.is_valid(i).then(|| {
            let mut word = [0u8; 8];
            word[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
            u64::from_le_bytes(word)
        })
    })
}

impl Seen {
    /// Adds the keys of `columns`; the row of the first one seen before, if any.
    fn insert_all(&mut self, columns: &[ArrayRef]) -> Result<Option<usize>> {
        match self {
            Seen::Fixed { width, keys, null } => {
                for (i, key) in bits(&columns[0], *width).enumerate() {
                    let new = match key {
                        Some(k) => keys.insert(k),
                        None => !std::mem::replace(null, true),
                    };
                    if !new {
                        return Ok(Some(i));
                    }
                }
                Ok(None)
            }
            Seen::Rows { converter, keys } => {
                let rows = converter.convert_columns(columns).map_err(internal)?;
                Ok(rows.iter().position(|row| !keys.insert(row.as_ref().into())))
            }
        }
    }

    fn contains_all(&self, columns: &[ArrayRef]) -> Result<BooleanArray> {
        match self {
            Seen::Fixed { width, keys, null } => {
                Ok(bits(&columns[0], *width).map(|key| Some(key.map_or(*null, |k| keys.contains(&k)))).collect())
            }
            Seen::Rows { converter, keys } => {
                let rows = converter.convert_columns(columns).map_err(internal)?;
                Ok(rows.iter().map(|r| Some(keys.contains(r.as_ref()))).collect())
            }
        }
    }
}

/// The smallest (or largest) non-null value of `column`, where it has an order.
fn extreme(column: &ArrayRef, smallest: bool) -> Result<Option<ScalarValue>> {
    if column.null_count() == column.len() {
        return Ok(None);
    }
    let options = arrow::compute::SortOptions { descending: !smallest, nulls_first: false };
    let Ok(index) = arrow::compute::sort_to_indices(column, Some(options), Some(1)) else { return Ok(None) };
    Ok(Some(ScalarValue::try_from_array(column, index.value(0) as usize)?))
}

fn internal(e: impl Into<crate::daemon::error::BoxError>) -> DaemonError {
    DaemonError::internal("comparing keys", e)
}

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

async fn plan_entry(store: &Store, snap: &Snapshot, entry: &DataFile, selection: &Selection) -> Result<EntryPlan> {
    let meta = read::footer(store, snap, entry).await?;
    let groups = read::row_groups_of(&meta, entry);
    let old = store.deleted.load(store.os.as_ref(), snap, entry).await?;
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
            let parts: Vec<&dyn Array> = parts.iter().map(|p| p as &dyn Array).collect();
            let mask = concat(&parts).map_err(|e| DaemonError::internal("row mask", e))?;
            let mask = mask.as_any().downcast_ref::<BooleanArray>().cloned().expect("boolean");
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
            });
        } else {
            let partial: Vec<usize> = run.iter().copied().filter(|g| masks.contains_key(g)).collect();
            if !partial.is_empty() {
                let keep: Vec<BooleanArray> = partial
                    .iter()
                    .map(|g| not(&masks[g]))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| DaemonError::internal("row mask", e))?;
                let keep: Vec<&dyn Array> = keep.iter().map(|k| k as &dyn Array).collect();
                let keep = concat(&keep).map_err(|e| DaemonError::internal("row mask", e))?;
                let keep = keep.as_any().downcast_ref::<BooleanArray>().cloned().expect("boolean");
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
        commit.small_tail(store.options.file_rows)
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
                        Err(DaemonError::Io("moved".into()))
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
        Err(DaemonError::Io(format!(
            "dataframe {name} kept changing during the {}; nothing changed",
            change.operation.as_str()
        )))
    }
    .await;
    // Files of plans that were never committed go.
    let mut uncommitted: Vec<&EntryPlan> = discarded.iter().collect();
    if !matches!(&result, Ok(outcome) if outcome.committed) {
        uncommitted.extend(plans.iter().map(|(_, p)| p));
    }
    let paths: Vec<_> =
        uncommitted.iter().flat_map(|p| &p.written).map(|f| layout::data_file(bucket, name, f)).collect();
    if !paths.is_empty() {
        store.delete_paths(paths).await.ok();
    }
    result
}
