//! The Flight client: one typed method per call of the JSON dialect, each
//! sending the protocol's request bodies and reading its replies, and every
//! failure mapped to a [`CliError`].

use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::{Action, FlightClient, FlightData, FlightDescriptor, FlightInfo};
use futures::{Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{CliError, Result};
use crate::protocol::{
    self, ActionKind, BucketDeleteMode, CompactReply, DeleteBucketRequest, DeleteReply, DeleteRowsReply,
    DeleteRowsRequest, ErrorInfo, ErrorKind, FrameRequest, ListCriteria, MessageReply, PutCommand, PutReply,
    ResampleReply, ResampleRequest, RetentionReply, SetRetentionRequest, SnapshotInfo, SnapshotRequest, Ticket,
    UploadAbort, VacuumReply, VersionInfo,
};

/// Turns a failed call into the error the user sees (and its exit code).
pub fn call_error(e: FlightError) -> CliError {
    match e {
        FlightError::Tonic(status) => status_error(&status),
        other => CliError::Protocol(other.to_string()),
    }
}

fn status_error(status: &tonic::Status) -> CliError {
    use tonic::Code;
    if let Ok(info) = serde_json::from_slice::<ErrorInfo>(status.details()) {
        return CliError::Server { kind: ErrorKind::from_wire(&info.kind), message: info.message };
    }
    let kind = match status.code() {
        Code::Unavailable => return CliError::Connect(format!("lost the server: {}", status.message())),
        Code::Unauthenticated => Some(ErrorKind::Unauthenticated),
        Code::PermissionDenied => Some(ErrorKind::Unauthorized),
        _ => None,
    };
    CliError::Server { kind, message: status.message().to_string() }
}

/// A connected Flight client.
pub struct Client {
    inner: FlightClient,
    pub address: String,
}

impl Client {
    pub(super) fn new(inner: FlightClient, address: String) -> Client {
        Client { inner, address }
    }

    /// Runs an action; its result bodies.
    async fn action(&mut self, kind: ActionKind, body: Vec<u8>) -> Result<Vec<bytes::Bytes>> {
        self.inner
            .do_action(Action::new(kind.name(), body))
            .await
            .map_err(call_error)?
            .try_collect()
            .await
            .map_err(call_error)
    }

    /// An action whose one result is a JSON reply.
    async fn call<R: DeserializeOwned>(&mut self, kind: ActionKind, body: &impl Serialize) -> Result<R> {
        let replies = self.action(kind, protocol::to_json(body)).await?;
        let first = replies.first().ok_or_else(|| CliError::Protocol(format!("{} returned nothing", kind.name())))?;
        serde_json::from_slice(first)
            .map_err(|e| CliError::Protocol(format!("{} returned malformed JSON: {e}", kind.name())))
    }

    /// `ping`: the server's answer.
    pub async fn ping(&mut self) -> Result<String> {
        let replies = self.action(ActionKind::Ping, Vec::new()).await?;
        Ok(replies.iter().map(|b| String::from_utf8_lossy(b)).collect())
    }

    /// The named buckets.
    pub async fn buckets(&mut self) -> Result<Vec<String>> {
        self.call(ActionKind::Buckets, &serde_json::Map::new()).await
    }

    pub async fn delete(&mut self, name: &str, bucket: Option<&str>) -> Result<DeleteReply> {
        self.call(ActionKind::Delete, &FrameRequest::new(name, bucket)).await
    }

    pub async fn delete_rows(&mut self, name: &str, bucket: Option<&str>, predicate: &str) -> Result<DeleteRowsReply> {
        let request =
            DeleteRowsRequest { name: name.into(), bucket: bucket.map(String::from), predicate: predicate.into() };
        self.call(ActionKind::DeleteRows, &request).await
    }

    pub async fn set_retention(&mut self, request: &SetRetentionRequest) -> Result<RetentionReply> {
        self.call(ActionKind::SetRetention, request).await
    }

    pub async fn delete_bucket(&mut self, name: &str, mode: BucketDeleteMode) -> Result<MessageReply> {
        self.call(ActionKind::DeleteBucket, &DeleteBucketRequest { name: name.into(), mode: Some(mode) }).await
    }

    pub async fn history(&mut self, name: &str, bucket: Option<&str>) -> Result<Vec<VersionInfo>> {
        self.call(ActionKind::History, &FrameRequest::new(name, bucket)).await
    }

    pub async fn compact(&mut self, name: &str, bucket: Option<&str>) -> Result<CompactReply> {
        self.call(ActionKind::Compact, &FrameRequest::new(name, bucket)).await
    }

    pub async fn vacuum(&mut self, name: &str, bucket: Option<&str>, retain: Option<usize>) -> Result<VacuumReply> {
        self.call(ActionKind::Vacuum, &FrameRequest { retain, ..FrameRequest::new(name, bucket) }).await
    }

    pub async fn snapshot_action(&mut self, kind: ActionKind, request: &SnapshotRequest) -> Result<SnapshotInfo> {
        self.call(kind, request).await
    }

    pub async fn snapshots(&mut self, bucket: Option<&str>) -> Result<Vec<SnapshotInfo>> {
        let request = SnapshotRequest { bucket: bucket.map(String::from), ..SnapshotRequest::default() };
        self.call(ActionKind::Snapshots, &request).await
    }

    pub async fn resample(&mut self, request: &ResampleRequest) -> Result<ResampleReply> {
        self.call(ActionKind::Resample, request).await
    }

    /// Asks the daemon to stop; it answers before it goes.
    pub async fn shutdown(&mut self) -> Result<()> {
        self.action(ActionKind::Shutdown, protocol::to_json(&serde_json::Map::new())).await.map(|_| ())
    }

    pub async fn do_get(&mut self, ticket: &Ticket) -> Result<FlightRecordBatchStream> {
        self.inner.do_get(arrow_flight::Ticket::new(protocol::to_json(ticket))).await.map_err(call_error)
    }

    pub async fn list(&mut self, criteria: &ListCriteria) -> Result<Vec<FlightInfo>> {
        self.inner
            .list_flights(protocol::to_json(criteria))
            .await
            .map_err(call_error)?
            .try_collect()
            .await
            .map_err(call_error)
    }

    /// The schema of a dataframe (or of a query's result).
    pub async fn schema(&mut self, ticket: &Ticket) -> Result<Schema> {
        let descriptor = FlightDescriptor::new_cmd(protocol::to_json(ticket));
        self.inner.get_schema(descriptor).await.map_err(call_error)
    }

    /// Uploads `batches` with a DoPut command.
    ///
    /// If `batches` fails (a malformed input row, say) the upload must not
    /// look finished to the server, or it would commit what it got so far.
    /// `FlightClient::do_put` ends the request stream cleanly on such an
    /// error, and a cancelled call looks the same to the server once hyper
    /// is done with it; so this sends shoots' explicit abort message
    /// ([`UploadAbort`]), then stalls and drops the call.
    pub async fn put<S>(&mut self, command: &PutCommand, schema: SchemaRef, batches: S) -> Result<PutReply>
    where
        S: Stream<Item = std::result::Result<RecordBatch, FlightError>> + Send + 'static,
    {
        let (failed_tx, mut failed_rx) = futures::channel::oneshot::channel::<FlightError>();
        let mut failed_tx = Some(failed_tx);
        let descriptor = FlightDescriptor::new_cmd(protocol::to_json(command));
        let data = protocol::flight_data::encode(schema, Some(descriptor), batches)
            .map(move |item| match item {
                Ok(data) => futures::future::Either::Left(futures::stream::once(async { data })),
                Err(e) => {
                    let reason = UploadAbort { abort: e.to_string().into() };
                    let abort = FlightData { app_metadata: protocol::to_json(&reason).into(), ..Default::default() };
                    if let Some(tx) = failed_tx.take() {
                        let _ = tx.send(e);
                    }
                    let stall = futures::stream::pending();
                    futures::future::Either::Right(futures::stream::once(async { abort }).chain(stall))
                }
            })
            .flatten();
        let mut request = tonic::Request::new(data);
        *request.metadata_mut() = self.inner.metadata().clone();
        let mut service = self.inner.inner().clone();
        let call = async move {
            let mut results = service.do_put(request).await.map_err(|s| status_error(&s))?.into_inner();
            let mut reply = None;
            while let Some(result) = results.message().await.map_err(|s| status_error(&s))? {
                reply = serde_json::from_slice(&result.app_metadata).ok();
            }
            reply.ok_or_else(|| CliError::Protocol("the server did not report what it stored".into()))
        };
        let local_error = |e: FlightError| match e {
            FlightError::Arrow(e) => CliError::Local(e.to_string()),
            FlightError::ExternalError(e) => CliError::Local(e.to_string()),
            other => CliError::Local(other.to_string()),
        };
        tokio::pin!(call);
        tokio::select! {
            reply = &mut call => match failed_rx.try_recv() {
                Ok(Some(local)) => Err(local_error(local)),
                _ => reply,
            },
            Ok(local) = &mut failed_rx => {
                // Let the abort message reach the server and wait for its
                // refusal, so the upload is known dead before we report.
                let _ = tokio::time::timeout(Duration::from_secs(30), &mut call).await;
                Err(local_error(local))
            }
        }
    }
}
