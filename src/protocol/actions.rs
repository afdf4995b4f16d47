//! The DoAction types of the JSON dialect. Each action's name and
//! description live here, once; ListActions is generated from [`ActionKind::ALL`]
//! and the daemon dispatches on the enum.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Ping,
    Buckets,
    Delete,
    DeleteBucket,
    Resample,
    History,
    Compact,
    Vacuum,
    Shutdown,
    Stats,
    DeleteRows,
    SetRetention,
    CreateSnapshot,
    Snapshots,
    DeleteSnapshot,
}

impl ActionKind {
    /// In the order ListActions reports them.
    pub const ALL: [ActionKind; 15] = [
        ActionKind::Ping,
        ActionKind::Buckets,
        ActionKind::Delete,
        ActionKind::DeleteBucket,
        ActionKind::Resample,
        ActionKind::History,
        ActionKind::Compact,
        ActionKind::Vacuum,
        ActionKind::Shutdown,
        ActionKind::Stats,
        ActionKind::DeleteRows,
        ActionKind::SetRetention,
        ActionKind::CreateSnapshot,
        ActionKind::Snapshots,
        ActionKind::DeleteSnapshot,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ActionKind::Ping => "ping",
            ActionKind::Buckets => "buckets",
            ActionKind::Delete => "delete",
            ActionKind::DeleteBucket => "delete_bucket",
            ActionKind::Resample => "resample",
            ActionKind::History => "history",
            ActionKind::Compact => "compact",
            ActionKind::Vacuum => "vacuum",
            ActionKind::Shutdown => "shutdown",
            ActionKind::Stats => "stats",
            ActionKind::DeleteRows => "delete_rows",
            ActionKind::SetRetention => "set_retention",
            ActionKind::CreateSnapshot => "create_snapshot",
            ActionKind::Snapshots => "snapshots",
            ActionKind::DeleteSnapshot => "delete_snapshot",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            ActionKind::Ping => "Check that the server is alive; answers \"pong\"",
            ActionKind::Buckets => "List the named buckets as a JSON list",
            ActionKind::Delete => "Delete a dataframe: {\"name\", \"bucket\"}",
            ActionKind::DeleteBucket => "Delete a bucket: {\"name\", \"mode\": \"error\"|\"delete\"}",
            ActionKind::Resample => "Write a resampled or SQL-transformed copy of a dataframe on the server",
            ActionKind::History => "The versions of a dataframe: {\"name\", \"bucket\"}",
            ActionKind::Compact => "Rewrite a dataframe's small files into few, then vacuum: {\"name\", \"bucket\"}",
            ActionKind::Vacuum => {
                "Delete versions beyond the retention and their files: {\"name\", \"bucket\", \"retain\"?}"
            }
            ActionKind::Shutdown => "Stop the server gracefully",
            ActionKind::Stats => "The daemon's store, uptime and store requests by kind, as JSON",
            ActionKind::DeleteRows => {
                "Delete the rows of a dataframe where a SQL predicate is true: {\"name\", \"bucket\", \"where\"}; answers rows_deleted"
            }
            ActionKind::SetRetention => {
                "Keep only rows newer than a duration: {\"name\"?, \"bucket\", \"retention\": {\"time_col\", \"keep\": \"30d\"} | null}"
            }
            ActionKind::CreateSnapshot => {
                "Pin the current version of a bucket's dataframes under a name: {\"name\", \"bucket\", \"dataframes\"?}"
            }
            ActionKind::Snapshots => "The named snapshots of a bucket: {\"bucket\"}",
            ActionKind::DeleteSnapshot => "Remove a named snapshot: {\"name\", \"bucket\"}",
        }
    }
}

impl FromStr for ActionKind {
    type Err = ();
    fn from_str(name: &str) -> Result<ActionKind, ()> {
        ActionKind::ALL.into_iter().find(|a| a.name() == name).ok_or(())
    }
}
