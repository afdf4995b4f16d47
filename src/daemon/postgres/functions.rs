//! Functions drivers call on connect that datafusion-pg-catalog does not
//! bring: `current_setting` and `set_config` (asyncpg), `to_regtype`
//! (psycopg, SQLAlchemy), `version()` naming a Postgres release.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Int32Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::cast::as_string_array;
use datafusion::error::Result;
use datafusion::logical_expr::{create_udf, ColumnarValue, ScalarUDF, Volatility};
use datafusion::scalar::ScalarValue;
use pgwire::api::Type;

use super::session::default_setting;

pub fn all() -> Vec<ScalarUDF> {
    let version = format!("PostgreSQL {}, compatible; served by shoots over Apache DataFusion", super::SERVER_VERSION);
    vec![
        create_udf(
            "version",
            vec![],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(version.clone()))))),
        ),
        // Settings of a fresh session (what SET changed is for SHOW alone).
        create_udf(
            "current_setting",
            vec![DataType::Utf8],
            DataType::Utf8,
            Volatility::Stable,
            Arc::new(|args| strings(&args[0], |name| default_setting(name).map(str::to_string))),
        ),
        // Accepted, changing nothing: answers the value, as Postgres does.
        create_udf(
            "set_config",
            vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
            DataType::Utf8,
            Volatility::Volatile,
            Arc::new(|args| Ok(args[1].clone())),
        ),
        create_udf(
            "to_regtype",
            vec![DataType::Utf8],
            DataType::Int32,
            Volatility::Stable,
            Arc::new(|args| {
                let names = args[0].to_array(1)?;
                let names = as_string_array(&names)?;
                let oids: Int32Array = names.iter().map(|n| n.and_then(type_oid)).collect();
                Ok(match &args[0] {
                    ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&oids, 0)?),
                    ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(oids)),
                })
            }),
        ),
    ]
}

/// `f` of each string of `arg`, a scalar or a column.
fn strings(arg: &ColumnarValue, f: impl Fn(&str) -> Option<String>) -> Result<ColumnarValue> {
    let values = arg.to_array(1)?;
    let values = as_string_array(&values)?;
    let out: StringArray = values.iter().map(|v| v.and_then(&f)).collect();
    Ok(match arg {
        ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?),
        ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(out) as ArrayRef),
    })
}

/// The OID of a built-in type by its name or a common alias; `None` for a
/// type this server does not have (an extension's `hstore`, say).
fn type_oid(name: &str) -> Option<i32> {
    static BY_NAME: OnceLock<HashMap<String, u32>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        // Built-in types have OIDs below 16384 (FirstNormalObjectId).
        let mut map: HashMap<String, u32> =
            (0..16384).filter_map(Type::from_oid).map(|t| (t.name().to_string(), t.oid())).collect();
        for (alias, name) in [
            ("integer", "int4"),
            ("int", "int4"),
            ("bigint", "int8"),
            ("smallint", "int2"),
            ("real", "float4"),
            ("double precision", "float8"),
            ("boolean", "bool"),
            ("character varying", "varchar"),
            ("character", "bpchar"),
            ("decimal", "numeric"),
            ("timestamp without time zone", "timestamp"),
            ("timestamp with time zone", "timestamptz"),
            ("time without time zone", "time"),
        ] {
            if let Some(oid) = map.get(name).copied() {
                map.insert(alias.to_string(), oid);
            }
        }
        map
    });
    let name = name.trim().trim_start_matches("pg_catalog.").to_ascii_lowercase();
    by_name.get(name.as_str()).and_then(|oid| i32::try_from(*oid).ok())
}

#[cfg(test)]
mod tests {
    use super::type_oid;

    #[test]
    fn type_names_and_aliases_have_their_oids() {
        assert_eq!(type_oid("int8"), Some(20));
        assert_eq!(type_oid("bigint"), Some(20));
        assert_eq!(type_oid("pg_catalog.text"), Some(25));
        assert_eq!(type_oid("hstore"), None);
    }
}
