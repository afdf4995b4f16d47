//! Parquet encoding with the columns of each row group spread over the
//! cores. Encoding (dictionary, statistics, zstd) is what a put spends its
//! CPU on, and one column's pages never depend on another's, so the columns
//! are independent jobs. Synchronous: it runs on a blocking thread and
//! hands back the bytes of finished row groups for the caller to upload.

use std::cmp::Reverse;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::{compute_leaves, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::ArrowWriter;
use parquet::errors::Result;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;

use super::byte_statistics::{self, ByteStatistics};

/// Rows gathered before the column jobs run: large enough that starting
/// the threads costs little next to the work, small enough to stay cheap
/// in memory.
const ENCODE_ROWS: usize = 64 * 1024;

pub(super) struct FileEncoder {
    writer: SerializedFileWriter<Vec<u8>>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// The column writers of the row group in progress.
    columns: Option<Vec<ArrowColumnWriter>>,
    /// Rows of the row group in progress, encoded or pending.
    group_rows: usize,
    max_group_rows: usize,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    threads: usize,
    /// How long each leaf column took to encode its last rows. The next
    /// rows go out costliest first: with more columns than threads, a
    /// costly column picked up last keeps one thread busy after the others
    /// ran out of work (a 4-value string column, interned value by value,
    /// costs what three float columns do).
    costs: Vec<Duration>,
    /// Per leaf column: the statistics gathered here in the writer's place
    /// (top-level string and binary columns), with the column's index.
    statistics: Vec<Option<(usize, ByteStatistics)>>,
}

impl FileEncoder {
    /// `schema` goes into the file as its Arrow schema, metadata included.
    pub(super) fn new(schema: SchemaRef, props: WriterProperties, threads: usize) -> Result<FileEncoder> {
        let max_group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let mut statistics = Vec::new();
        let mut props = props.into_builder();
        for leaf in ArrowSchemaConverter::new().convert(&schema)?.columns() {
            let path = leaf.path();
            let column = match path.parts() {
                [name] => {
                    schema.index_of(name).ok().filter(|&i| byte_statistics::gathered(schema.field(i).data_type()))
                }
                _ => None,
            };
            statistics.push(column.map(|c| (c, ByteStatistics::default())));
            if column.is_some() {
                props = props.set_column_statistics_enabled(path.clone(), EnabledStatistics::None);
            }
        }
        let (writer, factory) =
            ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props.build()))?.into_serialized_writer()?;
        Ok(FileEncoder {
            writer,
            factory,
            schema,
            columns: None,
            group_rows: 0,
            max_group_rows,
            pending: Vec::new(),
            pending_rows: 0,
            threads: threads.max(1),
            costs: Vec::new(),
            statistics,
        })
    }

    /// Adds rows; `batch` must have the encoder's schema.
    pub(super) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (self.max_group_rows - self.group_rows).min(batch.num_rows() - offset);
            self.pending.push(batch.slice(offset, take));
            self.pending_rows += take;
            self.group_rows += take;
            offset += take;
            if self.group_rows == self.max_group_rows {
                self.close_group()?;
            } else if self.pending_rows >= ENCODE_ROWS {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    /// The bytes of finished row groups not yet taken.
    pub(super) fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(self.writer.inner_mut())
    }

    /// Closes the last row group and writes the footer, with `metadata` in
    /// its key-value metadata; returns the bytes
    /// not yet taken and the size of the whole file.
    pub(super) fn finish(mut self, metadata: Option<(&str, String)>) -> Result<(Vec<u8>, u64)> {
        self.close_group()?;
        if let Some((key, value)) = metadata {
            self.writer.append_key_value_metadata(KeyValue::new(key.to_string(), value));
        }
        self.writer.finish()?;
        let size = self.writer.bytes_written() as u64;
        Ok((self.take_output(), size))
    }

    fn encode_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let columns = match self.columns.as_mut() {
            Some(columns) => columns,
            None => {
                let index = self.writer.flushed_row_groups().len();
                self.columns.insert(self.factory.create_column_writers(index)?)
            }
        };
        // leaves[b][c]: leaf column c of pending batch b, in writer order.
        let batches = std::mem::take(&mut self.pending);
        let mut leaves: Vec<Vec<ArrowLeafColumn>> = Vec::with_capacity(batches.len());
        for batch in &batches {
            let mut of_batch = Vec::with_capacity(columns.len());
            for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
                of_batch.extend(compute_leaves(field, column)?);
            }
            leaves.push(of_batch);
        }
        self.pending_rows = 0;
        self.costs.resize(columns.len(), Duration::ZERO);
        let mut jobs: Vec<_> = columns.iter_mut().zip(self.statistics.iter_mut()).enumerate().collect();
        jobs.sort_by_key(|(c, _)| Reverse(self.costs[*c]));
        let took = parallel_map(jobs, self.threads, |(c, (writer, statistics))| {
            let start = Instant::now();
            leaves.iter().try_for_each(|of_batch| writer.write(&of_batch[c]))?;
            if let Some((column, statistics)) = statistics {
                batches.iter().for_each(|batch| statistics.add(batch.column(*column).as_ref()));
            }
            Ok((c, start.elapsed()))
        })?;
        for (c, elapsed) in took {
            self.costs[c] = elapsed;
        }
        Ok(())
    }

    fn close_group(&mut self) -> Result<()> {
        self.encode_pending()?;
        let Some(columns) = self.columns.take() else { return Ok(()) };
        // Closing flushes each column's last page: more encoding work.
        let chunks = parallel_map(columns, self.threads, |writer| writer.close())?;
        let mut group = self.writer.next_row_group()?;
        for (mut chunk, statistics) in chunks.into_iter().zip(&mut self.statistics) {
            if let Some((_, statistics)) = statistics {
                let close = chunk.close_mut();
                close.metadata = close.metadata.clone().into_builder().set_statistics(statistics.take()).build()?;
            }
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.group_rows = 0;
        Ok(())
    }
}

/// `f` over `items` on up to `threads` threads (the caller's among them),
/// results in the order of `items`; the first error is returned.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> Result<R> + Sync) -> Result<Vec<R>> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|item| Mutex::new(Some(item))).collect();
    let results: Vec<Mutex<Option<Result<R>>>> = slots.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = slots.get(i) else { break };
        if let Some(item) = lock(slot).take() {
            *lock(&results[i]) = Some(f(item));
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(slots.len()) {
            scope.spawn(work);
        }
        work();
    });
    results.into_iter().map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every item ran")).collect()
}

/// A poisoned lock means a column job panicked, and the scope re-raises
/// that panic; the data behind the lock is still whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BinaryArray, Int64Array, LargeStringArray, StringArray};
    use bytes::Bytes;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;

    #[test]
    fn string_columns_keep_the_statistics_the_writer_would_have_made() {
        let n = 5000i64;
        let word = |i: i64| ["north", "south", "", "abcdefghij", "abcdefgh", "é"][(i * 7 % 6) as usize];
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from_iter_values(0..n)) as ArrayRef),
            ("site", Arc::new(StringArray::from_iter((0..n).map(|i| (i % 13 != 0).then(|| word(i))))) as _),
            ("large", Arc::new(LargeStringArray::from_iter_values((0..n).map(|i| format!("v{}", i * 31 % 997)))) as _),
            ("bytes", Arc::new(BinaryArray::from_iter((0..n).map(|i| (i >= 3000).then(|| word(i).as_bytes())))) as _),
        ])
        .unwrap();
        let props = || WriterProperties::builder().set_max_row_group_row_count(Some(2048)).build();
        let mut ours = FileEncoder::new(batch.schema(), props(), 2).unwrap();
        ours.write(&batch.slice(0, 1500)).unwrap();
        ours.write(&batch.slice(1500, 3500)).unwrap();
        let (ours, _) = ours.finish(None).unwrap();
        let mut theirs = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props())).unwrap();
        theirs.write(&batch).unwrap();
        let theirs = theirs.into_inner().unwrap();
        let footer = |file: Vec<u8>| SerializedFileReader::new(Bytes::from(file)).unwrap().metadata().clone();
        let (ours, theirs) = (footer(ours), footer(theirs));
        assert_eq!(ours.num_row_groups(), 3);
        assert_eq!(ours.num_row_groups(), theirs.num_row_groups());
        for (a, b) in ours.row_groups().iter().zip(theirs.row_groups()) {
            for (a, b) in a.columns().iter().zip(b.columns()) {
                let (a, b) = (a.statistics().unwrap(), b.statistics().unwrap());
                assert_eq!(a.min_bytes_opt(), b.min_bytes_opt());
                assert_eq!(a.max_bytes_opt(), b.max_bytes_opt());
                assert_eq!(a.null_count_opt(), b.null_count_opt());
            }
        }
    }
}
