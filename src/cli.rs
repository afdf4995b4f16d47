//! The command line: one binary, subcommands in `cmd/`.

use clap::{CommandFactory, Parser, Subcommand};

use crate::cmd;
use crate::error::{exit_codes_help, Result};

#[derive(Debug, Parser)]
#[command(
    name = "shoots",
    version,
    about = "A dataframe storage server and its client: Arrow Flight, versioned Parquet, SQL",
    after_help = exit_codes_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (an Arrow Flight server)
    Serve(cmd::serve::ServeArgs),
    /// Import a CSV, TSV, Parquet, Arrow or NDJSON file as a dataframe
    Put(cmd::put::PutArgs),
    /// Export a dataframe (or a query over it) as a table, CSV, JSON, Parquet or Arrow
    Get(cmd::get::GetArgs),
    /// Run SQL across every dataframe of every bucket
    Sql(cmd::sql::SqlArgs),
    /// Write a resampled time series or a query's result as a dataframe, on the server
    Resample(cmd::resample::ResampleArgs),
    /// List dataframes with their rows, size and columns
    Ls(cmd::ls::LsArgs),
    /// Delete dataframes, or the rows of one where a predicate holds (--where)
    Rm(cmd::rm::RmArgs),
    /// Keep only a dataframe's (or a bucket's) rows newer than a duration
    Retention(cmd::retention::RetentionArgs),
    /// List buckets, or delete one (`buckets rm NAME`)
    Buckets(cmd::buckets::BucketsArgs),
    /// Check that the daemon answers
    Ping(cmd::ping::PingArgs),
    /// Stop the daemon gracefully and wait until it is gone
    Shutdown(cmd::shutdown::ShutdownArgs),
    /// The versions of a dataframe
    History(cmd::history::HistoryArgs),
    /// The rows added, removed (and with keys changed) between two versions of a dataframe
    Diff(cmd::diff::DiffArgs),
    /// Pin the versions of a bucket's dataframes under a name; list or remove such snapshots
    Snapshot(cmd::snapshot::SnapshotArgs),
    /// Rewrite a dataframe's small files into few, then vacuum
    Compact(cmd::compact::CompactArgs),
    /// Delete versions beyond the retention, the files only they used, and files of crashed puts
    Vacuum(cmd::vacuum::VacuumArgs),
    /// Import a directory written by the Python original (NAME.parquet, BUCKET/NAME.parquet)
    ImportLegacy(cmd::import_legacy::ImportLegacyArgs),
    /// Mint tokens for a daemon started with --secret
    Token(cmd::token::TokenArgs),
    /// Print a shell completion script
    Completions(cmd::completions::CompletionsArgs),
    /// Write completions/ and man/ (kept in the repository)
    #[command(hide = true)]
    GenerateFiles(cmd::completions::GenerateFilesArgs),
}

impl Cli {
    pub fn run(self) -> Result<()> {
        match self.command {
            Command::Serve(args) => args.run(),
            Command::Put(args) => args.run(),
            Command::Get(args) => args.run(),
            Command::Sql(args) => args.run(),
            Command::Resample(args) => args.run(),
            Command::Ls(args) => args.run(),
            Command::Rm(args) => args.run(),
            Command::Retention(args) => args.run(),
            Command::Buckets(args) => args.run(),
            Command::Ping(args) => args.run(),
            Command::Shutdown(args) => args.run(),
            Command::History(args) => args.run(),
            Command::Diff(args) => args.run(),
            Command::Snapshot(args) => args.run(),
            Command::Compact(args) => args.run(),
            Command::Vacuum(args) => args.run(),
            Command::ImportLegacy(args) => args.run(),
            Command::Token(args) => args.run(),
            Command::Completions(args) => args.run(Cli::command()),
            Command::GenerateFiles(args) => args.run(Cli::command()),
        }
    }
}
