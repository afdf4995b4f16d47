//! A query's result as an HTTP body, encoded batch by batch as it streams:
//! NDJSON, CSV, Arrow IPC stream or Parquet. Nothing holds the whole result.

use std::str::FromStr;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;

use crate::daemon::error::{DaemonError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Ndjson,
    Csv,
    Arrow,
    Parquet,
}

impl FromStr for Format {
    type Err = DaemonError;
    fn from_str(s: &str) -> Result<Format> {
        match s {
            "ndjson" | "json" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            "arrow" => Ok(Format::Arrow),
            "parquet" => Ok(Format::Parquet),
            other => Err(DaemonError::InvalidArgument(format!(
                "unknown format \"{}\"; use ndjson, csv, arrow or parquet",
                other.escape_default()
            ))),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Arrow => "application/vnd.apache.arrow.stream",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Arrow => "arrow",
            Format::Parquet => "parquet",
        }
    }
}

/// Parquet row groups go out once they hold about this much.
const PARQUET_FLUSH_BYTES: usize = 8 << 20;

/// Turns batches into body chunks of one format.
pub enum Encoder {
    Ndjson,
    Csv { header: bool },
    Arrow(Box<arrow::ipc::writer::StreamWriter<Vec<u8>>>),
    Parquet(Box<ArrowWriter<Vec<u8>>>),
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> DaemonError {
    DaemonError::internal("encoding the result", e)
}

impl Encoder {
    pub fn new(format: Format, schema: &SchemaRef) -> Result<Encoder> {
        Ok(match format {
            Format::Ndjson => Encoder::Ndjson,
            Format::Csv => Encoder::Csv { header: true },
            Format::Arrow => {
                let writer = arrow::ipc::writer::StreamWriter::try_new(Vec::new(), schema).map_err(failed)?;
                Encoder::Arrow(Box::new(writer))
            }
            Format::Parquet => Encoder::Parquet(Box::new(ArrowWriter::try_new(Vec::new(), schema.clone(), None)?)),
        })
    }

    /// The bytes `batch` adds to the body (possibly none yet).
    pub fn batch(&mut self, batch: &RecordBatch) -> Result<Bytes> {
        let mut out = Vec::new();
        match self {
            Encoder::Ndjson => {
                let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
                writer.write(batch).map_err(failed)?;
                writer.finish().map_err(failed)?;
            }
            Encoder::Csv { header } => {
                let mut writer = arrow::csv::WriterBuilder::new().with_header(*header).build(&mut out);
                writer.write(batch).map_err(failed)?;
                *header = false;
            }
            Encoder::Arrow(writer) => {
                writer.write(batch).map_err(failed)?;
                out = std::mem::take(writer.get_mut());
            }
            Encoder::Parquet(writer) => {
                writer.write(batch)?;
                if writer.in_progress_size() >= PARQUET_FLUSH_BYTES {
                    writer.flush()?;
                    writer.sync().map_err(failed)?;
                }
                out = std::mem::take(writer.inner_mut());
            }
        }
        Ok(out.into())
    }

    /// The body's last bytes. A CSV of no rows still has its header.
    pub fn finish(self, schema: &SchemaRef) -> Result<Bytes> {
        Ok(match self {
            Encoder::Ndjson => Bytes::new(),
            Encoder::Csv { header } => {
                let mut out = Vec::new();
                if header {
                    let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
                    writer.write(&RecordBatch::new_empty(schema.clone())).map_err(failed)?;
                }
                out.into()
            }
            Encoder::Arrow(mut writer) => {
                writer.finish().map_err(failed)?;
                writer.into_inner().map_err(failed)?.into()
            }
            Encoder::Parquet(writer) => writer.into_inner()?.into(),
        })
    }
}
