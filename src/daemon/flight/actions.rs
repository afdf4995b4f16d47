//! DoAction and ListActions of the JSON dialect. Each [`ActionKind`] (its
//! name and description are the protocol's) has here the role it needs and
//! its handler; ListActions lists [`ActionKind::ALL`].

use arrow_flight::{Action, ActionType};

use super::dialect::FLIGHT_SQL_ACTIONS;
use super::json;
use super::outbound::{one_result, FlightStream};
use super::ShootsFlight;
use crate::daemon::auth::{Principal, Role};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::resample::{self, ResampleJob};
use crate::daemon::storage::{BucketId, Name, Target};
use crate::protocol::{
    ActionKind, CompactReply, DeleteReply, DeleteRowsReply, DeleteRowsRequest, MessageReply, ResampleRequest,
    RetentionReply, SetRetentionRequest, SnapshotRequest, StatsReply, VacuumReply, VersionInfo, SHUTDOWN_REPLY,
};

/// What the log says about the call, and the reply's one body.
type Answer = (String, Vec<u8>);

/// The role an action needs beyond `read`, and what a refusal says it was for.
fn needs(kind: ActionKind) -> Option<(Role, &'static str)> {
    match kind {
        ActionKind::Ping | ActionKind::Buckets | ActionKind::History | ActionKind::Stats | ActionKind::Snapshots => {
            None
        }
        ActionKind::CreateSnapshot | ActionKind::DeleteSnapshot => Some((Role::Write, "create or remove snapshots")),
        ActionKind::Delete => Some((Role::Write, "delete dataframes")),
        ActionKind::DeleteRows => Some((Role::Write, "delete rows")),
        ActionKind::SetRetention => Some((Role::Write, "set retention")),
        ActionKind::Compact | ActionKind::Vacuum => Some((Role::Write, "compact or vacuum dataframes")),
        ActionKind::Resample => Some((Role::Write, "resample")),
        ActionKind::DeleteBucket => Some((Role::Admin, "delete buckets")),
        ActionKind::Shutdown => Some((Role::Admin, "shut the daemon down")),
    }
}

/// The JSON dialect's actions, then Flight SQL's.
pub(super) fn list() -> impl Iterator<Item = ActionType> {
    let json = ActionKind::ALL.into_iter().map(|a| (a.name(), a.description()));
    json.chain(FLIGHT_SQL_ACTIONS)
        .map(|(name, description)| ActionType { r#type: name.into(), description: description.into() })
}

impl ShootsFlight {
    pub(super) async fn action_json(
        &self,
        action: &Action,
        caller: &Principal,
    ) -> Result<(String, FlightStream<arrow_flight::Result>)> {
        let kind: ActionKind = action.r#type.parse().map_err(|()| {
            DaemonError::InvalidArgument(format!(
                "unknown action \"{}\"; ListActions names the available ones",
                action.r#type.escape_default()
            ))
        })?;
        if let Some((role, what)) = needs(kind) {
            caller.require(role, what)?;
        }
        let body = action.body.as_ref();
        let (detail, reply) = match kind {
            ActionKind::Ping => (String::new(), b"pong".to_vec()),
            ActionKind::Buckets => self.buckets(caller).await?,
            ActionKind::Delete => self.delete(body, caller).await?,
            ActionKind::DeleteBucket => self.delete_bucket(body, caller).await?,
            ActionKind::History => self.history(body, caller).await?,
            ActionKind::Compact | ActionKind::Vacuum => self.maintain(kind, body, caller).await?,
            ActionKind::Resample => self.resample(body, caller).await?,
            ActionKind::Shutdown => {
                self.shutdown.trigger();
                (String::new(), json::reply(&SHUTDOWN_REPLY))
            }
            ActionKind::Stats => (String::new(), json::reply(&self.stats())),
            ActionKind::DeleteRows => self.delete_rows(body, caller).await?,
            ActionKind::SetRetention => self.set_retention(body, caller).await?,
            ActionKind::CreateSnapshot | ActionKind::Snapshots | ActionKind::DeleteSnapshot => {
                self.snapshots(kind, body, caller).await?
            }
        };
        Ok((detail, one_result(reply)))
    }

    fn stats(&self) -> StatsReply {
        let store_requests = self.store.requests().into_iter().map(|(kind, n)| (kind.to_string(), n)).collect();
        StatsReply {
            store: self.store.location().to_string(),
            uptime_s: self.metrics.uptime().as_secs(),
            store_requests,
        }
    }

    async fn buckets(&self, caller: &Principal) -> Result<Answer> {
        let all = self.store.bucket_ids().await?;
        let buckets: Vec<&str> = all.iter().filter(|b| caller.may_use(b)).filter_map(BucketId::name).collect();
        Ok((format!("{} buckets", buckets.len()), json::reply(&buckets)))
    }

    async fn delete(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let (target, _) = json::frame_request("delete request", body)?;
        caller.require_bucket(&target.bucket)?;
        self.store.delete(&target.bucket, &target.name).await?;
        let reply = DeleteReply { success: true, message: format!("deleted {}", target.name) };
        Ok((target.to_string(), json::reply(&reply)))
    }

    async fn delete_rows(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let request: DeleteRowsRequest = json::parse("delete_rows request", body)?;
        let target = Target::parse(request.bucket.as_deref(), &request.name)?;
        caller.require_bucket(&target.bucket)?;
        let done = self.store.delete_rows(&target.bucket, &target.name, &request.predicate).await?;
        self.store.maybe_compact_in_background(&target.bucket, &target.name, done.small_files);
        let (rows_deleted, version) = (done.removed, done.version);
        let detail = format!("{target} -{rows_deleted} rows v{version}");
        Ok((detail, json::reply(&DeleteRowsReply { rows_deleted, version })))
    }

    /// On a dataframe, or without a name on its bucket; applied at once in
    /// the background, then every `--retention-every`.
    async fn set_retention(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let request: SetRetentionRequest = json::parse("set_retention request", body)?;
        let bucket = BucketId::parse(request.bucket.as_deref())?;
        caller.require_bucket(&bucket)?;
        let rule = request.retention.as_ref().map(json::retention_rule).transpose()?;
        let said = |what: String| match &rule {
            Some(r) => format!(
                "{what} keeps rows of the last {} by {}",
                crate::protocol::format_duration(r.keep_s),
                r.time_col
            ),
            None => format!("{what} keeps all rows"),
        };
        let (detail, message) = match &request.name {
            Some(name) => {
                let target = Target::parse(request.bucket.as_deref(), name)?;
                let version = self.store.set_retention(&target.bucket, &target.name, rule.clone()).await?;
                (target.to_string(), said(format!("dataframe {} (version {version})", target.name)))
            }
            None => {
                self.store.set_bucket_retention(&bucket, rule.clone()).await?;
                (bucket.to_string(), said(format!("every dataframe of bucket {bucket} without its own retention")))
            }
        };
        if rule.is_some() {
            self.retention.run_soon();
        }
        let retention = rule.as_ref().map(|r| json::retention(r, request.name.is_none()));
        Ok((detail, json::reply(&RetentionReply { retention, message })))
    }

    async fn delete_bucket(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let (name, mode) = json::delete_bucket_request(body)?;
        caller.require_bucket(&BucketId::Named(name.clone()))?;
        self.store.delete_bucket(&name, mode).await?;
        Ok((name.to_string(), json::reply(&MessageReply { message: format!("bucket {name} deleted") })))
    }

    async fn history(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let (target, _) = json::frame_request("history request", body)?;
        caller.require_bucket(&target.bucket)?;
        let versions: Vec<VersionInfo> =
            self.store.history(&target.bucket, &target.name).await?.iter().map(|c| c.summary()).collect();
        Ok((target.to_string(), json::reply(&versions)))
    }

    /// `compact` (which vacuums after) and `vacuum`.
    async fn maintain(&self, kind: ActionKind, body: &[u8], caller: &Principal) -> Result<Answer> {
        let (target, request) = json::frame_request("request", body)?;
        caller.require_bucket(&target.bucket)?;
        let compacted = match kind {
            ActionKind::Compact => Some(self.store.compact(&target.bucket, &target.name).await?),
            _ => None,
        };
        let retain = request.retain.unwrap_or(self.store.options().retain_versions);
        let vacuumed = self.store.vacuum(&target.bucket, &target.name, retain).await?;
        let vacuum = VacuumReply {
            versions_removed: vacuumed.versions_removed,
            files_deleted: vacuumed.files_deleted,
            files_waiting: vacuumed.files_waiting,
        };
        let reply = match compacted {
            Some(done) => json::reply(&CompactReply {
                version: done.version,
                files_before: done.files_before,
                files_after: done.files_after,
                vacuum,
            }),
            None => json::reply(&vacuum),
        };
        Ok((target.to_string(), reply))
    }

    /// `create_snapshot`, `snapshots` and `delete_snapshot`.
    async fn snapshots(&self, kind: ActionKind, body: &[u8], caller: &Principal) -> Result<Answer> {
        let request: SnapshotRequest = json::parse("snapshot request", body)?;
        let bucket = BucketId::parse(request.bucket.as_deref())?;
        caller.require_bucket(&bucket)?;
        let name = || match &request.name {
            Some(name) => Name::parse("snapshot", name),
            None => Err(DaemonError::InvalidArgument("a snapshot request needs the snapshot's name".into())),
        };
        let (detail, reply) = match kind {
            ActionKind::CreateSnapshot => {
                let only = match &request.dataframes {
                    Some(names) => Some(names.iter().map(|n| Name::parse("dataframe", n)).collect::<Result<Vec<_>>>()?),
                    None => None,
                };
                let made = self.store.create_snapshot(&bucket, &name()?, only.as_deref()).await?;
                (format!("{bucket}: {} +", made.name), json::reply(&json::snapshot_info(&made)))
            }
            ActionKind::DeleteSnapshot => {
                let gone = self.store.drop_snapshot(&bucket, &name()?).await?;
                (format!("{bucket}: {} -", gone.name), json::reply(&json::snapshot_info(&gone)))
            }
            _ => {
                let all = self.store.named_snapshots(&bucket).await?;
                let infos: Vec<_> = all.iter().map(json::snapshot_info).collect();
                (format!("{bucket}: {} snapshots", infos.len()), json::reply(&infos))
            }
        };
        Ok((detail, reply))
    }

    async fn resample(&self, body: &[u8], caller: &Principal) -> Result<Answer> {
        let request: ResampleRequest = json::parse("resample request", body)?;
        let job = ResampleJob {
            source: Target::parse(request.source_bucket.as_deref(), &request.source)?,
            target: Target::parse(request.target_bucket.as_deref(), &request.target)?,
            mode: request.mode(),
            sql: request.sql,
            rule: request.rule,
            time_col: request.time_col,
            aggregation: request.aggregation_func,
        };
        let detail = format!("{} -> {}", job.source, job.target);
        let reply = resample::resample(&self.store, &self.engine, job, caller).await?;
        Ok((detail, json::reply(&reply)))
    }
}
