//! One file per subcommand; each is a clap `Args` struct with a `run`.

pub mod serve;
