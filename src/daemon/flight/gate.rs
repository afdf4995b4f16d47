//! Who is calling: every call's token is checked here, and Handshake (the
//! original's token exchange, or Basic credentials from SQL tools) answered.

use arrow_flight::HandshakeRequest;
use arrow_flight::HandshakeResponse;
use tonic::{Request, Response, Streaming};

use super::outbound::FlightStream;
use super::{stream_of, ShootsFlight};
use crate::daemon::auth::{basic_password, Principal};
use crate::daemon::error::{DaemonError, Result};

impl ShootsFlight {
    /// Who makes this call; every call but Handshake is checked here.
    pub(super) fn caller<T>(&self, request: &Request<T>) -> Result<Principal> {
        match &self.auth {
            None => Ok(Principal::unrestricted()),
            Some(auth) => auth.check(request.metadata()),
        }
    }

    /// The original's Handshake: the token comes back as the payload, and
    /// pyarrow then sends it in `auth-token-bin` with every call. A Basic
    /// Handshake (SQL tools: any user, the token as password) is answered
    /// with the token as `authorization: Bearer`.
    pub(super) async fn handshake_reply(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<(String, Response<FlightStream<HandshakeResponse>>)> {
        if let Some(password) = basic_password(request.metadata()) {
            let detail = match &self.auth {
                None => String::new(),
                Some(auth) => format!("basic, {} token", auth.basic(&password)?.role.as_str()),
            };
            let bearer = format!("Bearer {}", String::from_utf8_lossy(&password));
            let mut response = Response::new(stream_of([HandshakeResponse::default()]));
            let value =
                bearer.parse().map_err(|_| DaemonError::Unauthenticated("the password is not a token".into()))?;
            response.metadata_mut().insert("authorization", value);
            return Ok((detail, response));
        }
        let mut input = request.into_inner();
        let first = input
            .message()
            .await
            .map_err(|s| DaemonError::Io(format!("handshake interrupted: {}", s.message())))?
            .unwrap_or_default();
        let (detail, payload) = match &self.auth {
            None => (String::new(), bytes::Bytes::new()),
            Some(auth) => (format!("{} token", auth.handshake(&first.payload)?.role.as_str()), first.payload),
        };
        Ok((detail, Response::new(stream_of([HandshakeResponse { protocol_version: 0, payload }]))))
    }
}
