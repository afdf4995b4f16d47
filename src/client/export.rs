//! Writing a DoGet's result out: a table, CSV, JSON, Parquet or Arrow.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow_flight::decode::FlightRecordBatchStream;
use futures::StreamExt;

use super::flight::call_error;
use crate::error::Result;
use crate::output::{Destination, OutputFormat, Sink};
use crate::progress::Progress;

/// Streams a DoGet result into a sink; returns the rows written.
pub async fn export(
    mut stream: FlightRecordBatchStream,
    format: OutputFormat,
    destination: Destination,
    progress: &Progress,
) -> Result<usize> {
    let first = stream.next().await.transpose().map_err(call_error)?;
    let schema = stream.schema().cloned().unwrap_or_else(|| Arc::new(Schema::empty()));
    let mut sink = Sink::new(format, schema, destination)?;
    if let Some(batch) = first {
        progress.inc(batch.num_rows() as u64);
        sink.write(&batch)?;
    }
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(call_error)?;
        progress.inc(batch.num_rows() as u64);
        sink.write(&batch)?;
    }
    sink.finish()
}
