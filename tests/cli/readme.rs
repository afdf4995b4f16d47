//! The README's command-line examples, replayed against a real daemon: each
//! `$ shoots ...` line runs, and what it prints (stdout, then stderr) must be
//! the lines below it.

use crate::support::{shoots, Daemon};

/// Fenced blocks as (info string, body).
fn blocks(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => out.push(current.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// Splits a command line as a POSIX shell would, for quotes only.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, started) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (_, c) => (word.push(c), started = true).1,
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {line}");
    if started {
        words.push(word);
    }
    words
}

#[test]
fn quoting() {
    assert_eq!(
        words(r#"get a --sql 'select "x" from a' -o b"#),
        ["get", "a", "--sql", r#"select "x" from a"#, "-o", "b"]
    );
    assert_eq!(words("ls ''"), ["ls", ""]);
}

#[test]
fn readme_examples_work_as_shown() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let d = Daemon::start();
    let work = d.dir.path();
    let mut ran = 0;
    for (info, body) in blocks(&readme) {
        let mut info = info.split_whitespace();
        match (info.next(), info.next()) {
            (Some(_), Some(file)) => std::fs::write(work.join(file), &body).unwrap(),
            (Some("console"), None) => {
                let mut lines = body.lines().peekable();
                while let Some(line) = lines.next() {
                    let command = line.strip_prefix("$ shoots ").unwrap_or_else(|| panic!("not a command: {line}"));
                    let mut expected = String::new();
                    while let Some(next) = lines.next_if(|l| !l.starts_with("$ ")) {
                        expected.push_str(next);
                        expected.push('\n');
                    }
                    let args = words(command);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let out = shoots(&d, &args).current_dir(work).output();
                    let printed = format!("{}{}", out.stdout, out.stderr);
                    assert_eq!(printed, expected, "README: $ shoots {command}");
                    let wanted = if expected.starts_with("shoots: error: ") { 1 } else { 0 };
                    assert_eq!(out.code, Some(wanted), "README: $ shoots {command}");
                    ran += 1;
                }
            }
            _ => {}
        }
    }
    assert!(ran >= 10, "the README's examples were found ({ran})");
}

#[test]
fn readme_lists_the_exit_codes_of_help() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shoots")).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    // Compared word by word: --help wraps lines to the terminal's width.
    let words = |text: &str| text.split_whitespace().map(String::from).collect::<Vec<_>>();
    let listed = words(&help[help.find("Exit codes:").expect("--help lists the exit codes")..]);
    assert!(listed.ends_with(&words("3 cannot reach the server")), "{help}");
    let in_readme = blocks(&readme).iter().any(|(info, body)| info == "text" && words(body) == listed);
    assert!(in_readme, "the README's exit codes differ from --help:\n{help}");
}
