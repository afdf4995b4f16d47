//! `shoots retention NAME --time-col C --keep 30d`: keep only recent rows.

use clap::Args;

use super::{block_on, summary};
use crate::client::listing::entries;
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::protocol::{Retention, SetRetentionRequest};

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// The dataframe [default: every dataframe of --bucket that has the
    /// column and no retention of its own]
    pub name: Option<String>,
    /// Its bucket [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// The timestamp or date column rows are aged by
    #[arg(long, requires = "keep", conflicts_with = "off")]
    pub time_col: Option<String>,
    /// How long rows are kept, e.g. 30d, 12h, 2w; the daemon drops older
    /// ones in the background (every --retention-every)
    #[arg(long, requires = "time_col", value_parser = crate::protocol::parse_duration)]
    pub keep: Option<std::time::Duration>,
    /// Remove the retention: keep every row
    #[arg(long)]
    pub off: bool,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl RetentionArgs {
    pub fn run(self) -> Result<()> {
        let retention = match (&self.time_col, self.keep) {
            (Some(time_col), Some(keep)) => Some(Retention {
                time_col: time_col.clone(),
                keep: crate::protocol::format_duration(keep.as_secs()),
                from_bucket: false,
            }),
            _ if self.off => None,
            _ => return self.show(),
        };
        let request = SetRetentionRequest { name: self.name.clone(), bucket: self.bucket.clone(), retention };
        let reply = block_on(async { self.connect.connect().await?.set_retention(&request).await })?;
        summary(self.quiet, reply.message);
        Ok(())
    }

    /// Without --keep or --off: what applies to the dataframe now.
    fn show(&self) -> Result<()> {
        let Some(name) = &self.name else {
            return Err(CliError::Usage(
                "give --time-col and --keep, or --off (or a NAME to see its retention)".into(),
            ));
        };
        let pattern = format!("^{}$", regex::escape(name));
        let listed = block_on(async {
            let mut client = self.connect.connect().await?;
            entries(&mut client, std::slice::from_ref(&self.bucket), Some(&pattern)).await
        })?;
        let entry = listed.first().ok_or_else(|| CliError::Usage(format!("no dataframe {name}")))?;
        match entry.meta.as_ref().and_then(|m| m.retention.as_ref()) {
            Some(r) => println!("{}", describe(r)),
            None => println!("none: every row is kept"),
        }
        Ok(())
    }
}

/// `30d by ts` (and where it comes from).
pub fn describe(r: &Retention) -> String {
    let from = if r.from_bucket { " (the bucket's)" } else { "" };
    format!("{} by {}{from}", r.keep, r.time_col)
}
