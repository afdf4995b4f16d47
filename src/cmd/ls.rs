//! `shoots ls [PATTERN]`: list dataframes with rows, size and columns.

use clap::Args;

use super::block_on;
use crate::client::listing::{all_buckets, entries, Entry};
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::output::{human_bytes, print_json, print_rows, ListFormat};

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only names matching this glob (`sensor_*`) or regular expression (`^sensor_\d+$`)
    pub pattern: Option<String>,
    /// List this bucket [default: the default bucket]
    #[arg(long, short, conflicts_with = "all")]
    pub bucket: Option<String>,
    /// List every bucket
    #[arg(long, short)]
    pub all: bool,
    /// Also show version, last change, retention, the snapshots that pin it and column types
    #[arg(long, short)]
    pub long: bool,
    /// Output format; json is for scripts
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// A glob has `*`, `?` or `[` and no regex-only syntax; anything else is a
/// regular expression, matched anywhere in the name (as `re.search`).
pub fn pattern_to_regex(pattern: &str) -> Result<String> {
    let globby = pattern.contains(['*', '?', '[']);
    let regexy = pattern.contains(['^', '$', '(', ')', '+', '|', '\\', '{']) || pattern.contains(".*");
    if globby && !regexy {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(false)
            .build()
            .map_err(|e| CliError::Usage(format!("bad pattern {pattern:?}: {e}")))?;
        Ok(glob.regex().trim_start_matches("(?-u)").to_string())
    } else {
        regex::Regex::new(pattern).map_err(|e| CliError::Usage(format!("bad pattern {pattern:?}: {e}")))?;
        Ok(pattern.to_string())
    }
}

impl LsArgs {
    pub fn run(self) -> Result<()> {
        let regex = self.pattern.as_deref().map(pattern_to_regex).transpose()?;
        let entries = block_on(async {
            let mut client = self.connect.connect().await?;
            let buckets = if self.all { all_buckets(&mut client).await? } else { vec![self.bucket.clone()] };
            entries(&mut client, &buckets, regex.as_deref()).await
        })?;

        if self.format == ListFormat::Json {
            print_json(&entries.iter().map(Entry::to_json).collect::<Vec<_>>());
            return Ok(());
        }
        let mut header = vec![];
        if self.all {
            header.push("bucket");
        }
        header.extend(["name", "rows", "size", "columns"]);
        if self.long {
            header.extend(["version", "updated", "retention", "snapshots", "schema"]);
        }
        let rows: Vec<Vec<String>> = entries.iter().map(|e| self.row(e)).collect();
        print_rows(&header, &rows);
        Ok(())
    }

    fn row(&self, e: &Entry) -> Vec<String> {
        let mut row = vec![];
        if self.all {
            row.push(e.bucket.clone().unwrap_or_else(|| "(default)".into()));
        }
        row.extend([e.name.clone(), e.rows.to_string(), human_bytes(e.bytes.max(0) as u64)]);
        row.push(e.schema.fields().len().to_string());
        if self.long {
            row.push(e.version().map(|v| v.to_string()).unwrap_or_default());
            row.push(e.updated());
            let retention = e.meta.as_ref().and_then(|m| m.retention.as_ref());
            row.push(retention.map(super::retention::describe).unwrap_or_else(|| "-".into()));
            let pinned = e.meta.as_ref().map(|m| m.snapshots.join(", ")).filter(|s| !s.is_empty());
            row.push(pinned.unwrap_or_else(|| "-".into()));
            let cols: Vec<String> =
                e.schema.fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect();
            row.push(cols.join(", "));
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_to_regex;

    #[test]
    fn globs_and_regexes() {
        let glob = regex::Regex::new(&pattern_to_regex("sensor_*").unwrap()).unwrap();
        assert!(glob.is_match("sensor_1") && !glob.is_match("my_sensor_1"));
        let re = regex::Regex::new(&pattern_to_regex("^s.*\\d$").unwrap()).unwrap();
        assert!(re.is_match("s1") && !re.is_match("s"));
        assert_eq!(pattern_to_regex("temp").unwrap(), "temp");
        assert!(pattern_to_regex("(").is_err());
    }
}
