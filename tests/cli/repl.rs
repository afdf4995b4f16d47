//! The REPL through a pseudo-terminal, against a real daemon. rexpect reads
//! bytes as Latin-1, so expectations stay ASCII (no table borders).

use std::process::Command;

use rexpect::session::{spawn_command, PtySession};

use crate::support::{shoots, Daemon, BIN};

const SENSORS: &str = "timestamp,Sensor_1,Sensor_2,status\n\
2024-01-01T00:00:00,0.5,0.1,ok\n2024-01-01T00:00:01,0.7,0.3,ok\n2024-01-01T00:00:02,0.2,0.15,bad\n";

fn setup() -> Daemon {
    let d = Daemon::start();
    let csv = d.dir.path().join("s.csv");
    std::fs::write(&csv, SENSORS).unwrap();
    shoots(&d, &["put", "sensor_data", csv.to_str().unwrap()]).ok();
    shoots(&d, &["put", "runs", csv.to_str().unwrap(), "--bucket", "lab"]).ok();
    d
}

/// `shoots sql` on a terminal, its history under the daemon's temp dir.
fn repl(d: &Daemon) -> PtySession {
    let mut cmd = Command::new(BIN);
    cmd.args(["sql", "--host", "127.0.0.1", "--port", &d.port.to_string()])
        .env("XDG_DATA_HOME", d.dir.path().join("data"))
        .env("SHOOTS_CONFIG", "/nonexistent/config.toml")
        .env("TERM", "xterm")
        .env_remove("SHOOTS_HOST")
        .env_remove("SHOOTS_PORT");
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn the REPL");
    p.exp_string("shoots> ").expect("first prompt");
    p
}

/// Sends a line once the REPL waits for one, checks what it prints, and
/// waits for the next prompt. (Keys typed while a command runs are dropped
/// by the terminal when the line editor takes it back, as in any shell.)
fn cmd(p: &mut PtySession, line: &str, expect: &[&str]) {
    p.send_line(line).unwrap();
    for e in expect {
        p.exp_string(e).unwrap_or_else(|err| panic!("{line}: {err}"));
    }
    p.exp_regex(r"shoots(:[\w.-]+)?> ").unwrap();
}

fn exits_zero(mut p: PtySession) {
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let status = p.process_mut().wait().unwrap();
    assert!(format!("{status:?}").ends_with(", 0)"), "Ctrl-D leaves with 0: {status:?}");
}

#[test]
fn a_statement_over_three_lines() {
    let d = setup();
    let mut p = repl(&d);
    p.send_line("select \"Sensor_1\"").unwrap();
    p.send_line("from sensor_data").unwrap();
    cmd(&mut p, "where \"Sensor_2\" < .2;", &[" 0.5 ", " 0.2 ", "2 rows", "time: "]);
    exits_zero(p);
}

#[test]
fn meta_commands() {
    let d = setup();
    let mut p = repl(&d);
    cmd(&mut p, "\\?", &["\\use BUCKET"]);
    cmd(&mut p, "\\d", &["sensor_data", "runs"]);
    cmd(&mut p, "\\d sensor_data", &["Sensor_2", "Float64", "3 rows"]);
    cmd(&mut p, "\\b", &["lab"]);
    p.send_line("\\use lab").unwrap();
    p.exp_string("shoots:lab> ").unwrap();
    cmd(&mut p, "select count(*) as n from runs;", &[" 3 ", "1 row"]);
    cmd(&mut p, "\\use", &[]);
    cmd(&mut p, "\\format csv", &[]);
    cmd(&mut p, "select status from sensor_data order by status;", &["status\r\nbad\r\nok\r\nok\r\n"]);
    cmd(&mut p, "\\timing", &["timing off"]);
    let out = d.dir.path().join("result.parquet");
    cmd(&mut p, &format!("\\o {}", out.display()), &["the next result goes to"]);
    cmd(&mut p, "select * from sensor_data;", &["wrote 3 rows to"]);
    assert!(out.exists(), "\\o wrote the file");
    cmd(&mut p, "select 1 as one;", &["one\r\n1\r\n"]);
    cmd(&mut p, "\\nonsense", &["shoots: error: unknown command \\nonsense"]);
    p.send_line("\\q").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn tab_completes_dataframes_and_columns() {
    let d = setup();
    let mut p = repl(&d);
    p.send("select stat").unwrap();
    p.send("\t").unwrap();
    p.send(" from sensor_d").unwrap();
    p.send("\t").unwrap();
    cmd(&mut p, " order by 1;", &["select status from sensor_data", " bad ", "3 rows"]);
    exits_zero(p);
}

#[test]
fn bad_queries_and_ctrl_c_keep_the_repl_going() {
    let d = setup();
    let mut p = repl(&d);
    cmd(&mut p, "select nope from sensor_data;", &["shoots: error: ", "nope"]);

    // Far more rows than the test could wait for.
    p.send_line("select count(*) from generate_series(1, 100000000000);").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_string("shoots> ").unwrap();
    cmd(&mut p, "select 41 + 1 as answer;", &[" 42 "]);

    // Ctrl-C at the prompt drops the line.
    p.send("select half a line").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("shoots> ").unwrap();
    cmd(&mut p, "select 7 as seven;", &[" 7 "]);
    exits_zero(p);
}

#[test]
fn history_carries_over() {
    let d = setup();
    let mut p = repl(&d);
    cmd(&mut p, "select 'remembered' as word;", &[" remembered "]);
    exits_zero(p);
    let history = std::fs::read_to_string(d.dir.path().join("data/shoots/history.txt")).unwrap();
    assert!(history.contains("select 'remembered' as word;"), "{history}");

    let mut p = repl(&d);
    p.send("\x1b[A").unwrap(); // up arrow
    cmd(&mut p, "", &[" remembered "]);
    exits_zero(p);
}

#[test]
fn a_piped_script_gives_the_same_rows_as_one_query_each() {
    let d = setup();
    let statements = [
        "select status, count(*) as n from sensor_data group by status order by status",
        "select \"Sensor_1\" from sensor_data where \"Sensor_2\" < .2",
        "select r.status from lab.runs r join sensor_data s on r.timestamp = s.timestamp order by 1",
    ];
    let script = statements.map(|s| format!("{s};\n")).concat();
    let piped = shoots(&d, &["sql"]).stdin(script).ok().stdout;
    let each: String = statements.iter().map(|s| shoots(&d, &["sql", s]).ok().stdout).collect();
    assert_eq!(piped, each);
    assert!(piped.starts_with("status,n\nbad,1\nok,2\n"), "{piped}");
}
