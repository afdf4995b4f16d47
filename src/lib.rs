//! shoots: a dataframe storage server (`daemon`) and its command-line client
//! (`cmd`, `client`, `input`, `output`, `repl`), in one binary.

pub mod cli;
pub mod client;
pub mod cmd;
pub mod daemon;
pub mod error;
pub mod input;
pub mod legacy;
pub mod logging;
pub mod output;
pub mod parquet_format;
pub mod progress;
pub mod protocol;
pub mod repl;
