//! The daemon's errors as Postgres errors: one line, with the SQLSTATE a
//! client or tool can act on.

use pgwire::error::{ErrorInfo, PgWireError};

use crate::daemon::error::DaemonError;

/// A Postgres `ERROR` with `code` (a SQLSTATE) and `message`.
pub fn error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".into(), code.into(), message.into())))
}

/// A `FATAL` error: the server closes the connection after it.
pub fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".into(), code.into(), message.into())))
}

pub mod code {
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    pub const PROTOCOL_VIOLATION: &str = "08P01";
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    pub const INVALID_BINARY: &str = "22P03";
    pub const INVALID_CURSOR_NAME: &str = "34000";
    pub const READ_ONLY: &str = "25006";
    pub const INVALID_AUTHORIZATION: &str = "28000";
    pub const INVALID_PASSWORD: &str = "28P01";
    pub const INVALID_CATALOG_NAME: &str = "3D000";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const SYNTAX_ERROR: &str = "42601";
    pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
    pub const SYNTAX_OR_ACCESS: &str = "42000";
    pub const UNDEFINED_COLUMN: &str = "42703";
    pub const UNDEFINED_TABLE: &str = "42P01";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DATATYPE_MISMATCH: &str = "42804";
    pub const OUT_OF_MEMORY: &str = "53200";
    pub const QUERY_CANCELED: &str = "57014";
    pub const IO_ERROR: &str = "58030";
    pub const INTERNAL: &str = "XX000";
}

impl From<DaemonError> for PgWireError {
    fn from(e: DaemonError) -> PgWireError {
        // One line, as every error of shoots (DataFusion adds suggestions below).
        let message = e.to_string().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ");
        let code = match &e {
            DaemonError::NotFound(_) => code::UNDEFINED_TABLE,
            DaemonError::Unauthenticated(_) | DaemonError::InvalidToken(_) => code::INVALID_PASSWORD,
            DaemonError::Unauthorized(_) => code::INSUFFICIENT_PRIVILEGE,
            DaemonError::SchemaMismatch(_) => code::DATATYPE_MISMATCH,
            DaemonError::InvalidName(_)
            | DaemonError::InvalidArgument(_)
            | DaemonError::BadBody(_)
            | DaemonError::BadInput { .. } => code::INVALID_PARAMETER_VALUE,
            DaemonError::DataFusion(m) => datafusion_code(m),
            DaemonError::Exhausted { .. } => code::OUT_OF_MEMORY,
            DaemonError::Conflict(_) => code::SERIALIZATION_FAILURE,
            DaemonError::Timeout(_) => code::QUERY_CANCELED,
            DaemonError::Internal { .. } => code::INTERNAL,
            _ => code::IO_ERROR,
        };
        error(code, message)
    }
}

/// DataFusion reports most failures as text; these prefixes are its own
/// (`DataFusionError`'s Display), stable across its releases.
fn datafusion_code(message: &str) -> &'static str {
    if message.starts_with("SQL in shoots is read-only") {
        code::READ_ONLY
    } else if message.starts_with("SQL error: ParserError") || message.contains("sql parser error") {
        code::SYNTAX_ERROR
    } else if message.contains("table '") && message.contains("' not found") {
        code::UNDEFINED_TABLE
    } else if message.contains("This feature is not implemented") {
        code::FEATURE_NOT_SUPPORTED
    } else if message.contains("No field named") {
        code::UNDEFINED_COLUMN
    } else {
        code::SYNTAX_OR_ACCESS
    }
}
