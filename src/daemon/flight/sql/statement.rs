//! Flight SQL statements without server-side state: a statement handle (and
//! so a ticket) carries the SQL, the bucket whose dataframes are bare
//! names, and bound parameters. Any daemon on the same store can serve it;
//! only older clients' parameters are also remembered ([`Remembered`]).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use base64::Engine;
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Handle {
    /// As the client wrote it (`?` or `$1` placeholders).
    pub sql: String,
    pub bucket: Option<String>,
    /// The bound parameter row, Arrow IPC in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<String>,
    /// A prepared statement's own name, so that parameters remembered for
    /// it ([`Remembered`]) are nobody else's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// A write (INSERT, DELETE) runs when it is submitted (GetFlightInfo);
    /// its ticket carries the rows it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<u64>,
}

impl Handle {
    pub(super) fn new(sql: &str, bucket: Option<String>) -> Handle {
        Handle { sql: sql.to_string(), bucket, params: None, id: None, written: None }
    }

    /// The handle of a prepared statement: named, for [`Remembered`].
    pub(super) fn prepared(self) -> Handle {
        Handle { id: Some(uuid::Uuid::new_v4().to_string()), ..self }
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
        row.columns()
            .iter()
            .map(|c| match ScalarValue::try_from_array(c, 0).map_err(|e| bad(e.to_string()))? {
                // flightsql-dbapi sends each value in a dense union of the
                // types it knows; the value is the one member that is set.
                ScalarValue::Union(Some((_, value)), ..) => Ok(*value),
                ScalarValue::Union(None, ..) => Ok(ScalarValue::Null),
                value => Ok(value),
            })
            .collect()
    }
}

/// The parameters last bound to each prepared statement on this daemon, for
/// clients older than `DoPutPreparedStatementResult` (flightsql-dbapi, the
/// SQLAlchemy dialect Superset uses): they bind with DoPut and then call
/// GetFlightInfo with the handle they had, ignoring the bound one. The one
/// piece of per-daemon state of Flight SQL: such a client must send both
/// calls to the same daemon. Bounded in count and bytes; entries expire.
#[derive(Default)]
pub(in crate::daemon::flight) struct Remembered {
    entries: Mutex<VecDeque<Bound>>,
}

struct Bound {
    id: String,
    at: Instant,
    params: String,
}

const REMEMBERED: usize = 4096;
const REMEMBERED_BYTES: usize = 16 << 20;
const REMEMBERED_FOR: Duration = Duration::from_secs(600);

impl Remembered {
    /// Keeps `bound`'s parameters under its statement's name.
    pub(super) fn keep(&self, bound: &Handle) {
        let (Some(id), Some(params)) = (&bound.id, &bound.params) else { return };
        let mut entries = self.entries.lock().expect("remembered lock");
        entries.retain(|e| &e.id != id && e.at.elapsed() < REMEMBERED_FOR);
        entries.push_back(Bound { id: id.clone(), at: Instant::now(), params: params.clone() });
        let mut bytes: usize = entries.iter().map(|e| e.params.len()).sum();
        while entries.len() > REMEMBERED || bytes > REMEMBERED_BYTES {
            let Some(oldest) = entries.pop_front() else { break };
            bytes -= oldest.params.len();
        }
    }

    /// `handle`, with the parameters last bound to it here when it carries none.
    pub(super) fn recall(&self, handle: Handle) -> Handle {
        if handle.params.is_some() {
            return handle;
        }
        let Some(id) = &handle.id else { return handle };
        let entries = self.entries.lock().expect("remembered lock");
        let found = entries.iter().rev().find(|e| &e.id == id && e.at.elapsed() < REMEMBERED_FOR);
        let params = found.map(|e| e.params.clone());
        drop(entries);
        Handle { params, ..handle }
    }
}

fn encoding(e: arrow::error::ArrowError) -> DaemonError {
    DaemonError::internal("encoding statement parameters", e)
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
    fn bound_parameters_travel_in_the_handle() {
        let handle = Handle::new("select * from t where a = ? and b = ?", Some("lab".into()));
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
        assert_eq!(bound.sql, "select * from t where a = ? and b = ?");
        assert_eq!(bound.params().unwrap(), [ScalarValue::Int64(Some(7)), ScalarValue::Utf8(Some("x".into()))]);
    }
}
