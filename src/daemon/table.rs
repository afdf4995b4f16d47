//! One version of one dataframe as a DataFusion table: a Parquet scan of
//! exactly the files the version lists, with the planner's estimates. The
//! query engine's catalog, the daemon's own queries and diffs read through it.

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{Column, Statistics};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{cast, Expr};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;

use crate::daemon::error::Result;
use crate::daemon::storage::{Snapshot, Store};

/// Where the runtime of every query finds the store.
pub const STORE_URL: &str = "shoots://store";

/// What the planner may assume of a version's rows: how many there are, and
/// how many distinct values its low-cardinality columns hold (at most the
/// sum over its files of what each file's sample saw). Estimates only, so
/// no answer is taken from them.
fn estimates(snapshot: &Snapshot) -> Statistics {
    let schema = &snapshot.schema;
    let rows = usize::try_from(snapshot.commit.rows).unwrap_or(usize::MAX);
    let mut statistics = Statistics::new_unknown(schema);
    statistics.num_rows = Precision::Inexact(rows);
    let files = &snapshot.commit.files;
    for (field, column) in schema.fields().iter().zip(&mut statistics.column_statistics) {
        let counts: Option<Vec<u64>> = files.iter().map(|f| f.distinct.get(field.name()).copied()).collect();
        if let Some(counts) = counts.filter(|c| !c.is_empty()) {
            let sum = counts.iter().sum::<u64>();
            column.distinct_count = Precision::Inexact(usize::try_from(sum).unwrap_or(usize::MAX).min(rows));
        }
    }
    statistics
}

/// One version of one dataframe as a DataFusion table: a Parquet scan of
/// exactly the files that version lists (no directory listing).
pub struct DataframeTable {
    snapshot: Snapshot,
    /// The snapshot's schema as queries see it ([`read_types`]).
    schema: SchemaRef,
    store: Arc<Store>,
    /// Each partition reads its own file ranges, in order (DataFusion's
    /// partitions otherwise take ranges from a queue they share).
    in_order: bool,
}

impl DataframeTable {
    pub fn new(snapshot: Snapshot, store: Arc<Store>, in_order: bool) -> DataframeTable {
        DataframeTable { schema: read_types(&snapshot.schema), snapshot, store, in_order }
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

/// Strings are scanned as views: decoding them from a Parquet dictionary,
/// hashing and comparing them is then a matter of 16-byte views, not of
/// copying every string. They leave as the `Utf8` they were stored as
/// ([`plain_strings`]).
fn read_types(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| f.data_type() == &DataType::Utf8) {
        return schema.clone();
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8View)),
            _ => f.clone(),
        })
        .collect();
    Arc::new(arrow::datatypes::Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `planned` with its string views cast back to `Utf8`, the type strings
/// were stored with and every client reads.
pub fn plain_strings(planned: DataFrame) -> Result<DataFrame> {
    if !planned.schema().fields().iter().any(|f| f.data_type() == &DataType::Utf8View) {
        return Ok(planned);
    }
    let columns: Vec<Expr> = planned
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            match field.data_type() {
                DataType::Utf8View => cast(column, DataType::Utf8).alias_qualified(qualifier.cloned(), field.name()),
                _ => column,
            }
        })
        .collect();
    Ok(planned.select(columns)?)
}

impl std::fmt::Debug for DataframeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataframeTable").field("snapshot", &self.snapshot).finish()
    }
}

#[async_trait]
impl TableProvider for DataframeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let schema = self.schema.clone();
        if self.snapshot.commit.files.is_empty() {
            let projected = datafusion::physical_plan::project_schema(&schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let mut files = Vec::with_capacity(self.snapshot.commit.files.len());
        for f in &self.snapshot.commit.files {
            let mut file = PartitionedFile::new(self.snapshot.file_path(f).to_string(), f.bytes);
            // Some row groups of a file (the rest were rewritten by a change in place).
            if let Some([start, end]) = f.range {
                file = file.with_range(start as i64, end as i64);
            }
            let plan =
                self.store.access_plan(&self.snapshot, f).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
            if let Some(plan) = plan {
                file = file.with_extension(plan);
            }
            files.push(file);
        }
        let store = state.runtime_env().object_store(ObjectStoreUrl::parse(STORE_URL)?)?;
        let footers = state.runtime_env().cache_manager.get_file_metadata_cache();
        let source = Arc::new(
            ParquetSource::new(schema)
                .with_parquet_file_reader_factory(Arc::new(CachedParquetFileReaderFactory::new(store, footers))),
        );
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::parse(STORE_URL)?, source)
            .with_file_group(FileGroup::new(files))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .with_preserve_order(self.in_order)
            .with_statistics(estimates(&self.snapshot))
            .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}
