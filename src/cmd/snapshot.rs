//! `shoots snapshot create|ls|rm`: named snapshots, the versions of a
//! bucket's dataframes pinned under one name.

use clap::{Args, Subcommand};

use super::{block_on, summary};
use crate::client::ConnectArgs;
use crate::error::Result;
use crate::output::{human_bytes, print_json, print_rows, ListFormat};
use crate::protocol::{ActionKind, SnapshotInfo, SnapshotRequest};

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub command: SnapshotCommand,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Pin the current version of every dataframe of a bucket (or of the ones named)
    Create(CreateArgs),
    /// List a bucket's snapshots
    Ls(LsArgs),
    /// Remove a snapshot; what only it kept goes after the daemon's --vacuum-grace
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the snapshot
    pub name: String,
    /// Only these dataframes [default: all of the bucket's]
    pub dataframes: Vec<String>,
    /// The bucket [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// The bucket [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Output format; json is for scripts
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Name of the snapshot
    pub name: String,
    /// The bucket [default: the default bucket]
    #[arg(long, short)]
    pub bucket: Option<String>,
    /// Print no summary line
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl SnapshotArgs {
    pub fn run(self) -> Result<()> {
        match self.command {
            SnapshotCommand::Create(args) => {
                let request = SnapshotRequest {
                    name: Some(args.name.clone()),
                    bucket: args.bucket.clone(),
                    dataframes: (!args.dataframes.is_empty()).then(|| args.dataframes.clone()),
                };
                let made = block_on(async {
                    args.connect.connect().await?.snapshot_action(ActionKind::CreateSnapshot, &request).await
                })?;
                summary(args.quiet, format!("snapshot {} pins {}", made.name, pinned(&made)));
            }
            SnapshotCommand::Ls(args) => {
                let all = block_on(async { args.connect.connect().await?.snapshots(args.bucket.as_deref()).await })?;
                if args.format == ListFormat::Json {
                    print_json(&all);
                    return Ok(());
                }
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|s| {
                        let time = chrono::DateTime::from_timestamp_millis(s.created_ms)
                            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .unwrap_or_default();
                        vec![s.name.clone(), time, s.rows.to_string(), human_bytes(s.bytes), pinned(s)]
                    })
                    .collect();
                print_rows(&["name", "created (UTC)", "rows", "size", "dataframes (version)"], &rows);
            }
            SnapshotCommand::Rm(args) => {
                let request =
                    SnapshotRequest { name: Some(args.name.clone()), bucket: args.bucket.clone(), dataframes: None };
                let gone = block_on(async {
                    args.connect.connect().await?.snapshot_action(ActionKind::DeleteSnapshot, &request).await
                })?;
                summary(args.quiet, format!("removed snapshot {} (it pinned {})", gone.name, pinned(&gone)));
            }
        }
        Ok(())
    }
}

/// `a v3, b v7`.
fn pinned(s: &SnapshotInfo) -> String {
    if s.dataframes.is_empty() {
        return "no dataframes".into();
    }
    s.dataframes.iter().map(|(name, v)| format!("{name} v{v}")).collect::<Vec<_>>().join(", ")
}
