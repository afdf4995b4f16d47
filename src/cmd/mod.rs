//! One file per subcommand; each is a clap `Args` struct with a `run`.

pub mod buckets;
pub mod compact;
pub mod completions;
pub mod diff;
pub mod get;
pub mod history;
pub mod import_legacy;
pub mod ls;
pub mod ping;
pub mod put;
pub mod resample;
pub mod retention;
pub mod rm;
pub mod serve;
pub mod shutdown;
pub mod snapshot;
pub mod sql;
pub mod token;
pub mod vacuum;

use std::future::Future;

use crate::error::Result;

/// Runs a client command's async body on a runtime of its own.
pub fn block_on<T>(body: impl Future<Output = Result<T>>) -> Result<T> {
    crate::client::runtime()?.block_on(body)
}

/// The summary line of a command, on stderr so that stdout stays data.
pub fn summary(quiet: bool, line: impl std::fmt::Display) {
    if !quiet {
        eprintln!("{line}");
    }
}

/// What a vacuum did, as `vacuum` and `compact` report it.
fn vacuumed(r: &crate::protocol::VacuumReply) -> String {
    let done = format!("removed {} versions, {} files", r.versions_removed, r.files_deleted);
    match r.files_waiting {
        0 => done,
        n => format!("{done}; {n} more files go after the daemon's --vacuum-grace"),
    }
}
