//! The Flight service. The trait impl here only decodes each call, asks
//! [`json::dialect`] whose it is, and hands it to that dialect's handler:
//! reading ([`get`], [`list`]), writing ([`put`] over a guarded [`upload`])
//! and [`actions`]. Each result passes through [`request_log`], which logs
//! it and maps errors to a status in one place.

mod actions;
mod get;
mod json;
mod list;
mod outbound;
mod put;
mod request_log;
mod upload;

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse,
    PollInfo, PutResult, SchemaResult, Ticket,
};
use json::Dialect;
use outbound::FlightStream;
use request_log::{logged, RequestLog};
use tonic::{Request, Response, Status, Streaming};

use super::auth::{Auth, Principal};
use super::error::{DaemonError, Result};
use super::query::QueryEngine;
use super::shutdown::Shutdown;
use super::storage::Store;

#[derive(Clone)]
pub struct ShootsFlight {
    store: Arc<Store>,
    engine: Arc<QueryEngine>,
    shutdown: Shutdown,
    /// Present when the daemon runs with `--secret`.
    auth: Option<Arc<Auth>>,
}

impl ShootsFlight {
    pub fn new(
        store: Arc<Store>,
        engine: Arc<QueryEngine>,
        shutdown: Shutdown,
        auth: Option<Arc<Auth>>,
    ) -> ShootsFlight {
        ShootsFlight { store, engine, shutdown, auth }
    }

    /// Who makes this call; every call but Handshake is checked here.
    fn caller<T>(&self, request: &Request<T>) -> Result<Principal> {
        match &self.auth {
            None => Ok(Principal::unrestricted()),
            Some(auth) => auth.check(request.metadata()),
        }
    }

    /// The token comes back as the payload; pyarrow then sends it in
    /// `auth-token-bin` with every call.
    async fn handshake_reply(&self, mut input: Streaming<HandshakeRequest>) -> Result<(String, HandshakeResponse)> {
        let first = input
            .message()
            .await
            .map_err(|s| DaemonError::Io(format!("handshake interrupted: {}", s.message())))?
            .unwrap_or_default();
        let (detail, payload) = match &self.auth {
            None => (String::new(), bytes::Bytes::new()),
            Some(auth) => (format!("{} token", auth.handshake(&first.payload)?.role.as_str()), first.payload),
        };
        Ok((detail, HandshakeResponse { protocol_version: 0, payload }))
    }
}

fn stream_of<T: Send + 'static>(items: impl IntoIterator<Item = T, IntoIter: Send + 'static>) -> FlightStream<T> {
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
        let log = RequestLog::start("Handshake", &request);
        let reply = logged(log, self.handshake_reply(request.into_inner())).await?;
        Ok(Response::new(stream_of([reply])))
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> std::result::Result<Response<Self::ListFlightsStream>, Status> {
        let log = RequestLog::start("ListFlights", &request);
        let criteria = &request.get_ref().expression;
        let infos = logged(log, async {
            let caller = self.caller(&request)?;
            match json::dialect(criteria) {
                Dialect::Json => self.list_json(criteria, &caller).await,
            }
        })
        .await?;
        Ok(Response::new(stream_of(infos)))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> std::result::Result<Response<FlightInfo>, Status> {
        let log = RequestLog::start("GetFlightInfo", &request);
        let descriptor = request.get_ref();
        let info = logged(log, async {
            let caller = self.caller(&request)?;
            match json::dialect(&descriptor.cmd) {
                Dialect::Json => self.flight_info_json(descriptor, &caller).await,
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
        let log = RequestLog::start("GetSchema", &request);
        let descriptor = request.get_ref();
        let schema = logged(log, async {
            let caller = self.caller(&request)?;
            match json::dialect(&descriptor.cmd) {
                Dialect::Json => self.schema_json(descriptor, &caller).await,
            }
        })
        .await?;
        Ok(Response::new(schema))
    }

    async fn do_get(&self, request: Request<Ticket>) -> std::result::Result<Response<Self::DoGetStream>, Status> {
        let log = RequestLog::start("DoGet", &request);
        let ticket = &request.get_ref().ticket;
        let stream = logged(log, async {
            let caller = self.caller(&request)?;
            match json::dialect(ticket) {
                Dialect::Json => self.do_get_json(ticket, &caller).await,
            }
        })
        .await?;
        Ok(Response::new(stream))
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
        let this = self.clone();
        let input = request.into_inner();
        // hyper reports a client's RST_STREAM(CANCEL) as a clean end of the
        // request body, so a cancelled upload would look complete. The work
        // therefore runs inside the response stream: hyper polls it only
        // while the call is alive and drops it, uncommitted, once reset.
        let work = async move {
            let mut detail = String::new();
            let result = async {
                let upload = upload::Upload::begin(input).await?;
                let cmd = upload.descriptor().map(|d| d.cmd.clone()).unwrap_or_default();
                match json::dialect(&cmd) {
                    Dialect::Json => this.put_json(upload, &caller, &mut detail).await,
                }
            }
            .await;
            log.finish(&detail, result)
        };
        Ok(Response::new(Box::pin(futures::stream::once(work)) as Self::DoPutStream))
    }

    async fn do_action(&self, request: Request<Action>) -> std::result::Result<Response<Self::DoActionStream>, Status> {
        let action = request.get_ref();
        let log = RequestLog::start("DoAction", &request).about(&action.r#type);
        let stream = logged(log, async {
            let caller = self.caller(&request)?;
            match json::dialect(&action.body) {
                Dialect::Json => self.action_json(action, &caller).await,
            }
        })
        .await?;
        Ok(Response::new(stream))
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> std::result::Result<Response<Self::ListActionsStream>, Status> {
        let log = RequestLog::start("ListActions", &request);
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
