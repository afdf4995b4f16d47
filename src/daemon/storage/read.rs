//! Reading a version back as a stream of record batches, file by file and
//! row group by row group, so memory stays bounded by one row group.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::{CachedParquetFileReaderFactory, ParquetFileReaderFactory};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::dictionaries::{self, Restorer};
use super::{DataFile, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

/// [`Store::scan`].
pub(super) fn scan(store: &Store, snap: &Snapshot) -> BoxStream<'static, Result<RecordBatch>> {
    scan_files(store, snap, &snap.commit.files)
}

/// The rows of `files` (some of `snap`'s, in order), with the version held
/// while the stream lives.
pub(super) fn scan_files(
    store: &Store,
    snap: &Snapshot,
    files: &[DataFile],
) -> BoxStream<'static, Result<RecordBatch>> {
    let reading = store.hold(snap);
    let os = store.object_store();
    let schema = snap.schema.clone();
    let batch_rows = store.options.read_batch_rows;
    let files: Vec<_> = files.iter().map(|f| (snap.file_path(f), f.bytes)).collect();
    let opened_schema = schema.clone();
    // The sizes are in the commit, so no HEAD; the footers are cached, so
    // a file read before costs only its row groups; a small file is one read.
    let readers = CachedParquetFileReaderFactory::new(os.clone(), store.footers());
    let metrics = ExecutionPlanMetricsSet::new();
    futures::stream::iter(files)
        .map(move |(path, size)| {
            let reader = if size <= SMALL_FILE_BYTES {
                Ok(Box::new(SmallFile { store: os.clone(), path, size, bytes: None })
                    as Box<dyn AsyncFileReader + Send>)
            } else {
                readers.create_reader(0, PartitionedFile::new(path.to_string(), size), FOOTER_HINT, &metrics)
            };
            let schema = opened_schema.clone();
            async move {
                let reader = SendReader(reader?);
                let builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
                let kept = builder.metadata().file_metadata().key_value_metadata().and_then(|kv| {
                    kv.iter().find(|e| e.key == dictionaries::METADATA_KEY).and_then(|e| e.value.clone())
                });
                let restorer = Restorer::new(&schema, kept.as_deref())?;
                let stream = builder.with_batch_size(batch_rows).build()?.map_err(DaemonError::from);
                Ok::<_, DaemonError>(stream.map(move |batch| match &restorer {
                    Some(restorer) => restorer.restore(batch?),
                    None => batch,
                }))
            }
        })
        // Open the next file (its footer) while the current one streams.
        .buffered(2)
        .try_flatten()
        .map(move |batch| {
            let _ = &reading; // held as long as the stream
            let batch = batch?;
            RecordBatch::try_new(schema.clone(), batch.columns().to_vec())
                .map_err(|e| DaemonError::Io(format!("data file does not match the dataframe's schema: {e}")))
        })
        .boxed()
}

/// The factory's reader as a type the stream builder takes (parquet
/// implements its trait for a boxed reader only without `Send`).
struct SendReader(Box<dyn AsyncFileReader + Send>);

/// A file shorter than its commit says (damaged, or replaced behind the
/// daemon's back) must be an error, not bytes the decoder trips over.
fn whole(range: &Range<u64>, bytes: Bytes) -> parquet::errors::Result<Bytes> {
    if bytes.len() as u64 == range.end - range.start {
        Ok(bytes)
    } else {
        Err(ParquetError::General(format!(
            "data file is damaged: {} bytes where {}..{} should be",
            bytes.len(),
            range.start,
            range.end
        )))
    }
}

impl AsyncFileReader for SendReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let bytes = self.0.get_bytes(range.clone()).await?;
            whole(&range, bytes)
        }
        .boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let got = self.0.get_byte_ranges(ranges.clone()).await?;
            ranges.iter().zip(got).map(|(range, bytes)| whole(range, bytes)).collect()
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        self.0.get_metadata(options)
    }
}

/// Files up to this size are read whole, in one request: a footer read
/// and a data read would each cost about as long.
const SMALL_FILE_BYTES: u64 = 256 << 10;

/// A small data file, read whole at the first ask.
struct SmallFile {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    bytes: Option<Bytes>,
}

impl SmallFile {
    async fn range(&mut self, range: Range<u64>) -> parquet::errors::Result<Bytes> {
        let bytes = match &self.bytes {
            Some(bytes) => bytes,
            None => {
                let got = self.store.get(&self.path).await.map_err(|e| ParquetError::External(Box::new(e)))?;
                self.bytes.insert(got.bytes().await.map_err(|e| ParquetError::External(Box::new(e)))?)
            }
        };
        // Clamped: a file shorter than its commit says is reported by
        // `SendReader`, which checks every range's length.
        let end = (range.end as usize).min(bytes.len());
        Ok(bytes.slice((range.start as usize).min(end)..end))
    }
}

impl AsyncFileReader for SmallFile {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        self.range(range).boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata =
                ParquetMetaDataReader::new().with_arrow_reader_options(options).load_and_finish(self, size).await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Bytes read from a data file's end at once: the footer and its length
/// in one request for all but very wide tables.
pub(super) const FOOTER_HINT: Option<usize> = Some(64 << 10);
