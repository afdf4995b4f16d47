use std::process::ExitCode;

use clap::Parser;

// jemalloc hands freed memory back to the system: with glibc malloc the
// daemon's peak RSS crept with dataframe size, with mimalloc a 5M-row put
// left 235 MB resident for good. Freed pages go back after a second (a
// background thread does it, so an idle daemon shrinks too); the retained
// virtual ranges are dropped at once instead of lingering as "muzzy". One
// arena: with jemalloc's default (four per core, threads spread over them
// in turn, and object_store's file I/O on ever new blocking threads) the
// long-lived cache entries ended up scattered over partly used pages of
// every arena, and under steady ingest the resident heap kept growing over
// the live one (bench/README.md, "one arena").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// jemalloc reads its options from this symbol before `main`; the name is
// jemalloc's, lower case and all.
#[cfg(not(target_env = "msvc"))]
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 70] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:1\0";

fn main() -> ExitCode {
    let cli = shoots::cli::Cli::parse();
    if !matches!(cli.command, shoots::cli::Command::Serve(_)) {
        // `shoots get x | head` should end quietly, as other Unix tools do,
        // not panic on a closed pipe. The daemon keeps ignoring SIGPIPE.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, so that cron mail and `2>>log` stay greppable.
            eprintln!("{}", e.line());
            ExitCode::from(e.exit().code())
        }
    }
}
