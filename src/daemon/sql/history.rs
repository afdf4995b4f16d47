//! `history('name')` (or `history('bucket.name')`) in SQL: a dataframe's
//! kept versions as a table, what `shoots history` prints, so SQL tools can
//! list the versions `AT (VERSION => n)` reads.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::scalar::ScalarValue;

use crate::daemon::storage::{BucketId, Store, Target};
use crate::protocol::DEFAULT_SCHEMA;

/// The table function, for the buckets a query sees (`visible`; `None`:
/// all), with bare names in `default`.
pub struct HistoryFunction {
    store: Arc<Store>,
    default: BucketId,
    visible: Option<BTreeSet<BucketId>>,
}

impl HistoryFunction {
    pub fn new(store: Arc<Store>, default: BucketId, visible: Option<BTreeSet<BucketId>>) -> HistoryFunction {
        HistoryFunction { store, default, visible }
    }
}

impl std::fmt::Debug for HistoryFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("history()")
    }
}

fn schema() -> SchemaRef {
    let count = |name: &str| Field::new(name, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        count("version"),
        Field::new("timestamp", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new("operation", DataType::Utf8, false),
        count("rows"),
        count("rows_added"),
        count("rows_updated"),
        count("rows_deleted"),
        count("files_added"),
        count("files_removed"),
        count("files"),
    ]))
}

fn usage() -> DataFusionError {
    DataFusionError::Plan("history takes one dataframe name: history('name') or history('bucket.name')".into())
}

impl TableFunctionImpl for HistoryFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [Expr::Literal(ScalarValue::Utf8(Some(name)) | ScalarValue::Utf8View(Some(name)), _)] = args.exprs() else {
            return Err(usage());
        };
        let target = match name.split_once('.') {
            Some((bucket, frame)) if bucket == DEFAULT_SCHEMA => Target::parse(None, frame),
            Some((bucket, frame)) => Target::parse(Some(bucket), frame),
            None => Target::parse(self.default.name(), name.as_str()),
        }
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
        if !self.visible.as_ref().is_none_or(|v| v.contains(&target.bucket)) {
            let e = crate::daemon::error::DaemonError::Unauthorized(format!(
                "this token is not valid for bucket {}",
                target.bucket
            ));
            return Err(DataFusionError::External(Box::new(e)));
        }
        Ok(Arc::new(HistoryTable { store: self.store.clone(), target }))
    }
}

struct HistoryTable {
    store: Arc<Store>,
    target: Target,
}

impl std::fmt::Debug for HistoryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "history('{}')", self.target)
    }
}

#[async_trait]
impl TableProvider for HistoryTable {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let (bucket, name): (&BucketId, _) = (&self.target.bucket, &self.target.name);
        let versions = self.store.history(bucket, name).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
        let summaries: Vec<_> = versions.iter().map(|c| c.summary()).collect();
        let counts = |f: fn(&crate::protocol::VersionInfo) -> u64| -> ArrayRef {
            Arc::new(summaries.iter().map(f).collect::<UInt64Array>())
        };
        let columns: Vec<ArrayRef> = vec![
            counts(|v| v.version),
            Arc::new(
                TimestampMillisecondArray::from(summaries.iter().map(|v| v.timestamp_ms).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(summaries.iter().map(|v| v.operation.as_str()))),
            counts(|v| v.rows),
            counts(|v| v.rows_added),
            counts(|v| v.rows_updated),
            counts(|v| v.rows_deleted),
            counts(|v| v.files_added as u64),
            counts(|v| v.files_removed as u64),
            counts(|v| v.files as u64),
        ];
        let batch = RecordBatch::try_new(schema(), columns)?;
        Ok(MemorySourceConfig::try_new_exec(&[vec![batch]], schema(), projection.cloned())?)
    }
}
