//! The rustyline helper: when a statement is complete, and what Tab offers.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::meta;

/// What the daemon holds, for completion; refreshed after every command.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub buckets: Vec<String>,
    /// (bucket, dataframe, columns); `None` is the default bucket.
    pub frames: Vec<(Option<String>, String, Vec<String>)>,
    /// The bucket whose dataframes are bare names (`\use`).
    pub current: Option<String>,
}

pub struct ReplHelper {
    pub names: Arc<Mutex<Names>>,
}

const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "group",
    "by",
    "order",
    "having",
    "limit",
    "offset",
    "join",
    "left",
    "right",
    "full",
    "inner",
    "outer",
    "cross",
    "on",
    "using",
    "as",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "like",
    "ilike",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "distinct",
    "union",
    "all",
    "intersect",
    "except",
    "with",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "median",
    "stddev",
    "date_bin",
    "date_trunc",
    "cast",
    "interval",
    "timestamp",
    "explain",
    "describe",
    "show",
    "tables",
    "columns",
    "over",
    "partition",
    "values",
    "true",
    "false",
];

/// A statement is complete at a `;`; a backslash command at the line's end.
pub fn is_complete(input: &str) -> bool {
    let text = input.trim();
    text.is_empty() || text.starts_with('\\') || text.ends_with(';')
}

/// How an identifier is written in SQL: bare when DataFusion would not
/// lower-case or misread it, else double-quoted.
fn sql_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

impl Names {
    /// Everything Tab may offer for the word being typed.
    pub fn candidates(&self, line: &str, word: &str) -> Vec<String> {
        if line.trim_start().starts_with('\\') && !line.trim_start().contains(char::is_whitespace) {
            return meta::NAMES.iter().filter(|m| m.starts_with(word)).map(|m| m.to_string()).collect();
        }
        let mut names: Vec<String> = Vec::new();
        for (bucket, frame, columns) in &self.frames {
            if *bucket == self.current {
                names.push(sql_ident(frame));
            }
            let schema = bucket.as_deref().unwrap_or(crate::protocol::DEFAULT_SCHEMA);
            names.push(format!("{}.{}", sql_ident(schema), sql_ident(frame)));
            names.extend(columns.iter().map(|c| sql_ident(c)));
        }
        names.extend(self.buckets.iter().map(|b| sql_ident(b)));
        // Names match as written (quotes aside); keywords in either case.
        let typed = word.trim_start_matches('"');
        let mut matches: Vec<String> =
            names.into_iter().filter(|c| c.trim_start_matches('"').starts_with(typed) && c != word).collect();
        let upper = typed.chars().any(|c| c.is_ascii_uppercase());
        matches.extend(
            KEYWORDS
                .iter()
                .filter(|k| {
                    !word.starts_with('"') && k.starts_with(&typed.to_lowercase()) && **k != typed.to_lowercase()
                })
                .map(|k| if upper { k.to_uppercase() } else { k.to_string() }),
        );
        matches.sort();
        matches.dedup();
        matches
    }
}

/// Where the word under the cursor starts: identifiers, dots, quotes,
/// and a leading backslash for commands.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '-' | '\\' | '?')))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0)
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = word_start(line, pos);
        let names = self.names.lock().expect("names lock");
        let found = names
            .candidates(line, &line[start..pos])
            .into_iter()
            .map(|c| Pair { display: c.clone(), replacement: c })
            .collect();
        Ok((start, found))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_complete(ctx.input()) { ValidationResult::Valid(None) } else { ValidationResult::Incomplete })
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            buckets: vec!["lab".into()],
            frames: vec![
                (None, "sensor_data".into(), vec!["timestamp".into(), "Sensor_1".into()]),
                (Some("lab".into()), "runs".into(), vec!["run_id".into()]),
            ],
            current: None,
        }
    }

    #[test]
    fn statements_end_at_a_semicolon() {
        assert!(!is_complete("select *"));
        assert!(!is_complete("select *\nfrom t"));
        assert!(is_complete("select *\nfrom t\n;  "));
        assert!(is_complete("\\d"));
        assert!(is_complete("   "));
    }

    #[test]
    fn completes_dataframes_columns_buckets_and_keywords() {
        let n = names();
        assert_eq!(n.candidates("select * from sens", "sens"), ["sensor_data"]);
        assert_eq!(n.candidates("select \"Sen", "\"Sen"), ["\"Sensor_1\""]);
        assert_eq!(n.candidates("select Sen", "Sen"), ["\"Sensor_1\""]);
        assert_eq!(n.candidates("select * from lab.r", "lab.r"), ["lab.runs"]);
        assert_eq!(n.candidates("select ru", "ru"), ["run_id"]);
        assert_eq!(n.candidates("sel", "sel"), ["select"]);
        assert_eq!(n.candidates("SEL", "SEL"), ["SELECT"]);
        assert_eq!(n.candidates("select * from la", "la"), ["lab", "lab.runs", "last"]);
        assert_eq!(n.candidates("\\ti", "\\ti"), ["\\timing"]);
    }

    #[test]
    fn bare_names_follow_use() {
        let mut n = names();
        n.current = Some("lab".into());
        assert_eq!(n.candidates("select * from ru", "ru"), ["run_id", "runs"]);
        assert_eq!(n.candidates("select * from sens", "sens"), Vec::<String>::new());
    }

    #[test]
    fn word_boundaries() {
        assert_eq!(word_start("select * from lab.r", 19), 14);
        assert_eq!(word_start("\\ti", 3), 0);
        assert_eq!(word_start("select \"Sen", 11), 7);
    }
}
