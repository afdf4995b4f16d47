//! The `resample` action (the README's "Resample"): a query's result, or a time series
//! downsampled with pandas' semantics, written to a dataframe on the server.
//!
//! The time-series path reads one version of the source throughout. Over a
//! manageable number of bins every function folds into per-bin slots
//! directly ([`dense`]), and a median over rows out of time order into
//! each bin's place in one buffer ([`scattered`]); the rest (too many bins,
//! medians that do not fit the memory pool, min and max of types other than
//! numbers and strings) is one grouped DataFusion query over integer bin numbers, streamed in bin
//! order. Either way the gaps between present bins are filled here as the
//! rows stream to the target.

mod dense;
mod scattered;

use std::str::FromStr;
use std::sync::Arc;

use super::auth::Principal;
use super::error::{DaemonError, Result};
use super::query::{plain_strings, Partitions, QueryEngine, Scope};
use super::sql::Query;
use super::storage::{PutSpec, Snapshot, Store, Target};
use crate::protocol::{PutMode, ResampleReply};
use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, Scalar, UInt32Array};
use arrow::compute::kernels::zip::zip;
use arrow::compute::{is_null, take};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use chrono::{NaiveTime, Offset, TimeZone};
use datafusion::scalar::ScalarValue;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
/// Rows per output batch.
const BATCH_ROWS: usize = 64 * 1024;
/// A rule so fine that the target would have more bins than this is refused
/// before anything is written.
const MAX_BINS: i64 = 100_000_000;

/// A pandas offset alias with a fixed length (`500ms`, `10s`, `1min`, `T`,
/// `1h`, `H`, `1D`, `us`, `ns`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub nanos: i64,
    /// Given in days: on a time-zone-aware column a day is a calendar day
    /// (23 or 25 hours across a daylight-saving change), as in pandas.
    pub days: bool,
}

impl FromStr for Rule {
    type Err = DaemonError;
    fn from_str(text: &str) -> Result<Rule> {
        let invalid = || {
            DaemonError::InvalidArgument(format!(
                "unsupported resample rule {:?}: use a number and one of ns, us, ms (L), s (S), min (T), h (H), D \
                 (e.g. 500ms, 10s, 1min, 1h, 1D)",
                text.escape_default().to_string()
            ))
        };
        let trimmed = text.trim();
        let split = trimmed.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        let (count, unit) = trimmed.split_at(split);
        let count: i64 = if count.is_empty() { 1 } else { count.parse().map_err(|_| invalid())? };
        let unit_nanos: i64 = match unit {
            "ns" | "N" => 1,
            "us" | "U" => 1_000,
            "ms" | "L" => 1_000_000,
            "s" | "S" => 1_000_000_000,
            "min" | "T" => 60 * 1_000_000_000,
            "h" | "H" => 3_600 * 1_000_000_000,
            "D" | "d" => NANOS_PER_DAY,
            _ => return Err(invalid()),
        };
        match count.checked_mul(unit_nanos) {
            Some(nanos) if nanos > 0 => Ok(Rule { nanos, days: matches!(unit, "D" | "d") }),
            _ => Err(invalid()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Mean,
    Sum,
    Min,
    Max,
    Count,
    First,
    Last,
    Median,
    Std,
    Var,
}

impl FromStr for Aggregation {
    type Err = DaemonError;
    fn from_str(text: &str) -> Result<Aggregation> {
        Ok(match text {
            "mean" => Aggregation::Mean,
            "sum" => Aggregation::Sum,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "count" => Aggregation::Count,
            "first" => Aggregation::First,
            "last" => Aggregation::Last,
            "median" => Aggregation::Median,
            "std" => Aggregation::Std,
            "var" => Aggregation::Var,
            other => {
                return Err(DaemonError::InvalidArgument(format!(
                    "unknown aggregation function {:?}: use one of mean, sum, min, max, count, first, last, median, std, var",
                    other.escape_default().to_string()
                )))
            }
        })
    }
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric() || *t == DataType::Boolean
}

fn is_orderable(t: &DataType) -> bool {
    t.is_primitive() || matches!(t, DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

impl Aggregation {
    /// Whether a column of this type takes part; pandas' numeric-only
    /// aggregations drop the others.
    fn accepts(self, t: &DataType) -> bool {
        match self {
            Aggregation::Mean | Aggregation::Sum | Aggregation::Median | Aggregation::Std | Aggregation::Var => {
                is_numeric(t)
            }
            Aggregation::Min | Aggregation::Max => is_orderable(t),
            Aggregation::Count | Aggregation::First | Aggregation::Last => true,
        }
    }

    /// Empty bins hold 0 for these (pandas' `min_count=0`), null otherwise.
    fn zero_when_empty(self) -> bool {
        matches!(self, Aggregation::Sum | Aggregation::Count)
    }

    fn sql(self, column: &Field, time: &str) -> String {
        let c = quote(column.name());
        let as_double = format!("CAST({c} AS DOUBLE)");
        match self {
            Aggregation::Mean => format!("avg({as_double})"),
            Aggregation::Sum if *column.data_type() == DataType::Boolean => {
                format!("coalesce(sum(CAST({c} AS BIGINT)), 0)")
            }
            Aggregation::Sum => format!("coalesce(sum({c}), 0)"),
            Aggregation::Min => format!("min({c})"),
            Aggregation::Max => format!("max({c})"),
            Aggregation::Count => format!("count({c})"),
            // pandas' first/last skip missing values; equal timestamps keep
            // the stored row order.
            Aggregation::First => format!("first_value({c} ORDER BY {time}, {ROW}) FILTER (WHERE {c} IS NOT NULL)"),
            Aggregation::Last => format!("last_value({c} ORDER BY {time}, {ROW}) FILTER (WHERE {c} IS NOT NULL)"),
            Aggregation::Median => format!("median({as_double})"),
            Aggregation::Std => format!("stddev_samp({as_double})"),
            Aggregation::Var => format!("var_samp({as_double})"),
        }
    }
}

fn unit_nanos(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

fn parse_tz(tz: &str) -> Result<arrow::array::timezone::Tz> {
    tz.parse().map_err(|e| DaemonError::InvalidArgument(format!("time zone {tz:?}: {e}")))
}

/// pandas' default origin, `start_day`: midnight of the first timestamp's
/// day, in the column's time zone when it has one.
fn start_of_day(first_nanos: i64, tz: Option<&str>) -> Result<i64> {
    let Some(tz) = tz else { return Ok(first_nanos - first_nanos.rem_euclid(NANOS_PER_DAY)) };
    let instant = chrono::DateTime::from_timestamp_nanos(first_nanos).with_timezone(&parse_tz(tz)?);
    let local_midnight = instant.date_naive().and_time(NaiveTime::MIN);
    let midnight = local_midnight.and_utc().timestamp_nanos_opt().ok_or_else(out_of_range)?;
    local_to_instant(midnight, tz)
}

/// The instant a wall-clock time (nanoseconds, as if UTC) in `tz` is: the
/// earlier one when clocks went back; when they skipped it, the same
/// offset as just before.
fn local_to_instant(local_nanos: i64, tz: &str) -> Result<i64> {
    let tz = parse_tz(tz)?;
    let local = chrono::DateTime::from_timestamp_nanos(local_nanos).naive_utc();
    let instant = match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.naive_utc(),
        None => {
            let before = local - chrono::Duration::hours(3);
            let offset = tz.from_local_datetime(&before).earliest().map_or(0, |t| t.offset().fix().local_minus_utc());
            local - chrono::Duration::seconds(offset.into())
        }
    };
    instant.and_utc().timestamp_nanos_opt().ok_or_else(out_of_range)
}

/// Arrow failing on what resample built itself is the daemon's fault.
fn computing(e: arrow::error::ArrowError) -> DaemonError {
    DaemonError::internal("resampling", e)
}

fn out_of_range() -> DaemonError {
    DaemonError::InvalidArgument("timestamps out of range".into())
}

/// A resample request with its dataframes resolved: `sql`, or `rule`,
/// `time_col` and `aggregation` (checked against the source's columns).
#[derive(Debug, Clone)]
pub struct ResampleJob {
    pub source: Target,
    pub target: Target,
    pub mode: PutMode,
    pub sql: Option<String>,
    pub rule: Option<String>,
    pub time_col: Option<String>,
    pub aggregation: Option<String>,
}

/// Runs a resample for a caller whose role allows it (the dispatch checks);
/// checks its buckets. The reply counts the rows read and written and
/// names the columns a numeric-only aggregation left out.
pub async fn resample(
    store: &Store,
    engine: &QueryEngine,
    req: ResampleJob,
    caller: &Principal,
) -> Result<ResampleReply> {
    let (source, target, mode) = (&req.source, &req.target, req.mode);
    if mode == PutMode::Upsert {
        return Err(DaemonError::InvalidArgument(
            "resample writes with mode error, append or replace, not upsert".into(),
        ));
    }
    caller.require_bucket(&source.bucket)?;
    caller.require_bucket(&target.bucket)?;
    let snapshot = store.snapshot(&source.bucket, &source.name, None).await?;
    let scope = Scope::new(source.bucket.clone(), caller);
    let source_rows = snapshot.commit.rows;

    if let Some(sql) = &req.sql {
        let results = engine.execute(&scope, &Query::plain(sql.as_str())).await?;
        let schema = results.schema();
        let outcome = store
            .put(&target.bucket, &target.name, PutSpec::plain(mode), schema, results.map_err(DaemonError::from))
            .await?;
        return Ok(ResampleReply { source_rows, target_rows: outcome.rows, ..ResampleReply::default() });
    }

    let plan = TimeSeries::plan(&snapshot, &req)?;
    let time = plan.binned_time();
    let bounds_sql = format!("SELECT min({time}), max({time}) FROM {SOURCE}");
    let bounds = engine.snapshot_query(&snapshot, SOURCE, &bounds_sql, Partitions::Any).await?.collect().await?;
    let bound = |i: usize| {
        let row = bounds.iter().find(|b| b.num_rows() > 0)?;
        let values = row.column(i).as_primitive::<Int64Type>();
        values.is_valid(0).then(|| values.value(0))
    };
    let (Some(first), Some(last)) = (bound(0), bound(1)) else {
        // No timestamps: an empty result with the target's columns.
        let grouped = plain_strings(engine.snapshot_query(&snapshot, SOURCE, &plan.sql(0), Partitions::Any).await?)?
            .schema()
            .inner()
            .clone();
        let schema = plan.output_schema(&grouped);
        let outcome =
            store.put(&target.bucket, &target.name, PutSpec::plain(mode), schema, futures::stream::empty()).await?;
        return Ok(plan.reply(source_rows, outcome.rows));
    };
    let (first, last) = (
        first.checked_mul(plan.unit_nanos).ok_or_else(out_of_range)?,
        last.checked_mul(plan.unit_nanos).ok_or_else(out_of_range)?,
    );
    // Wall-clock times are binned from a wall-clock midnight.
    let origin = start_of_day(first, if plan.wall_clock() { None } else { plan.tz.as_deref() })?;
    let bin = |t: i64| t.checked_sub(origin).map(|d| d.div_euclid(plan.rule.nanos)).ok_or_else(out_of_range);
    let bins = bin(first)?..bin(last)? + 1;
    if bins.end - bins.start > MAX_BINS {
        return Err(DaemonError::InvalidArgument(format!("rule too fine for this data: more than {MAX_BINS} bins")));
    }

    let (grouped_schema, grouped): (SchemaRef, BoxStream<'static, Result<RecordBatch>>) =
        match dense::grouped(&plan, engine, &snapshot, origin, bins).await? {
            Some((schema, batches)) => (schema, futures::stream::iter(batches.into_iter().map(Ok)).boxed()),
            None => {
                // first/last need equal timestamps in stored order: one partition.
                let partitions = match plan.aggregation {
                    Aggregation::First | Aggregation::Last => Partitions::One,
                    _ => Partitions::Any,
                };
                let query = engine.snapshot_query(&snapshot, SOURCE, &plan.sql(origin), partitions).await?;
                let query = plain_strings(query)?;
                let stream = query.execute_stream().await?;
                (stream.schema(), stream.map_err(DaemonError::from).boxed())
            }
        };
    let schema = plan.output_schema(&grouped_schema);
    let filled = fill_gaps(grouped, schema.clone(), plan.clone(), origin);
    let outcome = store.put(&target.bucket, &target.name, PutSpec::plain(mode), schema, filled).await?;
    Ok(plan.reply(source_rows, outcome.rows))
}

/// A validated time-series resample of one dataframe.
#[derive(Debug, Clone)]
struct TimeSeries {
    time_col: String,
    time_field: Arc<Field>,
    unit_nanos: i64,
    tz: Option<String>,
    rule: Rule,
    aggregation: Aggregation,
    columns: Vec<Arc<Field>>,
    dropped: Vec<String>,
}

const BIN: &str = "__shoots_bin";
/// The source dataframe's name in the daemon's own queries, which see no
/// other table.
const SOURCE: &str = "__shoots_source";
/// Stored row order, numbered for first/last (run in one partition).
const ROW: &str = "__shoots_row";

impl TimeSeries {
    fn plan(snapshot: &Snapshot, req: &ResampleJob) -> Result<TimeSeries> {
        let missing = |what: &str| DaemonError::InvalidArgument(format!("resample needs {what} (or sql)"));
        let rule: Rule = req.rule.as_deref().ok_or_else(|| missing("rule"))?.parse()?;
        let aggregation: Aggregation =
            req.aggregation.as_deref().ok_or_else(|| missing("aggregation_func"))?.parse()?;
        let time_col = req.time_col.clone().ok_or_else(|| missing("time_col"))?;
        let schema = &snapshot.schema;
        let time_field = schema.field_with_name(&time_col).map_err(|_| {
            DaemonError::InvalidArgument(format!(
                "dataframe {} has no column {time_col:?}; its columns are {:?}",
                snapshot.name,
                schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>()
            ))
        })?;
        let DataType::Timestamp(unit, tz) = time_field.data_type() else {
            return Err(DaemonError::InvalidArgument(format!(
                "column {time_col:?} is {}, not a timestamp; resample needs a timestamp time column",
                time_field.data_type()
            )));
        };
        let (mut columns, mut dropped) = (Vec::new(), Vec::new());
        for field in schema.fields().iter().filter(|f| f.name() != &time_col) {
            if aggregation.accepts(field.data_type()) {
                columns.push(field.clone());
            } else {
                dropped.push(field.name().clone());
            }
        }
        Ok(TimeSeries {
            time_field: Arc::new(time_field.clone()),
            time_col,
            unit_nanos: unit_nanos(*unit),
            tz: tz.as_deref().map(String::from),
            rule,
            aggregation,
            columns,
            dropped,
        })
    }

    /// Calendar days of a time-zone-aware column are binned on wall-clock
    /// time (the zone's local time as if it were UTC), everything else on
    /// the instants themselves.
    fn wall_clock(&self) -> bool {
        self.rule.days && self.tz.is_some()
    }

    /// SQL for the time column as the integers bins are cut from, in the
    /// column's unit.
    fn binned_time(&self) -> String {
        let time = quote(&self.time_col);
        if self.wall_clock() {
            format!("CAST(to_local_time({time}) AS BIGINT)")
        } else {
            format!("CAST({time} AS BIGINT)")
        }
    }

    /// A bin's label, its left edge, as an instant in `label_nanos` units.
    fn label(&self, origin: i64, bin: i64, label_nanos: i64) -> Result<i64> {
        let edge = origin + bin * self.rule.nanos;
        let instant = match (self.wall_clock(), self.tz.as_deref()) {
            (true, Some(tz)) => local_to_instant(edge, tz)?,
            _ => edge,
        };
        Ok(instant / label_nanos)
    }

    fn sql(&self, origin: i64) -> String {
        let time = quote(&self.time_col);
        let mut select =
            vec![format!("({} * {} - ({origin})) / {} AS {BIN}", self.binned_time(), self.unit_nanos, self.rule.nanos)];
        select
            .extend(self.columns.iter().map(|c| format!("{} AS {}", self.aggregation.sql(c, &time), quote(c.name()))));
        let rows = match self.aggregation {
            Aggregation::First | Aggregation::Last => {
                format!("(SELECT *, row_number() OVER () AS {ROW} FROM {SOURCE})")
            }
            _ => SOURCE.to_string(),
        };
        format!("SELECT {} FROM {rows} WHERE {time} IS NOT NULL GROUP BY {BIN} ORDER BY {BIN}", select.join(", "))
    }

    /// Labels keep the column's unit when the rule fits it, else nanoseconds.
    fn label_unit(&self) -> TimeUnit {
        match self.time_field.data_type() {
            DataType::Timestamp(unit, _) if self.rule.nanos % self.unit_nanos == 0 => *unit,
            _ => TimeUnit::Nanosecond,
        }
    }

    fn output_schema(&self, grouped: &Schema) -> SchemaRef {
        let time =
            Field::new(&self.time_col, DataType::Timestamp(self.label_unit(), self.tz.clone().map(Into::into)), true)
                .with_metadata(self.time_field.metadata().clone());
        let mut fields = vec![Arc::new(time)];
        fields.extend(grouped.fields().iter().skip(1).map(|f| Arc::new(f.as_ref().clone().with_nullable(true))));
        Arc::new(Schema::new(fields))
    }

    fn reply(&self, source_rows: u64, target_rows: u64) -> ResampleReply {
        let mut reply = ResampleReply { source_rows, target_rows, ..ResampleReply::default() };
        if !self.dropped.is_empty() {
            reply.message = Some(format!(
                "{} takes numeric columns only; left out {}",
                format!("{:?}", self.aggregation).to_lowercase(),
                self.dropped.join(", ")
            ));
            reply.dropped_columns = Some(self.dropped.clone());
        }
        reply
    }
}

/// Turns the grouped rows (bin number, aggregates; ordered by bin) into the
/// target's rows: every bin from the first to the last, labelled by its
/// left edge, empty ones null (0 for count and sum).
fn fill_gaps(
    grouped: impl Stream<Item = Result<RecordBatch>> + Send + 'static,
    schema: SchemaRef,
    plan: TimeSeries,
    origin: i64,
) -> impl Stream<Item = Result<RecordBatch>> + Send + 'static {
    let label_nanos = unit_nanos(plan.label_unit());
    let mut next_bin: Option<i64> = None;
    grouped
        .map(move |batch| -> Result<Vec<RecordBatch>> {
            let batch = batch?;
            let bins = batch.column(0).as_primitive::<Int64Type>();
            let mut out = Vec::new();
            let mut pending = Pending::default();
            for row in 0..batch.num_rows() {
                let bin = bins.value(row);
                let mut expected = next_bin.unwrap_or(bin);
                while expected < bin {
                    pending.push(expected, None);
                    expected += 1;
                    if pending.len() == BATCH_ROWS {
                        out.push(pending.build(&batch, &schema, &plan, origin, label_nanos)?);
                    }
                }
                pending.push(bin, Some(row as u32));
                if pending.len() == BATCH_ROWS {
                    out.push(pending.build(&batch, &schema, &plan, origin, label_nanos)?);
                }
                next_bin = Some(bin + 1);
            }
            if pending.len() > 0 {
                out.push(pending.build(&batch, &schema, &plan, origin, label_nanos)?);
            }
            Ok(out)
        })
        .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
        .try_flatten()
}

/// Output rows being gathered: each a bin and the grouped row it comes
/// from (`None` for an empty bin).
#[derive(Default)]
struct Pending {
    bins: Vec<i64>,
    rows: Vec<Option<u32>>,
}

impl Pending {
    fn push(&mut self, bin: i64, row: Option<u32>) {
        self.bins.push(bin);
        self.rows.push(row);
    }

    fn len(&self) -> usize {
        self.bins.len()
    }

    fn build(
        &mut self,
        grouped: &RecordBatch,
        schema: &SchemaRef,
        plan: &TimeSeries,
        origin: i64,
        label_nanos: i64,
    ) -> Result<RecordBatch> {
        let labels: Int64Array =
            self.bins.drain(..).map(|b| plan.label(origin, b, label_nanos)).collect::<Result<_>>()?;
        let labels = arrow::compute::cast(&labels, schema.field(0).data_type()).map_err(computing)?;
        let indices = UInt32Array::from(std::mem::take(&mut self.rows));
        let mut columns: Vec<ArrayRef> = vec![labels];
        for (i, column) in grouped.columns().iter().enumerate().skip(1) {
            let taken = take(column.as_ref(), &indices, None).map_err(computing)?;
            let taken = if plan.aggregation.zero_when_empty() && taken.null_count() > 0 {
                let zero = ScalarValue::new_zero(taken.data_type())?.to_array_of_size(1)?;
                zip(&is_null(&taken).map_err(computing)?, &Scalar::new(zero), &taken).map_err(computing)?
            } else {
                taken
            };
            let target = schema.field(i).data_type();
            columns.push(if taken.data_type() == target {
                taken
            } else {
                arrow::compute::cast(&taken, target).map_err(computing)?
            });
        }
        RecordBatch::try_new(schema.clone(), columns).map_err(computing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_pandas_aliases() {
        let nanos = |r: &str| r.parse::<Rule>().map(|r| r.nanos);
        assert_eq!(nanos("500ms").unwrap(), 500_000_000);
        assert_eq!(nanos("10s").unwrap(), 10_000_000_000);
        assert_eq!(nanos("1min").unwrap(), nanos("T").unwrap());
        assert_eq!(nanos("1h").unwrap(), nanos("H").unwrap());
        assert_eq!(nanos("1D").unwrap(), NANOS_PER_DAY);
        assert_eq!(nanos("250us").unwrap(), 250_000);
        assert_eq!(nanos("7ns").unwrap(), 7);
        assert!("2D".parse::<Rule>().unwrap().days && !"24h".parse::<Rule>().unwrap().days);
        for bad in ["", "0s", "1M", "1W", "s10", "10 parsecs", "-1s", "99999999999999999999s"] {
            assert!(matches!(bad.parse::<Rule>(), Err(DaemonError::InvalidArgument(_))), "{bad}");
        }
    }

    #[test]
    fn origin_is_midnight_of_the_first_day() {
        let t = 1_700_000_000_123_456_789; // 2023-11-14T22:13:20.123456789Z
        assert_eq!(start_of_day(t, None).unwrap(), 1_699_920_000_000_000_000);
        // 23:13 in Berlin is the same day there; midnight is 23:00Z the day before.
        assert_eq!(start_of_day(t, Some("Europe/Berlin")).unwrap(), 1_699_916_400_000_000_000);
        assert_eq!(start_of_day(-1, None).unwrap(), -NANOS_PER_DAY);
    }

    #[test]
    fn wall_clock_times_become_instants() {
        let nanos = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_nanos_opt().unwrap();
        let berlin = |local: &str| local_to_instant(nanos(local), "Europe/Berlin").unwrap();
        assert_eq!(berlin("2024-03-30T00:00:00Z"), nanos("2024-03-29T23:00:00Z"));
        // Skipped when the clocks went forward: the offset from before.
        assert_eq!(berlin("2024-03-31T02:30:00Z"), nanos("2024-03-31T01:30:00Z"));
        // Twice when they went back: the first.
        assert_eq!(berlin("2024-10-27T02:30:00Z"), nanos("2024-10-27T00:30:00Z"));
        assert_eq!(local_to_instant(5, "+02:00").unwrap(), 5 - 7_200_000_000_000);
    }

    #[test]
    fn functions() {
        assert_eq!("median".parse::<Aggregation>().unwrap(), Aggregation::Median);
        assert!(matches!("avg".parse::<Aggregation>(), Err(DaemonError::InvalidArgument(_))));
        assert!(!Aggregation::Mean.accepts(&DataType::Utf8));
        assert!(Aggregation::Max.accepts(&DataType::Utf8));
        assert!(Aggregation::Last.accepts(&DataType::Utf8));
    }
}
