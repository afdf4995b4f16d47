//! `shoots ls [PATTERN]`: list dataframes with rows, size and columns.

use arrow::datatypes::Schema;
use arrow_flight::FlightInfo;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use super::block_on;
use crate::client::{Client, ConnectArgs};
use crate::error::{CliError, Result};
use crate::output::{human_bytes, print_rows};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only names matching this glob (`sensor_*`) or regular expression (`^sensor_\d+$`)
    pub pattern: Option<String>,
    /// List this bucket [default: the default bucket]
    #[arg(long, short, conflicts_with = "all")]
    pub bucket: Option<String>,
    /// List every bucket
    #[arg(long, short)]
    pub all: bool,
    /// Also show version, last change and column types
    #[arg(long, short)]
    pub long: bool,
    /// Output format; json is for scripts
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// A glob has `*`, `?` or `[` and no regex-only syntax; anything else is a
/// regular expression, matched anywhere in the name (as `re.search`).
pub fn pattern_to_regex(pattern: &str) -> Result<String> {
    let globby = pattern.contains(['*', '?', '[']);
    let regexy = pattern.contains(['^', '$', '(', ')', '+', '|', '\\', '{']) || pattern.contains(".*");
    if globby && !regexy {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| CliError::Usage(format!("bad pattern {pattern:?}: {e}")))?;
        Ok(glob.regex().trim_start_matches("(?-u)").to_string())
    } else {
        regex::Regex::new(pattern).map_err(|e| CliError::Usage(format!("bad pattern {pattern:?}: {e}")))?;
        Ok(pattern.to_string())
    }
}

/// One dataframe as ListFlights describes it.
pub struct Entry {
    pub bucket: Option<String>,
    pub name: String,
    pub rows: i64,
    pub bytes: i64,
    pub schema: Schema,
    meta: Value,
}

impl Entry {
    fn from_info(bucket: Option<String>, info: &FlightInfo) -> Result<Entry> {
        let name = info
            .flight_descriptor
            .as_ref()
            .and_then(|d| d.path.first())
            .cloned()
            .unwrap_or_default();
        let schema = info.clone().try_decode_schema().map_err(|e| CliError::Server {
            kind: "ProtocolError".into(),
            message: format!("unreadable schema of {name}: {e}"),
        })?;
        let meta = serde_json::from_slice(&info.app_metadata).unwrap_or(Value::Null);
        Ok(Entry { bucket, name, rows: info.total_records, bytes: info.total_bytes, schema, meta })
    }

    fn updated(&self) -> String {
        self.meta["timestamp_ms"]
            .as_i64()
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }

    fn to_json(&self) -> Value {
        let columns: Vec<Value> = self
            .schema
            .fields()
            .iter()
            .map(|f| json!({"name": f.name(), "type": f.data_type().to_string()}))
            .collect();
        json!({
            "bucket": self.bucket, "name": self.name, "rows": self.rows, "bytes": self.bytes,
            "columns": columns, "version": self.meta["version"], "updated": self.updated(),
        })
    }
}

/// The named buckets.
pub async fn buckets(client: &mut Client) -> Result<Vec<String>> {
    Ok(serde_json::from_value(client.action_json("buckets", json!({})).await?).unwrap_or_default())
}

/// The dataframes of these buckets (`None`: the default one) whose names
/// match `regex`.
pub async fn entries(client: &mut Client, buckets: &[Option<String>], regex: Option<&str>) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for bucket in buckets {
        for info in client.list(bucket.as_deref(), regex).await? {
            entries.push(Entry::from_info(bucket.clone(), &info)?);
        }
    }
    Ok(entries)
}

impl LsArgs {
    pub fn run(self) -> Result<()> {
        let regex = self.pattern.as_deref().map(pattern_to_regex).transpose()?;
        let entries = block_on(async {
            let mut client = self.connect.connect().await?;
            let buckets: Vec<Option<String>> = if self.all {
                std::iter::once(None).chain(buckets(&mut client).await?.into_iter().map(Some)).collect()
            } else {
                vec![self.bucket.clone()]
            };
            entries(&mut client, &buckets, regex.as_deref()).await
        })?;

        if self.format == ListFormat::Json {
            let list: Vec<Value> = entries.iter().map(Entry::to_json).collect();
            println!("{}", serde_json::to_string_pretty(&list).expect("json"));
            return Ok(());
        }
        let mut header = vec![];
        if self.all {
            header.push("bucket");
        }
        header.extend(["name", "rows", "size", "columns"]);
        if self.long {
            header.extend(["version", "updated", "schema"]);
        }
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                let mut row = vec![];
                if self.all {
                    row.push(e.bucket.clone().unwrap_or_else(|| "(default)".into()));
                }
                row.extend([e.name.clone(), e.rows.to_string(), human_bytes(e.bytes.max(0) as u64)]);
                row.push(e.schema.fields().len().to_string());
                if self.long {
                    row.push(e.meta["version"].to_string());
                    row.push(e.updated());
                    let cols: Vec<String> =
                        e.schema.fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect();
                    row.push(cols.join(", "));
                }
                row
            })
            .collect();
        print_rows(&header, &rows);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_to_regex;

    #[test]
    fn globs_and_regexes() {
        let glob = regex::Regex::new(&pattern_to_regex("sensor_*").unwrap()).unwrap();
        assert!(glob.is_match("sensor_1") && !glob.is_match("my_sensor_1"));
        let re = regex::Regex::new(&pattern_to_regex("^s.*\\d$").unwrap()).unwrap();
        assert!(re.is_match("s1") && !re.is_match("s"));
        assert_eq!(pattern_to_regex("temp").unwrap(), "temp");
        assert!(pattern_to_regex("(").is_err());
    }
}
