//! How shoots writes Parquet: the daemon's data files and the client's
//! `get -o FILE.parquet` exports alike.

use arrow::datatypes::Schema;
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression, Encoding, LogicalType, Type as PhysicalType, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Rows per row group. A reader holds one row group's compressed column
/// chunks while it streams them, so this bounds each DoGet's memory (about
/// 4 MB at 128K rows of the benchmark's seven columns) as much as it shapes
/// scans.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// How Parquet is written: zstd level 1, `row_group_rows` per row
/// group, and encodings chosen by column type where the default wastes work:
///
/// - Floating point measurements are nearly all distinct, so a dictionary
///   only costs hashing until it overflows its page limit and falls back,
///   and the file keeps both (2.2 MB instead of 2.0 MB per 256K doubles).
/// - Timestamps are mostly distinct and mostly increasing: delta encoding
///   stores a regular series in a few bits a row where a dictionary and
///   zstd need six bytes.
pub fn writer_properties(schema: &Schema, row_group_rows: usize) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid zstd level")))
        .set_max_row_group_row_count(Some(row_group_rows));
    // A schema Parquet cannot hold fails later, with the writer's own error.
    if let Ok(descr) = ArrowSchemaConverter::new().convert(schema) {
        for column in descr.columns() {
            let timestamp = matches!(column.logical_type_ref(), Some(LogicalType::Timestamp { .. }));
            match column.physical_type() {
                PhysicalType::FLOAT | PhysicalType::DOUBLE => {
                    props = props.set_column_dictionary_enabled(column.path().clone(), false);
                }
                PhysicalType::INT64 if timestamp => {
                    props = props
                        .set_column_dictionary_enabled(column.path().clone(), false)
                        .set_column_encoding(column.path().clone(), Encoding::DELTA_BINARY_PACKED);
                }
                _ => {}
            }
        }
    }
    props.build()
}


#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType, Field, TimeUnit};
    use parquet::schema::types::ColumnPath;

    use super::*;

    #[test]
    fn encodings_follow_the_column_type() {
        let schema = Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true),
            Field::new("x", DataType::Float64, true),
            Field::new("xs", DataType::List(Field::new("item", DataType::Float32, true).into()), true),
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]);
        let props = writer_properties(&schema, 1000);
        let path = |p: &[&str]| ColumnPath::new(p.iter().map(|s| s.to_string()).collect());
        assert!(!props.dictionary_enabled(&path(&["ts"])));
        assert_eq!(props.encoding(&path(&["ts"])), Some(Encoding::DELTA_BINARY_PACKED));
        assert!(!props.dictionary_enabled(&path(&["x"])));
        assert!(!props.dictionary_enabled(&path(&["xs", "list", "item"])));
        assert!(props.dictionary_enabled(&path(&["n"])));
        assert!(props.dictionary_enabled(&path(&["s"])));
        assert_eq!(props.max_row_group_row_count(), Some(1000));
    }
}
