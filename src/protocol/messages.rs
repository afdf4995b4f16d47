//! Request and reply bodies of the JSON dialect (the README's "Wire
//! protocol" table). `bucket: null`, an absent bucket and `""` all mean the
//! default bucket. Unknown fields are ignored, as the original's
//! `batch_size` hint in a DoPut command.

use serde::{Deserialize, Serialize};

use super::kinds::{BucketDeleteMode, PutMode, SchemaPolicy};

/// DoPut descriptor command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PutCommand {
    pub name: String,
    /// Absent: `error`.
    #[serde(default)]
    pub mode: Option<PutMode>,
    #[serde(default)]
    pub bucket: Option<String>,
    /// Mode `upsert`: the columns that identify a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    /// Absent: `exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaPolicy>,
}

impl PutCommand {
    pub fn new(name: &str, mode: PutMode, bucket: Option<&str>) -> PutCommand {
        PutCommand { name: name.into(), mode: Some(mode), bucket: bucket.map(String::from), keys: None, schema: None }
    }

    pub fn mode(&self) -> PutMode {
        self.mode.unwrap_or(PutMode::Error)
    }
}

/// DoPut's one PutResult, as its app_metadata.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PutReply {
    pub version: u64,
    pub rows: u64,
}

/// A FlightData message with an empty header and this app_metadata makes
/// the daemon drop the upload: the client's input broke half-way.
#[derive(Debug, Serialize, Deserialize)]
pub struct UploadAbort {
    /// Why; any JSON value is taken and shown.
    pub abort: serde_json::Value,
}

/// DoGet ticket (also a GetFlightInfo/GetSchema CMD descriptor). Without a
/// name, `sql` runs across every bucket (what `shoots sql` sends).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ticket {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Read an older version instead of the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// A selection from one version, in stored order (not with `sql`):
    /// only these columns, in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Only the rows where this SQL predicate is true.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// At most this many rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Read the version this named snapshot of the bucket pins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The rows that differ between two versions, instead of a version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffSpec>,
}

/// A ticket's `diff`: the rows added and removed from version `from` to
/// version `to`; with `keys`, rows whose keys match are `changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSpec {
    pub from: u64,
    pub to: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// The columns a diff adds before the dataframe's: what happened to the
/// row (`added`, `removed`, `changed`), and with keys which columns changed.
pub const DIFF_CHANGE: &str = "_change";
pub const DIFF_CHANGED_COLUMNS: &str = "_changed_columns";

/// Schema metadata of a diff's result: how many file entries it read, and
/// how many the two versions have.
pub const DIFF_FILES_READ: &str = "shoots.diff.files_read";
pub const DIFF_FILES: &str = "shoots.diff.files";

/// `create_snapshot` and `delete_snapshot` actions (`snapshots` reads the
/// bucket only): a named snapshot of a bucket, of every dataframe or of
/// `dataframes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SnapshotRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataframes: Option<Vec<String>>,
}

/// A named snapshot, as the snapshot actions answer it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotInfo {
    pub name: String,
    pub created_ms: i64,
    /// The pinned version of each dataframe.
    pub dataframes: std::collections::BTreeMap<String, u64>,
    pub rows: u64,
    pub bytes: u64,
}

impl Ticket {
    /// Whether it selects columns, rows or a limit of a version.
    pub fn selects(&self) -> bool {
        self.columns.is_some() || self.filter.is_some() || self.limit.is_some()
    }

    pub fn frame(name: &str, bucket: Option<&str>) -> Ticket {
        Ticket { name: Some(name.into()), bucket: bucket.map(String::from), ..Ticket::default() }
    }

    pub fn sql(sql: &str, bucket: Option<&str>) -> Ticket {
        Ticket { sql: Some(sql.into()), bucket: bucket.map(String::from), ..Ticket::default() }
    }
}

/// ListFlights criteria; empty criteria list the default bucket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListCriteria {
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
}

/// What ListFlights puts in each FlightInfo's app_metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameMeta {
    pub version: u64,
    pub timestamp_ms: i64,
    pub files: usize,
    /// The retention that applies to it (its own, else its bucket's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// The named snapshots that pin a version of it (vacuum keeps those).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<String>,
}

/// Keep only the rows whose `time_col` is newer than `keep` (`30d`, `12h`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub time_col: String,
    pub keep: String,
    /// Set on the bucket rather than on the dataframe (in replies).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_bucket: bool,
}

/// `delete_rows` action: remove the rows where `where` (SQL) is true.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteRowsRequest {
    pub name: String,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(rename = "where")]
    pub predicate: String,
}

/// `delete_rows`' reply: the version holding the change (the current one
/// when no row matched).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct DeleteRowsReply {
    pub rows_deleted: u64,
    pub version: u64,
}

/// `set_retention` action: on a dataframe, or without `name` on every
/// dataframe of a bucket (that has the column); `retention: null` removes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetRetentionRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    pub retention: Option<Retention>,
}

/// `set_retention`'s reply (and `get_retention`'s).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionReply {
    pub retention: Option<Retention>,
    pub message: String,
}

/// Actions on one dataframe: `delete`, `history`, `compact`, `vacuum`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameRequest {
    pub name: String,
    #[serde(default)]
    pub bucket: Option<String>,
    /// `vacuum`: versions to keep instead of the daemon's `--retain-versions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<usize>,
}

impl FrameRequest {
    pub fn new(name: &str, bucket: Option<&str>) -> FrameRequest {
        FrameRequest { name: name.into(), bucket: bucket.map(String::from), retain: None }
    }
}

/// `delete`'s reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteReply {
    pub success: bool,
    pub message: String,
}

/// `delete_bucket` action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteBucketRequest {
    pub name: String,
    /// Absent: `error`.
    #[serde(default)]
    pub mode: Option<BucketDeleteMode>,
}

/// `delete_bucket`'s reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageReply {
    pub message: String,
}

/// One version in `history`'s reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionInfo {
    pub version: u64,
    pub timestamp_ms: i64,
    pub operation: String,
    pub rows: u64,
    pub rows_added: u64,
    /// Rows an upsert replaced (absent from older daemons).
    #[serde(default)]
    pub rows_updated: u64,
    /// Rows a row delete or the retention removed.
    #[serde(default)]
    pub rows_deleted: u64,
    pub files_added: usize,
    pub files_removed: usize,
    pub files: usize,
}

/// `vacuum`'s reply.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct VacuumReply {
    pub versions_removed: usize,
    pub files_deleted: usize,
    /// Files no retained version needs, deleted by a vacuum once the
    /// daemon's grace period has passed (absent from older daemons).
    #[serde(default)]
    pub files_waiting: usize,
}

/// `stats`' reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatsReply {
    /// Where the buckets are (`s3://…` or a directory).
    pub store: String,
    pub uptime_s: u64,
    /// Requests made of the store since the daemon started, by kind.
    pub store_requests: std::collections::BTreeMap<String, u64>,
}

/// `compact`'s reply: the compaction, then the vacuum that follows it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CompactReply {
    /// The compacting version, or `null` when there was nothing to do.
    pub version: Option<u64>,
    pub files_before: usize,
    pub files_after: usize,
    #[serde(flatten)]
    pub vacuum: VacuumReply,
}

/// `resample` action: `sql`, or `rule` + `time_col` + `aggregation_func`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResampleRequest {
    pub source: String,
    pub target: String,
    /// Absent: `append`.
    #[serde(default)]
    pub mode: Option<PutMode>,
    #[serde(default)]
    pub source_bucket: Option<String>,
    #[serde(default)]
    pub target_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_col: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_func: Option<String>,
}

impl ResampleRequest {
    pub fn mode(&self) -> PutMode {
        self.mode.unwrap_or(PutMode::Append)
    }
}

/// `resample`'s reply; a numeric-only function names the columns it left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResampleReply {
    pub source_rows: u64,
    pub target_rows: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `shutdown`'s one result.
pub const SHUTDOWN_REPLY: [&str; 1] = ["shutdown command received"];
