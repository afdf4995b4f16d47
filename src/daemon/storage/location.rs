//! Opening the object store the buckets live in, and what only the store's
//! own medium can show.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::{ClientConfigKey, ObjectStore, RetryConfig};

use crate::daemon::error::{DaemonError, Result};

/// How long the daemon waits on an object store that fails or does not
/// answer (`--store-retries`, `--store-retry-timeout`, `--store-timeout`).
#[derive(Debug, Clone, Copy)]
pub struct StorePatience {
    /// Retries of a request that failed with a 5xx, a cut connection or a
    /// timeout (with exponential backoff).
    pub retries: usize,
    /// No retry starts after this long since the first attempt.
    pub retry_timeout: Duration,
    /// One attempt's time, from connecting to the end of its body.
    pub timeout: Duration,
}

impl Default for StorePatience {
    /// A store that does not answer should fail the call within seconds,
    /// not retry for minutes (object_store's default).
    fn default() -> Self {
        StorePatience { retries: 3, retry_timeout: Duration::from_secs(20), timeout: Duration::from_secs(30) }
    }
}

/// Where the buckets are.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory of the local file system (created if missing).
    Local(PathBuf),
    /// `s3://BUCKET[/PREFIX]`, configured from the standard AWS environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`,
    /// instance and container credentials) and the static keys, region and
    /// endpoint of `AWS_PROFILE`'s profile where the environment is silent.
    S3 { bucket: String, prefix: String },
    /// In this process's memory: for tests of the storage on their own
    /// (several stores on one memory are several daemons on one store).
    Memory(Arc<InMemory>),
}

impl Location {
    /// A path, a `file://` URL or `s3://BUCKET[/PREFIX]`.
    pub fn parse(raw: &str) -> Result<Location> {
        if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(DaemonError::InvalidArgument(format!("no bucket in {raw}: use s3://BUCKET[/PREFIX]")));
            }
            return Ok(Location::S3 { bucket: bucket.into(), prefix: prefix.trim_matches('/').into() });
        }
        if let Some(path) = raw.strip_prefix("file://") {
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if raw.contains("://") {
            return Err(DaemonError::InvalidArgument(format!(
                "unknown store {raw}: use a directory, file://PATH or s3://BUCKET[/PREFIX]"
            )));
        }
        Ok(Location::Local(PathBuf::from(raw)))
    }

    pub fn open(&self, patience: &StorePatience) -> Result<Arc<dyn ObjectStore>> {
        match self {
            Location::S3 { bucket, prefix } => {
                let retry = RetryConfig {
                    max_retries: patience.retries,
                    retry_timeout: patience.retry_timeout,
                    ..Default::default()
                };
                // Set key by key: `with_client_options` would drop what the
                // environment said (AWS_ALLOW_HTTP among it).
                let mut s3 = AmazonS3Builder::from_env();
                for (key, value) in super::aws_profile::settings() {
                    let key: AmazonS3ConfigKey = key.parse().expect("object_store's own key names");
                    s3 = s3.with_config(key, value);
                }
                let s3 = s3
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), "5s")
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                        format!("{}ms", patience.timeout.as_millis()),
                    )
                    .build()
                    .map_err(|e| DaemonError::internal(format!("cannot use the store {self}"), e))?;
                if prefix.is_empty() {
                    Ok(Arc::new(s3))
                } else {
                    Ok(Arc::new(PrefixStore::new(s3, prefix.as_str())))
                }
            }
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DaemonError::internal(format!("cannot create bucket directory {}", dir.display()), e)
                })?;
                Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true)))
            }
            Location::Memory(memory) => Ok(memory.clone()),
        }
    }

    /// Bytes a data file upload holds before it sends them as one part.
    /// An upload holds this much being filled and up to two parts in flight
    /// (`data_writer`). S3 takes parts of 5 MiB or more (but the last) and
    /// a request per part costs; a local disk takes a write of any size at
    /// the speed of the page cache, so there smaller parts are free and
    /// keep a compaction's memory low: with 8 MiB parts, each compaction
    /// of a file past 8 MB (every few seconds under steady appends) held up
    /// to 24 MB of it.
    pub fn upload_part_bytes(&self) -> usize {
        match self {
            Location::S3 { .. } => 8 << 20,
            Location::Local(_) | Location::Memory(_) => 1 << 20,
        }
    }

    /// Unfinished uploads under `dir` (a path in the store) untouched since
    /// `cutoff`, each with the object path it would have become.
    ///
    /// The local file system stages an upload as `NAME#N` beside its target
    /// and renames it when done; a crash leaves the staging file, which
    /// object_store's listing hides. Only the medium can show them, so this
    /// is the one place the storage looks at the disk past object_store.
    /// In memory an upload is never half there; on S3 an unfinished upload
    /// is an incomplete multipart upload, invisible to listings and aborted
    /// by the writer when the put fails (a bucket lifecycle rule removes
    /// those a crash leaves).
    pub fn unfinished_uploads(&self, dir: &str, cutoff: SystemTime) -> Result<Vec<Unfinished>> {
        let Location::Local(root) = self else { return Ok(Vec::new()) };
        let dir = root.join(dir);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(DaemonError::internal(format!("cannot list {}", dir.display()), e)),
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let Some(file_name) = entry.file_name().to_str().map(String::from) else { continue };
            let Some((target, n)) = file_name.split_once('#') else { continue };
            let staged = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
            // Only staging files are looked at: a directory holds many finished ones.
            if staged && entry.metadata().is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|t| t <= cutoff)) {
                found.push(Unfinished { file: entry.path(), target: target.to_string() });
            }
        }
        Ok(found)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(dir) => write!(f, "{}", dir.display()),
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Location::Memory(_) => f.write_str("memory"),
        }
    }
}

/// Why the store refused the start-up probe, in one line: the cause in
/// plain words first (no such bucket, access denied, endpoint unreachable),
/// then what the store itself said, without the XML around it.
pub fn explain_failure(chain: &str) -> String {
    let between = |start: &str, end: &str| {
        let from = chain.find(start)? + start.len();
        chain[from..].find(end).map(|len| &chain[from..from + len])
    };
    let said = match (between("<Code>", "</Code>"), between("<Message>", "</Message>")) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (Some(code), None) => Some(code.to_string()),
        _ => None,
    };
    let code = between("<Code>", "</Code>").unwrap_or_default();
    let cause = match code {
        "NoSuchBucket" => "no such bucket",
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "AllAccessDisabled" => "access denied",
        _ if chain.contains("error sending request") => "endpoint unreachable",
        _ => return chain.to_string(),
    };
    // Transport errors end with the useful part after the request's URL.
    let said = said.unwrap_or_else(|| chain.rsplit(" - ").next().unwrap_or(chain).to_string());
    format!("{cause} ({said})")
}

/// A staging file of an upload that never finished.
#[derive(Debug)]
pub struct Unfinished {
    file: PathBuf,
    /// The file name the upload was for.
    pub target: String,
}

impl Unfinished {
    /// Removes it; `false` when it was already gone.
    pub fn remove(&self) -> Result<bool> {
        match std::fs::remove_file(&self.file) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(DaemonError::internal(format!("cannot delete {}", self.file.display()), e)),
        }
    }
}
