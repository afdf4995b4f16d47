//! What a SQL text asks for, read once for every front end (the JSON
//! dialect's `sql`, Flight SQL, Postgres): a query for the engine, or one
//! of the two writes SQL may do, `INSERT` (an append) and `DELETE` (the
//! `delete_rows` action). Everything else goes to the engine, which plans
//! queries only and refuses the rest with one line.

use std::ops::ControlFlow;

use datafusion::logical_expr::Expr;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{self, FromTable, ObjectName, ObjectNamePart, SetExpr, TableFactor, TableObject};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::unparser::expr_to_sql;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{BucketId, Name, Target};
use crate::protocol::DEFAULT_SCHEMA;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query (or anything else), planned by the engine as it was written.
    Query(String),
    Insert(Insert),
    Delete(Delete),
}

/// `INSERT INTO [bucket.]name [(columns)] VALUES ... | SELECT ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub target: Target,
    /// The target's columns the rows fill, in order; empty: all, in order.
    pub columns: Vec<String>,
    /// SQL of the rows: a `VALUES` list or a query.
    pub rows: String,
    /// Whether the rows are a `VALUES` list (which names no columns).
    pub values: bool,
}

/// `DELETE FROM [bucket.]name [WHERE predicate]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub target: Target,
    /// SQL over the dataframe's columns, as in its `WHERE`.
    pub predicate: String,
}

impl Statement {
    /// What `sql` asks for; bare names are dataframes of `default`.
    pub fn parse(sql: &str, default: &BucketId) -> Result<Statement> {
        Statement::parse_bound(sql, default, &[])
    }

    /// [`parse`](Self::parse), with `params` in a write's placeholders
    /// (`$1`, `$2`, ...); a query keeps its own, for the engine to bind.
    pub fn parse_bound(sql: &str, default: &BucketId, params: &[ScalarValue]) -> Result<Statement> {
        // SQL that does not parse (or is several statements) is the
        // engine's to report or to run.
        let Ok(mut statements) = Parser::parse_sql(&GenericDialect {}, sql) else {
            return Ok(Statement::Query(sql.to_string()));
        };
        match statements.as_mut_slice() {
            [statement @ (ast::Statement::Insert(_) | ast::Statement::Delete(_))] => {
                if !params.is_empty() {
                    bind(statement, params)?;
                }
                Statement::write_from_ast(statement, default).expect("a write")
            }
            _ => Ok(Statement::Query(sql.to_string())),
        }
    }

    /// The statement `statement` (already parsed, by the Postgres front
    /// end's parser) is, if it is a write; `None` for anything else.
    pub fn write_from_ast(statement: &ast::Statement, default: &BucketId) -> Option<Result<Statement>> {
        match statement {
            ast::Statement::Insert(insert) => Some(Insert::from_ast(insert, default).map(Statement::Insert)),
            ast::Statement::Delete(delete) => Some(Delete::from_ast(delete, default).map(Statement::Delete)),
            _ => None,
        }
    }
}

/// Puts `params` into `statement`'s placeholders as literals: a write's
/// rows and predicate are SQL run later, apart from the statement.
pub fn bind(statement: &mut ast::Statement, params: &[ScalarValue]) -> Result<()> {
    let mut failed = None;
    let _ = ast::visit_expressions_mut(statement, |expr| {
        let ast::Expr::Value(value) = expr else { return ControlFlow::Continue(()) };
        let ast::Value::Placeholder(name) = &value.value else { return ControlFlow::Continue(()) };
        let index = name.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0);
        let literal = match index.and_then(|n| params.get(n - 1)) {
            Some(param) => expr_to_sql(&Expr::Literal(param.clone(), None)).map_err(DaemonError::from),
            None => Err(DaemonError::InvalidArgument(format!("no value was bound for the placeholder {name}"))),
        };
        match literal {
            Ok(literal) => {
                *expr = literal;
                ControlFlow::Continue(())
            }
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

fn unsupported(what: &str) -> DaemonError {
    DaemonError::InvalidArgument(format!("{what} is not supported"))
}

/// A name as queries read it: unquoted parts folded to lower case.
fn identifier(id: &ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// `[bucket.]name` as a dataframe of the store.
pub fn target(name: &ObjectName, default: &BucketId, statement: &str) -> Result<Target> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => Some(identifier(id)),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    match parts.as_deref() {
        Some([name]) => Ok(Target { bucket: default.clone(), name: Name::parse("dataframe", name)? }),
        Some([bucket, name]) => Target::parse(Some(bucket.as_str()).filter(|b| *b != DEFAULT_SCHEMA), name),
        _ => Err(unsupported(&format!("{statement} into a name of more than two parts"))),
    }
}

impl Insert {
    fn from_ast(insert: &ast::Insert, default: &BucketId) -> Result<Insert> {
        let TableObject::TableName(name) = &insert.table else {
            return Err(unsupported("INSERT into a table function"));
        };
        if insert.on.is_some() || insert.or.is_some() || insert.ignore || insert.replace_into {
            return Err(unsupported("INSERT with ON CONFLICT, OR or IGNORE (appends never conflict)"));
        }
        if insert.returning.is_some() || insert.output.is_some() {
            return Err(unsupported("INSERT with RETURNING"));
        }
        if insert.overwrite || insert.partitioned.is_some() || !insert.assignments.is_empty() {
            return Err(unsupported("INSERT OVERWRITE, PARTITION or SET"));
        }
        let Some(source) = &insert.source else { return Err(unsupported("INSERT without VALUES or a query")) };
        let columns = insert
            .columns
            .iter()
            .map(|c| match c.0.as_slice() {
                [ObjectNamePart::Identifier(id)] => Ok(identifier(id)),
                _ => Err(unsupported("INSERT into a qualified column name")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Insert {
            target: target(name, default, "INSERT")?,
            columns,
            rows: source.to_string(),
            values: matches!(source.body.as_ref(), SetExpr::Values(_)),
        })
    }
}

impl Delete {
    fn from_ast(delete: &ast::Delete, default: &BucketId) -> Result<Delete> {
        if !delete.tables.is_empty() || delete.using.is_some() {
            return Err(unsupported("DELETE with several tables"));
        }
        if delete.returning.is_some()
            || delete.output.is_some()
            || !delete.order_by.is_empty()
            || delete.limit.is_some()
        {
            return Err(unsupported("DELETE with RETURNING, ORDER BY or LIMIT"));
        }
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        let [table] = from.as_slice() else { return Err(unsupported("DELETE with several tables")) };
        let TableFactor::Table { name, .. } = &table.relation else {
            return Err(unsupported("DELETE from a subquery"));
        };
        if !table.joins.is_empty() {
            return Err(unsupported("DELETE with a join"));
        }
        let predicate = delete.selection.as_ref().map_or_else(|| "true".to_string(), |e| e.to_string());
        Ok(Delete { target: target(name, default, "DELETE")?, predicate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Result<Statement> {
        Statement::parse(sql, &BucketId::Default)
    }

    #[test]
    fn deletes_are_told_from_everything_else() {
        let Statement::Delete(d) = parse("DELETE FROM lab.Readings WHERE temp > 3 AND site = 'x'").unwrap() else {
            panic!()
        };
        assert_eq!((d.target.to_string(), d.predicate.as_str()), ("lab/readings".into(), "temp > 3 AND site = 'x'"));
        let Statement::Delete(d) = parse(r#"delete from "Mixed""#).unwrap() else { panic!() };
        assert_eq!((d.target.name.as_str(), d.predicate.as_str()), ("Mixed", "true"));
        assert_eq!(parse("select 1").unwrap(), Statement::Query("select 1".into()));
        assert_eq!(parse("delete from").unwrap(), Statement::Query("delete from".into()));
        assert!(parse("delete from a using b where a.x = b.x").is_err());
    }

    #[test]
    fn inserts_name_their_target_columns_and_rows() {
        let Statement::Insert(i) = parse("INSERT INTO lab.T (A, \"b\") VALUES (1, 'x'), (2, 'y')").unwrap() else {
            panic!()
        };
        assert_eq!(i.target.to_string(), "lab/t");
        assert_eq!(i.columns, ["a", "b"]);
        assert_eq!(i.rows, "VALUES (1, 'x'), (2, 'y')");
        assert!(i.values);
        let Statement::Insert(i) = parse("insert into _default.t select * from u where x > 1").unwrap() else {
            panic!()
        };
        assert_eq!((i.target.bucket.clone(), i.columns.len(), i.values), (BucketId::Default, 0, false));
        assert_eq!(i.rows, "SELECT * FROM u WHERE x > 1");
        assert!(parse("insert into t values (1) returning *").is_err());
        let params = [ScalarValue::Int64(Some(5)), ScalarValue::Utf8(Some("it's".into()))];
        let Statement::Insert(i) =
            Statement::parse_bound("insert into t values ($1, $2)", &BucketId::Default, &params).unwrap()
        else {
            panic!()
        };
        assert_eq!(i.rows, "VALUES (5, 'it''s')");
        let Statement::Delete(d) =
            Statement::parse_bound("delete from t where a = $2", &BucketId::Default, &params).unwrap()
        else {
            panic!()
        };
        assert_eq!(d.predicate, "a = 'it''s'");
        assert!(Statement::parse_bound("delete from t where a = $3", &BucketId::Default, &params).is_err());
        assert!(parse("insert into t values (1) on conflict do nothing").is_err());
    }
}
