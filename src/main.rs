use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shoots::cli::Cli::parse();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.hint() {
                Some(hint) => eprintln!("shoots: error: {e} (hint: {hint})"),
                None => eprintln!("shoots: error: {e}"),
            }
            ExitCode::from(e.exit_code())
        }
    }
}
