//! Reading: DoGet, GetFlightInfo and GetSchema of the JSON dialect. A
//! ticket or descriptor resolves to one version of a dataframe or to a query.

use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::{FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, SchemaAsIpc, SchemaResult};
use futures::{StreamExt, TryStreamExt};

use super::json;
use super::outbound::{encode, FlightStream};
use super::ShootsFlight;
use crate::daemon::auth::Principal;
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::Scope;
use crate::daemon::sql::diff::{self, Diff};
use crate::daemon::sql::{writes, Query, Statement};
use crate::daemon::storage::{pinning, BucketId, Name, NamedSnapshot, RetentionRule, Snapshot, Target};
use crate::protocol::{FrameMeta, Ticket, DIFF_FILES, DIFF_FILES_READ};

/// What a descriptor or ticket points at.
enum Resolved {
    Frame(Snapshot),
    /// Some columns, rows or a limit of one version, in stored order.
    Selection(Snapshot, Box<Ticket>),
    Query {
        scope: Scope,
        query: Query,
    },
    /// An INSERT or a DELETE in a ticket's `sql`: it runs on DoGet.
    Write {
        scope: Scope,
        statement: Statement,
    },
    /// The rows that differ between two versions.
    Diff(Diff),
}

impl Resolved {
    /// `sql` seen from `scope`: a query, or a write.
    fn sql(scope: Scope, sql: &str) -> Result<Resolved> {
        Ok(match Statement::parse(sql, &scope.default)? {
            Statement::Query(query) => Resolved::Query { scope, query },
            statement => Resolved::Write { scope, statement },
        })
    }
}

/// A dataframe's FlightInfo, as ListFlights and GetFlightInfo give it;
/// `bucket_retention` and `snapshots` are its bucket's.
pub(super) fn frame_info(
    snap: &Snapshot,
    bucket_retention: Option<&RetentionRule>,
    snapshots: &[NamedSnapshot],
) -> Result<FlightInfo> {
    let ticket = Ticket::frame(snap.name.as_str(), snap.bucket.name());
    let retention = snap.retention(bucket_retention).map(|(rule, from_bucket)| json::retention(rule, from_bucket));
    let meta = FrameMeta {
        version: snap.commit.version,
        timestamp_ms: snap.commit.timestamp_ms,
        files: snap.commit.files.len(),
        retention,
        snapshots: pinning(snapshots, snap.name.as_str()).map(String::from).collect(),
    };
    Ok(FlightInfo::new()
        .try_with_schema(&snap.schema)
        .map_err(|e| DaemonError::internal("encoding a schema", e))?
        .with_descriptor(FlightDescriptor::new_path(vec![snap.name.to_string()]))
        .with_endpoint(FlightEndpoint::new().with_ticket(arrow_flight::Ticket::new(json::reply(&ticket))))
        .with_total_records(snap.commit.rows as i64)
        .with_total_bytes(snap.commit.bytes as i64)
        .with_app_metadata(json::reply(&meta)))
}

/// A diff's result schema, saying how many file entries it reads.
fn diff_schema(diff: &Diff, schema: &arrow::datatypes::Schema) -> SchemaRef {
    let metadata =
        [(DIFF_FILES_READ.to_string(), diff.files_read.to_string()), (DIFF_FILES.to_string(), diff.files.to_string())];
    std::sync::Arc::new(schema.clone().with_metadata(metadata.into()))
}

impl ShootsFlight {
    pub(super) async fn do_get_json(
        &self,
        ticket: &[u8],
        caller: &Principal,
    ) -> Result<(String, FlightStream<FlightData>)> {
        let (detail, resolved) = self.resolve_ticket(&json::ticket(ticket)?, caller).await?;
        let stream = match resolved {
            Resolved::Frame(snap) => encode(snap.schema.clone(), self.store.scan(&snap)),
            Resolved::Selection(snap, ticket) => {
                let results = self.engine.select(&snap, &ticket).await?.execute_stream().await?;
                encode(results.schema(), results.map_err(DaemonError::from).boxed())
            }
            Resolved::Query { scope, query } => {
                let results = self.engine.execute(&scope, &query).await?;
                encode(results.schema(), results.map_err(DaemonError::from).boxed())
            }
            Resolved::Diff(diff) => {
                let detail = format!("{detail} ({} of {} file entries read)", diff.files_read, diff.files);
                let results = self.engine.read(diff.table.clone())?.execute_stream().await?;
                let schema = diff_schema(&diff, &results.schema());
                return Ok((detail, encode(schema, results.map_err(DaemonError::from).boxed())));
            }
            Resolved::Write { scope, statement } => {
                let written = writes::run(&self.store, &self.engine, &scope, caller, &statement).await?;
                let column = statement.written_column().unwrap_or("rows");
                let batch = writes::written_batch(column, written.rows)?;
                let detail = format!("{detail} v{} ({} rows)", written.version, written.rows);
                return Ok((detail, encode(batch.schema(), futures::stream::iter([Ok(batch)]).boxed())));
            }
        };
        Ok((detail, stream))
    }

    pub(super) async fn flight_info_json(
        &self,
        descriptor: &FlightDescriptor,
        caller: &Principal,
    ) -> Result<(String, FlightInfo)> {
        let (detail, resolved) = self.resolve_descriptor(descriptor, caller).await?;
        let info = match &resolved {
            Resolved::Frame(snap) => {
                let bucket_retention = self.store.bucket_retention(&snap.bucket).await?;
                frame_info(snap, bucket_retention.as_ref(), &self.store.named_snapshots(&snap.bucket).await?)?
            }
            Resolved::Selection(..) | Resolved::Query { .. } | Resolved::Write { .. } | Resolved::Diff(_) => {
                FlightInfo::new()
                    .try_with_schema(self.schema_of(&resolved).await?.as_ref())
                    .map_err(|e| DaemonError::internal("encoding a schema", e))?
                    .with_descriptor(descriptor.clone())
                    .with_endpoint(FlightEndpoint::new().with_ticket(arrow_flight::Ticket::new(descriptor.cmd.clone())))
            }
        };
        Ok((detail, info))
    }

    pub(super) async fn schema_json(
        &self,
        descriptor: &FlightDescriptor,
        caller: &Principal,
    ) -> Result<(String, SchemaResult)> {
        let (detail, resolved) = self.resolve_descriptor(descriptor, caller).await?;
        let schema = self.schema_of(&resolved).await?;
        let result = SchemaAsIpc::new(&schema, &IpcWriteOptions::default())
            .try_into()
            .map_err(|e| DaemonError::internal("encoding a schema", e))?;
        Ok((detail, result))
    }

    /// A ticket names a dataframe (optionally a query over it or an older
    /// version), or holds only `sql`, run across every bucket.
    async fn resolve_ticket(&self, ticket: &Ticket, caller: &Principal) -> Result<(String, Resolved)> {
        let picks = [
            ("sql", ticket.sql.is_some()),
            ("version", ticket.version.is_some()),
            ("snapshot", ticket.snapshot.is_some()),
            ("diff", ticket.diff.is_some()),
        ];
        if let [(a, _), (b, _), ..] = picks.iter().filter(|(_, given)| *given).collect::<Vec<_>>()[..] {
            return Err(DaemonError::InvalidArgument(format!("a ticket takes either {a} or {b}, not both")));
        }
        if ticket.diff.is_some() && ticket.selects() {
            return Err(DaemonError::InvalidArgument(
                "a ticket takes either diff or columns, where and limit, not both".into(),
            ));
        }
        if ticket.sql.is_some() && ticket.selects() {
            return Err(DaemonError::InvalidArgument(
                "a ticket takes either sql or columns, where and limit, not both".into(),
            ));
        }
        let bucket = BucketId::parse(ticket.bucket.as_deref())?;
        let Some(name) = &ticket.name else {
            let Some(sql) = &ticket.sql else {
                return Err(DaemonError::InvalidArgument("a ticket needs a name, sql, or both".into()));
            };
            let scope = Scope::of_caller(bucket.clone(), caller)?;
            self.store.require_bucket(&bucket).await?;
            return Ok((format!("{bucket}: sql"), Resolved::sql(scope, sql)?));
        };
        let target = Target::parse(ticket.bucket.as_deref(), name)?;
        caller.require_bucket(&target.bucket)?;
        if let Some(spec) = &ticket.diff {
            let version = |v| self.store.snapshot(&target.bucket, &target.name, Some(v));
            let (before, after) = (version(spec.from).await?, version(spec.to).await?);
            let diff = diff::diff(&self.store, &before, &after, &spec.keys).await?;
            return Ok((format!("{target} diff v{}..v{}", spec.from, spec.to), Resolved::Diff(diff)));
        }
        let snap = match &ticket.snapshot {
            Some(snapshot) => {
                let snapshot = Name::parse("snapshot", snapshot)?;
                self.store.pinned(&target.bucket, &snapshot, &target.name).await?
            }
            None => self.store.snapshot(&target.bucket, &target.name, ticket.version).await?,
        };
        let resolved = match &ticket.sql {
            Some(sql) => Resolved::sql(Scope::new(target.bucket.clone(), caller), sql)?,
            None if ticket.selects() => Resolved::Selection(snap, Box::new(ticket.clone())),
            None => Resolved::Frame(snap),
        };
        Ok((target.to_string(), resolved))
    }

    async fn resolve_descriptor(
        &self,
        descriptor: &FlightDescriptor,
        caller: &Principal,
    ) -> Result<(String, Resolved)> {
        match descriptor.r#type() {
            DescriptorType::Path => {
                let target = match descriptor.path.as_slice() {
                    [name] => Target::parse(None, name)?,
                    [bucket, name] => Target::parse(Some(bucket), name)?,
                    _ => {
                        return Err(DaemonError::InvalidArgument(
                            "a path descriptor is [name] or [bucket, name]".into(),
                        ))
                    }
                };
                caller.require_bucket(&target.bucket)?;
                let snap = self.store.snapshot(&target.bucket, &target.name, None).await?;
                Ok((target.to_string(), Resolved::Frame(snap)))
            }
            DescriptorType::Cmd => {
                self.resolve_ticket(&json::parse("descriptor command", &descriptor.cmd)?, caller).await
            }
            DescriptorType::Unknown => Err(DaemonError::InvalidArgument("descriptor has no type".into())),
        }
    }

    async fn schema_of(&self, resolved: &Resolved) -> Result<SchemaRef> {
        match resolved {
            Resolved::Frame(snap) => Ok(snap.schema.clone()),
            Resolved::Selection(snap, ticket) => {
                Ok(std::sync::Arc::new(self.engine.select(snap, ticket).await?.schema().as_arrow().clone()))
            }
            Resolved::Query { scope, query } => self.engine.schema(scope, query).await,
            Resolved::Diff(diff) => Ok(diff_schema(diff, self.engine.read(diff.table.clone())?.schema().as_arrow())),
            // Asking for the schema does not run the write.
            Resolved::Write { statement, .. } => {
                Ok(writes::written_schema(statement.written_column().unwrap_or("rows")))
            }
        }
    }
}
