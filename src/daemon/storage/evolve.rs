//! Schema evolution: which schema an append with `"schema": "merge"` makes,
//! and how rows written under an older schema read under a newer one.
//!
//! Columns are matched by name. A merged schema keeps the dataframe's
//! columns in their order and adds the upload's new ones after them; a
//! column either side lacks becomes nullable (its rows read as null). A
//! type may only widen, so that every older value reads back exactly.

use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::Name;
use crate::daemon::error::{DaemonError, Result};

/// Whether values of `from` convert to `to` without loss: an int to a
/// wider int (an unsigned one also to a wider signed one), a float to a
/// wider float, strings and binaries to their large forms.
pub fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let int_bits = |t: &DataType| match t {
        Int8 => Some((8, true)),
        Int16 => Some((16, true)),
        Int32 => Some((32, true)),
        Int64 => Some((64, true)),
        UInt8 => Some((8, false)),
        UInt16 => Some((16, false)),
        UInt32 => Some((32, false)),
        UInt64 => Some((64, false)),
        _ => None,
    };
    let float_bits = |t: &DataType| match t {
        Float16 => Some(16),
        Float32 => Some(32),
        Float64 => Some(64),
        _ => None,
    };
    if let (Some((a, a_signed)), Some((b, b_signed))) = (int_bits(from), int_bits(to)) {
        return b > a && (a_signed == b_signed || (!a_signed && b_signed));
    }
    if let (Some(a), Some(b)) = (float_bits(from), float_bits(to)) {
        return b > a;
    }
    matches!((from, to), (Utf8, LargeUtf8) | (Binary, LargeBinary))
}

/// The schema of `existing` after an append of data shaped `incoming`
/// with schema merge; `SchemaMismatchError` when a column's type would
/// narrow or change kind.
pub fn merge(existing: &Schema, incoming: &Schema, name: &Name) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = Vec::with_capacity(existing.fields().len());
    for old in existing.fields() {
        let field = match incoming.field_with_name(old.name()) {
            Err(_) => old.as_ref().clone().with_nullable(true),
            Ok(new) if new.data_type() == old.data_type() => {
                old.as_ref().clone().with_nullable(old.is_nullable() || new.is_nullable())
            }
            Ok(new) if widens(old.data_type(), new.data_type()) => {
                new.clone().with_nullable(old.is_nullable() || new.is_nullable())
            }
            Ok(new) => {
                return Err(DaemonError::SchemaMismatch(format!(
                    "cannot merge into dataframe {name}: column {:?} is {} in the dataframe but {} in the data, \
                     and merge only widens a type (int to a wider int, float32 to float64, to a nullable form)",
                    old.name(),
                    old.data_type(),
                    new.data_type()
                )))
            }
        };
        fields.push(field);
    }
    for new in incoming.fields() {
        if existing.field_with_name(new.name()).is_err() {
            // Older rows hold no value for it.
            fields.push(new.as_ref().clone().with_nullable(true));
        }
    }
    // The newest upload's metadata (pandas' describes its columns) when
    // it has any.
    let metadata = if incoming.metadata().is_empty() { existing.metadata() } else { incoming.metadata() };
    Ok(Arc::new(Schema::new_with_metadata(fields, metadata.clone())))
}

/// `batch` in the shape of `target`: columns by name, missing ones null,
/// narrower types cast up. Batches already of that shape pass unchanged.
pub fn adapt(batch: RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let same = batch.schema().fields().len() == target.fields().len()
        && batch
            .schema()
            .fields()
            .iter()
            .zip(target.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    let columns: Vec<ArrayRef> = if same {
        batch.columns().to_vec()
    } else {
        let schema = batch.schema();
        target
            .fields()
            .iter()
            .map(|field| match schema.index_of(field.name()) {
                Err(_) => Ok(new_null_array(field.data_type(), batch.num_rows())),
                Ok(i) if batch.column(i).data_type() == field.data_type() => Ok(batch.column(i).clone()),
                Ok(i) => cast(batch.column(i), field.data_type()).map_err(|e| {
                    DaemonError::SchemaMismatch(format!(
                        "column {:?} cannot be read as {}: {e}",
                        field.name(),
                        field.data_type()
                    ))
                }),
            })
            .collect::<Result<_>>()?
    };
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(target.clone(), columns, &options)
        .map_err(|e| DaemonError::SchemaMismatch(format!("the data does not fit the dataframe's schema: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, Int64Array};

    fn name() -> Name {
        Name::parse("dataframe", "t").unwrap()
    }

    #[test]
    fn merge_adds_columns_widens_and_refuses_narrowing() {
        let old = Schema::new(vec![Field::new("a", DataType::Int32, false), Field::new("b", DataType::Float32, false)]);
        let new = Schema::new(vec![Field::new("a", DataType::Int64, false), Field::new("c", DataType::Utf8, false)]);
        let merged = merge(&old, &new, &name()).unwrap();
        let shape: Vec<_> =
            merged.fields().iter().map(|f| (f.name().as_str(), f.data_type().clone(), f.is_nullable())).collect();
        assert_eq!(shape, [("a", DataType::Int64, false), ("b", DataType::Float32, true), ("c", DataType::Utf8, true)]);
        let narrow = Schema::new(vec![Field::new("a", DataType::Int16, false)]);
        let err = merge(&old, &narrow, &name()).unwrap_err();
        assert!(
            matches!(err, DaemonError::SchemaMismatch(ref m) if m.contains("\"a\" is Int32 in the dataframe but Int16")),
            "{err}"
        );
        assert!(!widens(&DataType::Int64, &DataType::Float64));
        assert!(widens(&DataType::UInt32, &DataType::Int64));
        assert!(!widens(&DataType::Int32, &DataType::UInt64));
    }

    #[test]
    fn older_rows_read_under_the_merged_schema() {
        let old = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(old, vec![Arc::new(Int32Array::from(vec![1, 2]))]).unwrap();
        let target =
            Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false), Field::new("z", DataType::Utf8, true)]));
        let read = adapt(batch, &target).unwrap();
        assert_eq!(read.column(0).as_ref(), &Int64Array::from(vec![1, 2]) as &dyn arrow::array::Array);
        assert_eq!(read.column(1).null_count(), 2);
    }
}
