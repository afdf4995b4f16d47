//! The Flight service: decodes each call, hands it to the store or the query
//! engine, and maps every error to a status in one place
//! ([`DaemonError::into_status`]). Request dispatch lives only here, so a
//! second dialect (Flight SQL) is an addition beside it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::encode::{DictionaryHandling, FlightDataEncoderBuilder};
use arrow_flight::error::FlightError;
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::auth::{Auth, Principal, Role};
use super::error::{DaemonError, Result};
use super::query::{QueryEngine, Scope};
use super::requests::{
    parse_json, DeleteBucketRequest, FrameRequest, ListCriteria, PutCommand, ResampleRequest, Target, TicketBody,
};
use super::storage::{BucketId, Name, Snapshot, Store};
use super::Shutdown;

type FlightStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send + 'static>>;

/// Every action with its one-line description, as ListActions reports them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("ping", "Check that the server is alive; answers \"pong\""),
    ("buckets", "List the named buckets as a JSON list"),
    ("delete", "Delete a dataframe: {\"name\", \"bucket\"}"),
    ("delete_bucket", "Delete a bucket: {\"name\", \"mode\": \"error\"|\"delete\"}"),
    ("resample", "Write a resampled or SQL-transformed copy of a dataframe on the server"),
    ("history", "The versions of a dataframe: {\"name\", \"bucket\"}"),
    ("compact", "Rewrite a dataframe's small files into few, then vacuum: {\"name\", \"bucket\"}"),
    ("vacuum", "Delete versions beyond the retention and their files: {\"name\", \"bucket\", \"retain\"?}"),
    ("shutdown", "Stop the server gracefully"),
];

pub struct ShootsFlight {
    store: Arc<Store>,
    engine: Arc<QueryEngine>,
    shutdown: Shutdown,
    /// Present when the daemon runs with `--secret`.
    auth: Option<Arc<Auth>>,
}

/// One log line per request: method, what it touched, outcome, duration.
struct RequestLog {
    method: &'static str,
    peer: Option<SocketAddr>,
    started: Instant,
    finished: bool,
}

impl RequestLog {
    fn start<T>(method: &'static str, request: &Request<T>) -> RequestLog {
        RequestLog { method, peer: request.remote_addr(), started: Instant::now(), finished: false }
    }

    fn finish<T>(mut self, detail: &str, result: Result<T>) -> std::result::Result<T, Status> {
        self.finished = true;
        let ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let one_line = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let peer = self.peer.map(|p| p.to_string()).unwrap_or_default();
        match result {
            Ok(v) => {
                tracing::info!(target: "shoots::request", method = self.method, peer, elapsed_ms = format!("{ms:.1}"), "{} ok", one_line(detail.to_string()));
                Ok(v)
            }
            Err(e) => {
                tracing::warn!(target: "shoots::request", method = self.method, peer, elapsed_ms = format!("{ms:.1}"), error = e.type_name(), "{} failed: {}", one_line(detail.to_string()), one_line(e.to_string()));
                Err(e.into_status())
            }
        }
    }
}

/// A call dropped before it finished (the client cancelled or vanished)
/// still gets its line.
impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.finished {
            let ms = self.started.elapsed().as_secs_f64() * 1000.0;
            let peer = self.peer.map(|p| p.to_string()).unwrap_or_default();
            tracing::warn!(target: "shoots::request", method = self.method, peer, elapsed_ms = format!("{ms:.1}"), "cancelled by the client; nothing kept");
        }
    }
}

fn describe(target: &Target) -> String {
    format!("{}/{}", target.bucket, target.name)
}

fn flight_info(snap: &Snapshot) -> Result<FlightInfo> {
    let ticket = TicketBody {
        name: Some(snap.name.to_string()),
        bucket: snap.bucket.name().map(String::from),
        sql: None,
        version: None,
    };
    Ok(FlightInfo::new()
        .try_with_schema(&snap.schema)?
        .with_descriptor(FlightDescriptor::new_path(vec![snap.name.to_string()]))
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(serde_json::to_vec(&ticket)?)))
        .with_total_records(snap.commit.rows as i64)
        .with_total_bytes(snap.commit.bytes as i64)
        .with_app_metadata(
            serde_json::json!({
                "version": snap.commit.version,
                "timestamp_ms": snap.commit.timestamp_ms,
                "files": snap.commit.files.len(),
            })
            .to_string(),
        ))
}

/// Streams batches as Flight data; dictionaries are sent as dictionaries so
/// categoricals come back as categoricals.
fn encode(schema: SchemaRef, batches: BoxStream<'static, Result<RecordBatch>>) -> FlightStream<FlightData> {
    let input = read_ahead(batches).map_err(|e| FlightError::Tonic(Box::new(e.into_status())));
    Box::pin(
        FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .with_dictionary_handling(DictionaryHandling::Resend)
            .build(input)
            .map_err(Status::from),
    )
}

/// Produces `batches` in a task of their own, one batch ahead of
/// the consumer, so decoding Parquet (or running a query) and encoding and
/// sending Flight data use two cores. The task ends when the consumer goes.
fn read_ahead(mut batches: BoxStream<'static, Result<RecordBatch>>) -> BoxStream<'static, Result<RecordBatch>> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                next = batches.next() => next,
                _ = tx.closed() => return,
            };
            let Some(batch) = next else { return };
            if tx.send(batch).await.is_err() {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
}

fn one_result(body: impl Into<bytes::Bytes>) -> FlightStream<arrow_flight::Result> {
    Box::pin(futures::stream::iter([Ok(arrow_flight::Result { body: body.into() })]))
}

fn upload_error(e: FlightError) -> DaemonError {
    match e {
        FlightError::Tonic(status) => DaemonError::Io(format!("upload interrupted: {}", status.message())),
        FlightError::ExternalError(inner) => match inner.downcast::<DaemonError>() {
            Ok(ours) => *ours,
            Err(other) => DaemonError::InvalidArgument(format!("corrupt Arrow stream: {}", other.to_string().trim())),
        },
        other => DaemonError::InvalidArgument(format!("corrupt Arrow stream: {}", other.to_string().trim())),
    }
}

/// Reads a DoPut upload and stores it. A message whose app_metadata is
/// `{"abort": reason}` fails the upload: that is how a client whose input
/// broke mid-way makes sure nothing is kept.
async fn ingest(
    store: Arc<Store>,
    mut input: Streaming<FlightData>,
    caller: &Principal,
    detail: &mut String,
) -> Result<PutResult> {
    caller.require(Role::Write, "put dataframes")?;
    let first = input
        .message()
        .await
        .map_err(|s| upload_error(FlightError::Tonic(Box::new(s))))?
        .ok_or_else(|| DaemonError::InvalidArgument("DoPut stream was empty".into()))?;
    let descriptor = first
        .flight_descriptor
        .clone()
        .filter(|d| d.r#type() == DescriptorType::Cmd)
        .ok_or_else(|| DaemonError::InvalidArgument("DoPut needs a command descriptor with a JSON body".into()))?;
    let command: PutCommand = parse_json("DoPut command", &descriptor.cmd)?;
    let target = command.target()?;
    caller.require_bucket(&target.bucket)?;
    let mode = command.mode()?;
    *detail = describe(&target);

    let flight_data = futures::stream::once(async { Ok(first) }).chain(input).map(|message| match message {
        Ok(data) => match abort_requested(&data).or_else(|| truncated(&data)) {
            Some(refused) => Err(FlightError::ExternalError(Box::new(refused))),
            None => Ok(data),
        },
        Err(status) => Err(FlightError::from(status)),
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
    let outcome = store.put(&target.bucket, &target.name, mode, schema, batches).await?;
    store.maybe_compact_in_background(&target.bucket, &target.name, outcome.files);
    detail.push_str(&format!(" v{} +{} rows", outcome.version, outcome.rows));
    let metadata = serde_json::json!({"version": outcome.version, "rows": outcome.rows});
    Ok(PutResult { app_metadata: metadata.to_string().into() })
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
fn panic_free<S>(decoder: S) -> impl Stream<Item = std::result::Result<arrow_flight::decode::DecodedFlightData, FlightError>>
where
    S: Stream<Item = std::result::Result<arrow_flight::decode::DecodedFlightData, FlightError>> + Unpin,
{
    use futures::FutureExt;
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

fn abort_requested(data: &FlightData) -> Option<DaemonError> {
    if !data.data_header.is_empty() || data.app_metadata.is_empty() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&data.app_metadata).ok()?;
    let reason = value.get("abort")?;
    let reason = reason.as_str().map(String::from).unwrap_or_else(|| reason.to_string());
    Some(DaemonError::InvalidArgument(format!("upload aborted by the client: {reason}")))
}

/// What a descriptor or ticket points at.
enum Resolved {
    Frame(Snapshot),
    Query { scope: Scope, sql: String },
}

impl ShootsFlight {
    pub fn new(store: Arc<Store>, engine: Arc<QueryEngine>, shutdown: Shutdown, auth: Option<Arc<Auth>>) -> ShootsFlight {
        ShootsFlight { store, engine, shutdown, auth }
    }

    /// Who makes this call; every call but Handshake is checked here.
    fn caller<T>(&self, request: &Request<T>) -> Result<Principal> {
        match &self.auth {
            None => Ok(Principal::unrestricted()),
            Some(auth) => auth.check(request.metadata()),
        }
    }

    /// A ticket names a dataframe (optionally a query over it or an older
    /// version), or holds only `sql`, run across every bucket.
    async fn resolve_ticket(&self, ticket: &TicketBody, caller: &Principal) -> Result<(String, Resolved)> {
        if ticket.sql.is_some() && ticket.version.is_some() {
            return Err(DaemonError::InvalidArgument("a ticket takes either sql or version, not both".into()));
        }
        let bucket = BucketId::parse(ticket.bucket.as_deref())?;
        let Some(name) = &ticket.name else {
            let Some(sql) = &ticket.sql else {
                return Err(DaemonError::InvalidArgument("a ticket needs a name, sql, or both".into()));
            };
            if bucket != BucketId::Default {
                caller.require_bucket(&bucket)?;
            }
            self.store.require_bucket(&bucket).await?;
            let scope = Scope::new(bucket.clone(), caller);
            return Ok((format!("{bucket}: sql"), Resolved::Query { scope, sql: sql.clone() }));
        };
        let target = Target { bucket, name: Name::parse("dataframe", name)? };
        caller.require_bucket(&target.bucket)?;
        let snap = self.store.snapshot(&target.bucket, &target.name, ticket.version).await?;
        let resolved = match &ticket.sql {
            Some(sql) => Resolved::Query { scope: Scope::new(target.bucket.clone(), caller), sql: sql.clone() },
            None => Resolved::Frame(snap),
        };
        Ok((describe(&target), resolved))
    }

    async fn resolve_descriptor(&self, descriptor: &FlightDescriptor, caller: &Principal) -> Result<(String, Resolved)> {
        match descriptor.r#type() {
            DescriptorType::Path => {
                let (bucket, name) = match descriptor.path.as_slice() {
                    [name] => (None, name),
                    [bucket, name] => (Some(bucket.as_str()), name),
                    _ => {
                        return Err(DaemonError::InvalidArgument(
                            "a path descriptor is [name] or [bucket, name]".into(),
                        ))
                    }
                };
                let target = Target::parse(bucket, name)?;
                caller.require_bucket(&target.bucket)?;
                let snap = self.store.snapshot(&target.bucket, &target.name, None).await?;
                Ok((describe(&target), Resolved::Frame(snap)))
            }
            DescriptorType::Cmd => {
                let ticket: TicketBody = parse_json("descriptor command", &descriptor.cmd)?;
                self.resolve_ticket(&ticket, caller).await
            }
            DescriptorType::Unknown => Err(DaemonError::InvalidArgument("descriptor has no type".into())),
        }
    }

    async fn resolved_schema(&self, resolved: &Resolved) -> Result<SchemaRef> {
        match resolved {
            Resolved::Frame(snap) => Ok(snap.schema.clone()),
            Resolved::Query { scope, sql } => self.engine.schema(scope, sql).await,
        }
    }

    async fn do_get_inner(&self, ticket: &[u8], caller: &Principal) -> Result<(String, FlightStream<FlightData>)> {
        let ticket: TicketBody = parse_json("ticket", ticket)?;
        let (detail, resolved) = self.resolve_ticket(&ticket, caller).await?;
        let stream = match resolved {
            Resolved::Frame(snap) => encode(snap.schema.clone(), self.store.scan(&snap)),
            Resolved::Query { scope, sql } => {
                let results = self.engine.execute(&scope, &sql).await?;
                let schema = results.schema();
                encode(schema, results.map_err(DaemonError::from).boxed())
            }
        };
        Ok((detail, stream))
    }

    async fn list_inner(&self, criteria: &[u8], caller: &Principal) -> Result<(String, Vec<FlightInfo>)> {
        let criteria: ListCriteria =
            if criteria.is_empty() { ListCriteria::default() } else { parse_json("criteria", criteria)? };
        let bucket = BucketId::parse(criteria.bucket.as_deref())?;
        caller.require_bucket(&bucket)?;
        let pattern = match criteria.regex.as_deref() {
            None | Some("") => None,
            Some(r) => Some(
                regex::RegexBuilder::new(r)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| DaemonError::InvalidArgument(format!("invalid regex: {e}")))?,
            ),
        };
        let frames = self.store.dataframes(&bucket).await?;
        let infos = frames
            .iter()
            .filter(|s| pattern.as_ref().is_none_or(|p| p.is_match(s.name.as_str())))
            .map(flight_info)
            .collect::<Result<Vec<_>>>()?;
        Ok((format!("{bucket}: {} dataframes", infos.len()), infos))
    }

    async fn action_inner(
        &self,
        action: &Action,
        caller: &Principal,
    ) -> Result<(String, FlightStream<arrow_flight::Result>)> {
        let body = action.body.as_ref();
        match action.r#type.as_str() {
            "ping" => Ok((String::new(), one_result("pong"))),
            "buckets" => {
                let mut buckets = self.store.buckets().await?;
                buckets.retain(|b| BucketId::parse(Some(b)).is_ok_and(|b| caller.may_use(&b)));
                Ok((format!("{} buckets", buckets.len()), one_result(serde_json::to_vec(&buckets)?)))
            }
            "delete" => {
                let req: FrameRequest = parse_json("delete request", body)?;
                let target = req.target()?;
                caller.require(Role::Write, "delete dataframes")?;
                caller.require_bucket(&target.bucket)?;
                self.store.delete(&target.bucket, &target.name).await?;
                let reply = serde_json::json!({"success": true, "message": format!("deleted {}", target.name)});
                Ok((describe(&target), one_result(reply.to_string())))
            }
            "delete_bucket" => {
                let req: DeleteBucketRequest = parse_json("delete_bucket request", body)?;
                let name = Name::parse("bucket", &req.name)?;
                caller.require(Role::Admin, "delete buckets")?;
                caller.require_bucket(&BucketId::Named(name.clone()))?;
                self.store.delete_bucket(&name, req.force()?).await?;
                let reply = serde_json::json!({"message": format!("bucket {name} deleted")});
                Ok((name.to_string(), one_result(reply.to_string())))
            }
            "history" => {
                let req: FrameRequest = parse_json("history request", body)?;
                let target = req.target()?;
                caller.require_bucket(&target.bucket)?;
                let versions: Vec<serde_json::Value> = self
                    .store
                    .history(&target.bucket, &target.name)
                    .await?
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "version": c.version,
                            "timestamp_ms": c.timestamp_ms,
                            "operation": c.operation.as_str(),
                            "rows": c.rows,
                            "rows_added": c.add.iter().map(|f| f.rows).sum::<u64>(),
                            "files_added": c.add.len(),
                            "files_removed": c.remove.len(),
                            "files": c.files.len(),
                        })
                    })
                    .collect();
                Ok((describe(&target), one_result(serde_json::to_vec(&versions)?)))
            }
            "compact" | "vacuum" => {
                let req: FrameRequest = parse_json("request", body)?;
                let target = req.target()?;
                caller.require(Role::Write, "compact or vacuum dataframes")?;
                caller.require_bucket(&target.bucket)?;
                let mut reply = serde_json::json!({});
                if action.r#type == "compact" {
                    let done = self.store.compact(&target.bucket, &target.name).await?;
                    reply["version"] = serde_json::json!(done.version);
                    reply["files_before"] = serde_json::json!(done.files_before);
                    reply["files_after"] = serde_json::json!(done.files_after);
                }
                let retain = req.retain.unwrap_or(self.store.options().retain_versions);
                let vacuumed = self.store.vacuum(&target.bucket, &target.name, retain).await?;
                reply["versions_removed"] = serde_json::json!(vacuumed.versions_removed);
                reply["files_deleted"] = serde_json::json!(vacuumed.files_deleted);
                Ok((describe(&target), one_result(reply.to_string())))
            }
            "shutdown" => {
                caller.require(Role::Admin, "shut the daemon down")?;
                self.shutdown.trigger();
                Ok((String::new(), one_result(serde_json::to_vec(&["shutdown command received"])?)))
            }
            "resample" => {
                let req: ResampleRequest = parse_json("resample request", body)?;
                let detail = format!("{} -> {}", describe(&req.source()?), describe(&req.target()?));
                let reply = super::resample::resample(&self.store, &self.engine, req, caller).await?;
                Ok((detail, one_result(reply.to_string())))
            }
            other => Err(DaemonError::InvalidArgument(format!(
                "unknown action \"{}\"; ListActions names the available ones",
                other.escape_default()
            ))),
        }
    }
}

#[tonic::async_trait]
impl FlightService for ShootsFlight {
    type HandshakeStream = FlightStream<HandshakeResponse>;
    type ListFlightsStream = FlightStream<FlightInfo>;
    type DoGetStream = FlightStream<FlightData>;
    type DoPutStream = FlightStream<PutResult>;
    type DoActionStream = FlightStream<arrow_flight::Result>;
    type ListActionsStream = FlightStream<ActionType>;
    type DoExchangeStream = FlightStream<FlightData>;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> std::result::Result<Response<Self::HandshakeStream>, Status> {
        let log = RequestLog::start("Handshake", &request);
        let mut input = request.into_inner();
        let result = async {
            let first = input
                .message()
                .await
                .map_err(|s| DaemonError::Io(format!("handshake interrupted: {}", s.message())))?
                .unwrap_or_default();
            // The token comes back as the payload; pyarrow then sends it in
            // `auth-token-bin` with every call.
            let (detail, payload) = match &self.auth {
                None => (String::new(), bytes::Bytes::new()),
                Some(auth) => {
                    let who = auth.handshake(&first.payload)?;
                    (format!("{} token", who.role.as_str()), first.payload)
                }
            };
            let reply = HandshakeResponse { protocol_version: 0, payload };
            Ok((detail, Box::pin(futures::stream::iter([Ok(reply)])) as Self::HandshakeStream))
        }
        .await;
        match result {
            Ok((detail, stream)) => log.finish(&detail, Ok(Response::new(stream))),
            Err(e) => log.finish("", Err(e)),
        }
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> std::result::Result<Response<Self::ListFlightsStream>, Status> {
        let log = RequestLog::start("ListFlights", &request);
        let listed = match self.caller(&request) {
            Ok(caller) => self.list_inner(&request.get_ref().expression, &caller).await,
            Err(e) => Err(e),
        };
        match listed {
            Ok((detail, infos)) => log
                .finish(&detail, Ok(()))
                .map(|_| Response::new(Box::pin(futures::stream::iter(infos.into_iter().map(Ok))) as _)),
            Err(e) => log.finish("", Err(e)),
        }
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<FlightInfo>, Status> {
        let log = RequestLog::start("GetFlightInfo", &request);
        let descriptor = request.get_ref().clone();
        let result = async {
            let caller = self.caller(&request)?;
            let (detail, resolved) = self.resolve_descriptor(&descriptor, &caller).await?;
            let info = match &resolved {
                Resolved::Frame(snap) => flight_info(snap)?,
                Resolved::Query { .. } => FlightInfo::new()
                    .try_with_schema(self.resolved_schema(&resolved).await?.as_ref())?
                    .with_descriptor(descriptor.clone())
                    .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(descriptor.cmd.clone()))),
            };
            Ok((detail, info))
        }
        .await;
        match result {
            Ok((detail, info)) => log.finish(&detail, Ok(Response::new(info))),
            Err(e) => log.finish("", Err(e)),
        }
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented("PollFlightInfo is not supported; use GetFlightInfo"))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<SchemaResult>, Status> {
        let log = RequestLog::start("GetSchema", &request);
        let result = async {
            let caller = self.caller(&request)?;
            let (detail, resolved) = self.resolve_descriptor(request.get_ref(), &caller).await?;
            let schema = self.resolved_schema(&resolved).await?;
            let result: SchemaResult = SchemaAsIpc::new(&schema, &IpcWriteOptions::default()).try_into()?;
            Ok((detail, result))
        }
        .await;
        match result {
            Ok((detail, schema)) => log.finish(&detail, Ok(Response::new(schema))),
            Err(e) => log.finish("", Err(e)),
        }
    }

    async fn do_get(&self, request: Request<Ticket>) -> std::result::Result<Response<Self::DoGetStream>, Status> {
        let log = RequestLog::start("DoGet", &request);
        let got = match self.caller(&request) {
            Ok(caller) => self.do_get_inner(&request.get_ref().ticket, &caller).await,
            Err(e) => Err(e),
        };
        match got {
            Ok((detail, stream)) => log.finish(&detail, Ok(Response::new(stream))),
            Err(e) => log.finish("", Err(e)),
        }
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoPutStream>, Status> {
        let log = RequestLog::start("DoPut", &request);
        let caller = match self.caller(&request) {
            Ok(caller) => caller,
            Err(e) => return log.finish("", Err(e)),
        };
        let store = self.store.clone();
        let input = request.into_inner();
        // hyper reports a client's RST_STREAM(CANCEL) as a clean end of the
        // request body, so a cancelled upload would look complete. The work
        // therefore runs inside the response stream: hyper polls it only
        // while the call is alive and drops it, uncommitted, once reset.
        let work = async move {
            let mut detail = String::new();
            let result = ingest(store, input, &caller, &mut detail).await;
            log.finish(&detail, result)
        };
        Ok(Response::new(Box::pin(futures::stream::once(work)) as Self::DoPutStream))
    }

    async fn do_action(&self, request: Request<Action>) -> std::result::Result<Response<Self::DoActionStream>, Status> {
        let log = RequestLog::start("DoAction", &request);
        let action = request.get_ref();
        let kind = action.r#type.clone();
        let done = match self.caller(&request) {
            Ok(caller) => self.action_inner(action, &caller).await,
            Err(e) => Err(e),
        };
        match done {
            Ok((detail, stream)) => log.finish(&format!("{kind} {detail}"), Ok(Response::new(stream))),
            Err(e) => log.finish(&kind, Err(e)),
        }
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> std::result::Result<Response<Self::ListActionsStream>, Status> {
        let log = RequestLog::start("ListActions", &request);
        if let Err(e) = self.caller(&request) {
            return log.finish("", Err(e));
        }
        let actions = ACTIONS
            .iter()
            .map(|(name, description)| Ok(ActionType { r#type: name.to_string(), description: description.to_string() }));
        log.finish("", Ok(Response::new(Box::pin(futures::stream::iter(actions)) as Self::ListActionsStream)))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not supported"))
    }
}
