//! `shoots token create`: mint a token for a daemon started with `--secret`.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::daemon::auth::{mint, Role};
use crate::daemon::Secret;
use crate::error::{CliError, Result};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token (an HS256 JWT) on stdout
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The daemon's secret
    #[arg(long, env = "SHOOTS_SECRET", hide_env_values = true)]
    pub secret: Secret,
    /// read: get, list, query; write: also put, delete, resample; admin: also delete buckets, shutdown
    #[arg(long, value_enum)]
    pub role: Role,
    /// Limit the token to this bucket (repeat for several; "" is the default bucket)
    #[arg(long = "bucket", value_name = "BUCKET")]
    pub buckets: Vec<String>,
    /// Lifetime, e.g. 3600s, 90m, 12h, 30d, 52w [default: no expiry]
    #[arg(long, value_parser = parse_duration)]
    pub expires: Option<Duration>,
}

pub use crate::protocol::parse_duration;

impl TokenArgs {
    pub fn run(self) -> Result<()> {
        let TokenCommand::Create(args) = self.command;
        let token =
            mint(&args.secret.0, args.role, &args.buckets, args.expires).map_err(|e| CliError::Usage(e.to_string()))?;
        println!("{token}");
        Ok(())
    }
}
