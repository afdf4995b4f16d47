//! `shoots sql [QUERY]`: SQL across every dataframe. The default bucket's
//! dataframes are tables by bare name, a bucket's as `bucket.name`
//! (`--bucket` makes that bucket's the bare names). With no query on a
//! terminal it opens the REPL; statements piped into stdin run in turn.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::block_on;
use super::get::export;
use crate::client::{Client, ConnectArgs};
use crate::error::{CliError, Result};
use crate::output::{Destination, OutputFormat};
use crate::progress::Progress;

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

/// Splits a script into statements with DataFusion's own parser, so `;`
/// inside strings and comments is no boundary. Text it cannot parse goes to
/// the server whole, which reports the error the same way as for one query.
pub fn statements(script: &str) -> Vec<String> {
    match datafusion::sql::parser::DFParser::parse_sql(script) {
        Ok(parsed) if parsed.len() > 1 => parsed.iter().map(|s| s.to_string()).collect(),
        _ if script.trim().trim_end_matches(';').trim().is_empty() => Vec::new(),
        _ => vec![script.trim().trim_end_matches(';').to_string()],
    }
}

/// Runs one statement and prints its result through the shared output module.
pub async fn run_statement(
    client: &mut Client,
    sql: &str,
    bucket: Option<&str>,
    format: OutputFormat,
    destination: Destination,
) -> Result<usize> {
    let stream = client.do_get(json!({"sql": sql, "bucket": bucket})).await?;
    export(stream, format, destination, &Progress::rows("sql", true)).await
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

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn splits_on_semicolons_outside_strings() {
        assert_eq!(statements("select 1"), ["select 1"]);
        assert_eq!(statements("select 1;\n"), ["select 1"]);
        assert_eq!(statements("select 'a;b'; select 2;").len(), 2);
        assert!(statements(" ; ").is_empty());
        // Unparseable text is sent as it is, for the server's error message.
        assert_eq!(statements("selec 1; select 2"), ["selec 1; select 2"]);
    }
}
