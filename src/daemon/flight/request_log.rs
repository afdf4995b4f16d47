//! One log line per request: method, what it touched, outcome, duration.
//! Every handler's result passes through [`RequestLog::finish`], which is
//! also where a [`DaemonError`] becomes a Flight status.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Status};

use super::dialect::Dialect;
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::metrics::Metrics;

pub(super) struct RequestLog {
    method: &'static str,
    /// What the call is, known before it runs (an action's name).
    about: String,
    peer: String,
    started: Instant,
    finished: bool,
    /// Flight SQL clients get plain gRPC statuses, the JSON dialect the
    /// original's (see [`DaemonError::into_status`]).
    plain_errors: bool,
    metrics: Arc<Metrics>,
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl RequestLog {
    pub(super) fn start<T>(method: &'static str, request: &Request<T>, metrics: &Arc<Metrics>) -> RequestLog {
        let peer = request.remote_addr().as_ref().map(SocketAddr::to_string).unwrap_or_default();
        RequestLog {
            method,
            about: String::new(),
            peer,
            started: Instant::now(),
            finished: false,
            plain_errors: false,
            metrics: metrics.clone(),
        }
    }

    /// Errors of a call in this dialect.
    pub(super) fn speaking(mut self, dialect: &Dialect) -> RequestLog {
        self.speak(dialect);
        self
    }

    /// The same, once the dialect is known after the call started (DoPut).
    pub(super) fn speak(&mut self, dialect: &Dialect) {
        self.plain_errors = dialect.is_flight_sql();
    }

    pub(super) fn about(mut self, about: &str) -> RequestLog {
        self.about = about.to_string();
        self
    }

    fn elapsed_ms(&self) -> String {
        format!("{:.1}", self.started.elapsed().as_secs_f64() * 1000.0)
    }

    fn count(&self, outcome: &str) {
        self.metrics.request(self.method, &self.about, outcome, self.started.elapsed());
    }

    fn what(&self, detail: &str) -> String {
        one_line(&format!("{} {detail}", self.about))
    }

    /// Logs the outcome and turns an error into its status.
    pub(super) fn finish<T>(mut self, detail: &str, result: Result<T>) -> std::result::Result<T, Status> {
        self.finished = true;
        let (method, peer, elapsed_ms, what) = (self.method, &self.peer, self.elapsed_ms(), self.what(detail));
        match result {
            Ok(v) => {
                self.count("ok");
                tracing::info!(target: "shoots::request", method, peer, elapsed_ms, "{what} ok");
                Ok(v)
            }
            Err(e) => {
                // The log gets every cause; the client one line.
                let error = e.kind().as_str();
                self.count(error);
                tracing::warn!(target: "shoots::request", method, peer, elapsed_ms, error, "{what} failed: {}", e.chain());
                Err(if self.plain_errors { e.into_plain_status() } else { e.into_status() })
            }
        }
    }
}

/// Runs a handler as one logged request. A handler answers what it touched
/// (for the log) and its value.
pub(super) async fn logged<T>(
    log: RequestLog,
    handler: impl Future<Output = Result<(String, T)>>,
) -> std::result::Result<T, Status> {
    match handler.await {
        Ok((detail, value)) => log.finish(&detail, Ok(value)),
        Err(e) => log.finish("", Err::<T, DaemonError>(e)),
    }
}

/// A call dropped before it finished (the client cancelled or vanished)
/// still gets its line.
impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.finished {
            self.count("cancelled");
            let (method, peer, elapsed_ms) = (self.method, &self.peer, self.elapsed_ms());
            tracing::warn!(target: "shoots::request", method, peer, elapsed_ms, "cancelled by the client; nothing kept");
        }
    }
}
