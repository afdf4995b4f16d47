//! Binary `COPY ... TO STDOUT` straight from Arrow columns: the common
//! types are written column by column into one buffer per batch, each row
//! then one slice of it (one `CopyData` a row, as clients read them). The
//! values are those arrow-pg's encoder gives the same types (the one
//! mapping); a batch with another type goes through that encoder.

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, LargeBinaryArray, LargeStringArray, RecordBatch,
    StringArray, StringViewArray,
};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, SchemaRef, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type,
    UInt32Type, UInt8Type,
};
use bytes::{BufMut, Bytes, BytesMut};
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;

use super::errors::{code, error};
use crate::daemon::error::DaemonError;

/// Days and microseconds between 1970-01-01 and Postgres' epoch, 2000-01-01.
pub const PG_EPOCH_DAYS: i32 = 10_957;
pub const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// What every binary COPY starts with.
pub const MAGIC: &[u8] = b"PGCOPY\n\xFF\r\n\x00";
/// The magic, no flags and no header extension: the header shoots sends.
pub const SIGNATURE: &[u8] = b"PGCOPY\n\xFF\r\n\x00\0\0\0\0\0\0\0\0";
/// A binary COPY of no rows, whole.
const EMPTY: &[u8] = b"PGCOPY\n\xFF\r\n\x00\0\0\0\0\0\0\0\0\xFF\xFF";

/// One column, ready to write a row's value.
enum Column<'a> {
    I16(Box<dyn Fn(usize) -> i16 + 'a>),
    I32(Box<dyn Fn(usize) -> i32 + 'a>),
    I64(Box<dyn Fn(usize) -> i64 + 'a>),
    F32(&'a [f32]),
    F64(&'a [f64]),
    Bool(&'a BooleanArray),
    Bytes(Box<dyn Fn(usize) -> &'a [u8] + 'a>),
    Date(&'a Date32Array),
    Micros(Box<dyn Fn(usize) -> i64 + 'a>),
}

/// How `array` is written, or `None` for a type left to arrow-pg.
fn column<'a>(array: &'a ArrayRef) -> Option<Column<'a>> {
    Some(match array.data_type() {
        DataType::Int8 => {
            let a = array.as_primitive::<Int8Type>();
            Column::I16(Box::new(move |i| i16::from(a.value(i))))
        }
        DataType::Int16 => {
            let a = array.as_primitive::<Int16Type>();
            Column::I16(Box::new(move |i| a.value(i)))
        }
        DataType::UInt8 => {
            let a = array.as_primitive::<UInt8Type>();
            Column::I16(Box::new(move |i| i16::from(a.value(i))))
        }
        DataType::Int32 => {
            let a = array.as_primitive::<Int32Type>();
            Column::I32(Box::new(move |i| a.value(i)))
        }
        DataType::UInt16 => {
            let a = array.as_primitive::<UInt16Type>();
            Column::I32(Box::new(move |i| i32::from(a.value(i))))
        }
        DataType::Int64 => {
            let a = array.as_primitive::<Int64Type>();
            Column::I64(Box::new(move |i| a.value(i)))
        }
        DataType::UInt32 => {
            let a = array.as_primitive::<UInt32Type>();
            Column::I64(Box::new(move |i| i64::from(a.value(i))))
        }
        DataType::Float32 => Column::F32(array.as_primitive::<Float32Type>().values()),
        DataType::Float64 => Column::F64(array.as_primitive::<Float64Type>().values()),
        DataType::Boolean => Column::Bool(array.as_boolean()),
        DataType::Utf8 => {
            let a: &StringArray = array.as_string();
            Column::Bytes(Box::new(move |i| a.value(i).as_bytes()))
        }
        DataType::LargeUtf8 => {
            let a: &LargeStringArray = array.as_string();
            Column::Bytes(Box::new(move |i| a.value(i).as_bytes()))
        }
        DataType::Utf8View => {
            let a: &StringViewArray = array.as_string_view();
            Column::Bytes(Box::new(move |i| a.value(i).as_bytes()))
        }
        DataType::Binary => {
            let a: &BinaryArray = array.as_binary();
            Column::Bytes(Box::new(move |i| a.value(i)))
        }
        DataType::LargeBinary => {
            let a: &LargeBinaryArray = array.as_binary();
            Column::Bytes(Box::new(move |i| a.value(i)))
        }
        DataType::Date32 => Column::Date(array.as_primitive()),
        DataType::Timestamp(unit, _) => {
            let micros: Box<dyn Fn(usize) -> i64 + 'a> = match unit {
                TimeUnit::Second => {
                    let a = array.as_primitive::<TimestampSecondType>();
                    Box::new(move |i| a.value(i).saturating_mul(1_000_000))
                }
                TimeUnit::Millisecond => {
                    let a = array.as_primitive::<TimestampMillisecondType>();
                    Box::new(move |i| a.value(i).saturating_mul(1_000))
                }
                TimeUnit::Microsecond => {
                    let a = array.as_primitive::<TimestampMicrosecondType>();
                    Box::new(move |i| a.value(i))
                }
                TimeUnit::Nanosecond => {
                    let a = array.as_primitive::<TimestampNanosecondType>();
                    Box::new(move |i| a.value(i) / 1_000)
                }
            };
            Column::Micros(micros)
        }
        _ => return None,
    })
}

/// `batch`'s rows as binary COPY tuples, each its own `Bytes`; the first
/// of a COPY (`first`) carries the signature. `None` when a column has a
/// type this does not write.
pub fn tuples(batch: &RecordBatch, first: bool) -> Option<Vec<Bytes>> {
    // Categoricals are their text, as arrow-pg sends them.
    let arrays: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|a| match a.data_type() {
            DataType::Dictionary(_, v) if matches!(v.as_ref(), DataType::Utf8 | DataType::LargeUtf8) => {
                arrow::compute::cast(a, &DataType::Utf8).ok()
            }
            _ => Some(a.clone()),
        })
        .collect::<Option<_>>()?;
    let columns: Vec<(Column, &ArrayRef)> = arrays.iter().map(|a| column(a).map(|c| (c, a))).collect::<Option<_>>()?;
    let count = i16::try_from(columns.len()).ok()?;
    let rows = batch.num_rows();
    let mut buf = BytesMut::with_capacity(rows * (2 + columns.len() * 12) + SIGNATURE.len());
    if first {
        buf.put_slice(SIGNATURE);
    }
    let mut ends = Vec::with_capacity(rows);
    for row in 0..rows {
        buf.put_i16(count);
        for (column, array) in &columns {
            if array.is_null(row) {
                buf.put_i32(-1);
                continue;
            }
            match column {
                Column::I16(v) => {
                    buf.put_i32(2);
                    buf.put_i16(v(row));
                }
                Column::I32(v) => {
                    buf.put_i32(4);
                    buf.put_i32(v(row));
                }
                Column::I64(v) => {
                    buf.put_i32(8);
                    buf.put_i64(v(row));
                }
                Column::F32(v) => {
                    buf.put_i32(4);
                    buf.put_f32(v[row]);
                }
                Column::F64(v) => {
                    buf.put_i32(8);
                    buf.put_f64(v[row]);
                }
                Column::Bool(v) => {
                    buf.put_i32(1);
                    buf.put_u8(u8::from(v.value(row)));
                }
                Column::Bytes(v) => {
                    let value = v(row);
                    buf.put_i32(i32::try_from(value.len()).ok()?);
                    buf.put_slice(value);
                }
                Column::Date(v) => {
                    buf.put_i32(4);
                    buf.put_i32(v.value(row) - PG_EPOCH_DAYS);
                }
                Column::Micros(v) => {
                    buf.put_i32(8);
                    buf.put_i64(v(row) - PG_EPOCH_MICROS);
                }
            }
        }
        ends.push(buf.len());
    }
    let all = buf.freeze();
    let mut start = 0;
    Some(
        ends.into_iter()
            .map(|end| {
                let tuple = all.slice(start..end);
                start = end;
                tuple
            })
            .collect(),
    )
}

/// A binary COPY of `batches` as `CopyData` messages, one a row, the
/// signature with the first and the trailer after the last.
pub fn copy_data(batches: SendableRecordBatchStream) -> impl Stream<Item = PgWireResult<CopyData>> + Send + 'static {
    struct State {
        batches: SendableRecordBatchStream,
        pending: std::collections::VecDeque<Bytes>,
        first: bool,
        done: bool,
    }
    let state = State { batches, pending: Default::default(), first: true, done: false };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(tuple) = state.pending.pop_front() {
                return Some((Ok(CopyData::new(tuple)), state));
            }
            if state.done {
                return None;
            }
            match state.batches.next().await {
                Some(Ok(batch)) if batch.num_rows() > 0 => {
                    let Some(rows) = tuples(&batch, state.first) else {
                        state.done = true;
                        let e = error(code::INTERNAL, "a batch of a type binary COPY does not write");
                        return Some((Err(e), state));
                    };
                    state.first = false;
                    state.pending.extend(rows);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    state.done = true;
                    return Some((Err(DaemonError::from(e).into()), state));
                }
                None => {
                    state.done = true;
                    // The trailer; with no rows, after the signature in the
                    // same message, as Postgres sends it (the command tag
                    // then counts that message as a row).
                    let end: &'static [u8] = if state.first { EMPTY } else { b"\xFF\xFF" };
                    return Some((Ok(CopyData::new(Bytes::from_static(end))), state));
                }
            }
        }
    })
}

/// Whether every column of `schema` is one [`tuples`] writes.
pub fn writes(schema: &SchemaRef) -> bool {
    tuples(&RecordBatch::new_empty(schema.clone()), false).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array, TimestampNanosecondArray};
    use pgwire::api::portal::Format;

    /// The tuples equal what arrow-pg's row encoder gives, re-framed.
    #[test]
    fn tuples_match_the_row_encoder() {
        let batch = RecordBatch::try_from_iter([
            ("i", Arc::new(Int64Array::from(vec![Some(1), None, Some(-7)])) as ArrayRef),
            ("f", Arc::new(Float64Array::from(vec![0.5, 1.5, f64::NAN])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec![Some("a"), Some(""), None])) as ArrayRef),
            ("b", Arc::new(BooleanArray::from(vec![true, false, true])) as ArrayRef),
            ("d", Arc::new(Date32Array::from(vec![0, 19_000, -5])) as ArrayRef),
            (
                "t",
                Arc::new(
                    TimestampNanosecondArray::from(vec![0, 1_700_000_000_123_456_789, -1_500]).with_timezone("UTC"),
                ) as ArrayRef,
            ),
        ])
        .unwrap();
        let direct = tuples(&batch, false).unwrap();
        let fields = Arc::new(
            arrow_pg::datatypes::arrow_schema_to_pg_fields(&batch.schema(), &Format::UnifiedBinary, None).unwrap(),
        );
        let encoded: Vec<_> =
            arrow_pg::datatypes::encode_recordbatch(fields, batch.clone()).map(|r| r.unwrap()).collect();
        for (direct, row) in direct.iter().zip(&encoded) {
            let mut expected = BytesMut::new();
            expected.put_i16(row.field_count);
            expected.put_slice(&row.data);
            assert_eq!(direct.as_ref(), expected.as_ref());
        }
        assert!(tuples(&batch, true).unwrap()[0].starts_with(SIGNATURE));
    }
}
