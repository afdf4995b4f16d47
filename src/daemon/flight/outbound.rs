//! What goes out: record batches as Flight data, read one batch ahead, and
//! single-message action results.

use std::pin::Pin;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::error::FlightError;
use arrow_flight::FlightData;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt, TryStreamExt};
use tonic::Status;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::metrics::Metrics;
use crate::protocol::flight_data;

pub(super) type FlightStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send + 'static>>;

/// Streams batches as Flight data ([`flight_data::encode`]); an error on
/// the way is the JSON dialect's status.
pub(super) fn encode(schema: SchemaRef, batches: BoxStream<'static, Result<RecordBatch>>) -> FlightStream<FlightData> {
    encode_as(schema, batches, DaemonError::into_status)
}

/// [`encode`] for Flight SQL: an error on the way is a Flight SQL status.
pub(super) fn encode_sql(
    schema: SchemaRef,
    batches: BoxStream<'static, Result<RecordBatch>>,
) -> FlightStream<FlightData> {
    encode_as(schema, batches, DaemonError::into_plain_status)
}

fn encode_as(
    schema: SchemaRef,
    batches: BoxStream<'static, Result<RecordBatch>>,
    status: fn(DaemonError) -> Status,
) -> FlightStream<FlightData> {
    let input = read_ahead(batches).map_err(move |e| FlightError::Tonic(Box::new(status(e))));
    Box::pin(flight_data::encode(schema, None, input).map_err(Status::from))
}

/// Produces `batches` in a task of their own, one batch ahead of the
/// consumer, so decoding Parquet (or running a query) and encoding and
/// sending Flight data use two cores. The task ends when the consumer goes.
fn read_ahead(mut batches: BoxStream<'static, Result<RecordBatch>>) -> BoxStream<'static, Result<RecordBatch>> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            // A panic in a decoder must reach the client as an error, not
            // as the end of the stream (which would look like all the rows).
            let next = tokio::select! {
                next = std::panic::AssertUnwindSafe(batches.next()).catch_unwind() => next,
                _ = tx.closed() => return,
            };
            let Ok(next) = next else {
                let failed = DaemonError::internal("reading failed", "a panic (the daemon's log has it)".to_string());
                tx.send(Err(failed)).await.ok();
                return;
            };
            let Some(batch) = next else { return };
            if tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
}

/// An action's one result.
pub(super) fn one_result(body: impl Into<bytes::Bytes>) -> FlightStream<arrow_flight::Result> {
    Box::pin(futures::stream::iter([Ok(arrow_flight::Result { body: body.into() })]))
}

/// Counts what a DoGet sends: rows (read from each batch's IPC header),
/// bytes, and the stream as active until its end (or until it is dropped).
pub(super) fn metered(stream: FlightStream<FlightData>, metrics: &std::sync::Arc<Metrics>) -> FlightStream<FlightData> {
    let active = metrics.streaming();
    let metrics = metrics.clone();
    let counted = stream.inspect(move |data| match data {
        Ok(data) => metrics.sent(message_rows(data), (data.data_header.len() + data.data_body.len()) as u64),
        Err(_) => metrics.stream_failed(),
    });
    let end = futures::stream::once(async move { drop(active) }).filter_map(|()| async { None });
    Box::pin(counted.chain(end))
}

/// The rows of a Flight message that carries a record batch (0 for others).
pub(super) fn message_rows(data: &FlightData) -> u64 {
    arrow::ipc::root_as_message(&data.data_header)
        .ok()
        .and_then(|m| m.header_as_record_batch())
        .map_or(0, |b| u64::try_from(b.length()).unwrap_or(0))
}
