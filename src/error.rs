//! The command line's error type and its exit codes. [`Exit`] defines the
//! codes once: `--help` prints [`exit_codes_help`], and a test holds the
//! README's list to it.

use crate::protocol::ErrorKind;

/// How `shoots` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The server refused or failed, or a local problem.
    Failed = 1,
    Usage = 2,
    Unreachable = 3,
}

impl Exit {
    pub const ALL: [Exit; 4] = [Exit::Success, Exit::Failed, Exit::Usage, Exit::Unreachable];

    pub const fn code(self) -> u8 {
        self as u8
    }

    pub const fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failed => {
                "the server refused or failed (not found, exists, bad SQL), or a local problem (a missing file, a malformed row, a taken port)"
            }
            Exit::Usage => "usage error (a bad flag, an unknown file extension, a bad config file)",
            Exit::Unreachable => "cannot reach the server",
        }
    }
}

/// The list `--help` ends with, and the README shows.
pub fn exit_codes_help() -> String {
    let mut text = String::from("Exit codes:");
    for exit in Exit::ALL {
        text.push_str(&format!("\n  {}  {}", exit.code(), exit.meaning()));
    }
    text
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments or an unusable combination of them.
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error (not found, exists, bad SQL...);
    /// `kind` is `None` for a failure the server did not type.
    #[error("{message}")]
    Server { kind: Option<ErrorKind>, message: String },
    /// The server answered something that does not follow the protocol.
    #[error("{0}")]
    Protocol(String),
    /// The server could not be reached.
    #[error("{0}")]
    Connect(String),
    /// Anything failing on this side: files, formats, the daemon's own start.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    pub fn server(kind: ErrorKind, message: impl Into<String>) -> CliError {
        CliError::Server { kind: Some(kind), message: message.into() }
    }

    /// Whether the server refused with this kind of error.
    pub fn is(&self, kind: ErrorKind) -> bool {
        matches!(self, CliError::Server { kind: Some(k), .. } if *k == kind)
    }

    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Connect(_) => Exit::Unreachable,
            CliError::Server { .. } | CliError::Protocol(_) | CliError::Local(_) => Exit::Failed,
        }
    }

    /// The error as users see it: one line (some engine messages span
    /// lines), with a hint where one helps.
    pub fn line(&self) -> String {
        let message = self.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        match self.hint() {
            Some(hint) => format!("shoots: error: {message} (hint: {hint})"),
            None => format!("shoots: error: {message}"),
        }
    }

    /// A short suggestion printed after the error, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Connect(_) => Some("is `shoots serve` running? check --host/--port or SHOOTS_HOST/SHOOTS_PORT"),
            CliError::Server { kind: Some(kind), message } => match kind {
                ErrorKind::Exists if message.starts_with("snapshot ") => Some("`shoots snapshot rm NAME` removes it"),
                ErrorKind::Exists => Some("use --mode append or --mode replace"),
                ErrorKind::NotFound if message.starts_with("snapshot ") => {
                    Some("`shoots snapshot ls` lists a bucket's snapshots")
                }
                ErrorKind::NotFound if message.contains(" version ") => {
                    Some("`shoots history NAME` lists its versions")
                }
                ErrorKind::NotFound => Some("`shoots ls` lists dataframes, `shoots buckets` buckets"),
                ErrorKind::BucketNotEmpty => Some("use --force to delete it with its dataframes"),
                ErrorKind::InvalidName => {
                    Some("names are 1-128 of letters, digits, '_', '-', '.', not starting with '.' or '_'")
                }
                _ => None,
            },
            _ => None,
        }
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
