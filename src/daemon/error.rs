//! The daemon's error type and its one mapping onto Flight/gRPC status.
//!
//! Every failure a client can see goes through [`DaemonError::into_status`],
//! which encodes it the way pyarrow expects: gRPC code UNKNOWN plus the
//! `x-arrow-status` trailer, so pyarrow raises `FlightServerError` whose
//! `extra_info` is the JSON `{"type", "message"}` the original client maps
//! onto Python exceptions. Variants with a `source` keep the cause for the
//! log; the client sees one line.

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

use crate::protocol::{BodyError, ErrorInfo, ErrorKind};

pub type Result<T, E = DaemonError> = std::result::Result<T, E>;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// No such dataframe or bucket.
    #[error("{0}")]
    NotFound(String),
    /// Put with mode `error` onto an existing dataframe.
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    BucketNotEmpty(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    SchemaMismatch(String),
    #[error("{0}")]
    InvalidArgument(String),
    /// A request body that does not parse.
    #[error(transparent)]
    BadBody(#[from] BodyError),
    /// What the client sent is at fault (a corrupt upload, say).
    #[error("{what}: {source}")]
    BadInput {
        what: String,
        #[source]
        source: BoxError,
    },
    /// SQL that fails to parse, plan or run.
    #[error("{0}")]
    DataFusion(String),
    /// A state of the store that stops the request (a corrupt commit, say).
    #[error("{0}")]
    Io(String),
    /// Another writer changed the dataframe first (under a compaction, an
    /// upsert, a change in place); nothing was written, trying again may do.
    #[error("{0}")]
    Conflict(String),
    /// Something did not arrive in time (an upload gone silent, a store
    /// that does not answer).
    #[error("{0}")]
    Timeout(String),
    /// A query needed more memory than `--memory-limit` leaves it.
    #[error("{what}: {source}")]
    Exhausted {
        what: String,
        #[source]
        source: BoxError,
    },
    #[error("{0}")]
    Store(#[from] object_store::Error),
    /// A commit whose answer the store lost and whose entry it would not
    /// show either: it may yet appear, so what it names must be kept.
    #[error("{0}")]
    CommitUncertain(String),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The daemon's own failure: a bug or an environment problem, not the
    /// caller's. Logged with its cause; on the wire a `ShootsIOError`, as
    /// the original reported such failures.
    #[error("{what}: {source}")]
    Internal {
        what: String,
        #[source]
        source: BoxError,
    },
    /// A Handshake token that does not decode or whose signature or expiry
    /// is wrong (a `FlightServerError`, as the original reported it).
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Unauthorized(String),
}

/// Arrow C++ `StatusCode::UnknownError`; its presence makes pyarrow read
/// `grpc-status-details-bin` as `extra_info`.
const ARROW_STATUS_UNKNOWN: &str = "9";

impl DaemonError {
    pub fn bad_input(what: impl Into<String>, source: impl Into<BoxError>) -> DaemonError {
        DaemonError::BadInput { what: what.into(), source: source.into() }
    }

    pub fn internal(what: impl Into<String>, source: impl Into<BoxError>) -> DaemonError {
        DaemonError::Internal { what: what.into(), source: source.into() }
    }

    /// Whether a failed commit may still have been made: then the files it
    /// names must stay (vacuum's grace period takes them if it was not).
    pub fn commit_uncertain(&self) -> bool {
        matches!(self, DaemonError::CommitUncertain(_))
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            DaemonError::NotFound(_) => ErrorKind::NotFound,
            DaemonError::Exists(_) => ErrorKind::Exists,
            DaemonError::BucketNotEmpty(_) => ErrorKind::BucketNotEmpty,
            DaemonError::InvalidName(_) => ErrorKind::InvalidName,
            DaemonError::SchemaMismatch(_) => ErrorKind::SchemaMismatch,
            DaemonError::InvalidArgument(_) | DaemonError::BadBody(_) | DaemonError::BadInput { .. } => {
                ErrorKind::InvalidArgument
            }
            // As the original reported them: a query's failure, an I/O one.
            DaemonError::DataFusion(_) | DaemonError::Exhausted { .. } => ErrorKind::DataFusion,
            DaemonError::Conflict(_) | DaemonError::Timeout(_) => ErrorKind::Io,
            DaemonError::Io(_)
            | DaemonError::Store(_)
            | DaemonError::CommitUncertain(_)
            | DaemonError::Parquet(_)
            | DaemonError::Internal { .. } => ErrorKind::Io,
            DaemonError::InvalidToken(_) => ErrorKind::InvalidToken,
            DaemonError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            DaemonError::Unauthorized(_) => ErrorKind::Unauthorized,
        }
    }

    /// The message with every cause below it, for the log: what the
    /// one-line reply leaves out.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(inner) = cause {
            let line = inner.to_string();
            if !text.contains(&line) {
                text.push_str(": ");
                text.push_str(&line);
            }
            cause = inner.source();
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn into_status(self) -> Status {
        let message = self.to_string();
        let kind = self.kind();
        match kind {
            ErrorKind::Unauthenticated => Status::unauthenticated(message),
            ErrorKind::Unauthorized => Status::permission_denied(message),
            _ => {
                let extra_info = ErrorInfo { kind: kind.as_str().into(), message: message.clone() };
                // Calls pyarrow checks without Flight details (get_schema)
                // show only this message, so it names the type too.
                let shown = format!("{kind}: {message}");
                let mut trailers = MetadataMap::new();
                trailers.insert("x-arrow-status", MetadataValue::from_static(ARROW_STATUS_UNKNOWN));
                trailers.insert_bin("x-arrow-status-message-bin", MetadataValue::from_bytes(shown.as_bytes()));
                Status::with_details_and_metadata(
                    Code::Unknown,
                    shown,
                    crate::protocol::to_json(&extra_info).into(),
                    trailers,
                )
            }
        }
    }
}

impl DaemonError {
    /// The status of a Flight SQL call: a plain gRPC code and the one-line
    /// message, which is what SQL tools show.
    pub fn into_plain_status(self) -> Status {
        let message = self.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        let code = match (&self, self.kind()) {
            (DaemonError::Exhausted { .. }, _) => Code::ResourceExhausted,
            (DaemonError::Conflict(_), _) => Code::Aborted,
            (DaemonError::Timeout(_), _) => Code::DeadlineExceeded,
            (_, kind) => plain_code(kind),
        };
        Status::new(code, message)
    }
}

/// The gRPC code of a kind of error, for Flight SQL.
fn plain_code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::Exists | ErrorKind::BucketNotEmpty => Code::AlreadyExists,
        ErrorKind::InvalidName | ErrorKind::SchemaMismatch | ErrorKind::InvalidArgument | ErrorKind::DataFusion => {
            Code::InvalidArgument
        }
        ErrorKind::Io => Code::Internal,
        ErrorKind::InvalidToken | ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::Unauthorized => Code::PermissionDenied,
    }
}

impl From<DaemonError> for Status {
    fn from(e: DaemonError) -> Status {
        e.into_status()
    }
}

impl From<datafusion::error::DataFusionError> for DaemonError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as D;
        // Storage errors surfacing through a query stay storage errors; a
        // DaemonError wrapped by our own table provider comes back unchanged.
        match e {
            D::External(inner) => match inner.downcast::<DaemonError>() {
                Ok(d) => *d,
                Err(other) => DaemonError::DataFusion(other.to_string()),
            },
            D::Context(ctx, inner) => match DaemonError::from(*inner) {
                DaemonError::DataFusion(m) => DaemonError::DataFusion(format!("{ctx}: {m}")),
                other => other,
            },
            D::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => DaemonError::from(inner),
                // Shared by several consumers (a hash join's build side):
                // its kind stays, its text is copied.
                Err(shared) if matches!(shared.as_ref(), D::ResourcesExhausted(_)) => exhausted(shared.to_string()),
                Err(shared) => DaemonError::DataFusion(shared.to_string()),
            },
            e @ D::ResourcesExhausted(_) => exhausted(e),
            other => DaemonError::DataFusion(other.to_string()),
        }
    }
}

fn exhausted(source: impl Into<BoxError>) -> DaemonError {
    DaemonError::Exhausted {
        what: "the query needs more memory than --memory-limit leaves it".into(),
        source: source.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_failures_keep_their_cause_and_travel_as_io_errors() {
        let cause = std::io::Error::other("disk on fire");
        let e = DaemonError::internal("encoding the reply", cause);
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(e.chain(), "encoding the reply: disk on fire");
        let status = e.into_status();
        let info: ErrorInfo = serde_json::from_slice(status.details()).unwrap();
        assert_eq!(info.kind, "ShootsIOError");
    }

    /// Each kind keeps the original's error type and has its own Flight SQL code.
    #[test]
    fn each_kind_has_its_status() {
        let memory = datafusion::error::DataFusionError::ResourcesExhausted("Failed to allocate 1 MB".into());
        let cases = [
            (DaemonError::from(memory), "DataFusionError", Code::ResourceExhausted, "Resources exhausted"),
            (DaemonError::Conflict("changed meanwhile".into()), "ShootsIOError", Code::Aborted, "changed"),
            (DaemonError::Timeout("nothing arrived".into()), "ShootsIOError", Code::DeadlineExceeded, "nothing"),
            (
                DaemonError::internal("encoding", std::io::Error::other("x")),
                "ShootsIOError",
                Code::Internal,
                "encoding",
            ),
        ];
        for (error, kind, code, text) in cases {
            assert_eq!(error.kind().as_str(), kind);
            let message = error.to_string();
            assert!(message.contains(text), "{message}");
            let status = error.into_plain_status();
            assert_eq!((status.code(), status.message()), (code, message.as_str()));
        }
    }
}
