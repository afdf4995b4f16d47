//! Versions in a table reference: `name AT (VERSION => 3)` and `name AT
//! (TIMESTAMP => '2026-12-01 10:00')`, DuckLake's spelling. DataFusion's
//! parser does not take it, so it is rewritten before anything parses the
//! SQL: the reference becomes one quoted name, `"name@version=3"` or
//! `"name@timestamp=<ms>"`, which the catalog resolves to that version (a
//! dataframe name cannot hold `@`). Several versions of one dataframe may
//! meet in a query; each is its own table.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};

use crate::daemon::error::{DaemonError, Result};

/// Which version a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Version(u64),
    /// The version current at this time (ms since the epoch, UTC).
    Timestamp(i64),
}

/// `sql` with its `AT (...)` references rewritten; unchanged without any.
pub fn rewrite(sql: &str) -> Result<String> {
    if !sql.to_ascii_uppercase().contains("AT") {
        return Ok(sql.to_string());
    }
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(sql.to_string()); // the engine reports what does not tokenize
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    let mut changed = false;
    while i < tokens.len() {
        if let Some((at, end)) = at_clause(&tokens, i)? {
            // The name before it: its last part carries the version.
            while matches!(out.last(), Some(Token::Whitespace(_))) {
                out.pop();
            }
            let Some(Token::Word(table)) = out.pop() else {
                return Err(DaemonError::DataFusion("AT (...) must follow a table name".into()));
            };
            let spec = match at {
                At::Version(v) => format!("version={v}"),
                At::Timestamp(ms) => format!("timestamp={ms}"),
            };
            let name = if table.quote_style.is_some() { table.value } else { table.value.to_lowercase() };
            out.push(Token::Word(Word {
                value: format!("{name}@{spec}"),
                quote_style: Some('"'),
                keyword: Keyword::NoKeyword,
            }));
            i = end;
            changed = true;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    Ok(if changed { out.iter().map(Token::to_string).collect() } else { sql.to_string() })
}

/// `AT ( VERSION|TIMESTAMP => value )` starting at `tokens[i]`: what it
/// names and the index after it.
fn at_clause(tokens: &[Token], i: usize) -> Result<Option<(At, usize)>> {
    let Token::Word(w) = &tokens[i] else { return Ok(None) };
    if w.keyword != Keyword::AT || w.quote_style.is_some() {
        return Ok(None);
    }
    let mut next = i + 1;
    let mut take = || {
        while matches!(tokens.get(next), Some(Token::Whitespace(_))) {
            next += 1;
        }
        next += 1;
        tokens.get(next - 1)
    };
    if take() != Some(&Token::LParen) {
        return Ok(None);
    }
    let Some(Token::Word(kind)) = take() else { return Ok(None) };
    let kind = kind.value.to_ascii_uppercase();
    if take() != Some(&Token::RArrow) {
        return Ok(None);
    }
    let value = take().cloned();
    if take() != Some(&Token::RParen) {
        return Err(DaemonError::DataFusion("AT (...) takes one value: AT (VERSION => 3)".into()));
    }
    let at = match (kind.as_str(), value) {
        ("VERSION", Some(Token::Number(n, _))) => At::Version(
            n.parse().map_err(|_| DaemonError::DataFusion(format!("AT (VERSION => {n}): not a version number")))?,
        ),
        ("TIMESTAMP", Some(Token::SingleQuotedString(s))) => At::Timestamp(parse_time(&s)?),
        ("SNAPSHOT", _) => {
            return Err(DaemonError::DataFusion("AT (SNAPSHOT => ...) is not supported yet".into()));
        }
        (kind, _) => {
            return Err(DaemonError::DataFusion(format!(
                "AT ({kind} => ...) is not a version: use AT (VERSION => 3) or AT (TIMESTAMP => '2026-12-01 10:00')"
            )))
        }
    };
    Ok(Some((at, next)))
}

/// A time as SQL users write it, in UTC unless it says otherwise.
fn parse_time(s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    for format in
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
    {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis());
    }
    Err(DaemonError::DataFusion(format!(
        "AT (TIMESTAMP => '{s}'): not a time (use '2026-12-01 10:00', UTC, or RFC 3339)"
    )))
}

/// A table name the rewrite made: the dataframe's name and its version.
pub fn split(table: &str) -> Option<(&str, At)> {
    let (name, spec) = table.split_once('@')?;
    let at = match spec.split_once('=')? {
        ("version", v) => At::Version(v.parse().ok()?),
        ("timestamp", ms) => At::Timestamp(ms.parse().ok()?),
        _ => return None,
    };
    Some((name, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_with_a_version_become_one_name() {
        assert_eq!(rewrite("select 1").unwrap(), "select 1");
        assert_eq!(
            rewrite("select * from lab.T AT (VERSION => 3) a join t at(version=>4) b on a.x = b.x").unwrap(),
            "select * from lab.\"t@version=3\" a join \"t@version=4\" b on a.x = b.x"
        );
        let ms = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(
            rewrite("select * from t AT (TIMESTAMP => '2026-12-01 10:00')").unwrap(),
            format!("select * from \"t@timestamp={ms}\"")
        );
        assert_eq!(split(&format!("t@timestamp={ms}")), Some(("t", At::Timestamp(ms))));
        assert_eq!(split("t@version=3"), Some(("t", At::Version(3))));
        assert_eq!(split("t"), None);
        // Strings and other uses of AT stay.
        assert_eq!(rewrite("select 'x AT (VERSION => 1)'").unwrap(), "select 'x AT (VERSION => 1)'");
        assert!(rewrite("select * from t AT (VERSION => 'x')").is_err());
    }
}
