//! Record batches as outgoing Flight messages whose bodies are the
//! batches' own buffers.
//!
//! arrow-flight's encoder copies every buffer of a batch into one body per
//! message; arrow-ipc's [`StreamEncoder`] hands out the buffers themselves
//! (with the padding between them). Its output is an IPC stream, so it is
//! cut back here into messages: each message's header (a few hundred bytes,
//! copied) and its body (the buffers, sliced, never copied). [`get_frames`]
//! then sends the body pieces as they are.
//!
//! [`get_frames`]: super::get_frames

use std::collections::VecDeque;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamEncoder};
use arrow::ipc::MetadataVersion;
use arrow_flight::{FlightData, SchemaAsIpc};
use bytes::Bytes;

/// The most a message's body should hold: arrow-flight's own bound, under
/// the 4 MiB many gRPC clients take by default.
const MAX_BODY_BYTES: usize = arrow_flight::encode::GRPC_TARGET_MAX_FLIGHT_SIZE_BYTES;

/// The IPC stream's marker before each message's header length.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// One Flight message on its way out.
pub(super) struct Outgoing {
    /// The IPC message (a flatbuffer), as `FlightData.data_header`.
    pub header: Bytes,
    /// `FlightData.data_body`, in pieces.
    pub body: Vec<Bytes>,
}

impl Outgoing {
    pub fn body_len(&self) -> usize {
        self.body.iter().map(Bytes::len).sum()
    }

    /// The rows of a record batch message (0 for the others).
    pub fn rows(&self) -> u64 {
        header_rows(&self.header)
    }

    /// As one `FlightData`, the body copied whole (what tonic's codec takes).
    pub fn into_flight_data(self) -> FlightData {
        let data_body = match <[Bytes; 1]>::try_from(self.body) {
            Ok([one]) => one,
            Err(pieces) => pieces.concat().into(),
        };
        FlightData { data_header: self.header, data_body, ..FlightData::default() }
    }
}

/// The rows of the record batch an IPC header announces (0 for others).
pub(super) fn header_rows(header: &[u8]) -> u64 {
    arrow::ipc::root_as_message(header)
        .ok()
        .and_then(|m| m.header_as_record_batch())
        .map_or(0, |b| u64::try_from(b.length()).unwrap_or(0))
}

/// Encodes one stream's batches; dictionaries go with every batch, so
/// categoricals come back as categoricals.
pub(super) struct MessageEncoder {
    ipc: StreamEncoder,
    /// The stream's schema message, until it is taken.
    schema: Option<Outgoing>,
    /// Whether the encoder's own schema message is still to be skipped.
    skip_schema: bool,
}

impl MessageEncoder {
    pub fn new(schema: &SchemaRef) -> Result<MessageEncoder, ArrowError> {
        let options = IpcWriteOptions::try_new(8, false, MetadataVersion::V5)?
            .with_dictionary_handling(DictionaryHandling::Resend);
        // The schema message is written from `schema` itself: arrow-flight
        // 59's encoder announced a `LargeList` field as a `List` while it
        // sent the `LargeList` data (polars' lists are large lists).
        let header = FlightData::from(SchemaAsIpc::new(schema, &options)).data_header;
        Ok(MessageEncoder {
            ipc: StreamEncoder::try_new_with_options(schema, options)?,
            schema: Some(Outgoing { header, body: Vec::new() }),
            skip_schema: true,
        })
    }

    /// The schema message: the stream's first, sent even when no batch follows.
    pub fn schema(&mut self) -> Option<Outgoing> {
        self.schema.take()
    }

    /// `batch` as messages (its dictionaries, then the batch), in slices
    /// whose bodies stay near [`MAX_BODY_BYTES`].
    pub fn encode(&mut self, batch: &RecordBatch) -> Result<Vec<Outgoing>, ArrowError> {
        let mut out = Vec::new();
        for slice in slices(batch) {
            let mut messages = split_stream(self.ipc.encode(&slice)?)?;
            if std::mem::take(&mut self.skip_schema) && !messages.is_empty() {
                messages.remove(0);
            }
            out.extend(messages);
        }
        Ok(out)
    }
}

/// `batch` in as many row slices as its buffers need to stay under
/// [`MAX_BODY_BYTES`] each (arrow-flight's rule); none for no rows.
fn slices(batch: &RecordBatch) -> Vec<RecordBatch> {
    let bytes: usize = batch.columns().iter().map(|c| c.get_buffer_memory_size()).sum();
    let rows = batch.num_rows();
    let per_slice = (rows / bytes.div_ceil(MAX_BODY_BYTES).max(1)).max(1);
    (0..rows).step_by(per_slice).map(|start| batch.slice(start, per_slice.min(rows - start))).collect()
}

/// An IPC stream's pieces cut into its messages.
fn split_stream(buffers: Vec<Buffer>) -> Result<Vec<Outgoing>, ArrowError> {
    let mut stream = Pieces(buffers.into_iter().filter(|b| !b.is_empty()).collect());
    let mut messages = Vec::new();
    while !stream.0.is_empty() {
        let prefix = stream.contiguous(8)?;
        let header_len = match prefix.split_at(4) {
            (marker, len) if marker == CONTINUATION => i32::from_le_bytes(len.try_into().expect("4 bytes")),
            _ => return Err(ArrowError::IpcError("an IPC message without its continuation marker".into())),
        };
        let header_len = usize::try_from(header_len)
            .map_err(|_| ArrowError::IpcError(format!("an IPC message header of {header_len} bytes")))?;
        let header = stream.contiguous(header_len)?;
        let body_len = arrow::ipc::root_as_message(&header)
            .map_err(|e| ArrowError::IpcError(format!("an unreadable IPC message header: {e}")))?
            .bodyLength();
        let body_len = usize::try_from(body_len)
            .map_err(|_| ArrowError::IpcError(format!("an IPC message body of {body_len} bytes")))?;
        messages.push(Outgoing { header, body: stream.take(body_len)? });
    }
    Ok(messages)
}

/// Buffers read front to back, cut where a message ends.
struct Pieces(VecDeque<Buffer>);

impl Pieces {
    /// The next `len` bytes as slices of the buffers that hold them.
    fn take(&mut self, mut len: usize) -> Result<Vec<Bytes>, ArrowError> {
        let mut out = Vec::new();
        while len > 0 {
            let front = self.0.pop_front().ok_or_else(|| ArrowError::IpcError("an IPC message cut short".into()))?;
            if front.len() > len {
                self.0.push_front(front.slice(len));
                out.push(bytes_of(front.slice_with_length(0, len)));
                len = 0;
            } else {
                len -= front.len();
                out.push(bytes_of(front));
            }
        }
        Ok(out)
    }

    /// The next `len` bytes in one piece (copied when they span buffers).
    fn contiguous(&mut self, len: usize) -> Result<Bytes, ArrowError> {
        Ok(match <[Bytes; 1]>::try_from(self.take(len)?) {
            Ok([one]) => one,
            Err(pieces) => pieces.concat().into(),
        })
    }
}

/// An Arrow buffer as `Bytes`, sharing its memory.
fn bytes_of(buffer: Buffer) -> Bytes {
    struct Shared(Buffer);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            self.0.as_slice()
        }
    }
    Bytes::from_owner(Shared(buffer))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, DictionaryArray, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::Int32Type;
    use arrow_flight::decode::FlightRecordBatchStream;
    use futures::TryStreamExt;

    use super::*;

    fn batch(rows: usize) -> RecordBatch {
        let site: DictionaryArray<Int32Type> = (0..rows).map(|i| ["north", "south"][i % 2]).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(Int64Array::from_iter((0..rows as i64).map(|i| (i % 7 != 0).then_some(i))))),
            ("value", Arc::new(Float64Array::from_iter_values((0..rows).map(|i| i as f64 / 3.0)))),
            ("name", Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("row {i}"))))),
            ("site", Arc::new(site)),
        ];
        RecordBatch::try_from_iter(columns).unwrap()
    }

    /// What a Flight client makes of the messages.
    async fn decoded(messages: Vec<Outgoing>) -> Vec<RecordBatch> {
        let data = futures::stream::iter(messages.into_iter().map(|m| Ok(m.into_flight_data())));
        FlightRecordBatchStream::new_from_flight_data(data).try_collect().await.unwrap()
    }

    #[tokio::test]
    async fn batches_sliced_and_whole_come_back_as_they_went() {
        let whole = batch(1000);
        // A slice starts its buffers (and its validity bits) mid-way.
        let sent = [whole.slice(3, 500), whole.slice(503, 497), batch(0)];
        let mut encoder = MessageEncoder::new(&whole.schema()).unwrap();
        let mut messages: Vec<Outgoing> = encoder.schema().into_iter().collect();
        for batch in &sent {
            messages.extend(encoder.encode(batch).unwrap());
        }
        let got = decoded(messages).await;
        assert_eq!(got, sent[..2]);
        assert_eq!(got[0].schema(), whole.schema(), "the dictionary column stays a dictionary");
    }

    #[tokio::test]
    async fn a_batch_larger_than_a_message_goes_in_slices_under_the_bound() {
        let big = batch(200_000);
        let mut encoder = MessageEncoder::new(&big.schema()).unwrap();
        let messages = encoder.encode(&big).unwrap();
        assert!(messages.iter().filter(|m| m.rows() > 0).count() > 1);
        assert!(messages.iter().all(|m| m.body_len() <= MAX_BODY_BYTES + 64 * 1024));
        let schema = encoder.schema().into_iter();
        let got = decoded(schema.chain(messages).collect()).await;
        assert_eq!(arrow::compute::concat_batches(&big.schema(), &got).unwrap(), big);
    }

    #[test]
    fn a_stream_cut_short_is_an_error() {
        let mut ipc = StreamEncoder::try_new(&batch(1).schema()).unwrap();
        let mut buffers = ipc.encode(&batch(10)).unwrap();
        let last = buffers.pop().unwrap();
        buffers.push(last.slice_with_length(0, last.len() - 1));
        assert!(split_stream(buffers).is_err());
    }
}
