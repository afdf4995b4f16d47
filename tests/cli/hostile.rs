//! Hostile uploads: corrupt and truncated Arrow streams, schema-only
//! uploads, very wide tables, oversized requests. The daemon answers each
//! with a clear error, stays up, and keeps the dataframe as it was.

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::{FlightData, FlightDescriptor};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use std::sync::Arc;

use crate::support::{action, get, put, rows, sample, Daemon};

/// Sends raw FlightData messages as one DoPut; returns the error's
/// `(type, message)`, or `None` if the upload was accepted.
async fn raw_put(d: &Daemon, messages: Vec<FlightData>) -> Option<(String, String)> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", d.port))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightServiceClient::new(channel);
    let outcome = async {
        let mut results = client.do_put(futures::stream::iter(messages)).await?.into_inner();
        while results.message().await?.is_some() {}
        Ok::<_, tonic::Status>(())
    }
    .await;
    outcome.err().map(|status| {
        let info: serde_json::Value = serde_json::from_slice(status.details()).unwrap_or_default();
        (info["type"].as_str().unwrap_or("").to_string(), info["message"].as_str().unwrap_or("").to_string())
    })
}

fn descriptor(name: &str, mode: &str) -> FlightDescriptor {
    FlightDescriptor::new_cmd(json!({"name": name, "mode": mode}).to_string())
}

async fn encoded(name: &str, mode: &str, batches: Vec<RecordBatch>) -> Vec<FlightData> {
    FlightDataEncoderBuilder::new()
        .with_schema(batches[0].schema())
        .with_flight_descriptor(Some(descriptor(name, mode)))
        .build(futures::stream::iter(batches.into_iter().map(Ok)))
        .try_collect()
        .await
        .unwrap()
}

/// A daemon holding dataframe `keep` (100 rows), which must survive.
async fn with_keep() -> Daemon {
    let d = Daemon::start();
    let mut c = d.client().await;
    put(&mut c, json!({"name": "keep"}), vec![sample(100, 0)]).await.unwrap();
    d
}

async fn keep_is_intact(d: &Daemon) {
    let mut c = d.client().await;
    let got = get(&mut c, json!({"name": "keep"})).await.expect("the daemon still answers");
    assert_eq!(rows(&got), 100);
    assert_eq!(action(&mut c, "ping", serde_json::Value::Null).await.unwrap(), ["pong"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_arrow_stream_is_refused() {
    let d = with_keep().await;
    for mode in ["replace", "append"] {
        let mut messages = encoded("keep", mode, vec![sample(10, 0)]).await;
        // Garbage where the record batch's IPC header should be.
        messages[1].data_header = bytes::Bytes::from_static(b"\x08\x00\x00\x00this is not flatbuffers");
        let (kind, message) = raw_put(&d, messages).await.expect("refused");
        assert_eq!(kind, "InvalidArgumentError", "{message}");
        assert!(message.contains("corrupt Arrow stream"), "{message}");
        keep_is_intact(&d).await;
    }
    // A garbage schema message.
    let garbage = FlightData {
        flight_descriptor: Some(descriptor("keep", "replace")),
        data_header: bytes::Bytes::from_static(&[0xff; 64]),
        ..Default::default()
    };
    let (kind, _) = raw_put(&d, vec![garbage]).await.expect("refused");
    assert_eq!(kind, "InvalidArgumentError");
    keep_is_intact(&d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_upload_keeps_nothing() {
    let d = with_keep().await;
    let mut messages = encoded("keep", "replace", vec![sample(1000, 0), sample(1000, 1000)]).await;
    // The second batch's body cut in half.
    let body = messages[2].data_body.clone();
    messages[2].data_body = body.slice(..body.len() / 2);
    let (kind, message) = raw_put(&d, messages).await.expect("refused");
    assert_eq!(kind, "InvalidArgumentError", "{message}\n{}", d.log());
    keep_is_intact(&d).await;

    // A stream that ends before its schema.
    let only_descriptor = FlightData { flight_descriptor: Some(descriptor("keep", "replace")), ..Default::default() };
    let (kind, message) = raw_put(&d, vec![only_descriptor]).await.expect("refused");
    assert_eq!(kind, "InvalidArgumentError", "{message}");
    // No descriptor at all.
    let (kind, _) = raw_put(&d, vec![FlightData::default()]).await.expect("refused");
    assert_eq!(kind, "InvalidArgumentError");
    keep_is_intact(&d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schema_without_batches_is_an_empty_dataframe() {
    let d = with_keep().await;
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
    let messages: Vec<FlightData> = FlightDataEncoderBuilder::new()
        .with_schema(schema.clone())
        .with_flight_descriptor(Some(descriptor("empty", "error")))
        .build(futures::stream::empty())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(raw_put(&d, messages).await, None);
    let mut c = d.client().await;
    let mut stream = c.do_get(arrow_flight::Ticket::new(json!({"name": "empty"}).to_string())).await.unwrap();
    while stream.next().await.transpose().unwrap().is_some() {}
    assert_eq!(stream.schema().unwrap().as_ref(), schema.as_ref());
}

#[tokio::test(flavor = "multi_thread")]
async fn very_many_columns_round_trip() {
    let d = Daemon::start();
    let n = 3000;
    let fields: Vec<Field> = (0..n).map(|i| Field::new(format!("c{i}"), DataType::Int64, true)).collect();
    let columns: Vec<ArrayRef> = (0..n).map(|i| Arc::new(Int64Array::from(vec![i as i64; 5])) as ArrayRef).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut c = d.client().await;
    put(&mut c, json!({"name": "wide"}), vec![batch.clone()]).await.unwrap();
    let got = get(&mut c, json!({"name": "wide"})).await.unwrap();
    assert_eq!(got, vec![batch]);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_and_malformed_requests() {
    let d = with_keep().await;
    let huge =
        FlightDescriptor::new_cmd(json!({"name": "keep", "mode": "replace", "pad": "x".repeat(2 << 20)}).to_string());
    let mut messages = encoded("keep", "replace", vec![sample(3, 0)]).await;
    messages[0].flight_descriptor = Some(huge);
    let (kind, message) = raw_put(&d, messages).await.expect("refused");
    assert_eq!(kind, "InvalidArgumentError");
    assert!(message.contains("more than the 1048576 allowed"), "{message}");

    for body in
        [r#"{"name": ["keep"]}"#, r#"{"name": "keep", "mode": "upsert"}"#, "{", r#"{"name": "keep", "bucket": 7}"#]
    {
        let mut messages = encoded("keep", "replace", vec![sample(3, 0)]).await;
        messages[0].flight_descriptor = Some(FlightDescriptor::new_cmd(body.to_string()));
        let (kind, _) = raw_put(&d, messages).await.expect(body);
        assert_eq!(kind, "InvalidArgumentError", "{body}");
    }
    keep_is_intact(&d).await;
}
