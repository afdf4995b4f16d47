//! Running SQL statements, for `shoots sql` and the REPL.

use super::export::export;
use super::Client;
use crate::error::Result;
use crate::output::{Destination, OutputFormat};
use crate::progress::Progress;
use crate::protocol::Ticket;

/// Splits a script into statements with DataFusion's own parser, so `;`
/// inside strings and comments is no boundary. Text it cannot parse goes to
/// the server whole, which reports the error the same way as for one query.
///
/// `SET shoots.distributed = X` is no statement of its own (the daemon keeps
/// no session): it goes before each statement after it.
pub fn statements(script: &str) -> Vec<String> {
    let split = match datafusion::sql::parser::DFParser::parse_sql(script) {
        Ok(parsed) if parsed.len() > 1 => parsed.iter().map(|s| s.to_string()).collect(),
        _ if script.trim().trim_end_matches(';').trim().is_empty() => Vec::new(),
        _ => vec![script.trim().trim_end_matches(';').to_string()],
    };
    let mut setting = None;
    let mut out = Vec::new();
    for statement in split {
        match distributed_setting(&statement) {
            Some((value, "")) => setting = Some(value),
            _ => out.push(match &setting {
                Some(value) => format!("SET shoots.distributed = {value}; {statement}"),
                None => statement,
            }),
        }
    }
    if out.is_empty() {
        // Only settings: sent as they are, for the daemon to explain.
        return setting.map(|v| vec![format!("SET shoots.distributed = {v}")]).unwrap_or_default();
    }
    out
}

/// A leading `SET shoots.distributed = VALUE` (or `TO`): the value, and
/// what follows it (`""` when nothing).
pub fn distributed_setting(sql: &str) -> Option<(String, &str)> {
    let sql = sql.trim_start();
    let mut words = sql.splitn(3, char::is_whitespace);
    let (set, name) = (words.next()?, words.next()?);
    if !set.eq_ignore_ascii_case("set") || !name.eq_ignore_ascii_case("shoots.distributed") {
        return None;
    }
    let rest = words.next()?.trim_start();
    let rest = rest
        .strip_prefix('=')
        .or_else(|| rest.get(..2).filter(|w| w.eq_ignore_ascii_case("to")).map(|_| &rest[2..]))?;
    let rest = rest.trim_start();
    let end = rest.find(|c: char| c == ';' || c.is_whitespace()).unwrap_or(rest.len());
    let value = rest[..end].trim_matches('\'').to_ascii_lowercase();
    let after = rest[end..].trim_start();
    Some((value, after.strip_prefix(';').unwrap_or(after).trim()))
}

/// Runs one statement (bare names in `bucket`) and prints its result
/// through the shared output module; returns the rows printed.
pub async fn run_statement(
    client: &mut Client,
    sql: &str,
    bucket: Option<&str>,
    format: OutputFormat,
    destination: Destination,
) -> Result<usize> {
    let stream = client.do_get(&Ticket::sql(sql, bucket)).await?;
    export(stream, format, destination, &Progress::rows("sql", true)).await
}

#[cfg(test)]
mod tests {
    use super::{distributed_setting, statements};

    #[test]
    fn splits_on_semicolons_outside_strings() {
        assert_eq!(statements("select 1"), ["select 1"]);
        assert_eq!(statements("select 1;\n"), ["select 1"]);
        assert_eq!(statements("select 'a;b'; select 2;").len(), 2);
        assert!(statements(" ; ").is_empty());
        // Unparseable text is sent as it is, for the server's error message.
        assert_eq!(statements("selec 1; select 2"), ["selec 1; select 2"]);
    }

    #[test]
    fn a_set_of_shoots_distributed_goes_before_the_statements_after_it() {
        assert_eq!(distributed_setting("SET shoots.distributed = on;"), Some(("on".into(), "")));
        assert_eq!(distributed_setting("set SHOOTS.DISTRIBUTED to 'Off'"), Some(("off".into(), "")));
        assert_eq!(distributed_setting("SET shoots.distributed = on; select 1"), Some(("on".into(), "select 1")));
        assert_eq!(distributed_setting("select 1"), None);
        assert_eq!(
            statements("select 0; SET shoots.distributed = on; select 1; select 2"),
            ["SELECT 0", "SET shoots.distributed = on; SELECT 1", "SET shoots.distributed = on; SELECT 2"]
        );
    }
}
