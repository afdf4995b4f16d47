//! `shoots token create`: mint a token for a daemon started with `--secret`.

use std::time::Duration;

use clap::{Args, Subcommand};

use crate::daemon::auth::{mint, Role};
use crate::daemon::Secret;
use crate::error::{CliError, Result};

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new token (an HS256 JWT) on stdout
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The daemon's secret
    #[arg(long, env = "SHOOTS_SECRET", hide_env_values = true)]
    pub secret: Secret,
    /// read: get, list, query; write: also put, delete, resample; admin: also delete buckets, shutdown
    #[arg(long, value_enum)]
    pub role: Role,
    /// Limit the token to this bucket (repeat for several; "" is the default bucket)
    #[arg(long = "bucket", value_name = "BUCKET")]
    pub buckets: Vec<String>,
    /// Lifetime, e.g. 3600s, 90m, 12h, 30d, 52w [default: no expiry]
    #[arg(long, value_parser = parse_duration)]
    pub expires: Option<Duration>,
}

/// `90m`, `12h`, `30d`: a count and a unit (s, m, h, d, w).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("not a duration: {s:?} (e.g. 12h, 30d)"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit in {s:?}: use s, m, h, d or w")),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(|| format!("duration too long: {s}"))
}

impl TokenArgs {
    pub fn run(self) -> Result<()> {
        let TokenCommand::Create(args) = self.command;
        let token =
            mint(&args.secret.0, args.role, &args.buckets, args.expires).map_err(|e| CliError::Usage(e.to_string()))?;
        println!("{token}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("30d").unwrap().as_secs(), 30 * 86_400);
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("h").is_err());
    }
}
