//! Resampling by direct indexing, for the aggregations that are running
//! sums (mean, count) when the bins from the first timestamp to the last
//! are few enough to hold: every row adds into its bin's slot, with no
//! hashing, and a run of rows in one bin (time-ordered data is all runs)
//! is summed as a slice. Each partition of the scan fills its own slots on
//! its own task; the slots are added up at the end.
//!
//! The result has the grouped query's shape (bin number, then one column
//! per source column), so labelling and writing are shared with the SQL
//! path.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use futures::StreamExt;
use tokio::task::JoinSet;

use super::{quote, Aggregation, TimeSeries, BATCH_ROWS, BIN, SOURCE};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::QueryEngine;
use crate::daemon::storage::Snapshot;

/// Slots (bins × columns, each a sum and a count) held at once over all
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

/// One partition's sums and counts: per column, one of each per bin.
struct Slots {
    grid: Grid,
    aggregation: Aggregation,
    sums: Vec<Vec<f64>>,
    counts: Vec<Vec<u64>>,
}

impl Slots {
    fn new(grid: Grid, aggregation: Aggregation, columns: usize) -> Slots {
        let sums = match aggregation {
            Aggregation::Mean => vec![vec![0.0; grid.bins]; columns],
            _ => Vec::new(),
        };
        Slots { grid, aggregation, sums, counts: vec![vec![0; grid.bins]; columns] }
    }

    /// `batch` is the scan's: timestamps as BIGINT, then the columns.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let runs = self.grid.runs(batch.column(0).as_primitive::<Int64Type>().values())?;
        for (c, column) in batch.columns().iter().skip(1).enumerate() {
            let counts = &mut self.counts[c];
            let nulls = column.logical_nulls();
            if self.aggregation == Aggregation::Mean {
                let values = column.as_primitive::<Float64Type>().values();
                let sums = &mut self.sums[c];
                for (slot, rows) in &runs {
                    match &nulls {
                        None => {
                            sums[*slot] += values[rows.clone()].iter().sum::<f64>();
                            counts[*slot] += rows.len() as u64;
                        }
                        Some(nulls) => {
                            for row in rows.clone().filter(|r| nulls.is_valid(*r)) {
                                sums[*slot] += values[row];
                                counts[*slot] += 1;
                            }
                        }
                    }
                }
            } else {
                for (slot, rows) in &runs {
                    let missing = nulls.as_ref().map_or(0, |n| n.slice(rows.start, rows.len()).null_count());
                    counts[*slot] += (rows.len() - missing) as u64;
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: Slots) {
        fn add<T: Copy + std::ops::AddAssign>(mine: &mut [Vec<T>], theirs: Vec<Vec<T>>) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                m.iter_mut().zip(t).for_each(|(m, t)| *m += t);
            }
        }
        add(&mut self.sums, other.sums);
        add(&mut self.counts, other.counts);
    }

    /// Every bin from the first to the last, in the grouped query's shape.
    fn into_batches(self, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        for start in (0..self.grid.bins).step_by(BATCH_ROWS) {
            let rows = start..(start + BATCH_ROWS).min(self.grid.bins);
            let bins: Int64Array = rows.clone().map(|r| self.grid.first_bin + r as i64).collect();
            let mut columns: Vec<ArrayRef> = vec![Arc::new(bins)];
            for (c, counts) in self.counts.iter().enumerate() {
                let counts = &counts[rows.clone()];
                columns.push(match self.aggregation {
                    Aggregation::Mean => Arc::new(
                        counts
                            .iter()
                            .zip(&self.sums[c][rows.clone()])
                            .map(|(n, sum)| (*n > 0).then(|| sum / *n as f64))
                            .collect::<Float64Array>(),
                    ),
                    _ => Arc::new(counts.iter().map(|n| *n as i64).collect::<Int64Array>()),
                });
            }
            batches.push(RecordBatch::try_new(schema.clone(), columns)?);
        }
        Ok(batches)
    }
}

/// The grouped rows of `plan` by direct indexing, or `None` when it does not
/// apply (another aggregation, or too many slots to hold).
pub(super) async fn grouped(
    plan: &TimeSeries,
    engine: &QueryEngine,
    snapshot: &Snapshot,
    origin: i64,
    bins: Range<i64>,
) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>> {
    let (value, value_sql): (DataType, fn(&str) -> String) = match plan.aggregation {
        Aggregation::Mean => (DataType::Float64, |c| format!("CAST({c} AS DOUBLE)")),
        Aggregation::Count => (DataType::Int64, |c| c.to_string()),
        _ => return Ok(None),
    };
    let count = usize::try_from(bins.end - bins.start).unwrap_or(usize::MAX);
    let slots = count.saturating_mul(plan.columns.len().max(1));
    if slots > MAX_SLOTS {
        return Ok(None);
    }
    let grid = Grid { origin, unit_nanos: plan.unit_nanos, rule: plan.rule.nanos, first_bin: bins.start, bins: count };

    let time = quote(&plan.time_col);
    let mut select = vec![plan.binned_time()];
    select.extend(plan.columns.iter().map(|c| value_sql(&quote(c.name()))));
    let sql = format!("SELECT {} FROM {SOURCE} WHERE {time} IS NOT NULL", select.join(", "));
    let partitions = engine.snapshot_query(snapshot, SOURCE, &sql, false).await?.execute_stream_partitioned().await?;
    // Each partition fills its own copy, and one more adds them up.
    if slots.saturating_mul(partitions.len() + 1) > MAX_SLOTS {
        return Ok(None);
    }

    // Dropping the set (the request went away) aborts the partitions.
    let mut tasks = JoinSet::new();
    for mut partition in partitions {
        let (aggregation, columns) = (plan.aggregation, plan.columns.len());
        tasks.spawn(async move {
            let mut slots = Slots::new(grid, aggregation, columns);
            while let Some(batch) = partition.next().await {
                slots.add(&batch?)?;
            }
            Ok::<_, DaemonError>(slots)
        });
    }
    let mut total = Slots::new(grid, plan.aggregation, plan.columns.len());
    while let Some(done) = tasks.join_next().await {
        total.merge(done.map_err(|e| DaemonError::Io(format!("resample partition failed: {e}")))??);
    }

    let mut fields = vec![Field::new(BIN, DataType::Int64, false)];
    fields.extend(plan.columns.iter().map(|c| Field::new(c.name(), value.clone(), true)));
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
