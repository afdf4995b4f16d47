//! The interactive SQL shell (`shoots sql` on a terminal): the loop here,
//! line editing and completion in [`helper`], backslash commands in [`meta`].
//! Results print through the shared output module.

pub mod helper;
pub mod meta;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::client::listing::{all_buckets, entries};
use crate::client::sql::{distributed_setting, run_statement, statements};
use crate::client::{Client, ConnectArgs};
use crate::error::{CliError, Result};
use crate::output::{human_bytes, print_rows, Destination, OutputFormat};
use crate::protocol::{ErrorKind, DEFAULT_SCHEMA};
use helper::{Names, ReplHelper};
use meta::MetaCommand;

/// Where the history is kept: the platform data directory
/// (`~/.local/share/shoots/history.txt` on Linux).
pub fn history_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "shoots").map(|d| d.data_dir().join("history.txt"))
}

struct Repl {
    runtime: tokio::runtime::Runtime,
    client: Client,
    names: Arc<Mutex<Names>>,
    bucket: Option<String>,
    format: OutputFormat,
    timing: bool,
    next_output: Option<PathBuf>,
    /// `on`, `off` or `auto` from the session's last `SET shoots.distributed`,
    /// sent before each query (the daemon keeps no session).
    distributed: Option<String>,
}

pub fn run(connect: &ConnectArgs, bucket: Option<String>, format: Option<OutputFormat>) -> Result<()> {
    let runtime = crate::client::runtime()?;
    let client = runtime.block_on(connect.connect())?;
    let names = Arc::new(Mutex::new(Names::default()));
    let config = Config::builder().completion_type(CompletionType::List).auto_add_history(false).build();
    let mut editor: Editor<ReplHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| CliError::Local(format!("cannot open the terminal: {e}")))?;
    editor.set_helper(Some(ReplHelper { names: names.clone() }));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.load_history(path);
    }

    let mut repl = Repl {
        runtime,
        client,
        names,
        bucket,
        format: format.unwrap_or(OutputFormat::Table),
        timing: true,
        next_output: None,
        distributed: None,
    };
    repl.refresh_names();
    println!("shoots sql at {}: statements end with ';', \\? for help, \\q or Ctrl-D to leave", repl.client.address);
    loop {
        let prompt = match &repl.bucket {
            Some(b) => format!("shoots:{b}> "),
            None => "shoots> ".to_string(),
        };
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            // Ctrl-C at the prompt drops what was typed.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Local(format!("cannot read the terminal: {e}"))),
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(text);
        if let Some(path) = &history {
            // Saved at once, so a killed session keeps what was typed.
            let _ = editor.save_history(path);
        }
        if text.starts_with('\\') {
            match text.parse::<MetaCommand>() {
                Ok(MetaCommand::Quit) => break,
                Ok(command) => repl.meta(command),
                Err(e) => eprintln!("shoots: error: {e}"),
            }
        } else {
            for sql in statements(text) {
                if !repl.query(&sql) {
                    break;
                }
            }
        }
        repl.refresh_names();
    }
    Ok(())
}

impl Repl {
    /// Runs one statement; Ctrl-C cancels it (dropping the call stops the
    /// query on the server). Returns false when it did not complete.
    fn query(&mut self, sql: &str) -> bool {
        let mut sql = sql;
        if let Some((setting, rest)) = distributed_setting(sql) {
            if !matches!(setting.as_str(), "on" | "off" | "auto") {
                eprintln!("shoots: error: shoots.distributed is on, off or auto, not {setting:?}");
                return false;
            }
            println!("shoots.distributed = {setting} for this session");
            self.distributed = Some(setting);
            if rest.is_empty() {
                return true;
            }
            sql = rest;
        }
        let sql = match &self.distributed {
            Some(mode) => format!("SET shoots.distributed = {mode}; {sql}"),
            None => sql.to_string(),
        };
        let sql = sql.as_str();
        let started = Instant::now();
        let output = self.next_output.take();
        let format = match &output {
            Some(path) => OutputFormat::from_extension(path).unwrap_or(self.format),
            None => self.format,
        };
        let destination = Destination::new(output.as_deref());
        let (client, bucket) = (&mut self.client, self.bucket.as_deref());
        let outcome = self.runtime.block_on(async {
            tokio::select! {
                result = run_statement(client, sql, bucket, format, destination) => Some(result),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        match outcome {
            None => {
                eprintln!("cancelled");
                false
            }
            Some(Err(e)) => {
                eprintln!("{}", e.line());
                false
            }
            Some(Ok(rows)) => {
                if let Some(path) = &output {
                    println!("wrote {rows} rows to {}", path.display());
                }
                if self.timing {
                    println!("time: {:.3} s", started.elapsed().as_secs_f64());
                }
                true
            }
        }
    }

    fn meta(&mut self, command: MetaCommand) {
        let result = match command {
            MetaCommand::Describe(None) => self.list_dataframes(),
            MetaCommand::Describe(Some(name)) => self.describe(&name),
            MetaCommand::Buckets => self.runtime.block_on(self.client.buckets()).map(|all| {
                print_rows(&["bucket"], &all.into_iter().map(|b| vec![b]).collect::<Vec<_>>());
            }),
            MetaCommand::Use(bucket) => {
                self.bucket = bucket.filter(|b| b != DEFAULT_SCHEMA);
                self.names.lock().expect("names lock").current = self.bucket.clone();
                Ok(())
            }
            MetaCommand::Format(format) => {
                self.format = format;
                Ok(())
            }
            MetaCommand::Timing => {
                self.timing = !self.timing;
                println!("timing {}", if self.timing { "on" } else { "off" });
                Ok(())
            }
            MetaCommand::Output(path) => {
                println!("the next result goes to {}", path.display());
                self.next_output = Some(path);
                Ok(())
            }
            MetaCommand::Help => {
                println!("{}", meta::HELP);
                Ok(())
            }
            MetaCommand::Quit => Ok(()),
        };
        if let Err(e) = result {
            eprintln!("{}", e.line());
        }
    }

    fn all_buckets(&mut self) -> Result<Vec<Option<String>>> {
        self.runtime.block_on(all_buckets(&mut self.client))
    }

    fn list_dataframes(&mut self) -> Result<()> {
        let all = self.all_buckets()?;
        let found = self.runtime.block_on(entries(&mut self.client, &all, None))?;
        let rows: Vec<Vec<String>> = found
            .iter()
            .map(|e| {
                vec![
                    e.bucket.clone().unwrap_or_else(|| DEFAULT_SCHEMA.into()),
                    e.name.clone(),
                    e.rows.to_string(),
                    human_bytes(e.bytes.max(0) as u64),
                    e.schema.fields().len().to_string(),
                ]
            })
            .collect();
        print_rows(&["bucket", "name", "rows", "size", "columns"], &rows);
        Ok(())
    }

    /// `NAME` in the current bucket, or `bucket.name`.
    fn describe(&mut self, name: &str) -> Result<()> {
        let (bucket, frame) = match name.split_once('.') {
            Some((DEFAULT_SCHEMA, f)) => (None, f),
            Some((b, f)) => (Some(b.to_string()), f),
            None => (self.bucket.clone(), name),
        };
        let regex = format!("^{}$", regex::escape(frame));
        let found = self.runtime.block_on(entries(&mut self.client, std::slice::from_ref(&bucket), Some(&regex)))?;
        let Some(entry) = found.first() else {
            let bucket = bucket.as_deref().unwrap_or("(default)");
            return Err(CliError::server(ErrorKind::NotFound, format!("no dataframe {frame} in bucket {bucket}")));
        };
        let rows: Vec<Vec<String>> = entry
            .schema
            .fields()
            .iter()
            .map(|f| {
                vec![f.name().clone(), f.data_type().to_string(), if f.is_nullable() { "yes" } else { "no" }.into()]
            })
            .collect();
        print_rows(&["column", "type", "nullable"], &rows);
        println!("{} rows, {}", entry.rows, human_bytes(entry.bytes.max(0) as u64));
        Ok(())
    }

    /// Fetches bucket, dataframe and column names for completion; a failure
    /// only leaves the old names.
    fn refresh_names(&mut self) {
        let Ok(all) = self.all_buckets() else { return };
        let Ok(found) = self.runtime.block_on(entries(&mut self.client, &all, None)) else { return };
        let mut names = self.names.lock().expect("names lock");
        names.buckets = all.into_iter().flatten().collect();
        names.frames = found
            .into_iter()
            .map(|e| (e.bucket, e.name, e.schema.fields().iter().map(|f| f.name().clone()).collect()))
            .collect();
        names.current = self.bucket.clone();
    }
}
