//! `shoots compact NAME`: rewrite a dataframe's small files into few, then
//! vacuum versions beyond the daemon's retention.

use clap::Args;
use serde_json::json;

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Name of the dataframe
    pub name: String,
    /// Bucket it is in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl CompactArgs {
    pub fn run(self) -> Result<()> {
        let body = json!({"name": self.name, "bucket": self.bucket});
        let r = block_on(async { self.connect.connect().await?.action_json("compact", body).await })?;
        let done = match r["version"].as_u64() {
            Some(v) => format!("{} files -> {} (version {v})", r["files_before"], r["files_after"]),
            None => format!("{} files, nothing to compact", r["files_before"]),
        };
        summary(
            self.quiet,
            format!("compact {}: {done}; vacuum removed {} versions, {} files", self.name, r["versions_removed"], r["files_deleted"]),
        );
        Ok(())
    }
}
