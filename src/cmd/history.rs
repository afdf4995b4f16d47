//! `shoots history NAME`: the versions of a dataframe.

use clap::Args;

use super::block_on;
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::output::{print_json, print_rows, ListFormat};

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
        let bucket = self.bucket.as_deref();
        let versions = block_on(async { self.connect.connect().await?.history(&self.name, bucket).await })?;
        if self.format == ListFormat::Json {
            print_json(&versions);
            return Ok(());
        }
        let rows: Vec<Vec<String>> = versions
            .iter()
            .map(|v| {
                let time = chrono::DateTime::from_timestamp_millis(v.timestamp_ms)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                    .unwrap_or_default();
                vec![
                    v.version.to_string(),
                    time,
                    v.operation.clone(),
                    changed(v),
                    v.rows.to_string(),
                    v.files.to_string(),
                ]
            })
            .collect();
        print_rows(&["version", "time (UTC)", "operation", "changed", "rows", "files"], &rows);
        Ok(())
    }
}

/// `+10`, `+2 ~5` (upserted), `-40` (deleted).
fn changed(v: &crate::protocol::VersionInfo) -> String {
    let mut parts = vec![format!("+{}", v.rows_added)];
    if v.rows_updated > 0 {
        parts.push(format!("~{}", v.rows_updated));
    }
    if v.rows_deleted > 0 {
        parts = vec![format!("-{}", v.rows_deleted)];
    }
    parts.join(" ")
}
