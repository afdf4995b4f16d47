//! Reading a version back as a stream of record batches, file by file and
//! row group by row group, so memory stays bounded by one row group; and
//! the holds that keep a version being read from vacuum.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

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

use super::{BucketId, Name, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

impl Store {
    /// The rows of `snap` in commit order, each batch carrying the
    /// dataframe's exact schema.
    pub fn scan(&self, snap: &Snapshot) -> BoxStream<'static, Result<RecordBatch>> {
        let reading = self.hold(snap);
        let os = self.object_store();
        let schema = snap.schema.clone();
        let batch_rows = self.options.read_batch_rows;
        let files: Vec<_> = snap.commit.files.iter().map(|f| (snap.file_path(f), f.bytes)).collect();
        futures::stream::iter(files)
            .map(move |(path, size)| {
                let reader = DataFileReader { store: os.clone(), path, size };
                async move {
                    let stream = ParquetRecordBatchStreamBuilder::new(reader)
                        .await?
                        .with_batch_size(batch_rows)
                        .build()?;
                    Ok::<_, DaemonError>(stream.map_err(DaemonError::from))
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
}

/// Versions being read right now, with how many readers each.
type Held = Arc<Mutex<HashMap<(BucketId, Name, u64), usize>>>;

/// What vacuum asks before it removes a version: it keeps the ones being
/// read (and their files) until the last reader is done.
#[derive(Default)]
pub(super) struct Readers(Held);

impl Readers {
    pub(super) fn versions(&self, bucket: &BucketId, name: &Name) -> HashSet<u64> {
        let held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        held.keys().filter(|(b, n, _)| b == bucket && n == name).map(|(_, _, v)| *v).collect()
    }
}

/// One reader's hold on a version, released when it drops.
pub struct Reading {
    readers: Held,
    key: (BucketId, Name, u64),
}

impl Drop for Reading {
    fn drop(&mut self) {
        let mut held = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

impl Store {
    /// Keeps `snap`'s version from vacuum while the returned value lives.
    pub fn hold(&self, snap: &Snapshot) -> Reading {
        let key = (snap.bucket.clone(), snap.name.clone(), snap.commit.version);
        *self.readers.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default() += 1;
        Reading { readers: self.readers.0.clone(), key }
    }
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
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
