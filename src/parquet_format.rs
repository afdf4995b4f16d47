//! How shoots writes Parquet: the daemon's data files and the client's
//! `get -o FILE.parquet` exports alike.

use std::collections::HashSet;

use arrow::array::{Array, ArrowPrimitiveType, AsArray, PrimitiveArray, RecordBatch};
use arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type, Schema};
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression, Encoding, LogicalType, Type as PhysicalType, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Rows per row group. A reader holds one row group's compressed column
/// chunks while it streams them, so this bounds each DoGet's memory (about
/// 4 MB at 128K rows of the benchmark's seven columns) as much as it shapes
/// scans.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Rows of the first batch looked at to choose a float column's layout.
const SAMPLE_ROWS: usize = 16 * 1024;
/// Fewer values than this say too little to choose by.
const MIN_SAMPLE: usize = 1024;
/// A float column whose sample has at most one distinct value in this many
/// keeps its dictionary.
const DICTIONARY_RATIO: usize = 8;
/// zstd must save at least this fraction of a float column's sample to be
/// worth decompressing on every read.
const WORTHWHILE_SAVING: f64 = 0.1;

fn zstd() -> Compression {
    Compression::ZSTD(ZstdLevel::try_new(1).expect("valid zstd level"))
}

/// How Parquet is written: zstd level 1, `row_group_rows` per row
/// group, and encodings chosen by column type where the default wastes work:
///
/// - Floats are either quantised values that repeat or measurements that
///   hardly do, and `sample` (the first rows to be written) tells which.
///   Repeating floats keep the dictionary (5M readings rounded to two
///   decimals: 7 MB instead of 13 MB plain + zstd). For measurements a
///   dictionary only costs hashing until it overflows its page limit and
///   falls back, so they are plain; and where zstd saves little on the
///   sample (5M normal doubles: 40 → 38 MB) they are left uncompressed,
///   because decompressing that noise made scanning them three times slower.
///   Without a sample of at least [`MIN_SAMPLE`] values, floats are plain
///   and compressed.
/// - Timestamps are mostly distinct and mostly increasing: delta encoding
///   stores a regular series in a few bits a row where a dictionary and
///   zstd need six bytes.
pub fn writer_properties(schema: &Schema, row_group_rows: usize, sample: Option<&RecordBatch>) -> WriterProperties {
    let mut props =
        WriterProperties::builder().set_compression(zstd()).set_max_row_group_row_count(Some(row_group_rows));
    // A schema Parquet cannot hold fails later, with the writer's own error.
    if let Ok(descr) = ArrowSchemaConverter::new().convert(schema) {
        for column in descr.columns() {
            let path = column.path().clone();
            let timestamp = matches!(column.logical_type_ref(), Some(LogicalType::Timestamp { .. }));
            match column.physical_type() {
                PhysicalType::FLOAT | PhysicalType::DOUBLE => {
                    // Only top-level columns are sampled; a nested path has more than one part.
                    let layout = match (sample, path.parts()) {
                        (Some(batch), [name]) => batch.column_by_name(name).and_then(|c| FloatLayout::of(c.as_ref())),
                        _ => None,
                    };
                    props = match layout.unwrap_or(FloatLayout::Plain { compress: true }) {
                        FloatLayout::Dictionary => props,
                        FloatLayout::Plain { compress } => {
                            let compression = if compress { zstd() } else { Compression::UNCOMPRESSED };
                            props
                                .set_column_dictionary_enabled(path.clone(), false)
                                .set_column_compression(path, compression)
                        }
                    };
                }
                PhysicalType::INT64 if timestamp => {
                    props = props
                        .set_column_dictionary_enabled(path.clone(), false)
                        .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
                }
                _ => {}
            }
        }
    }
    props.build()
}

#[derive(Debug, PartialEq)]
enum FloatLayout {
    Dictionary,
    Plain { compress: bool },
}

impl FloatLayout {
    /// What a float column's first rows call for; `None` when they hold
    /// too few values to judge by.
    fn of(column: &dyn Array) -> Option<FloatLayout> {
        match column.data_type() {
            DataType::Float16 => Self::of_values(column.as_primitive::<Float16Type>(), |v| v.to_bits() as u64),
            DataType::Float32 => Self::of_values(column.as_primitive::<Float32Type>(), |v| v.to_bits() as u64),
            DataType::Float64 => Self::of_values(column.as_primitive::<Float64Type>(), f64::to_bits),
            _ => None,
        }
    }

    fn of_values<T: ArrowPrimitiveType>(
        array: &PrimitiveArray<T>,
        bits: impl Fn(T::Native) -> u64,
    ) -> Option<FloatLayout> {
        let sample = array.slice(0, array.len().min(SAMPLE_ROWS));
        let present = sample.len() - sample.null_count();
        if present < MIN_SAMPLE {
            return None;
        }
        let limit = present / DICTIONARY_RATIO;
        let mut seen = HashSet::with_capacity(limit + 1);
        let repeats = sample.iter().flatten().all(|value| {
            seen.insert(bits(value));
            seen.len() <= limit
        });
        if repeats {
            return Some(FloatLayout::Dictionary);
        }
        let raw = sample.values().inner().as_slice();
        let compressed = zstd::bulk::compress(raw, 1).map_or(raw.len(), |c| c.len());
        Some(FloatLayout::Plain { compress: (compressed as f64) < raw.len() as f64 * (1.0 - WORTHWHILE_SAVING) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float32Array, Float64Array, ListArray};
    use arrow::datatypes::{Field, TimeUnit};
    use parquet::schema::types::ColumnPath;

    use super::*;

    fn path(p: &[&str]) -> ColumnPath {
        ColumnPath::new(p.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn encodings_follow_the_column_type() {
        let schema = Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true),
            Field::new("x", DataType::Float64, true),
            Field::new("xs", DataType::List(Field::new("item", DataType::Float32, true).into()), true),
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]);
        let props = writer_properties(&schema, 1000, None);
        assert!(!props.dictionary_enabled(&path(&["ts"])));
        assert_eq!(props.encoding(&path(&["ts"])), Some(Encoding::DELTA_BINARY_PACKED));
        assert!(!props.dictionary_enabled(&path(&["x"])));
        assert_eq!(props.compression(&path(&["x"])), zstd());
        assert!(!props.dictionary_enabled(&path(&["xs", "list", "item"])));
        assert!(props.dictionary_enabled(&path(&["n"])));
        assert!(props.dictionary_enabled(&path(&["s"])));
        assert_eq!(props.max_row_group_row_count(), Some(1000));
    }

    #[test]
    fn a_sample_tells_measurements_from_repeating_floats() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("noise", DataType::Float64, true),
            Field::new("ramp", DataType::Float64, true),
            Field::new("rounded", DataType::Float64, true),
            Field::new("small", DataType::Float32, true),
            Field::new("empty", DataType::Float64, true),
            Field::new("xs", DataType::List(Field::new("item", DataType::Float32, true).into()), true),
        ]));
        let rows = 10_000;
        // A multiplicative congruential sequence: every bit of the mantissa busy.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Float64Array = (0..rows)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                Some((state >> 11) as f64 / (1u64 << 53) as f64)
            })
            .collect();
        // Distinct, but with long runs of equal high bytes.
        let ramp: Float64Array = (0..rows).map(|i| Some(i as f64)).collect();
        let rounded: Float64Array = (0..rows).map(|i| Some(20.0 + (i % 300) as f64 / 100.0)).collect();
        let small: Float32Array = (0..rows).map(|i| Some((i % 7) as f32)).collect();
        let empty = Float64Array::new_null(rows);
        let xs = ListArray::from_iter_primitive::<Float32Type, _, _>((0..rows).map(|i| Some(vec![Some(i as f32)])));
        let columns: Vec<Arc<dyn Array>> =
            vec![Arc::new(noise), Arc::new(ramp), Arc::new(rounded), Arc::new(small), Arc::new(empty), Arc::new(xs)];
        let sample = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let props = writer_properties(&schema, 1000, Some(&sample));
        assert!(!props.dictionary_enabled(&path(&["noise"])));
        assert_eq!(props.compression(&path(&["noise"])), Compression::UNCOMPRESSED);
        assert!(!props.dictionary_enabled(&path(&["ramp"])));
        assert_eq!(props.compression(&path(&["ramp"])), zstd());
        for repeating in ["rounded", "small"] {
            assert!(props.dictionary_enabled(&path(&[repeating])), "{repeating}");
            assert_eq!(props.compression(&path(&[repeating])), zstd(), "{repeating}");
        }
        // Nothing to judge by: plain and compressed, as without a sample.
        for unjudged in [&["empty"][..], &["xs", "list", "item"]] {
            assert!(!props.dictionary_enabled(&path(unjudged)));
            assert_eq!(props.compression(&path(unjudged)), zstd());
        }
        // Nor by a few rows: a put whose first batch is small.
        let props = writer_properties(&schema, 1000, Some(&sample.slice(0, 100)));
        for few in ["noise", "rounded"] {
            assert!(!props.dictionary_enabled(&path(&[few])), "{few}");
            assert_eq!(props.compression(&path(&[few])), zstd(), "{few}");
        }
    }
}
