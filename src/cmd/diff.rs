//! `shoots diff NAME V1 V2 [--key COL ...]`: the rows that differ between
//! two versions of a dataframe, streamed.

use std::path::PathBuf;

use clap::Args;

use super::{block_on, summary};
use crate::client::export::export;
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::output::{Destination, OutputFormat};
use crate::progress::Progress;
use crate::protocol::{DiffSpec, Ticket, DIFF_FILES, DIFF_FILES_READ};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Name of the dataframe
    pub name: String,
    /// The older version (see `shoots history`)
    pub from: u64,
    /// The newer version
    pub to: u64,
    /// Columns that identify a row: rows whose keys match are `changed`, with the columns that changed
    #[arg(long = "key", short, value_name = "COL")]
    pub keys: Vec<String>,
    /// Bucket it is in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
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

impl DiffArgs {
    pub fn run(self) -> Result<()> {
        let format = OutputFormat::choose(self.format, self.output.as_deref())?;
        let ticket = Ticket {
            diff: Some(DiffSpec { from: self.from, to: self.to, keys: self.keys.clone() }),
            ..Ticket::frame(&self.name, self.bucket.as_deref())
        };
        let progress = Progress::rows(&format!("diff {}", self.name), self.quiet || format == OutputFormat::Table);
        let done = block_on(async {
            let mut client = self.connect.connect().await?;
            let schema = client.schema(&ticket).await?;
            let files = |key| schema.metadata().get(key).cloned().unwrap_or_else(|| "?".into());
            let read = format!("{} of {} file entries", files(DIFF_FILES_READ), files(DIFF_FILES));
            let stream = client.do_get(&ticket).await?;
            let rows = export(stream, format, Destination::new(self.output.as_deref()), &progress).await?;
            Ok::<_, CliError>((rows, read))
        });
        progress.finish();
        let (rows, read) = done?;
        let (from, to) = (self.from, self.to);
        summary(self.quiet, format!("{rows} rows differ from version {from} to {to} ({read} read)"));
        Ok(())
    }
}
