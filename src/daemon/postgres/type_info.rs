//! asyncpg's type introspection, answered here. asyncpg decodes the core
//! types itself and asks the server about every other type it meets (an
//! array such as `int8[]` included) with one query of its own, a recursive
//! CTE with correlated subqueries that DataFusion cannot plan. The types
//! shoots sends are all built-in, so the answer comes from pgwire's table of
//! built-in types: name, kind, element and range subtype, and the same for
//! those in turn, deepest first, as the query would.

use std::collections::BTreeMap;
use std::sync::Arc;

use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse};
use pgwire::api::Type;
use pgwire::error::PgWireResult;
use postgres_types::Kind;

use super::errors::{code, error};

/// Whether `sql` is asyncpg's introspection query (`INTRO_LOOKUP_TYPES`).
pub fn is_introspection(sql: &str) -> bool {
    sql.contains("WITH RECURSIVE typeinfo_tree(") && sql.contains("$1::oid[]")
}

/// Its one parameter: the OIDs asked about.
pub fn parameter_types() -> Vec<Type> {
    vec![Type::OID_ARRAY]
}

/// Its columns, typed as Postgres types them (asyncpg checks).
pub fn fields(format: &Format) -> Vec<FieldInfo> {
    let columns = [
        ("oid", Type::OID),
        ("ns", Type::NAME),
        ("name", Type::NAME),
        ("kind", Type::CHAR),
        ("basetype", Type::OID),
        ("elemtype", Type::OID),
        ("elemdelim", Type::CHAR),
        ("range_subtype", Type::OID),
        ("attrtypoids", Type::OID_ARRAY),
        ("attrnames", Type::TEXT_ARRAY),
        ("depth", Type::INT4),
        ("basetype_name", Type::TEXT),
        ("elemtype_name", Type::TEXT),
        ("range_subtype_name", Type::TEXT),
    ];
    columns
        .into_iter()
        .enumerate()
        .map(|(i, (n, t))| FieldInfo::new(n.into(), None, None, t, format.format_for(i)))
        .collect()
}

/// The OIDs of the parameter, in text (`{1016,20}`) or binary array form.
pub fn oids(value: Option<&[u8]>, binary: bool) -> PgWireResult<Vec<u32>> {
    let bad = || error(code::INVALID_PARAMETER_VALUE, "the type OIDs are not an oid[]");
    let Some(value) = value else { return Ok(Vec::new()) };
    if !binary {
        let text = std::str::from_utf8(value).map_err(|_| bad())?;
        let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
        return inner
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().map_err(|_| bad()))
            .collect();
    }
    let int = |at: usize| value.get(at..at + 4).map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")));
    let dims = int(0).ok_or_else(bad)?;
    if dims == 0 {
        return Ok(Vec::new());
    }
    let len = int(12).ok_or_else(bad)?;
    let mut at = 12 + 8 * dims as usize;
    let mut out = Vec::with_capacity(len.max(0) as usize);
    for _ in 0..len {
        let size = int(at).ok_or_else(bad)?;
        at += 4;
        if size == 4 {
            out.push(int(at).ok_or_else(bad)? as u32);
            at += 4;
        }
    }
    Ok(out)
}

struct Row {
    oid: u32,
    name: String,
    kind: u8,
    elem: Option<Type>,
    range_subtype: Option<Type>,
    depth: i32,
}

/// The rows for `asked`, and for their element and range types after.
pub fn answer(asked: &[u32], fields: Vec<FieldInfo>) -> PgWireResult<QueryResponse> {
    let mut rows: BTreeMap<u32, Row> = BTreeMap::new();
    let mut wanted: Vec<(u32, i32)> = asked.iter().map(|o| (*o, 0)).collect();
    while let Some((oid, depth)) = wanted.pop() {
        let Some(t) = Type::from_oid(oid) else { continue };
        if rows.get(&oid).is_some_and(|r| r.depth >= depth) {
            continue;
        }
        let (kind, elem, range_subtype) = match t.kind() {
            Kind::Array(e) => (b'b', Some(e.clone()), None),
            Kind::Range(s) => (b'r', None, Some(s.clone())),
            Kind::Multirange(_) => (b'm', None, None),
            Kind::Pseudo => (b'p', None, None),
            _ => (b'b', None, None),
        };
        for next in elem.iter().chain(&range_subtype) {
            wanted.push((next.oid(), depth + 1));
        }
        rows.insert(oid, Row { oid, name: t.name().to_string(), kind, elem, range_subtype, depth });
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.depth));
    let fields = Arc::new(fields);
    let mut encoded = Vec::with_capacity(rows.len());
    let mut encoder = DataRowEncoder::new(fields.clone());
    for row in rows {
        encoder.encode_field(&row.oid)?;
        encoder.encode_field(&"pg_catalog")?;
        encoder.encode_field(&row.name)?;
        encoder.encode_field(&(row.kind as i8))?;
        encoder.encode_field(&None::<u32>)?;
        encoder.encode_field(&row.elem.as_ref().map_or(0, Type::oid))?;
        encoder.encode_field(&row.elem.as_ref().map(|_| b',' as i8))?;
        encoder.encode_field(&row.range_subtype.as_ref().map(Type::oid))?;
        encoder.encode_field(&None::<Vec<u32>>)?;
        encoder.encode_field(&None::<Vec<String>>)?;
        encoder.encode_field(&row.depth)?;
        encoder.encode_field(&None::<String>)?;
        encoder.encode_field(&Some(row.elem.as_ref().map_or("-".to_string(), |e| e.name().to_string())))?;
        encoder.encode_field(&row.range_subtype.as_ref().map(|s| s.name().to_string()))?;
        encoded.push(Ok(encoder.take_row()));
    }
    Ok(QueryResponse::new(fields, futures::stream::iter(encoded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_arrays_read_in_text_and_binary() {
        assert_eq!(oids(Some(b"{1016,20}"), false).unwrap(), [1016, 20]);
        let mut binary = Vec::new();
        for v in [1i32, 0, 26, 2, 1, 4, 1016, 4, 20] {
            binary.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(oids(Some(&binary), true).unwrap(), [1016, 20]);
    }
}
