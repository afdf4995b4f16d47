//! `shoots sql [QUERY]`: SQL across every dataframe. The default bucket's
//! dataframes are tables by bare name, a bucket's as `bucket.name`
//! (`--bucket` makes that bucket's the bare names). With no query on a
//! terminal it opens the REPL; statements piped into stdin run in turn.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;

use super::block_on;
use crate::client::sql::{run_statement, statements};
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::output::{Destination, OutputFormat};

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query; several statements may be separated by `;`
    #[arg(conflicts_with = "file")]
    pub query: Option<String>,
    /// Read the statements from FILE (`-` for stdin)
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Bucket whose dataframes are tables by bare name [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Output format [default: from -o's extension; a table on a terminal, CSV in a pipe]
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write the result to FILE (format from its extension) instead of stdout
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl SqlArgs {
    pub fn run(self) -> Result<()> {
        let script = match (&self.query, &self.file) {
            (Some(query), _) => query.clone(),
            (None, Some(path)) if path.as_os_str() == "-" => read_stdin()?,
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| CliError::Local(format!("cannot read {}: {e}", path.display())))?,
            (None, None) if !std::io::stdin().is_terminal() => read_stdin()?,
            (None, None) => return crate::repl::run(&self.connect, self.bucket.clone(), self.format),
        };
        let statements = statements(&script);
        if statements.is_empty() {
            return Err(CliError::Usage("no SQL statement given".into()));
        }
        if statements.len() > 1 && self.output.is_some() {
            return Err(CliError::Usage(format!("-o takes the result of one statement; got {}", statements.len())));
        }
        let format = OutputFormat::choose(self.format, self.output.as_deref())?;
        block_on(async {
            let mut client = self.connect.connect().await?;
            for sql in &statements {
                let destination = Destination::new(self.output.as_deref());
                run_statement(&mut client, sql, self.bucket.as_deref(), format, destination).await?;
            }
            Ok(())
        })
    }
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::Local(format!("cannot read stdin: {e}")))?;
    Ok(text)
}
