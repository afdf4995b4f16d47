use std::process::ExitCode;

use clap::Parser;

// With glibc malloc the daemon's peak RSS crept with dataframe size
// (111/165/197 MB for 10M/40M/80M rows put and got); with mimalloc it stays
// flat (169/168/178 MB). See the README's notes on memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            ExitCode::from(e.exit_code())
        }
    }
}
