//! `COPY (query) TO STDOUT` and `COPY name [(cols)] TO STDOUT` in text, CSV
//! and binary (`COPY ... FROM STDIN` reads them: [`super::copy_in`]). The
//! rows are encoded once, by the same Arrow-to-Postgres
//! mapping as query results (a `DataRow` in text or binary form), and
//! re-framed: a binary COPY tuple is a binary `DataRow`'s body, and the text
//! formats quote or escape a text `DataRow`'s fields.

use bytes::{BufMut, BytesMut};
use datafusion::sql::sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, ObjectName,
};
use pgwire::error::PgWireResult;
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;

use super::errors::{code, error};

#[derive(Debug, Clone, PartialEq)]
pub enum CopyFormat {
    Text { delimiter: u8, null: String, header: bool },
    Csv { delimiter: u8, quote: u8, escape: u8, null: String, header: bool },
    Binary,
}

impl CopyFormat {
    /// The format code of `CopyOutResponse`: 0 text, 1 binary.
    pub fn code(&self) -> i8 {
        i8::from(matches!(self, CopyFormat::Binary))
    }

    pub fn binary(&self) -> bool {
        matches!(self, CopyFormat::Binary)
    }

    /// The header line (text formats with `HEADER`), or `None`.
    pub fn header(&self, names: &[&str]) -> Option<CopyData> {
        match self {
            CopyFormat::Text { header: true, .. } | CopyFormat::Csv { header: true, .. } => {
                let mut line = BytesMut::new();
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        line.put_u8(self.delimiter());
                    }
                    self.put_text(&mut line, name.as_bytes());
                }
                line.put_u8(b'\n');
                Some(CopyData::new(line.freeze()))
            }
            _ => None,
        }
    }

    fn delimiter(&self) -> u8 {
        match self {
            CopyFormat::Text { delimiter, .. } | CopyFormat::Csv { delimiter, .. } => *delimiter,
            CopyFormat::Binary => 0,
        }
    }

    /// `row` (encoded in this format's result format) as one COPY message;
    /// `first` puts the binary signature in front.
    pub fn row(&self, row: &DataRow, first: bool) -> PgWireResult<CopyData> {
        let mut out = BytesMut::with_capacity(row.data.len() + 32);
        if self.binary() {
            if first {
                out.put_slice(super::copy_binary::SIGNATURE);
            }
            out.put_i16(row.field_count);
            out.put_slice(&row.data);
            return Ok(CopyData::new(out.freeze()));
        }
        for (i, field) in fields(row)?.into_iter().enumerate() {
            if i > 0 {
                out.put_u8(self.delimiter());
            }
            match field {
                None => out.put_slice(self.null().as_bytes()),
                Some(value) => self.put_text(&mut out, value),
            }
        }
        out.put_u8(b'\n');
        Ok(CopyData::new(out.freeze()))
    }

    fn null(&self) -> &str {
        match self {
            CopyFormat::Text { null, .. } | CopyFormat::Csv { null, .. } => null,
            CopyFormat::Binary => "",
        }
    }

    /// A non-null value: escaped (text) or quoted where needed (CSV, where a
    /// value equal to the null string is quoted too, to stay a value).
    fn put_text(&self, out: &mut BytesMut, value: &[u8]) {
        match self {
            CopyFormat::Text { delimiter, .. } => {
                for &b in value {
                    match b {
                        b'\\' => out.put_slice(b"\\\\"),
                        b'\n' => out.put_slice(b"\\n"),
                        b'\r' => out.put_slice(b"\\r"),
                        b'\t' if *delimiter == b'\t' => out.put_slice(b"\\t"),
                        b if b == *delimiter => {
                            out.put_u8(b'\\');
                            out.put_u8(b);
                        }
                        b => out.put_u8(b),
                    }
                }
            }
            CopyFormat::Csv { delimiter, quote, escape, null, .. } => {
                let special = |b: &u8| *b == *delimiter || *b == *quote || *b == b'\n' || *b == b'\r';
                if !value.iter().any(special) && value != null.as_bytes() && !value.is_empty() {
                    return out.put_slice(value);
                }
                out.put_u8(*quote);
                for &b in value {
                    if b == *quote || b == *escape {
                        out.put_u8(*escape);
                    }
                    out.put_u8(b);
                }
                out.put_u8(*quote);
            }
            CopyFormat::Binary => out.put_slice(value),
        }
    }
}

/// A `DataRow`'s fields: each a length (-1: NULL) and that many bytes.
fn fields(row: &DataRow) -> PgWireResult<Vec<Option<&[u8]>>> {
    let mut rest: &[u8] = &row.data;
    let mut out = Vec::with_capacity(row.field_count.max(0) as usize);
    let corrupt = || error(code::INTERNAL, "a result row did not encode");
    for _ in 0..row.field_count {
        let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = i32::from_be_bytes(*len);
        if len < 0 {
            out.push(None);
            rest = tail;
        } else {
            let (value, tail) = tail.split_at_checked(len as usize).ok_or_else(corrupt)?;
            out.push(Some(value));
            rest = tail;
        }
    }
    Ok(out)
}

/// What a COPY moves: a query's rows out, or rows in to a dataframe.
#[derive(Debug, Clone, PartialEq)]
pub enum Copy {
    /// `COPY (query) | name [(columns)] TO STDOUT`: the query, as SQL.
    Out { sql: String, format: CopyFormat },
    /// `COPY name [(columns)] FROM STDIN`.
    In { table: ObjectName, columns: Vec<String>, format: CopyFormat },
}

/// What a `COPY` statement does; an error for a file or program on the
/// server's side, which shoots never reads or writes.
pub fn classify(
    source: &CopySource,
    to: bool,
    target: &ast::CopyTarget,
    options: &[CopyOption],
    legacy: &[CopyLegacyOption],
) -> PgWireResult<Copy> {
    let format = format(options, legacy)?;
    match (to, target, source) {
        (true, ast::CopyTarget::Stdout, CopySource::Query(query)) => Ok(Copy::Out { sql: query.to_string(), format }),
        (true, ast::CopyTarget::Stdout, CopySource::Table { table_name, columns }) => {
            let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            let list = if columns.is_empty() { "*".to_string() } else { columns.join(", ") };
            Ok(Copy::Out { sql: format!("SELECT {list} FROM {table_name}"), format })
        }
        (false, ast::CopyTarget::Stdin, CopySource::Table { table_name, columns }) => Ok(Copy::In {
            table: table_name.clone(),
            columns: columns
                .iter()
                .map(|c| if c.quote_style.is_some() { c.value.clone() } else { c.value.to_lowercase() })
                .collect(),
            format,
        }),
        (true, ..) => Err(error(
            code::FEATURE_NOT_SUPPORTED,
            "COPY ... TO a file or program is not supported; use COPY ... TO STDOUT",
        )),
        (false, ..) => Err(error(
            code::FEATURE_NOT_SUPPORTED,
            "COPY ... FROM a file or program is not supported; use COPY name FROM STDIN",
        )),
    }
}

fn format(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> PgWireResult<CopyFormat> {
    let one_byte = |c: char, what: &str| {
        u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            error(code::INVALID_PARAMETER_VALUE, format!("COPY {what} must be a single one-byte character"))
        })
    };
    let mut kind = "text".to_string();
    let (mut delimiter, mut quote, mut escape, mut null, mut header) = (None, b'"', None, None, false);
    for option in options {
        match option {
            CopyOption::Format(f) => kind = f.value.to_ascii_lowercase(),
            CopyOption::Delimiter(c) => delimiter = Some(one_byte(*c, "delimiter")?),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => header = *h,
            CopyOption::Quote(c) => quote = one_byte(*c, "quote")?,
            CopyOption::Escape(c) => escape = Some(one_byte(*c, "escape")?),
            // Encoding is UTF-8 throughout; the rest concern COPY FROM.
            _ => {}
        }
    }
    for option in legacy {
        match option {
            CopyLegacyOption::Binary => kind = "binary".into(),
            CopyLegacyOption::Delimiter(c) => delimiter = Some(one_byte(*c, "delimiter")?),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Csv(csv) => {
                kind = "csv".into();
                for option in csv {
                    match option {
                        CopyLegacyCsvOption::Header => header = true,
                        CopyLegacyCsvOption::Quote(c) => quote = one_byte(*c, "quote")?,
                        CopyLegacyCsvOption::Escape(c) => escape = Some(one_byte(*c, "escape")?),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    match kind.as_str() {
        "text" => Ok(CopyFormat::Text {
            delimiter: delimiter.unwrap_or(b'\t'),
            null: null.unwrap_or_else(|| "\\N".into()),
            header,
        }),
        "csv" => Ok(CopyFormat::Csv {
            delimiter: delimiter.unwrap_or(b','),
            quote,
            escape: escape.unwrap_or(quote),
            null: null.unwrap_or_default(),
            header,
        }),
        "binary" => Ok(CopyFormat::Binary),
        other => Err(error(code::INVALID_PARAMETER_VALUE, format!("COPY format \"{other}\" not recognized"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[Option<&str>]) -> DataRow {
        let mut data = BytesMut::new();
        for v in values {
            match v {
                None => data.put_i32(-1),
                Some(v) => {
                    data.put_i32(v.len() as i32);
                    data.put_slice(v.as_bytes());
                }
            }
        }
        DataRow::new(data, values.len() as i16)
    }

    #[test]
    fn text_and_csv_escape_and_quote_as_postgres_does() {
        let text = format(&[], &[]).unwrap();
        let r = row(&[Some("a\tb\\c\nd"), None, Some("")]);
        assert_eq!(text.row(&r, true).unwrap().data.as_ref(), b"a\\tb\\\\c\\nd\t\\N\t\n");
        let csv = format(&[CopyOption::Format("csv".into()), CopyOption::Header(true)], &[]).unwrap();
        let r = row(&[Some("plain"), Some("has,comma"), Some("say \"hi\""), None, Some("")]);
        assert_eq!(csv.row(&r, true).unwrap().data.as_ref(), b"plain,\"has,comma\",\"say \"\"hi\"\"\",,\"\"\n");
        assert_eq!(csv.header(&["a", "b,c"]).unwrap().data.as_ref(), b"a,\"b,c\"\n");
    }

    #[test]
    fn a_binary_copy_tuple_is_the_rows_body_after_the_signature() {
        let r = row(&[Some("ab"), None]);
        let first = CopyFormat::Binary.row(&r, true).unwrap();
        assert!(first.data.starts_with(b"PGCOPY\n\xFF\r\n\x00\0\0\0\0\0\0\0\0\0\x02"));
        let next = CopyFormat::Binary.row(&r, false).unwrap();
        assert_eq!(next.data.as_ref(), b"\0\x02\0\0\0\x02ab\xFF\xFF\xFF\xFF");
    }
}
