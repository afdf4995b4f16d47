//! Resampling by direct indexing, when the bins from the first timestamp to
//! the last are few enough to hold: every row folds into its bin's slot,
//! with no hashing, and the bin of a run of rows (time-ordered data is all
//! runs) is found once. Each partition of the scan fills its own slots on
//! its own task; the slots are merged at the end, in partition order.
//!
//! The partitions are consecutive ranges of the stored rows
//! ([`Partitions::StoredRanges`]), so first and last know which of two rows
//! with the same timestamp came first, and a median can take a bin's values
//! as they come when the rows are in time order (the usual case; a median
//! over rows out of order is [`scattered`]'s).
//!
//! The result has the grouped query's shape (bin number, then one column
//! per source column), so labelling and writing are shared with the SQL
//! path.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Float64Type, Int64Type, Schema, SchemaRef, UInt64Type};
use datafusion::scalar::ScalarValue;
use futures::StreamExt;
use tokio::task::JoinSet;

use super::computing;
use super::{quote, scattered, Aggregation, TimeSeries, BATCH_ROWS, BIN, SOURCE};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::{Partitions, QueryEngine};
use crate::daemon::storage::Snapshot;

/// Bytes of slots (bins × columns × [`Kind::slot_bytes`]) held at once over
/// all partitions. Beyond that the grouped query, which streams, does the
/// work.
const MAX_SLOT_BYTES: usize = 64 << 20;

/// Where a timestamp's bin is, in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    origin: i64,
    unit_nanos: i64,
    rule: i64,
    first_bin: i64,
    pub(super) bins: usize,
}

impl Grid {
    /// Splits a batch's timestamps (in the column's unit, none null) into
    /// runs of rows that fall in one bin, each with its slot.
    pub(super) fn runs(&self, times: &[i64]) -> Result<Vec<(usize, Range<usize>)>> {
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
    /// Min or max of strings, in byte order (as DataFusion and Python).
    BestStr {
        max: bool,
    },
    /// The non-null value with the earliest (or with `last` the latest)
    /// timestamp; of equal timestamps the first (the last) stored. Any type.
    Pick {
        last: bool,
    },
    Median,
    /// Sample variance, or with `std` its square root.
    Spread {
        std: bool,
    },
}

impl Kind {
    /// `None` for a column this path does not handle.
    fn of(aggregation: Aggregation, t: &DataType) -> Option<Kind> {
        let float = matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64);
        let signed = matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64);
        let unsigned = matches!(t, DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64);
        let string = matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
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
            Aggregation::Min | Aggregation::Max if string => Kind::BestStr { max },
            Aggregation::First => Kind::Pick { last: false },
            Aggregation::Last => Kind::Pick { last: true },
            Aggregation::Median => Kind::Median,
            Aggregation::Std => Kind::Spread { std: true },
            Aggregation::Var => Kind::Spread { std: false },
            _ => return None,
        })
    }

    fn select(self, column: &str) -> String {
        match self {
            Kind::Count | Kind::BestStr { .. } | Kind::Pick { .. } => column.to_string(),
            Kind::Mean | Kind::SumFloat | Kind::BestFloat { .. } | Kind::Median | Kind::Spread { .. } => {
                format!("CAST({column} AS DOUBLE)")
            }
            Kind::SumInt | Kind::BestInt { .. } => format!("CAST({column} AS BIGINT)"),
            Kind::SumUInt | Kind::BestUInt { .. } => format!("CAST({column} AS BIGINT UNSIGNED)"),
        }
    }

    /// What one bin's slot takes (a picked or best string's bytes beyond
    /// that are not counted: the values the slots are sized by are short).
    fn slot_bytes(self) -> usize {
        match self {
            Kind::Count | Kind::SumFloat | Kind::SumInt | Kind::SumUInt => 8,
            Kind::Mean | Kind::BestFloat { .. } | Kind::BestInt { .. } | Kind::BestUInt { .. } | Kind::Median => 16,
            Kind::Spread { .. } => size_of::<Moments>(),
            Kind::BestStr { .. } => size_of::<Option<String>>(),
            Kind::Pick { .. } => size_of::<Option<(i64, ScalarValue)>>(),
        }
    }

    /// The grouped query's type: sums widen (as DataFusion's `sum`), the
    /// others keep the column's.
    fn output(self, column: &DataType) -> DataType {
        match self {
            Kind::Mean | Kind::SumFloat | Kind::Median | Kind::Spread { .. } => DataType::Float64,
            Kind::Count | Kind::SumInt => DataType::Int64,
            Kind::SumUInt => DataType::UInt64,
            Kind::BestFloat { .. }
            | Kind::BestInt { .. }
            | Kind::BestUInt { .. }
            | Kind::BestStr { .. }
            | Kind::Pick { .. } => column.clone(),
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
    BestStr(Vec<Option<String>>, bool),
    /// The value picked so far and its timestamp (an instant, in the
    /// column's unit).
    Pick(Vec<Option<(i64, ScalarValue)>>, bool),
    Median(Medians),
    Spread(Vec<Moments>, bool),
}

/// Count, mean and sum of squared deviations of a bin's values, merged by
/// Chan et al.'s formula (as DataFusion's variance does).
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    fn of(values: &[f64]) -> Moments {
        let n = values.len() as u64;
        let mean = values.iter().sum::<f64>() / n as f64;
        let m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        Moments { n, mean, m2 }
    }

    fn merge(&mut self, other: Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        self.mean += delta * other.n as f64 / n as f64;
        self.m2 += other.m2 + delta * delta * (self.n as f64 * other.n as f64 / n as f64);
        self.n = n;
    }

    fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }
}

/// Medians of bins whose rows come in time order: a bin's values are held
/// only until the next bin starts. A partition's first and last bins may
/// go on in its neighbours, so their values stay until the partitions
/// merge; rows out of order (a bin that comes back) mark it `unsorted`.
struct Medians {
    done: Vec<Option<f64>>,
    /// The first bin, once another has begun.
    head: Option<(usize, Vec<f64>)>,
    open: Option<(usize, Vec<f64>)>,
    unsorted: bool,
}

impl Medians {
    fn new(bins: usize) -> Medians {
        Medians { done: vec![None; bins], head: None, open: None, unsorted: false }
    }

    /// A partition's rows of bin `slot`.
    fn add(&mut self, slot: usize, values: &[f64]) {
        match &mut self.open {
            Some((open, held)) if *open == slot => held.extend_from_slice(values),
            _ => self.begin(slot, values.to_vec(), true),
        }
    }

    /// Takes `values` of bin `slot`, which comes after all this holds.
    fn carry(&mut self, (slot, values): (usize, Vec<f64>)) {
        match &mut self.open {
            Some((open, held)) if *open == slot => held.extend(values),
            _ => self.begin(slot, values, false),
        }
    }

    /// Opens bin `slot`, which must come after the open one (else the rows
    /// are out of order), and closes that one: in a `partition` its first
    /// bin stays as it is (`head`), as the partition before may hold more.
    fn begin(&mut self, slot: usize, values: Vec<f64>, partition: bool) {
        if self.open.as_ref().is_some_and(|(open, _)| *open > slot) {
            self.unsorted = true;
            return;
        }
        if let Some(closed) = self.open.take() {
            if partition && self.head.is_none() {
                self.head = Some(closed);
            } else {
                self.close(closed);
            }
        }
        self.open = Some((slot, values));
    }

    fn close(&mut self, (slot, mut values): (usize, Vec<f64>)) {
        self.done[slot] = median(&mut values);
    }

    /// Appends the next partition's bins.
    fn merge(&mut self, other: Medians) {
        self.unsorted |= other.unsorted;
        if let Some(head) = other.head {
            self.carry(head);
        }
        if let Some((first_done, _)) = other.done.iter().enumerate().find(|(_, d)| d.is_some()) {
            if self.open.as_ref().is_some_and(|(open, _)| *open >= first_done) {
                self.unsorted = true;
            }
            if let Some(closed) = self.open.take() {
                self.close(closed);
            }
        }
        for (mine, theirs) in self.done.iter_mut().zip(other.done) {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
        if let Some(open) = other.open {
            self.carry(open);
        }
    }

    fn finish(&mut self) {
        if let Some(closed) = self.open.take() {
            self.close(closed);
        }
    }
}

/// DataFusion's median: the middle value, or the mean of the two middle ones.
pub(super) fn median(values: &mut [f64]) -> Option<f64> {
    let len = values.len();
    if len == 0 {
        return None;
    }
    let (low, high, _) = values.select_nth_unstable_by(len / 2, f64::total_cmp);
    let high = *high;
    if len % 2 == 1 {
        return Some(high);
    }
    let low = low.iter().copied().max_by(f64::total_cmp).unwrap_or(high);
    Some((low + high) / 2.0)
}

/// Calls `f(slot, values)` with the non-null values of `column` in `runs`:
/// a run's whole slice when the column has no nulls (the fast, usual
/// case), else one value at a time.
pub(super) fn each<T: ArrowPrimitiveType>(
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
fn keep<T>(best: &mut Option<T>, value: T, max: bool, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    let better = |b: &T| if max { cmp(&value, b).is_gt() } else { cmp(&value, b).is_lt() };
    if best.as_ref().is_none_or(better) {
        *best = Some(value);
    }
}

/// `f64::total_cmp`'s order as an integer order (the same bit trick), so
/// that the extreme of a run is an integer max or min, which vectorizes.
fn total_order_key(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// The inverse of [`total_order_key`] (the trick undoes itself).
fn from_total_order_key(key: i64) -> f64 {
    f64::from_bits((key ^ (((key >> 63) as u64) >> 1) as i64) as u64)
}

/// [`keep`] for every value of a slice.
fn keep_all<T: Ord + Copy>(best: &mut Option<T>, values: &[T], max: bool) {
    let extreme = if max { values.iter().max() } else { values.iter().min() };
    if let Some(value) = extreme {
        keep(best, *value, max, Ord::cmp);
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
            Kind::BestStr { max } => Acc::BestStr(vec![None; bins], max),
            Kind::Pick { last } => Acc::Pick(vec![None; bins], last),
            Kind::Median => Acc::Median(Medians::new(bins)),
            Kind::Spread { std } => Acc::Spread(vec![Moments::default(); bins], std),
        }
    }

    /// Folds in `column`'s rows `runs`; `instants` are their timestamps
    /// (for first and last).
    fn add(&mut self, column: &ArrayRef, runs: &[(usize, Range<usize>)], instants: &[i64]) -> Result<()> {
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
            Acc::BestFloat(best, max) => each::<Float64Type>(column, runs, |s, v| {
                let keys = v.iter().map(|x| total_order_key(*x));
                if let Some(key) = if *max { keys.max() } else { keys.min() } {
                    keep(&mut best[s], from_total_order_key(key), *max, f64::total_cmp);
                }
            }),
            Acc::BestInt(best, max) => each::<Int64Type>(column, runs, |s, v| keep_all(&mut best[s], v, *max)),
            Acc::BestUInt(best, max) => each::<UInt64Type>(column, runs, |s, v| keep_all(&mut best[s], v, *max)),
            Acc::BestStr(best, max) => {
                let strings = arrow::compute::cast(column, &DataType::Utf8View).map_err(computing)?;
                let strings = strings.as_string_view();
                for (slot, rows) in runs {
                    let run = strings.slice(rows.start, rows.len());
                    let extreme = if *max {
                        arrow::compute::max_string_view(&run)
                    } else {
                        arrow::compute::min_string_view(&run)
                    };
                    let better =
                        |b: &String| if *max { extreme > Some(b.as_str()) } else { extreme < Some(b.as_str()) };
                    if let Some(value) = extreme.filter(|_| best[*slot].as_ref().is_none_or(better)) {
                        best[*slot] = Some(value.to_string());
                    }
                }
            }
            Acc::Pick(picked, last) => {
                let nulls = column.logical_nulls();
                let later = |t: i64, than: i64| if *last { t >= than } else { t < than };
                for (slot, rows) in runs {
                    // The run's own pick first: one value taken per run.
                    let mut best: Option<(i64, usize)> = None;
                    for row in rows.clone().filter(|r| nulls.as_ref().is_none_or(|n| n.is_valid(*r))) {
                        if best.is_none_or(|(t, _)| later(instants[row], t)) {
                            best = Some((instants[row], row));
                        }
                    }
                    let Some((time, row)) = best else { continue };
                    if picked[*slot].as_ref().is_none_or(|(t, _)| later(time, *t)) {
                        picked[*slot] = Some((time, ScalarValue::try_from_array(column, row)?));
                    }
                }
            }
            Acc::Median(medians) => each::<Float64Type>(column, runs, |s, v| medians.add(s, v)),
            Acc::Spread(moments, _) => each::<Float64Type>(column, runs, |s, v| moments[s].merge(Moments::of(v))),
        }
        Ok(())
    }

    fn merge(&mut self, other: Acc) {
        fn zip<T>(mine: &mut [T], theirs: Vec<T>, f: impl Fn(&mut T, T)) {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| f(m, t));
        }
        fn best<T>(
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
            (Acc::BestStr(b, max), Acc::BestStr(o, _)) => best(b, o, *max, Ord::cmp),
            // `other` holds rows stored after these: it wins ties for last.
            (Acc::Pick(picked, last), Acc::Pick(o, _)) => zip(picked, o, |m, t| {
                if let Some(t) = t {
                    if m.as_ref().is_none_or(|m| if *last { t.0 >= m.0 } else { t.0 < m.0 }) {
                        *m = Some(t);
                    }
                }
            }),
            (Acc::Median(medians), Acc::Median(o)) => medians.merge(o),
            (Acc::Spread(moments, _), Acc::Spread(o, _)) => zip(moments, o, |m, t| m.merge(t)),
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
            Acc::BestStr(best, _) => Arc::new(best[rows].iter().map(Option::as_deref).collect::<StringArray>()),
            Acc::Pick(picked, _) => match picked[rows.clone()].iter().flatten().next() {
                None => arrow::array::new_null_array(output, rows.len()),
                // In the scan's type, which may differ from the output's
                // (strings are scanned as views).
                Some((_, value)) => {
                    let missing = ScalarValue::try_from(value.data_type())?;
                    let values = picked[rows].iter().map(|p| p.as_ref().map_or(&missing, |(_, v)| v).clone());
                    let array = ScalarValue::iter_to_array(values)?;
                    match array.data_type() {
                        // Null dictionary scalars make a null *value*; unpacked
                        // and packed again, the dictionary has null keys instead.
                        DataType::Dictionary(_, values) => {
                            let plain = arrow::compute::cast(&array, values).map_err(computing)?;
                            arrow::compute::cast(&plain, array.data_type()).map_err(computing)?
                        }
                        _ => array,
                    }
                }
            },
            Acc::Median(medians) => Arc::new(Float64Array::from(medians.done[rows].to_vec())),
            Acc::Spread(moments, std) => Arc::new(
                moments[rows]
                    .iter()
                    .map(|m| m.variance().map(|v| if *std { v.sqrt() } else { v }))
                    .collect::<Float64Array>(),
            ),
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

    /// `batch` is the scan's: timestamps as BIGINT, the columns, and for
    /// first and last the instants.
    fn add(&mut self, batch: &RecordBatch) -> Result<()> {
        let times = |i: usize| batch.column(i).as_primitive::<Int64Type>().values();
        let runs = self.grid.runs(times(0))?;
        let instants = times(if batch.num_columns() > self.columns.len() + 1 { batch.num_columns() - 1 } else { 0 });
        for (acc, column) in self.columns.iter_mut().zip(batch.columns().iter().skip(1)) {
            acc.add(column, &runs, instants)?;
        }
        Ok(())
    }

    /// A median met rows out of time order: [`scattered`] must do it.
    fn unsorted(&self) -> bool {
        self.columns.iter().any(|c| matches!(c, Acc::Median(m) if m.unsorted))
    }

    /// Adds the slots of the partition after the ones merged so far.
    fn merge(&mut self, other: Slots) {
        self.columns.iter_mut().zip(other.columns).for_each(|(mine, theirs)| mine.merge(theirs));
    }

    fn finish(&mut self) {
        for column in &mut self.columns {
            if let Acc::Median(medians) = column {
                medians.finish();
            }
        }
    }

    /// Every bin's value of each column, from the first bin to the last.
    fn into_columns(self, schema: &SchemaRef) -> Result<Vec<ArrayRef>> {
        let all = 0..self.grid.bins;
        self.columns
            .iter()
            .zip(schema.fields().iter().skip(1))
            .map(|(acc, f)| acc.array(all.clone(), f.data_type()))
            .collect()
    }
}

impl Grid {
    /// Every bin from the first to the last with `columns`' values, in
    /// the grouped query's shape.
    fn batches(&self, schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        for start in (0..self.bins).step_by(BATCH_ROWS) {
            let len = BATCH_ROWS.min(self.bins - start);
            let bins: Int64Array = (start..start + len).map(|r| self.first_bin + r as i64).collect();
            let mut batch: Vec<ArrayRef> = vec![Arc::new(bins)];
            batch.extend(columns.iter().map(|c| c.slice(start, len)));
            batches.push(RecordBatch::try_new(schema.clone(), batch).map_err(computing)?);
        }
        Ok(batches)
    }
}

/// The grouped rows of `plan` by direct indexing, or `None` when it does not
/// apply (a column type it does not handle, too many slots to hold, or a
/// median over rows out of time order that the memory pool cannot hold).
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
    let bytes = count.saturating_mul(kinds.iter().map(|k| k.slot_bytes()).sum::<usize>().max(1));
    if bytes > MAX_SLOT_BYTES {
        return Ok(None);
    }
    let grid = Grid { origin, unit_nanos: plan.unit_nanos, rule: plan.rule.nanos, first_bin: bins.start, bins: count };

    let time = quote(&plan.time_col);
    let mut select = vec![plan.binned_time()];
    select.extend(plan.columns.iter().zip(&kinds).map(|(c, k)| k.select(&quote(c.name()))));
    if kinds.iter().any(|k| matches!(k, Kind::Pick { .. })) {
        select.push(format!("CAST({time} AS BIGINT) AS __shoots_instant"));
    }
    let sql = format!("SELECT {} FROM {SOURCE} WHERE {time} IS NOT NULL", select.join(", "));
    let query = engine.snapshot_query(snapshot, SOURCE, &sql, Partitions::StoredRanges).await?;
    let partitions = query.execute_stream_partitioned().await?;
    // Each partition fills its own copy, and one more adds them up.
    if bytes.saturating_mul(partitions.len() + 1) > MAX_SLOT_BYTES {
        return Ok(None);
    }

    // Dropping the set (the request went away) aborts the partitions.
    let mut tasks = JoinSet::new();
    for (index, mut partition) in partitions.into_iter().enumerate() {
        let kinds = kinds.clone();
        tasks.spawn(async move {
            let mut slots = Slots::new(grid, &kinds);
            while let Some(batch) = partition.next().await {
                slots.add(&batch?)?;
                if slots.unsorted() {
                    break;
                }
            }
            Ok::<_, DaemonError>((index, slots))
        });
    }
    let mut done = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        done.push(finished.map_err(|e| DaemonError::Io(format!("resample partition failed: {e}")))??);
    }
    done.sort_by_key(|(index, _)| *index);
    let mut total = Slots::new(grid, &kinds);
    for (_, slots) in done {
        total.merge(slots);
    }
    total.finish();

    let mut fields = vec![Field::new(BIN, DataType::Int64, false)];
    fields.extend(plan.columns.iter().zip(&kinds).map(|(c, k)| Field::new(c.name(), k.output(c.data_type()), true)));
    let schema = Arc::new(Schema::new(fields));
    let columns = if total.unsorted() {
        // Every column is a median (one aggregation for all).
        match scattered::medians(plan, engine, snapshot, grid).await? {
            Some(columns) => columns,
            None => return Ok(None),
        }
    } else {
        total.into_columns(&schema)?
    };
    Ok(Some((schema.clone(), grid.batches(&schema, columns)?)))
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

    #[test]
    fn slots_take_at_most_80_bytes() {
        // As the README says of the slots in their 64 MB.
        let kinds = [
            Kind::Count,
            Kind::Mean,
            Kind::Spread { std: true },
            Kind::BestStr { max: true },
            Kind::Pick { last: true },
        ];
        assert!(kinds.iter().all(|k| (8..=80).contains(&k.slot_bytes())), "{:?}", kinds.map(|k| k.slot_bytes()));
    }

    #[test]
    fn float_keys_order_as_total_cmp() {
        let values = [f64::NEG_INFINITY, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY, f64::NAN, -f64::NAN];
        for a in values {
            assert_eq!(from_total_order_key(total_order_key(a)).to_bits(), a.to_bits());
            for b in values {
                assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }

    #[test]
    fn medians_of_bins_split_between_partitions() {
        // Bins 0..4; partition one ends inside bin 1, two is all bin 1, three
        // starts in it.
        let mut parts = [Medians::new(4), Medians::new(4), Medians::new(4)];
        parts[0].add(0, &[5.0, 1.0]);
        parts[0].add(1, &[9.0]);
        parts[1].add(1, &[2.0, 4.0]);
        parts[2].add(1, &[3.0]);
        parts[2].add(3, &[7.0, 8.0]);
        let mut total = Medians::new(4);
        for part in parts {
            total.merge(part);
        }
        total.finish();
        assert!(!total.unsorted);
        assert_eq!(total.done, vec![Some(3.0), Some(3.5), None, Some(7.5)]);

        // A bin that comes back, in one partition or in a later one.
        let mut back = Medians::new(4);
        back.add(2, &[1.0]);
        back.add(1, &[1.0]);
        assert!(back.unsorted);
        let (mut first, mut second) = (Medians::new(4), Medians::new(4));
        first.add(2, &[1.0]);
        second.add(1, &[1.0]);
        let mut total = Medians::new(4);
        total.merge(first);
        total.merge(second);
        assert!(total.unsorted);
    }

    #[test]
    fn moments_merge_to_the_variance_of_all() {
        let values = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0];
        let mut merged = Moments::of(&values[..2]);
        merged.merge(Moments::of(&values[2..5]));
        merged.merge(Moments::default());
        merged.merge(Moments::of(&values[5..]));
        let whole = Moments::of(&values);
        assert!((merged.variance().unwrap() - whole.variance().unwrap()).abs() < 1e-12);
        assert_eq!(Moments::of(&[3.0]).variance(), None);
    }
}
