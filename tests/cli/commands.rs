//! The client commands, run as a user would: the real `shoots` binary
//! against a real daemon, files in and out, pipes, exit codes and messages.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, TimeUnit};

use crate::support::{shoots, Daemon, Run};

const SENSOR_CSV: &str = "\
timestamp,sensor_id,Sensor_1,Sensor_2,ok
2024-01-01T00:00:00,1,0.5,0.1,true
2024-01-01T00:00:01,2,0.7,0.3,false
2024-01-01T00:00:02,3,0.2,0.15,true
2024-01-01T00:00:03,4,,0.25,
";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Dataframes a daemon stores in its default bucket, as `ls` names them.
fn names(d: &Daemon) -> Vec<String> {
    shoots(d, &["ls"]).ok().stdout.lines().map(|l| l.split('\t').next().unwrap().to_string()).collect()
}

#[test]
fn csv_put_then_get_gives_the_same_rows_and_columns() {
    let d = Daemon::start();
    let csv = write(d.dir.path(), "sensor_data.csv", SENSOR_CSV);
    let put = shoots(&d, &["put", "sensor_data", csv.to_str().unwrap()]).ok();
    assert_eq!(put.stderr, "put sensor_data: 4 rows, version 1\n");

    // Into a pipe the default is CSV.
    assert_eq!(shoots(&d, &["get", "sensor_data"]).ok().stdout, SENSOR_CSV);
    // Into a file by its extension.
    let out = d.dir.path().join("out.csv");
    let got = shoots(&d, &["get", "sensor_data", "-o", out.to_str().unwrap()]).ok();
    assert_eq!(got.stderr, format!("wrote 4 rows to {}\n", out.display()));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), SENSOR_CSV);
}

#[test]
fn tsv_and_ndjson_round_trips() {
    let d = Daemon::start();
    let tsv_text = SENSOR_CSV.replace(',', "\t");
    let tsv = write(d.dir.path(), "s.tsv", &tsv_text);
    shoots(&d, &["put", "s", tsv.to_str().unwrap()]).ok();
    assert_eq!(shoots(&d, &["get", "s", "--format", "tsv"]).ok().stdout, tsv_text);

    let ndjson = shoots(&d, &["get", "s", "--format", "ndjson"]).ok().stdout;
    assert_eq!(
        ndjson.lines().next().unwrap(),
        r#"{"timestamp":"2024-01-01T00:00:00","sensor_id":1,"Sensor_1":0.5,"Sensor_2":0.1,"ok":true}"#
    );
    let file = write(d.dir.path(), "s.jsonl", &ndjson);
    shoots(&d, &["put", "from_json", file.to_str().unwrap()]).ok();
    assert_eq!(shoots(&d, &["get", "from_json", "--format", "ndjson"]).ok().stdout, ndjson);

    // A JSON array document for tools that want one.
    let json: serde_json::Value =
        serde_json::from_str(&shoots(&d, &["get", "s", "--format", "json"]).ok().stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 4);
    assert_eq!(json[3]["Sensor_1"], serde_json::Value::Null);
}

#[test]
fn csv_options_delimiter_header_null_and_timestamp_format() {
    let d = Daemon::start();
    let text = "01/02/2024 10:00:00;NA;x\n02/02/2024 11:30:00;2;y\n";
    let file = write(d.dir.path(), "odd.txt", text);
    shoots(
        &d,
        &[
            "put",
            "odd",
            file.to_str().unwrap(),
            "--format",
            "csv",
            "--delimiter",
            ";",
            "--no-header",
            "--null",
            "NA",
            "--timestamp-format",
            "%d/%m/%Y %H:%M:%S",
        ],
    )
    .ok();
    assert_eq!(
        shoots(&d, &["get", "odd"]).ok().stdout,
        "column_1,column_2,column_3\n2024-02-01T10:00:00,,x\n2024-02-02T11:30:00,2,y\n"
    );
}

fn typed_batch() -> RecordBatch {
    let tz: Arc<str> = "Europe/Berlin".into();
    let schema = Arc::new(
        Schema::new(vec![
            Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, Some(tz.clone())), true),
            Field::new("u", DataType::UInt64, true),
            Field::new("i", DataType::Int64, true),
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("d", DataType::Decimal128(10, 3), true),
            Field::new("c", DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), true),
        ])
        .with_metadata([("pandas".to_string(), "{}".to_string())].into()),
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampNanosecondArray::from(vec![Some(1_700_000_000_000_000_001), None, Some(1)]).with_timezone(tz),
        ),
        Arc::new(UInt64Array::from(vec![Some(u64::MAX), Some(0), None])),
        Arc::new(Int64Array::from(vec![Some(-1), None, Some(i64::MAX)])),
        Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), None])),
        Arc::new(StringArray::from(vec![Some("ä"), None, Some("")])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        Arc::new(Decimal128Array::from(vec![Some(12345), None, Some(-1)]).with_precision_and_scale(10, 3).unwrap()),
        Arc::new(vec![Some("a"), None, Some("a")].into_iter().collect::<DictionaryArray<Int32Type>>()),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// A Parquet file's Arrow schema (with its metadata) and its batches.
fn read_parquet(path: &Path) -> (arrow::datatypes::SchemaRef, Vec<RecordBatch>) {
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let schema = builder.schema().clone();
    // The reader's batches carry the fields but not the schema metadata.
    let batches = builder.build().unwrap().map(|b| b.unwrap().with_schema(schema.clone()).unwrap()).collect();
    (schema, batches)
}

#[test]
fn parquet_and_arrow_files_keep_the_schema() {
    let d = Daemon::start();
    let batch = typed_batch();
    let dir = d.dir.path();

    let parquet_in = dir.join("in.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(File::create(&parquet_in).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    shoots(&d, &["put", "p", parquet_in.to_str().unwrap()]).ok();
    let parquet_out = dir.join("out.parquet");
    shoots(&d, &["get", "p", "-o", parquet_out.to_str().unwrap()]).ok();
    let (schema, back) = read_parquet(&parquet_out);
    assert_eq!(schema, batch.schema());
    assert_eq!(back, vec![batch.clone()]);

    // Arrow IPC file (.arrow / .feather) and stream (.arrows).
    for (name, ext) in [("f", "feather"), ("st", "arrows")] {
        let path = dir.join(format!("in.{ext}"));
        if ext == "arrows" {
            let mut w =
                arrow::ipc::writer::StreamWriter::try_new(File::create(&path).unwrap(), &batch.schema()).unwrap();
            w.write(&batch).unwrap();
            w.finish().unwrap();
        } else {
            let mut w = arrow::ipc::writer::FileWriter::try_new(File::create(&path).unwrap(), &batch.schema()).unwrap();
            w.write(&batch).unwrap();
            w.finish().unwrap();
        }
        shoots(&d, &["put", name, path.to_str().unwrap()]).ok();
        let out = dir.join(format!("{name}.arrow"));
        shoots(&d, &["get", name, "-o", out.to_str().unwrap()]).ok();
        let reader = arrow::ipc::reader::FileReader::try_new(File::open(&out).unwrap(), None).unwrap();
        let got: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(got, vec![batch.clone()], "{ext}");
    }
}

#[test]
fn stdin_and_stdout_pipes() {
    let d = Daemon::start();
    let put = shoots(&d, &["put", "piped", "-", "--format", "csv", "--quiet"]).stdin(SENSOR_CSV).ok();
    assert_eq!(put.stderr, "", "--quiet drops the summary line");
    assert_eq!(shoots(&d, &["get", "piped"]).ok().stdout, SENSOR_CSV);

    // Arrow stream out of one command and into the next.
    let arrow = shoots(&d, &["get", "piped", "--format", "arrow"]).ok().stdout_bytes;
    assert!(arrow.starts_with(&[0xff, 0xff, 0xff, 0xff]), "a pipe gets the stream format");
    shoots(&d, &["put", "again", "-", "--format", "arrow"]).stdin(arrow).ok();
    assert_eq!(shoots(&d, &["get", "again"]).ok().stdout, SENSOR_CSV);

    // Parquet needs a seekable file; stdin is spooled.
    let parquet = shoots(&d, &["get", "piped", "--format", "parquet"]).ok().stdout_bytes;
    assert_eq!(&parquet[..4], b"PAR1");
    shoots(&d, &["put", "pq", "-", "--format", "parquet"]).stdin(parquet).ok();
    assert_eq!(shoots(&d, &["get", "pq"]).ok().stdout, SENSOR_CSV);
}

#[test]
fn a_piped_get_is_pure_data() {
    let d = Daemon::start();
    let mut csv = String::from("id,x\n");
    for i in 0..200_000 {
        csv.push_str(&format!("{i},{:?}\n", i as f64 / 4.0));
    }
    let file = write(d.dir.path(), "big.csv", &csv);
    shoots(&d, &["put", "big", file.to_str().unwrap()]).ok();
    let got = shoots(&d, &["get", "big"]).ok();
    assert!(!got.stdout_bytes.contains(&0x1b), "no ANSI escapes in stdout");
    assert!(!got.stdout_bytes.contains(&b'\r'), "no progress redraws in stdout");
    assert!(got.stdout == csv, "the CSV back as it went in");
    assert_eq!(got.stderr, "", "no progress bar when stderr is not a terminal");
}

#[test]
fn get_with_sql() {
    let d = Daemon::start();
    let csv = write(d.dir.path(), "sensor_data.csv", SENSOR_CSV);
    shoots(&d, &["put", "sensor_data", csv.to_str().unwrap()]).ok();
    let sql = r#"select "Sensor_1" from sensor_data where "Sensor_2" < .2"#;
    assert_eq!(shoots(&d, &["get", "sensor_data", "--sql", sql]).ok().stdout, "Sensor_1\n0.5\n0.2\n");
    let table = shoots(&d, &["get", "sensor_data", "--sql", sql, "--format", "table"]).ok().stdout;
    assert!(table.contains("│ Sensor_1 │") && table.ends_with("2 rows\n"), "{table}");

    let bad = shoots(&d, &["get", "sensor_data", "--sql", "select nope from sensor_data"]).fails(1);
    assert!(bad.stderr.starts_with("shoots: error: ") && bad.stderr.contains("nope"), "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1);
}

#[test]
fn a_table_on_a_terminal_is_cut_with_a_note() {
    let d = Daemon::start();
    let csv: String = std::iter::once("n\n".to_string()).chain((0..100).map(|i| format!("{i}\n"))).collect();
    let file = write(d.dir.path(), "n.csv", &csv);
    shoots(&d, &["put", "n", file.to_str().unwrap()]).ok();
    let table = shoots(&d, &["get", "n", "--format", "table"]).ok().stdout;
    assert!(table.ends_with("100 rows (showing the first 40; use --format csv or -o FILE for all)\n"), "{table}");
    assert!(table.contains("│ 39 │") && !table.contains("│ 40 │"));
}

#[test]
fn ls_rm_and_buckets() {
    let d = Daemon::start();
    let csv = write(d.dir.path(), "s.csv", SENSOR_CSV);
    let csv = csv.to_str().unwrap();
    for name in ["sensor_1", "sensor_2", "weather"] {
        shoots(&d, &["put", name, csv]).ok();
    }
    shoots(&d, &["put", "lab_data", csv, "--bucket", "lab"]).ok();

    assert_eq!(names(&d), ["sensor_1", "sensor_2", "weather"]);
    let glob = shoots(&d, &["ls", "sensor_*"]).ok().stdout;
    assert_eq!(glob.lines().map(|l| l.split('\t').next().unwrap()).collect::<Vec<_>>(), ["sensor_1", "sensor_2"]);
    let regex = shoots(&d, &["ls", r"^s.*_2$"]).ok().stdout;
    assert_eq!(regex.lines().count(), 1);
    assert!(regex.starts_with("sensor_2\t4\t"), "name, rows, size, columns: {regex}");
    assert!(regex.trim_end().ends_with("\t5"), "{regex}");

    let long = shoots(&d, &["ls", "weather", "--long"]).ok().stdout;
    assert!(long.contains("timestamp: Timestamp(ns), sensor_id: Int64"), "{long}");

    let json: serde_json::Value =
        serde_json::from_str(&shoots(&d, &["ls", "--all", "--format", "json"]).ok().stdout).unwrap();
    let all: Vec<(String, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["bucket"].as_str().unwrap_or("").to_string(), e["name"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        all.contains(&("lab".into(), "lab_data".into())) && all.contains(&("".into(), "weather".into())),
        "{all:?}"
    );
    assert_eq!(json[0]["rows"], 4);
    assert_eq!(json[0]["columns"][0]["name"], "timestamp");
    let lab = shoots(&d, &["ls", "--bucket", "lab"]).ok().stdout;
    assert!(lab.starts_with("lab_data\t"));

    let rm = shoots(&d, &["rm", "sensor_1", "sensor_2"]).ok();
    assert_eq!(rm.stderr, "deleted sensor_1\ndeleted sensor_2\n");
    assert_eq!(names(&d), ["weather"]);
    let missing = shoots(&d, &["rm", "sensor_1"]).fails(1);
    assert_eq!(missing.stderr.lines().count(), 1);
    assert!(missing.stderr.starts_with("shoots: error: dataframe sensor_1 "), "{}", missing.stderr);
    shoots(&d, &["rm", "sensor_1", "--force"]).ok();

    assert_eq!(shoots(&d, &["buckets"]).ok().stdout, "lab\n");
    let refused = shoots(&d, &["buckets", "rm", "lab"]).fails(1);
    assert!(refused.stderr.contains("bucket lab is not empty (1 dataframe)"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--force"), "the hint names the way out");
    assert_eq!(shoots(&d, &["ls", "--bucket", "lab"]).ok().stdout.lines().count(), 1, "refusal deleted nothing");
    shoots(&d, &["buckets", "rm", "lab", "--force"]).ok();
    assert_eq!(shoots(&d, &["buckets"]).ok().stdout, "");
    assert!(!d.buckets().join("lab").exists());
}

#[test]
fn ping_and_shutdown() {
    let mut d = Daemon::start();
    let pong = shoots(&d, &["ping"]).ok().stdout;
    assert!(pong.starts_with(&format!("pong from 127.0.0.1:{} in ", d.port)), "{pong}");
    let bye = shoots(&d, &["shutdown"]).ok();
    assert!(bye.stderr.contains("stopped"), "{}", bye.stderr);
    let status = d.child.wait().unwrap();
    assert!(status.success(), "the daemon exits 0 after a shutdown: {status:?}");
    shoots(&d, &["ping"]).fails(3);
}

#[test]
fn exit_codes_and_error_lines() {
    let d = Daemon::start();
    let dir = d.dir.path();
    let csv = write(dir, "s.csv", SENSOR_CSV);

    let missing = shoots(&d, &["put", "x", dir.join("missing.csv").to_str().unwrap()]).fails(1);
    assert!(missing.stderr.starts_with("shoots: error: cannot open ") && missing.stderr.contains("missing.csv"));

    let ext = write(dir, "data.xyz", "a\n1\n");
    let unknown = shoots(&d, &["put", "x", ext.to_str().unwrap()]).fails(2);
    assert!(unknown.stderr.contains("cannot tell the format of") && unknown.stderr.contains("use --format"));

    let bad = write(dir, "bad.csv", "a,b\n1,2\n3\n4,5\n");
    let malformed = shoots(&d, &["put", "bad", bad.to_str().unwrap()]).fails(1);
    assert!(malformed.stderr.contains("bad.csv") && malformed.stderr.contains("line 3"), "{}", malformed.stderr);
    assert!(names(&d).is_empty(), "a malformed file writes nothing");

    shoots(&d, &["put", "s", csv.to_str().unwrap()]).ok();
    let other = write(dir, "other.csv", "a\n1\n");
    let exists = shoots(&d, &["put", "s", other.to_str().unwrap()]).fails(1);
    assert!(exists.stderr.contains("dataframe s already exists") && exists.stderr.contains("--mode append"));
    assert_eq!(shoots(&d, &["get", "s"]).ok().stdout, SENSOR_CSV, "left as it was");

    let mismatch = shoots(&d, &["put", "s", other.to_str().unwrap(), "--mode", "append"]).fails(1);
    assert!(mismatch.stderr.starts_with("shoots: error: "), "{}", mismatch.stderr);
    assert_eq!(shoots(&d, &["get", "s"]).ok().stdout, SENSOR_CSV, "left as it was");

    let unknown_df = shoots(&d, &["get", "nope"]).fails(1);
    assert!(unknown_df.stderr.contains("dataframe nope in bucket (default) not found"));
    let bad_name = shoots(&d, &["get", "../etc"]).fails(1);
    assert!(bad_name.stderr.contains("../etc"), "{}", bad_name.stderr);

    let usage = shoots(&d, &["put", "x"]).fails(2);
    assert!(usage.stderr.contains("Usage"));

    let unreachable = shoots(&d, &["ping", "--port", "1"]).fails(3);
    assert!(
        unreachable.stderr.starts_with("shoots: error: cannot reach shoots at 127.0.0.1:1"),
        "{}",
        unreachable.stderr
    );
    assert!(unreachable.stderr.contains("hint:"));

    for out in [&missing, &unknown, &malformed, &exists, &mismatch, &unknown_df, &unreachable] {
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
        assert!(!out.stderr.contains("panicked") && !out.stderr.contains("backtrace"));
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let help = Run::new(&["--help"]).ok().stdout;
    assert!(help.contains("Exit codes:") && help.contains("3  cannot reach the server"), "{help}");
}

#[test]
fn generated_completions_and_man_pages_are_current() {
    let out = tempfile::tempdir().unwrap();
    Run::new(&["generate-files", out.path().to_str().unwrap()]).ok();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["completions", "man"] {
        let mut generated: Vec<_> =
            std::fs::read_dir(out.path().join(sub)).unwrap().map(|e| e.unwrap().file_name()).collect();
        let mut committed: Vec<_> =
            std::fs::read_dir(repo.join(sub)).unwrap().map(|e| e.unwrap().file_name()).collect();
        generated.sort();
        committed.sort();
        assert_eq!(generated, committed, "{sub}/ lists other files; run `shoots generate-files .`");
        for name in generated {
            let fresh = std::fs::read(out.path().join(sub).join(&name)).unwrap();
            let kept = std::fs::read(repo.join(sub).join(&name)).unwrap();
            assert!(fresh == kept, "{sub}/{} is stale; run `shoots generate-files .`", name.to_string_lossy());
        }
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = Run::new(&["completions", shell]).ok().stdout;
        assert!(script.contains("shoots"), "{shell}");
    }
}
