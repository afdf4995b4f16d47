//! Which rows a change in place takes out: those where a SQL predicate
//! holds (row deletes), those older than a cutoff (retention), those whose
//! keys an upload has (upsert). Each comes with what Parquet statistics can
//! tell of a row group without reading it.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::prep_null_mask_filter;
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{lit, Expr, ExprSchemable};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::pruning::{PruningPredicate, PruningPredicateBuilder};
use datafusion::prelude::SessionContext;

use crate::daemon::error::{DaemonError, Result};

/// Which rows of a batch (of a selection's columns) it matches.
type Matcher = Box<dyn Fn(&RecordBatch) -> Result<BooleanArray> + Send + Sync>;

/// Which rows a change removes.
pub(super) struct Selection {
    /// The columns `matches` looks at (some of the dataframe's).
    pub(super) columns: SchemaRef,
    pub(super) matches: Matcher,
    /// Row groups this prunes hold no matching row.
    pub(super) may_match: Option<Arc<PruningPredicate>>,
    /// Row groups this prunes hold nothing but matching rows.
    pub(super) all_match: Option<Arc<PruningPredicate>>,
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
