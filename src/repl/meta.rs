//! Backslash commands of the REPL.

use std::path::PathBuf;
use std::str::FromStr;

use crate::output::OutputFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaCommand {
    /// `\d`: list dataframes; `\d NAME` (or `bucket.name`): describe one.
    Describe(Option<String>),
    /// `\b`: list buckets.
    Buckets,
    /// `\use BUCKET`: whose dataframes are bare names; `\use` alone: the default bucket.
    Use(Option<String>),
    /// `\format table|csv|tsv|json|ndjson`.
    Format(OutputFormat),
    /// `\timing`: show or hide the time each statement took.
    Timing,
    /// `\o FILE`: write the next result to FILE.
    Output(PathBuf),
    /// `\?`
    Help,
    /// `\q`
    Quit,
}

pub const HELP: &str = "\
Statements end with ';' and may span lines. Ctrl-C cancels a running query
or clears the line; Ctrl-D or \\q leaves.
  \\d            list dataframes of every bucket
  \\d NAME       describe a dataframe (NAME or bucket.name)
  \\b            list buckets
  \\use BUCKET   make BUCKET's dataframes the bare names (\\use alone: the default bucket)
  \\format F     print results as table, csv, tsv, json or ndjson
  \\timing       show or hide the time taken
  \\o FILE       write the next result to FILE (format from its extension)
  \\?            this help
  \\q            quit";

/// Names the command line can complete.
pub const NAMES: &[&str] = &["\\d", "\\b", "\\use", "\\format", "\\timing", "\\o", "\\?", "\\q"];

impl FromStr for MetaCommand {
    type Err = String;

    fn from_str(line: &str) -> Result<MetaCommand, String> {
        let line = line.trim().trim_end_matches(';').trim();
        let (command, arg) = match line.split_once(char::is_whitespace) {
            Some((c, rest)) => (c, Some(rest.trim()).filter(|a| !a.is_empty())),
            None => (line, None),
        };
        let no_arg = |cmd: MetaCommand| match arg {
            None => Ok(cmd),
            Some(a) => Err(format!("{command} takes no argument, got {a:?}")),
        };
        match command {
            "\\d" => Ok(MetaCommand::Describe(arg.map(String::from))),
            "\\b" => no_arg(MetaCommand::Buckets),
            "\\use" => Ok(MetaCommand::Use(arg.map(String::from))),
            "\\format" => match arg {
                Some("table") => Ok(MetaCommand::Format(OutputFormat::Table)),
                Some("csv") => Ok(MetaCommand::Format(OutputFormat::Csv)),
                Some("tsv") => Ok(MetaCommand::Format(OutputFormat::Tsv)),
                Some("json") => Ok(MetaCommand::Format(OutputFormat::Json)),
                Some("ndjson") => Ok(MetaCommand::Format(OutputFormat::Ndjson)),
                _ => Err("\\format takes table, csv, tsv, json or ndjson".into()),
            },
            "\\timing" => no_arg(MetaCommand::Timing),
            "\\o" => arg.map(|a| MetaCommand::Output(PathBuf::from(a))).ok_or_else(|| "\\o takes a file name".into()),
            "\\?" | "\\h" | "\\help" => no_arg(MetaCommand::Help),
            "\\q" | "\\quit" => no_arg(MetaCommand::Quit),
            other => Err(format!("unknown command {other}; \\? lists them")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let parse = |s: &str| s.parse::<MetaCommand>();
        assert_eq!(parse("\\d"), Ok(MetaCommand::Describe(None)));
        assert_eq!(parse("\\d  lab.sensors "), Ok(MetaCommand::Describe(Some("lab.sensors".into()))));
        assert_eq!(parse("\\b"), Ok(MetaCommand::Buckets));
        assert_eq!(parse("\\use lab"), Ok(MetaCommand::Use(Some("lab".into()))));
        assert_eq!(parse("\\use"), Ok(MetaCommand::Use(None)));
        assert_eq!(parse("\\format csv"), Ok(MetaCommand::Format(OutputFormat::Csv)));
        assert_eq!(parse("\\timing"), Ok(MetaCommand::Timing));
        assert_eq!(parse("\\o out.parquet"), Ok(MetaCommand::Output("out.parquet".into())));
        assert_eq!(parse("\\?"), Ok(MetaCommand::Help));
        assert_eq!(parse("\\q;"), Ok(MetaCommand::Quit));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for bad in ["\\x", "\\format parquet", "\\format", "\\o", "\\q now", "\\b x"] {
            assert!(bad.parse::<MetaCommand>().is_err(), "{bad}");
        }
    }
}
