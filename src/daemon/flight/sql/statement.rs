//! Flight SQL statements without server-side state: a statement handle (and
//! so a ticket) carries the SQL, the bucket whose dataframes are bare
//! names, and bound parameters. Any daemon on the same store can serve it.

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use base64::Engine;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Handle {
    /// With `?` placeholders already numbered `$1`, `$2`, ...
    pub sql: String,
    pub bucket: Option<String>,
    /// The bound parameter row, Arrow IPC in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<String>,
    /// A write (INSERT, DELETE) runs when it is submitted (GetFlightInfo);
    /// its ticket carries the rows it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<u64>,
}

impl Handle {
    pub(super) fn new(sql: &str, bucket: Option<String>) -> Result<Handle> {
        Ok(Handle { sql: number_placeholders(sql)?, bucket, params: None, written: None })
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("handles serialise")
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Handle> {
        serde_json::from_slice(bytes)
            .map_err(|e| DaemonError::InvalidArgument(format!("not a statement handle of shoots: {e}")))
    }

    /// The handle with `row` (one row, a column per placeholder) bound.
    pub(super) fn bind(&self, row: &RecordBatch) -> Result<Handle> {
        if row.num_rows() != 1 {
            return Err(DaemonError::InvalidArgument(format!(
                "a query binds one row of parameters at a time; got {}",
                row.num_rows()
            )));
        }
        let mut ipc = Vec::new();
        let mut writer = StreamWriter::try_new(&mut ipc, &row.schema()).map_err(encoding)?;
        writer.write(row).map_err(encoding)?;
        writer.finish().map_err(encoding)?;
        drop(writer);
        let params = Some(base64::engine::general_purpose::STANDARD.encode(ipc));
        Ok(Handle { params, ..self.clone() })
    }

    /// The bound values, in placeholder order.
    pub(super) fn params(&self) -> Result<Vec<ScalarValue>> {
        let Some(b64) = &self.params else { return Ok(Vec::new()) };
        let bad = |e: String| DaemonError::InvalidArgument(format!("bad parameters in a statement handle: {e}"));
        let ipc = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| bad(e.to_string()))?;
        let mut reader = StreamReader::try_new(ipc.as_slice(), None).map_err(|e| bad(e.to_string()))?;
        let Some(row) = reader.next().transpose().map_err(|e| bad(e.to_string()))? else { return Ok(Vec::new()) };
        row.columns().iter().map(|c| ScalarValue::try_from_array(c, 0).map_err(|e| bad(e.to_string()))).collect()
    }
}

fn encoding(e: arrow::error::ArrowError) -> DaemonError {
    DaemonError::internal("encoding statement parameters", e)
}

/// `?` placeholders become `$1`, `$2`, ... in order (DataFusion knows the
/// numbered form only); `?` inside strings, quoted names and comments stays.
pub(super) fn number_placeholders(sql: &str) -> Result<String> {
    if !sql.contains('?') {
        return Ok(sql.to_string());
    }
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| DaemonError::DataFusion(format!("SQL error: {e}")))?;
    let mut n = 0;
    Ok(tokens
        .into_iter()
        .map(|token| match token {
            Token::Placeholder(p) if p == "?" => {
                n += 1;
                format!("${n}")
            }
            other => other.to_string(),
        })
        .collect())
}

/// The parameter schema Flight SQL returns for a prepared statement: a
/// column per placeholder, typed where the plan tells.
pub(super) fn parameter_schema(params: &[(String, Option<DataType>)]) -> Schema {
    let fields: Vec<Field> =
        params.iter().map(|(name, t)| Field::new(name, t.clone().unwrap_or(DataType::Null), true)).collect();
    Schema::new(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn question_marks_are_numbered_outside_strings_and_names() {
        assert_eq!(number_placeholders("select 1").unwrap(), "select 1");
        assert_eq!(
            number_placeholders("select '?' as \"a?\", x from t where x > ? and y = ? -- why?").unwrap(),
            "select '?' as \"a?\", x from t where x > $1 and y = $2 -- why?"
        );
    }

    #[test]
    fn bound_parameters_travel_in_the_handle() {
        let handle = Handle::new("select * from t where a = ? and b = ?", Some("lab".into())).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("$1", DataType::Int64, true),
            Field::new("$2", DataType::Utf8, true),
        ]));
        let row = RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(vec![7])), Arc::new(StringArray::from(vec!["x"]))],
        )
        .unwrap();
        let bound = Handle::decode(&handle.bind(&row).unwrap().encode()).unwrap();
        assert_eq!(bound.sql, "select * from t where a = $1 and b = $2");
        assert_eq!(bound.params().unwrap(), [ScalarValue::Int64(Some(7)), ScalarValue::Utf8(Some("x".into()))]);
    }
}
