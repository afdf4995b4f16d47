//! `shoots put NAME FILE`: import a file as a dataframe.

use std::path::PathBuf;

use arrow_flight::error::FlightError;
use clap::{Args, ValueEnum};
use futures::StreamExt;
use serde_json::json;

use super::{block_on, summary};
use crate::client::{Client, ConnectArgs};
use crate::error::{CliError, Result};
use crate::input::{self, CsvArgs, Input, InputFormat};
use crate::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PutMode {
    /// Refuse if the dataframe exists
    Error,
    /// Add the rows to the dataframe (same columns and types)
    Append,
    /// Replace the dataframe with the file
    Replace,
}

impl PutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PutMode::Error => "error",
            PutMode::Append => "append",
            PutMode::Replace => "replace",
        }
    }
}

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
    fn descriptor(&self) -> arrow_flight::FlightDescriptor {
        let ticket = json!({"name": self.name, "bucket": self.bucket});
        arrow_flight::FlightDescriptor::new_cmd(ticket.to_string())
    }

    pub fn run(self) -> Result<()> {
        let size = std::fs::metadata(&self.file).ok().filter(|m| m.is_file()).map(|m| m.len());
        let progress = Progress::bytes(size, &format!("put {}", self.name), self.quiet);
        let counter = progress.clone();
        // Local problems (missing file, unknown format) show before any connection.
        let input = input::open(&self.file, self.format, &self.csv, move |n| counter.set(n))?;
        let command = json!({"name": self.name, "mode": self.mode.as_str(), "bucket": self.bucket});
        let reply = block_on(async {
            let mut client = self.connect.connect().await?;
            let input = match self.mode {
                PutMode::Append => match client.get_schema(self.descriptor()).await {
                    Ok(existing) => input.cast_to(std::sync::Arc::new(existing)),
                    Err(CliError::Server { kind, .. }) if kind == "FileNotFoundError" => input,
                    Err(e) => return Err(e),
                },
                _ => input,
            };
            upload(&mut client, command, input).await
        });
        progress.finish();
        let reply = reply?;
        let rows = reply["rows"].as_u64().ok_or_else(|| CliError::Server {
            kind: "ProtocolError".into(),
            message: "the server did not report what it stored".into(),
        })?;
        let bucket = self.bucket.as_deref().map(|b| format!(" in bucket {b}")).unwrap_or_default();
        summary(self.quiet, format!("put {}{bucket}: {rows} rows, version {}", self.name, reply["version"]));
        Ok(())
    }
}

/// Streams an input to the server as one DoPut. Reading and parsing run on
/// their own thread; a bounded channel keeps only a few batches in memory
/// whatever the file's size.
pub async fn upload(client: &mut Client, command: serde_json::Value, input: Input) -> Result<serde_json::Value> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut batches = input.batches;
    let reader = std::thread::spawn(move || {
        for batch in batches.by_ref() {
            let failed = batch.is_err();
            if tx.blocking_send(batch).is_err() || failed {
                break;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|b| b.map_err(FlightError::Arrow));
    let reply = client.put(command, input.schema, stream).await;
    let _ = reader.join();
    reply
}
