//! `shoots import-legacy DIR`: load the dataframes of a directory written by
//! the Python original into the daemon, data and schema exactly.

use std::path::PathBuf;

use clap::Args;

use super::{block_on, summary};
use crate::client::upload::upload;
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::input::{self, CsvArgs, InputFormat};
use crate::legacy;
use crate::protocol::{PutCommand, PutMode};

#[derive(Debug, Args)]
pub struct ImportLegacyArgs {
    /// The original's bucket directory (NAME.parquet files, BUCKET/NAME.parquet below)
    pub dir: PathBuf,
    /// What to do with a dataframe that already exists
    #[arg(long, value_enum, default_value_t = PutMode::Error)]
    pub mode: PutMode,
    /// List what would be imported, import nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print no summary lines
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl ImportLegacyArgs {
    pub fn run(self) -> Result<()> {
        let frames =
            legacy::find(&self.dir).map_err(|e| CliError::Local(format!("cannot read {}: {e}", self.dir.display())))?;
        if frames.is_empty() {
            return Err(CliError::Local(format!(
                "no NAME.parquet or BUCKET/NAME.parquet files in {}",
                self.dir.display()
            )));
        }
        let label = |f: &legacy::LegacyFrame| match &f.bucket {
            Some(b) => format!("{b}/{}", f.name),
            None => f.name.clone(),
        };
        if self.dry_run {
            for frame in &frames {
                println!("{}\t{}", label(frame), frame.path.display());
            }
            return Ok(());
        }
        let failed = block_on(async {
            let mut client = self.connect.connect().await?;
            let mut failed = 0;
            for frame in &frames {
                let input = input::open(&frame.path, Some(InputFormat::Parquet), &CsvArgs::default(), |_| {})?;
                let command = PutCommand::new(&frame.name, self.mode, frame.bucket.as_deref());
                match upload(&mut client, &command, input).await {
                    Ok(reply) => summary(self.quiet, format!("imported {}: {} rows", label(frame), reply.rows)),
                    Err(e @ CliError::Connect(_)) => return Err(e),
                    Err(e) => {
                        eprintln!("{}: {}", label(frame), e.line());
                        failed += 1;
                    }
                }
            }
            Ok(failed)
        })?;
        match failed {
            0 => Ok(()),
            n => Err(CliError::Local(format!("{n} of {} dataframes were not imported", frames.len()))),
        }
    }
}
