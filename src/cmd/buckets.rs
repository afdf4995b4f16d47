//! `shoots buckets` lists buckets; `shoots buckets rm NAME` deletes one.

use clap::{Args, Subcommand};

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::protocol::BucketDeleteMode;

#[derive(Debug, Args)]
pub struct BucketsArgs {
    #[command(subcommand)]
    pub action: Option<BucketsAction>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Subcommand)]
pub enum BucketsAction {
    /// Delete a bucket (refused while it holds dataframes, unless --force)
    Rm(BucketsRmArgs),
}

#[derive(Debug, Args)]
pub struct BucketsRmArgs {
    /// Bucket to delete
    pub name: String,
    /// Delete its dataframes too
    #[arg(long, short)]
    pub force: bool,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl BucketsArgs {
    pub fn run(self) -> Result<()> {
        match self.action {
            None => block_on(async {
                let mut client = self.connect.connect().await?;
                for bucket in client.buckets().await? {
                    println!("{bucket}");
                }
                Ok(())
            }),
            Some(BucketsAction::Rm(args)) => block_on(async {
                let mut client = args.connect.connect().await?;
                let mode = if args.force { BucketDeleteMode::Delete } else { BucketDeleteMode::Error };
                client.delete_bucket(&args.name, mode).await?;
                summary(args.quiet, format!("deleted bucket {}", args.name));
                Ok(())
            }),
        }
    }
}
