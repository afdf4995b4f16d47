//! `shoots vacuum NAME`: delete versions beyond the retention, the data
//! files only they used, and files crashed puts left behind.

use clap::Args;

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Name of the dataframe
    pub name: String,
    /// Bucket it is in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Versions to keep [default: the daemon's --retain-versions]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub retain: Option<u64>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl VacuumArgs {
    pub fn run(self) -> Result<()> {
        let (bucket, retain) = (self.bucket.as_deref(), self.retain.map(|n| n as usize));
        let r = block_on(async { self.connect.connect().await?.vacuum(&self.name, bucket, retain).await })?;
        summary(self.quiet, format!("vacuum {}: {}", self.name, super::vacuumed(&r)));
        Ok(())
    }
}
