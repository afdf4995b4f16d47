//! Deleted rows: a change that takes a few rows out of many row groups (an
//! upsert of scattered keys) marks them instead of rewriting the row
//! groups. `data/<uuid>.deleted` holds the rows' positions in the data file
//! (`SHDR`, then little-endian `u32`s, sorted); an entry naming it reads
//! without them: gets through a Parquet `RowSelection`, queries through
//! DataFusion's `ParquetAccessPlan`. Compaction folds them in later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::datasource::physical_plan::parquet::{ParquetAccessPlan, RowGroupAccess};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::file::metadata::ParquetMetaData;

use super::in_use::Held;
use super::layout;
use super::log::DeletedRows;
use super::{Snapshot, Store};
use crate::daemon::error::{DaemonError, Result};

const MAGIC: &[u8; 4] = b"SHDR";

/// Deleted positions read before, by object path (the files are immutable).
#[derive(Debug, Default)]
pub(super) struct DeletedCache(Mutex<HashMap<String, Arc<Vec<u32>>>>);

/// Files of positions kept in memory; the cache starts afresh beyond this.
const CACHED: usize = 256;

fn encode(positions: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * positions.len());
    out.extend_from_slice(MAGIC);
    for p in positions {
        out.extend_from_slice(&p.to_le_bytes());
    }
    out
}

fn decode(path: &str, bytes: &[u8]) -> Result<Vec<u32>> {
    let body = bytes
        .strip_prefix(MAGIC)
        .filter(|b| b.len() % 4 == 0)
        .ok_or_else(|| DaemonError::Io(format!("corrupt deleted-rows file {path}")))?;
    Ok(body.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

impl DeletedCache {
    /// The positions a file of deleted rows holds (none without one).
    pub(super) async fn load(&self, os: &dyn ObjectStore, path: Option<&Path>) -> Result<Arc<Vec<u32>>> {
        let Some(path) = path else { return Ok(Arc::default()) };
        let key = path.to_string();
        if let Some(hit) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let bytes = os.get(path).await?.bytes().await?;
        let positions = Arc::new(decode(&key, &bytes)?);
        let mut cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(key, positions.clone());
        Ok(positions)
    }
}

/// Writes `positions` (sorted) as a new file of deleted rows; kept from
/// vacuum while the guard lives.
pub(super) async fn save(store: &Store, snap: &Snapshot, positions: &[u32]) -> Result<(String, Held<String>)> {
    let relative = layout::new_deleted_rows_file();
    let path = layout::data_file(&snap.bucket, &snap.name, &relative);
    let held = store.writing.hold(path.to_string());
    store.object_store().put(&path, encode(positions).into()).await?;
    Ok((relative, held))
}

/// Where each row group of a file starts, in rows, and where the file ends.
pub(super) fn group_starts(meta: &ParquetMetaData) -> Vec<u64> {
    let mut starts = vec![0];
    for group in meta.row_groups() {
        starts.push(starts.last().copied().unwrap_or(0) + group.num_rows() as u64);
    }
    starts
}

/// The positions in `start..end`.
pub(super) fn within(positions: &[u32], start: u64, end: u64) -> &[u32] {
    let from = positions.partition_point(|&p| (p as u64) < start);
    let to = positions.partition_point(|&p| (p as u64) < end);
    &positions[from..to]
}

/// How many of `positions` fall in `groups`.
pub(super) fn count_in(meta: &ParquetMetaData, groups: &[usize], positions: &[u32]) -> u64 {
    let starts = group_starts(meta);
    groups.iter().map(|&g| within(positions, starts[g], starts[g + 1]).len() as u64).sum()
}

/// The entry for `positions` over `groups`, or none when no position falls there.
pub(super) fn entry_rows(
    path: &str,
    meta: &ParquetMetaData,
    groups: &[usize],
    positions: &[u32],
) -> Option<DeletedRows> {
    let rows = count_in(meta, groups, positions);
    (rows > 0).then(|| DeletedRows { path: path.to_string(), rows })
}

/// The rows of one row group (starting at `start`, `rows` long) that are not deleted.
fn group_selectors(start: u64, rows: u64, positions: &[u32], out: &mut Vec<RowSelector>) {
    let mut at = start;
    for &p in within(positions, start, start + rows) {
        let p = p as u64;
        if p > at {
            out.push(RowSelector::select((p - at) as usize));
        }
        out.push(RowSelector::skip(1));
        at = p + 1;
    }
    if start + rows > at {
        out.push(RowSelector::select((start + rows - at) as usize));
    }
}

/// What a reader of `groups` (in order) selects to leave `positions` out.
pub(super) fn selection(meta: &ParquetMetaData, groups: &[usize], positions: &[u32]) -> RowSelection {
    let starts = group_starts(meta);
    let mut selectors = Vec::new();
    for &g in groups {
        group_selectors(starts[g], starts[g + 1] - starts[g], positions, &mut selectors);
    }
    RowSelection::from(selectors)
}

/// DataFusion's plan for a file of which `groups` are read, less `positions`.
pub(super) fn access_plan(meta: &ParquetMetaData, groups: &[usize], positions: &[u32]) -> ParquetAccessPlan {
    let starts = group_starts(meta);
    let mut plan = ParquetAccessPlan::new_none(meta.num_row_groups());
    for &g in groups {
        let (start, rows) = (starts[g], starts[g + 1] - starts[g]);
        if within(positions, start, start + rows).is_empty() {
            plan.set(g, RowGroupAccess::Scan);
        } else {
            let mut selectors = Vec::new();
            group_selectors(start, rows, positions, &mut selectors);
            plan.set(g, RowGroupAccess::Selection(RowSelection::from(selectors)));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_select_the_rest() {
        let positions = vec![0, 5, 6, 99];
        assert_eq!(decode("x", &encode(&positions)).unwrap(), positions);
        assert!(decode("x", b"SHDR\x01").is_err());
        let mut out = Vec::new();
        group_selectors(0, 100, &positions, &mut out);
        let kept: usize = out.iter().filter(|s| !s.skip).map(|s| s.row_count).sum();
        assert_eq!(kept, 96);
        assert_eq!(within(&positions, 5, 99), [5, 6]);
    }
}
