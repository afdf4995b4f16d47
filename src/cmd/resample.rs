//! `shoots resample SOURCE TARGET`: a downsampled time series or a query's
//! result, written on the server without a round trip.

use clap::{ArgGroup, Args};
use serde_json::json;

use super::put::PutMode;
use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how").required(true).args(["sql", "rule"])))]
pub struct ResampleArgs {
    /// Dataframe to read
    pub source: String,
    /// Dataframe to write
    pub target: String,
    /// Write the result of this query over SOURCE
    #[arg(long, conflicts_with_all = ["rule", "time_col", "agg"])]
    pub sql: Option<String>,
    /// pandas offset alias: 500ms, 10s, 1min, 1h, 1D, 250us, 100ns
    #[arg(long, requires_all = ["time_col", "agg"])]
    pub rule: Option<String>,
    /// Timestamp column to bin
    #[arg(long)]
    pub time_col: Option<String>,
    /// mean, sum, min, max, count, first, last, median, std or var
    #[arg(long)]
    pub agg: Option<String>,
    /// What to do when TARGET exists
    #[arg(long, value_enum, default_value_t = PutMode::Append)]
    pub mode: PutMode,
    #[arg(long)]
    pub source_bucket: Option<String>,
    #[arg(long)]
    pub target_bucket: Option<String>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ResampleArgs {
    pub fn run(self) -> Result<()> {
        let mut body = json!({
            "source": self.source,
            "target": self.target,
            "mode": self.mode.as_str(),
            "source_bucket": self.source_bucket,
            "target_bucket": self.target_bucket,
        });
        match &self.sql {
            Some(sql) => body["sql"] = json!(sql),
            None => {
                body["rule"] = json!(self.rule);
                body["time_col"] = json!(self.time_col);
                body["aggregation_func"] = json!(self.agg);
            }
        }
        let reply = block_on(async { self.connect.connect().await?.action_json("resample", body).await })?;
        summary(
            self.quiet,
            format!(
                "resample {} -> {}: {} rows read, {} rows written",
                self.source, self.target, reply["source_rows"], reply["target_rows"]
            ),
        );
        if let Some(message) = reply["message"].as_str() {
            summary(self.quiet, format!("note: {message}"));
        }
        Ok(())
    }
}
