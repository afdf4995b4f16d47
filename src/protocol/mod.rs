//! The JSON dialect of the wire, shared by the client and the daemon: the
//! request and reply bodies ([`messages`]), the error kinds and the modes
//! ([`kinds`]), and the actions ([`actions`]). The README's "Wire protocol"
//! section is the same contract in prose. Nothing here knows about either
//! side, so both depend on it and it depends on neither.

pub mod actions;
pub mod flight_data;
pub mod kinds;
pub mod messages;

pub use actions::ActionKind;
pub use kinds::{format_duration, parse_duration, BucketDeleteMode, ErrorInfo, ErrorKind, PutMode, SchemaPolicy};
pub use messages::*;

use serde::de::DeserializeOwned;

/// Largest single Flight message either side accepts or sends (a record
/// batch chunk).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

/// Largest request body parsed; a command, ticket or action body is a few
/// hundred bytes, anything near this is hostile.
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// Why a body could not be parsed; the daemon answers it as an
/// `InvalidArgumentError`.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{what} is {len} bytes, more than the {MAX_JSON_BYTES} allowed")]
    TooLarge { what: String, len: usize },
    #[error("malformed {what}: {source}")]
    Malformed {
        what: String,
        #[source]
        source: serde_json::Error,
    },
}

/// Parses one JSON body, refusing oversized ones before looking inside.
pub fn parse_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(BodyError::TooLarge { what: what.into(), len: bytes.len() });
    }
    serde_json::from_slice(bytes).map_err(|source| BodyError::Malformed { what: what.into(), source })
}

/// A body as bytes; these types hold only strings and numbers, so this
/// cannot fail.
pub fn to_json(body: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(body).expect("protocol bodies serialise")
}

/// The default bucket's name as a schema in SQL (`_default.name`) and in
/// the bucket directory; bare names mean it too.
pub const DEFAULT_SCHEMA: &str = "_default";
