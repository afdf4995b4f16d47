//! The rows that differ between two versions of a dataframe, read from the
//! file entries that differ only: entries both versions list hold the same
//! rows in both. The rows of the entries only the older version lists less
//! those of the entries only the newer lists (as multisets: a compaction
//! rewrites rows without changing them) were removed, and the other way
//! round added. With keys, a removed and an added row with the same keys
//! are one `changed` row, which names the columns whose values changed.
//!
//! Reached as a ticket's `diff` (`shoots diff`) and as `diff('name', 3, 5
//! [, 'key' ...])` in SQL ([`super::versions`]); both read through the table
//! [`diff`] makes.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::prelude::SessionContext;

use crate::daemon::error::{DaemonError, Result};
use crate::daemon::storage::{DataFile, Snapshot, Store};
use crate::daemon::table::DataframeTable;
use crate::protocol::{DIFF_CHANGE, DIFF_CHANGED_COLUMNS};

/// A diff as a table, and what it reads.
pub struct Diff {
    pub table: Arc<dyn TableProvider>,
    /// File entries read: those only one of the two versions lists.
    pub files_read: usize,
    /// File entries of both versions together.
    pub files: usize,
}

/// The rows that differ from `before` to `after` (two versions of one
/// dataframe), as a table: `_change`, with `keys` also `_changed_columns`,
/// then the dataframe's columns (the older values for removed rows).
pub async fn diff(store: &Arc<Store>, before: &Snapshot, after: &Snapshot, keys: &[String]) -> Result<Diff> {
    let columns: Vec<String> = after.schema.fields().iter().map(|f| f.name().clone()).collect();
    let (old, new) = (before.schema.fields(), after.schema.fields());
    let same = old.len() == new.len()
        && old.iter().zip(new).all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type());
    if !same {
        return Err(DaemonError::InvalidArgument(format!(
            "versions {} and {} of dataframe {} have different columns; a diff compares versions with the same columns and types",
            before.commit.version, after.commit.version, after.name
        )));
    }
    for reserved in [DIFF_CHANGE, DIFF_CHANGED_COLUMNS] {
        if columns.iter().any(|c| c == reserved) {
            return Err(DaemonError::InvalidArgument(format!(
                "dataframe {} has a column {reserved}, which a diff adds; rename it to diff",
                after.name
            )));
        }
    }
    for (i, key) in keys.iter().enumerate() {
        if !columns.contains(key) {
            return Err(DaemonError::InvalidArgument(format!(
                "diff key {key:?} is not a column of dataframe {} (columns: {})",
                after.name,
                columns.join(", ")
            )));
        }
        if keys[..i].contains(key) {
            return Err(DaemonError::InvalidArgument(format!("diff key {key:?} is named twice")));
        }
    }
    let (gone, came) = differing(&before.commit.files, &after.commit.files);
    let files_read = gone.len() + came.len();
    let files = before.commit.files.len() + after.commit.files.len();
    let ctx = SessionContext::new();
    let side = |snap: &Snapshot, files| Arc::new(DataframeTable::new(snap.with_files(files), store.clone(), false));
    let (gone_empty, came_empty) = (gone.is_empty(), came.is_empty());
    ctx.register_table("__before", side(before, gone))?;
    ctx.register_table("__after", side(after, came))?;
    let sql = Sides { columns: &columns, keys, gone: !gone_empty, came: !came_empty }.sql();
    let table = ctx.sql(&sql).await?.into_view();
    Ok(Diff { table, files_read, files })
}

/// The entries only `before` lists and those only `after` lists. An entry
/// is its file, its row groups and its deleted rows: the same three read
/// the same rows.
fn differing(before: &[DataFile], after: &[DataFile]) -> (Vec<DataFile>, Vec<DataFile>) {
    type Key<'a> = (&'a str, Option<[u64; 2]>, Option<&'a str>);
    fn key_of(f: &DataFile) -> Key<'_> {
        (f.path.as_str(), f.range, f.deleted.as_ref().map(|d| d.path.as_str()))
    }
    let mut counts: HashMap<Key<'_>, i64> = HashMap::new();
    for f in before {
        *counts.entry(key_of(f)).or_default() += 1;
    }
    for f in after {
        *counts.entry(key_of(f)).or_default() -= 1;
    }
    let mut left = counts.clone();
    let gone = before
        .iter()
        .filter(|f| {
            let n = left.get_mut(&key_of(f)).expect("counted");
            (*n > 0).then(|| *n -= 1).is_some()
        })
        .cloned()
        .collect();
    let came = after
        .iter()
        .filter(|f| {
            let n = counts.get_mut(&key_of(f)).expect("counted");
            (*n < 0).then(|| *n += 1).is_some()
        })
        .cloned()
        .collect();
    (gone, came)
}

/// The SQL of a diff over `__before` (the entries only the older version
/// lists) and `__after` (only the newer's).
struct Sides<'a> {
    columns: &'a [String],
    keys: &'a [String],
    /// Whether each side has entries at all: with one side empty, the other
    /// is all added (or removed) and streams with no sort or join.
    gone: bool,
    came: bool,
}

impl Sides<'_> {
    fn sql(&self) -> String {
        let cols = self.columns.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
        let (change, changed_columns) = (ident(DIFF_CHANGE), ident(DIFF_CHANGED_COLUMNS));
        let no_columns = if self.keys.is_empty() { String::new() } else { format!("NULL AS {changed_columns}, ") };
        let one_side =
            |what: &str, table: &str| format!("SELECT '{what}' AS {change}, {no_columns}{cols} FROM {table}");
        match (self.gone, self.came) {
            (false, _) => return one_side("added", "__after"),
            (true, false) => return one_side("removed", "__before"),
            (true, true) => {}
        }
        // Equal rows are told apart by their number among equals, so that
        // the set difference of (row, n) is the multiset difference of rows.
        let numbered =
            |table: &str| format!("SELECT *, row_number() OVER (PARTITION BY {cols}) AS \"__shoots_n\" FROM {table}");
        let ctes = format!(
            "WITH b AS ({}), a AS ({}), \
             gone AS (SELECT {cols} FROM (SELECT * FROM b EXCEPT SELECT * FROM a)), \
             came AS (SELECT {cols} FROM (SELECT * FROM a EXCEPT SELECT * FROM b))",
            numbered("__before"),
            numbered("__after"),
        );
        if self.keys.is_empty() {
            return format!(
                "{ctes} SELECT 'removed' AS {change}, {cols} FROM gone UNION ALL SELECT 'added', {cols} FROM came"
            );
        }
        // Which side a joined row has: the keys may be null.
        let (was, is) = ("g.\"__shoots_in\"", "c.\"__shoots_in\"");
        let on: Vec<String> =
            self.keys.iter().map(|k| format!("g.{k} IS NOT DISTINCT FROM c.{k}", k = ident(k))).collect();
        let values: Vec<String> = self
            .columns
            .iter()
            .map(|col| format!("CASE WHEN {is} IS NULL THEN g.{c} ELSE c.{c} END AS {c}", c = ident(col)))
            .collect();
        let differs: Vec<String> = self
            .columns
            .iter()
            .filter(|c| !self.keys.contains(c))
            .map(|col| {
                format!("CASE WHEN g.{c} IS DISTINCT FROM c.{c} THEN {name} END", c = ident(col), name = text(col))
            })
            .collect();
        let changed = match differs.is_empty() {
            true => "NULL".to_string(),
            false => format!("concat_ws(',', {})", differs.join(", ")),
        };
        format!(
            "{ctes} SELECT \
             CASE WHEN {was} IS NULL THEN 'added' WHEN {is} IS NULL THEN 'removed' ELSE 'changed' END AS {change}, \
             CASE WHEN {was} AND {is} THEN {changed} END AS {changed_columns}, {} \
             FROM (SELECT *, true AS \"__shoots_in\" FROM gone) g \
             FULL JOIN (SELECT *, true AS \"__shoots_in\" FROM came) c ON {}",
            values.join(", "),
            on.join(" AND ")
        )
    }
}

/// `name` as a quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as a SQL string literal.
fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> DataFile {
        DataFile::whole(path.into(), 10, 100)
    }

    #[test]
    fn only_the_entries_one_version_lists_differ() {
        let before = vec![file("a"), file("b"), file("c")];
        let mut changed = file("c");
        changed.range = Some([0, 50]);
        let after = vec![file("a"), changed.clone(), file("d")];
        let (gone, came) = differing(&before, &after);
        assert_eq!(gone, vec![file("b"), file("c")]);
        assert_eq!(came, vec![changed, file("d")]);
        assert_eq!(differing(&before, &before), (vec![], vec![]));
    }
}
