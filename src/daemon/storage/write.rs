//! Puts: stream record batches into new Parquet files, then commit them.
//!
//! Data files are written before the commit lock is taken, so puts to one
//! dataframe upload in parallel and only their commits are serialised. A put
//! that fails or is cancelled deletes what it wrote; one cut short by a crash
//! leaves files no commit names, which readers never see and vacuum removes.

use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use futures::{Stream, StreamExt};

use super::data_writer::DataWriter;
use super::log::{Commit, DataFile, Operation};
use super::rewrite::{self, Change, KeySet, Selection};
use super::{evolve, BucketId, Name, Store};
use crate::daemon::error::{DaemonError, Result};
use crate::protocol::PutMode;

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
        (Some(keys), Some(before)) => match Arc::into_inner(keys) {
            // The upload is in: the stream that shared the keys is gone.
            None => Err(DaemonError::internal("an upsert's keys", "still shared after the upload")),
            Some(keys) => {
                let keys = Arc::new(keys.into_inner().unwrap_or_else(|p| p.into_inner()));
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
        },
        _ => {
            store.ensure_bucket(bucket).await?;
            store
                .commit(bucket, name, |head| next_put_commit(head, bucket, name, spec, &table_schema, &files))
                .await
                .map(|commit| (commit.version, commit.tiered_tail(store.options.file_rows)))
        }
    };
    match committed {
        Ok((version, small_files)) => Ok(PutOutcome { version, rows: files.iter().map(|f| f.rows).sum(), small_files }),
        Err(e) => {
            store.discard_written(bucket, name, &files, &e).await;
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
        (Some(_), PutMode::Upsert) => Err(DaemonError::Conflict(format!(
            "dataframe {name} was made while the upsert creating it ran; nothing written, try again"
        ))),
        (None, _) => Commit::new(next, Operation::Create, files.to_vec(), vec![], files.to_vec(), schema),
    }
}
