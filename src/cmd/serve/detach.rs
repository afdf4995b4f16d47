//! `serve --daemon`: fork before any async runtime exists, keep a pid file
//! and a log file, and have the parent wait until the child listens (or
//! failed) so that it can report which.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use daemonize::{Daemonize, Outcome};

use crate::error::{CliError, Result};

pub struct Files {
    pub pid: PathBuf,
    pub log: PathBuf,
}

fn local(what: &str, path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("cannot {what} {}: {e}", path.display()))
}

impl Files {
    /// Explicit paths, else `shoots-PORT.pid` / `.log` in the platform state
    /// directory (`~/.local/state/shoots` on Linux). Relative paths are made
    /// absolute: the daemon keeps the working directory, but says where.
    pub fn resolve(pid: Option<PathBuf>, log: Option<PathBuf>, port: u16) -> Result<Files> {
        let state = directories::ProjectDirs::from("", "", "shoots")
            .map(|d| d.state_dir().unwrap_or_else(|| d.data_local_dir()).to_path_buf())
            .ok_or_else(|| {
                CliError::Usage("no home directory for the pid and log files; use --pid-file and --log-file".into())
            })?;
        let cwd = std::env::current_dir().map_err(|e| CliError::Local(format!("no working directory: {e}")))?;
        let files = Files {
            pid: cwd.join(pid.unwrap_or_else(|| state.join(format!("shoots-{port}.pid")))),
            log: cwd.join(log.unwrap_or_else(|| state.join(format!("shoots-{port}.log")))),
        };
        for path in [&files.pid, &files.log] {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| local("create", dir, e))?;
            }
        }
        Ok(files)
    }
}

/// The process a pid file names, if it still runs.
fn live_pid(pid_file: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    // Signal 0 checks existence; EPERM still means someone runs under it.
    let alive =
        unsafe { libc::kill(pid, 0) == 0 } || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    (pid > 0 && alive).then_some(pid)
}

/// Detaches and runs `serve` in the child. `serve` calls its argument with
/// the "listening on" line once the port is bound.
pub fn run(files: Files, serve: impl FnOnce(&mut dyn FnMut(String)) -> Result<()>) -> Result<()> {
    if let Some(pid) = live_pid(&files.pid) {
        return Err(CliError::Local(format!(
            "shoots serve already runs as pid {pid} (pid file {}); stop it with `shoots shutdown` or use another --pid-file",
            files.pid.display()
        )));
    }
    if files.pid.exists() {
        std::fs::remove_file(&files.pid).map_err(|e| local("remove the stale pid file", &files.pid, e))?;
    }
    let log =
        OpenOptions::new().create(true).append(true).open(&files.log).map_err(|e| local("open", &files.log, e))?;
    let log_err = log.try_clone().map_err(|e| local("open", &files.log, e))?;
    let (mut status_rx, status_tx) =
        std::io::pipe().map_err(|e| CliError::Local(format!("cannot create a pipe: {e}")))?;
    let cwd = std::env::current_dir().map_err(|e| CliError::Local(format!("no working directory: {e}")))?;
    let detached = Daemonize::new().pid_file(&files.pid).working_directory(cwd).stdout(log).stderr(log_err).execute();
    match detached {
        Outcome::Parent(Ok(_)) => {
            drop(status_tx);
            let mut report = String::new();
            let _ = status_rx.read_to_string(&mut report);
            match report.trim_end().split_once(' ') {
                Some(("ok", line)) => {
                    println!("{line}, pid file {}, log {}", files.pid.display(), files.log.display());
                    Ok(())
                }
                Some(("err", message)) => Err(CliError::Local(message.to_string())),
                _ => {
                    Err(CliError::Local(format!("the daemon stopped before it listened; see {}", files.log.display())))
                }
            }
        }
        Outcome::Parent(Err(e)) => Err(CliError::Local(format!("cannot detach: {e}"))),
        Outcome::Child(Err(e)) => {
            let mut status_tx = status_tx;
            let _ = writeln!(status_tx, "err cannot detach: {e}");
            std::process::exit(1);
        }
        Outcome::Child(Ok(_)) => {
            drop(status_rx);
            let mut status = Some(status_tx);
            let result = serve(&mut |line: String| {
                println!("{line}");
                let _ = std::io::stdout().flush();
                if let Some(mut tx) = status.take() {
                    let _ = writeln!(tx, "ok {line}");
                }
            });
            // The pid file goes before the parent hears of a failure, so
            // that nothing is left once `serve --daemon` has returned.
            let _ = std::fs::remove_file(&files.pid);
            if let (Err(e), Some(mut tx)) = (&result, status.take()) {
                let _ = writeln!(tx, "err {}", e.to_string().split_whitespace().collect::<Vec<_>>().join(" "));
            }
            result
        }
    }
}
