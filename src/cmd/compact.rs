//! `shoots compact NAME`: rewrite a dataframe's small files into few, then
//! vacuum versions beyond the daemon's retention.

use clap::Args;

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
        let bucket = self.bucket.as_deref();
        let r = block_on(async { self.connect.connect().await?.compact(&self.name, bucket).await })?;
        let done = match r.version {
            Some(v) => format!("{} files -> {} (version {v})", r.files_before, r.files_after),
            None => format!("{} files, nothing to compact", r.files_before),
        };
        summary(self.quiet, format!("compact {}: {done}; vacuum {}", self.name, super::vacuumed(&r.vacuum)));
        Ok(())
    }
}
