//! Queries in both protocols: simple (`Query`: text results, several
//! statements) and extended (`Parse`/`Bind`/`Execute`: `$n` parameters,
//! named statements, portals fetched in pages, binary results).

use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow_pg::datatypes::df::deserialize_parameters;
use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch, into_pg_type};
use async_trait::async_trait;
use bytes::BytesMut;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::scalar::ScalarValue;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{CopyResponse, DataRowEncoder, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::{Entry, MemPortalStore, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::data::DataRow;
use pgwire::messages::PgWireBackendMessage;
use pgwire::types::format::FormatOptions;

use super::copy::CopyFormat;
use super::copy_binary;
use super::copy_in::{self, CopyIn};
use super::errors::{code, error};
use super::session::Session;
use super::statement::{self, Statement, Transaction};
use super::type_info;
use super::PgState;
use crate::daemon::auth::Role;
use crate::daemon::error::DaemonError;
use crate::daemon::query::QueryEngine;
use crate::daemon::sql::writes::Fill;
use crate::daemon::sql::{self, writes};
use crate::daemon::storage::{PutSpec, Target};
use crate::protocol::PutMode;

pub struct Queries {
    state: Arc<PgState>,
    parser: Arc<Parser>,
}

impl Queries {
    pub fn new(state: Arc<PgState>) -> Queries {
        let parser = Arc::new(Parser { engine: state.engine.clone(), sql: PostgresCompatibilityParser::new() });
        Queries { state, parser }
    }

    /// Runs one statement; `params` fill a query's placeholders.
    async fn run<C>(
        &self,
        client: &C,
        statement: &Statement,
        params: &[ScalarValue],
        format: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore,
        C::PortalStore: PortalStore,
    {
        let session = session(client)?;
        Ok(match statement {
            Statement::Query(query) => {
                let stream = self.state.engine.execute_bound(&session.scope, query, params).await?;
                let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                Response::Query(respond(stream, format, options).await?)
            }
            Statement::Write(parsed) => {
                let mut bound = (**parsed).clone();
                sql::statement::bind(&mut bound, params)?;
                let write = sql::Statement::write_from_ast(&bound, &session.scope.default).expect("a write")?;
                let done =
                    writes::run(&self.state.store, &self.state.engine, &session.scope, &session.principal, &write)
                        .await?;
                let rows = usize::try_from(done.rows).unwrap_or(usize::MAX);
                Response::Execution(match write {
                    sql::Statement::Insert(_) => Tag::new("INSERT").with_oid(0).with_rows(rows),
                    _ => Tag::new("DELETE").with_rows(rows),
                })
            }
            Statement::CopyIn { target, columns, format: copy } => {
                let copy_in = self.copy_in(&session, target, columns, copy).await?;
                let columns = copy_in.columns();
                *session.copy_in.lock().await = Some(copy_in);
                Response::CopyIn(CopyResponse::new(copy.code(), columns, futures::stream::empty()))
            }
            Statement::CopyOut { sql, format: copy } => {
                let stream =
                    self.state.engine.execute_bound(&session.scope, &sql::Query::plain(sql.as_str()), params).await?;
                Response::CopyOut(copy_out(stream, copy).await?)
            }
            Statement::Declare { name, sql, binary } => {
                let stream =
                    self.state.engine.execute_bound(&session.scope, &sql::Query::plain(sql.as_str()), params).await?;
                let schema = stream.schema();
                let format = if *binary { Format::UnifiedBinary } else { Format::UnifiedText };
                let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
                let rows = respond(stream, &format, options).await?;
                let prepared = Prepared { statement: statement.clone(), schema: Some(schema.clone()), params: vec![] };
                let mut cursor =
                    Portal::new_cursor(name.clone(), Arc::new(StoredStatement::new(name.clone(), prepared, vec![])));
                cursor.result_column_format = format;
                cursor.start(rows).await;
                portals(client)?.put_portal(Arc::new(cursor));
                session.open_cursor(name, schema);
                Response::Execution(Tag::new("DECLARE CURSOR"))
            }
            Statement::Fetch { name, count } => {
                let cursor = match portals(client)?.get_portal(name) {
                    Some(Entry::Value(cursor)) if session.cursor(name).is_some() => cursor,
                    _ => return Err(error(code::INVALID_CURSOR_NAME, format!("cursor \"{name}\" does not exist"))),
                };
                let mut fetched = cursor.fetch(count.unwrap_or(0)).await?.response;
                fetched.set_command_tag("FETCH");
                Response::Query(fetched)
            }
            Statement::Close(name) => {
                let portals = portals(client)?;
                for name in session.close_cursors(name.as_deref()) {
                    portals.rm_portal(&name);
                }
                Response::Execution(Tag::new("CLOSE CURSOR"))
            }
            Statement::TypeInfo => Response::Query(type_info::answer(&[], type_info::fields(format))?),
            Statement::Set { name, value } => {
                session.set(name, value.clone());
                Response::Execution(Tag::new("SET"))
            }
            Statement::Reset(name) => {
                session.reset(name.as_deref());
                Response::Execution(Tag::new("RESET"))
            }
            Statement::Show(name) => {
                let value = session.show(name).ok_or_else(|| {
                    error(code::UNDEFINED_OBJECT, format!("unrecognized configuration parameter \"{name}\""))
                })?;
                let fields = Arc::new(show_fields(name, format));
                let mut row = DataRowEncoder::new(fields.clone());
                row.encode_field(&Some(value))?;
                let row = Ok(row.take_row());
                Response::Query(QueryResponse::new(fields, futures::stream::once(async move { row })))
            }
            Statement::Accepted { tag, transaction } => match transaction {
                Transaction::Unchanged => Response::Execution(Tag::new(tag)),
                Transaction::Begins => Response::TransactionStart(Tag::new(tag)),
                Transaction::Ends => {
                    // Cursors live as long as their transaction (WITHOUT HOLD).
                    let portals = portals(client)?;
                    for name in session.close_cursors(None) {
                        portals.rm_portal(&name);
                    }
                    Response::TransactionEnd(Tag::new(tag))
                }
            },
        })
    }
}

impl Queries {
    /// Starts the put a `COPY ... FROM STDIN` streams into: an append to an
    /// existing dataframe, of the columns named (the rest NULL).
    async fn copy_in(
        &self,
        session: &Session,
        target: &Target,
        columns: &[String],
        format: &CopyFormat,
    ) -> PgWireResult<CopyIn> {
        let (bucket, name) = (target.bucket.clone(), target.name.clone());
        session.principal.require(Role::Write, "copy rows in")?;
        session.principal.require_bucket(&bucket)?;
        let store = self.state.store.clone();
        let Some(existing) = store.current(&bucket, &name).await? else {
            return Err(
                DaemonError::NotFound(format!("dataframe {name} not found: COPY appends to an existing one")).into()
            );
        };
        let schema = existing.schema.clone();
        let names: Vec<String> = if columns.is_empty() {
            schema.fields().iter().map(|f| f.name().clone()).collect()
        } else {
            columns.to_vec()
        };
        let fill = Fill::new(&schema, &CopyIn::text_schema(&names), columns, name.as_str())?;
        // How a binary COPY encodes each column: its type in query results.
        let types = names
            .iter()
            .map(|n| {
                let field = schema.field_with_name(n).map_err(|e| DaemonError::SchemaMismatch(e.to_string()))?;
                Ok((n.clone(), into_pg_type(field.data_type())?))
            })
            .collect::<PgWireResult<Vec<_>>>()?;
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let put = tokio::spawn(async move {
            let batches = copy_in::batches(receiver);
            let done = store.put(&bucket, &name, PutSpec::plain(PutMode::Append), schema, batches).await?;
            store.maybe_compact_in_background(&bucket, &name, done.small_files);
            Ok(done)
        });
        Ok(CopyIn::new(format.clone(), types, fill, sender, put))
    }
}

#[async_trait]
impl CopyHandler for Queries {
    async fn on_copy_data<C>(&self, client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(copy_in) = session(client)?.copy_in.lock().await.as_mut() {
            copy_in.data(&data.data).await;
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy_in) = session(client)?.copy_in.lock().await.take() else {
            return Err(error(code::PROTOCOL_VIOLATION, "CopyDone without a COPY under way"));
        };
        let rows = copy_in.finish().await?;
        let tag = Tag::new("COPY").with_rows(usize::try_from(rows).unwrap_or(usize::MAX));
        client.send(PgWireBackendMessage::CommandComplete(tag.into())).await?;
        Ok(())
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let taken = match session(client) {
            Ok(session) => session.copy_in.lock().await.take(),
            Err(e) => return e,
        };
        if let Some(copy_in) = taken {
            copy_in.abort(&fail.message).await;
        }
        error(code::QUERY_CANCELED, format!("COPY from the client failed, nothing was written: {}", fail.message))
    }
}

fn session<C: ClientInfo>(client: &C) -> PgWireResult<Arc<Session>> {
    client.session_extensions().get::<Session>().ok_or_else(|| error(code::INVALID_AUTHORIZATION, "not signed in"))
}

/// The connection's statements and portals, as pgwire keeps them: the
/// store is of this handler's statement type whichever protocol asks.
fn portals<C: ClientPortalStore>(client: &C) -> PgWireResult<&MemPortalStore<Prepared>>
where
    C::PortalStore: PortalStore,
{
    client
        .portal_store()
        .as_any()
        .downcast_ref::<MemPortalStore<Prepared>>()
        .ok_or_else(|| error(code::INTERNAL, "the connection keeps no portals of shoots"))
}

fn show_fields(name: &str, format: &Format) -> Vec<FieldInfo> {
    vec![FieldInfo::new(name.to_string(), None, None, Type::TEXT, format.format_for(0))]
}

/// Streams `stream`'s rows in Postgres' encoding. The first batch is
/// awaited here, within the query's cancellable part, where an aggregate
/// or a sort does its work.
async fn respond(
    mut stream: SendableRecordBatchStream,
    format: &Format,
    options: Arc<FormatOptions>,
) -> PgWireResult<QueryResponse> {
    let schema = stream.schema();
    let fields = Arc::new(arrow_schema_to_pg_fields(schema.as_ref(), format, Some(options))?);
    // All binary, of types written column-wise: a row is a tuple of the
    // binary COPY without its field count (the same bytes, one mapping).
    let columnwise = (0..fields.len()).all(|i| format.is_binary(i)) && copy_binary::writes(&schema);
    let first = stream.next().await;
    let batches = futures::stream::iter(first).chain(stream);
    let encoding = fields.clone();
    let rows = batches
        .map(move |batch| -> Box<dyn Iterator<Item = PgWireResult<DataRow>> + Send + Sync> {
            match batch {
                Ok(batch) if columnwise => {
                    let count = batch.num_columns() as i16;
                    let tuples = copy_binary::tuples(&batch, false).unwrap_or_default();
                    Box::new(tuples.into_iter().map(move |t| Ok(DataRow::new(BytesMut::from(&t[2..]), count))))
                }
                Ok(batch) => encode_recordbatch(encoding.clone(), batch),
                Err(e) => Box::new(std::iter::once(Err(DaemonError::from(e).into()))),
            }
        })
        .flat_map(futures::stream::iter);
    Ok(QueryResponse::new(fields, rows))
}

/// Streams `stream`'s rows as COPY data, one message a row (the command
/// tag counts them).
async fn copy_out(stream: SendableRecordBatchStream, copy: &CopyFormat) -> PgWireResult<CopyResponse> {
    let schema = stream.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let (code, columns) = (copy.code(), names.len());
    if copy.binary() && copy_binary::writes(&schema) {
        // Binary straight from the columns.
        // Made as text and then marked binary: for binary,
        // `CopyResponse::new` adds a trailer of its own after this one's.
        let mut response = CopyResponse::new(0, columns, copy_binary::copy_data(stream));
        response.format = code;
        return Ok(response);
    }
    let format = if copy.binary() { Format::UnifiedBinary } else { Format::UnifiedText };
    let header = copy.header(&names);
    let rows = respond(stream, &format, Arc::new(FormatOptions::default())).await?.data_rows;
    let copy = copy.clone();
    let mut first = true;
    let data = rows.map(move |row| {
        let data = copy.row(&row?, first);
        first = false;
        data
    });
    Ok(CopyResponse::new(code, columns, futures::stream::iter(header.map(Ok)).chain(data)))
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = statement::parse(&self.parser.sql, query, &session(client)?.scope.default)?;
        let mut responses = Vec::with_capacity(statements.len());
        for statement in &statements {
            // A failed statement ends the batch, as in Postgres.
            match self.run(client, statement, &[], &Format::UnifiedText).await {
                Ok(response) => responses.push(response),
                Err(PgWireError::UserError(info)) => {
                    responses.push(Response::Error(info));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(responses)
    }
}

/// A statement parsed once (`Parse`) and executed any number of times.
#[derive(Debug, Clone)]
pub struct Prepared {
    statement: Statement,
    /// A query's result columns (`None` for the rest but `SHOW`).
    schema: Option<SchemaRef>,
    /// A query's placeholders, `$1` first, with the types the plan infers.
    params: Vec<Option<DataType>>,
}

pub struct Parser {
    engine: Arc<QueryEngine>,
    sql: PostgresCompatibilityParser,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = statement::parse(&self.sql, sql, &session(client)?.scope.default)?;
        if statements.len() > 1 {
            return Err(error(code::SYNTAX_ERROR, "cannot insert multiple commands into a prepared statement"));
        }
        let Some(statement) = statements.pop() else { return Ok(None) };
        let (schema, params) = match &statement {
            Statement::Query(query) => {
                let (schema, params) = self.engine.prepare(&session(client)?.scope, query).await?;
                (Some(schema), params.into_iter().map(|(_, t)| t).collect())
            }
            Statement::Show(name) => {
                (Some(Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, true)]))), Vec::new())
            }
            Statement::Fetch { name, .. } => (session(client)?.cursor(name), Vec::new()),
            _ => (None, Vec::new()),
        };
        Ok(Some(Prepared { statement, schema, params }))
    }

    fn get_parameter_types(&self, prepared: &Prepared) -> PgWireResult<Vec<Type>> {
        if prepared.statement == Statement::TypeInfo {
            return Ok(type_info::parameter_types());
        }
        // A placeholder whose type the plan cannot tell is sent as text.
        Ok(prepared
            .params
            .iter()
            .map(|t| t.as_ref().and_then(|t| into_pg_type(t).ok()).unwrap_or(Type::TEXT))
            .collect())
    }

    fn get_result_schema(&self, prepared: &Prepared, format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        let format = format.unwrap_or(&Format::UnifiedText);
        if prepared.statement == Statement::TypeInfo {
            return Ok(type_info::fields(format));
        }
        match &prepared.schema {
            Some(schema) => arrow_schema_to_pg_fields(schema, format, None),
            None => Ok(Vec::new()),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        if prepared.statement == Statement::TypeInfo {
            let asked = type_info::oids(
                portal.parameters.first().cloned().flatten().as_deref(),
                portal.parameter_format.is_binary(0),
            )?;
            return Ok(Response::Query(type_info::answer(&asked, type_info::fields(&portal.result_column_format))?));
        }
        let params = bind(portal, &prepared.params)?;
        self.run(client, &prepared.statement, &params, &portal.result_column_format).await
    }
}

/// A portal's parameter values, decoded by the type the client named or
/// else the one the plan inferred (text when it inferred none).
fn bind(portal: &Portal<Prepared>, types: &[Option<DataType>]) -> PgWireResult<Vec<ScalarValue>> {
    if portal.parameter_len() == 0 {
        return Ok(Vec::new());
    }
    // The plan's type, else the client's, else text.
    let hinted = |i: usize| portal.statement.parameter_types.get(i).is_some_and(|t| t.is_some());
    let types: Vec<Option<DataType>> = (0..portal.parameter_len())
        .map(|i| types.get(i).cloned().flatten().or_else(|| (!hinted(i)).then_some(DataType::Utf8)))
        .collect();
    let inferred: Vec<Option<&DataType>> = types.iter().map(Option::as_ref).collect();
    match deserialize_parameters(portal, &inferred)? {
        datafusion::common::ParamValues::List(values) => Ok(values.into_iter().map(|v| v.value).collect()),
        datafusion::common::ParamValues::Map(_) => Err(error(code::SYNTAX_ERROR, "named parameters are not supported")),
    }
}
