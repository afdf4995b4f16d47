//! Dictionary columns (pandas categoricals) come back with their
//! dictionary as it was put: its values in their order, unused ones kept.
//!
//! Parquet keeps only the values a file uses, in the order they first
//! appear, so a put of `Categorical(["hi", "lo"], categories=["lo", "mid",
//! "hi"])` would come back with categories `["hi", "lo"]`: other codes, and
//! for an ordered categorical another meaning. So each data file also
//! carries, in its key-value metadata, every top-level dictionary column's
//! dictionary: the first batch's whole, then values later batches add.
//! Reading maps the keys Parquet gives back onto that dictionary.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{make_array, Array, ArrayData, ArrayRef, AsArray, Int64Array, RecordBatch};
use arrow::compute::{cast, concat, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::row::{OwnedRow, RowConverter, SortField};
use base64::Engine;

use crate::daemon::error::{DaemonError, Result};

/// The Parquet key-value metadata entry holding the dictionaries.
pub(super) const METADATA_KEY: &str = "shoots.dictionaries";

fn value_type(field: &Field) -> Option<&DataType> {
    match field.data_type() {
        DataType::Dictionary(_, values) => Some(values),
        _ => None,
    }
}

/// The dictionaries of one file as its batches are written.
pub(super) struct Dictionaries {
    columns: Vec<Option<Collected>>,
}

struct Collected {
    converter: RowConverter,
    seen: std::collections::HashSet<OwnedRow>,
    /// The values in dictionary order, in the chunks they were found in.
    chunks: Vec<ArrayRef>,
    /// The last dictionary looked at: batches of one upload usually share it.
    last: Option<ArrayData>,
}

impl Dictionaries {
    pub(super) fn new(schema: &Schema) -> Result<Dictionaries> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                value_type(f)
                    .map(|t| {
                        let converter = RowConverter::new(vec![SortField::new(t.clone())])
                            .map_err(|e| DaemonError::internal(format!("dictionary of column {}", f.name()), e))?;
                        Ok(Collected { converter, seen: Default::default(), chunks: Vec::new(), last: None })
                    })
                    .transpose()
            })
            .collect::<Result<_>>()?;
        Ok(Dictionaries { columns })
    }

    /// Takes note of the dictionary values of `batch` not seen before.
    pub(super) fn observe(&mut self, batch: &RecordBatch) -> Result<()> {
        for (collected, column) in self.columns.iter_mut().zip(batch.columns()) {
            let (Some(collected), Some(dict)) = (collected, column.as_any_dictionary_opt()) else { continue };
            let values = dict.values();
            let data = values.to_data();
            if collected.last.as_ref() == Some(&data) {
                continue;
            }
            let rows = collected.converter.convert_columns(std::slice::from_ref(values)).map_err(internal)?;
            let new: Vec<i64> = (0..rows.num_rows())
                .filter(|&i| collected.seen.insert(rows.row(i).owned()))
                .map(|i| i as i64)
                .collect();
            if new.len() == values.len() {
                collected.chunks.push(values.clone());
            } else if !new.is_empty() {
                collected.chunks.push(take(values.as_ref(), &Int64Array::from(new), None).map_err(internal)?);
            }
            collected.last = Some(data);
        }
        Ok(())
    }

    /// The metadata value for the file, or `None` without dictionary columns.
    pub(super) fn encode(&self) -> Result<Option<String>> {
        let mut encoded = serde_json::Map::new();
        for (i, collected) in self.columns.iter().enumerate() {
            let Some(collected) = collected else { continue };
            let chunks: Vec<&dyn Array> = collected.chunks.iter().map(|c| c.as_ref()).collect();
            let Some(first) = chunks.first() else { continue };
            let values = concat(&chunks).map_err(internal)?;
            let schema = Arc::new(Schema::new(vec![Field::new("values", first.data_type().clone(), true)]));
            let batch = RecordBatch::try_new(schema.clone(), vec![values]).map_err(internal)?;
            let mut ipc = Vec::new();
            let mut writer = StreamWriter::try_new(&mut ipc, &schema).map_err(internal)?;
            writer.write(&batch).map_err(internal)?;
            writer.finish().map_err(internal)?;
            drop(writer);
            encoded.insert(i.to_string(), base64::engine::general_purpose::STANDARD.encode(ipc).into());
        }
        Ok((!encoded.is_empty()).then(|| serde_json::Value::Object(encoded).to_string()))
    }
}

fn internal(e: impl Into<crate::daemon::error::BoxError>) -> DaemonError {
    DaemonError::internal("keeping a dictionary column's dictionary", e)
}

/// Puts the written dictionaries back on the batches read from one file
/// (all its columns or some), by column name.
pub(super) struct Restorer {
    columns: HashMap<String, Stored>,
}

struct Stored {
    values: ArrayRef,
    converter: RowConverter,
    index: HashMap<OwnedRow, i64>,
}

impl Restorer {
    /// From a file's schema and metadata value; `None` when there is nothing to restore
    /// (no dictionary columns, or a file written before dictionaries were
    /// kept, which reads as it always did).
    pub(super) fn new(schema: &SchemaRef, metadata: Option<&str>) -> Result<Option<Restorer>> {
        let Some(metadata) = metadata else { return Ok(None) };
        let corrupt = |why: String| DaemonError::Io(format!("corrupt dictionary metadata in a data file: {why}"));
        let encoded: HashMap<String, String> = serde_json::from_str(metadata).map_err(|e| corrupt(e.to_string()))?;
        let mut columns = HashMap::new();
        for (i, b64) in encoded {
            let i: usize = i.parse().map_err(|_| corrupt(format!("column {i:?}")))?;
            let Some(field) = schema.fields().get(i) else { return Err(corrupt(format!("no column {i}"))) };
            let (Some(value_type), DataType::Dictionary(key_type, _)) = (value_type(field), field.data_type()) else {
                continue;
            };
            let ipc = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| corrupt(e.to_string()))?;
            let mut reader = StreamReader::try_new(ipc.as_slice(), None).map_err(|e| corrupt(e.to_string()))?;
            let Some(batch) = reader.next().transpose().map_err(|e| corrupt(e.to_string()))? else { continue };
            let values = batch.column(0).clone();
            // A dictionary its key type cannot index reads as Parquet gives it.
            if values.data_type() != value_type || values.len() > max_keys(key_type) {
                continue;
            }
            let converter = RowConverter::new(vec![SortField::new(value_type.clone())]).map_err(internal)?;
            let rows = converter.convert_columns(std::slice::from_ref(&values)).map_err(internal)?;
            let mut index = HashMap::with_capacity(rows.num_rows());
            for r in 0..rows.num_rows() {
                index.entry(rows.row(r).owned()).or_insert(r as i64);
            }
            columns.insert(field.name().clone(), Stored { values, converter, index });
        }
        Ok((!columns.is_empty()).then_some(Restorer { columns }))
    }

    /// `batch` with each dictionary column's keys pointing into the stored
    /// dictionary.
    pub(super) fn restore(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let mut columns = batch.columns().to_vec();
        let schema = batch.schema();
        for (column, field) in columns.iter_mut().zip(schema.fields()) {
            let Some(stored) = self.columns.get(field.name()) else { continue };
            let Some(dict) = column.as_any_dictionary_opt() else { continue };
            let rows = stored.converter.convert_columns(&[dict.values().clone()]).map_err(internal)?;
            let mapping: Option<Vec<i64>> =
                (0..rows.num_rows()).map(|r| stored.index.get(&rows.row(r).owned()).copied()).collect();
            // A value the stored dictionary lacks: leave the column as read.
            let Some(mapping) = mapping else { continue };
            let keys = cast(dict.keys(), &DataType::Int64).map_err(internal)?;
            let remapped = take(&Int64Array::from(mapping), &keys, None).map_err(internal)?;
            let keys = cast(&remapped, dict.keys().data_type()).map_err(internal)?.to_data();
            let data = ArrayData::builder(column.data_type().clone())
                .len(keys.len())
                .nulls(keys.nulls().cloned())
                .add_buffer(keys.buffers()[0].clone())
                .add_child_data(stored.values.to_data())
                .build()
                .map_err(internal)?;
            *column = make_array(data);
        }
        RecordBatch::try_new(batch.schema(), columns).map_err(internal)
    }
}

fn max_keys(key_type: &DataType) -> usize {
    match key_type {
        DataType::Int8 => i8::MAX as usize + 1,
        DataType::UInt8 => u8::MAX as usize + 1,
        DataType::Int16 => i16::MAX as usize + 1,
        DataType::UInt16 => u16::MAX as usize + 1,
        DataType::Int32 => i32::MAX as usize,
        _ => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, StringArray};
    use arrow::datatypes::Int8Type;

    fn categorical(keys: Vec<i8>, values: &[&str]) -> ArrayRef {
        let values = Arc::new(StringArray::from(values.to_vec()));
        Arc::new(DictionaryArray::<Int8Type>::try_new(keys.into(), values).unwrap())
    }

    #[test]
    fn the_written_dictionary_comes_back_in_its_order_with_unused_values() {
        let field = Field::new_dictionary("c", DataType::Int8, DataType::Utf8, true);
        let schema = Arc::new(Schema::new(vec![field]));
        let written =
            RecordBatch::try_new(schema.clone(), vec![categorical(vec![2, 0, 2], &["lo", "mid", "hi"])]).unwrap();
        let later = RecordBatch::try_new(schema.clone(), vec![categorical(vec![0], &["max"])]).unwrap();
        let mut dictionaries = Dictionaries::new(&schema).unwrap();
        dictionaries.observe(&written).unwrap();
        dictionaries.observe(&written).unwrap();
        dictionaries.observe(&later).unwrap();
        let metadata = dictionaries.encode().unwrap().unwrap();

        // What Parquet gives back: the used values, in order of appearance.
        let read = RecordBatch::try_new(schema.clone(), vec![categorical(vec![0, 1, 0], &["hi", "lo"])]).unwrap();
        let restored = Restorer::new(&schema, Some(&metadata)).unwrap().unwrap().restore(read).unwrap();
        let dict = restored.column(0).as_dictionary::<Int8Type>();
        let values: Vec<_> = dict.values().as_string::<i32>().iter().flatten().collect();
        assert_eq!(values, ["lo", "mid", "hi", "max"]);
        assert_eq!(dict.keys().values().to_vec(), [2, 0, 2]);
    }
}
