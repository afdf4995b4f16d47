//! DoGet's answer written as gRPC frames of our own, so that each batch's
//! IPC body goes to the connection as the `Bytes` the encoder made.
//!
//! tonic's codec encodes every message into one buffer before framing it:
//! for a get, that copies each Flight message's body (megabytes a batch)
//! once more after the IPC encoder has assembled it, and `memmove` was a
//! sixth of the daemon's profile (bench/README.md, round 4). Here the
//! protobuf fields before the body (its descriptor, IPC header and app
//! metadata, a few hundred bytes) are encoded with the gRPC frame's prefix,
//! and the body follows as a frame of its own; HTTP/2 sends it from where
//! it is. Everything else (the caller's check, the request log, the
//! metering, the statuses) is the same `FlightService::do_get` as before;
//! every other method goes to tonic's server unchanged.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{FlightData, Ticket};
use bytes::{BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http_body::Frame;
use http_body_util::BodyExt;
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};
use prost::Message;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::Status;

use super::outbound::FlightStream;
use super::ShootsFlight;

const DO_GET: &str = "/arrow.flight.protocol.FlightService/DoGet";

/// `FlightData.data_body`'s field number: the last field, so the body is
/// the message's tail.
const DATA_BODY_TAG: u32 = 1000;

/// The Flight service as the server routes it: DoGet answered here, the
/// rest by tonic's generated server.
#[derive(Clone)]
pub struct FlightRoutes {
    flight: ShootsFlight,
    generated: FlightServiceServer<ShootsFlight>,
    /// The largest ticket message taken.
    max_request_bytes: usize,
}

impl FlightRoutes {
    pub fn new(flight: ShootsFlight, max_message_bytes: usize) -> FlightRoutes {
        let generated = FlightServiceServer::new(flight.clone())
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes);
        FlightRoutes { flight, generated, max_request_bytes: max_message_bytes }
    }
}

impl NamedService for FlightRoutes {
    const NAME: &'static str = <FlightServiceServer<ShootsFlight> as NamedService>::NAME;
}

impl tower::Service<http::Request<Body>> for FlightRoutes {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<http::Request<Body>>::poll_ready(&mut self.generated, cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != DO_GET {
            return self.generated.call(request);
        }
        let (flight, limit) = (self.flight.clone(), self.max_request_bytes);
        Box::pin(async move { Ok(do_get(flight, request, limit).await.unwrap_or_else(Status::into_http)) })
    }
}

async fn do_get(
    flight: ShootsFlight,
    request: http::Request<Body>,
    limit: usize,
) -> Result<http::Response<Body>, Status> {
    let (parts, body) = request.into_parts();
    let ticket = read_ticket(body, limit).await?;
    let request = tonic::Request::from_http(http::Request::from_parts(parts, ticket));
    let (metadata, messages, _) = FlightService::do_get(&flight, request).await?.into_parts();
    let mut response = http::Response::new(Body::new(Frames { messages, body: None, ended: false }));
    *response.headers_mut() = metadata.into_headers();
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/grpc"));
    Ok(response)
}

/// The request's one message, as tonic's codec would take it.
async fn read_ticket(body: Body, limit: usize) -> Result<Ticket, Status> {
    let bytes = http_body_util::Limited::new(body, limit.saturating_add(5))
        .collect()
        .await
        .map_err(|e| Status::resource_exhausted(format!("the DoGet request could not be read: {e}")))?
        .to_bytes();
    let Some((&compressed, rest)) = bytes.split_first() else {
        return Err(Status::internal("the DoGet request has no message"));
    };
    if compressed != 0 {
        return Err(Status::unimplemented("compressed DoGet requests are not accepted; send the ticket uncompressed"));
    }
    let message = rest
        .split_first_chunk::<4>()
        .filter(|(len, message)| u32::from_be_bytes(**len) as usize == message.len())
        .map(|(_, message)| message)
        .ok_or_else(|| Status::internal("the DoGet request is not one whole gRPC message"))?;
    Ticket::decode(message).map_err(|e| Status::internal(format!("failed to decode the ticket: {e}")))
}

/// The response body: each message as its frame prefix and then its body,
/// and the status as trailers.
struct Frames {
    messages: FlightStream<FlightData>,
    /// The body of the message whose prefix went last.
    body: Option<Bytes>,
    ended: bool,
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(body) = self.body.take() {
            return Poll::Ready(Some(Ok(Frame::data(body))));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let status = match std::task::ready!(self.messages.as_mut().poll_next(cx)) {
            Some(Ok(message)) => {
                let (prefix, body) = split_message(message);
                self.body = (!body.is_empty()).then_some(body);
                return Poll::Ready(Some(Ok(Frame::data(prefix))));
            }
            Some(Err(status)) => status,
            None => Status::ok(""),
        };
        self.ended = true;
        let mut trailers = http::HeaderMap::new();
        if let Err(unsendable) = status.add_header(&mut trailers) {
            // Only a message no header can carry ends here; its code can.
            Status::new(unsendable.code(), "").add_header(&mut trailers).ok();
        }
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.body.is_none()
    }
}

/// One Flight message as its gRPC frame: the prefix (the frame's header,
/// the fields before the body and the body's key and length), then the body.
fn split_message(mut message: FlightData) -> (Bytes, Bytes) {
    let body = std::mem::take(&mut message.data_body);
    let fields = message.encoded_len();
    let body_key = if body.is_empty() { 0 } else { key_len(DATA_BODY_TAG) + encoded_len_varint(body.len() as u64) };
    let mut prefix = BytesMut::with_capacity(5 + fields + body_key);
    prefix.put_u8(0);
    prefix.put_u32((fields + body_key + body.len()) as u32);
    message.encode_raw(&mut prefix);
    if !body.is_empty() {
        encode_key(DATA_BODY_TAG, WireType::LengthDelimited, &mut prefix);
        encode_varint(body.len() as u64, &mut prefix);
    }
    (prefix.freeze(), body)
}

#[cfg(test)]
mod tests {
    use arrow_flight::FlightDescriptor;

    use super::*;

    /// What tonic's codec would send: the frame header, then the message.
    fn framed_by_prost(message: &FlightData) -> Vec<u8> {
        let encoded = message.encode_to_vec();
        let mut framed = vec![0];
        framed.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
        framed.extend_from_slice(&encoded);
        framed
    }

    #[test]
    fn a_message_split_in_two_is_the_frame_prost_would_write() {
        let messages = [
            FlightData {
                flight_descriptor: Some(FlightDescriptor::new_path(vec!["frame".into()])),
                data_header: Bytes::from_static(b"header"),
                app_metadata: Bytes::from_static(b"{}"),
                data_body: Bytes::from(vec![7u8; 300_000]),
            },
            FlightData { data_header: Bytes::from_static(b"schema only"), ..FlightData::default() },
            FlightData::default(),
        ];
        for message in messages {
            let expected = framed_by_prost(&message);
            let (prefix, body) = split_message(message);
            assert_eq!([prefix, body].concat(), expected);
        }
    }
}
