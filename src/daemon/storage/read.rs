//! Reading a version back as a stream of record batches, file by file and
//! row group by row group, so memory stays bounded by one row group.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::RecordBatch;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt, TryFutureExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::dictionaries::{self, Restorer};
use super::{Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

/// [`Store::scan`].
pub(super) fn scan(store: &Store, snap: &Snapshot) -> BoxStream<'static, Result<RecordBatch>> {
    let reading = store.hold(snap);
    let os = store.object_store();
    let schema = snap.schema.clone();
    let batch_rows = store.options.read_batch_rows;
    let files: Vec<_> = snap.commit.files.iter().map(|f| (snap.file_path(f), f.bytes)).collect();
    let opened_schema = schema.clone();
    futures::stream::iter(files)
        .map(move |(path, size)| {
            let reader = DataFileReader { store: os.clone(), path, size };
            let schema = opened_schema.clone();
            async move {
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

/// A Parquet data file in the object store. Its size is in the commit, so
/// the footer costs one ranged read and no HEAD.
struct DataFileReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

fn parquet_error(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for DataFileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        self.store.get_range(&self.path, range).map_err(parquet_error).boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(parquet_error) }.boxed()
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
