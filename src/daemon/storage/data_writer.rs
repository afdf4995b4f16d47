//! Writing a stream of record batches as new data files, which puts,
//! compactions and changes in place then commit.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::{Stream, StreamExt};
use object_store::buffered::BufWriter;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Handle;

use super::dictionaries::{Dictionaries, METADATA_KEY};
use super::distinct::DistinctSample;
use super::encode::FileEncoder;
use super::in_use::{Held, InUse};
use super::layout;
use super::log::DataFile;
use super::{BucketId, Name, Store};
use crate::daemon::error::{DaemonError, Result};
use crate::parquet_format::writer_properties;

/// Writes a stream of batches as zstd Parquet files of at most
/// `file_rows` rows each, every file carrying the exact Arrow schema.
///
/// The encoding runs on a blocking thread, fed through a short channel, so
/// receiving and decoding the upload overlaps with encoding it.
pub(super) struct DataWriter {
    os: Arc<dyn ObjectStore>,
    /// The store's files being written, and this writer's among them.
    in_use: InUse<String>,
    writing: Vec<Held<String>>,
    bucket: BucketId,
    name: Name,
    schema: SchemaRef,
    row_group_rows: usize,
    file_rows: usize,
    threads: usize,
    part_bytes: usize,
}

enum Input {
    Batch(Result<RecordBatch>),
    /// The stream ended normally. A channel that closes without it was
    /// dropped mid-way (the put was cancelled), and nothing may be kept.
    End,
}

struct OpenFile {
    encoder: FileEncoder,
    dictionaries: Dictionaries,
    distinct: DistinctSample,
    sink: BufWriter,
    relative: String,
    rows: usize,
}

impl DataWriter {
    pub(super) fn new(store: &Store, bucket: &BucketId, name: &Name, schema: SchemaRef) -> DataWriter {
        DataWriter {
            os: store.object_store(),
            in_use: store.writing.clone(),
            writing: Vec::new(),
            bucket: bucket.clone(),
            name: name.clone(),
            schema,
            row_group_rows: store.options.row_group_rows,
            file_rows: store.options.file_rows,
            threads: store.options.encode_threads,
            part_bytes: store.location.upload_part_bytes(),
        }
    }

    /// Writes every batch and closes the last file; on any error deletes
    /// what it wrote and returns the error. The files count as being written
    /// until the returned guards drop, which the caller does once they are
    /// committed.
    pub(super) async fn write_all<S>(self, batches: S) -> Result<(Vec<DataFile>, Vec<Held<String>>)>
    where
        S: Stream<Item = Result<RecordBatch>> + Send,
    {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let runtime = Handle::current();
        let encoding = tokio::task::spawn_blocking(move || self.encode_all(rx, runtime));
        let fed = async {
            futures::pin_mut!(batches);
            while let Some(batch) = batches.next().await {
                let failed = batch.is_err();
                // A closed channel means the encoder failed; its error is the one to report.
                if tx.send(Input::Batch(batch)).await.is_err() || failed {
                    return;
                }
            }
            tx.send(Input::End).await.ok();
        };
        fed.await;
        drop(tx);
        encoding.await.map_err(|e| DaemonError::internal("the parquet encoder failed", e))?
    }

    fn encode_all(
        mut self,
        mut input: tokio::sync::mpsc::Receiver<Input>,
        runtime: Handle,
    ) -> Result<(Vec<DataFile>, Vec<Held<String>>)> {
        let mut current: Option<OpenFile> = None;
        let mut done = Vec::new();
        let written = (|| loop {
            match input.blocking_recv() {
                Some(Input::Batch(batch)) => self.write(&mut current, &mut done, batch?, &runtime)?,
                Some(Input::End) => return self.close(&mut current, &mut done, &runtime),
                None => return Err(DaemonError::Io("upload cancelled".into())),
            }
        })();
        match written {
            Ok(()) => Ok((done, self.writing)),
            Err(e) => {
                // Best effort: the caller is already failing with the error that matters.
                runtime.block_on(async {
                    if let Some(mut file) = current {
                        file.sink.abort().await.ok();
                    }
                    for file in done {
                        self.os.delete(&layout::data_file(&self.bucket, &self.name, &file.path)).await.ok();
                    }
                });
                Err(e)
            }
        }
    }

    fn write(
        &mut self,
        current: &mut Option<OpenFile>,
        done: &mut Vec<DataFile>,
        batch: RecordBatch,
        runtime: &Handle,
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        // Every file gets the dataframe's schema, metadata included; this also
        // rejects nulls in a column the dataframe declares non-nullable.
        let batch = RecordBatch::try_new(self.schema.clone(), batch.columns().to_vec())
            .map_err(|e| DaemonError::SchemaMismatch(format!("batch does not fit the dataframe's schema: {e}")))?;
        let mut offset = 0;
        while offset < batch.num_rows() {
            let file = match current {
                Some(file) => file,
                None => current.insert(self.open(&batch.slice(offset, batch.num_rows() - offset))?),
            };
            let take = (self.file_rows - file.rows).min(batch.num_rows() - offset);
            let rows = batch.slice(offset, take);
            file.dictionaries.observe(&rows)?;
            file.distinct.observe(&rows);
            file.encoder.write(&rows)?;
            file.rows += take;
            offset += take;
            let ready = file.encoder.take_output();
            if !ready.is_empty() {
                runtime.block_on(file.sink.put(ready.into()))?;
            }
            if file.rows >= self.file_rows {
                self.close(current, done, runtime)?;
            }
        }
        Ok(())
    }

    /// Starts a file whose first rows are `sample`, which picks encodings.
    fn open(&mut self, sample: &RecordBatch) -> Result<OpenFile> {
        let relative = layout::new_data_file();
        let path = layout::data_file(&self.bucket, &self.name, &relative);
        self.writing.push(self.in_use.hold(path.to_string()));
        // object_store's default (10 MB parts, 8 in flight) would hold up to
        // 80 MB per upload; two parts in flight keep a store just as busy.
        let sink = BufWriter::with_capacity(self.os.clone(), path, self.part_bytes).with_max_concurrency(2);
        let props = writer_properties(&self.schema, self.row_group_rows, Some(sample));
        let encoder = FileEncoder::new(self.schema.clone(), props, self.threads)?;
        let dictionaries = Dictionaries::new(&self.schema)?;
        Ok(OpenFile { encoder, dictionaries, distinct: DistinctSample::new(&self.schema), sink, relative, rows: 0 })
    }

    fn close(&self, current: &mut Option<OpenFile>, done: &mut Vec<DataFile>, runtime: &Handle) -> Result<()> {
        let Some(OpenFile { encoder, dictionaries, distinct, mut sink, relative, rows }) = current.take() else {
            return Ok(());
        };
        let (tail, bytes) = encoder.finish(dictionaries.encode()?.map(|d| (METADATA_KEY, d)))?;
        runtime.block_on(async {
            sink.put(tail.into()).await?;
            sink.shutdown().await.map_err(|e| DaemonError::internal(format!("writing {relative}"), e))
        })?;
        done.push(DataFile { distinct: distinct.counts(), ..DataFile::whole(relative, rows as u64, bytes) });
        Ok(())
    }
}
