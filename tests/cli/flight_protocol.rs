//! The README's wire protocol through `arrow_flight`'s own client.

use arrow_flight::FlightDescriptor;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn put_get_append_replace() {
    let daemon = Daemon::start();
    let mut c = daemon.client().await;
    let meta = put(&mut c, json!({"name": "frame"}), vec![sample(10, 0)]).await.unwrap();
    assert_eq!(meta, json!({"version": 1, "rows": 10}));
    let got = get(&mut c, json!({"name": "frame", "bucket": null})).await.unwrap();
    assert_eq!(concat(&got), sample(10, 0));

    put(&mut c, json!({"name": "frame", "mode": "append"}), vec![sample(5, 10), sample(5, 15)]).await.unwrap();
    let got = get(&mut c, json!({"name": "frame"})).await.unwrap();
    assert_eq!(concat(&got), sample(20, 0));

    put(&mut c, json!({"name": "frame", "mode": "replace"}), vec![sample(3, 100)]).await.unwrap();
    assert_eq!(concat(&get(&mut c, json!({"name": "frame"})).await.unwrap()), sample(3, 100));

    // Older versions stay readable.
    let v2 = get(&mut c, json!({"name": "frame", "version": 2})).await.unwrap();
    assert_eq!(rows(&v2), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_ticket_and_listing() {
    let daemon = Daemon::start();
    let mut c = daemon.client().await;
    put(&mut c, json!({"name": "a", "bucket": "b"}), vec![sample(100, 0)]).await.unwrap();
    put(&mut c, json!({"name": "z", "bucket": "b"}), vec![sample(10, 0)]).await.unwrap();
    let got = get(&mut c, json!({"name": "a", "bucket": "b", "sql": "select count(*) as n from a join z using (id)"}))
        .await
        .unwrap();
    let n = got[0].column(0).as_any().downcast_ref::<arrow::array::Int64Array>().unwrap().value(0);
    assert_eq!(n, 10);

    let infos: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(
        c.list_flights(json!({"bucket": "b", "regex": "^a$"}).to_string()).await.unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].total_records, 100);
    assert_eq!(infos[0].flight_descriptor.as_ref().unwrap().path, vec!["a".to_string()]);

    let schema = c.get_schema(FlightDescriptor::new_path(vec!["b".into(), "a".into()])).await.unwrap();
    assert_eq!(&schema, sample(1, 0).schema().as_ref());
}

#[tokio::test(flavor = "multi_thread")]
async fn actions() {
    let daemon = Daemon::start();
    let mut c = daemon.client().await;
    assert_eq!(action(&mut c, "ping", json!(null)).await.unwrap(), vec!["pong"]);
    put(&mut c, json!({"name": "x", "bucket": "b1"}), vec![sample(1, 0)]).await.unwrap();
    assert_eq!(action(&mut c, "buckets", json!({})).await.unwrap(), vec![r#"["b1"]"#]);
    let err = action(&mut c, "delete_bucket", json!({"name": "b1", "mode": "error"})).await.unwrap_err();
    assert_eq!(error_type(&err).1, "BucketNotEmptyError");
    let reply = action(&mut c, "delete", json!({"name": "x", "bucket": "b1"})).await.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply[0]).unwrap(),
        json!({"success": true, "message": "deleted x"})
    );
    action(&mut c, "delete_bucket", json!({"name": "b1", "mode": "error"})).await.unwrap();
    assert_eq!(action(&mut c, "buckets", json!({})).await.unwrap(), vec!["[]"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_carry_type_and_message() {
    let daemon = Daemon::start();
    let mut c = daemon.client().await;
    put(&mut c, json!({"name": "frame"}), vec![sample(5, 0)]).await.unwrap();

    let cases = [
        (get(&mut c, json!({"name": "missing"})).await.unwrap_err(), "FileNotFoundError"),
        (put(&mut c, json!({"name": "frame"}), vec![sample(1, 0)]).await.unwrap_err(), "FileExistsError"),
        (get(&mut c, json!({"name": "frame", "sql": "select nope from frame"})).await.unwrap_err(), "DataFusionError"),
        (get(&mut c, json!({"name": "../etc"})).await.unwrap_err(), "InvalidNameError"),
        (
            put(&mut c, json!({"name": "frame", "mode": "sideways"}), vec![sample(1, 0)]).await.unwrap_err(),
            "InvalidArgumentError",
        ),
    ];
    for (err, expected) in cases {
        let (code, kind, message) = error_type(&err);
        assert_eq!(code, tonic::Code::Unknown);
        assert_eq!(kind, expected);
        assert!(!message.is_empty());
    }
    // Nothing of the refused puts was written.
    assert_eq!(rows(&get(&mut c, json!({"name": "frame"})).await.unwrap()), 5);
    let data = daemon.buckets().join("_default/frame/data");
    assert_eq!(std::fs::read_dir(data).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn put_result_reports_version() {
    let daemon = Daemon::start();
    let mut c = daemon.client().await;
    for v in 1..=3u64 {
        let meta = put(&mut c, json!({"name": "f", "mode": "append"}), vec![sample(2, 0)]).await.unwrap();
        assert_eq!(meta["version"], v);
    }
}
