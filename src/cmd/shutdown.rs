//! `shoots shutdown`: ask the daemon to stop, and wait until it has.

use std::time::{Duration, Instant};

use clap::Args;

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};

/// How long to wait for the daemon to finish its in-flight calls and go.
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct ShutdownArgs {
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ShutdownArgs {
    pub fn run(self) -> Result<()> {
        block_on(async {
            let settings = self.connect.resolve()?;
            let mut client = settings.connect().await?;
            client.shutdown().await?;
            let address = client.address.clone();
            drop(client);
            // Gone means: no longer accepting connections.
            let started = Instant::now();
            while started.elapsed() < WAIT {
                if let Err(CliError::Connect(_)) = settings.connect().await {
                    summary(self.quiet, format!("shoots at {address} stopped"));
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(CliError::Local(format!(
                "shoots at {address} acknowledged the shutdown but still runs after {}s",
                WAIT.as_secs()
            )))
        })
    }
}
