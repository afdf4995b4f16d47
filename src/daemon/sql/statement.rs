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

use crate::daemon::distributed::Mode;
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{BucketId, Name, Target};
use crate::protocol::DEFAULT_SCHEMA;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query (or anything else the engine takes or refuses).
    Query(Query),
    Insert(Insert),
    Delete(Delete),
}

/// A query as the engine plans it.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub sql: String,
    /// `SET shoots.distributed = on|off|auto;` before it: how it is spread.
    pub mode: Option<Mode>,
    /// For a plain `EXPLAIN query` (not ANALYZE or VERBOSE, which DataFusion
    /// answers itself), the query explained.
    pub explained: Option<String>,
}

impl Query {
    /// `sql` taken as it is: the daemon's own queries, and text the engine
    /// is to parse (and report on) itself.
    pub fn plain(sql: impl Into<String>) -> Query {
        Query { sql: sql.into(), mode: None, explained: None }
    }

    /// A statement that is no write, as parsed.
    pub fn from_ast(statement: &ast::Statement, sql: String, mode: Option<Mode>) -> Query {
        let explained = match statement {
            ast::Statement::Explain { analyze: false, verbose: false, format: None, statement, .. } => {
                Some(statement.to_string())
            }
            _ => None,
        };
        Query { sql, mode, explained }
    }

    /// `sql` for a front end that only reads (the HTTP API): a write is
    /// refused there.
    pub fn read_only(sql: &str) -> Result<Query> {
        match Statement::parse(sql, &BucketId::Default)? {
            Statement::Query(query) => Ok(query),
            _ => Err(DaemonError::DataFusion(
                "SQL in shoots is read-only here: INSERT and DELETE go through Flight, Flight SQL or Postgres".into(),
            )),
        }
    }
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
        let sql = &super::versions::rewrite(sql)?;
        // SQL that does not parse (or is several statements) is the
        // engine's to report or to run.
        let Ok(mut statements) = Parser::parse_sql(&GenericDialect {}, sql) else {
            return Ok(Statement::Query(Query::plain(sql)));
        };
        let mode = leading_mode(&mut statements)?;
        // DataFusion knows numbered placeholders only; the text is printed
        // back from the statement when `?` were numbered.
        let numbered = number_placeholders(&mut statements);
        match statements.as_mut_slice() {
            [statement @ (ast::Statement::Insert(_) | ast::Statement::Delete(_))] => {
                if !params.is_empty() {
                    bind(statement, params)?;
                }
                Statement::write_from_ast(statement, default).expect("a write")
            }
            // After a SET the query is what is left, printed back.
            [statement] if mode.is_some() || numbered => {
                Ok(Statement::Query(Query::from_ast(statement, statement.to_string(), mode)))
            }
            [statement] => Ok(Statement::Query(Query::from_ast(statement, sql.to_string(), None))),
            _ => Ok(Statement::Query(Query::plain(sql))),
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

/// `SET shoots.distributed = on|off|auto;` before a statement decides how
/// it is spread (the REPL sends its last such `SET` before each statement,
/// which makes it the session's); taken off the front of `statements`.
fn leading_mode(statements: &mut Vec<ast::Statement>) -> Result<Option<Mode>> {
    let Some(ast::Statement::Set(ast::Set::SingleAssignment { variable, values, .. })) = statements.first() else {
        return Ok(None);
    };
    if !variable.to_string().eq_ignore_ascii_case("shoots.distributed") {
        return Ok(None);
    }
    let value = match values.as_slice() {
        [ast::Expr::Value(v)] => match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        [ast::Expr::Identifier(id)] => id.value.clone(),
        _ => String::new(),
    };
    let mode = value.parse()?;
    statements.remove(0);
    if statements.is_empty() {
        return Err(DaemonError::InvalidArgument(
            "SET shoots.distributed goes before a query in the same request (\"SET shoots.distributed = on; SELECT ...\"); the REPL keeps it for the session".into(),
        ));
    }
    Ok(Some(mode))
}

/// `?` placeholders become `$1`, `$2`, ... in order (Flight SQL clients
/// send `?`); whether there were any.
fn number_placeholders(statements: &mut Vec<ast::Statement>) -> bool {
    let mut n = 0;
    let _ = ast::visit_expressions_mut(statements, |expr| {
        if let ast::Expr::Value(v) = expr {
            if matches!(&v.value, ast::Value::Placeholder(p) if p == "?") {
                n += 1;
                v.value = ast::Value::Placeholder(format!("${n}"));
            }
        }
        ControlFlow::<()>::Continue(())
    });
    n > 0
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
        assert_eq!(parse("select 1").unwrap(), Statement::Query(Query::plain("select 1")));
        assert_eq!(parse("delete from").unwrap(), Statement::Query(Query::plain("delete from")));
        assert!(parse("delete from a using b where a.x = b.x").is_err());
    }

    fn query(sql: &str) -> Result<Query> {
        match parse(sql)? {
            Statement::Query(q) => Ok(q),
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn a_leading_set_decides_for_the_query() {
        assert_eq!(query("select 1").unwrap().mode, None);
        let q = query("SET shoots.distributed = on; select 1").unwrap();
        assert_eq!((q.mode, q.sql.as_str()), (Some(Mode::On), "SELECT 1"));
        assert_eq!(query("set SHOOTS.DISTRIBUTED to 'off';select 2").unwrap().mode, Some(Mode::Off));
        assert!(query("SET shoots.distributed = maybe; select 1").unwrap_err().to_string().contains("on, off or auto"));
        assert!(query("SET shoots.distributed = on").is_err());
        // Another SET is no mode: the engine refuses it.
        assert_eq!(query("SET datafusion.execution.batch_size = 1").unwrap().mode, None);
    }

    #[test]
    fn question_marks_are_numbered_outside_strings_and_names() {
        assert_eq!(query("select 1").unwrap().sql, "select 1");
        assert_eq!(
            query("select '?' as \"a?\", x from t where x > ? and y = ? -- why?").unwrap().sql,
            "SELECT '?' AS \"a?\", x FROM t WHERE x > $1 AND y = $2"
        );
        let params = [ScalarValue::Int64(Some(1)), ScalarValue::Int64(Some(2))];
        let sql = "delete from t where a = ? or b = ?";
        let Statement::Delete(d) = Statement::parse_bound(sql, &BucketId::Default, &params).unwrap() else { panic!() };
        assert_eq!(d.predicate, "a = 1 OR b = 2");
    }

    #[test]
    fn plain_explains_only() {
        assert_eq!(query("EXPLAIN select 1").unwrap().explained.as_deref(), Some("SELECT 1"));
        assert_eq!(query("explain analyze select 1").unwrap().explained, None);
        assert_eq!(query("select 1").unwrap().explained, None);
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
