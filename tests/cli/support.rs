//! Runs the real `shoots serve` on a free port with a temporary bucket
//! directory; dropped, it stops the daemon.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::{Action, FlightClient, FlightDescriptor, Ticket};
use futures::TryStreamExt;
use std::sync::Arc;

pub const BIN: &str = env!("CARGO_BIN_EXE_shoots");

pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Daemon {
    pub fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        Daemon::start_in(dir)
    }

    pub fn start_in(dir: tempfile::TempDir) -> Daemon {
        let mut child = Command::new(BIN)
            .args(["serve", "--host", "127.0.0.1", "--port", "0", "--bucket-dir"])
            .arg(dir.path().join("buckets"))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("daemon.log")).expect("log file"))
            .spawn()
            .expect("spawn shoots serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .rsplit_once("127.0.0.1:")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("daemon did not report its port: {line:?}"));
        Daemon { child, port, dir }
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    pub fn buckets(&self) -> PathBuf {
        self.dir.path().join("buckets")
    }

    pub async fn client(&self) -> FlightClient {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", self.port))
            .unwrap()
            .connect()
            .await
            .expect("connect");
        FlightClient::new(channel)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM for a graceful stop, as an operator would.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

pub fn sample(n: i64, offset: i64) -> RecordBatch {
    let schema =
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true), Field::new("x", DataType::Float64, true)]));
    let ids: Vec<i64> = (offset..offset + n).collect();
    let xs: Vec<f64> = ids.iter().map(|i| *i as f64 / 2.0).collect();
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(ids)), Arc::new(Float64Array::from(xs))]).unwrap()
}

pub async fn put(
    client: &mut FlightClient,
    body: serde_json::Value,
    batches: Vec<RecordBatch>,
) -> Result<serde_json::Value, FlightError> {
    let schema = batches[0].schema();
    let descriptor = FlightDescriptor::new_cmd(body.to_string());
    let data = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .with_flight_descriptor(Some(descriptor))
        .build(futures::stream::iter(batches.into_iter().map(Ok)));
    let results: Vec<_> = client.do_put(data).await?.try_collect().await?;
    Ok(serde_json::from_slice(&results[0].app_metadata).unwrap())
}

pub async fn get(client: &mut FlightClient, ticket: serde_json::Value) -> Result<Vec<RecordBatch>, FlightError> {
    client.do_get(Ticket::new(ticket.to_string())).await?.try_collect().await
}

pub async fn action(
    client: &mut FlightClient,
    kind: &str,
    body: serde_json::Value,
) -> Result<Vec<String>, FlightError> {
    let body = if body.is_null() { bytes::Bytes::new() } else { body.to_string().into() };
    client
        .do_action(Action::new(kind, body))
        .await?
        .map_ok(|b| String::from_utf8(b.to_vec()).unwrap())
        .try_collect()
        .await
}

/// The `{"type", "message"}` a failed call carries in its status details.
pub fn error_type(e: &FlightError) -> (tonic::Code, String, String) {
    let FlightError::Tonic(status) = e else { panic!("not a status: {e:?}") };
    let info: serde_json::Value = serde_json::from_slice(status.details()).unwrap_or_default();
    (
        status.code(),
        info["type"].as_str().unwrap_or_default().to_string(),
        info["message"].as_str().unwrap_or_default().to_string(),
    )
}

pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

pub fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

/// One run of the `shoots` binary with a clean environment: no `SHOOTS_*`
/// variables and no config file from the machine the tests run on.
pub struct Run {
    cmd: assert_cmd::Command,
}

/// What a finished run printed.
pub struct Output {
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
    pub code: Option<i32>,
}

impl Run {
    pub fn new(args: &[&str]) -> Run {
        let mut cmd = assert_cmd::Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SHOOTS_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("SHOOTS_CONFIG", "/nonexistent/shoots/config.toml");
        cmd.args(args);
        Run { cmd }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: &std::path::Path) -> Run {
        self.cmd.current_dir(dir);
        self
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Run {
        self.cmd.write_stdin(input.into());
        self
    }

    /// Runs it, whatever the outcome.
    pub fn output(mut self) -> Output {
        let out = self.cmd.output().expect("run shoots");
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stdout_bytes: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code(),
        }
    }

    fn finish(self, expect: Option<i32>) -> Output {
        let out = self.output();
        match expect {
            Some(want) => assert_eq!(out.code, Some(want), "exit code; stderr: {}", out.stderr),
            None => assert_eq!(out.code, Some(0), "shoots failed: {}", out.stderr),
        }
        out
    }

    /// Runs it and checks it succeeded.
    pub fn ok(self) -> Output {
        self.finish(None)
    }

    /// Runs it and checks it failed with this exit code.
    pub fn fails(self, code: i32) -> Output {
        self.finish(Some(code))
    }
}

/// A client command aimed at this daemon through the environment.
pub fn shoots(d: &Daemon, args: &[&str]) -> Run {
    Run::new(args).env("SHOOTS_HOST", "127.0.0.1").env("SHOOTS_PORT", d.port.to_string())
}
