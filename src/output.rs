//! The one place results are printed or written: a terminal table, CSV/TSV,
//! JSON, NDJSON, Parquet or Arrow IPC, to stdout or a file, streaming
//! batch by batch (only the terminal table keeps its first rows).

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use clap::ValueEnum;
use comfy_table::{presets, Cell, ContentArrangement, Table};

use crate::error::{CliError, Result};
use crate::parquet_format::{writer_properties, ROW_GROUP_ROWS};

/// Rows a terminal table shows before it says how many more there were.
pub const TABLE_ROW_LIMIT: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Tsv,
    Json,
    Ndjson,
    Parquet,
    Arrow,
}

impl OutputFormat {
    pub fn from_extension(path: &Path) -> Option<OutputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => OutputFormat::Csv,
            "tsv" | "tab" => OutputFormat::Tsv,
            "json" => OutputFormat::Json,
            "ndjson" | "jsonl" => OutputFormat::Ndjson,
            "parquet" | "pq" => OutputFormat::Parquet,
            "arrow" | "feather" | "ipc" | "arrows" => OutputFormat::Arrow,
            _ => return None,
        })
    }

    /// `--format` wins, then the output file's extension; to a terminal a
    /// table, into a pipe CSV.
    pub fn choose(explicit: Option<OutputFormat>, output: Option<&Path>) -> Result<OutputFormat> {
        if let Some(f) = explicit {
            return Ok(f);
        }
        match output {
            Some(path) if path != Path::new("-") => OutputFormat::from_extension(path).ok_or_else(|| {
                CliError::Usage(format!(
                    "cannot tell the format of {} from its extension; use --format (csv, tsv, json, ndjson, parquet, arrow)",
                    path.display()
                ))
            }),
            _ if std::io::stdout().is_terminal() => Ok(OutputFormat::Table),
            _ => Ok(OutputFormat::Csv),
        }
    }
}

/// Where output goes: stdout, or a file that only appears once complete.
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    pub fn new(output: Option<&Path>) -> Destination {
        match output {
            Some(p) if p != Path::new("-") => Destination::File(p.to_path_buf()),
            _ => Destination::Stdout,
        }
    }
}

/// A temporary file beside the target, renamed over it on success, so a
/// failed export never leaves a truncated file behind.
struct PendingFile {
    target: PathBuf,
    temp: PathBuf,
}

impl PendingFile {
    fn create(target: &Path) -> Result<(PendingFile, File)> {
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let temp = target.with_file_name(format!(".{name}.shoots-partial"));
        let file =
            File::create(&temp).map_err(|e| CliError::Local(format!("cannot write {}: {e}", target.display())))?;
        Ok((PendingFile { target: target.to_path_buf(), temp }, file))
    }

    fn commit(self) -> Result<()> {
        std::fs::rename(&self.temp, &self.target)
            .map_err(|e| CliError::Local(format!("cannot write {}: {e}", self.target.display())))
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

type Out = Box<dyn Write + Send>;

enum Writer {
    Table { schema: SchemaRef, kept: Vec<RecordBatch>, kept_rows: usize, limit: usize },
    Csv(arrow::csv::Writer<Out>),
    Json(arrow::json::ArrayWriter<Out>),
    Ndjson(arrow::json::LineDelimitedWriter<Out>),
    Parquet(ParquetOut),
    ArrowFile(arrow::ipc::writer::FileWriter<Out>),
    ArrowStream(arrow::ipc::writer::StreamWriter<Out>),
}

/// A Parquet file starts with its first batch, which picks the encodings.
struct ParquetOut {
    waiting: Option<(Out, SchemaRef)>,
    writer: Option<parquet::arrow::ArrowWriter<Out>>,
}

impl ParquetOut {
    fn writer(&mut self, sample: Option<&RecordBatch>) -> Result<&mut parquet::arrow::ArrowWriter<Out>> {
        if let Some((out, schema)) = self.waiting.take() {
            let props = writer_properties(&schema, ROW_GROUP_ROWS, sample);
            self.writer = Some(parquet::arrow::ArrowWriter::try_new(out, schema, Some(props)).map_err(io_error)?);
        }
        Ok(self.writer.as_mut().expect("a writer once started"))
    }
}

/// Writes a stream of batches in one format to one destination.
pub struct Sink {
    writer: Option<Writer>,
    pending: Option<PendingFile>,
    rows: usize,
}

fn io_error(e: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("cannot write output: {e}"))
}

impl Sink {
    pub fn new(format: OutputFormat, schema: SchemaRef, destination: Destination) -> Result<Sink> {
        let (out, pending): (Out, Option<PendingFile>) = match &destination {
            Destination::Stdout => (Box::new(std::io::BufWriter::new(std::io::stdout())), None),
            Destination::File(path) => {
                let (pending, file) = PendingFile::create(path)?;
                (Box::new(std::io::BufWriter::with_capacity(1 << 20, file)), Some(pending))
            }
        };
        let to_file = matches!(destination, Destination::File(_));
        let writer = match format {
            OutputFormat::Table => Writer::Table { schema, kept: Vec::new(), kept_rows: 0, limit: TABLE_ROW_LIMIT },
            OutputFormat::Csv | OutputFormat::Tsv => {
                let delimiter = if format == OutputFormat::Tsv { b'\t' } else { b',' };
                Writer::Csv(arrow::csv::WriterBuilder::new().with_header(true).with_delimiter(delimiter).build(out))
            }
            OutputFormat::Json => Writer::Json(arrow::json::ArrayWriter::new(out)),
            OutputFormat::Ndjson => Writer::Ndjson(arrow::json::LineDelimitedWriter::new(out)),
            OutputFormat::Parquet => Writer::Parquet(ParquetOut { waiting: Some((out, schema)), writer: None }),
            // A file gets the random-access file format; a pipe the stream format.
            OutputFormat::Arrow if to_file => {
                Writer::ArrowFile(arrow::ipc::writer::FileWriter::try_new(out, &schema).map_err(io_error)?)
            }
            OutputFormat::Arrow => {
                Writer::ArrowStream(arrow::ipc::writer::StreamWriter::try_new(out, &schema).map_err(io_error)?)
            }
        };
        Ok(Sink { writer: Some(writer), pending, rows: 0 })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows();
        match self.writer.as_mut().expect("sink used after finish") {
            Writer::Table { kept, kept_rows, limit, .. } => {
                if *kept_rows < *limit {
                    let take = (*limit - *kept_rows).min(batch.num_rows());
                    kept.push(batch.slice(0, take));
                    *kept_rows += take;
                }
                Ok(())
            }
            Writer::Csv(w) => w.write(batch).map_err(io_error),
            Writer::Json(w) => w.write(batch).map_err(io_error),
            Writer::Ndjson(w) => w.write(batch).map_err(io_error),
            // An empty first batch would be no sample at all.
            Writer::Parquet(_) if batch.num_rows() == 0 => Ok(()),
            Writer::Parquet(w) => w.writer(Some(batch))?.write(batch).map_err(io_error),
            Writer::ArrowFile(w) => w.write(batch).map_err(io_error),
            Writer::ArrowStream(w) => w.write(batch).map_err(io_error),
        }
    }

    /// Completes the output; returns the number of rows written.
    pub fn finish(mut self) -> Result<usize> {
        let flush = |mut out: Out| out.flush().map_err(io_error);
        match self.writer.take().expect("finish once") {
            Writer::Table { schema, kept, .. } => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", render_table(&schema, &kept)?).map_err(io_error)?;
                let shown: usize = kept.iter().map(|b| b.num_rows()).sum();
                let note = if shown < self.rows {
                    format!("{} rows (showing the first {shown}; use --format csv or -o FILE for all)", self.rows)
                } else {
                    format!("{} row{}", self.rows, if self.rows == 1 { "" } else { "s" })
                };
                writeln!(out, "{note}").map_err(io_error)?;
            }
            Writer::Csv(w) => flush(w.into_inner())?,
            Writer::Json(mut w) => {
                w.finish().map_err(io_error)?;
                let mut out = w.into_inner();
                out.write_all(b"\n").map_err(io_error)?;
                flush(out)?
            }
            Writer::Ndjson(mut w) => {
                w.finish().map_err(io_error)?;
                flush(w.into_inner())?
            }
            Writer::Parquet(mut w) => {
                w.writer(None)?;
                flush(w.writer.take().expect("started").into_inner().map_err(io_error)?)?
            }
            Writer::ArrowFile(mut w) => {
                w.finish().map_err(io_error)?;
                flush(w.into_inner().map_err(io_error)?)?
            }
            Writer::ArrowStream(mut w) => {
                w.finish().map_err(io_error)?;
                flush(w.into_inner().map_err(io_error)?)?
            }
        }
        if let Some(pending) = self.pending.take() {
            pending.commit()?;
        }
        Ok(self.rows)
    }
}

/// A comfy-table rendering of some batches (nulls shown as empty cells).
pub fn render_table(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String> {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    // A terminal that reports no useful width (a bare pty) would squeeze
    // every column to one character; print at natural width instead.
    if table.width().is_none_or(|w| w < 20) {
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table.set_header(schema.fields().iter().map(|f| Cell::new(f.name())));
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(io_error)?;
        for row in 0..batch.num_rows() {
            table.add_row(formatters.iter().map(|f| Cell::new(f.value(row).to_string())));
        }
    }
    Ok(table.to_string())
}

/// A plain text table for listings: aligned columns on a terminal,
/// tab-separated lines in a pipe.
pub fn print_rows(header: &[&str], rows: &[Vec<String>]) {
    if std::io::stdout().is_terminal() {
        let mut table = Table::new();
        table.load_preset(presets::NOTHING).set_header(header.iter().map(|h| Cell::new(h.to_uppercase())));
        for row in rows {
            table.add_row(row.iter().map(Cell::new));
        }
        println!("{table}");
    } else {
        for row in rows {
            println!("{}", row.join("\t"));
        }
    }
}

/// How listings (`ls`, `history`) print: text for people, JSON for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// A listing as pretty-printed JSON.
pub fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("listings serialise"));
}

/// `1.2 MB`-style sizes for people.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(OutputFormat::from_extension(Path::new("a.CSV")), Some(OutputFormat::Csv));
        assert_eq!(OutputFormat::from_extension(Path::new("a.jsonl")), Some(OutputFormat::Ndjson));
        assert_eq!(OutputFormat::from_extension(Path::new("a.feather")), Some(OutputFormat::Arrow));
        assert_eq!(OutputFormat::from_extension(Path::new("a.xlsx")), None);
        assert!(OutputFormat::choose(None, Some(Path::new("x.xlsx"))).is_err());
        assert_eq!(
            OutputFormat::choose(Some(OutputFormat::Json), Some(Path::new("x.csv"))).unwrap(),
            OutputFormat::Json
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
    }
}
