//! Opening the object store the buckets live in, and what only the store's
//! own medium can show.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::ObjectStore;

use crate::daemon::error::{DaemonError, Result};

/// Where the buckets are.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory of the local file system (created if missing).
    Local(PathBuf),
    /// In this process's memory: for tests of the storage on their own
    /// (several stores on one memory are several daemons on one store).
    Memory(Arc<InMemory>),
}

impl Location {
    pub fn open(&self) -> Result<Arc<dyn ObjectStore>> {
        match self {
            Location::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DaemonError::internal(format!("cannot create bucket directory {}", dir.display()), e)
                })?;
                Ok(Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true)))
            }
            Location::Memory(memory) => Ok(memory.clone()),
        }
    }

    /// Unfinished uploads under `dir` (a path in the store) untouched since
    /// `cutoff`, each with the object path it would have become.
    ///
    /// The local file system stages an upload as `NAME#N` beside its target
    /// and renames it when done; a crash leaves the staging file, which
    /// object_store's listing hides. Only the medium can show them, so this
    /// is the one place the storage looks at the disk past object_store.
    /// In memory an upload is never half there.
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
            let old = entry.metadata().is_ok_and(|m| m.is_file() && m.modified().is_ok_and(|t| t <= cutoff));
            if staged && old {
                found.push(Unfinished { file: entry.path(), target: target.to_string() });
            }
        }
        Ok(found)
    }
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
