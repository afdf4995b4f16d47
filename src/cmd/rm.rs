//! `shoots rm NAME...`: delete dataframes.

use clap::Args;

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::protocol::ErrorKind;

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Dataframes to delete
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Bucket they are in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// No error for dataframes that do not exist
    #[arg(long, short)]
    pub force: bool,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl RmArgs {
    pub fn run(self) -> Result<()> {
        block_on(async {
            let mut client = self.connect.connect().await?;
            for name in &self.names {
                match client.delete(name, self.bucket.as_deref()).await {
                    Ok(_) => summary(self.quiet, format!("deleted {name}")),
                    Err(e) if self.force && e.is(ErrorKind::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }
}
