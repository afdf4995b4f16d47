//! `shoots completions SHELL` prints a completion script; the hidden
//! `shoots generate-files DIR` writes `completions/` and `man/`, which a
//! test keeps in step with the clap definitions.

use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;

use crate::error::{CliError, Result};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

impl CompletionsArgs {
    /// `cli` is the whole command line, which this command describes.
    pub fn run(self, mut cli: clap::Command) -> Result<()> {
        clap_complete::generate(self.shell, &mut cli, "shoots", &mut std::io::stdout());
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct GenerateFilesArgs {
    /// Directory to write completions/ and man/ into
    pub dir: PathBuf,
}

const SHELLS: [Shell; 5] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Elvish, Shell::PowerShell];

fn write_err(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("cannot write {}: {e}", path.display()))
}

impl GenerateFilesArgs {
    pub fn run(self, mut cli: clap::Command) -> Result<()> {
        // Completion generation builds `cli` in place; the man pages want it as declared.
        let declared = cli.clone();
        let completions = self.dir.join("completions");
        std::fs::create_dir_all(&completions).map_err(|e| write_err(&completions, e))?;
        for shell in SHELLS {
            clap_complete::generate_to(shell, &mut cli, "shoots", &completions)
                .map_err(|e| write_err(&completions, e))?;
        }
        let man = self.dir.join("man");
        std::fs::create_dir_all(&man).map_err(|e| write_err(&man, e))?;
        clap_mangen::generate_to(declared, &man).map_err(|e| write_err(&man, e))?;
        Ok(())
    }
}
