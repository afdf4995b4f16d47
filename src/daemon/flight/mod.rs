//! The Flight service. The trait impl here only decodes each call, has
//! [`gate`] check the caller, asks [`dialect`] whose it is, and hands it to that dialect's handler: the
//! JSON dialect's reading ([`get`], [`list`]), writing ([`put`]) and
//! [`actions`], or Flight SQL's ([`sql`]); uploads of either are guarded
//! by [`upload`]. Each result passes through [`request_log`], which logs it
//! and maps errors to a status in one place.

mod actions;
mod dialect;
mod gate;
mod get;
mod json;
mod list;
mod outbound;
mod put;
mod request_log;
mod sql;
mod upload;

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use dialect::Dialect;
use outbound::FlightStream;
use request_log::{logged, RequestLog};
use tonic::{Request, Response, Status, Streaming};

use super::auth::Auth;
use super::metrics::Metrics;
use super::query::QueryEngine;
use super::retention::RetentionJob;
use super::shutdown::Shutdown;
use super::storage::Store;

#[derive(Clone)]
pub struct ShootsFlight {
    store: Arc<Store>,
    engine: Arc<QueryEngine>,
    shutdown: Shutdown,
    /// Present when the daemon runs with `--secret`.
    auth: Option<Arc<Auth>>,
    metrics: Arc<Metrics>,
    /// How long an upload may send nothing before it is cut off.
    idle_timeout: std::time::Duration,
    retention: Arc<RetentionJob>,
    /// Parameters older Flight SQL clients bound ([`sql::Remembered`]).
    remembered: Arc<sql::Remembered>,
}

impl ShootsFlight {
    pub fn new(
        store: Arc<Store>,
        engine: Arc<QueryEngine>,
        shutdown: Shutdown,
        auth: Option<Arc<Auth>>,
        metrics: Arc<Metrics>,
        idle_timeout: std::time::Duration,
        retention: Arc<RetentionJob>,
    ) -> ShootsFlight {
        let remembered = Arc::default();
        ShootsFlight { store, engine, shutdown, auth, metrics, idle_timeout, retention, remembered }
    }
}

pub(super) fn stream_of<T: Send + 'static>(
    items: impl IntoIterator<Item = T, IntoIter: Send + 'static>,
) -> FlightStream<T> {
    Box::pin(futures::stream::iter(items.into_iter().map(Ok)))
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
        let log = RequestLog::start("Handshake", &request, &self.metrics);
        logged(log, self.handshake_reply(request)).await
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> std::result::Result<Response<Self::ListFlightsStream>, Status> {
        let log = RequestLog::start("ListFlights", &request, &self.metrics);
        let criteria = &request.get_ref().expression;
        let infos = logged(log, async {
            let caller = self.caller(&request)?;
            self.list_json(criteria, &caller).await
        })
        .await?;
        Ok(Response::new(stream_of(infos)))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<FlightInfo>, Status> {
        let descriptor = request.get_ref();
        let dialect = Dialect::of(&descriptor.cmd);
        let log = RequestLog::start("GetFlightInfo", &request, &self.metrics).speaking(&dialect);
        let info = logged(log, async {
            let caller = self.caller(&request)?;
            match dialect {
                Dialect::Json => self.flight_info_json(descriptor, &caller).await,
                Dialect::FlightSql(command) => {
                    self.sql_flight_info(command, descriptor, request.metadata(), &caller).await
                }
            }
        })
        .await?;
        Ok(Response::new(info))
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
        let descriptor = request.get_ref();
        let dialect = Dialect::of(&descriptor.cmd);
        let log = RequestLog::start("GetSchema", &request, &self.metrics).speaking(&dialect);
        let schema = logged(log, async {
            let caller = self.caller(&request)?;
            match dialect {
                Dialect::Json => self.schema_json(descriptor, &caller).await,
                Dialect::FlightSql(command) => {
                    let (detail, info) = self.sql_flight_info(command, descriptor, request.metadata(), &caller).await?;
                    Ok((detail, SchemaResult { schema: info.schema }))
                }
            }
        })
        .await?;
        Ok(Response::new(schema))
    }

    async fn do_get(&self, request: Request<Ticket>) -> std::result::Result<Response<Self::DoGetStream>, Status> {
        let ticket = &request.get_ref().ticket;
        let dialect = Dialect::of(ticket);
        let log = RequestLog::start("DoGet", &request, &self.metrics).speaking(&dialect);
        let stream = logged(log, async {
            let caller = self.caller(&request)?;
            match dialect {
                Dialect::Json => self.do_get_json(ticket, &caller).await,
                Dialect::FlightSql(command) => self.sql_do_get(command, &caller).await,
            }
        })
        .await?;
        Ok(Response::new(outbound::metered(stream, &self.metrics)))
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoPutStream>, Status> {
        let mut log = RequestLog::start("DoPut", &request, &self.metrics);
        let caller = self.caller(&request);
        let headers = request.metadata().clone();
        let this = self.clone();
        let input = request.into_inner();
        // hyper reports a client's RST_STREAM(CANCEL) as a clean end of the
        // request body, so a cancelled upload would look complete. The work
        // therefore runs inside the response stream: hyper polls it only
        // while the call is alive and drops it, uncommitted, once reset.
        let work = async move {
            let mut detail = String::new();
            let result = async {
                let upload = upload::Upload::begin(input, this.metrics.clone(), this.idle_timeout).await?;
                let dialect = Dialect::of(&upload.descriptor().map(|d| d.cmd.clone()).unwrap_or_default());
                log.speak(&dialect);
                let caller = caller?;
                match dialect {
                    Dialect::Json => this.put_json(upload, &caller, &mut detail).await,
                    Dialect::FlightSql(command) => {
                        this.sql_do_put(command, upload, &headers, &caller, &mut detail).await
                    }
                }
            }
            .await;
            log.finish(&detail, result)
        };
        Ok(Response::new(Box::pin(futures::stream::once(work)) as Self::DoPutStream))
    }

    async fn do_action(&self, request: Request<Action>) -> std::result::Result<Response<Self::DoActionStream>, Status> {
        let action = request.get_ref();
        let dialect = Dialect::of_action(&action.r#type);
        let log = RequestLog::start("DoAction", &request, &self.metrics).about(&action.r#type).speaking(&dialect);
        let stream = logged(log, async {
            let caller = self.caller(&request)?;
            match dialect {
                Dialect::Json => self.action_json(action, &caller).await,
                Dialect::FlightSql(_) => self.sql_action(action, request.metadata(), &caller).await,
            }
        })
        .await?;
        Ok(Response::new(stream))
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> std::result::Result<Response<Self::ListActionsStream>, Status> {
        let log = RequestLog::start("ListActions", &request, &self.metrics);
        logged(log, async { self.caller(&request).map(|_| (String::new(), ())) }).await?;
        Ok(Response::new(stream_of(actions::list())))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> std::result::Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not supported"))
    }
}
