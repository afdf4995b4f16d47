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
pub fn statements(script: &str) -> Vec<String> {
    match datafusion::sql::parser::DFParser::parse_sql(script) {
        Ok(parsed) if parsed.len() > 1 => parsed.iter().map(|s| s.to_string()).collect(),
        _ if script.trim().trim_end_matches(';').trim().is_empty() => Vec::new(),
        _ => vec![script.trim().trim_end_matches(';').to_string()],
    }
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
    use super::statements;

    #[test]
    fn splits_on_semicolons_outside_strings() {
        assert_eq!(statements("select 1"), ["select 1"]);
        assert_eq!(statements("select 1;\n"), ["select 1"]);
        assert_eq!(statements("select 'a;b'; select 2;").len(), 2);
        assert!(statements(" ; ").is_empty());
        // Unparseable text is sent as it is, for the server's error message.
        assert_eq!(statements("selec 1; select 2"), ["selec 1; select 2"]);
    }
}
