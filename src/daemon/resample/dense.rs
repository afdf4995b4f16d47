//! Resampling by direct indexing, for the aggregations that fold values one
//! at a time (mean, count, sum, min, max of numbers) when the bins from the
//! first timestamp to the last are few enough to hold: every row folds into
//! its bin's slot, with no hashing, and the bin of a run of rows
//! (time-ordered data is all runs) is found once. Each partition of the
//! scan fills its own slots on its own task; the slots are merged at the end.
//!
//! The result has the grouped query's shape (bin number, then one column
//! per source column), so labelling and writing are shared with the SQL
//! path.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Float64Type, Int64Type, Schema, SchemaRef, UInt64Type};
use futures::StreamExt;
use tokio::task::JoinSet;

use super::computing;
use super::{quote, Aggregation, TimeSeries, BATCH_ROWS, BIN, SOURCE};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::QueryEngine;
use crate::daemon::storage::Snapshot;

/// Slots (bins × columns, 16 bytes each at most) held at once over all
/// partitions: 64 MB. Beyond that the grouped query, which streams, does
/// the work.
const MAX_SLOTS: usize = 4 << 20;

/// Where a timestamp's bin is, in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy)]
struct Grid {
    origin: i64,
    unit_nanos: i64,
    rule: i64,
    first_bin: i64,
    bins: usize,
}

impl Grid {
    /// Splits a batch's timestamps (in the column's unit, none null) into
    /// runs of rows that fall in one bin, each with its slot.
    fn runs(&self, times: &[i64]) -> Result<Vec<(usize, Range<usize>)>> {
        let mut runs = Vec::new();
        let mut row = 0;
        while row < times.len() {
            let nanos = |t: i64| t.saturating_mul(self.unit_nanos);
            let bin = (nanos(times[row]).saturating_sub(self.origin)).div_euclid(self.rule);
            let slot = usize::try_from(bin - self.first_bin).ok().filter(|s| *s < self.bins).ok_or_else(|| {
                DaemonError::Io(format!("resample: a timestamp outside the bounds it was planned for (bin {bin})"))
            })?;
            let low = self.origin.saturating_add(bin.saturating_mul(self.rule));
            let high = low.saturating_add(self.rule);
            let start = row;
            row += 1;
            while row < times.len() && (low..high).contains(&nanos(times[row])) {
                row += 1;
            }
            runs.push((slot, start..row));
        }
        Ok(runs)
    }
}

/// How one column is read and added up: what the scan selects, and the
/// type the grouped query would give it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Mean,
    Count,
    SumFloat,
    SumInt,
    SumUInt,
    /// Min or max (`max` true) of floats, signed or unsigned integers, in
    /// 64 bits, cast back to the column's type at the end.
    BestFloat {
        max: bool,
    },
    BestInt {
        max: bool,
    },
    BestUInt {
        max: bool,
    },
}

impl Kind {
    /// `None` for a column this path does not handle.
    fn of(aggregation: Aggregation, t: &DataType) -> Option<Kind> {
        let float = matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64);
        let signed = matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64);
        let unsigned = matches!(t, DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64);
        let max = aggregation == Aggregation::Max;
        Some(match aggregation {
            Aggregation::Mean => Kind::Mean,
            Aggregation::Count => Kind::Count,
            Aggregation::Sum if float => Kind::SumFloat,
            Aggregation::Sum if signed || *t == DataType::Boolean => Kind::SumInt,
            Aggregation::Sum if unsigned => Kind::SumUInt,
            Aggregation::Min | Aggregation::Max if float => Kind::BestFloat { max },
            Aggregation::Min | Aggregation::Max if signed => Kind::BestInt { max },
            Aggregation::Min | Aggregation::Max if unsigned => Kind::BestUInt { max },
            _ => return None,
        })
    }

    fn select(self, column: &str) -> String {
        match self {
            Kind::Count => column.to_string(),
            Kind::Mean | Kind::SumFloat | Kind::BestFloat { .. } => format!("CAST({column} AS DOUBLE)"),
            Kind::SumInt | Kind::BestInt { .. } => format!("CAST({column} AS BIGINT)"),
            Kind::SumUInt | Kind::BestUInt { .. } => format!("CAST({column} AS BIGINT UNSIGNED)"),
        }
    }

    /// The grouped query's type: sums widen (as DataFusion's `sum`),
    /// min and max keep the column's.
    fn output(self, column: &DataType) -> DataType {
        match self {
            Kind::Mean | Kind::SumFloat => DataType::Float64,
            Kind::Count | Kind::SumInt => DataType::Int64,
            Kind::SumUInt => DataType::UInt64,
            Kind::BestFloat { .. } | Kind::BestInt { .. } | Kind::BestUInt { .. } => column.clone(),
        }
    }
}

/// One column's running values, one slot per bin.
enum Acc {
    Mean(Vec<f64>, Vec<u64>),
    Count(Vec<u64>),
    SumFloat(Vec<f64>),
    SumInt(Vec<i64>),
    SumUInt(Vec<u64>),
    BestFloat(Vec<Option<f64>>, bool),
    BestInt(Vec<Option<i64>>, bool),
    BestUInt(Vec<Option<u64>>, bool),
}

/// Calls `f(slot, values)` with the non-null values of `column` in `runs`:
/// a run's whole slice when the column has no nulls (the fast, usual
/// case), else one value at a time.
fn each<T: ArrowPrimitiveType>(
    column: &ArrayRef,
    runs: &[(usize, Range<usize>)],
    mut f: impl FnMut(usize, &[T::Native]),
) {
    let array = column.as_primitive::<T>();
    let values = array.values();
    for (slot, rows) in runs {
        match array.nulls() {
            None => f(*slot, &values[rows.clone()]),
            Some(nulls) => {
                rows.clone().filter(|r| nulls.is_valid(*r)).for_each(|r| f(*slot, std::slice::from_ref(&values[r])))
            }
        }
    }
}

/// Keeps the smaller (or with `max` the larger) of `best` and `value`.
fn keep<T: Copy>(best: &mut Option<T>, value: T, max: bool, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let better = |b: &T| if max { cmp(&value, b).is_gt() } else { cmp(&value, b).is_lt() };
    if best.as_ref().is_none_or(better) {
        *best = Some(value);
    }
}

/// [`keep`] for every value of a slice.
fn keep_all<T: Copy>(best: &mut Option<T>, values: &[T], max: bool, cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Copy) {
    let extreme = if max { values.iter().copied().max_by(cmp) } else { values.iter().copied().min_by(cmp) };
    if let Some(value) = extreme {
        keep(best, value, max, cmp);
    }
}

impl Acc {
    fn new(kind: Kind, bins: usize) -> Acc {
        match kind {
            Kind::Mean => Acc::Mean(vec![0.0; bins], vec![0; bins]),
            Kind::Count => Acc::Count(vec![0; bins]),
            Kind::SumFloat => Acc::SumFloat(vec![0.0; bins]),
            Kind::SumInt => Acc::SumInt(vec![0; bins]),
            Kind::SumUInt => Acc::SumUInt(vec![0; bins]),
            Kind::BestFloat { max } => Acc::BestFloat(vec![None; bins], max),
            Kind::BestInt { max } => Acc::BestInt(vec![None; bins], max),
            Kind::BestUInt { max } => Acc::BestUInt(vec![None; bins], max),
        }
    }

    fn add(&mut self, column: &ArrayRef, runs: &[(usize, Range<usize>)]) {
        match self {
            Acc::Mean(sums, counts) => each::<Float64Type>(column, runs, |s, v| {
                sums[s] += v.iter().sum::<f64>();
                counts[s] += v.len() as u64;
            }),
            Acc::Count(counts) => {
                let nulls = column.logical_nulls();
                for (slot, rows) in runs {
                    let missing = nulls.as_ref().map_or(0, |n| n.slice(rows.start, rows.len()).null_count());
                    counts[*slot] += (rows.len() - missing) as u64;
                }
            }
            Acc::SumFloat(sums) => each::<Float64Type>(column, runs, |s, v| sums[s] += v.iter().sum::<f64>()),
            Acc::SumInt(sums) => {
                each::<Int64Type>(column, runs, |s, v| sums[s] = v.iter().fold(sums[s], |a, b| a.wrapping_add(*b)))
            }
            Acc::SumUInt(sums) => {
                each::<UInt64Type>(column, runs, |s, v| sums[s] = v.iter().fold(sums[s], |a, b| a.wrapping_add(*b)))
            }
            Acc::BestFloat(best, max) => {
                each::<Float64Type>(column, runs, |s, v| keep_all(&mut best[s], v, *max, f64::total_cmp))
            }
            Acc::BestInt(best, max) => {
                each::<Int64Type>(column, runs, |s, v| keep_all(&mut best[s], v, *max, Ord::cmp))
            }
            Acc::BestUInt(best, max) => {
                each::<UInt64Type>(column, runs, |s, v| keep_all(&mut best[s], v, *max, Ord::cmp))
            }
        }
    }

    fn merge(&mut self, other: Acc) {
        fn zip<T>(mine: &mut [T], theirs: Vec<T>, f: impl Fn(&mut T, T)) {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| f(m, t));
        }
        fn best<T: Copy>(
            mine: &mut [Option<T>],
            theirs: Vec<Option<T>>,
            max: bool,
            cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Copy,
        ) {
            zip(mine, theirs, |m, t| {
                if let Some(t) = t {
                    keep(m, t, max, cmp);
                }
            });
        }
        match (self, other) {
            (Acc::Mean(sums, counts), Acc::Mean(s, c)) => {
                zip(sums, s, |m, t| *m += t);
                zip(counts, c, |m, t| *m += t);
            }
            (Acc::Count(counts), Acc::Count(c)) => zip(counts, c, |m, t| *m += t),
            (Acc::SumFloat(sums), Acc::SumFloat(s)) => zip(sums, s, |m, t| *m += t),
            (Acc::SumInt(sums), Acc::SumInt(s)) => zip(sums, s, |m, t| *m = m.wrapping_add(t)),
            (Acc::SumUInt(sums), Acc::SumUInt(s)) => zip(sums, s, |m, t| *m = m.wrapping_add(t)),
            (Acc::BestFloat(b, max), Acc::BestFloat(o, _)) => best(b, o, *max, f64::total_cmp),
            (Acc::BestInt(b, max), Acc::BestInt(o, _)) => best(b, o, *max, Ord::cmp),
            (Acc::BestUInt(b, max), Acc::BestUInt(o, _)) => best(b, o, *max, Ord::cmp),
            _ => unreachable!("partitions fill slots of the same kinds"),
        }
    }

    /// The slots `rows` as a column of type `output`.
    fn array(&self, rows: Range<usize>, output: &DataType) -> Result<ArrayRef> {
        let array: ArrayRef = match self {
            Acc::Mean(sums, counts) => Arc::new(
                counts[rows.clone()]
                    .iter()
                    .zip(&sums[rows])
                    .map(|(n, sum)| (*n > 0).then(|| sum / *n as f64))
                    .collect::<Float64Array>(),
            ),
            Acc::Count(counts) => Arc::new(counts[rows].iter().map(|n| *n as i64).collect::<Int64Array>()),
            Acc::SumFloat(sums) => Arc::new(Float64Array::from(sums[rows].to_vec())),
            Acc::SumInt(sums) => Arc::new(Int64Array::from(sums[rows].to_vec())),
            Acc::SumUInt(sums) => Arc::new(UInt64Array::from(sums[rows].to_vec())),
            Acc::BestFloat(best, _) => Arc::new(Float64Array::from(best[rows].to_vec())),
            Acc::BestInt(best, _) => Arc::new(Int64Array::from(best[rows].to_vec())),
            Acc::BestUInt(best, _) => Arc::new(UInt64Array::from(best[rows].to_vec())),
        };
        Ok(if array.data_type() == output { array } else { arrow::compute::cast(&array, output).map_err(computing)? })
    }
}

/// One partition's slots: per column, one per bin.
struct Slots {
    grid: Grid,
    columns: Vec<Acc>,
}

impl Slots {
    fn new(grid: Grid, kinds: &[Kind]) -> Slots {
        Slots { grid, columns: kinds.iter().map(|k| Acc::new(*k, grid.bins)).collect() }
    }

    /// `batch` is the scan's: timestamps as BIGINT, then the columns.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let runs = self.grid.runs(batch.column(0).as_primitive::<Int64Type>().values())?;
        for (acc, column) in self.columns.iter_mut().zip(batch.columns().iter().skip(1)) {
            acc.add(column, &runs);
        }
        Ok(())
    }

    fn merge(&mut self, other: Slots) {
        self.columns.iter_mut().zip(other.columns).for_each(|(mine, theirs)| mine.merge(theirs));
    }

    /// Every bin from the first to the last, in the grouped query's shape.
    fn into_batches(self, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        for start in (0..self.grid.bins).step_by(BATCH_ROWS) {
            let rows = start..(start + BATCH_ROWS).min(self.grid.bins);
            let bins: Int64Array = rows.clone().map(|r| self.grid.first_bin + r as i64).collect();
            let mut columns: Vec<ArrayRef> = vec![Arc::new(bins)];
            for (acc, field) in self.columns.iter().zip(schema.fields().iter().skip(1)) {
                columns.push(acc.array(rows.clone(), field.data_type())?);
            }
            batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(computing)?);
        }
        Ok(batches)
    }
}

/// The grouped rows of `plan` by direct indexing, or `None` when it does not
/// apply (a function or column type it does not handle, or too many slots
/// to hold).
pub(super) async fn grouped(
    plan: &TimeSeries,
    engine: &QueryEngine,
    snapshot: &Snapshot,
    origin: i64,
    bins: Range<i64>,
) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>> {
    let Some(kinds) =
        plan.columns.iter().map(|c| Kind::of(plan.aggregation, c.data_type())).collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let count = usize::try_from(bins.end - bins.start).unwrap_or(usize::MAX);
    let slots = count.saturating_mul(plan.columns.len().max(1));
    if slots > MAX_SLOTS {
        return Ok(None);
    }
    let grid = Grid { origin, unit_nanos: plan.unit_nanos, rule: plan.rule.nanos, first_bin: bins.start, bins: count };

    let time = quote(&plan.time_col);
    let mut select = vec![plan.binned_time()];
    select.extend(plan.columns.iter().zip(&kinds).map(|(c, k)| k.select(&quote(c.name()))));
    let sql = format!("SELECT {} FROM {SOURCE} WHERE {time} IS NOT NULL", select.join(", "));
    let partitions = engine.snapshot_query(snapshot, SOURCE, &sql, false).await?.execute_stream_partitioned().await?;
    // Each partition fills its own copy, and one more adds them up.
    if slots.saturating_mul(partitions.len() + 1) > MAX_SLOTS {
        return Ok(None);
    }

    // Dropping the set (the request went away) aborts the partitions.
    let mut tasks = JoinSet::new();
    for mut partition in partitions {
        let kinds = kinds.clone();
        tasks.spawn(async move {
            let mut slots = Slots::new(grid, &kinds);
            while let Some(batch) = partition.next().await {
                slots.add(&batch?)?;
            }
            Ok::<_, DaemonError>(slots)
        });
    }
    let mut total = Slots::new(grid, &kinds);
    while let Some(done) = tasks.join_next().await {
        total.merge(done.map_err(|e| DaemonError::Io(format!("resample partition failed: {e}")))??);
    }

    let mut fields = vec![Field::new(BIN, DataType::Int64, false)];
    fields.extend(plan.columns.iter().zip(&kinds).map(|(c, k)| Field::new(c.name(), k.output(c.data_type()), true)));
    let schema = Arc::new(Schema::new(fields));
    let batches = total.into_batches(&schema)?;
    Ok(Some((schema, batches)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_bins_in_any_order() {
        // Bins of 10 units from origin 5; the column is in units of 2 ns.
        let grid = Grid { origin: 5, unit_nanos: 2, rule: 10, first_bin: 0, bins: 4 };
        let times = [3, 4, 7, 8, 12, 20, 3, 4];
        let runs = grid.runs(&times).unwrap();
        assert_eq!(runs, vec![(0, 0..3), (1, 3..5), (3, 5..6), (0, 6..8)]);
        // Outside the planned bins on either side.
        assert!(matches!(grid.runs(&[1]), Err(DaemonError::Io(_))));
        assert!(matches!(grid.runs(&[30]), Err(DaemonError::Io(_))));
    }
}
