//! The cache of Parquet footers shared by gets and SQL: a byte-bounded LRU
//! that stops keeping the footers of files a commit of this daemon removed.
//!
//! Under steady appends each compaction replaces hundreds of small files
//! whose footers the reads had cached. Left to the LRU they filled the
//! cache with footers no current version named, over 10 minutes on S3, so
//! memory kept rising long after any warm-up. Dropping them at the commit
//! alone was not enough: reads still in flight on the version before
//! fetched them again and put them back (bench/README.md, memory under
//! steady ingest). So a removed file's footer is dropped and, for
//! [`RETIRED_FOR`], not cached again; a read of it in that time fetches it
//! from the store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use datafusion::common::{HashMap as EntryMap, TableReference};
use datafusion::execution::cache::cache_manager::CachedFileMetadataEntry;
use datafusion::execution::cache::default_cache::DefaultCache;
use datafusion::execution::cache::{Cache, CacheEntryInfo};
use object_store::path::Path;

/// Memory for cached footers, least recently used out first. A version's
/// footers are a few KB a small file (about 2.4 KB for the 2-column files of
/// steady small appends) and tens of KB a full one, so this holds thousands:
/// far more than the versions being read need. DataFusion's default, 50
/// MiB, filled with the footers of files compaction had replaced long
/// before, and took 80 s of steady ingest to fill, all the while looking
/// like growth (bench/README.md, memory under steady ingest).
pub const FOOTER_CACHE_BYTES: usize = 16 << 20;

/// How long a removed file's footer stays out of the cache: longer than a
/// read that took its version before the commit takes to open its files,
/// short enough that a file another dataframe still names (a clone's) is
/// soon cached again.
const RETIRED_FOR: Duration = Duration::from_secs(60);

pub struct Footers {
    lru: DefaultCache<Path, CachedFileMetadataEntry>,
    /// Files removed by a commit, and when.
    retired: Mutex<HashMap<Path, Instant>>,
}

impl Default for Footers {
    fn default() -> Self {
        Footers { lru: DefaultCache::new(FOOTER_CACHE_BYTES).with_name("footers"), retired: Mutex::default() }
    }
}

impl Footers {
    /// Drops the footers of `removed` and keeps them out for a while.
    pub fn retire(&self, removed: impl IntoIterator<Item = Path>) {
        let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        retired.retain(|_, at| at.elapsed() < RETIRED_FOR);
        let now = Instant::now();
        for path in removed {
            self.lru.remove(&path);
            retired.insert(path, now);
        }
    }

    /// Bytes of the footers held.
    pub fn memory_used(&self) -> usize {
        self.lru.memory_used()
    }

    fn is_retired(&self, path: &Path) -> bool {
        let retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        retired.get(path).is_some_and(|at| at.elapsed() < RETIRED_FOR)
    }
}

/// The LRU's, except that `put` refuses retired files.
impl Cache<Path, CachedFileMetadataEntry> for Footers {
    fn get(&self, key: &Path) -> Option<CachedFileMetadataEntry> {
        self.lru.get(key)
    }

    fn put(&self, key: &Path, value: CachedFileMetadataEntry) -> Option<CachedFileMetadataEntry> {
        if self.is_retired(key) {
            return None;
        }
        self.lru.put(key, value)
    }

    fn remove(&self, k: &Path) -> Option<CachedFileMetadataEntry> {
        self.lru.remove(k)
    }

    fn contains_key(&self, k: &Path) -> bool {
        self.lru.contains_key(k)
    }

    fn len(&self) -> usize {
        self.lru.len()
    }

    fn clear(&self) {
        self.lru.clear()
    }

    fn name(&self) -> String {
        self.lru.name()
    }

    fn cache_limit(&self) -> usize {
        self.lru.cache_limit()
    }

    fn update_cache_limit(&self, limit: usize) {
        self.lru.update_cache_limit(limit)
    }

    fn cache_ttl(&self) -> Option<Duration> {
        self.lru.cache_ttl()
    }

    fn update_cache_ttl(&self, ttl: Option<Duration>) {
        self.lru.update_cache_ttl(ttl)
    }

    fn drop_table_entries(&self, table_ref: &TableReference) -> datafusion::common::Result<()> {
        self.lru.drop_table_entries(table_ref)
    }

    fn list_entries(&self) -> EntryMap<Path, CacheEntryInfo<CachedFileMetadataEntry>> {
        self.lru.list_entries()
    }
}
