//! `shoots put NAME FILE`: import a file as a dataframe.

use std::path::PathBuf;

use clap::Args;

use super::{block_on, summary};
use crate::client::upload::upload;
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::input::{self, CsvArgs, InputFormat};
use crate::progress::Progress;
use crate::protocol::{ErrorKind, PutCommand, PutMode, SchemaPolicy, Ticket};

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Name of the dataframe
    pub name: String,
    /// File to import (CSV, TSV, Parquet, Arrow, NDJSON); `-` reads stdin
    pub file: PathBuf,
    /// Bucket to put it in (created if needed) [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// What to do when the dataframe exists
    #[arg(long, value_enum, default_value_t = PutMode::Error)]
    pub mode: PutMode,
    /// With --mode upsert: a column that identifies a row (repeat for a
    /// key of several columns)
    #[arg(long = "key", value_name = "COLUMN")]
    pub keys: Vec<String>,
    /// With --mode append or upsert: merge lets the data add columns (older
    /// rows read null), leave some out (null) and widen types
    #[arg(long, value_enum, default_value_t = SchemaPolicy::Exact)]
    pub schema: SchemaPolicy,
    /// Input format [default: from the file's extension]
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    #[command(flatten)]
    pub csv: CsvArgs,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl PutArgs {
    pub fn run(self) -> Result<()> {
        let size = std::fs::metadata(&self.file).ok().filter(|m| m.is_file()).map(|m| m.len());
        let progress = Progress::bytes(size, &format!("put {}", self.name), self.quiet);
        let counter = progress.clone();
        // Local problems (missing file, unknown format) show before any connection.
        let input = input::open(&self.file, self.format, &self.csv, move |n| counter.set(n))?;
        if self.mode == PutMode::Upsert && self.keys.is_empty() {
            return Err(CliError::Usage("--mode upsert needs --key COLUMN (repeat for several)".into()));
        }
        if self.mode != PutMode::Upsert && !self.keys.is_empty() {
            return Err(CliError::Usage("--key is for --mode upsert".into()));
        }
        let command = PutCommand {
            keys: (!self.keys.is_empty()).then(|| self.keys.clone()),
            schema: (self.schema == SchemaPolicy::Merge).then_some(SchemaPolicy::Merge),
            ..PutCommand::new(&self.name, self.mode, self.bucket.as_deref())
        };
        let reply = block_on(async {
            let mut client = self.connect.connect().await?;
            // An append's columns take the dataframe's types (CSV inference
            // may have guessed narrower ones); a merge keeps the data's.
            let adds_rows = matches!(self.mode, PutMode::Append | PutMode::Upsert);
            let input = match adds_rows && self.schema == SchemaPolicy::Exact {
                true => match client.schema(&Ticket::frame(&self.name, self.bucket.as_deref())).await {
                    Ok(existing) => input.cast_to(std::sync::Arc::new(existing)),
                    Err(e) if e.is(ErrorKind::NotFound) => input,
                    Err(e) => return Err(e),
                },
                false => input,
            };
            upload(&mut client, &command, input).await
        });
        progress.finish();
        let reply = reply?;
        let bucket = self.bucket.as_deref().map(|b| format!(" in bucket {b}")).unwrap_or_default();
        summary(self.quiet, format!("put {}{bucket}: {} rows, version {}", self.name, reply.rows, reply.version));
        Ok(())
    }
}
