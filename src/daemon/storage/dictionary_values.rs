//! A column's distinct values read from its Parquet dictionaries.
//!
//! A column chunk whose data pages all refer to a dictionary holds exactly
//! the dictionary's values (the writer puts a value there when a row has
//! it), so the distinct values of a version's column are the union of its
//! chunks' dictionaries: a few KB a row group instead of every row decoded
//! and hashed. Per group of another dictionary-encoded column, the pairs of
//! dictionary indices the data pages hold say the same, a bit each, without
//! decoding a value. Anything else (a chunk that fell back to plain pages,
//! rows marked deleted, a type whose stored form is not one-to-one with its
//! values) answers `None`, and the query runs as it would have.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, Int64Array, UInt64Array};
use arrow::datatypes::DataType;
use bytes::{Buf, Bytes};
use futures::{FutureExt, StreamExt};
use object_store::ObjectStoreExt;
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use super::{read, DataFile, Snapshot, Store};
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

/// A value as a Parquet dictionary stores it.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Stored {
    Int(i64),
    Bytes(Bytes),
}

/// How many distinct non-null values `column` holds in `snap`, if every
/// chunk of it is dictionary-encoded and every file stores it the same way.
pub(super) async fn count(store: &Store, snap: &Snapshot, column: &str) -> Result<Option<u64>> {
    if !snap.schema.fields().iter().any(|f| f.name() == column && countable(f.data_type())) {
        return Ok(None);
    }
    let mut seen = HashSet::new();
    let mut stored_as = None;
    let mut held = 0;
    for file in &snap.commit.files {
        let Some(meta) = footer(store, snap, file).await? else { return Ok(None) };
        // A file written before the column was added holds only its nulls.
        let Some(index) = column_index(&meta, column) else { continue };
        for group in read::row_groups_of(&meta, file) {
            let chunk = meta.row_group(group).column(index);
            if *stored_as.get_or_insert(chunk.column_type()) != chunk.column_type() || !all_dictionary(chunk) {
                return Ok(None);
            }
            let rows = usize::try_from(meta.row_group(group).num_rows()).unwrap_or(0);
            let Some(page) = dictionary_page(store, snap, file, chunk, rows).await? else { return Ok(None) };
            held += page.len();
            let Some(values) = dictionary_values(chunk.column_type(), page).filter(|_| held <= MAX_DICTIONARY_BYTES)
            else {
                return Ok(None);
            };
            seen.extend(values);
        }
    }
    Ok(Some(seen.len() as u64))
}

/// For each value of `group` (null included), how many distinct non-null
/// values of `counted` its rows hold: the groups as an array of `group`'s
/// type and their counts. `None` unless both columns are in every file,
/// every chunk of both is dictionary-encoded, and each column is stored
/// the same way throughout.
pub(super) async fn count_per_group(
    store: &Store,
    snap: &Snapshot,
    group: &str,
    counted: &str,
) -> Result<Option<(ArrayRef, Vec<i64>)>> {
    let field =
        |name: &str| snap.schema.fields().iter().find(|f| f.name() == name && countable(f.data_type())).cloned();
    let (Some(group_field), Some(_)) = (field(group), field(counted)) else { return Ok(None) };
    let mut row_groups = Vec::new();
    let mut stored_as = [None, None];
    for file in &snap.commit.files {
        let Some(meta) = footer(store, snap, file).await? else { return Ok(None) };
        let (Some(g), Some(c)) = (column_index(&meta, group), column_index(&meta, counted)) else { return Ok(None) };
        for row_group in read::row_groups_of(&meta, file) {
            for (k, index) in [g, c].into_iter().enumerate() {
                let chunk = meta.row_group(row_group).column(index);
                if *stored_as[k].get_or_insert(chunk.column_type()) != chunk.column_type() || !readable(chunk) {
                    return Ok(None);
                }
            }
            row_groups.push(RowGroup { file, meta: meta.clone(), index: row_group, columns: [g, c] });
        }
    }
    // A row group per core at a time, as the plan's partitions would take them.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let reads: Vec<_> = row_groups.into_iter().map(|row_group| row_group.pairs(store, snap).boxed()).collect();
    let mut pairs = futures::stream::iter(reads).buffered(cores);
    let (mut tally, mut held) = (Tally::default(), 0);
    while let Some(read) = pairs.next().await {
        let Some((keys, values, pairs, bytes)) = read? else { return Ok(None) };
        held += bytes;
        if held > MAX_DICTIONARY_BYTES || !tally.add(&keys, &values, &pairs) {
            return Ok(None);
        }
    }
    let (keys, counts) = tally.counts();
    Ok(as_array(keys, group_field.data_type()).map(|keys| (keys, counts)))
}

/// One row group of one file, the two columns a grouped count reads.
struct RowGroup<'a> {
    file: &'a DataFile,
    meta: Arc<ParquetMetaData>,
    index: usize,
    /// The group column's, then the counted column's.
    columns: [usize; 2],
}

/// Both columns' dictionaries, the row group's distinct pairs of their
/// indices, and the bytes read.
type Pairs = (Vec<Stored>, Vec<Stored>, Vec<(u32, u32)>, usize);

impl RowGroup<'_> {
    async fn pairs(self, store: &Store, snap: &Snapshot) -> Result<Option<Pairs>> {
        let mut fetched = Vec::with_capacity(2);
        for index in self.columns {
            let (start, len) = self.meta.row_group(self.index).column(index).byte_range();
            fetched
                .push((start, store.object_store().get_range(&snap.file_path(self.file), start..start + len).await?));
        }
        let (meta, group, columns) = (self.meta, self.index, self.columns);
        let decode = move || -> parquet::errors::Result<Option<Pairs>> {
            let rows = usize::try_from(meta.row_group(group).num_rows()).unwrap_or(0);
            let mut chunks = Vec::with_capacity(2);
            let mut bytes = 0;
            for ((start, fetched), index) in fetched.into_iter().zip(columns) {
                bytes += fetched.len();
                let Some(chunk) = Chunk::decode(meta.row_group(group).column(index), start, fetched, rows)? else {
                    return Ok(None);
                };
                chunks.push(chunk);
            }
            let [keys, values] = <[Chunk; 2]>::try_from(chunks).map_err(|_| ParquetError::General("two".into()))?;
            Ok(distinct_pairs(&keys, &values).map(|pairs| (keys.values, values.values, pairs, bytes)))
        };
        // Decoding a row group's indices is a few milliseconds of CPU.
        let decoded = tokio::task::spawn_blocking(decode).await.map_err(|e| ParquetError::External(e.into()))?;
        Ok(decoded?)
    }
}

/// The distinct values seen per group so far: each group a bitmap over
/// the values, numbered as first met.
#[derive(Default)]
struct Tally {
    groups: HashMap<Option<Stored>, usize>,
    values: HashMap<Stored, u32>,
    seen: Vec<Vec<u64>>,
}

/// The most bits a grouped count's bitmaps hold (16 MiB), groups times
/// values; past it the plan counts instead.
const MAX_CELLS: usize = 1 << 27;

impl Tally {
    /// Adds one row group's pairs; false once the bitmaps would pass
    /// [`MAX_CELLS`].
    fn add(&mut self, keys: &[Stored], values: &[Stored], pairs: &[(u32, u32)]) -> bool {
        let ids: Vec<u32> = values
            .iter()
            .map(|v| {
                let next = self.values.len() as u32;
                *self.values.entry(v.clone()).or_insert(next)
            })
            .collect();
        // Each group's slot, looked up once: past `keys` is the null group.
        let mut slots: Vec<Option<usize>> = vec![None; keys.len() + 1];
        for &(k, v) in pairs {
            let slot = *slots[k as usize].get_or_insert_with(|| {
                let next = self.groups.len();
                let slot = *self.groups.entry(keys.get(k as usize).cloned()).or_insert(next);
                if slot == self.seen.len() {
                    self.seen.push(Vec::new());
                }
                slot
            });
            if let Some(&id) = ids.get(v as usize) {
                let (word, bits) = (id as usize / 64, &mut self.seen[slot]);
                if bits.len() <= word {
                    bits.resize(word + 1, 0);
                }
                bits[word] |= 1 << (id % 64);
            }
        }
        self.groups.len().saturating_mul(self.values.len()) <= MAX_CELLS
    }

    fn counts(self) -> (Vec<Option<Stored>>, Vec<i64>) {
        let seen = self.seen;
        self.groups
            .into_iter()
            .map(|(key, slot)| (key, seen[slot].iter().map(|w| i64::from(w.count_ones())).sum::<i64>()))
            .unzip()
    }
}

/// Groups' values as an array of the column's type.
fn as_array(keys: Vec<Option<Stored>>, data_type: &DataType) -> Option<ArrayRef> {
    let array: ArrayRef = if data_type.is_integer() {
        let ints = keys.iter().map(|k| match k {
            Some(Stored::Int(v)) => Some(*v),
            _ => None,
        });
        // An unsigned 64-bit value is stored with its bits as a signed one.
        if data_type == &DataType::UInt64 {
            return Some(Arc::new(UInt64Array::from_iter(ints.map(|v| v.map(|v| v as u64)))));
        }
        Arc::new(Int64Array::from_iter(ints))
    } else {
        Arc::new(BinaryArray::from_iter(keys.iter().map(|k| match k {
            Some(Stored::Bytes(b)) => Some(b.as_ref()),
            _ => None,
        })))
    };
    arrow::compute::cast(&array, data_type).ok()
}

/// A file's footer; `None` when rows of it are marked deleted (its chunks
/// hold rows the version does not).
async fn footer(store: &Store, snap: &Snapshot, file: &DataFile) -> Result<Option<Arc<ParquetMetaData>>> {
    if file.deleted.is_some() {
        return Ok(None);
    }
    Ok(Some(read::footer(store, snap, file).await?))
}

fn column_index(meta: &ParquetMetaData, column: &str) -> Option<usize> {
    meta.file_metadata().schema_descr().columns().iter().position(|c| c.path().parts() == [column])
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

/// A dictionary page's values (PLAIN-encoded), in order; `None` for a
/// physical type this does not count.
fn dictionary_values(stored_as: PhysicalType, mut page: Bytes) -> Option<Vec<Stored>> {
    Some(match stored_as {
        PhysicalType::INT32 => {
            page.chunks_exact(4).map(|v| Stored::Int(i32::from_le_bytes(v.try_into().unwrap()) as i64)).collect()
        }
        PhysicalType::INT64 => {
            page.chunks_exact(8).map(|v| Stored::Int(i64::from_le_bytes(v.try_into().unwrap()))).collect()
        }
        PhysicalType::BYTE_ARRAY => {
            let mut values = Vec::new();
            while page.remaining() >= 4 {
                let len = page.get_u32_le() as usize;
                if len > page.remaining() {
                    return None;
                }
                values.push(Stored::Bytes(page.split_to(len)));
            }
            values
        }
        _ => return None,
    })
}

/// One column chunk read whole: its dictionary and, for each row, the
/// index of its value there.
struct Chunk {
    values: Vec<Stored>,
    /// Per row: an index into `values`, `values.len()` for a null.
    rows: Vec<u32>,
}

/// Whether a grouped count reads `chunk`: dictionary-encoded throughout,
/// not repeated, nulls (if any) marked by one definition level.
fn readable(chunk: &ColumnChunkMetaData) -> bool {
    let descr = chunk.column_descr();
    all_dictionary(chunk) && descr.max_rep_level() == 0 && descr.max_def_level() <= 1
}

impl Chunk {
    /// Decodes the pages of `chunk`, fetched whole from `start`; `None`
    /// for a page or level layout this does not read.
    fn decode(
        chunk: &ColumnChunkMetaData,
        start: u64,
        bytes: Bytes,
        rows: usize,
    ) -> parquet::errors::Result<Option<Chunk>> {
        let mut pages = SerializedPageReader::new(Arc::new(Fetched { start, bytes }), chunk, rows, None)?;
        let Some(Page::DictionaryPage { buf, .. }) = pages.next().transpose()? else { return Ok(None) };
        let Some(values) = dictionary_values(chunk.column_type(), buf) else { return Ok(None) };
        let null = u32::try_from(values.len()).unwrap_or(u32::MAX);
        let nullable = chunk.column_descr().max_def_level() == 1;
        let mut indices = Vec::with_capacity(rows);
        for page in pages {
            if page_indices(page?, nullable, null, &mut indices).is_none() {
                return Ok(None);
            }
        }
        Ok((indices.len() == rows).then_some(Chunk { values, rows: indices }))
    }
}

/// Appends the dictionary index of each row of a data page (`null` where
/// the row has none); `None` for a page not dictionary-encoded.
fn page_indices(page: Page, nullable: bool, null: u32, out: &mut Vec<u32>) -> Option<()> {
    let dictionary = |e: Encoding| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY);
    let (buf, rows, levels) = match page {
        Page::DataPage { buf, num_values, encoding, def_level_encoding, .. } if dictionary(encoding) => {
            // Version 1 puts the definition levels first, after their length.
            let levels = match nullable {
                false => 0..0,
                true if def_level_encoding == Encoding::RLE => {
                    let len = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
                    4..4 + len
                }
                true => return None,
            };
            (buf, num_values as usize, levels)
        }
        Page::DataPageV2 { buf, num_values, encoding, def_levels_byte_len, rep_levels_byte_len, .. }
            if dictionary(encoding) && rep_levels_byte_len == 0 =>
        {
            (buf, num_values as usize, 0..def_levels_byte_len as usize)
        }
        _ => return None,
    };
    let (&width, packed) = buf.get(levels.end..)?.split_first()?;
    // Every index then fits in the bits `null` takes: [`distinct_pairs`]'
    // bitmap has room for it.
    if u32::from(width) > bits(null) {
        return None;
    }
    let levels = buf.get(levels)?;
    if !nullable || all_defined(levels, rows) {
        return hybrid(packed, width, rows, out);
    }
    let mut defined = Vec::with_capacity(rows);
    hybrid(levels, 1, rows, &mut defined)?;
    let present = defined.iter().filter(|&&d| d == 1).count();
    let mut indices = Vec::with_capacity(present);
    hybrid(packed, width, present, &mut indices)?;
    let mut indices = indices.into_iter();
    out.extend(defined.iter().map(|&d| if d == 1 { indices.next().unwrap_or(null) } else { null }));
    Some(())
}

/// Whether definition levels (one bit each) are a single run of present
/// values: a page without nulls, the common case, read without them.
fn all_defined(mut levels: &[u8], rows: usize) -> bool {
    let header = uleb128(&mut levels);
    header.is_some_and(|h| h & 1 == 0 && (h >> 1) as usize >= rows) && levels.first() == Some(&1)
}

/// Decodes `n` values of Parquet's RLE / bit-packed hybrid encoding, each
/// `width` bits.
fn hybrid(mut data: &[u8], width: u8, n: usize, out: &mut Vec<u32>) -> Option<()> {
    if width > 32 {
        return None;
    }
    let width = usize::from(width);
    let end = out.len() + n;
    while out.len() < end {
        let header = uleb128(&mut data)?;
        let left = end - out.len();
        let run = usize::try_from(header >> 1).ok()?;
        if header & 1 == 0 {
            let (value, rest) = data.split_at_checked(width.div_ceil(8))?;
            let value = value.iter().rev().fold(0u32, |v, &b| v << 8 | u32::from(b));
            out.extend(std::iter::repeat_n(value, run.min(left)));
            data = rest;
        } else {
            // The last run of a page may end before its eight-value groups do.
            let (packed, rest) = data.split_at(run.checked_mul(width)?.min(data.len()));
            let count = (run * 8).min(left);
            if width > 0 && packed.len() * 8 / width < count {
                return None;
            }
            unpack(packed, width, count, out);
            data = rest;
        }
    }
    Some(())
}

/// Appends `count` values of `width` bits (at most 32), packed least
/// significant bit first: each read as the eight bytes it starts in.
fn unpack(packed: &[u8], width: usize, count: usize, out: &mut Vec<u32>) {
    let start = out.len();
    out.resize(start + count, 0);
    if width == 0 {
        return;
    }
    let mask = (1u64 << width) - 1;
    for (i, value) in out[start..].iter_mut().enumerate() {
        let bit = i * width;
        let byte = bit / 8;
        let word = match packed.get(byte..byte + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().unwrap()),
            None => {
                let mut word = [0u8; 8];
                let tail = packed.get(byte..).unwrap_or_default();
                word[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(word)
            }
        };
        *value = ((word >> (bit % 8)) & mask) as u32;
    }
}

fn uleb128(data: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = data.split_first()?;
        *data = rest;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// How many bits an index up to `max` takes.
fn bits(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

/// The distinct (group index, value index) pairs of one row group's rows,
/// a null group as `keys.values.len()`; rows whose value is null give a
/// pair with an index past `values.values`, so their group still shows.
/// `None` for an index past its dictionary's null.
fn distinct_pairs(keys: &Chunk, values: &Chunk) -> Option<Vec<(u32, u32)>> {
    let (null_key, null_value) = (keys.values.len() as u32, values.values.len() as u32);
    // Indices fit their bits (checked per page), so a key and a value side
    // by side are one cell of a bitmap.
    let shift = bits(null_value);
    let cells = 1usize.checked_shl(bits(null_key) + shift)?;
    let codes = keys.rows.iter().zip(&values.rows).map(|(&k, &v)| (k as usize) << shift | v as usize);
    let pairs: Vec<(u32, u32)> = if cells <= 8 * keys.rows.len().max(1 << 16) {
        let mut seen = vec![0u64; cells.div_ceil(64)];
        for cell in codes {
            seen[cell / 64] |= 1 << (cell % 64);
        }
        let set = seen
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| (0..64).filter(move |b| bits & (1 << b) != 0).map(move |b| w * 64 + b));
        set.map(|cell| ((cell >> shift) as u32, (cell & ((1 << shift) - 1)) as u32)).collect()
    } else {
        let mut codes: Vec<usize> = codes.collect();
        codes.sort_unstable();
        codes.dedup();
        codes.into_iter().map(|cell| ((cell >> shift) as u32, (cell & ((1 << shift) - 1)) as u32)).collect()
    };
    pairs.iter().all(|&(k, v)| k <= null_key && v <= null_value).then_some(pairs)
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
