//! `COPY name [(columns)] FROM STDIN` in text, CSV and binary: a streaming
//! append. The client's `CopyData` chunks are cut into rows here (a row may
//! span chunks), gathered into batches and handed to a put running beside
//! the connection, so a large COPY is never held whole; `CopyDone` commits
//! it, `CopyFail` or a bad row writes nothing.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int16Builder, Int32Builder,
    Int64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::{Buf, BytesMut};
use pgwire::api::Type;
use pgwire::error::PgWireResult;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::copy::CopyFormat;
use super::copy_binary::{MAGIC, PG_EPOCH_DAYS, PG_EPOCH_MICROS};
use super::errors::{code, error};
use crate::daemon::error::{DaemonError, Result};
use crate::daemon::sql::writes::Fill;
use crate::daemon::storage::PutOutcome;

/// Rows gathered into one batch for the put.
const BATCH_ROWS: usize = 8192;

/// A COPY FROM under way on one connection.
pub struct CopyIn {
    format: CopyFormat,
    /// The statement's columns as the client sends them: names and the
    /// Postgres types a binary COPY encodes them as.
    columns: Vec<(String, Type)>,
    fill: Fill,
    pending: BytesMut,
    rows: Vec<Vec<Option<Vec<u8>>>>,
    header_seen: bool,
    /// The first bad row, reported when the client finishes.
    failed: Option<DaemonError>,
    /// `None` once the copy is over.
    sender: Option<mpsc::Sender<Piece>>,
    put: JoinHandle<Result<PutOutcome>>,
}

impl CopyIn {
    pub fn new(
        format: CopyFormat,
        columns: Vec<(String, Type)>,
        fill: Fill,
        sender: mpsc::Sender<Piece>,
        put: JoinHandle<Result<PutOutcome>>,
    ) -> CopyIn {
        CopyIn {
            format,
            columns,
            fill,
            pending: BytesMut::new(),
            rows: Vec::new(),
            header_seen: false,
            failed: None,
            sender: Some(sender),
            put,
        }
    }

    /// How many columns each row has.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The statement's columns as text, what text and CSV rows are read as.
    pub fn text_schema(names: &[String]) -> Schema {
        Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>())
    }

    /// Takes a chunk of the client's data; complete batches go to the put.
    pub async fn data(&mut self, chunk: &[u8]) {
        if self.failed.is_some() {
            return; // the rest of a failed COPY is read and dropped
        }
        self.pending.extend_from_slice(chunk);
        if let Err(e) = self.cut_rows() {
            return self.fail(e).await;
        }
        while self.rows.len() >= BATCH_ROWS {
            let rest = self.rows.split_off(BATCH_ROWS);
            let rows = std::mem::replace(&mut self.rows, rest);
            if let Err(e) = self.send(rows).await {
                return self.fail(e).await;
            }
        }
    }

    /// The client is done: the last rows go, then the put commits.
    pub async fn finish(mut self) -> Result<u64> {
        if self.failed.is_none() && !self.pending.is_empty() && !self.format.binary() {
            // A last line without its newline.
            self.pending.extend_from_slice(b"\n");
            if let Err(e) = self.cut_rows() {
                self.fail(e).await;
            }
        }
        if self.failed.is_none() {
            let rows = std::mem::take(&mut self.rows);
            if let Err(e) = self.send(rows).await {
                self.fail(e).await;
            }
        }
        if self.failed.is_none() {
            if let Some(sender) = self.sender.take() {
                // The end: only now may the put commit.
                let _ = sender.send(None).await;
            }
        }
        drop(self.sender.take());
        let outcome = self.put.await.map_err(|e| DaemonError::internal("the COPY's put stopped", e))?;
        match (self.failed, outcome) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(done)) => Ok(done.rows),
        }
    }

    /// The client gave up: nothing is written.
    pub async fn abort(mut self, why: &str) {
        self.fail(DaemonError::InvalidArgument(format!("COPY failed on the client: {why}"))).await;
        drop(self.sender.take());
        let _ = self.put.await;
    }

    async fn fail(&mut self, e: DaemonError) {
        if let Some(sender) = &self.sender {
            // The put ends without committing.
            let _ = sender.send(Some(Err(DaemonError::InvalidArgument(e.to_string())))).await;
        }
        self.failed.get_or_insert(e);
    }

    async fn send(&mut self, rows: Vec<Vec<Option<Vec<u8>>>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = self.fill.apply(&self.batch(rows)?)?;
        let sender = self.sender.as_ref().ok_or_else(|| DaemonError::Io("the COPY is over".into()))?;
        sender.send(Some(Ok(batch))).await.map_err(|_| DaemonError::Io("the COPY's put stopped early".into()))
    }

    /// Moves every complete row of `pending` into `rows`.
    fn cut_rows(&mut self) -> Result<()> {
        if self.format.binary() {
            while let Some(row) = self.cut_binary()? {
                self.rows.push(row);
            }
            return Ok(());
        }
        while let Some(line) = self.cut_line() {
            let line = String::from_utf8(line).map_err(|_| bad("a row is not UTF-8"))?;
            if line == "\\." {
                continue; // the end marker of old clients
            }
            let header =
                matches!(self.format, CopyFormat::Csv { header: true, .. } | CopyFormat::Text { header: true, .. });
            if header && !self.header_seen {
                self.header_seen = true;
                continue;
            }
            let fields = self.split(&line)?;
            self.rows.push(fields);
        }
        Ok(())
    }

    /// The next line (without its newline), respecting CSV quotes.
    fn cut_line(&mut self) -> Option<Vec<u8>> {
        let csv = match self.format {
            CopyFormat::Csv { quote, escape, .. } => Some((quote, escape)),
            _ => None,
        };
        let (mut quoted, mut i) = (false, 0);
        while i < self.pending.len() {
            let b = self.pending[i];
            match csv {
                Some((quote, escape)) if quoted => {
                    let next = self.pending.get(i + 1).copied();
                    if b == escape && next.is_some() && (escape != quote || next == Some(quote)) {
                        i += 2;
                        continue;
                    }
                    quoted = b != quote;
                }
                Some((quote, _)) if b == quote => quoted = true,
                _ if b == b'\n' => {
                    let mut line = self.pending.split_to(i + 1).to_vec();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Some(line);
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// One line's fields, as text (`None`: NULL).
    fn split(&self, line: &str) -> Result<Vec<Option<Vec<u8>>>> {
        let fields = match &self.format {
            CopyFormat::Text { delimiter, null, .. } => line
                .split(*delimiter as char)
                .map(|f| if f == null { Ok(None) } else { unescape(f).map(Some) })
                .collect::<Result<Vec<_>>>()?,
            CopyFormat::Csv { delimiter, quote, escape, null, .. } => {
                split_csv(line, *delimiter, *quote, *escape, null)?
            }
            CopyFormat::Binary => unreachable!("binary rows are not lines"),
        };
        if fields.len() != self.columns.len() {
            return Err(bad(&format!("a row has {} fields for {} columns", fields.len(), self.columns.len())));
        }
        Ok(fields)
    }

    /// The next binary tuple, after the signature; `None` until it is whole
    /// (and at the trailer).
    fn cut_binary(&mut self) -> Result<Option<Vec<Option<Vec<u8>>>>> {
        if !self.header_seen {
            if self.pending.len() < MAGIC.len() + 8 {
                return Ok(None);
            }
            if &self.pending[..MAGIC.len()] != MAGIC {
                return Err(bad("binary COPY data must start with the PGCOPY signature"));
            }
            let extension = u32::from_be_bytes(self.pending[15..19].try_into().expect("4 bytes")) as usize;
            if self.pending.len() < 19 + extension {
                return Ok(None);
            }
            self.pending.advance(19 + extension);
            self.header_seen = true;
        }
        let mut at = 0;
        let buf = &self.pending[..];
        let Some(count) = buf.get(..2).map(|b| i16::from_be_bytes([b[0], b[1]])) else { return Ok(None) };
        at += 2;
        if count == -1 {
            self.pending.clear();
            return Ok(None);
        }
        if count as usize != self.columns.len() {
            return Err(bad(&format!("a row has {count} fields for {} columns", self.columns.len())));
        }
        let mut fields = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let Some(len) = buf.get(at..at + 4).map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes"))) else {
                return Ok(None);
            };
            at += 4;
            if len < 0 {
                fields.push(None);
                continue;
            }
            let Some(value) = buf.get(at..at + len as usize) else { return Ok(None) };
            fields.push(Some(value.to_vec()));
            at += len as usize;
        }
        self.pending.advance(at);
        Ok(Some(fields))
    }

    /// Rows as a batch of the statement's columns: text for text and CSV,
    /// the columns' own types for binary.
    fn batch(&self, rows: Vec<Vec<Option<Vec<u8>>>>) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        let mut fields = Vec::with_capacity(self.columns.len());
        for (i, (name, pg_type)) in self.columns.iter().enumerate() {
            let values = rows.iter().map(|r| r[i].as_deref());
            let array = if self.format.binary() {
                decode_binary(pg_type, values).map_err(|e| bad(&format!("column {name}: {e}")))?
            } else {
                let mut b = StringBuilder::new();
                for v in values {
                    b.append_option(v.map(|v| String::from_utf8_lossy(v).into_owned()));
                }
                Arc::new(b.finish()) as ArrayRef
            };
            fields.push(Field::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
        RecordBatch::try_new(SchemaRef::new(Schema::new(fields)), arrays)
            .map_err(|e| DaemonError::internal("a COPY batch", e))
    }
}

/// What goes to the put: a batch, a failure, or (`None`) the end.
pub type Piece = Option<Result<RecordBatch>>;

/// The put's batches from the connection's pieces. A channel that closes
/// before the end was sent (the client went away mid-COPY, the connection
/// dropped) fails the put: nothing of it is committed.
pub fn batches(pieces: mpsc::Receiver<Piece>) -> impl futures::Stream<Item = Result<RecordBatch>> + Send {
    futures::stream::unfold(Some(pieces), |pieces| async move {
        let mut pieces = pieces?;
        match pieces.recv().await {
            Some(Some(batch)) => Some((batch, Some(pieces))),
            Some(None) => None,
            None => {
                let gone = DaemonError::InvalidArgument("the client went away during COPY; nothing was written".into());
                Some((Err(gone), None))
            }
        }
    })
}

fn bad(what: &str) -> DaemonError {
    DaemonError::InvalidArgument(format!("bad COPY data: {what}"))
}

/// A text-format field with its backslash escapes undone.
fn unescape(field: &str) -> Result<Vec<u8>> {
    if !field.contains('\\') {
        return Ok(field.as_bytes().to_vec());
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let next = bytes[i + 1];
        i += 2;
        out.push(match next {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                value as u8
            }
            b'x' => {
                let hex: String =
                    bytes[i..].iter().take(2).take_while(|b| b.is_ascii_hexdigit()).map(|b| *b as char).collect();
                i += hex.len();
                u8::from_str_radix(&hex, 16).map_err(|_| bad("\\x needs hex digits"))?
            }
            other => other,
        });
    }
    Ok(out)
}

/// A CSV line's fields: quoted ones may hold anything; an unquoted field
/// equal to the null string is NULL.
fn split_csv(line: &str, delimiter: u8, quote: u8, escape: u8, null: &str) -> Result<Vec<Option<Vec<u8>>>> {
    let bytes = line.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut value = Vec::new();
        let mut quoted = false;
        let mut was_quoted = false;
        while i < bytes.len() {
            let b = bytes[i];
            if quoted {
                let next = bytes.get(i + 1).copied();
                if b == escape && next.is_some() && (escape != quote || next == Some(quote)) {
                    value.push(bytes[i + 1]);
                    i += 2;
                    continue;
                }
                if b == quote {
                    quoted = false;
                } else {
                    value.push(b);
                }
            } else if b == quote {
                quoted = true;
                was_quoted = true;
            } else if b == delimiter {
                break;
            } else {
                value.push(b);
            }
            i += 1;
        }
        if quoted {
            return Err(bad("unterminated CSV quoted field"));
        }
        fields.push(if !was_quoted && value == null.as_bytes() { None } else { Some(value) });
        if i >= bytes.len() {
            return Ok(fields);
        }
        i += 1; // the delimiter
    }
}

/// Binary COPY values of one column, by the Postgres type the client
/// encodes it as.
fn decode_binary<'a>(pg_type: &Type, values: impl Iterator<Item = Option<&'a [u8]>>) -> PgWireResult<ArrayRef> {
    fn fixed<const N: usize>(v: &[u8]) -> PgWireResult<[u8; N]> {
        v.try_into()
            .map_err(|_| error(code::INVALID_BINARY, format!("a value of {} bytes where {N} were due", v.len())))
    }
    macro_rules! column {
        ($builder:ty, $decode:expr) => {{
            let mut b = <$builder>::new();
            for v in values {
                match v {
                    None => b.append_null(),
                    Some(v) => b.append_value($decode(v)?),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match *pg_type {
        Type::BOOL => column!(BooleanBuilder, |v: &[u8]| Ok::<_, pgwire::error::PgWireError>(fixed::<1>(v)?[0] != 0)),
        Type::INT2 => column!(Int16Builder, |v: &[u8]| fixed::<2>(v).map(i16::from_be_bytes)),
        Type::INT4 => column!(Int32Builder, |v: &[u8]| fixed::<4>(v).map(i32::from_be_bytes)),
        Type::INT8 => column!(Int64Builder, |v: &[u8]| fixed::<8>(v).map(i64::from_be_bytes)),
        Type::FLOAT4 => column!(Float32Builder, |v: &[u8]| fixed::<4>(v).map(f32::from_be_bytes)),
        Type::FLOAT8 => column!(Float64Builder, |v: &[u8]| fixed::<8>(v).map(f64::from_be_bytes)),
        Type::DATE => column!(Date32Builder, |v: &[u8]| fixed::<4>(v).map(|d| i32::from_be_bytes(d) + PG_EPOCH_DAYS)),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let mut b = TimestampMicrosecondBuilder::new();
            for v in values {
                match v {
                    None => b.append_null(),
                    Some(v) => b.append_value(i64::from_be_bytes(fixed::<8>(v)?) + PG_EPOCH_MICROS),
                }
            }
            let tz = (*pg_type == Type::TIMESTAMPTZ).then(|| Arc::from("UTC"));
            Arc::new(b.finish().with_data_type(DataType::Timestamp(TimeUnit::Microsecond, tz))) as ArrayRef
        }
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => column!(StringBuilder, |v: &[u8]| {
            std::str::from_utf8(v)
                .map(str::to_string)
                .map_err(|_| error(code::INVALID_BINARY, "text that is not UTF-8"))
        }),
        Type::BYTEA => column!(BinaryBuilder, |v: &[u8]| Ok::<_, pgwire::error::PgWireError>(v.to_vec())),
        ref other => {
            return Err(error(
                code::FEATURE_NOT_SUPPORTED,
                format!("binary COPY of {} columns is not supported; use FORMAT text or csv", other.name()),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_keep_quoted_delimiters_and_tell_null_from_empty() {
        let f = split_csv(r#"1,"a,b","say ""hi""",,"""#, b',', b'"', b'"', "").unwrap();
        let f: Vec<Option<String>> = f.into_iter().map(|v| v.map(|v| String::from_utf8(v).unwrap())).collect();
        assert_eq!(f, [Some("1".into()), Some("a,b".into()), Some("say \"hi\"".into()), None, Some("".into())]);
    }

    #[test]
    fn text_escapes_are_undone() {
        assert_eq!(unescape(r"a\tb\\c\nd\101\x41").unwrap(), b"a\tb\\c\nd\x41\x41");
    }
}
