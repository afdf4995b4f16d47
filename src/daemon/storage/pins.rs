//! Named snapshots: the versions of a bucket's dataframes pinned under one
//! name (`<bucket>/_snapshots/<name>.json`). Each pinned version is kept
//! whole in the snapshot (its files and schema), so it reads after vacuum
//! has removed its log entry and after the dataframe is deleted; vacuum,
//! retention's versions and deletes leave the files it names alone until
//! the snapshot goes, and then its files wait out the grace period like any
//! other vacuumed file.

use std::collections::{BTreeMap, HashSet};

use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::log::{Commit, DataFile};
use super::{layout, maintain, not_found, BucketId, Name, Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedSnapshot {
    pub name: String,
    pub created_ms: i64,
    /// Each pinned dataframe's version, by dataframe name.
    pub frames: BTreeMap<String, Commit>,
}

impl NamedSnapshot {
    /// The data files (and deleted rows' files) it pins of dataframe `name`.
    fn files_of(&self, name: &Name) -> impl Iterator<Item = &str> {
        self.frames.get(name.as_str()).into_iter().flat_map(|c| c.files.iter().flat_map(DataFile::paths))
    }
}

fn snapshot_not_found(bucket: &BucketId, name: &Name) -> DaemonError {
    DaemonError::NotFound(format!("snapshot {name} not found in bucket {bucket}"))
}

/// [`Store::create_snapshot`].
pub(super) async fn create(
    store: &Store,
    bucket: &BucketId,
    name: &Name,
    only: Option<&[Name]>,
) -> Result<NamedSnapshot> {
    store.require_bucket(bucket).await?;
    // Held (so kept from vacuum) until the snapshot is written.
    let versions: Vec<Snapshot> = match only {
        None => store.dataframes(bucket).await?,
        Some(names) => {
            let mut versions = Vec::with_capacity(names.len());
            for frame in names {
                versions.push(store.current(bucket, frame).await?.ok_or_else(|| not_found(bucket, frame))?);
            }
            versions
        }
    };
    let frames = versions.iter().map(|v| (v.name.to_string(), v.commit.clone())).collect();
    let snapshot = NamedSnapshot { name: name.to_string(), created_ms: chrono::Utc::now().timestamp_millis(), frames };
    let body = serde_json::to_vec(&snapshot).map_err(|e| DaemonError::internal("cannot encode a snapshot", e))?;
    let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
    match store.os.put_opts(&layout::named_snapshot(bucket, name), PutPayload::from(body), opts).await {
        Ok(_) => Ok(snapshot),
        Err(object_store::Error::AlreadyExists { .. }) => Err(DaemonError::Exists(format!(
            "snapshot {name} already exists in bucket {bucket}; remove it first to pin the current versions"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// [`Store::named_snapshot`].
pub(super) async fn read(store: &Store, bucket: &BucketId, name: &Name) -> Result<NamedSnapshot> {
    let path = layout::named_snapshot(bucket, name);
    let body = match store.os.get(&path).await {
        Ok(got) => got.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => return Err(snapshot_not_found(bucket, name)),
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&body).map_err(|e| DaemonError::Io(format!("corrupt snapshot {path}: {e}")))
}

/// [`Store::named_snapshots`].
pub(super) async fn list(store: &Store, bucket: &BucketId) -> Result<Vec<NamedSnapshot>> {
    let paths: Vec<_> =
        store.os.list(Some(&layout::snapshots_dir(bucket))).map_ok(|m| m.location).try_collect().await?;
    let mut snapshots = Vec::with_capacity(paths.len());
    for path in paths {
        let Some(name) =
            path.filename().and_then(|f| f.strip_suffix(".json")).and_then(|n| Name::parse("snapshot", n).ok())
        else {
            continue; // a staging file of an interrupted write
        };
        match read(store, bucket, &name).await {
            Ok(snapshot) => snapshots.push(snapshot),
            Err(DaemonError::NotFound(_)) => {} // removed meanwhile
            Err(e) => return Err(e),
        }
    }
    snapshots.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(snapshots)
}

/// [`Store::drop_snapshot`]: the snapshot goes, and the files only it kept
/// are put on vacuum's list, to go after the grace period (a read through
/// it may have begun on another daemon).
pub(super) async fn drop(store: &Store, bucket: &BucketId, name: &Name) -> Result<NamedSnapshot> {
    let snapshot = read(store, bucket, name).await?;
    store.delete_paths(vec![layout::named_snapshot(bucket, name)]).await?;
    for frame in snapshot.frames.keys() {
        let Ok(frame) = Name::parse("dataframe", frame) else { continue };
        let files: Vec<String> = snapshot.files_of(&frame).map(String::from).collect();
        maintain::release(store, bucket, &frame, files).await?;
    }
    Ok(snapshot)
}

/// The files of dataframe `name` that some snapshot of its bucket pins.
pub(super) async fn pinned_files(store: &Store, bucket: &BucketId, name: &Name) -> Result<HashSet<String>> {
    Ok(list(store, bucket).await?.iter().flat_map(|s| s.files_of(name).map(String::from)).collect())
}

/// The names of the snapshots that pin a version of dataframe `name`.
pub fn pinning<'a>(snapshots: &'a [NamedSnapshot], name: &'a str) -> impl Iterator<Item = &'a str> {
    snapshots.iter().filter(move |s| s.frames.contains_key(name)).map(|s| s.name.as_str())
}
