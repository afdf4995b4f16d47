//! The commit log of one dataframe.
//!
//! `<df>/_log/<version, 20 digits>.json` — version N names the data files it
//! adds and removes, and (so that a reader needs one object, not a replay)
//! the full list of files that make up version N. A commit is made by
//! creating the next entry with put-if-absent; whoever loses the race
//! re-reads and retries.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::{IpcMessage, SchemaAsIpc};
use base64::Engine;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::layout;
use super::names::{BucketId, Name};
use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Append,
    Replace,
    Compact,
    /// A tombstone: the dataframe no longer exists from this version on.
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Append => "append",
            Operation::Replace => "replace",
            Operation::Compact => "compact",
            Operation::Delete => "delete",
        }
    }
}

/// One immutable Parquet data file, path relative to the dataframe's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    pub version: u64,
    pub timestamp_ms: i64,
    pub operation: Operation,
    pub add: Vec<DataFile>,
    pub remove: Vec<String>,
    /// Every file of this version, in row order.
    pub files: Vec<DataFile>,
    pub rows: u64,
    pub bytes: u64,
    /// The dataframe's exact Arrow schema (IPC-encoded, base64), so that an
    /// empty dataframe still has one and listing needs no Parquet footer.
    pub schema: String,
}

impl Commit {
    pub fn new(
        version: u64,
        operation: Operation,
        add: Vec<DataFile>,
        remove: Vec<String>,
        files: Vec<DataFile>,
        schema: &Schema,
    ) -> Result<Commit> {
        Ok(Commit {
            version,
            timestamp_ms: chrono::Utc::now().timestamp_millis(),
            operation,
            rows: files.iter().map(|f| f.rows).sum(),
            bytes: files.iter().map(|f| f.bytes).sum(),
            add,
            remove,
            files,
            schema: encode_schema(schema)?,
        })
    }

    pub fn decode_schema(&self) -> Result<SchemaRef> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.schema)
            .map_err(|e| DaemonError::Io(format!("corrupt schema in commit {}: {e}", self.version)))?;
        let schema = Schema::try_from(IpcMessage(bytes.into()))
            .map_err(|e| DaemonError::Io(format!("corrupt schema in commit {}: {e}", self.version)))?;
        Ok(Arc::new(schema))
    }
}

pub fn encode_schema(schema: &Schema) -> Result<String> {
    let options = IpcWriteOptions::default();
    let message: IpcMessage = SchemaAsIpc::new(schema, &options)
        .try_into()
        .map_err(|e| DaemonError::internal("cannot encode the schema for the log", e))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&message.0))
}

/// The log of one dataframe in a store: reading its entries and creating
/// the next one. Making a commit (the lock, the retry) is
/// [`Store::commit`](super::Store), the one place that calls [`Log::create`].
pub struct Log<'a> {
    os: &'a dyn ObjectStore,
    bucket: &'a BucketId,
    name: &'a Name,
}

impl<'a> Log<'a> {
    pub fn new(os: &'a dyn ObjectStore, bucket: &'a BucketId, name: &'a Name) -> Log<'a> {
        Log { os, bucket, name }
    }

    pub fn entry_path(&self, version: u64) -> Path {
        layout::log_dir(self.bucket, self.name).join(entry_name(version).as_str())
    }

    /// Every version in the log, oldest first.
    pub async fn versions(&self) -> Result<Vec<u64>> {
        let mut versions: Vec<u64> = self.listed().try_collect().await?;
        versions.sort_unstable();
        Ok(versions)
    }

    /// The version numbers of the log's entries, in listing order.
    fn listed(&self) -> impl futures::Stream<Item = Result<u64>> + '_ {
        let prefix = layout::log_dir(self.bucket, self.name);
        self.os
            .list(Some(&prefix))
            .map_err(DaemonError::from)
            .try_filter_map(|meta| async move { Ok(meta.location.filename().and_then(parse_entry_name)) })
    }

    pub async fn read(&self, version: u64) -> Result<Commit> {
        let path = self.entry_path(version);
        let bytes = match self.os.get(&path).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                let (name, bucket) = (self.name, self.bucket);
                return Err(DaemonError::NotFound(format!(
                    "dataframe {name} in bucket {bucket} has no version {version}"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&bytes).map_err(|e| DaemonError::Io(format!("corrupt commit {path}: {e}")))
    }

    /// The newest commit, tombstones included.
    pub async fn head(&self) -> Result<Option<Commit>> {
        // Every get and put asks this: one pass for the largest, no list kept.
        let newest = self.listed().try_fold(None, |newest, v| async move { Ok(newest.max(Some(v))) }).await?;
        match newest {
            None => Ok(None),
            Some(v) => self.read(v).await.map(Some),
        }
    }

    /// Creates `commit`'s entry if no entry of its version exists yet
    /// (put-if-absent); `false` when another writer got there first.
    pub async fn create(&self, commit: &Commit) -> Result<bool> {
        let body = serde_json::to_vec_pretty(commit).map_err(|e| DaemonError::internal("cannot encode a commit", e))?;
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.os.put_opts(&self.entry_path(commit.version), PutPayload::from(body), opts).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

pub fn entry_name(version: u64) -> String {
    format!("{version:020}.json")
}

/// The version an entry file name stands for; `None` for anything else
/// (temporary files of an interrupted write, say).
pub fn parse_entry_name(file_name: &str) -> Option<u64> {
    let digits = file_name.strip_suffix(".json")?;
    if digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, TimeUnit};
    use std::collections::HashMap;

    #[test]
    fn entry_names_sort_by_version_and_parse_back() {
        assert_eq!(entry_name(7), "00000000000000000007.json");
        assert!(entry_name(9) < entry_name(10));
        assert_eq!(parse_entry_name(&entry_name(12345)), Some(12345));
        assert_eq!(parse_entry_name("00000000000000000007.json#tmp"), None);
        assert_eq!(parse_entry_name("7.json"), None);
    }

    #[test]
    fn schema_survives_the_log_exactly() {
        let schema = Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, Some("Europe/Paris".into())), true),
            Field::new("u", DataType::UInt64, false),
            Field::new_dictionary("c", DataType::Int8, DataType::Utf8, true),
        ])
        .with_metadata(HashMap::from([("pandas".to_string(), "{\"x\": 1}".to_string())]));
        let commit = Commit::new(1, Operation::Create, vec![], vec![], vec![], &schema).unwrap();
        let json = serde_json::to_string(&commit).unwrap();
        let back: Commit = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode_schema().unwrap().as_ref(), &schema);
    }
}
