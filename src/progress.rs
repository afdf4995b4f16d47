//! Progress bars on stderr, only when stderr is a terminal (never in pipes
//! or cron) and not `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    fn enabled(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    /// Bytes of a file of known size, or a byte counter for stdin.
    pub fn bytes(total: Option<u64>, label: &str, quiet: bool) -> Progress {
        if !Self::enabled(quiet) {
            return Progress(None);
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .expect("template")
                    .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner()
                .with_style(ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}").expect("template")),
        };
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// A running row count.
    pub fn rows(label: &str, quiet: bool) -> Progress {
        if !Self::enabled(quiet) {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg} {pos} rows {per_sec}").expect("template"));
        bar.set_message(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(position);
        }
    }

    pub fn inc(&self, delta: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(delta);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
