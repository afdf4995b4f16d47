//! The command line: one binary, subcommands in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::error::Result;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the server refused or failed (not found, exists, bad SQL), or a local file problem
  2  usage error
  3  cannot reach the server";

#[derive(Debug, Parser)]
#[command(name = "shoots", version, about = "A dataframe storage server and its client: Arrow Flight, versioned Parquet, SQL", after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (Arrow Flight server)
    Serve(cmd::serve::ServeArgs),
}

impl Cli {
    pub fn run(self) -> Result<()> {
        match self.command {
            Command::Serve(args) => args.run(),
        }
    }
}
