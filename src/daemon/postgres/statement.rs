//! What a Postgres client sent, told apart: a query for the engine, or a
//! session statement answered here. Postgres spellings DataFusion does not
//! take (`::regclass`, `OPERATOR(pg_catalog.~)`, ...) are rewritten first by
//! datafusion-pg-catalog's parser, which knows what psql and tools send.

use datafusion::sql::sqlparser::ast::{self, Set};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use super::copy::{self, CopyFormat};
use super::errors::{code, error};
use super::type_info;
use crate::daemon::sql;
use crate::daemon::storage::{BucketId, Target};
use pgwire::error::PgWireResult;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query or an EXPLAIN, for the engine.
    Query(sql::Query),
    /// An INSERT or a DELETE, as parsed: its parameters go in as literals
    /// when it runs.
    Write(Box<ast::Statement>),
    /// `COPY ... TO STDOUT`: a query's rows in a COPY format.
    CopyOut {
        sql: String,
        format: CopyFormat,
    },
    /// `COPY name [(columns)] FROM STDIN`: an append, streamed.
    CopyIn {
        target: Target,
        columns: Vec<String>,
        format: CopyFormat,
    },
    /// `DECLARE name [BINARY] CURSOR FOR query`: a server-side cursor.
    Declare {
        name: String,
        sql: String,
        binary: bool,
    },
    /// `FETCH [FORWARD] n | ALL FROM name` (`None`: all that is left).
    Fetch {
        name: String,
        count: Option<usize>,
    },
    /// `CLOSE name`, or `CLOSE ALL` without one.
    Close(Option<String>),
    Set {
        name: String,
        value: String,
    },
    /// asyncpg's type introspection ([`super::type_info`]).
    TypeInfo,
    /// `RESET name`, or `RESET ALL` without one.
    Reset(Option<String>),
    Show(String),
    /// Accepted and answered with this tag alone: transactions around
    /// reads, `DISCARD ALL`, `DEALLOCATE`, `SET` forms with nothing to keep.
    Accepted {
        tag: &'static str,
        transaction: Transaction,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transaction {
    Unchanged,
    Begins,
    Ends,
}

/// The statements of `sql`, in order; bare names are dataframes of `default`.
pub fn parse(parser: &PostgresCompatibilityParser, sql: &str, default: &BucketId) -> PgWireResult<Vec<Statement>> {
    if type_info::is_introspection(sql) {
        return Ok(vec![Statement::TypeInfo]);
    }
    let sql = &sql::versions::rewrite(sql)?;
    let syntax = |e: ParserError| error(code::SYNTAX_ERROR, format!("SQL error: {e}"));
    let statements = if sql.to_ascii_lowercase().contains("regproc") {
        parser.parse(&regprocs_as_names(sql).map_err(syntax)?)
    } else {
        parser.parse(sql)
    };
    statements.map_err(syntax)?.into_iter().map(|s| classify(s, default)).collect()
}

/// `'pg_catalog.f'::regproc` as the name `'f'`: the function columns of
/// datafusion-pg-catalog's `pg_type` (`typinput`, `typoutput`, ...) hold
/// names where Postgres holds OIDs shown as names, so a name compares
/// with them and an OID does not (DBeaver asks `typinput =
/// 'pg_catalog.array_in'::regproc`).
fn regprocs_as_names(sql: &str) -> Result<String, ParserError> {
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)?;
    let _ = ast::visit_expressions_mut(&mut statements, |expr| {
        if let ast::Expr::Cast { expr: inner, data_type: ast::DataType::Custom(name, _), .. } = expr {
            if name.to_string().eq_ignore_ascii_case("regproc") {
                if let ast::Expr::Value(v) = inner.as_ref() {
                    if let ast::Value::SingleQuotedString(f) = &v.value {
                        let f = f.strip_prefix("pg_catalog.").unwrap_or(f).to_string();
                        *expr = ast::Expr::value(ast::Value::SingleQuotedString(f));
                    }
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    Ok(statements.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "))
}

fn accepted(tag: &'static str) -> Statement {
    Statement::Accepted { tag, transaction: Transaction::Unchanged }
}

fn classify(statement: ast::Statement, default: &BucketId) -> PgWireResult<Statement> {
    use ast::Statement as S;
    if let Some(write) = sql::Statement::write_from_ast(&statement, default) {
        write?; // refused forms fail at once, before any parameter
        return Ok(Statement::Write(Box::new(statement)));
    }
    Ok(match statement {
        S::Query(_) | S::Explain { .. } => {
            let text = statement.to_string();
            Statement::Query(sql::Query::from_ast(&statement, text, None))
        }
        S::Copy { source, to, target, options, legacy_options, .. } => {
            match copy::classify(&source, to, &target, &options, &legacy_options)? {
                copy::Copy::Out { sql, format } => Statement::CopyOut { sql, format },
                copy::Copy::In { table, columns, format } => {
                    let target = sql::statement::target(&table, default, "COPY")?;
                    Statement::CopyIn { target, columns, format }
                }
            }
        }
        S::Declare { stmts } => match stmts.as_slice() {
            [ast::Declare {
                names,
                declare_type: Some(ast::DeclareType::Cursor),
                for_query: Some(query),
                binary,
                ..
            }] if names.len() == 1 => Statement::Declare {
                name: names[0].value.clone(),
                sql: query.to_string(),
                binary: *binary == Some(true),
            },
            _ => return Err(error(code::FEATURE_NOT_SUPPORTED, "DECLARE takes one cursor for a query")),
        },
        S::Fetch { name, direction, .. } => {
            let count = |v: &ast::ValueWithSpan| match &v.value {
                ast::Value::Number(n, _) => n.parse::<usize>().ok(),
                _ => None,
            };
            let count = match &direction {
                ast::FetchDirection::All | ast::FetchDirection::ForwardAll => None,
                ast::FetchDirection::Next | ast::FetchDirection::Forward { limit: None } => Some(1),
                ast::FetchDirection::Count { limit } | ast::FetchDirection::Forward { limit: Some(limit) } => {
                    Some(count(limit).ok_or_else(|| error(code::SYNTAX_ERROR, "FETCH takes a row count"))?)
                }
                _ => return Err(error(code::FEATURE_NOT_SUPPORTED, "cursors of shoots only move forward")),
            };
            Statement::Fetch { name: name.value, count }
        }
        S::Close { cursor } => Statement::Close(match cursor {
            ast::CloseCursor::All => None,
            ast::CloseCursor::Specific { name } => Some(name.value),
        }),
        S::Set(set) => match set {
            Set::SingleAssignment { variable, values, .. } => {
                let value = values.iter().map(setting_value).collect::<Vec<_>>().join(", ");
                Statement::Set { name: variable.to_string(), value }
            }
            Set::SetTimeZone { value, .. } => Statement::Set { name: "timezone".into(), value: setting_value(&value) },
            _ => accepted("SET"),
        },
        S::Reset(reset) => match reset.reset {
            ast::Reset::ALL => Statement::Reset(None),
            ast::Reset::ConfigurationParameter(name) => Statement::Reset(Some(name.to_string())),
        },
        S::ShowVariable { variable } => {
            let words: Vec<String> = variable.iter().map(|i| i.value.to_ascii_lowercase()).collect();
            // `SHOW TRANSACTION ISOLATION LEVEL` names `transaction_isolation`.
            let name = match words.join(" ").as_str() {
                "transaction isolation level" => "transaction_isolation".to_string(),
                other => other.replace(' ', "_"),
            };
            Statement::Show(name)
        }
        S::StartTransaction { .. } => Statement::Accepted { tag: "BEGIN", transaction: Transaction::Begins },
        S::Commit { .. } => Statement::Accepted { tag: "COMMIT", transaction: Transaction::Ends },
        // Savepoints mark nothing: a transaction here only reads.
        S::Rollback { savepoint: Some(_), .. } => accepted("ROLLBACK"),
        S::Rollback { .. } => Statement::Accepted { tag: "ROLLBACK", transaction: Transaction::Ends },
        S::Savepoint { .. } => accepted("SAVEPOINT"),
        S::ReleaseSavepoint { .. } => accepted("RELEASE"),
        S::Discard { .. } => accepted("DISCARD ALL"),
        S::Deallocate { .. } => accepted("DEALLOCATE"),
        other => {
            let text = other.to_string();
            let what = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            return Err(error(
                code::READ_ONLY,
                format!(
                    "SQL in shoots is read-only: {what} is not supported (queries, EXPLAIN and session statements are)"
                ),
            ));
        }
    })
}

/// A `SET` value as `SHOW` gives it back: strings without their quotes.
fn setting_value(expr: &ast::Expr) -> String {
    match expr {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        ast::Expr::Identifier(id) => id.value.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Statement {
        let mut all = parse(&PostgresCompatibilityParser::new(), sql, &BucketId::Default).unwrap();
        assert_eq!(all.len(), 1, "{sql}");
        all.remove(0)
    }

    #[test]
    fn session_statements_are_told_from_queries() {
        assert_eq!(
            one("SET extra_float_digits = 3"),
            Statement::Set { name: "extra_float_digits".into(), value: "3".into() }
        );
        assert_eq!(
            one("set application_name to 'psql'"),
            Statement::Set { name: "application_name".into(), value: "psql".into() }
        );
        assert_eq!(one("SET TIME ZONE 'UTC'"), Statement::Set { name: "timezone".into(), value: "UTC".into() });
        assert_eq!(one("show transaction isolation level"), Statement::Show("transaction_isolation".into()));
        assert_eq!(one("SHOW standard_conforming_strings"), Statement::Show("standard_conforming_strings".into()));
        assert_eq!(one("BEGIN"), Statement::Accepted { tag: "BEGIN", transaction: Transaction::Begins });
        assert_eq!(one("rollback"), Statement::Accepted { tag: "ROLLBACK", transaction: Transaction::Ends });
        assert_eq!(one("DISCARD ALL"), accepted("DISCARD ALL"));
        assert_eq!(one(r#"SAVEPOINT "_pg3_1""#), accepted("SAVEPOINT"));
        assert_eq!(one(r#"ROLLBACK TO SAVEPOINT "_pg3_1""#), accepted("ROLLBACK"));
        assert!(matches!(one("select 1"), Statement::Query(_)));
        assert!(matches!(one("insert into t values (1)"), Statement::Write(_)));
        assert!(matches!(one("delete from lab.t where a = 1"), Statement::Write(_)));
        assert_eq!(
            one(r#"DECLARE "pages" CURSOR WITHOUT HOLD FOR select 1"#),
            Statement::Declare { name: "pages".into(), sql: "SELECT 1".into(), binary: false }
        );
        assert_eq!(one(r#"FETCH FORWARD 5 FROM "pages""#), Statement::Fetch { name: "pages".into(), count: Some(5) });
        assert_eq!(one("fetch all from c"), Statement::Fetch { name: "c".into(), count: None });
        assert_eq!(one("CLOSE c"), Statement::Close(Some("c".into())));
        let Statement::CopyOut { sql, format } = one("COPY t (a, b) TO STDOUT WITH (FORMAT binary)") else { panic!() };
        assert_eq!((sql.as_str(), format), ("SELECT a, b FROM t", CopyFormat::Binary));
        let Statement::CopyOut { format, .. } = one("copy (select 1) to stdout with csv header") else { panic!() };
        assert!(matches!(format, CopyFormat::Csv { header: true, .. }));
        let Statement::CopyIn { target, columns, .. } = one("COPY lab.t (a, B) FROM STDIN WITH (FORMAT csv)") else {
            panic!()
        };
        assert_eq!((target.to_string(), columns), ("lab/t".into(), vec!["a".to_string(), "b".to_string()]));
        let refused = parse(&PostgresCompatibilityParser::new(), "copy t to '/etc/x'", &BucketId::Default).unwrap_err();
        assert!(refused.to_string().contains("use COPY ... TO STDOUT"), "{refused}");
        let refused =
            parse(&PostgresCompatibilityParser::new(), "create table t (a int)", &BucketId::Default).unwrap_err();
        assert!(refused.to_string().contains("read-only"), "{refused}");
    }
}
