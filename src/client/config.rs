//! The optional client config file: `config.toml` in the platform config
//! directory (Linux: `~/.config/shoots/config.toml`), or the file named by
//! `SHOOTS_CONFIG`. It holds the same keys as the client flags:
//!
//! ```toml
//! host = "db.example.com"
//! port = 8081
//! tls = true
//! tls_root_cert = "/etc/shoots/root.pem"
//! token = "eyJ..."
//! ```

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{CliError, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<bool>,
    pub tls_root_cert: Option<PathBuf>,
    pub token: Option<String>,
}

pub fn config_path() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("SHOOTS_CONFIG") {
        return Some(PathBuf::from(explicit));
    }
    directories::ProjectDirs::from("", "", "shoots").map(|d| d.config_dir().join("config.toml"))
}

impl ConfigFile {
    /// The config file, or an empty one when there is none.
    pub fn load() -> Result<ConfigFile> {
        let Some(path) = config_path() else { return Ok(ConfigFile::default()) };
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| CliError::Usage(format!("bad config file {}: {}", path.display(), e.message()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(CliError::Local(format!("cannot read config file {}: {e}", path.display()))),
        }
    }
}
