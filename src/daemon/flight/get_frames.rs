//! DoGet's answer written as gRPC frames of our own, so that each batch's
//! buffers go to the connection from where the batch holds them.
//!
//! tonic's codec encodes every message into one buffer before framing it,
//! and arrow-flight's encoder had copied every buffer of a batch into one
//! body before that: two copies of all the rows a get sends, and `memmove`
//! was a sixth of the daemon's profile (bench/README.md, round 4). Here a
//! message's frame prefix and IPC header (a few hundred bytes) are encoded
//! together, and the body's pieces ([`super::messages`]) follow as frames
//! of their own; HTTP/2 sends them from where they are. Everything else
//! (the caller's check, the request log, the metering, the statuses) is the
//! same as tonic's route; every other method goes to tonic's server.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::Ticket;
use bytes::{BufMut, Bytes, BytesMut};
use futures::future::BoxFuture;
use http_body::Frame;
use http_body_util::BodyExt;
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};
use prost::Message as _;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::Status;

use super::messages::Outgoing;
use super::outbound::FlightStream;
use super::ShootsFlight;

const DO_GET: &str = "/arrow.flight.protocol.FlightService/DoGet";

/// `FlightData`'s field numbers: `data_header`, and `data_body`, the last
/// field, so the body is the message's tail.
const DATA_HEADER_TAG: u32 = 2;
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
    let (metadata, messages, _) = flight.do_get_messages(request).await?.into_parts();
    let mut response = http::Response::new(Body::new(Frames { messages, body: VecDeque::new(), ended: false }));
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

/// The response body: each message as its frame prefix and then its
/// body's pieces, and the status as trailers.
struct Frames {
    messages: FlightStream<Outgoing>,
    /// What is left of the body of the message whose prefix went last.
    body: VecDeque<Bytes>,
    ended: bool,
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(piece) = self.body.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(piece))));
        }
        if self.ended {
            return Poll::Ready(None);
        }
        let status = match std::task::ready!(self.messages.as_mut().poll_next(cx)) {
            Some(Ok(message)) => {
                let prefix = frame_prefix(&message);
                self.body = message.body.into();
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
        self.ended && self.body.is_empty()
    }
}

/// What goes before a message's body: the gRPC frame's header, then the
/// `FlightData` protobuf up to the body's bytes (its IPC header, and the
/// body's key and length), as prost would encode it.
fn frame_prefix(message: &Outgoing) -> Bytes {
    let field_len = |tag, len: usize| if len == 0 { 0 } else { key_len(tag) + encoded_len_varint(len as u64) + len };
    let (header, body) = (message.header.len(), message.body_len());
    let total = field_len(DATA_HEADER_TAG, header) + field_len(DATA_BODY_TAG, body);
    let mut prefix = BytesMut::with_capacity(5 + total - body);
    prefix.put_u8(0);
    prefix.put_u32(total as u32);
    for (tag, len) in [(DATA_HEADER_TAG, header), (DATA_BODY_TAG, body)] {
        if len > 0 {
            encode_key(tag, WireType::LengthDelimited, &mut prefix);
            encode_varint(len as u64, &mut prefix);
            if tag == DATA_HEADER_TAG {
                prefix.put_slice(&message.header);
            }
        }
    }
    prefix.freeze()
}

#[cfg(test)]
mod tests {
    use arrow_flight::FlightData;
    use prost::Message;

    use super::*;

    #[test]
    fn a_message_in_pieces_is_the_frame_tonic_would_write() {
        let messages = [
            Outgoing {
                header: Bytes::from_static(b"header"),
                body: vec![Bytes::from(vec![7u8; 300_000]), Bytes::from_static(b"tail")],
            },
            Outgoing { header: Bytes::from_static(b"schema only"), body: Vec::new() },
            Outgoing { header: Bytes::new(), body: Vec::new() },
        ];
        for message in messages {
            let sent = [vec![frame_prefix(&message)], message.body.clone()].concat().concat();
            let data: FlightData = message.into_flight_data();
            let encoded = data.encode_to_vec();
            let tonic = [&[0][..], &(encoded.len() as u32).to_be_bytes(), &encoded].concat();
            assert_eq!(sent, tonic);
        }
    }
}
