//! The client library: what every subcommand and the REPL share. Commands
//! parse their arguments and call into here; nothing here knows a command.
//!
//! - [`connect`]: connection flags and settings, [`config`]: the config file
//! - [`flight`]: the Flight client, one typed method per call of the protocol
//! - [`listing`], [`sql`], [`export`], [`upload`]: listing dataframes,
//!   running statements, writing results out, sending files up

pub mod config;
pub mod connect;
pub mod export;
pub mod flight;
pub mod listing;
pub mod sql;
pub mod upload;

pub use connect::ConnectArgs;
pub use flight::Client;

use crate::error::{CliError, Result};

/// The async runtime a client command or the REPL runs on: two threads
/// (one streams, one parses or prints). Made per command, so that `serve
/// --daemon` can fork before any runtime exists.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))
}
