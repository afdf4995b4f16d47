//! `pg_catalog` as Postgres clients read it: datafusion-pg-catalog's tables
//! over the buckets and dataframes a token sees.
//!
//! Tools join catalog tables on OIDs across queries (psql's `\d NAME` finds
//! the table's OID, then asks for its columns by it), and the library hands
//! OIDs out in the order it meets objects. So one `pg_catalog` is kept per
//! set of visible buckets and shared by every query and connection with
//! that set, and the objects are listed in a fixed (sorted) order.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::SchemaProvider;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::{PgCatalogSchemaProvider, PgCatalogStaticTables};

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::query::SessionExtension;
use crate::daemon::storage::{BucketId, Name, Store};

/// The catalog's name in every query session, and so `current_database()`.
const CATALOG: &str = "shoots";
/// Schemas Postgres always has; listed (tools look their OIDs up) but empty.
const SYSTEM_SCHEMAS: [&str; 2] = ["information_schema", "pg_catalog"];
/// Distinct sets of visible buckets kept at once; past it the oldest go
/// (their OIDs change, which only a tool that keeps OIDs across reconnects
/// would notice).
const KEPT_SCOPES: usize = 64;

type Visible = Option<BTreeSet<BucketId>>;

/// One `pg_catalog` per set of visible buckets.
#[derive(Default)]
pub struct PgCatalogs {
    kept: Mutex<HashMap<Visible, Arc<dyn SchemaProvider>>>,
}

impl PgCatalogs {
    pub fn for_scope(&self, store: &Arc<Store>, visible: &Visible) -> Result<Arc<dyn SchemaProvider>> {
        let mut kept = self.kept.lock().expect("catalogs lock");
        if let Some(schema) = kept.get(visible) {
            return Ok(schema.clone());
        }
        if kept.len() >= KEPT_SCOPES {
            kept.clear();
        }
        let listing = StoreListing { store: store.clone(), visible: visible.clone() };
        let schema: Arc<dyn SchemaProvider> =
            Arc::new(PgCatalogSchemaProvider::try_new(listing, static_tables()?, EmptyContextProvider)?);
        kept.insert(visible.clone(), schema.clone());
        Ok(schema)
    }
}

/// The tables Postgres ships (types, operators, functions...), read once.
fn static_tables() -> Result<Arc<PgCatalogStaticTables>> {
    static TABLES: OnceLock<Arc<PgCatalogStaticTables>> = OnceLock::new();
    if let Some(tables) = TABLES.get() {
        return Ok(tables.clone());
    }
    let tables = Arc::new(PgCatalogStaticTables::try_new()?);
    Ok(TABLES.get_or_init(|| tables).clone())
}

/// The buckets and dataframes of the store that a scope sees, sorted.
#[derive(Clone)]
struct StoreListing {
    store: Arc<Store>,
    visible: Visible,
}

impl std::fmt::Debug for StoreListing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreListing").field("visible", &self.visible).finish_non_exhaustive()
    }
}

fn external(e: DaemonError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl StoreListing {
    fn bucket(&self, schema: &str) -> Option<BucketId> {
        let bucket =
            if schema == BucketId::Default.dir() { BucketId::Default } else { BucketId::parse(Some(schema)).ok()? };
        self.visible.as_ref().is_none_or(|v| v.contains(&bucket)).then_some(bucket)
    }
}

#[async_trait]
impl CatalogInfo for StoreListing {
    async fn catalog_names(&self) -> datafusion::error::Result<Vec<String>> {
        Ok(vec![CATALOG.to_string()])
    }

    async fn schema_names(&self, catalog: &str) -> datafusion::error::Result<Option<Vec<String>>> {
        if catalog != CATALOG {
            return Ok(None);
        }
        let mut names: Vec<String> = self
            .store
            .bucket_ids()
            .await
            .map_err(external)?
            .into_iter()
            .filter(|b| self.visible.as_ref().is_none_or(|v| v.contains(b)))
            .map(|b| b.dir().to_string())
            .collect();
        names.sort();
        names.extend(SYSTEM_SCHEMAS.iter().map(|s| s.to_string()));
        Ok(Some(names))
    }

    async fn table_names(&self, catalog: &str, schema: &str) -> datafusion::error::Result<Option<Vec<String>>> {
        if catalog != CATALOG {
            return Ok(None);
        }
        if SYSTEM_SCHEMAS.contains(&schema) {
            return Ok(Some(Vec::new()));
        }
        let Some(bucket) = self.bucket(schema) else { return Ok(None) };
        let mut names: Vec<String> =
            self.store.dataframe_names(&bucket).await.map_err(external)?.iter().map(|n| n.to_string()).collect();
        names.sort();
        Ok(Some(names))
    }

    async fn table_schema(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> datafusion::error::Result<Option<SchemaRef>> {
        let Some(bucket) = self.bucket(schema).filter(|_| catalog == CATALOG) else { return Ok(None) };
        let Ok(name) = Name::parse("dataframe", table) else { return Ok(None) };
        let snapshot = self.store.current(&bucket, &name).await.map_err(external)?;
        Ok(snapshot.map(|s| s.schema.clone()))
    }

    async fn table_type(
        &self,
        catalog: &str,
        schema: &str,
        table: &str,
    ) -> datafusion::error::Result<Option<TableType>> {
        Ok(self.table_schema(catalog, schema, table).await?.map(|_| TableType::Base))
    }
}

/// What every query session of a Postgres connection gets: its scope's
/// `pg_catalog` and the functions psql, tools and drivers call.
#[derive(Debug)]
pub struct PgExtension(pub Arc<dyn SchemaProvider>);

impl SessionExtension for PgExtension {
    fn install(&self, ctx: &SessionContext, catalog: &str) -> Result<()> {
        install(ctx, catalog, self.0.clone())
    }
}

fn install(ctx: &SessionContext, catalog_name: &str, pg_catalog: Arc<dyn SchemaProvider>) -> Result<()> {
    use datafusion_pg_catalog::pg_catalog as pg;

    let catalog = ctx
        .catalog(catalog_name)
        .ok_or_else(|| DaemonError::internal("adding pg_catalog", format!("no catalog {catalog_name}")))?;
    catalog.register_schema("pg_catalog", pg_catalog)?;
    for udf in [
        pg::create_current_database_udf(CATALOG),
        pg::create_current_schema_udf(),
        pg::create_current_schemas_udf(),
        pg::create_pg_get_userbyid_udf(),
        pg::has_privilege_udf::create_has_privilege_udf("has_table_privilege"),
        pg::has_privilege_udf::create_has_privilege_udf("has_schema_privilege"),
        pg::has_privilege_udf::create_has_privilege_udf("has_database_privilege"),
        pg::has_privilege_udf::create_has_privilege_udf("has_any_column_privilege"),
        pg::create_pg_table_is_visible(),
        pg::format_type::create_format_type_udf(),
        pg::create_session_user_udf(),
        pg::pg_get_expr_udf::create_pg_get_expr_udf(),
        pg::create_pg_get_partkeydef_udf(),
        pg::create_pg_relation_is_publishable_udf(),
        pg::create_pg_get_statisticsobjdef_columns_udf(),
        pg::create_pg_encoding_to_char_udf(),
        pg::create_pg_backend_pid_udf(),
        pg::create_pg_relation_size_udf(),
        pg::create_pg_total_relation_size_udf(),
        pg::create_pg_stat_get_numscans(),
        pg::create_pg_get_constraintdef(),
        pg::create_pg_get_partition_ancestors_udf(),
        pg::quote_ident_udf::create_quote_ident_udf(),
        pg::quote_ident_udf::create_parse_ident_udf(),
        pg::array_bounds_udf::create_array_upper_udf(),
        pg::array_bounds_udf::create_array_lower_udf(),
    ] {
        ctx.register_udf(udf);
    }
    ctx.register_udtf("pg_get_keywords", static_tables()?.pg_get_keywords.clone());
    for udf in super::functions::all() {
        ctx.register_udf(udf);
    }
    // Postgres' OID type names (`regclass`, ...) in casts, and int4 bounds
    // for generate_series, as datafusion-pg-catalog's own setup adds them.
    let state = ctx.state_ref();
    let existing = state.read().clone();
    *state.write() = datafusion::execution::SessionStateBuilder::new_from_existing(existing)
        .with_type_planner(Arc::new(pg::oid_type_planner::PgOidTypePlanner))
        .build();
    pg::generate_series_arg_coercion::CoerceIntArgsToBigInt::widen(ctx);
    Ok(())
}
