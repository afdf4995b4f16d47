//! The daemon's error type and its one mapping onto Flight/gRPC status.
//!
//! Every failure a client can see goes through [`DaemonError::into_status`],
//! which encodes it the way pyarrow expects: gRPC code UNKNOWN plus the
//! `x-arrow-status` trailer, so pyarrow raises `FlightServerError` whose
//! `extra_info` is the JSON `{"type", "message"}` the original client maps
//! onto Python exceptions.

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

pub type Result<T, E = DaemonError> = std::result::Result<T, E>;

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
    /// SQL that fails to parse, plan or run.
    #[error("{0}")]
    DataFusion(String),
    #[error("{0}")]
    Io(String),
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
    /// The `type` the Python client maps to an exception class.
    pub fn type_name(&self) -> &'static str {
        match self {
            DaemonError::NotFound(_) => "FileNotFoundError",
            DaemonError::Exists(_) => "FileExistsError",
            DaemonError::BucketNotEmpty(_) => "BucketNotEmptyError",
            DaemonError::InvalidName(_) => "InvalidNameError",
            DaemonError::SchemaMismatch(_) => "SchemaMismatchError",
            DaemonError::InvalidArgument(_) => "InvalidArgumentError",
            DaemonError::DataFusion(_) => "DataFusionError",
            DaemonError::Io(_) => "ShootsIOError",
            DaemonError::InvalidToken(_) => "InvalidTokenError",
            DaemonError::Unauthenticated(_) => "FlightUnauthenticatedError",
            DaemonError::Unauthorized(_) => "FlightUnauthorizedError",
        }
    }

    pub fn into_status(self) -> Status {
        let message = self.to_string();
        match self {
            DaemonError::Unauthenticated(_) => Status::unauthenticated(message),
            DaemonError::Unauthorized(_) => Status::permission_denied(message),
            _ => {
                let extra_info = serde_json::json!({"type": self.type_name(), "message": message});
                // Calls pyarrow checks without Flight details (get_schema)
                // show only this message, so it names the type too.
                let shown = format!("{}: {}", self.type_name(), message);
                let mut trailers = MetadataMap::new();
                trailers.insert("x-arrow-status", MetadataValue::from_static(ARROW_STATUS_UNKNOWN));
                trailers.insert_bin("x-arrow-status-message-bin", MetadataValue::from_bytes(shown.as_bytes()));
                Status::with_details_and_metadata(
                    Code::Unknown,
                    shown,
                    extra_info.to_string().into_bytes().into(),
                    trailers,
                )
            }
        }
    }
}

impl From<DaemonError> for Status {
    fn from(e: DaemonError) -> Status {
        e.into_status()
    }
}

impl From<object_store::Error> for DaemonError {
    fn from(e: object_store::Error) -> Self {
        DaemonError::Io(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for DaemonError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        DaemonError::Io(format!("parquet: {e}"))
    }
}

impl From<arrow::error::ArrowError> for DaemonError {
    fn from(e: arrow::error::ArrowError) -> Self {
        DaemonError::InvalidArgument(format!("arrow: {e}"))
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
            other => DaemonError::DataFusion(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for DaemonError {
    fn from(e: serde_json::Error) -> Self {
        DaemonError::InvalidArgument(format!("malformed request JSON: {e}"))
    }
}
