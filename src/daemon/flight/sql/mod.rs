//! The Flight SQL dialect (the README's "Flight SQL"): SQL tools (ADBC,
//! JDBC, pandas, polars, Grafana) on the daemon's one port. arrow-flight's
//! own message types and builders do the protobuf; this decides what each
//! command means for shoots. Statements carry everything in their handle
//! ([`statement`]); metadata calls answer from the store ([`metadata`]).

mod metadata;
mod statement;

pub(super) use statement::Remembered;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    Any, Command, CommandStatementIngest, DoPutPreparedStatementResult, DoPutUpdateResult, ProstMessageExt,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, PutResult, SchemaAsIpc,
};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use statement::Handle;
use tonic::metadata::MetadataMap;

use super::outbound::{encode_sql, one_result, FlightStream};
use super::upload::Upload;
use super::ShootsFlight;
use crate::daemon::auth::{Principal, Role};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::Scope;
use crate::daemon::sql::{writes, Statement};
use crate::daemon::storage::{BucketId, PutSpec, Target};
use crate::protocol::{PutMode, DEFAULT_SCHEMA};

/// The call headers that name the bucket of bare table names: shoots' own,
/// InfluxDB 3 clients' and Grafana's data source's.
const BUCKET_HEADERS: [&str; 3] = ["bucket", "database", "bucket-name"];

/// The bucket of bare names: the call's bucket header, else the default one.
fn header_bucket(headers: &MetadataMap) -> Result<Option<String>> {
    let named = BUCKET_HEADERS.iter().find_map(|h| headers.get(*h)).map(|v| {
        v.to_str().map(String::from).map_err(|_| DaemonError::InvalidArgument("the bucket header is not text".into()))
    });
    match named.transpose()? {
        Some(b) if b.is_empty() || b == DEFAULT_SCHEMA => Ok(None),
        other => Ok(other),
    }
}

fn read_only() -> DaemonError {
    DaemonError::InvalidArgument(
        "SQL in shoots writes with INSERT and DELETE only: updates are refused; write with bulk ingest".into(),
    )
}

fn unsupported(what: &str) -> DaemonError {
    DaemonError::InvalidArgument(format!("shoots does not support {what}"))
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e| DaemonError::internal("encoding a schema", e))?;
    Ok(bytes)
}

/// The one endpoint of a FlightInfo: a ticket any daemon of the store can
/// serve, and no location (the client asks the daemon it is talking to).
fn info(schema: &Schema, descriptor: &FlightDescriptor, ticket: Vec<u8>) -> Result<FlightInfo> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| DaemonError::internal("encoding a schema", e))?
        .with_descriptor(descriptor.clone())
        .with_endpoint(FlightEndpoint::new().with_ticket(arrow_flight::Ticket::new(ticket))))
}

fn statement_ticket(handle: &Handle) -> Vec<u8> {
    TicketStatementQuery { statement_handle: handle.encode().into() }.as_any().encode_to_vec()
}

impl ShootsFlight {
    fn sql_scope(&self, bucket: Option<&str>, caller: &Principal) -> Result<Scope> {
        Scope::of_caller(BucketId::parse(bucket)?, caller)
    }

    /// GetFlightInfo: the schema the DoGet will stream, and its ticket.
    pub(super) async fn sql_flight_info(
        &self,
        command: Command,
        descriptor: &FlightDescriptor,
        headers: &MetadataMap,
        caller: &Principal,
    ) -> Result<(String, FlightInfo)> {
        let handle = match command {
            Command::CommandStatementQuery(query) => {
                if query.transaction_id.is_some() {
                    return Err(unsupported("transactions"));
                }
                Handle::new(&query.query, header_bucket(headers)?)
            }
            Command::CommandPreparedStatementQuery(prepared) => {
                self.remembered.recall(Handle::decode(&prepared.prepared_statement_handle)?)
            }
            Command::CommandStatementUpdate(_) | Command::CommandPreparedStatementUpdate(_) => return Err(read_only()),
            Command::CommandStatementSubstraitPlan(_) => return Err(unsupported("Substrait plans")),
            Command::Unknown(any) => return Err(unknown(&any)),
            metadata => {
                // Metadata replies are small: made now for their schema, and
                // again by the DoGet of the command itself.
                let detail = command_name(&metadata);
                let batch = self.metadata_batch(metadata, caller).await?;
                return Ok((detail, info(&batch.schema(), descriptor, descriptor.cmd.to_vec())?));
            }
        };
        let scope = self.sql_scope(handle.bucket.as_deref(), caller)?;
        let params = handle.params()?;
        let query = match Statement::parse_bound(&handle.sql, &scope.default, &params)? {
            Statement::Query(query) => query,
            write => {
                // Submitting a write runs it: the DoGet only fetches the count.
                let rows = self.sql_write(&write, &scope, caller).await?;
                let mut done = handle;
                done.written = Some(rows);
                let detail = format!("sql: {} ({rows} rows)", done.sql);
                let schema = writes::written_schema(write.written_column().unwrap_or("rows"));
                return Ok((detail, info(&schema, descriptor, statement_ticket(&done))?));
            }
        };
        let schema = self.engine.bound_schema(&scope, &query, &params).await?;
        Ok((format!("sql: {}", handle.sql), info(&schema, descriptor, statement_ticket(&handle))?))
    }

    /// Runs an INSERT or a DELETE; the rows it wrote.
    async fn sql_write(&self, statement: &Statement, scope: &Scope, caller: &Principal) -> Result<u64> {
        Ok(writes::run(&self.store, &self.engine, scope, caller, statement).await?.rows)
    }

    pub(super) async fn sql_do_get(
        &self,
        command: Command,
        caller: &Principal,
    ) -> Result<(String, FlightStream<FlightData>)> {
        match command {
            Command::TicketStatementQuery(ticket) => {
                let handle = Handle::decode(&ticket.statement_handle)?;
                let scope = self.sql_scope(handle.bucket.as_deref(), caller)?;
                let params = handle.params()?;
                let query = match Statement::parse_bound(&handle.sql, &scope.default, &params)? {
                    Statement::Query(query) => query,
                    write => {
                        let rows = match handle.written {
                            Some(rows) => rows,
                            None => self.sql_write(&write, &scope, caller).await?,
                        };
                        let batch = writes::written_batch(write.written_column().unwrap_or("rows"), rows)?;
                        let stream = encode_sql(batch.schema(), futures::stream::iter([Ok(batch)]).boxed());
                        return Ok((format!("sql: {} ({rows} rows)", handle.sql), stream));
                    }
                };
                let results = self.engine.execute_bound(&scope, &query, &params).await?;
                let stream = encode_sql(results.schema(), results.map_err(DaemonError::from).boxed());
                Ok((format!("sql: {}", handle.sql), stream))
            }
            Command::Unknown(any) => Err(unknown(&any)),
            metadata => {
                let detail = command_name(&metadata);
                let batch = self.metadata_batch(metadata, caller).await?;
                Ok((detail, encode_sql(batch.schema(), futures::stream::iter([Ok(batch)]).boxed())))
            }
        }
    }

    async fn metadata_batch(&self, command: Command, caller: &Principal) -> Result<arrow::array::RecordBatch> {
        match command {
            Command::CommandGetCatalogs(c) => self.catalogs(c),
            Command::CommandGetDbSchemas(c) => self.db_schemas(c, caller).await,
            Command::CommandGetTables(c) => self.tables(c, caller).await,
            Command::CommandGetTableTypes(c) => self.table_types(c),
            Command::CommandGetSqlInfo(c) => metadata::sql_info(c),
            Command::CommandGetXdbcTypeInfo(c) => metadata::xdbc_type_info(c),
            Command::CommandGetPrimaryKeys(_) => Ok(metadata::primary_keys()),
            Command::CommandGetImportedKeys(_)
            | Command::CommandGetExportedKeys(_)
            | Command::CommandGetCrossReference(_) => Ok(metadata::foreign_keys()),
            other => {
                Err(DaemonError::InvalidArgument(format!("{} is not a ticket or a metadata call", other.type_url())))
            }
        }
    }

    /// DoPut: bulk ingest (a put), or parameters for a prepared statement.
    pub(super) async fn sql_do_put(
        &self,
        command: Command,
        upload: Upload,
        headers: &MetadataMap,
        caller: &Principal,
        detail: &mut String,
    ) -> Result<PutResult> {
        match command {
            Command::CommandStatementIngest(ingest) => self.ingest(ingest, upload, caller, detail).await,
            Command::CommandPreparedStatementQuery(prepared) => {
                let handle = Handle::decode(&prepared.prepared_statement_handle)?;
                *detail = format!("bind: {}", handle.sql);
                let (_, batches) = upload.decode().await?;
                let rows: Vec<_> = batches.try_collect().await?;
                let row = match rows.iter().filter(|b| b.num_rows() > 0).collect::<Vec<_>>().as_slice() {
                    [] => return Ok(PutResult::default()),
                    [one] => (*one).clone(),
                    _ => return Err(DaemonError::InvalidArgument("parameters arrive as one batch of one row".into())),
                };
                let bound = handle.bind(&row)?;
                self.remembered.keep(&bound);
                let reply = DoPutPreparedStatementResult { prepared_statement_handle: Some(bound.encode().into()) };
                Ok(PutResult { app_metadata: reply.encode_to_vec().into() })
            }
            Command::CommandStatementUpdate(update) => {
                let scope = self.sql_scope(header_bucket(headers)?.as_deref(), caller)?;
                let statement = Statement::parse(&update.query, &scope.default)?;
                if statement.written_column().is_none() {
                    return Err(read_only());
                }
                *detail = format!("sql: {}", update.query);
                let rows = self.sql_write(&statement, &scope, caller).await?;
                detail.push_str(&format!(" ({rows} rows)"));
                let reply = DoPutUpdateResult { record_count: rows as i64 };
                Ok(PutResult { app_metadata: reply.encode_to_vec().into() })
            }
            Command::CommandPreparedStatementUpdate(_) => Err(read_only()),
            Command::Unknown(any) => Err(unknown(&any)),
            other => Err(DaemonError::InvalidArgument(format!("{} is not an upload", other.type_url()))),
        }
    }

    /// `CommandStatementIngest`: the table is the dataframe, the db_schema
    /// its bucket; create fails on an existing one, append appends (and
    /// creates), replace replaces. All or nothing, as every put.
    async fn ingest(
        &self,
        ingest: CommandStatementIngest,
        upload: Upload,
        caller: &Principal,
        detail: &mut String,
    ) -> Result<PutResult> {
        use arrow_flight::sql::TableExistsOption;
        caller.require(Role::Write, "ingest tables")?;
        if ingest.temporary {
            return Err(unsupported("temporary tables"));
        }
        if ingest.transaction_id.is_some() {
            return Err(unsupported("transactions"));
        }
        if ingest.catalog.as_deref().is_some_and(|c| !c.is_empty() && c != metadata::CATALOG) {
            return Err(DaemonError::NotFound(format!(
                "no catalog {:?}; shoots has one, {:?}",
                ingest.catalog,
                metadata::CATALOG
            )));
        }
        let bucket = ingest.schema.as_deref().filter(|s| *s != DEFAULT_SCHEMA);
        let target = Target::parse(bucket, &ingest.table)?;
        caller.require_bucket(&target.bucket)?;
        let exists = ingest.table_definition_options.map(|o| o.if_exists()).unwrap_or(TableExistsOption::Unspecified);
        let mode = match exists {
            TableExistsOption::Append => PutMode::Append,
            TableExistsOption::Replace => PutMode::Replace,
            TableExistsOption::Fail | TableExistsOption::Unspecified => PutMode::Error,
        };
        *detail = format!("ingest {target} ({})", mode.as_str());
        let (mut schema, mut batches) = upload.decode().await?;
        if mode == PutMode::Append {
            if let Some(existing) = self.store.current(&target.bucket, &target.name).await? {
                (schema, batches) = conform(&existing.schema, schema, batches);
            }
        }
        let outcome = self.store_upload(&target, &PutSpec::plain(mode), schema, batches, detail).await?;
        let reply = DoPutUpdateResult { record_count: outcome.rows as i64 };
        Ok(PutResult { app_metadata: reply.encode_to_vec().into() })
    }

    /// Prepared statements hold no state: creating one plans it and hands
    /// back a handle with the SQL; closing one has nothing to do.
    pub(super) async fn sql_action(
        &self,
        action: &Action,
        headers: &MetadataMap,
        caller: &Principal,
    ) -> Result<(String, FlightStream<arrow_flight::Result>)> {
        let any = Any::decode(action.body.as_ref())
            .map_err(|e| DaemonError::InvalidArgument(format!("{} needs a protobuf Any body: {e}", action.r#type)))?;
        let unpack_error = |e: arrow::error::ArrowError| DaemonError::InvalidArgument(e.to_string());
        match action.r#type.as_str() {
            "CreatePreparedStatement" => {
                let request: ActionCreatePreparedStatementRequest =
                    any.unpack().map_err(unpack_error)?.ok_or_else(|| {
                        DaemonError::InvalidArgument("expected an ActionCreatePreparedStatementRequest".into())
                    })?;
                if request.transaction_id.is_some() {
                    return Err(unsupported("transactions"));
                }
                let handle = Handle::new(&request.query, header_bucket(headers)?).prepared();
                let scope = self.sql_scope(handle.bucket.as_deref(), caller)?;
                let (schema, params) = match Statement::parse(&handle.sql, &scope.default)? {
                    Statement::Query(query) => self.engine.prepare(&scope, &query).await?,
                    write => (writes::written_schema(write.written_column().unwrap_or("rows")), Vec::new()),
                };
                let result = ActionCreatePreparedStatementResult {
                    prepared_statement_handle: handle.encode().into(),
                    dataset_schema: schema_bytes(&schema)?,
                    parameter_schema: schema_bytes(&statement::parameter_schema(&params))?,
                };
                Ok((format!("sql: {}", handle.sql), one_result(result.as_any().encode_to_vec())))
            }
            "ClosePreparedStatement" => {
                let _: Option<ActionClosePreparedStatementRequest> = any.unpack().map_err(unpack_error)?;
                Ok((String::new(), Box::pin(futures::stream::empty())))
            }
            other => Err(unsupported(&format!(
                "the Flight SQL action {other} (transactions, savepoints, Substrait, cancel)"
            ))),
        }
    }
}

/// An append from another dataframe library spells text differently
/// (polars sends `Utf8View` where pandas made `LargeUtf8`): such columns
/// are cast to the dataframe's types. Anything else goes as it came, for
/// the store to accept or refuse.
fn conform(existing: &SchemaRef, incoming: SchemaRef, batches: Batches) -> (SchemaRef, Batches) {
    use arrow::datatypes::DataType::{Binary, BinaryView, LargeBinary, LargeUtf8, Utf8, Utf8View};
    let same_family = |a: &DataType, b: &DataType| {
        a == b
            || matches!((a, b), (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8 | Utf8View))
            || matches!((a, b), (Binary | LargeBinary | BinaryView, Binary | LargeBinary | BinaryView))
    };
    let names_match = existing.fields().len() == incoming.fields().len()
        && existing.fields().iter().zip(incoming.fields()).all(|(a, b)| a.name() == b.name());
    let castable = names_match
        && existing.fields().iter().zip(incoming.fields()).all(|(a, b)| same_family(a.data_type(), b.data_type()));
    if !castable || existing.fields().iter().zip(incoming.fields()).all(|(a, b)| a.data_type() == b.data_type()) {
        return (incoming, batches);
    }
    let target = existing.clone();
    let cast = batches.map(move |batch| {
        let batch = batch?;
        let columns = batch
            .columns()
            .iter()
            .zip(target.fields())
            .map(|(column, field)| arrow::compute::cast(column, field.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| DaemonError::bad_input("casting ingested text", e))?;
        RecordBatch::try_new(target.clone(), columns).map_err(|e| DaemonError::bad_input("casting ingested text", e))
    });
    (existing.clone(), cast.boxed())
}

type Batches = futures::stream::BoxStream<'static, Result<RecordBatch>>;

/// A command's message name, for the log (`CommandGetTables`).
fn command_name(command: &Command) -> String {
    command.type_url().rsplit('.').next().unwrap_or_default().to_string()
}

fn unknown(any: &Any) -> DaemonError {
    DaemonError::InvalidArgument(format!("unknown Flight SQL command {:?}", any.type_url))
}
