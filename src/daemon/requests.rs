//! The JSON bodies of the wire protocol (SPEC §1), parsed and validated in
//! one place. `bucket: null`, an absent bucket and `""` all mean the
//! default bucket.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{BucketId, Name, WriteMode};

/// Largest request body we parse; a Flight command or ticket is a few
/// hundred bytes, anything near this is hostile.
const MAX_JSON_BYTES: usize = 1 << 20;

pub fn parse_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    if bytes.len() > MAX_JSON_BYTES {
        return Err(DaemonError::InvalidArgument(format!(
            "{what} is {} bytes, more than the {MAX_JSON_BYTES} allowed",
            bytes.len()
        )));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| DaemonError::InvalidArgument(format!("malformed {what}: {e}")))
}

/// A dataframe address: bucket and name, both validated.
#[derive(Debug, Clone)]
pub struct Target {
    pub bucket: BucketId,
    pub name: Name,
}

impl Target {
    pub fn parse(bucket: Option<&str>, name: &str) -> Result<Target> {
        Ok(Target { bucket: BucketId::parse(bucket)?, name: Name::parse("dataframe", name)? })
    }
}

/// DoPut descriptor command.
#[derive(Debug, Deserialize)]
pub struct PutCommand {
    pub name: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    /// Client-side chunking hint of the original client; accepted, unused.
    #[serde(default)]
    #[allow(dead_code)]
    pub batch_size: Option<serde_json::Value>,
}

impl PutCommand {
    pub fn target(&self) -> Result<Target> {
        Target::parse(self.bucket.as_deref(), &self.name)
    }

    /// `mode` defaults to `error`, as in the original.
    pub fn mode(&self) -> Result<WriteMode> {
        self.mode.as_deref().unwrap_or("error").parse()
    }
}

/// DoGet ticket (also a GetFlightInfo/GetSchema CMD descriptor). Without
/// a name, `sql` runs across every bucket (what `shoots sql` sends).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Read an older version instead of the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// ListFlights criteria.
#[derive(Debug, Default, Deserialize)]
pub struct ListCriteria {
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
}

/// Actions on one dataframe: `delete`, `history`, `compact`, `vacuum`.
#[derive(Debug, Deserialize)]
pub struct FrameRequest {
    pub name: String,
    #[serde(default)]
    pub bucket: Option<String>,
    /// `vacuum`: versions to keep instead of the daemon's `--retain-versions`.
    #[serde(default)]
    pub retain: Option<usize>,
}

impl FrameRequest {
    pub fn target(&self) -> Result<Target> {
        Target::parse(self.bucket.as_deref(), &self.name)
    }
}

/// `delete_bucket` action.
#[derive(Debug, Deserialize)]
pub struct DeleteBucketRequest {
    pub name: String,
    #[serde(default)]
    pub mode: Option<String>,
}

impl DeleteBucketRequest {
    /// Whether to delete the bucket's dataframes too (`mode: "delete"`).
    pub fn force(&self) -> Result<bool> {
        match self.mode.as_deref().unwrap_or("error") {
            "error" => Ok(false),
            "delete" => Ok(true),
            other => Err(DaemonError::InvalidArgument(format!(
                "unknown delete_bucket mode \"{}\": must be error or delete",
                other.escape_default()
            ))),
        }
    }
}

/// `resample` action: `sql`, or `rule` + `time_col` + `aggregation_func`.
#[derive(Debug, Deserialize)]
pub struct ResampleRequest {
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub source_bucket: Option<String>,
    #[serde(default)]
    pub target_bucket: Option<String>,
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub time_col: Option<String>,
    #[serde(default)]
    pub aggregation_func: Option<String>,
}

impl ResampleRequest {
    pub fn source(&self) -> Result<Target> {
        Target::parse(self.source_bucket.as_deref(), &self.source)
    }

    pub fn target(&self) -> Result<Target> {
        Target::parse(self.target_bucket.as_deref(), &self.target)
    }

    /// `mode` defaults to `append`, as in the original.
    pub fn mode(&self) -> Result<WriteMode> {
        self.mode.as_deref().unwrap_or("append").parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_command_defaults_to_error_mode_and_default_bucket() {
        let cmd: PutCommand = parse_json("cmd", br#"{"name": "x"}"#).unwrap();
        assert_eq!(cmd.mode().unwrap(), WriteMode::Error);
        assert_eq!(cmd.target().unwrap().bucket, BucketId::Default);
    }

    #[test]
    fn wrong_types_and_unknown_modes_are_invalid_arguments() {
        for body in [&br#"{"name": 3}"#[..], br#"{"name": "x", "mode": "upsert"}"#, b"not json", b"[]"] {
            let err = parse_json::<PutCommand>("cmd", body).and_then(|c| c.mode().map(|_| ()));
            assert!(matches!(err, Err(DaemonError::InvalidArgument(_))), "{:?}", String::from_utf8_lossy(body));
        }
        let huge = vec![b' '; MAX_JSON_BYTES + 1];
        assert!(matches!(parse_json::<PutCommand>("cmd", &huge), Err(DaemonError::InvalidArgument(_))));
    }

    fn any_request(bytes: &[u8]) {
        // Each body parser either yields a request or an InvalidArgument;
        // validating what it yields gives names errors, never a panic.
        let check = |r: Result<()>| {
            assert!(
                matches!(r, Ok(()) | Err(DaemonError::InvalidArgument(_) | DaemonError::InvalidName(_))),
                "{r:?}"
            )
        };
        check(parse_json::<PutCommand>("cmd", bytes).and_then(|c| c.target().and(c.mode()).map(|_| ())));
        check(parse_json::<TicketBody>("ticket", bytes).and_then(|t| BucketId::parse(t.bucket.as_deref()).map(|_| ())));
        check(parse_json::<ListCriteria>("criteria", bytes).map(|_| ()));
        check(parse_json::<FrameRequest>("delete", bytes).and_then(|d| d.target().map(|_| ())));
        check(parse_json::<DeleteBucketRequest>("delete_bucket", bytes).and_then(|d| d.force().map(|_| ())));
        check(parse_json::<ResampleRequest>("resample", bytes).and_then(|r| r.source().and(r.target()).and(r.mode()).map(|_| ())));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            any_request(&bytes);
        }

        #[test]
        fn json_shaped_requests_never_panic(
            name in "\\PC{0,20}",
            bucket in proptest::option::of("\\PC{0,20}"),
            mode in "\\PC{0,8}",
            extra in "[\\[\\]{}:,\"0-9a-z ]{0,30}",
        ) {
            let body = serde_json::json!({"name": name, "bucket": bucket, "mode": mode, "source": name,
                                          "target": extra, "sql": extra});
            any_request(body.to_string().as_bytes());
            let mangled = format!("{{\"name\": {extra}, \"bucket\": {extra}}}");
            any_request(mangled.as_bytes());
        }
    }
}
