//! Record batches as Flight data, the same way on both sides.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::{DictionaryHandling, FlightDataEncoderBuilder};
use arrow_flight::error::FlightError;
use arrow_flight::{FlightData, FlightDescriptor, SchemaAsIpc};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};

/// Streams `batches` as Flight data: the schema first (carrying
/// `descriptor`), then each batch; dictionaries are sent as dictionaries, so
/// categoricals come back as categoricals.
///
/// The schema message is written from `schema` itself: arrow-flight 59's
/// encoder announces a `LargeList` field as a `List` while it sends the
/// `LargeList` data, and a reader then takes the 64-bit offsets for 32-bit
/// ones (polars' lists are large lists).
pub fn encode<S>(
    schema: SchemaRef,
    descriptor: Option<FlightDescriptor>,
    batches: S,
) -> BoxStream<'static, Result<FlightData, FlightError>>
where
    S: Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
{
    let mut header = Some(FlightData::from(SchemaAsIpc::new(&schema, &IpcWriteOptions::default())).data_header);
    FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_dictionary_handling(DictionaryHandling::Resend)
        .with_flight_descriptor(descriptor)
        .build(batches)
        .map_ok(move |mut data| {
            if let Some(header) = header.take() {
                data.data_header = header;
            }
            data
        })
        .boxed()
}
