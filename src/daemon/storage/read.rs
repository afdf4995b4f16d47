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
use parquet::arrow::{ParquetRecordBatchStreamBuilder, ProjectionMask};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, RowGroupMetaData};

use super::dictionaries::{self, Restorer};
use super::{evolve, DataFile, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};
use arrow::datatypes::SchemaRef;

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
    let pieces = files.iter().map(|f| Piece { file: f.clone(), row_groups: None }).collect();
    read(store, snap, pieces, snap.schema.clone())
}

/// Some row groups of one entry of a version (all of the entry's: `None`).
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub file: DataFile,
    pub row_groups: Option<Vec<usize>>,
}

/// The rows of `pieces`, in order, shaped as `target` (`snap`'s schema or
/// some of its columns): files written under an older schema read with
/// its missing columns null and narrower types cast up.
pub(super) fn read(
    store: &Store,
    snap: &Snapshot,
    pieces: Vec<Piece>,
    target: SchemaRef,
) -> BoxStream<'static, Result<RecordBatch>> {
    let reading = snap.reading();
    let os = store.object_store();
    let batch_rows = store.options.read_batch_rows;
    let pieces: Vec<_> = pieces.into_iter().map(|p| (snap.file_path(&p.file), snap.deleted_path(&p.file), p)).collect();
    // The sizes are in the commit, so no HEAD; the footers are cached, so
    // a file read before costs only its row groups; a small file is one read.
    let readers = CachedParquetFileReaderFactory::new(os.clone(), store.footers());
    let metrics = ExecutionPlanMetricsSet::new();
    let opened_target = target.clone();
    let deleted = store.deleted.clone();
    futures::stream::iter(pieces)
        .map(move |(path, deleted_path, piece)| {
            let (deleted, os) = (deleted.clone(), os.clone());
            let size = piece.file.bytes;
            let reader = if size <= SMALL_FILE_BYTES && piece.file.range.is_none() {
                Ok(Box::new(SmallFile { store: os.clone(), path: path.clone(), size, bytes: None })
                    as Box<dyn AsyncFileReader + Send>)
            } else {
                readers.create_reader(0, PartitionedFile::new(path.to_string(), size), FOOTER_HINT, &metrics)
            };
            let target = opened_target.clone();
            async move {
                let reader = SendReader(reader?);
                let builder = ParquetRecordBatchStreamBuilder::new(reader).await?;
                let file_schema = builder.schema().clone();
                let kept = builder.metadata().file_metadata().key_value_metadata().and_then(|kv| {
                    kv.iter().find(|e| e.key == dictionaries::METADATA_KEY).and_then(|e| e.value.clone())
                });
                let restorer = Restorer::new(&file_schema, kept.as_deref())?;
                let groups = match (piece.row_groups, piece.file.range) {
                    (Some(groups), _) => Some(groups),
                    (None, Some(_)) => Some(row_groups_of(builder.metadata(), &piece.file)),
                    (None, None) => None,
                };
                let positions = deleted.load(os.as_ref(), deleted_path.as_ref()).await?;
                let selection = (!positions.is_empty()).then(|| {
                    let all: Vec<usize> = (0..builder.metadata().num_row_groups()).collect();
                    super::deleted::selection(builder.metadata(), groups.as_deref().unwrap_or(&all), &positions)
                });
                let mut builder = builder.with_batch_size(batch_rows);
                if let Some(groups) = groups {
                    builder = builder.with_row_groups(groups);
                }
                if let Some(selection) = selection {
                    builder = builder.with_row_selection(selection);
                }
                let wanted: Vec<usize> = (0..file_schema.fields().len())
                    .filter(|&i| target.field_with_name(file_schema.field(i).name()).is_ok())
                    .collect();
                if wanted.len() < file_schema.fields().len() {
                    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
                    builder = builder.with_projection(mask);
                }
                let stream = builder.build()?.map_err(DaemonError::from);
                Ok::<_, DaemonError>(stream.map(move |batch| {
                    let batch = match &restorer {
                        Some(restorer) => restorer.restore(batch?)?,
                        None => batch?,
                    };
                    evolve::adapt(batch, &target)
                }))
            }
        })
        // Open the next file (its footer) while the current one streams.
        .buffered(2)
        .try_flatten()
        .map(move |batch| {
            let _ = &reading; // held as long as the stream
            batch
        })
        .boxed()
}

/// The footer of one entry's file (from the cache when read before).
pub(super) async fn footer(store: &Store, snap: &Snapshot, file: &DataFile) -> Result<Arc<ParquetMetaData>> {
    let readers = CachedParquetFileReaderFactory::new(store.object_store(), store.footers());
    let partitioned = PartitionedFile::new(snap.file_path(file).to_string(), file.bytes);
    let mut reader = readers.create_reader(0, partitioned, FOOTER_HINT, &ExecutionPlanMetricsSet::new())?;
    Ok(reader.get_metadata(None).await?)
}

/// Where a row group starts: its first column's first page, which is what
/// DataFusion looks at to decide whether a file range holds it.
pub(super) fn row_group_start(group: &RowGroupMetaData) -> u64 {
    let col = group.column(0);
    col.dictionary_page_offset().unwrap_or_else(|| col.data_page_offset()) as u64
}

/// The row groups of `file` that an entry holds, in order.
pub(super) fn row_groups_of(meta: &ParquetMetaData, file: &DataFile) -> Vec<usize> {
    let groups = meta.row_groups();
    match file.range {
        None => (0..groups.len()).collect(),
        Some([start, end]) => {
            (0..groups.len()).filter(|&i| (start..end).contains(&row_group_start(&groups[i]))).collect()
        }
    }
}

/// The byte range that holds exactly row groups `first..=last` of a file.
pub(super) fn range_of(meta: &ParquetMetaData, file_bytes: u64, first: usize, last: usize) -> [u64; 2] {
    let groups = meta.row_groups();
    let end = groups.get(last + 1).map_or(file_bytes, row_group_start);
    [row_group_start(&groups[first]), end]
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
