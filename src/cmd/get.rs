//! `shoots get NAME`: export a dataframe, a query over it, or an older version.

use std::path::PathBuf;

use clap::Args;

use super::{block_on, summary};
use crate::client::export::export;
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::output::{Destination, OutputFormat};
use crate::progress::Progress;
use crate::protocol::Ticket;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Name of the dataframe
    pub name: String,
    /// Bucket it is in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// SQL to run first; the dataframe (and every other one of its bucket) is a table
    #[arg(long)]
    pub sql: Option<String>,
    /// Read this older version (see `shoots history`)
    #[arg(long, conflicts_with = "sql")]
    pub version: Option<u64>,
    /// Read the version this named snapshot of the bucket pins (see `shoots snapshot`)
    #[arg(long, conflicts_with_all = ["sql", "version"])]
    pub snapshot: Option<String>,
    /// Write to FILE (format from its extension) instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Output format [default: from -o's extension; a table on a terminal, CSV in a pipe]
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl GetArgs {
    pub fn run(self) -> Result<()> {
        let format = OutputFormat::choose(self.format, self.output.as_deref())?;
        let ticket = Ticket {
            sql: self.sql.clone(),
            version: self.version,
            snapshot: self.snapshot.clone(),
            ..Ticket::frame(&self.name, self.bucket.as_deref())
        };
        let progress = Progress::rows(&format!("get {}", self.name), self.quiet || format == OutputFormat::Table);
        let rows = block_on(async {
            let mut client = self.connect.connect().await?;
            let stream = client.do_get(&ticket).await?;
            export(stream, format, Destination::new(self.output.as_deref()), &progress).await
        });
        progress.finish();
        let rows = rows?;
        if let Some(path) = &self.output {
            summary(self.quiet, format!("wrote {rows} rows to {}", path.display()));
        }
        Ok(())
    }
}
