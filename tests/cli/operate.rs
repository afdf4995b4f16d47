//! Operating the daemon: `serve --daemon` with its pid and log files, a
//! taken port, and `shutdown`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::Run;

/// Stops a detached daemon left behind by a failing test.
struct Detached {
    pid_file: PathBuf,
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(pid) = read_pid(&self.pid_file) {
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Waits for a condition the daemon brings about on its own schedule (a
/// bounded wait, not a timing check).
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serve_daemon(dir: &Path, port: u16, pid: &Path) -> Run {
    Run::new(&[
        "serve",
        "--daemon",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--bucket-dir",
        dir.join("buckets").to_str().unwrap(),
        "--pid-file",
        pid.to_str().unwrap(),
        "--log-file",
        dir.join("shoots.log").to_str().unwrap(),
    ])
}

#[test]
fn serve_daemon_detaches_and_shutdown_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("shoots.pid");
    let _guard = Detached { pid_file: pid_file.clone() };

    let started = serve_daemon(dir.path(), 0, &pid_file).ok();
    let line = started.stdout;
    assert!(line.starts_with("shoots serve: listening on grpc://127.0.0.1:"), "{line}");
    assert!(line.contains(&format!("pid file {}", pid_file.display())), "{line}");
    let port: u16 = line.split("127.0.0.1:").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();

    let pid = read_pid(&pid_file).expect("a pid file");
    assert!(alive(pid), "the pid file names a live process");
    let port_arg = port.to_string();
    let at = |command: &str| Run::new(&[command, "--host", "127.0.0.1", "--port", &port_arg]);
    assert!(at("ping").ok().stdout.starts_with("pong"));
    eventually("the request line in the log", || {
        std::fs::read_to_string(dir.path().join("shoots.log"))
            .unwrap_or_default()
            .contains("ping ok method=\"DoAction\"")
    });

    // A second daemon on the same pid file is refused, and says why.
    let refused = serve_daemon(dir.path(), 0, &pid_file).fails(1);
    assert!(refused.stderr.contains(&format!("already runs as pid {pid}")), "{}", refused.stderr);
    assert_eq!(read_pid(&pid_file), Some(pid), "the refusal left the pid file alone");

    at("shutdown").ok();
    eventually("the daemon to exit", || !alive(pid));
    eventually("the pid file to go", || !pid_file.exists());
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn a_taken_port_is_one_clear_error_detached_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let pid_file = dir.path().join("shoots.pid");
    let _guard = Detached { pid_file: pid_file.clone() };

    let detached = serve_daemon(dir.path(), port, &pid_file).fails(1);
    assert_eq!(
        detached.stderr,
        format!("shoots: error: port {port} on 127.0.0.1 is already in use (another shoots serve?)\n")
    );
    assert!(!pid_file.exists(), "no pid file is left behind");

    let foreground = Run::new(&[
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--bucket-dir",
        dir.path().join("b").to_str().unwrap(),
    ])
    .fails(1);
    assert_eq!(foreground.stderr, detached.stderr);
}

#[test]
fn a_stale_pid_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("shoots.pid");
    let _guard = Detached { pid_file: pid_file.clone() };
    // A pid that cannot be running: beyond the kernel's pid range.
    std::fs::write(&pid_file, "2147483000\n").unwrap();
    let started = serve_daemon(dir.path(), 0, &pid_file).ok();
    let port = started.stdout.split("127.0.0.1:").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let pid = read_pid(&pid_file).unwrap();
    assert_ne!(pid, 2147483000);
    Run::new(&["shutdown", "--host", "127.0.0.1", "--port", &port]).ok();
    eventually("the daemon to exit", || !alive(pid));
}
