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
use parquet::arrow::ArrowWriter;
use parquet::errors::Result;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

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
}

impl FileEncoder {
    /// `schema` goes into the file as its Arrow schema, metadata included.
    pub(super) fn new(schema: SchemaRef, props: WriterProperties, threads: usize) -> Result<FileEncoder> {
        let max_group_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let (writer, factory) =
            ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?.into_serialized_writer()?;
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
        let mut leaves: Vec<Vec<ArrowLeafColumn>> = Vec::with_capacity(self.pending.len());
        for batch in self.pending.drain(..) {
            let mut of_batch = Vec::with_capacity(columns.len());
            for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
                of_batch.extend(compute_leaves(field, column)?);
            }
            leaves.push(of_batch);
        }
        self.pending_rows = 0;
        self.costs.resize(columns.len(), Duration::ZERO);
        let mut jobs: Vec<_> = columns.iter_mut().enumerate().collect();
        jobs.sort_by_key(|(c, _)| Reverse(self.costs[*c]));
        let took = parallel_map(jobs, self.threads, |(c, writer)| {
            let start = Instant::now();
            leaves.iter().try_for_each(|of_batch| writer.write(&of_batch[c]))?;
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
        for chunk in chunks {
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
