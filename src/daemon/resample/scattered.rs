//! Medians of bins whose rows come out of time order (a dataframe appended
//! with timestamps it already had): the rows of each bin are counted first,
//! so that each bin knows its place in one buffer; then a column's values
//! are copied into their bins' places, run by run, and each bin's middle is
//! found where it lies. Nothing is hashed and each value moves once.
//!
//! One buffer holds a value of every row, so columns go one pass each (as
//! many at once as fit in [`PASS_BYTES`]), and the buffer is reserved from
//! the query memory pool (`--memory-limit`): when even one column does not
//! fit, the grouped query does the work, as it did before this path.

use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{Float64Type, Int64Type};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use std::sync::Arc;

use super::dense::{each, median, Grid};
use super::{quote, TimeSeries, SOURCE};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::{Partitions, QueryEngine};
use crate::daemon::storage::Snapshot;

/// Bytes of values one pass holds when more than one column fits (one
/// column always goes, if the pool grants it).
const PASS_BYTES: usize = 128 << 20;

/// The median of each bin of each of `plan`'s columns (in `grid`'s order,
/// `None` for a bin with no values), or `None` when the memory pool cannot
/// hold one column's values.
pub(super) async fn medians(
    plan: &TimeSeries,
    engine: &QueryEngine,
    snapshot: &Snapshot,
    grid: Grid,
) -> Result<Option<Vec<ArrayRef>>> {
    let mut counts = vec![0usize; grid.bins];
    let mut times = scan(plan, engine, snapshot, &[]).await?;
    while let Some(batch) = times.next().await {
        for (slot, rows) in grid.runs(batch?.column(0).as_primitive::<Int64Type>().values())? {
            counts[slot] += rows.len();
        }
    }
    let mut starts = Vec::with_capacity(grid.bins + 1);
    starts.push(0);
    for count in &counts {
        starts.push(starts.last().copied().unwrap_or(0) + count);
    }
    let rows = starts[grid.bins];
    let column_bytes = rows.saturating_mul(size_of::<f64>()).max(1);
    let per_pass = (PASS_BYTES / column_bytes).max(1);

    let reservation = engine.reservation("resample medians");
    let mut medians: Vec<ArrayRef> = Vec::with_capacity(plan.columns.len());
    for columns in plan.columns.chunks(per_pass) {
        if reservation.try_resize(column_bytes.saturating_mul(columns.len())).is_err() {
            return Ok(None);
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name().as_str()).collect();
        let mut placed: Vec<Placed> = names.iter().map(|_| Placed::new(&starts)).collect();
        let mut scan = scan(plan, engine, snapshot, &names).await?;
        while let Some(batch) = scan.next().await {
            let batch = batch?;
            let runs = grid.runs(batch.column(0).as_primitive::<Int64Type>().values())?;
            for (place, column) in placed.iter_mut().zip(batch.columns().iter().skip(1)) {
                place.add(column, &runs)?;
            }
        }
        medians.extend(placed.into_iter().map(Placed::medians));
    }
    Ok(Some(medians))
}

/// `SELECT` the binned time and `columns` as doubles, from the rows with a
/// time, in any order (a median does not depend on it).
async fn scan(
    plan: &TimeSeries,
    engine: &QueryEngine,
    snapshot: &Snapshot,
    columns: &[&str],
) -> Result<SendableRecordBatchStream> {
    let mut select = vec![plan.binned_time()];
    select.extend(columns.iter().map(|c| format!("CAST({} AS DOUBLE)", quote(c))));
    let sql = format!("SELECT {} FROM {SOURCE} WHERE {} IS NOT NULL", select.join(", "), quote(&plan.time_col));
    Ok(engine.snapshot_query(snapshot, SOURCE, &sql, Partitions::Any).await?.execute_stream().await?)
}

/// One column's values, each bin's side by side from its start.
struct Placed {
    values: Vec<f64>,
    /// Where each bin's next value goes; the bin after's start ends it.
    next: Vec<usize>,
    ends: Vec<usize>,
}

impl Placed {
    fn new(starts: &[usize]) -> Placed {
        let bins = starts.len() - 1;
        Placed { values: vec![0.0; starts[bins]], next: starts[..bins].to_vec(), ends: starts[1..].to_vec() }
    }

    fn add(&mut self, column: &ArrayRef, runs: &[(usize, std::ops::Range<usize>)]) -> Result<()> {
        let mut overflow = false;
        each::<Float64Type>(column, runs, |slot, values| {
            let at = self.next[slot];
            let Some(place) =
                self.values.get_mut(at..at + values.len()).filter(|_| at + values.len() <= self.ends[slot])
            else {
                overflow = true;
                return;
            };
            place.copy_from_slice(values);
            self.next[slot] = at + values.len();
        });
        if overflow {
            // The snapshot is fixed, so the second read sees the first's rows.
            return Err(DaemonError::internal("resample", "a bin held more rows than were counted".to_string()));
        }
        Ok(())
    }

    fn medians(mut self) -> ArrayRef {
        let mut start = 0;
        let medians: Float64Array = (0..self.next.len())
            .map(|slot| {
                let bin = &mut self.values[start..self.next[slot]];
                start = self.ends[slot];
                median(bin)
            })
            .collect();
        Arc::new(medians)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_their_bins_whatever_the_order() {
        // Bins 0..3 hold 2, 1 and 3 rows; one value is null.
        let mut placed = Placed::new(&[0, 2, 3, 6]);
        let first: ArrayRef = Arc::new(Float64Array::from(vec![Some(5.0), Some(1.0), Some(9.0)]));
        placed.add(&first, &[(2, 0..1), (0, 1..2), (1, 2..3)]).unwrap();
        let second: ArrayRef = Arc::new(Float64Array::from(vec![Some(3.0), Some(7.0), None]));
        placed.add(&second, &[(0, 0..1), (2, 1..3)]).unwrap();
        let medians = placed.medians();
        let medians = medians.as_primitive::<Float64Type>();
        assert_eq!((medians.value(0), medians.value(1), medians.value(2)), (2.0, 9.0, 6.0));
        // A bin given more than it counted is an error, not a wrong answer.
        let mut placed = Placed::new(&[0, 1]);
        assert!(placed.add(&first, &[(0, 0..2)]).is_err());
    }
}
