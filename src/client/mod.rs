//! What every client subcommand shares: connection flags and a Flight
//! client that speaks the JSON dialect and maps failures to [`CliError`].

pub mod config;

use std::path::PathBuf;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::{DictionaryHandling, FlightDataEncoderBuilder};
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{Action, FlightClient, FlightDescriptor, FlightInfo, Ticket};
use clap::Args;
use futures::{Stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::error::{CliError, Result};
use config::ConfigFile;

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
pub struct Resolved {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub tls_root_cert: Option<PathBuf>,
    pub token: Option<String>,
}

impl ConnectArgs {
    pub fn resolve(&self) -> Result<Resolved> {
        let file = ConfigFile::load()?;
        let tls_root_cert = self.tls_root_cert.clone().or(file.tls_root_cert);
        Ok(Resolved {
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

/// Turns a failed call into the error the user sees (and its exit code).
pub fn call_error(e: FlightError) -> CliError {
    match e {
        FlightError::Tonic(status) => status_error(&status),
        other => CliError::Server { kind: "ProtocolError".into(), message: other.to_string() },
    }
}

fn status_error(status: &tonic::Status) -> CliError {
    use tonic::Code;
    if let Ok(info) = serde_json::from_slice::<Value>(status.details()) {
        if let (Some(kind), Some(message)) = (info["type"].as_str(), info["message"].as_str()) {
            return CliError::Server { kind: kind.into(), message: message.into() };
        }
    }
    let kind = match status.code() {
        Code::Unavailable => return CliError::Connect(format!("lost the server: {}", status.message())),
        Code::Unauthenticated => "FlightUnauthenticatedError",
        Code::PermissionDenied => "FlightUnauthorizedError",
        Code::Cancelled => "Cancelled",
        _ => "ServerError",
    };
    CliError::Server { kind: kind.into(), message: status.message().to_string() }
}

/// A connected Flight client.
pub struct Client {
    inner: FlightClient,
    pub address: String,
}

const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

impl Client {
    pub async fn connect(settings: &Resolved) -> Result<Client> {
        let scheme = if settings.tls { "https" } else { "http" };
        let address = format!("{}:{}", settings.host, settings.port);
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| CliError::Usage(format!("bad server address {address}: {e}")))?
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true);
        if settings.tls {
            let mut tls = ClientTlsConfig::new().domain_name(settings.host.clone()).with_enabled_roots();
            if let Some(path) = &settings.tls_root_cert {
                let pem = std::fs::read(path).map_err(|e| {
                    CliError::Local(format!("cannot read root certificate {}: {e}", path.display()))
                })?;
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
        if let Some(token) = &settings.token {
            inner
                .add_header("authorization", &format!("Bearer {token}"))
                .map_err(|e| CliError::Usage(format!("unusable token: {e}")))?;
        }
        Ok(Client { inner, address })
    }

    /// Runs an action and returns its result bodies as text.
    pub async fn action(&mut self, kind: &str, body: Value) -> Result<Vec<String>> {
        let body = if body.is_null() { bytes::Bytes::new() } else { body.to_string().into() };
        self.inner
            .do_action(Action::new(kind, body))
            .await
            .map_err(call_error)?
            .map_ok(|b| String::from_utf8_lossy(&b).into_owned())
            .try_collect()
            .await
            .map_err(call_error)
    }

    /// An action whose one result is JSON.
    pub async fn action_json(&mut self, kind: &str, body: Value) -> Result<Value> {
        let replies = self.action(kind, body).await?;
        let first = replies.first().ok_or_else(|| CliError::Server {
            kind: "ProtocolError".into(),
            message: format!("{kind} returned nothing"),
        })?;
        serde_json::from_str(first).map_err(|e| CliError::Server {
            kind: "ProtocolError".into(),
            message: format!("{kind} returned malformed JSON: {e}"),
        })
    }

    pub async fn do_get(&mut self, ticket: Value) -> Result<FlightRecordBatchStream> {
        self.inner.do_get(Ticket::new(ticket.to_string())).await.map_err(call_error)
    }

    pub async fn list(&mut self, bucket: Option<&str>, regex: Option<&str>) -> Result<Vec<FlightInfo>> {
        let criteria = json!({"bucket": bucket, "regex": regex});
        self.inner
            .list_flights(criteria.to_string())
            .await
            .map_err(call_error)?
            .try_collect()
            .await
            .map_err(call_error)
    }

    pub async fn get_schema(&mut self, descriptor: FlightDescriptor) -> Result<arrow::datatypes::Schema> {
        self.inner.get_schema(descriptor).await.map_err(call_error)
    }

    /// Uploads `batches` with a DoPut command; returns the server's
    /// `{"version", "rows"}`.
    ///
    /// If `batches` fails (a malformed input row, say) the upload must not
    /// look finished to the server, or it would commit what it got so far.
    /// `FlightClient::do_put` ends the request stream cleanly on such an
    /// error, and a cancelled call looks the same to the server once hyper
    /// is done with it; so this sends shoots' explicit abort message
    /// (app_metadata `{"abort": reason}`), then stalls and drops the call.
    pub async fn put<S>(&mut self, command: Value, schema: arrow::datatypes::SchemaRef, batches: S) -> Result<Value>
    where
        S: Stream<Item = std::result::Result<RecordBatch, FlightError>> + Send + 'static,
    {
        let (failed_tx, mut failed_rx) = futures::channel::oneshot::channel::<FlightError>();
        let mut failed_tx = Some(failed_tx);
        let data = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .with_dictionary_handling(DictionaryHandling::Resend)
            .with_flight_descriptor(Some(FlightDescriptor::new_cmd(command.to_string())))
            .build(batches)
            .map(move |item| match item {
                Ok(data) => futures::future::Either::Left(futures::stream::once(async { data })),
                Err(e) => {
                    let abort = arrow_flight::FlightData {
                        app_metadata: json!({"abort": e.to_string()}).to_string().into(),
                        ..Default::default()
                    };
                    if let Some(tx) = failed_tx.take() {
                        let _ = tx.send(e);
                    }
                    let stall = futures::stream::pending();
                    futures::future::Either::Right(futures::stream::once(async { abort }).chain(stall))
                }
            })
            .flatten();
        let mut request = tonic::Request::new(data);
        *request.metadata_mut() = self.inner.metadata().clone();
        let mut service = self.inner.inner().clone();
        let call = async move {
            let mut results = service.do_put(request).await.map_err(|s| status_error(&s))?.into_inner();
            let mut reply = Value::Null;
            while let Some(result) = results.message().await.map_err(|s| status_error(&s))? {
                reply = serde_json::from_slice(&result.app_metadata).unwrap_or(Value::Null);
            }
            Ok(reply)
        };
        let local_error = |e: FlightError| match e {
            FlightError::Arrow(e) => CliError::Local(e.to_string()),
            FlightError::ExternalError(e) => CliError::Local(e.to_string()),
            other => CliError::Local(other.to_string()),
        };
        tokio::pin!(call);
        tokio::select! {
            reply = &mut call => match failed_rx.try_recv() {
                Ok(Some(local)) => Err(local_error(local)),
                _ => reply,
            },
            Ok(local) = &mut failed_rx => {
                // Let the abort message reach the server and wait for its
                // refusal, so the upload is known dead before we report.
                let _ = tokio::time::timeout(Duration::from_secs(30), &mut call).await;
                Err(local_error(local))
            }
        }
    }
}
