//! A DoPut's upload, whatever the dialect of its descriptor: the first
//! message (which carries the descriptor), then the schema and the record
//! batches, decoded with guards against what a hostile or broken client
//! sends. Any failure of the stream is an error of the batch stream, so the
//! store never commits a partial upload.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow_flight::decode::{DecodedFlightData, DecodedPayload, FlightDataDecoder};
use arrow_flight::error::FlightError;
use arrow_flight::{FlightData, FlightDescriptor};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use tonic::Streaming;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::metrics::Metrics;

use super::outbound::message_rows;
use crate::protocol::{parse_json, UploadAbort};

pub(super) struct Upload {
    first: FlightData,
    rest: Streaming<FlightData>,
    metrics: Arc<Metrics>,
    idle_timeout: Duration,
}

/// An upload that sent nothing for `idle_timeout`: the client went silent
/// (or its machine went away without closing the connection).
fn idle(idle_timeout: Duration) -> DaemonError {
    DaemonError::Timeout(format!(
        "upload interrupted: nothing arrived for {}s (the daemon's --idle-timeout); nothing kept",
        idle_timeout.as_secs_f64()
    ))
}

impl Upload {
    /// Waits for the first message.
    pub(super) async fn begin(
        mut input: Streaming<FlightData>,
        metrics: Arc<Metrics>,
        idle_timeout: Duration,
    ) -> Result<Upload> {
        let first = tokio::time::timeout(idle_timeout, input.message())
            .await
            .map_err(|_| idle(idle_timeout))?
            .map_err(|s| upload_error(FlightError::Tonic(Box::new(s))))?
            .ok_or_else(|| DaemonError::InvalidArgument("DoPut stream was empty".into()))?;
        Ok(Upload { first, rest: input, metrics, idle_timeout })
    }

    pub(super) fn descriptor(&self) -> Option<&FlightDescriptor> {
        self.first.flight_descriptor.as_ref()
    }

    /// The upload's schema, and its batches as they arrive.
    pub(super) async fn decode(self) -> Result<(SchemaRef, BoxStream<'static, Result<RecordBatch>>)> {
        let (metrics, idle_timeout) = (self.metrics, self.idle_timeout);
        // A silent client fails its upload (and so is never committed)
        // rather than holding a call, its memory and a commit slot forever.
        let rest = tokio_stream::StreamExt::timeout(self.rest, idle_timeout).map(move |message| match message {
            Ok(message) => message.map_err(FlightError::from),
            Err(_) => Err(FlightError::ExternalError(Box::new(idle(idle_timeout)))),
        });
        let flight_data =
            futures::stream::once(async { Ok(self.first) }).chain(rest).map(move |message| match message {
                Ok(data) => match abort_requested(&data).or_else(|| truncated(&data)) {
                    Some(refused) => Err(FlightError::ExternalError(Box::new(refused))),
                    None => {
                        let bytes = data.data_header.len() + data.data_body.len();
                        metrics.received(message_rows(&data), bytes as u64);
                        Ok(data)
                    }
                },
                Err(e) => Err(e),
            });
        let mut decoder = Box::pin(panic_free(FlightDataDecoder::new(flight_data)));
        let schema = loop {
            match decoder.next().await {
                None => return Err(DaemonError::InvalidArgument("upload ended before its schema".into())),
                Some(Err(e)) => return Err(upload_error(e)),
                Some(Ok(data)) => match data.payload {
                    DecodedPayload::Schema(schema) => break schema,
                    DecodedPayload::None => continue,
                    DecodedPayload::RecordBatch(_) => {
                        return Err(DaemonError::InvalidArgument("record batch before the schema".into()))
                    }
                },
            }
        };
        let batches = decoder.filter_map(|item| async move {
            match item {
                Ok(data) => match data.payload {
                    DecodedPayload::RecordBatch(batch) => Some(Ok(batch)),
                    DecodedPayload::None => None,
                    DecodedPayload::Schema(_) => {
                        Some(Err(DaemonError::InvalidArgument("a second schema in one upload".into())))
                    }
                },
                Err(e) => Some(Err(upload_error(e))),
            }
        });
        Ok((schema, batches.boxed()))
    }
}

fn upload_error(e: FlightError) -> DaemonError {
    match e {
        // tonic refuses a message over the limit before reading it.
        FlightError::Tonic(status) if status.code() == tonic::Code::OutOfRange => {
            DaemonError::InvalidArgument(format!(
                "a message of the upload is over the {} MiB limit ({}); send smaller record batches",
                crate::protocol::MAX_MESSAGE_BYTES >> 20,
                status.message()
            ))
        }
        FlightError::Tonic(status) => DaemonError::Io(format!("upload interrupted: {}", status.message())),
        FlightError::ExternalError(inner) => match inner.downcast::<DaemonError>() {
            Ok(ours) => *ours,
            Err(other) => DaemonError::bad_input("corrupt Arrow stream", other),
        },
        other => DaemonError::bad_input("corrupt Arrow stream", other),
    }
}

/// A message with an empty header and app_metadata `{"abort": reason}`
/// fails the upload: that is how a client whose input broke mid-way makes
/// sure nothing is kept.
fn abort_requested(data: &FlightData) -> Option<DaemonError> {
    if !data.data_header.is_empty() || data.app_metadata.is_empty() {
        return None;
    }
    let UploadAbort { abort } = parse_json("abort", &data.app_metadata).ok()?;
    let reason = abort.as_str().map(String::from).unwrap_or_else(|| abort.to_string());
    Some(DaemonError::InvalidArgument(format!("upload aborted by the client: {reason}")))
}

/// A message whose body is shorter than its header says. Arrow's decoder
/// assumes well-formed input and would panic on it.
fn truncated(data: &FlightData) -> Option<DaemonError> {
    let message = arrow::ipc::root_as_message(&data.data_header).ok()?;
    let declared = usize::try_from(message.bodyLength()).unwrap_or(usize::MAX);
    (data.data_body.len() < declared).then(|| {
        DaemonError::InvalidArgument(format!(
            "corrupt Arrow stream: a message body has {} of its {declared} bytes (truncated upload?)",
            data.data_body.len()
        ))
    })
}

/// Decodes uploads with a guard: a malformed message that still makes the
/// decoder panic ends the upload with an error instead of a reset call.
fn panic_free<S>(decoder: S) -> impl Stream<Item = std::result::Result<DecodedFlightData, FlightError>>
where
    S: Stream<Item = std::result::Result<DecodedFlightData, FlightError>> + Unpin,
{
    futures::stream::unfold(Some(decoder), |decoder| async move {
        let mut decoder = decoder?;
        match std::panic::AssertUnwindSafe(decoder.next()).catch_unwind().await {
            Ok(item) => item.map(|item| (item, Some(decoder))),
            Err(_) => {
                let e = DaemonError::InvalidArgument("corrupt Arrow stream: a message could not be decoded".into());
                Some((Err(FlightError::ExternalError(Box::new(e))), None))
            }
        }
    })
}
