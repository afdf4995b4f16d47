//! The writes SQL may make: `INSERT` is an append and `DELETE` the
//! `delete_rows` action, each one commit, all or nothing, and each needs a
//! write token for the target's bucket.

use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, RecordBatch};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{Field, Schema, SchemaRef};
use futures::StreamExt;

use super::statement::{Delete, Insert, Query, Statement};
use crate::daemon::auth::{Principal, Role};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::{QueryEngine, Scope};
use crate::daemon::storage::{PutSpec, Store};
use crate::protocol::PutMode;

/// What a write did: the version it made and the rows it wrote or deleted.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    pub version: u64,
    pub rows: u64,
}

impl Statement {
    /// The one column a write answers with (`rows_inserted`,
    /// `rows_deleted`); `None` for a query.
    pub fn written_column(&self) -> Option<&'static str> {
        match self {
            Statement::Insert(_) => Some("rows_inserted"),
            Statement::Delete(_) => Some("rows_deleted"),
            Statement::Query(_) => None,
        }
    }
}

/// What a write answers in a front end that answers with rows.
pub fn written_schema(column: &str) -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(column, arrow::datatypes::DataType::UInt64, false)]))
}

pub fn written_batch(column: &str, rows: u64) -> Result<RecordBatch> {
    RecordBatch::try_new(written_schema(column), vec![Arc::new(arrow::array::UInt64Array::from(vec![rows]))])
        .map_err(|e| DaemonError::internal("a write's reply", e))
}

/// Runs a write; a query is not one.
pub async fn run(
    store: &Arc<Store>,
    engine: &QueryEngine,
    scope: &Scope,
    caller: &Principal,
    statement: &Statement,
) -> Result<Written> {
    match statement {
        Statement::Insert(i) => insert(store, engine, scope, caller, i).await,
        Statement::Delete(d) => delete(store, caller, d).await,
        Statement::Query(_) => Err(DaemonError::internal("a query run as a write", "not a write".to_string())),
    }
}

/// Appends the rows of `insert` (a `SELECT` into a missing dataframe
/// creates it), cast to the dataframe's column types; a value that does
/// not cast fails the whole statement and nothing is written.
pub async fn insert(
    store: &Arc<Store>,
    engine: &QueryEngine,
    scope: &Scope,
    caller: &Principal,
    insert: &Insert,
) -> Result<Written> {
    let (bucket, name) = (&insert.target.bucket, &insert.target.name);
    caller.require(Role::Write, "insert rows")?;
    caller.require_bucket(bucket)?;
    let rows = engine.execute(scope, &Query::plain(insert.rows.as_str())).await?;
    let source = rows.schema();
    let existing = store.current(bucket, name).await?;
    let schema = match &existing {
        Some(snapshot) => snapshot.schema.clone(),
        None if insert.values && insert.columns.is_empty() => {
            return Err(DaemonError::NotFound(format!(
                "dataframe {name} not found: INSERT ... VALUES needs its columns named to create it \
                 (INSERT INTO {name} (a, b) VALUES ...), or INSERT ... SELECT"
            )))
        }
        None => new_schema(&source, &insert.columns)?,
    };
    let fill = Fill::new(&schema, &source, &insert.columns, name.as_str())?;
    let batches = rows.map(move |batch| fill.apply(&batch?)).boxed();
    let done = store.put(bucket, name, PutSpec::plain(PutMode::Append), schema, batches).await?;
    store.maybe_compact_in_background(bucket, name, done.small_files);
    Ok(Written { version: done.version, rows: done.rows })
}

/// Deletes the rows where `delete`'s predicate holds.
pub async fn delete(store: &Arc<Store>, caller: &Principal, delete: &Delete) -> Result<Written> {
    let (bucket, name) = (&delete.target.bucket, &delete.target.name);
    caller.require(Role::Write, "delete rows")?;
    caller.require_bucket(bucket)?;
    let done = store.delete_rows(bucket, name, &delete.predicate).await?;
    store.maybe_compact_in_background(bucket, name, done.small_files);
    Ok(Written { version: done.version, rows: done.removed })
}

/// The schema a `SELECT` creates: its own, with the columns renamed as
/// the statement lists them.
fn new_schema(source: &Schema, columns: &[String]) -> Result<SchemaRef> {
    if columns.is_empty() {
        return Ok(Arc::new(source.clone()));
    }
    if columns.len() != source.fields().len() {
        return Err(DaemonError::SchemaMismatch(format!(
            "INSERT names {} columns but its rows have {}",
            columns.len(),
            source.fields().len()
        )));
    }
    let fields: Vec<Field> =
        source.fields().iter().zip(columns).map(|(f, n)| f.as_ref().clone().with_name(n)).collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// How a row of the statement becomes a row of the dataframe: for each of
/// its columns, the statement's column that fills it (cast to its type),
/// or none (NULL).
pub struct Fill {
    schema: SchemaRef,
    from: Vec<Option<usize>>,
}

impl Fill {
    pub fn new(schema: &SchemaRef, source: &Schema, columns: &[String], name: &str) -> Result<Fill> {
        let mismatch = |m: String| Err(DaemonError::SchemaMismatch(m));
        let from = if columns.is_empty() {
            if source.fields().len() != schema.fields().len() {
                return mismatch(format!(
                    "INSERT has {} columns but dataframe {name} has {} ({})",
                    source.fields().len(),
                    schema.fields().len(),
                    names(schema)
                ));
            }
            (0..schema.fields().len()).map(Some).collect()
        } else {
            if columns.len() != source.fields().len() {
                return mismatch(format!(
                    "INSERT names {} columns but its rows have {}",
                    columns.len(),
                    source.fields().len()
                ));
            }
            for (i, column) in columns.iter().enumerate() {
                if schema.field_with_name(column).is_err() {
                    return mismatch(format!("dataframe {name} has no column {column} (it has {})", names(schema)));
                }
                if columns[..i].contains(column) {
                    return mismatch(format!("INSERT names column {column} twice"));
                }
            }
            schema.fields().iter().map(|f| columns.iter().position(|c| c == f.name())).collect()
        };
        Ok(Fill { schema: schema.clone(), from })
    }

    pub fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        // Values that do not fit fail instead of turning into NULLs.
        let options = CastOptions { safe: false, ..Default::default() };
        let columns = self
            .schema
            .fields()
            .iter()
            .zip(&self.from)
            .map(|(field, from)| match from {
                Some(i) => cast_with_options(batch.column(*i), field.data_type(), &options)
                    .map_err(|e| DaemonError::SchemaMismatch(format!("column {}: {e}", field.name()))),
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| DaemonError::SchemaMismatch(e.to_string()))
    }
}

fn names(schema: &Schema) -> String {
    schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
}
