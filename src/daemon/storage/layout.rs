//! Where things live in the store (the README's "Storage" section). Every
//! object path is made here, from validated names only.

use object_store::path::Path;

use super::names::{BucketId, Name};

/// A dataframe's directory: `<bucket>/<dataframe>`.
pub fn frame_dir(bucket: &BucketId, name: &Name) -> Path {
    Path::from(format!("{}/{}", bucket.dir(), name))
}

/// The commit log of a dataframe: `<bucket>/<dataframe>/_log`.
pub fn log_dir(bucket: &BucketId, name: &Name) -> Path {
    frame_dir(bucket, name).join("_log")
}

/// The immutable data files of a dataframe: `<bucket>/<dataframe>/data`.
pub fn data_dir(bucket: &BucketId, name: &Name) -> Path {
    frame_dir(bucket, name).join("data")
}

/// Vacuum's lists of files waiting out the grace period: `<df>/_vacuum`.
pub fn pending_dir(bucket: &BucketId, name: &Name) -> Path {
    frame_dir(bucket, name).join("_vacuum")
}

/// One such list, made at `ms` (Unix milliseconds; the name sorts by age).
pub fn pending_removal(bucket: &BucketId, name: &Name, ms: u64) -> Path {
    pending_dir(bucket, name).join(format!("{ms:020}-{}.json", uuid::Uuid::new_v4()).as_str())
}

/// A data file by the path a commit names it with (`data/<uuid>.parquet`).
pub fn data_file(bucket: &BucketId, name: &Name, relative: &str) -> Path {
    Path::from(format!("{}/{relative}", frame_dir(bucket, name)))
}

/// A new data file's name relative to its dataframe, as commits list it.
pub fn new_data_file() -> String {
    format!("data/{}.parquet", uuid::Uuid::new_v4())
}

/// A new file of deleted row positions, relative as commits name it.
pub fn new_deleted_rows_file() -> String {
    format!("data/{}.deleted", uuid::Uuid::new_v4())
}

/// `<bucket>/_bucket`: the bucket exists, even when it holds nothing.
pub fn bucket_marker(bucket: &BucketId) -> Path {
    Path::from(bucket.dir()).join("_bucket")
}

/// A bucket's named snapshots: `<bucket>/_snapshots`.
pub fn snapshots_dir(bucket: &BucketId) -> Path {
    Path::from(bucket.dir()).join("_snapshots")
}

/// One named snapshot: `<bucket>/_snapshots/<name>.json`.
pub fn named_snapshot(bucket: &BucketId, name: &Name) -> Path {
    snapshots_dir(bucket).join(format!("{name}.json").as_str())
}
