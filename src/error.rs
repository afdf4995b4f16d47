//! The command line's error type and its exit codes (documented in the
//! README and `--help`): 0 success, 1 the server refused or failed, or a
//! local file problem, 2 usage, 3 the server cannot be reached.

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments or an unusable combination of them.
    #[error("{0}")]
    Usage(String),
    /// The server answered with an error (not found, exists, bad SQL...).
    #[error("{message}")]
    Server { kind: String, message: String },
    /// The server could not be reached.
    #[error("{0}")]
    Connect(String),
    /// Anything failing on this side: files, formats, the daemon's own start.
    #[error("{0}")]
    Local(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Connect(_) => 3,
            CliError::Server { .. } | CliError::Local(_) => 1,
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
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Connect(_) => Some("is `shoots serve` running? check --host/--port or SHOOTS_HOST/SHOOTS_PORT".into()),
            CliError::Server { kind, .. } => match kind.as_str() {
                "FileExistsError" => Some("use --mode append or --mode replace".into()),
                "FileNotFoundError" => Some("`shoots ls` lists dataframes, `shoots buckets` buckets".into()),
                "BucketNotEmptyError" => Some("use --force to delete it with its dataframes".into()),
                "InvalidNameError" => Some("names are 1-128 of letters, digits, '_', '-', '.', not starting with '.' or '_'".into()),
                _ => None,
            },
            _ => None,
        }
    }
}

impl From<crate::daemon::error::DaemonError> for CliError {
    fn from(e: crate::daemon::error::DaemonError) -> Self {
        CliError::Local(e.to_string())
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
