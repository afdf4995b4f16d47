//! shoots: a dataframe storage server (`daemon`) and its command-line client
//! (`cmd`), in one binary.

pub mod cli;
pub mod cmd;
pub mod daemon;
pub mod error;
pub mod logging;
