//! Flight SQL's metadata calls: catalogs, schemas (buckets), tables
//! (dataframes), table types, SqlInfo, type info, and the key calls tools
//! make, answered empty (shoots has no keys).

use std::sync::{Arc, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandGetXdbcTypeInfo, Nullable, Searchable, SqlInfo, XdbcDataType,
};

use super::super::ShootsFlight;
use crate::daemon::auth::Principal;
use crate::daemon::error::{BoxError, DaemonError, Result};
use crate::daemon::storage::BucketId;

pub(super) const CATALOG: &str = "shoots";
/// Every dataframe is a table of this type.
const TABLE_TYPE: &str = "BASE TABLE";

fn built<E: Into<BoxError>>(what: &str, batch: std::result::Result<RecordBatch, E>) -> Result<RecordBatch> {
    batch.map_err(|e| DaemonError::internal(format!("building the {what} reply"), e))
}

impl ShootsFlight {
    /// The buckets the caller may see, default bucket first.
    async fn visible_buckets(&self, caller: &Principal) -> Result<Vec<BucketId>> {
        let mut buckets = self.store.bucket_ids().await?;
        buckets.retain(|b| caller.may_use(b));
        Ok(buckets)
    }

    pub(super) fn catalogs(&self, command: CommandGetCatalogs) -> Result<RecordBatch> {
        let mut builder = command.into_builder();
        builder.append(CATALOG);
        built("catalogs", builder.build())
    }

    pub(super) async fn db_schemas(&self, command: CommandGetDbSchemas, caller: &Principal) -> Result<RecordBatch> {
        let mut builder = command.into_builder();
        for bucket in self.visible_buckets(caller).await? {
            builder.append(CATALOG, bucket.dir());
        }
        built("db schemas", builder.build())
    }

    pub(super) async fn tables(&self, mut command: CommandGetTables, caller: &Principal) -> Result<RecordBatch> {
        // Clients spell the table type differently; all of these mean ours.
        for wanted in &mut command.table_types {
            if wanted.eq_ignore_ascii_case("table") {
                *wanted = TABLE_TYPE.into();
            }
        }
        let mut builder = command.into_builder();
        for bucket in self.visible_buckets(caller).await? {
            for frame in self.store.dataframes(&bucket).await? {
                let appended = builder.append(CATALOG, bucket.dir(), frame.name.as_str(), TABLE_TYPE, &frame.schema);
                appended.map_err(|e| DaemonError::internal("encoding a table's schema", e))?;
            }
        }
        built("tables", builder.build())
    }

    pub(super) fn table_types(&self, command: CommandGetTableTypes) -> Result<RecordBatch> {
        let mut builder = command.into_builder();
        builder.append(TABLE_TYPE);
        built("table types", builder.build())
    }
}

pub(super) fn sql_info(command: CommandGetSqlInfo) -> Result<RecordBatch> {
    built("SqlInfo", command.into_builder(sql_info_data()).build())
}

pub(super) fn xdbc_type_info(command: CommandGetXdbcTypeInfo) -> Result<RecordBatch> {
    built("type info", command.into_builder(xdbc_data()).build())
}

fn sql_info_data() -> &'static SqlInfoData {
    static DATA: OnceLock<SqlInfoData> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "shoots");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, arrow::ARROW_VERSION);
        // SQL never writes; bulk ingest is the way in.
        info.append(SqlInfo::FlightSqlServerReadOnly, true);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0i32); // SQL_SUPPORTED_TRANSACTION_NONE
        info.append(SqlInfo::FlightSqlServerCancel, false);
        info.append(SqlInfo::FlightSqlServerBulkIngestion, true);
        info.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
        info.append(SqlInfo::SqlDdlCatalog, false);
        info.append(SqlInfo::SqlDdlSchema, false);
        info.append(SqlInfo::SqlDdlTable, false);
        info.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
        info.append(SqlInfo::SqlTransactionsSupported, false);
        info.build().expect("static SqlInfo")
    })
}

/// The Arrow types shoots stores most, as SQL types.
fn xdbc_data() -> &'static XdbcTypeInfoData {
    static DATA: OnceLock<XdbcTypeInfoData> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut types = XdbcTypeInfoDataBuilder::new();
        let kinds = [
            ("BOOLEAN", XdbcDataType::XdbcBit, None),
            ("TINYINT", XdbcDataType::XdbcTinyint, None),
            ("SMALLINT", XdbcDataType::XdbcSmallint, None),
            ("INTEGER", XdbcDataType::XdbcInteger, None),
            ("BIGINT", XdbcDataType::XdbcBigint, None),
            ("FLOAT", XdbcDataType::XdbcFloat, None),
            ("DOUBLE", XdbcDataType::XdbcDouble, None),
            ("DECIMAL", XdbcDataType::XdbcDecimal, None),
            ("VARCHAR", XdbcDataType::XdbcVarchar, Some("'")),
            ("VARBINARY", XdbcDataType::XdbcVarbinary, None),
            ("DATE", XdbcDataType::XdbcDate, Some("'")),
            ("TIME", XdbcDataType::XdbcTime, Some("'")),
            ("TIMESTAMP", XdbcDataType::XdbcTimestamp, Some("'")),
        ];
        for (name, data_type, quote) in kinds {
            types.append(XdbcTypeInfo {
                type_name: name.into(),
                data_type,
                literal_prefix: quote.map(String::from),
                literal_suffix: quote.map(String::from),
                nullable: Nullable::NullabilityNullable,
                case_sensitive: data_type == XdbcDataType::XdbcVarchar,
                searchable: Searchable::Full,
                local_type_name: Some(name.into()),
                sql_data_type: data_type,
                ..XdbcTypeInfo::default()
            });
        }
        types.build().expect("static type info")
    })
}

/// GetPrimaryKeys' columns; shoots has no primary keys, so no rows.
pub(super) fn primary_keys() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ]);
    RecordBatch::new_empty(Arc::new(schema))
}

/// GetImportedKeys', GetExportedKeys' and GetCrossReference's columns; no
/// foreign keys, so no rows.
pub(super) fn foreign_keys() -> RecordBatch {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let schema = Schema::new(vec![
        text("pk_catalog_name", true),
        text("pk_db_schema_name", true),
        text("pk_table_name", false),
        text("pk_column_name", false),
        text("fk_catalog_name", true),
        text("fk_db_schema_name", true),
        text("fk_table_name", false),
        text("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        text("fk_key_name", true),
        text("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]);
    RecordBatch::new_empty(Arc::new(schema))
}
