//! The routes: `/health`, `/metrics`, the console's assets, and the JSON
//! API (`/api/buckets`, `/api/dataframes`, `/api/history`, `/api/query`).
//! Errors answer `{"type", "message"}` with the Flight side's type names.

use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::console;
use super::results::{Encoder, Format};
use super::HttpState;
use crate::daemon::auth::Principal;
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::Scope;
use crate::daemon::sql;
use crate::daemon::storage::{BucketId, Target};
use crate::protocol::{ErrorInfo, ErrorKind, VersionInfo};

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/", get(console::index))
        .route("/console.js", get(console::script))
        .route("/console.css", get(console::style))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/buckets", get(buckets))
        .route("/api/dataframes", get(dataframes))
        .route("/api/history", get(history))
        .route("/api/query", get(query_get).post(query_post))
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(state.clone(), logged))
        .with_state(state)
}

/// A failure as the API answers it.
pub struct ApiError(DaemonError);

impl From<DaemonError> for ApiError {
    fn from(e: DaemonError) -> ApiError {
        ApiError(e)
    }
}

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Exists | ErrorKind::BucketNotEmpty => StatusCode::CONFLICT,
        ErrorKind::InvalidToken | ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Unauthorized => StatusCode::FORBIDDEN,
        ErrorKind::Io => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::InvalidName | ErrorKind::SchemaMismatch | ErrorKind::InvalidArgument | ErrorKind::DataFusion => {
            StatusCode::BAD_REQUEST
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let message = self.0.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        let mut response = (status_of(kind), Json(ErrorInfo { kind: kind.as_str().into(), message })).into_response();
        if status_of(kind) == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // For the request log and the metrics, which see only the response.
        response.extensions_mut().insert(kind);
        response
    }
}

type ApiResult<T> = std::result::Result<T, ApiError>;

/// One log line and one metrics count per request; the path is the route's
/// pattern, so unknown URLs cannot grow the metrics without bound.
async fn logged(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = request.method().to_string();
    let response = next.run(request).await;
    let outcome = response.extensions().get::<ErrorKind>().map_or("ok", |k| k.as_str());
    let elapsed_ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
    let status = response.status().as_u16();
    tracing::info!(target: "shoots::request", method = "HTTP", elapsed_ms, status, "{method} {route} {outcome}");
    state.metrics.request("HTTP", &route, outcome, started.elapsed());
    response
}

impl HttpState {
    /// The caller of a request: anyone when the daemon has no `--secret`,
    /// else whoever the `Authorization: Bearer` token names.
    fn caller(&self, headers: &HeaderMap) -> Result<Principal> {
        match &self.auth {
            None => Ok(Principal::unrestricted()),
            Some(auth) => auth.check(&tonic::metadata::MetadataMap::from_headers(headers.clone())),
        }
    }
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError(DaemonError::InvalidArgument(format!("bad query string: {}", e.body_text())))
}

async fn no_route() -> ApiError {
    ApiError(DaemonError::NotFound("no such endpoint; the README lists them".into()))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    uptime_s: u64,
}

async fn health(State(state): State<HttpState>) -> Json<Health> {
    Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION"), uptime_s: state.metrics.uptime().as_secs() })
}

async fn metrics(State(state): State<HttpState>, headers: HeaderMap) -> ApiResult<Response> {
    state.caller(&headers)?;
    let text = state.metrics.render(&state.store).await?;
    let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, kind)], text).into_response())
}

#[derive(Serialize)]
struct BucketEntry {
    /// `null` for the default bucket.
    name: Option<String>,
    /// Its schema in SQL (`_default` for the default bucket).
    sql_name: String,
}

async fn buckets(State(state): State<HttpState>, headers: HeaderMap) -> ApiResult<Json<Vec<BucketEntry>>> {
    let caller = state.caller(&headers)?;
    let all = state.store.bucket_ids().await?;
    let entries = all
        .iter()
        .filter(|b| caller.may_use(b))
        .map(|b| BucketEntry { name: b.name().map(String::from), sql_name: b.dir().to_string() })
        .collect();
    Ok(Json(entries))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BucketParams {
    bucket: Option<String>,
}

#[derive(Serialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    nullable: bool,
}

fn columns(schema: &arrow::datatypes::Schema) -> Vec<Column> {
    let column = |f: &arrow::datatypes::FieldRef| Column {
        name: f.name().clone(),
        data_type: f.data_type().to_string(),
        nullable: f.is_nullable(),
    };
    schema.fields().iter().map(column).collect()
}

#[derive(Serialize)]
struct DataframeEntry {
    name: String,
    /// The current version's number; versions count from 1.
    version: u64,
    rows: u64,
    bytes: u64,
    files: usize,
    timestamp_ms: i64,
    columns: Vec<Column>,
}

async fn dataframes(
    State(state): State<HttpState>,
    headers: HeaderMap,
    params: std::result::Result<Query<BucketParams>, QueryRejection>,
) -> ApiResult<Json<Vec<DataframeEntry>>> {
    let caller = state.caller(&headers)?;
    let Query(params) = params.map_err(bad_query)?;
    let bucket = BucketId::parse(params.bucket.as_deref())?;
    caller.require_bucket(&bucket)?;
    state.store.require_bucket(&bucket).await?;
    let frames = state.store.dataframes(&bucket).await?;
    let entries = frames
        .iter()
        .map(|snap| DataframeEntry {
            name: snap.name.to_string(),
            version: snap.commit.version,
            rows: snap.commit.rows,
            bytes: snap.commit.bytes,
            files: snap.commit.files.len(),
            timestamp_ms: snap.commit.timestamp_ms,
            columns: columns(&snap.schema),
        })
        .collect();
    Ok(Json(entries))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameParams {
    bucket: Option<String>,
    name: String,
}

async fn history(
    State(state): State<HttpState>,
    headers: HeaderMap,
    params: std::result::Result<Query<FrameParams>, QueryRejection>,
) -> ApiResult<Json<Vec<VersionInfo>>> {
    let caller = state.caller(&headers)?;
    let Query(params) = params.map_err(bad_query)?;
    let target = Target::parse(params.bucket.as_deref(), &params.name)?;
    caller.require_bucket(&target.bucket)?;
    let versions = state.store.history(&target.bucket, &target.name).await?;
    Ok(Json(versions.iter().map(|c| c.summary()).collect()))
}

/// `/api/query`'s parameters, as a query string (GET) or a JSON body (POST).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryParams {
    sql: String,
    /// The bucket whose dataframes bare names mean; the default bucket when absent.
    bucket: Option<String>,
    format: Option<String>,
}

async fn query_get(
    State(state): State<HttpState>,
    headers: HeaderMap,
    params: std::result::Result<Query<QueryParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(bad_query)?;
    query(state, headers, params).await
}

async fn query_post(
    State(state): State<HttpState>,
    headers: HeaderMap,
    params: std::result::Result<Json<QueryParams>, JsonRejection>,
) -> ApiResult<Response> {
    let Json(params) =
        params.map_err(|e| ApiError(DaemonError::InvalidArgument(format!("bad query request: {}", e.body_text()))))?;
    query(state, headers, params).await
}

/// The result streams in the format asked for; its schema is in the
/// `shoots-schema` header (percent-encoded JSON of name and type per
/// column). The first batch is computed before the status goes out, so
/// most failures still get their status; one after that ends the body
/// early (a transfer error for the client, never a short success).
async fn query(state: HttpState, headers: HeaderMap, params: QueryParams) -> ApiResult<Response> {
    let caller = state.caller(&headers)?;
    let format: Format = params.format.as_deref().unwrap_or("ndjson").parse()?;
    let bucket = BucketId::parse(params.bucket.as_deref())?;
    let scope = Scope::of_caller(bucket.clone(), &caller)?;
    state.store.require_bucket(&bucket).await?;
    let mut results = state.engine.execute(&scope, &sql::Query::read_only(&params.sql)?).await?;
    let schema = results.schema();
    let encoder = Encoder::new(format, &schema)?;
    let first = match results.next().await {
        Some(batch) => Some(batch.map_err(DaemonError::from)?),
        None => None,
    };
    let described =
        serde_json::to_string(&columns(&schema)).map_err(|e| DaemonError::internal("describing the result", e))?;
    let described: String =
        url::form_urlencoded::byte_serialize(described.as_bytes()).collect::<String>().replace('+', "%20");

    let batches = futures::stream::iter(first.map(Ok)).chain(results);
    let metrics = state.metrics.clone();
    // Active until the last chunk is made (or the client goes).
    let active = metrics.streaming();
    let body = futures::stream::unfold(Some((batches, encoder, active)), move |state| {
        let (schema, metrics) = (schema.clone(), metrics.clone());
        async move {
            let (mut batches, mut encoder, active) = state?;
            let (chunk, rest) = match batches.next().await {
                Some(Ok(batch)) => {
                    let chunk = encoder.batch(&batch);
                    metrics.sent(batch.num_rows() as u64, chunk.as_ref().map_or(0, |c| c.len() as u64));
                    (chunk, Some((batches, encoder, active)))
                }
                Some(Err(e)) => (Err(DaemonError::from(e)), None),
                None => (encoder.finish(&schema), None),
            };
            if let Err(e) = &chunk {
                metrics.stream_failed();
                tracing::warn!(target: "shoots::request", method = "HTTP", "query result failed mid-stream: {}", e.chain());
            }
            Some((chunk, rest))
        }
    });
    let disposition = format!("inline; filename=\"result.{}\"", format.extension());
    let response = Response::builder()
        .header(header::CONTENT_TYPE, format.content_type())
        .header(header::CONTENT_DISPOSITION, disposition)
        .header("shoots-schema", described)
        .body(Body::from_stream(body))
        .map_err(|e| DaemonError::internal("building the response", e))?;
    Ok(response)
}
