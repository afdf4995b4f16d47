//! Sending an input file up as one DoPut.

use arrow_flight::error::FlightError;
use futures::StreamExt;

use super::Client;
use crate::error::Result;
use crate::input::Input;
use crate::protocol::{PutCommand, PutReply};

/// Streams an input to the server. Reading and parsing run on their own
/// thread; a bounded channel keeps only a few batches in memory whatever
/// the file's size.
pub async fn upload(client: &mut Client, command: &PutCommand, input: Input) -> Result<PutReply> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut batches = input.batches;
    let reader = std::thread::spawn(move || {
        for batch in batches.by_ref() {
            let failed = batch.is_err();
            if tx.blocking_send(batch).is_err() || failed {
                break;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|b| b.map_err(FlightError::Arrow));
    let reply = client.put(command, input.schema, stream).await;
    let _ = reader.join();
    reply
}
