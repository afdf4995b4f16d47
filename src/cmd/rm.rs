//! `shoots rm NAME...`: delete dataframes; `shoots rm NAME --where PRED`:
//! delete some of a dataframe's rows.

use clap::Args;

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::{CliError, Result};
use crate::protocol::ErrorKind;

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Dataframes to delete
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Bucket they are in [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Delete only the rows where this SQL predicate is true (one dataframe),
    /// e.g. "customer_id = 42" or "ts < '2024-01-01'"
    #[arg(long = "where", value_name = "PREDICATE")]
    pub predicate: Option<String>,
    /// No error for dataframes that do not exist
    #[arg(long, short)]
    pub force: bool,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl RmArgs {
    pub fn run(self) -> Result<()> {
        if self.predicate.is_some() && self.names.len() > 1 {
            return Err(CliError::Usage("--where deletes rows of one dataframe at a time".into()));
        }
        block_on(async {
            let mut client = self.connect.connect().await?;
            if let Some(predicate) = &self.predicate {
                let name = &self.names[0];
                let reply = client.delete_rows(name, self.bucket.as_deref(), predicate).await?;
                let rows = if reply.rows_deleted == 1 { "row" } else { "rows" };
                summary(
                    self.quiet,
                    format!("deleted {} {rows} of {name}, version {}", reply.rows_deleted, reply.version),
                );
                return Ok(());
            }
            for name in &self.names {
                match client.delete(name, self.bucket.as_deref()).await {
                    Ok(_) => summary(self.quiet, format!("deleted {name}")),
                    Err(e) if self.force && e.is(ErrorKind::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }
}
