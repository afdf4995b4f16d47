//! Where client commands find the server: flag, then environment, then the
//! config file, then the default.

use crate::support::{Daemon, Run};

fn config(d: &Daemon, text: &str) -> String {
    let path = d.dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn the_default_is_localhost_8081() {
    // Something may listen on 8081 here; either way the address is the default.
    let out = Run::new(&["ping"]).output();
    let said = format!("{}{}", out.stdout, out.stderr);
    assert!(said.contains("localhost:8081"), "{said}");
}

#[test]
fn the_config_file_beats_the_default() {
    let d = Daemon::start();
    let file = config(&d, &format!("host = \"127.0.0.1\"\nport = {}\n", d.port));
    let pong = Run::new(&["ping"]).env("SHOOTS_CONFIG", &file).ok().stdout;
    assert!(pong.starts_with(&format!("pong from 127.0.0.1:{} ", d.port)), "{pong}");
}

#[test]
fn the_environment_beats_the_config_file() {
    let d = Daemon::start();
    let file = config(&d, "host = \"127.0.0.1\"\nport = 1\n");
    Run::new(&["ping"]).env("SHOOTS_CONFIG", &file).fails(3);
    let pong = Run::new(&["ping"]).env("SHOOTS_CONFIG", &file).env("SHOOTS_PORT", d.port.to_string()).ok().stdout;
    assert!(pong.starts_with(&format!("pong from 127.0.0.1:{} ", d.port)), "{pong}");
}

#[test]
fn a_flag_beats_the_environment() {
    let d = Daemon::start();
    let file = config(&d, "port = 1\n");
    let pong = Run::new(&["ping", "--host", "127.0.0.1", "--port", &d.port.to_string()])
        .env("SHOOTS_CONFIG", &file)
        .env("SHOOTS_HOST", "nonexistent.invalid")
        .env("SHOOTS_PORT", "2")
        .ok()
        .stdout;
    assert!(pong.starts_with(&format!("pong from 127.0.0.1:{} ", d.port)), "{pong}");
}

#[test]
fn a_bad_config_file_is_a_usage_error() {
    let d = Daemon::start();
    let file = config(&d, "prot = 8081\n");
    let out = Run::new(&["ping"]).env("SHOOTS_CONFIG", &file).fails(2);
    assert!(out.stderr.starts_with("shoots: error: bad config file ") && out.stderr.contains("prot"), "{}", out.stderr);
}
