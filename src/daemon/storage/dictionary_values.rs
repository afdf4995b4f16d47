//! A column's distinct values read from its Parquet dictionary pages alone.
//!
//! A column chunk whose data pages all refer to a dictionary holds exactly
//! the dictionary's values (the writer puts a value there when a row has
//! it), so the distinct values of a version's column are the union of its
//! chunks' dictionaries: a few KB a row group instead of every row decoded
//! and hashed. Anything else (a chunk that fell back to plain pages, rows
//! marked deleted, a type whose stored form is not one-to-one with its
//! values) answers `None`, and the query runs as it would have.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::DataType;
use bytes::{Buf, Bytes};
use object_store::ObjectStoreExt;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::errors::ParquetError;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use super::{read, Snapshot, Store};
use crate::daemon::error::Result;

/// Whether `column`'s values can be counted from dictionaries: integers
/// (stored as themselves) and strings or bytes (stored as their bytes).
fn countable(data_type: &DataType) -> bool {
    data_type.is_integer()
        || matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary)
}

/// The most dictionary bytes one count holds (its values are slices of
/// them). Past this the plan counts instead, under the memory pool and its
/// spilling; a column whose dictionaries are this large is not the few
/// values this is for.
const MAX_DICTIONARY_BYTES: usize = 16 << 20;

/// Distinct values, as their stored form.
#[derive(Default)]
struct Seen {
    ints: HashSet<i64>,
    bytes: HashSet<Bytes>,
}

/// How many distinct non-null values `column` holds in `snap`, if every
/// chunk of it is dictionary-encoded and every file stores it the same way.
pub(super) async fn count(store: &Store, snap: &Snapshot, column: &str) -> Result<Option<u64>> {
    let Some(field) = snap.schema.fields().iter().find(|f| f.name() == column) else { return Ok(None) };
    if !countable(field.data_type()) {
        return Ok(None);
    }
    let mut seen = Seen::default();
    let mut stored_as = None;
    let mut held = 0;
    for file in &snap.commit.files {
        if file.deleted.is_some() {
            return Ok(None);
        }
        let meta = read::footer(store, snap, file).await?;
        // A file written before the column was added holds only its nulls.
        let Some(index) =
            meta.file_metadata().schema_descr().columns().iter().position(|c| c.path().parts() == [column])
        else {
            continue;
        };
        for group in read::row_groups_of(&meta, file) {
            let chunk = meta.row_group(group).column(index);
            if *stored_as.get_or_insert(chunk.column_type()) != chunk.column_type() || !all_dictionary(chunk) {
                return Ok(None);
            }
            let rows = usize::try_from(meta.row_group(group).num_rows()).unwrap_or(0);
            let Some(page) = dictionary_page(store, snap, file, chunk, rows).await? else { return Ok(None) };
            held += page.len();
            if held > MAX_DICTIONARY_BYTES || !add_values(&mut seen, chunk.column_type(), page) {
                return Ok(None);
            }
        }
    }
    Ok(Some((seen.ints.len() + seen.bytes.len()) as u64))
}

/// Whether every data page of `chunk` refers to its dictionary.
fn all_dictionary(chunk: &ColumnChunkMetaData) -> bool {
    let dictionary = |e: &Encoding| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY);
    chunk.dictionary_page_offset().is_some()
        && match (chunk.page_encoding_stats_mask(), chunk.page_encoding_stats()) {
            (Some(mask), _) => mask.is_only(Encoding::RLE_DICTIONARY) || mask.is_only(Encoding::PLAIN_DICTIONARY),
            (None, Some(stats)) => stats
                .iter()
                .filter(|s| s.page_type != parquet::basic::PageType::DICTIONARY_PAGE)
                .all(|s| dictionary(&s.encoding)),
            (None, None) => false,
        }
}

/// The dictionary page of one column chunk, decompressed: only its bytes
/// are fetched.
async fn dictionary_page(
    store: &Store,
    snap: &Snapshot,
    file: &super::DataFile,
    chunk: &ColumnChunkMetaData,
    rows: usize,
) -> Result<Option<Bytes>> {
    let offset = |at: i64| u64::try_from(at).ok();
    let (Some(start), Some(end)) = (chunk.dictionary_page_offset().and_then(offset), offset(chunk.data_page_offset()))
    else {
        return Ok(None);
    };
    if end <= start {
        return Ok(None);
    }
    let bytes = store.object_store().get_range(&snap.file_path(file), start..end).await?;
    let pages = SerializedPageReader::new(Arc::new(Fetched { start, bytes }), chunk, rows, None)?;
    Ok(match pages.into_iter().next().transpose()? {
        Some(Page::DictionaryPage { buf, .. }) => Some(buf),
        _ => None,
    })
}

/// Adds a dictionary page's values (PLAIN-encoded); false for a physical
/// type this does not count.
fn add_values(seen: &mut Seen, stored_as: PhysicalType, mut page: Bytes) -> bool {
    match stored_as {
        PhysicalType::INT32 => {
            seen.ints.extend(page.chunks_exact(4).map(|v| i32::from_le_bytes(v.try_into().unwrap()) as i64))
        }
        PhysicalType::INT64 => {
            seen.ints.extend(page.chunks_exact(8).map(|v| i64::from_le_bytes(v.try_into().unwrap())))
        }
        PhysicalType::BYTE_ARRAY => {
            while page.remaining() >= 4 {
                let len = page.get_u32_le() as usize;
                if len > page.remaining() {
                    return false;
                }
                seen.bytes.insert(page.split_to(len));
            }
        }
        _ => return false,
    }
    true
}

/// The bytes fetched of a file, addressed by their offsets in it.
struct Fetched {
    start: u64,
    bytes: Bytes,
}

impl Fetched {
    fn slice(&self, start: u64, len: Option<usize>) -> parquet::errors::Result<Bytes> {
        let from =
            start.checked_sub(self.start).and_then(|s| usize::try_from(s).ok()).filter(|&s| s <= self.bytes.len());
        let from = from.ok_or_else(|| ParquetError::General(format!("read at {start} outside the fetched range")))?;
        let to = len.map_or(self.bytes.len(), |len| from + len);
        if to > self.bytes.len() {
            return Err(ParquetError::General(format!("read past the fetched range at {start}")));
        }
        Ok(self.bytes.slice(from..to))
    }
}

impl Length for Fetched {
    fn len(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

impl ChunkReader for Fetched {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(self.slice(start, None)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, Some(length))
    }
}
