//! Connection flags and the settings they resolve to.

use std::path::PathBuf;

use clap::Args;

use super::config::ConfigFile;
use super::flight::Client;
use crate::error::Result;

/// Connection flags, flattened into every client subcommand.
/// Precedence: flag, then environment, then config file, then default.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectArgs {
    /// Server host [default: localhost]
    #[arg(long, env = "SHOOTS_HOST", help_heading = "Connection")]
    pub host: Option<String>,
    /// Server port [default: 8081]
    #[arg(long, env = "SHOOTS_PORT", help_heading = "Connection")]
    pub port: Option<u16>,
    /// Connect with TLS
    #[arg(long, help_heading = "Connection")]
    pub tls: bool,
    /// PEM root certificate to trust (for a self-signed server); implies --tls
    #[arg(long, env = "SHOOTS_TLS_ROOT_CERT", help_heading = "Connection")]
    pub tls_root_cert: Option<PathBuf>,
    /// Token for a server started with --secret
    #[arg(long, env = "SHOOTS_TOKEN", hide_env_values = true, help_heading = "Connection")]
    pub token: Option<String>,
}

/// Connection settings after flags, environment, config file and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub tls_root_cert: Option<PathBuf>,
    pub token: Option<String>,
}

impl ConnectArgs {
    pub fn resolve(&self) -> Result<Settings> {
        let file = ConfigFile::load()?;
        let tls_root_cert = self.tls_root_cert.clone().or(file.tls_root_cert);
        Ok(Settings {
            host: self.host.clone().or(file.host).unwrap_or_else(|| "localhost".into()),
            port: self.port.or(file.port).unwrap_or(8081),
            tls: self.tls || tls_root_cert.is_some() || file.tls.unwrap_or(false),
            tls_root_cert,
            token: self.token.clone().or(file.token),
        })
    }

    pub async fn connect(&self) -> Result<Client> {
        Client::connect(&self.resolve()?).await
    }
}
