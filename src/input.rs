//! Files into record batches for `shoots put`: CSV/TSV, Parquet, Arrow IPC
//! (file or stream), NDJSON; from a path or stdin. Everything streams: only
//! the schema-inference sample is read ahead.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use clap::{Args, ValueEnum};

use crate::error::{CliError, Result};

/// Rows per batch sent to the server.
const BATCH_ROWS: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Tsv,
    Parquet,
    /// Arrow IPC, file or stream format (told apart by their magic bytes)
    Arrow,
    Ndjson,
}

impl InputFormat {
    pub fn from_extension(path: &Path) -> Option<InputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => InputFormat::Csv,
            "tsv" | "tab" => InputFormat::Tsv,
            "parquet" | "pq" => InputFormat::Parquet,
            "arrow" | "feather" | "ipc" | "arrows" => InputFormat::Arrow,
            "json" | "ndjson" | "jsonl" => InputFormat::Ndjson,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "CSV and TSV")]
pub struct CsvArgs {
    /// Field delimiter, one character (`\t` for tab) [default: `,`; tab for TSV]
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The first line is data, not column names (columns become column_1, ...)
    #[arg(long)]
    pub no_header: bool,
    /// Text that stands for a missing value, e.g. NA (empty fields are always missing)
    #[arg(long, value_name = "TEXT")]
    pub null: Option<String>,
    /// strftime format of timestamp columns, e.g. "%d/%m/%Y %H:%M:%S"; ISO 8601 needs none
    #[arg(long, value_name = "FORMAT")]
    pub timestamp_format: Option<String>,
    /// Rows read to infer column types
    #[arg(long, default_value_t = 10_000, value_name = "ROWS")]
    pub infer_rows: usize,
}

impl Default for CsvArgs {
    fn default() -> CsvArgs {
        CsvArgs { delimiter: None, no_header: false, null: None, timestamp_format: None, infer_rows: 10_000 }
    }
}

pub type BatchIter = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

pub struct Input {
    pub schema: SchemaRef,
    pub batches: BatchIter,
}

fn local(what: &str, e: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("{what}: {e}"))
}

/// Opens `path` (`-` for stdin) in `format` or the one its extension says.
/// `progress` is told how many bytes were consumed, where that is known.
pub fn open(
    path: &Path,
    format: Option<InputFormat>,
    csv: &CsvArgs,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Input> {
    let stdin = path == Path::new("-");
    let format = match format.or_else(|| InputFormat::from_extension(path)) {
        Some(f) => f,
        None if stdin => {
            return Err(CliError::Usage("reading stdin needs --format (csv, tsv, parquet, arrow, ndjson)".into()))
        }
        None => {
            return Err(CliError::Usage(format!(
                "cannot tell the format of {} from its extension; use --format (csv, tsv, parquet, arrow, ndjson)",
                path.display()
            )))
        }
    };
    let name = if stdin { "stdin".to_string() } else { path.display().to_string() };
    let source: Box<dyn Read + Send> = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| local(&format!("cannot open {name}"), e))?)
    };
    let source = Counting { inner: source, report: Box::new(progress), seen: 0 };
    match format {
        InputFormat::Csv | InputFormat::Tsv => open_csv(source, format, csv, &name),
        InputFormat::Ndjson => open_ndjson(source, csv.infer_rows, &name),
        InputFormat::Parquet => {
            let file = seekable(source, path, stdin)?;
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| local(&format!("{name} is not a readable Parquet file"), e))?;
            let schema = builder.schema().clone();
            let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| local(&name, e))?;
            Ok(Input { schema, batches: Box::new(reader) })
        }
        InputFormat::Arrow => open_arrow(source, path, stdin, &name),
    }
}

/// Counts bytes read, for the progress bar.
struct Counting {
    inner: Box<dyn Read + Send>,
    report: Box<dyn Fn(u64) + Send>,
    seen: u64,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += n as u64;
        (self.report)(self.seen);
        Ok(n)
    }
}

/// Parquet and the Arrow file format need to seek; stdin is spooled to a
/// temporary file first.
fn seekable(mut source: Counting, path: &Path, stdin: bool) -> Result<File> {
    if !stdin {
        return File::open(path).map_err(|e| local(&format!("cannot open {}", path.display()), e));
    }
    let mut spool = tempfile::tempfile().map_err(|e| local("cannot buffer stdin", e))?;
    std::io::copy(&mut source, &mut spool).map_err(|e| local("cannot read stdin", e))?;
    spool.rewind().map_err(|e| local("cannot buffer stdin", e))?;
    Ok(spool)
}

fn open_arrow(source: Counting, path: &Path, stdin: bool, name: &str) -> Result<Input> {
    let mut reader = BufReader::new(source);
    let is_file_format = reader.fill_buf().map_err(|e| local(name, e))?.starts_with(b"ARROW1");
    if is_file_format {
        let file = seekable(reader.into_inner(), path, stdin)?;
        let r = arrow::ipc::reader::FileReader::try_new(file, None)
            .map_err(|e| local(&format!("{name} is not a readable Arrow file"), e))?;
        Ok(Input { schema: r.schema(), batches: Box::new(r) })
    } else {
        let r = arrow::ipc::reader::StreamReader::try_new(reader, None)
            .map_err(|e| local(&format!("{name} is not a readable Arrow IPC stream"), e))?;
        Ok(Input { schema: r.schema(), batches: Box::new(r) })
    }
}

/// Reads up to `lines` lines ahead for inference; returns them and a reader
/// that yields everything (them first), so stdin works like a file.
fn sample_lines(source: Counting, lines: usize, name: &str) -> Result<(Vec<u8>, Box<dyn BufRead + Send>)> {
    let mut reader = BufReader::with_capacity(1 << 20, source);
    let mut sample = Vec::new();
    for _ in 0..lines.saturating_add(1) {
        if reader.read_until(b'\n', &mut sample).map_err(|e| local(&format!("cannot read {name}"), e))? == 0 {
            break;
        }
    }
    let all = Cursor::new(sample.clone()).chain(reader);
    Ok((sample, Box::new(BufReader::new(all))))
}

fn open_csv(source: Counting, format: InputFormat, args: &CsvArgs, name: &str) -> Result<Input> {
    let delimiter = match args.delimiter.as_deref() {
        None if format == InputFormat::Tsv => b'\t',
        None => b',',
        Some("\\t") | Some("\t") => b'\t',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some(d) => return Err(CliError::Usage(format!("--delimiter must be one character, not {d:?}"))),
    };
    let mut csv_format = arrow::csv::reader::Format::default().with_header(!args.no_header).with_delimiter(delimiter);
    if let Some(null) = &args.null {
        let pattern = format!("^({})?$", regex::escape(null));
        csv_format = csv_format.with_null_regex(regex::Regex::new(&pattern).expect("escaped pattern"));
    }
    let (sample, reader) = sample_lines(source, args.infer_rows, name)?;
    let (schema, _) = csv_format
        .infer_schema(Cursor::new(&sample), Some(args.infer_rows))
        .map_err(|e| local(&format!("cannot read {name} as CSV"), e))?;
    if schema.fields().is_empty() {
        return Err(CliError::Local(format!("{name} is empty")));
    }
    let schema = nanosecond_timestamps(schema);
    let csv = arrow::csv::ReaderBuilder::new(schema.clone())
        .with_format(csv_format)
        .with_batch_size(BATCH_ROWS)
        .build_buffered(reader)
        .map_err(|e| local(name, e))?;
    let name = name.to_string();
    let batches: BatchIter = Box::new(csv.map(move |b| b.map_err(|e| ArrowError::CsvError(format!("{name}: {e}")))));
    match &args.timestamp_format {
        None => Ok(Input { schema, batches }),
        Some(fmt) => with_timestamps(schema, batches, fmt),
    }
}

/// With `--timestamp-format`, text columns whose first non-empty values all
/// parse with it become nanosecond timestamps (UTC when the format has an
/// offset, `%z`).
fn with_timestamps(schema: SchemaRef, mut batches: BatchIter, fmt: &str) -> Result<Input> {
    let first = match batches.next() {
        None => return Ok(Input { schema, batches }),
        Some(b) => b.map_err(|e| CliError::Local(e.to_string()))?,
    };
    let zoned = fmt.contains("%z") || fmt.contains("%:z");
    let chosen: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            f.data_type() == &DataType::Utf8 && {
                let col = first.column(*i).as_any().downcast_ref::<StringArray>().expect("utf8");
                let mut values = col.iter().flatten().take(100).peekable();
                values.peek().is_some() && values.all(|v| parse_timestamp(v, fmt, zoned).is_some())
            }
        })
        .map(|(i, _)| i)
        .collect();
    let tz: Option<Arc<str>> = zoned.then(|| "UTC".into());
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if chosen.contains(&i) {
                Field::new(f.name(), DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()), true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let new_schema = Arc::new(Schema::new(fields));
    let fmt = fmt.to_string();
    let out = new_schema.clone();
    let convert = move |batch: RecordBatch| -> std::result::Result<RecordBatch, ArrowError> {
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for &i in &chosen {
            let text = columns[i].as_any().downcast_ref::<StringArray>().expect("utf8");
            let mut values = Vec::with_capacity(text.len());
            for v in text.iter() {
                values.push(match v {
                    None => None,
                    Some(s) => Some(parse_timestamp(s, &fmt, zoned).ok_or_else(|| {
                        ArrowError::ParseError(format!(
                            "{s:?} in column {:?} does not match --timestamp-format {fmt:?}",
                            out.field(i).name()
                        ))
                    })?),
                });
            }
            columns[i] = Arc::new(TimestampNanosecondArray::from(values).with_timezone_opt(tz.clone()));
        }
        RecordBatch::try_new(out.clone(), columns)
    };
    let rest = std::iter::once(Ok(first)).chain(batches).map(move |b| b.and_then(&convert));
    Ok(Input { schema: new_schema, batches: Box::new(rest) })
}

fn parse_timestamp(s: &str, fmt: &str, zoned: bool) -> Option<i64> {
    if zoned {
        chrono::DateTime::parse_from_str(s, fmt).ok()?.timestamp_nanos_opt()
    } else {
        chrono::NaiveDateTime::parse_from_str(s, fmt)
            .ok()
            .or_else(|| chrono::NaiveDate::parse_from_str(s, fmt).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?
            .and_utc()
            .timestamp_nanos_opt()
    }
}

/// Inference picks a timestamp unit from the sample (seconds for
/// `2024-01-01T00:00:00`), so two files of one series could disagree and an
/// append fail. Nanoseconds, pandas' unit, hold them all.
fn nanosecond_timestamps(schema: Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(_, tz) => {
                f.as_ref().clone().with_data_type(DataType::Timestamp(TimeUnit::Nanosecond, tz.clone()))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

impl Input {
    /// Casts every batch to `target` (an existing dataframe's schema) when
    /// the columns have the same names, so that an append parses its file as
    /// the dataframe's types (integers as floats, text as categoricals...).
    /// Otherwise the input is left alone and the server explains the mismatch.
    pub fn cast_to(self, target: SchemaRef) -> Input {
        let same_names = self.schema.fields().len() == target.fields().len()
            && self.schema.fields().iter().zip(target.fields()).all(|(a, b)| a.name() == b.name());
        if !same_names || self.schema == target {
            return self;
        }
        let out = target.clone();
        let batches = self.batches.map(move |batch| {
            let batch = batch?;
            let columns = batch
                .columns()
                .iter()
                .zip(out.fields())
                .map(|(col, field)| {
                    // Not the safe cast: a value that does not fit is an
                    // error, never a silent null.
                    let options = arrow::compute::CastOptions { safe: false, ..Default::default() };
                    arrow::compute::cast_with_options(col, field.data_type(), &options).map_err(|e| {
                        ArrowError::CastError(format!(
                            "column {:?} cannot become {}: {e}",
                            field.name(),
                            field.data_type()
                        ))
                    })
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            RecordBatch::try_new(out.clone(), columns)
        });
        Input { schema: target, batches: Box::new(batches) }
    }
}

fn open_ndjson(source: Counting, infer_rows: usize, name: &str) -> Result<Input> {
    let (sample, reader) = sample_lines(source, infer_rows, name)?;
    let (schema, _) = arrow::json::reader::infer_json_schema(Cursor::new(&sample), Some(infer_rows))
        .map_err(|e| local(&format!("cannot read {name} as NDJSON"), e))?;
    let schema = nanosecond_timestamps(schema);
    let json = arrow::json::ReaderBuilder::new(schema.clone())
        .with_batch_size(BATCH_ROWS)
        .build(reader)
        .map_err(|e| local(name, e))?;
    Ok(Input { schema, batches: Box::new(json) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(InputFormat::from_extension(Path::new("a.tsv")), Some(InputFormat::Tsv));
        assert_eq!(InputFormat::from_extension(Path::new("a.jsonl")), Some(InputFormat::Ndjson));
        assert_eq!(InputFormat::from_extension(Path::new("a.arrows")), Some(InputFormat::Arrow));
        assert_eq!(InputFormat::from_extension(Path::new("a.xls")), None);
    }

    #[test]
    fn timestamps_with_a_format() {
        assert_eq!(parse_timestamp("02/01/2024 00:00:01", "%d/%m/%Y %H:%M:%S", false), Some(1_704_153_601_000_000_000));
        assert_eq!(parse_timestamp("2024-01-02", "%Y-%m-%d", false), Some(1_704_153_600_000_000_000));
        assert_eq!(
            parse_timestamp("2024-01-02 01:00 +0100", "%Y-%m-%d %H:%M %z", true),
            Some(1_704_153_600_000_000_000)
        );
        assert_eq!(parse_timestamp("nope", "%Y", false), None);
    }
}
