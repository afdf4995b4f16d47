//! `shoots resample SOURCE TARGET`: a downsampled time series or a query's
//! result, written on the server without a round trip.

use clap::{ArgGroup, Args};

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::protocol::{PutMode, ResampleRequest};

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
        let request = ResampleRequest {
            source: self.source.clone(),
            target: self.target.clone(),
            mode: Some(self.mode),
            source_bucket: self.source_bucket.clone(),
            target_bucket: self.target_bucket.clone(),
            sql: self.sql.clone(),
            rule: self.rule.clone(),
            time_col: self.time_col.clone(),
            aggregation_func: self.agg.clone(),
        };
        let reply = block_on(async { self.connect.connect().await?.resample(&request).await })?;
        let (read, written) = (reply.source_rows, reply.target_rows);
        summary(
            self.quiet,
            format!("resample {} -> {}: {read} rows read, {written} rows written", self.source, self.target),
        );
        if let Some(message) = &reply.message {
            summary(self.quiet, format!("note: {message}"));
        }
        Ok(())
    }
}
