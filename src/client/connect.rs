//! Connection flags and the settings they resolve to.

use std::path::PathBuf;
use std::time::Duration;

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::FlightClient;
use clap::Args;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::config::ConfigFile;
use super::flight::Client;
use crate::error::{CliError, Result};
use crate::protocol::MAX_MESSAGE_BYTES;

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
        self.resolve()?.connect().await
    }
}

impl Settings {
    /// Connects; `CliError::Connect` when nothing answers.
    pub async fn connect(&self) -> Result<Client> {
        let scheme = if self.tls { "https" } else { "http" };
        let address = format!("{}:{}", self.host, self.port);
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| CliError::Usage(format!("bad server address {address}: {e}")))?
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true);
        if self.tls {
            let mut tls = ClientTlsConfig::new().domain_name(self.host.clone()).with_enabled_roots();
            if let Some(path) = &self.tls_root_cert {
                let pem = std::fs::read(path)
                    .map_err(|e| CliError::Local(format!("cannot read root certificate {}: {e}", path.display())))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| CliError::Usage(format!("bad TLS settings: {e}")))?;
        }
        let channel: Channel = endpoint.connect().await.map_err(|e| {
            let cause = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
            CliError::Connect(format!("cannot reach shoots at {address}: {cause}"))
        })?;
        let service = FlightServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let mut inner = FlightClient::new_from_inner(service);
        if let Some(token) = &self.token {
            inner
                .add_header("authorization", &format!("Bearer {token}"))
                .map_err(|e| CliError::Usage(format!("unusable token: {e}")))?;
        }
        Ok(Client::new(inner, address))
    }
}
