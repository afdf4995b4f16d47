//! Dataframes as ListFlights describes them, for `ls`, the REPL's `\d` and
//! its completion.

use arrow::datatypes::Schema;
use arrow_flight::FlightInfo;
use serde::Serialize;

use super::Client;
use crate::error::{CliError, Result};
use crate::protocol::{FrameMeta, ListCriteria};

/// One dataframe.
pub struct Entry {
    pub bucket: Option<String>,
    pub name: String,
    pub rows: i64,
    pub bytes: i64,
    pub schema: Schema,
    /// Absent from a server that does not send it.
    pub meta: Option<FrameMeta>,
}

/// An entry as `ls --format json` prints it.
#[derive(Serialize)]
pub struct EntryJson<'a> {
    bucket: Option<&'a str>,
    name: &'a str,
    rows: i64,
    bytes: i64,
    columns: Vec<ColumnJson>,
    version: Option<u64>,
    updated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention: Option<&'a crate::protocol::Retention>,
    /// The named snapshots that pin a version of it.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    snapshots: &'a [String],
}

#[derive(Serialize)]
struct ColumnJson {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
}

impl Entry {
    fn from_info(bucket: Option<String>, info: &FlightInfo) -> Result<Entry> {
        let name = info.flight_descriptor.as_ref().and_then(|d| d.path.first()).cloned().unwrap_or_default();
        let schema = info
            .clone()
            .try_decode_schema()
            .map_err(|e| CliError::Protocol(format!("unreadable schema of {name}: {e}")))?;
        let meta = serde_json::from_slice(&info.app_metadata).ok();
        Ok(Entry { bucket, name, rows: info.total_records, bytes: info.total_bytes, schema, meta })
    }

    pub fn version(&self) -> Option<u64> {
        self.meta.as_ref().map(|m| m.version)
    }

    /// When the current version was made, UTC.
    pub fn updated(&self) -> String {
        self.meta
            .as_ref()
            .and_then(|m| chrono::DateTime::from_timestamp_millis(m.timestamp_ms))
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }

    pub fn to_json(&self) -> EntryJson<'_> {
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| ColumnJson { name: f.name().clone(), data_type: f.data_type().to_string() })
            .collect();
        EntryJson {
            bucket: self.bucket.as_deref(),
            name: &self.name,
            rows: self.rows,
            bytes: self.bytes,
            columns,
            version: self.version(),
            updated: self.updated(),
            retention: self.meta.as_ref().and_then(|m| m.retention.as_ref()),
            snapshots: self.meta.as_ref().map_or(&[], |m| &m.snapshots),
        }
    }
}

/// The dataframes of these buckets (`None`: the default one) whose names
/// match `regex`.
pub async fn entries(client: &mut Client, buckets: &[Option<String>], regex: Option<&str>) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for bucket in buckets {
        let criteria = ListCriteria { bucket: bucket.clone(), regex: regex.map(String::from) };
        for info in client.list(&criteria).await? {
            entries.push(Entry::from_info(bucket.clone(), &info)?);
        }
    }
    Ok(entries)
}

/// Every bucket: the default one (`None`) first, then the named ones.
pub async fn all_buckets(client: &mut Client) -> Result<Vec<Option<String>>> {
    Ok(std::iter::once(None).chain(client.buckets().await?.into_iter().map(Some)).collect())
}
