//! The Postgres wire protocol (`serve --pg-port`): psql, BI tools and
//! drivers query the same catalog as Flight SQL, with the same tokens and
//! TLS. pgwire speaks the protocol; the queries go to the daemon's one
//! [`QueryEngine`], which adds the `pg_catalog` tools read.

mod catalog;
mod copy;
mod copy_binary;
mod copy_in;
mod errors;
mod functions;
mod queries;
mod session;
mod startup;
mod statement;
mod type_info;

use std::future::Future;
use std::sync::Arc;

use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::{ConnectionManager, PgWireServerHandlers};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use catalog::PgCatalogs;

use crate::daemon::auth::Auth;
use crate::daemon::query::QueryEngine;
use crate::daemon::storage::Store;

/// What the server says it is: clients read the major version to choose
/// their catalog queries, and Postgres 16's are what pg_catalog answers.
pub const SERVER_VERSION: &str = concat!("16.6 (shoots ", env!("CARGO_PKG_VERSION"), ")");

/// What every connection shares.
pub struct PgState {
    pub store: Arc<Store>,
    pub engine: Arc<QueryEngine>,
    pub auth: Option<Arc<Auth>>,
    pub catalogs: PgCatalogs,
}

struct Handlers {
    startup: Arc<startup::Startup>,
    queries: Arc<queries::Queries>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.queries.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}

/// Answers Postgres clients on `listener` until `stop` completes; open
/// connections end with the daemon.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, state: PgState, stop: impl Future<Output = ()>) {
    let state = Arc::new(state);
    let connections = Arc::new(ConnectionManager::new());
    let handlers = Arc::new(Handlers {
        startup: Arc::new(startup::Startup::new(state.clone(), connections.clone())),
        queries: Arc::new(queries::Queries::new(state.clone())),
        cancel: Arc::new(DefaultCancelHandler::new(connections)),
    });
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (socket, _) = tokio::select! {
            accepted = super::accept(&listener, "postgres") => accepted,
            _ = &mut stop => break,
        };
        while tasks.try_join_next().is_some() {}
        let (handlers, tls) = (handlers.clone(), tls.clone());
        tasks.spawn(async move {
            if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                tracing::debug!("postgres connection ended: {e}");
            }
        });
    }
    tasks.shutdown().await;
}
