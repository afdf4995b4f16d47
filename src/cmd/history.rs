//! `shoots history NAME`: the versions of a dataframe.

use clap::Args;
use serde_json::{json, Value};

use super::block_on;
use super::ls::ListFormat;
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::output::print_rows;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Name of the dataframe
    pub name: String,
    /// Bucket it is in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Output format; json is for scripts
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl HistoryArgs {
    pub fn run(self) -> Result<()> {
        let body = json!({"name": self.name, "bucket": self.bucket});
        let versions = block_on(async { self.connect.connect().await?.action_json("history", body).await })?;
        if self.format == ListFormat::Json {
            println!("{}", serde_json::to_string_pretty(&versions).expect("json"));
            return Ok(());
        }
        let rows: Vec<Vec<String>> = versions
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v: &Value| {
                let time = v["timestamp_ms"]
                    .as_i64()
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                    .unwrap_or_default();
                vec![
                    v["version"].to_string(),
                    time,
                    v["operation"].as_str().unwrap_or_default().to_string(),
                    format!("+{}", v["rows_added"]),
                    v["rows"].to_string(),
                    v["files"].to_string(),
                ]
            })
            .collect();
        print_rows(&["version", "time (UTC)", "operation", "added", "rows", "files"], &rows);
        Ok(())
    }
}
