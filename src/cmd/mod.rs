//! One file per subcommand; each is a clap `Args` struct with a `run`.

pub mod buckets;
pub mod compact;
pub mod completions;
pub mod get;
pub mod history;
pub mod import_legacy;
pub mod ls;
pub mod ping;
pub mod put;
pub mod resample;
pub mod rm;
pub mod serve;
pub mod shutdown;
pub mod sql;
pub mod token;
pub mod vacuum;

use std::future::Future;

use crate::error::{CliError, Result};

/// Runs a client command's async body. The runtime is made here, per
/// command, so that `serve --daemon` can fork before any runtime exists.
pub fn block_on<T>(body: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))?
        .block_on(body)
}

/// The summary line of a command, on stderr so that stdout stays data.
pub fn summary(quiet: bool, line: impl std::fmt::Display) {
    if !quiet {
        eprintln!("{line}");
    }
}
