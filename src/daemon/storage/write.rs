//! Puts: stream record batches into new Parquet files, then commit them.
//!
//! Data files are written before the commit lock is taken, so puts to one
//! dataframe upload in parallel and only their commits are serialised. A put
//! that fails or is cancelled deletes what it wrote; one cut short by a crash
//! leaves files no commit names, which readers never see and vacuum removes.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::{Stream, StreamExt};
use object_store::buffered::BufWriter;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Handle;

use super::dictionaries::{Dictionaries, METADATA_KEY};
use super::encode::FileEncoder;
use super::in_use::{Held, InUse};
use super::layout;
use super::log::{Commit, DataFile, Operation};
use super::rewrite::{self, Change, KeySet, Selection};
use super::{evolve, BucketId, Name, Store};
use crate::daemon::error::{DaemonError, Result};
use crate::parquet_format::writer_properties;
use crate::protocol::PutMode;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy)]
pub struct PutOutcome {
    pub version: u64,
    pub rows: u64,
    /// Small data files at the end of the new version, for deciding on
    /// compaction.
    pub small_files: usize,
}

/// Appends must keep column names and types; metadata and nullability may
/// differ (pandas puts the row count of each frame into its metadata).
/// The error names what differs, not every column.
fn check_append_schema(existing: &Schema, incoming: &Schema, name: &Name, mode: PutMode) -> Result<()> {
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
        Some(p) => {
            let verb = if mode == PutMode::Upsert { "upsert into" } else { "append to" };
            Err(DaemonError::SchemaMismatch(format!(
                "cannot {verb} dataframe {name}: {p} (--schema merge allows new columns and wider types)"
            )))
        }
    }
}

/// How a put meets the dataframe it names.
#[derive(Debug, Clone)]
pub struct PutSpec {
    pub mode: PutMode,
    /// An append or upsert may add columns and widen types.
    pub merge_schema: bool,
    /// Mode upsert: the columns that identify a row.
    pub keys: Vec<String>,
}

impl PutSpec {
    pub fn plain(mode: PutMode) -> PutSpec {
        PutSpec { mode, merge_schema: false, keys: Vec::new() }
    }
}

/// [`Store::put`]: data files first, then the commit; a failed commit
/// deletes the files.
pub(super) async fn put<S>(
    store: &Store,
    bucket: &BucketId,
    name: &Name,
    spec: &PutSpec,
    schema: SchemaRef,
    batches: S,
) -> Result<PutOutcome>
where
    S: Stream<Item = Result<RecordBatch>> + Send,
{
    let mode = spec.mode;
    if mode != PutMode::Upsert && !spec.keys.is_empty() {
        return Err(DaemonError::InvalidArgument(format!("\"keys\" are for mode upsert, not {}", mode.as_str())));
    }
    // Refuse early, before a byte is written; the commit checks again.
    let existing = store.current(bucket, name).await?;
    let table_schema = match (&existing, mode) {
        (Some(_), PutMode::Error) => return Err(exists(bucket, name)),
        (Some(snap), PutMode::Append | PutMode::Upsert) if spec.merge_schema => {
            evolve::merge(&snap.schema, &schema, name)?
        }
        (Some(snap), PutMode::Append | PutMode::Upsert) => {
            check_append_schema(&snap.schema, &schema, name, mode)?;
            snap.schema.clone()
        }
        _ => schema.clone(),
    };
    let keys = match mode {
        PutMode::Upsert => {
            // The upload must hold every key, even where the schema merges.
            KeySet::new(&schema, &spec.keys)?;
            Some(Arc::new(Mutex::new(KeySet::new(&table_schema, &spec.keys)?)))
        }
        _ => None,
    };
    let (adapted, merge) = (table_schema.clone(), spec.merge_schema);
    let collecting = keys.clone();
    let batches = batches.map(move |batch| {
        let batch = if merge { evolve::adapt(batch?, &adapted)? } else { batch? };
        if let Some(keys) = &collecting {
            keys.lock().unwrap_or_else(|p| p.into_inner()).add(&batch)?;
        }
        Ok(batch)
    });

    // Holding `_writing` until the commit is done keeps vacuum off the new files.
    let (files, _writing) = DataWriter::new(store, bucket, name, table_schema.clone()).write_all(batches).await?;
    let committed = match (keys, &existing) {
        (Some(keys), Some(before)) => {
            // The upload is in: the stream that shared the keys is gone.
            let keys =
                Arc::new(Arc::into_inner(keys).expect("one owner").into_inner().unwrap_or_else(|p| p.into_inner()));
            let change =
                Change { operation: Operation::Upsert, add: files.clone(), schema: Some(table_schema.clone()) };
            rewrite::rewrite(store, bucket, name, change, |snap| {
                if snap.commit.schema != before.commit.schema {
                    return Err(DaemonError::SchemaMismatch(format!(
                        "the schema of dataframe {name} changed during the upsert; nothing written"
                    )));
                }
                Selection::keys(&snap.schema, keys.clone())
            })
            .await
            .map(|outcome| (outcome.version, outcome.small_files))
        }
        _ => {
            store.ensure_bucket(bucket).await?;
            store
                .commit(bucket, name, |head| next_put_commit(head, bucket, name, spec, &table_schema, &files))
                .await
                .map(|commit| (commit.version, commit.small_tail(store.options.file_rows)))
        }
    };
    match committed {
        Ok((version, small_files)) => Ok(PutOutcome { version, rows: files.iter().map(|f| f.rows).sum(), small_files }),
        Err(e) => {
            store.delete_paths(files.iter().map(|f| layout::data_file(bucket, name, &f.path)).collect()).await.ok();
            Err(e)
        }
    }
}

fn exists(bucket: &BucketId, name: &Name) -> DaemonError {
    DaemonError::Exists(format!("dataframe {name} already exists in bucket {bucket}"))
}

/// The commit a put of `files` makes on top of `head`.
pub(super) fn next_put_commit(
    head: Option<&Commit>,
    bucket: &BucketId,
    name: &Name,
    spec: &PutSpec,
    schema: &SchemaRef,
    files: &[DataFile],
) -> Result<Commit> {
    let next = head.map_or(1, |c| c.version + 1);
    let live = head.filter(|c| c.operation != Operation::Delete);
    match (live, spec.mode) {
        (Some(_), PutMode::Error) => Err(exists(bucket, name)),
        (Some(cur), PutMode::Append) => {
            let current_schema = cur.decode_schema()?;
            let schema = if spec.merge_schema {
                // Another append may have merged meanwhile: this one must
                // still hold every column, at least as wide.
                let merged = evolve::merge(&current_schema, schema, name)?;
                if merged.fields() != schema.fields() {
                    return Err(DaemonError::SchemaMismatch(format!(
                        "the schema of dataframe {name} changed during the append; nothing written"
                    )));
                }
                schema.clone()
            } else {
                check_append_schema(&current_schema, schema, name, spec.mode)?;
                current_schema
            };
            let mut all = cur.files.clone();
            all.extend(files.iter().cloned());
            Ok(Commit::new(next, Operation::Append, files.to_vec(), vec![], all, &schema)?
                .with_retention(cur.retention.clone()))
        }
        (Some(cur), PutMode::Replace) => {
            let removed = Commit::gone(&cur.files, &[]);
            Ok(Commit::new(next, Operation::Replace, files.to_vec(), removed, files.to_vec(), schema)?
                .with_retention(cur.retention.clone()))
        }
        (Some(_), PutMode::Upsert) => Err(DaemonError::Io(format!(
            "dataframe {name} was made while the upsert creating it ran; nothing written, try again"
        ))),
        (None, _) => Commit::new(next, Operation::Create, files.to_vec(), vec![], files.to_vec(), schema),
    }
}

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
        // 80 MB per upload; two 8 MB parts keep a local disk just as busy.
        let sink = BufWriter::with_capacity(self.os.clone(), path, 8 << 20).with_max_concurrency(2);
        let props = writer_properties(&self.schema, self.row_group_rows, Some(sample));
        let encoder = FileEncoder::new(self.schema.clone(), props, self.threads)?;
        let dictionaries = Dictionaries::new(&self.schema)?;
        Ok(OpenFile { encoder, dictionaries, sink, relative, rows: 0 })
    }

    fn close(&self, current: &mut Option<OpenFile>, done: &mut Vec<DataFile>, runtime: &Handle) -> Result<()> {
        let Some(OpenFile { encoder, dictionaries, mut sink, relative, rows }) = current.take() else { return Ok(()) };
        let (tail, bytes) = encoder.finish(dictionaries.encode()?.map(|d| (METADATA_KEY, d)))?;
        runtime.block_on(async {
            sink.put(tail.into()).await?;
            sink.shutdown().await.map_err(|e| DaemonError::internal(format!("writing {relative}"), e))
        })?;
        done.push(DataFile::whole(relative, rows as u64, bytes));
        Ok(())
    }
}
