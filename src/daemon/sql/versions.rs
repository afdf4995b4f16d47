//! Versions in a table reference: `name AT (VERSION => 3)`, `name AT
//! (TIMESTAMP => '2026-12-01 10:00')` and `name AT (SNAPSHOT => 'q4')`,
//! DuckLake's spelling, and the table function `diff('name', 3, 5 [, 'key'
//! ...])`. DataFusion's parser takes neither (a table function's schema
//! must be known before anything is read), so they are rewritten before
//! anything parses the SQL: the reference becomes one quoted name,
//! `"name@version=3"`, `"name@timestamp=<ms>"`, `"name@snapshot=q4"` or
//! `"name@diff=3,5[,<key in hex>...]"`, which the catalog resolves (a
//! dataframe name cannot hold `@`). Several versions of one dataframe may
//! meet in a query; each is its own table.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};

use crate::daemon::error::{DaemonError, Result};
use crate::protocol::DiffSpec;

/// Which version a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    Version(u64),
    /// The version current at this time (ms since the epoch, UTC).
    Timestamp(i64),
    /// The version a named snapshot of the bucket pins.
    Snapshot(String),
}

/// What a rewritten reference reads of its dataframe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned {
    At(At),
    Diff(DiffSpec),
}

/// `sql` with its `AT (...)` references rewritten; unchanged without any.
pub fn rewrite(sql: &str) -> Result<String> {
    let upper = sql.to_ascii_uppercase();
    if !upper.contains("AT") && !upper.contains("DIFF") {
        return Ok(sql.to_string());
    }
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(sql.to_string()); // the engine reports what does not tokenize
    };
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    let mut changed = false;
    while i < tokens.len() {
        if let Some((name, spec, end)) = diff_call(&tokens, i, &out)? {
            let quoted =
                |value: String| Token::Word(Word { value, quote_style: Some('"'), keyword: Keyword::NoKeyword });
            if let Some((bucket, frame)) = name.split_once('.') {
                out.extend([quoted(bucket.to_string()), Token::Period]);
                out.push(quoted(format!("{frame}@{}", diff_name(&spec))));
            } else {
                out.push(quoted(format!("{name}@{}", diff_name(&spec))));
            }
            i = end;
            changed = true;
            continue;
        }
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
                At::Snapshot(name) => format!("snapshot={name}"),
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
        ("SNAPSHOT", Some(Token::SingleQuotedString(s))) => {
            At::Snapshot(crate::daemon::storage::Name::parse("snapshot", &s)?.to_string())
        }
        (kind, _) => {
            return Err(DaemonError::DataFusion(format!(
                "AT ({kind} => ...) is not a version: use AT (VERSION => 3), AT (TIMESTAMP => '2026-12-01 10:00') or AT (SNAPSHOT => 'name')"
            )))
        }
    };
    Ok(Some((at, next)))
}

/// `diff('name', 3, 5 [, 'key' ...])` at `tokens[i]`, right after `FROM`,
/// `JOIN` or a comma (what `out` ends with): the name, what it asks, and
/// the index after it.
fn diff_call(tokens: &[Token], i: usize, out: &[Token]) -> Result<Option<(String, DiffSpec, usize)>> {
    let Token::Word(w) = &tokens[i] else { return Ok(None) };
    if w.quote_style.is_some() || !w.value.eq_ignore_ascii_case("diff") {
        return Ok(None);
    }
    let before = out.iter().rev().find(|t| !matches!(t, Token::Whitespace(_)));
    let after_from = match before {
        Some(Token::Word(w)) => matches!(w.keyword, Keyword::FROM | Keyword::JOIN),
        Some(Token::Comma) => true,
        _ => false,
    };
    let mut args = tokens[i + 1..].iter().enumerate().filter(|(_, t)| !matches!(t, Token::Whitespace(_)));
    if !after_from || !matches!(args.next(), Some((_, Token::LParen))) {
        return Ok(None);
    }
    let usage = || {
        DaemonError::DataFusion("diff takes a dataframe, two versions and any keys: diff('name', 3, 5, 'key')".into())
    };
    let mut values = Vec::new();
    let end = loop {
        match args.next() {
            Some((_, value @ (Token::SingleQuotedString(_) | Token::Number(..)))) => values.push(value),
            _ => return Err(usage()),
        }
        match args.next() {
            Some((_, Token::Comma)) => {}
            Some((j, Token::RParen)) => break i + 1 + j + 1,
            _ => return Err(usage()),
        }
    };
    let version = |t: &Token| match t {
        Token::Number(n, _) => n.parse::<u64>().map_err(|_| usage()),
        _ => Err(usage()),
    };
    let text = |t: &&Token| match t {
        Token::SingleQuotedString(s) => Ok(s.clone()),
        _ => Err(usage()),
    };
    let [name, from, to, keys @ ..] = values.as_slice() else { return Err(usage()) };
    let spec = DiffSpec { from: version(from)?, to: version(to)?, keys: keys.iter().map(text).collect::<Result<_>>()? };
    Ok(Some((text(name)?, spec, end)))
}

/// The part of a rewritten name that says what diff it is; key names in
/// hex, so any column name fits.
fn diff_name(spec: &DiffSpec) -> String {
    let mut name = format!("diff={},{}", spec.from, spec.to);
    for key in &spec.keys {
        name.push(',');
        name.extend(key.bytes().map(|b| format!("{b:02x}")));
    }
    name
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

/// A table name the rewrite made: the dataframe's name and what it reads.
pub fn split(table: &str) -> Option<(&str, Versioned)> {
    let (name, spec) = table.split_once('@')?;
    let at = match spec.split_once('=')? {
        ("version", v) => At::Version(v.parse().ok()?),
        ("timestamp", ms) => At::Timestamp(ms.parse().ok()?),
        ("snapshot", snapshot) => At::Snapshot(snapshot.to_string()),
        ("diff", args) => {
            let mut args = args.split(',');
            let from = args.next()?.parse().ok()?;
            let to = args.next()?.parse().ok()?;
            let keys = args.map(unhex).collect::<Option<_>>()?;
            return Some((name, Versioned::Diff(DiffSpec { from, to, keys })));
        }
        _ => return None,
    };
    Some((name, Versioned::At(at)))
}

fn unhex(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
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
        assert_eq!(split(&format!("t@timestamp={ms}")), Some(("t", Versioned::At(At::Timestamp(ms)))));
        assert_eq!(split("t@version=3"), Some(("t", Versioned::At(At::Version(3)))));
        assert_eq!(rewrite("select * from t AT (SNAPSHOT => 'q4')").unwrap(), "select * from \"t@snapshot=q4\"");
        assert_eq!(split("t@snapshot=q4"), Some(("t", Versioned::At(At::Snapshot("q4".into())))));
        assert_eq!(split("t"), None);
        // Strings and other uses of AT stay.
        assert_eq!(rewrite("select 'x AT (VERSION => 1)'").unwrap(), "select 'x AT (VERSION => 1)'");
        assert!(rewrite("select * from t AT (VERSION => 'x')").is_err());
        assert!(rewrite("select * from t AT (SNAPSHOT => '../x')").is_err());
    }

    #[test]
    fn a_diff_becomes_one_name_with_its_keys() {
        let sql = rewrite("SELECT * FROM diff('lab.t', 3, 5, 'site', 'a,b\"c') d JOIN x ON true").unwrap();
        assert_eq!(sql, "SELECT * FROM \"lab\".\"t@diff=3,5,73697465,612c622263\" d JOIN x ON true");
        let spec = DiffSpec { from: 3, to: 5, keys: vec!["site".into(), "a,b\"c".into()] };
        assert_eq!(split("t@diff=3,5,73697465,612c622263"), Some(("t", Versioned::Diff(spec))));
        assert_eq!(rewrite("select * from diff('t', 1, 2)").unwrap(), "select * from \"t@diff=1,2\"");
        // A column or function named diff elsewhere stays.
        assert_eq!(rewrite("select diff(x) from t").unwrap(), "select diff(x) from t");
        assert!(rewrite("select * from diff('t', 1)").is_err());
        assert!(rewrite("select * from diff('t', 'a', 2)").is_err());
    }
}
