//! The directory layout of the Python original: `NAME.parquet` at the top
//! (the default bucket) and `BUCKET/NAME.parquet` one level down.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LegacyFrame {
    pub bucket: Option<String>,
    pub name: String,
    pub path: PathBuf,
}

fn parquet_files(dir: &Path, bucket: Option<&str>) -> std::io::Result<Vec<LegacyFrame>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "parquet") {
            if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                found.push(LegacyFrame { bucket: bucket.map(String::from), name: name.to_string(), path });
            }
        }
    }
    Ok(found)
}

/// Every dataframe file of the original's layout under `dir`. shoots' own
/// directories (`_default`, and buckets holding dataframe directories) hold
/// no Parquet file at these depths, so they are never mistaken for one.
pub fn find(dir: &Path) -> std::io::Result<Vec<LegacyFrame>> {
    let mut found = parquet_files(dir, None)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(bucket) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if path.is_dir() && !bucket.starts_with(['_', '.']) {
            found.extend(parquet_files(&path, Some(bucket))?);
        }
    }
    found.sort();
    Ok(found)
}
