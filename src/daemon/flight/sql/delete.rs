//! `DELETE FROM [bucket.]name [WHERE predicate]`: the one statement that
//! changes data through Flight SQL (a SQL tool's way to the `delete_rows`
//! action). Every other write stays refused: SQL in shoots is read-only.

use datafusion::sql::sqlparser::ast::{FromTable, ObjectNamePart, Statement, TableFactor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{BucketId, Name, Target};

#[derive(Debug)]
pub(super) struct Delete {
    pub target: Target,
    /// SQL over the dataframe's columns, as in its `WHERE`.
    pub predicate: String,
}

/// The DELETE `sql` is, with unquoted names folded to lower case as in
/// queries; `None` when it is no DELETE (including SQL that does not parse,
/// which the query path reports).
pub(super) fn parse(sql: &str, default: &BucketId) -> Option<Result<Delete>> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).ok()?;
    let [Statement::Delete(delete)] = statements.as_slice() else { return None };
    let unsupported =
        |what: &str| Some(Err(DaemonError::InvalidArgument(format!("DELETE with {what} is not supported"))));
    if !delete.tables.is_empty() || delete.using.is_some() {
        return unsupported("several tables");
    }
    if delete.returning.is_some() || delete.output.is_some() || !delete.order_by.is_empty() || delete.limit.is_some() {
        return unsupported("RETURNING, ORDER BY or LIMIT");
    }
    let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
    let [table] = from.as_slice() else { return unsupported("several tables") };
    let TableFactor::Table { name, .. } = &table.relation else { return unsupported("a subquery") };
    if !table.joins.is_empty() {
        return unsupported("a join");
    }
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) if id.quote_style.is_some() => Some(id.value.clone()),
            ObjectNamePart::Identifier(id) => Some(id.value.to_lowercase()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let target = match parts.as_deref() {
        Some([name]) => Name::parse("dataframe", name).map(|name| Target { bucket: default.clone(), name }),
        Some([bucket, name]) => Target::parse(Some(bucket.as_str()).filter(|b| *b != "_default"), name),
        _ => return unsupported("a name of more than two parts"),
    };
    let predicate = delete.selection.as_ref().map_or_else(|| "true".to_string(), |e| e.to_string());
    Some(target.map(|target| Delete { target, predicate }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletes_are_told_from_everything_else() {
        let d = parse("DELETE FROM lab.Readings WHERE temp > 3 AND site = 'x'", &BucketId::Default).unwrap().unwrap();
        assert_eq!((d.target.to_string(), d.predicate.as_str()), ("lab/readings".into(), "temp > 3 AND site = 'x'"));
        let d = parse(r#"delete from "Mixed""#, &BucketId::Default).unwrap().unwrap();
        assert_eq!((d.target.name.as_str(), d.predicate.as_str()), ("Mixed", "true"));
        assert!(parse("select 1", &BucketId::Default).is_none());
        assert!(parse("delete from", &BucketId::Default).is_none());
        assert!(parse("delete from a using b where a.x = b.x", &BucketId::Default).unwrap().is_err());
    }
}
