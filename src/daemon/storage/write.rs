//! Puts: stream record batches into new Parquet files, then commit them.
//!
//! Data files are written before the commit lock is taken, so puts to one
//! dataframe upload in parallel and only their commits are serialised. A put
//! that fails or is cancelled deletes what it wrote; one cut short by a crash
//! leaves files no commit names, which readers never see.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use object_store::buffered::BufWriter;
use parquet::arrow::async_writer::AsyncArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::log::{Commit, DataFile, Operation};
use super::{BucketId, Name, Store};
use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Refuse if the dataframe exists.
    Error,
    Append,
    Replace,
}

impl std::str::FromStr for WriteMode {
    type Err = DaemonError;
    fn from_str(s: &str) -> Result<WriteMode> {
        match s {
            "error" => Ok(WriteMode::Error),
            "append" => Ok(WriteMode::Append),
            "replace" => Ok(WriteMode::Replace),
            other => Err(DaemonError::InvalidArgument(format!(
                "unknown mode \"{}\": must be one of error, append, replace",
                other.escape_default()
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PutOutcome {
    pub version: u64,
    pub rows: u64,
    /// Data files of the new version, for deciding on compaction.
    pub files: usize,
}

/// Appends must keep column names and types; metadata and nullability may
/// differ (pandas puts the row count of each frame into its metadata).
/// The error names what differs, not every column.
fn check_append_schema(existing: &Schema, incoming: &Schema, name: &Name) -> Result<()> {
    let names = |s: &Schema| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
    let problem = if names(existing) != names(incoming) {
        Some(format!("its columns are {:?} but the data has {:?}", names(existing), names(incoming)))
    } else {
        existing.fields().iter().zip(incoming.fields()).find(|(a, b)| a.data_type() != b.data_type()).map(|(a, b)| {
            format!("column {:?} is {} in the dataframe but {} in the data", a.name(), a.data_type(), b.data_type())
        })
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(DaemonError::SchemaMismatch(format!("cannot append to dataframe {name}: {p}"))),
    }
}

impl Store {
    /// Stores `batches` (whose schema is `schema`) as the next version of a
    /// dataframe. Nothing becomes visible unless the whole stream arrives.
    pub async fn put<S>(
        &self,
        bucket: &BucketId,
        name: &Name,
        mode: WriteMode,
        schema: SchemaRef,
        batches: S,
    ) -> Result<PutOutcome>
    where
        S: Stream<Item = Result<RecordBatch>> + Send,
    {
        // Refuse early, before a byte is written; the commit checks again.
        let existing = self.current(bucket, name).await?;
        let table_schema = match (&existing, mode) {
            (Some(_), WriteMode::Error) => {
                return Err(DaemonError::Exists(format!("dataframe {name} already exists in bucket {bucket}")))
            }
            (Some(snap), WriteMode::Append) => {
                check_append_schema(&snap.schema, &schema, name)?;
                snap.schema.clone()
            }
            _ => schema,
        };

        let files = DataWriter::new(self, bucket, name, table_schema.clone()).write_all(batches).await?;

        let committed = self.commit_put(bucket, name, mode, &table_schema, files.clone()).await;
        match committed {
            Ok(commit) => Ok(PutOutcome {
                version: commit.version,
                rows: files.iter().map(|f| f.rows).sum(),
                files: commit.files.len(),
            }),
            Err(e) => {
                let prefix = Store::df_prefix(bucket, name);
                self.delete_paths(files.iter().map(|f| Path::from(format!("{prefix}/{}", f.path))).collect())
                    .await
                    .ok();
                Err(e)
            }
        }
    }

    async fn commit_put(
        &self,
        bucket: &BucketId,
        name: &Name,
        mode: WriteMode,
        schema: &Schema,
        files: Vec<DataFile>,
    ) -> Result<Commit> {
        self.ensure_bucket(bucket).await?;
        self.commit_next(bucket, name, |head| {
            let next = head.map_or(1, |c| c.version + 1);
            let live = head.filter(|c| c.operation != Operation::Delete);
            match (live, mode) {
                (Some(_), WriteMode::Error) => {
                    Err(DaemonError::Exists(format!("dataframe {name} already exists in bucket {bucket}")))
                }
                (Some(cur), WriteMode::Append) => {
                    let current_schema = cur.decode_schema()?;
                    check_append_schema(&current_schema, schema, name)?;
                    let mut all = cur.files.clone();
                    all.extend(files.iter().cloned());
                    Commit::new(next, Operation::Append, files.clone(), vec![], all, &current_schema)
                }
                (Some(cur), WriteMode::Replace) => {
                    let removed = cur.files.iter().map(|f| f.path.clone()).collect();
                    Commit::new(next, Operation::Replace, files.clone(), removed, files.clone(), schema)
                }
                (None, _) => Commit::new(next, Operation::Create, files.clone(), vec![], files.clone(), schema),
            }
        })
        .await
    }
}

/// Writes a stream of batches as zstd Parquet files of at most
/// `file_rows` rows each, every file carrying the exact Arrow schema.
pub(super) struct DataWriter {
    os: Arc<dyn ObjectStore>,
    prefix: String,
    schema: SchemaRef,
    props: WriterProperties,
    file_rows: usize,
    current: Option<OpenFile>,
    done: Vec<DataFile>,
}

struct OpenFile {
    writer: AsyncArrowWriter<BufWriter>,
    relative: String,
    rows: usize,
}

impl DataWriter {
    pub(super) fn new(store: &Store, bucket: &BucketId, name: &Name, schema: SchemaRef) -> DataWriter {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid zstd level")))
            .set_max_row_group_row_count(Some(store.options.row_group_rows))
            .build();
        DataWriter {
            os: store.object_store(),
            prefix: Store::df_prefix(bucket, name).to_string(),
            schema,
            props,
            file_rows: store.options.file_rows,
            current: None,
            done: Vec::new(),
        }
    }

    /// Writes every batch and closes the last file; on any error deletes
    /// what it wrote and returns the error.
    pub(super) async fn write_all<S>(mut self, batches: S) -> Result<Vec<DataFile>>
    where
        S: Stream<Item = Result<RecordBatch>> + Send,
    {
        let written = async {
            futures::pin_mut!(batches);
            while let Some(batch) = batches.next().await {
                self.write(batch?).await?;
            }
            self.finish().await
        }
        .await;
        if written.is_err() {
            self.abort().await;
        }
        written
    }

    async fn write(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        // Every file gets the dataframe's schema, metadata included; this also
        // rejects nulls in a column the dataframe declares non-nullable.
        let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(|e| DaemonError::SchemaMismatch(format!("batch does not fit the dataframe's schema: {e}")))?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                self.open()?;
            }
            let file = self.current.as_mut().expect("a file is open");
            let take = (self.file_rows - file.rows).min(batch.num_rows() - offset);
            file.writer.write(&batch.slice(offset, take)).await?;
            file.rows += take;
            offset += take;
            if file.rows >= self.file_rows {
                self.close_current().await?;
            }
        }
        Ok(())
    }

    fn open(&mut self) -> Result<()> {
        let relative = format!("data/{}.parquet", uuid::Uuid::new_v4());
        let path = Path::from(format!("{}/{relative}", self.prefix));
        let sink = BufWriter::new(self.os.clone(), path);
        let writer = AsyncArrowWriter::try_new(sink, self.schema.clone(), Some(self.props.clone()))?;
        self.current = Some(OpenFile { writer, relative, rows: 0 });
        Ok(())
    }

    async fn close_current(&mut self) -> Result<()> {
        if let Some(mut file) = self.current.take() {
            file.writer.finish().await?;
            let bytes = file.writer.bytes_written() as u64;
            self.done.push(DataFile { path: file.relative, rows: file.rows as u64, bytes });
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<Vec<DataFile>> {
        self.close_current().await?;
        Ok(self.done.clone())
    }

    /// Best effort: the caller is already failing with the error that matters.
    async fn abort(mut self) {
        // Dropping an unfinished upload discards its staging file.
        self.current = None;
        for file in std::mem::take(&mut self.done) {
            let path = Path::from(format!("{}/{}", self.prefix, file.path));
            self.os.delete(&path).await.ok();
        }
    }
}
