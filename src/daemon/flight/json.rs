//! The JSON dialect (the README's "Wire protocol"): request bodies parsed
//! into the protocol's types and validated into the store's, replies
//! encoded. Handlers take what comes out of here, never raw bytes.

use serde::de::DeserializeOwned;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{Name, PutSpec, RetentionRule, Target};
use crate::protocol::{
    self, DeleteBucketRequest, FrameRequest, ListCriteria, PutCommand, PutMode, Retention, SchemaPolicy, Ticket,
};

pub(super) fn parse<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    Ok(protocol::parse_json(what, bytes)?)
}

pub(super) fn put_command(cmd: &[u8]) -> Result<(Target, PutSpec)> {
    let command: PutCommand = parse("DoPut command", cmd)?;
    let spec = PutSpec {
        mode: command.mode(),
        merge_schema: command.schema == Some(SchemaPolicy::Merge),
        keys: command.keys.clone().unwrap_or_default(),
    };
    if spec.mode == PutMode::Upsert && spec.keys.is_empty() {
        return Err(DaemonError::InvalidArgument(
            "mode upsert needs \"keys\": the columns that identify a row (CLI: --key)".into(),
        ));
    }
    Ok((Target::parse(command.bucket.as_deref(), &command.name)?, spec))
}

/// A retention as the wire has it, validated.
pub(super) fn retention_rule(retention: &Retention) -> Result<RetentionRule> {
    let keep = protocol::parse_duration(&retention.keep)
        .map_err(|e| DaemonError::InvalidArgument(format!("retention \"keep\": {e}")))?;
    if keep.is_zero() {
        return Err(DaemonError::InvalidArgument("retention \"keep\" must be longer than 0s".into()));
    }
    Ok(RetentionRule { time_col: retention.time_col.clone(), keep_s: keep.as_secs() })
}

/// A stored retention as the wire has it.
pub(super) fn retention(rule: &RetentionRule, from_bucket: bool) -> Retention {
    Retention { time_col: rule.time_col.clone(), keep: protocol::format_duration(rule.keep_s), from_bucket }
}

pub(super) fn ticket(bytes: &[u8]) -> Result<Ticket> {
    parse("ticket", bytes)
}

/// Empty criteria list the default bucket.
pub(super) fn criteria(bytes: &[u8]) -> Result<ListCriteria> {
    if bytes.is_empty() {
        Ok(ListCriteria::default())
    } else {
        parse("criteria", bytes)
    }
}

pub(super) fn frame_request(what: &str, body: &[u8]) -> Result<(Target, FrameRequest)> {
    let request: FrameRequest = parse(what, body)?;
    Ok((Target::parse(request.bucket.as_deref(), &request.name)?, request))
}

pub(super) fn delete_bucket_request(body: &[u8]) -> Result<(Name, protocol::BucketDeleteMode)> {
    let request: DeleteBucketRequest = parse("delete_bucket request", body)?;
    Ok((Name::parse("bucket", &request.name)?, request.mode.unwrap_or_default()))
}

/// A reply body.
pub(super) fn reply(body: &impl serde::Serialize) -> Vec<u8> {
    protocol::to_json(body)
}

/// A named snapshot as the snapshot actions answer it.
pub(super) fn snapshot_info(snapshot: &crate::daemon::storage::NamedSnapshot) -> protocol::SnapshotInfo {
    let commits = snapshot.frames.values();
    protocol::SnapshotInfo {
        name: snapshot.name.clone(),
        created_ms: snapshot.created_ms,
        dataframes: snapshot.frames.iter().map(|(name, c)| (name.clone(), c.version)).collect(),
        rows: commits.clone().map(|c| c.rows).sum(),
        bytes: commits.map(|c| c.bytes).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::error::DaemonError;
    use crate::daemon::storage::BucketId;
    use crate::protocol::ResampleRequest;

    #[test]
    fn put_command_defaults_to_error_mode_and_default_bucket() {
        let (target, spec) = put_command(br#"{"name": "x", "batch_size": 100}"#).unwrap();
        assert_eq!(spec.mode, PutMode::Error);
        assert_eq!(target.bucket, BucketId::Default);
    }

    #[test]
    fn wrong_types_and_unknown_modes_are_invalid_arguments() {
        for body in [
            &br#"{"name": 3}"#[..],
            br#"{"name": "x", "mode": "merge"}"#,
            br#"{"name": "x", "mode": "upsert"}"#,
            br#"{"name": "x", "mode": "upsert", "keys": []}"#,
            br#"{"name": "x", "schema": "loose"}"#,
            b"not json",
            b"[]",
        ] {
            let kind = put_command(body).map(|_| ()).unwrap_err().kind();
            assert_eq!(kind, protocol::ErrorKind::InvalidArgument, "{:?}", String::from_utf8_lossy(body));
        }
        let huge = vec![b' '; protocol::MAX_JSON_BYTES + 1];
        assert!(matches!(put_command(&huge), Err(DaemonError::BadBody(_))));
    }

    fn any_request(bytes: &[u8]) {
        // Each body parser either yields a request or an InvalidArgument;
        // validating what it yields gives names errors, never a panic.
        let check = |r: Result<()>| {
            use protocol::ErrorKind::{InvalidArgument, InvalidName};
            assert!(r.as_ref().map_or_else(|e| matches!(e.kind(), InvalidArgument | InvalidName), |_| true), "{r:?}")
        };
        check(put_command(bytes).map(|_| ()));
        check(ticket(bytes).and_then(|t| BucketId::parse(t.bucket.as_deref()).map(|_| ())));
        check(criteria(bytes).map(|_| ()));
        check(frame_request("delete", bytes).map(|_| ()));
        check(delete_bucket_request(bytes).map(|_| ()));
        check(parse::<ResampleRequest>("resample", bytes).and_then(|r| {
            Target::parse(r.source_bucket.as_deref(), &r.source)?;
            Target::parse(r.target_bucket.as_deref(), &r.target).map(|_| ())
        }));
    }

    /// Any JSON value, nested a few levels, with the keys requests use
    /// among arbitrary ones so the parsers get past their first field.
    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
        ];
        let key = prop_oneof![
            Just("name".to_string()),
            Just("bucket".to_string()),
            Just("sql".to_string()),
            Just("version".to_string()),
            Just("mode".to_string()),
            Just("regex".to_string()),
            Just("retain".to_string()),
            Just("source".to_string()),
            Just("target".to_string()),
            Just("rule".to_string()),
            "\\PC{0,6}",
        ];
        leaf.prop_recursive(3, 24, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_json_never_panics(value in json_value()) {
            any_request(value.to_string().as_bytes());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            any_request(&bytes);
        }

        #[test]
        fn json_shaped_requests_never_panic(
            name in "\\PC{0,20}",
            bucket in proptest::option::of("\\PC{0,20}"),
            mode in "\\PC{0,8}",
            extra in "[\\[\\]{}:,\"0-9a-z ]{0,30}",
        ) {
            let body = serde_json::json!({"name": name, "bucket": bucket, "mode": mode, "source": name,
                                          "target": extra, "sql": extra});
            any_request(body.to_string().as_bytes());
            let mangled = format!("{{\"name\": {extra}, \"bucket\": {extra}}}");
            any_request(mangled.as_bytes());
        }
    }
}
