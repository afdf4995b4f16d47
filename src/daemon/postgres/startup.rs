//! The start of a connection: TLS was negotiated by pgwire; here the token
//! (the password, with any user name) and the database (the bucket of bare
//! names) become the connection's [`Session`].

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata, DefaultServerParameterProvider,
    StartupHandler,
};
use pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
    METADATA_DATABASE,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::catalog;
use super::errors::{code, fatal};
use super::session::Session;
use super::PgState;
use crate::daemon::auth::Principal;
use crate::daemon::query::Scope;
use crate::daemon::storage::BucketId;
use crate::protocol::DEFAULT_SCHEMA;

pub struct Startup {
    state: Arc<PgState>,
    connections: Arc<ConnectionManager>,
    keys: RandomPidSecretKeyGenerator,
    parameters: DefaultServerParameterProvider,
}

impl Startup {
    pub fn new(state: Arc<PgState>, connections: Arc<ConnectionManager>) -> Startup {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.server_version = super::SERVER_VERSION.to_string();
        parameters.is_superuser = false;
        Startup { state, connections, keys: RandomPidSecretKeyGenerator::default(), parameters }
    }

    /// The bucket a database name stands for: `shoots`, `_default` or none
    /// is the default bucket, anything else a bucket that must exist.
    async fn bucket(&self, database: Option<&str>) -> PgWireResult<BucketId> {
        let bucket = match database {
            None | Some("" | "shoots") => return Ok(BucketId::Default),
            Some(name) if name == DEFAULT_SCHEMA => return Ok(BucketId::Default),
            Some(name) => BucketId::parse(Some(name)).map_err(|e| fatal(code::INVALID_CATALOG_NAME, e.to_string()))?,
        };
        if !self.state.store.bucket_exists(&bucket).await? {
            return Err(fatal(
                code::INVALID_CATALOG_NAME,
                format!("database \"{bucket}\" does not exist: no such bucket"),
            ));
        }
        Ok(bucket)
    }

    /// Lets the client in as `principal`.
    async fn admit<C>(&self, client: &mut C, principal: Principal) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let database = client.metadata().get(METADATA_DATABASE).cloned();
        let bucket = self.bucket(database.as_deref()).await?;
        let scope =
            Scope::of_caller(bucket, &principal).map_err(|e| fatal(code::INSUFFICIENT_PRIVILEGE, e.to_string()))?;
        let pg_catalog = self.state.catalogs.for_scope(&self.state.store, &scope.visible)?;
        let scope = scope.with_extension(Arc::new(catalog::PgExtension(pg_catalog)));
        let (pid, secret) = self.keys.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        // The handle lets a CancelRequest stop this connection's query.
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        client.session_extensions().insert(Session::new(principal, scope));
        finish_authentication(client, &self.parameters).await
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.state.auth.is_none() {
                    return self.admit(client, Principal::unrestricted()).await;
                }
                // The password is the token: in clear text on the wire.
                if !client.is_secure() && !client.socket_addr().ip().is_loopback() {
                    return Err(fatal(
                        code::INVALID_AUTHORIZATION,
                        "this daemon takes tokens over TLS only (sslmode=require) unless the client is on the same host",
                    ));
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client.send(PgWireBackendMessage::Authentication(Authentication::CleartextPassword)).await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let Some(auth) = &self.state.auth else { return Ok(()) };
                let password = password.into_password()?;
                let principal = auth
                    .basic(password.password.as_bytes())
                    .map_err(|e| fatal(code::INVALID_PASSWORD, format!("password authentication failed: {e}")))?;
                self.admit(client, principal).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
