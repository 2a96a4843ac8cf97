use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a commented homeward.toml with every setting and its default.
    #[command(after_help = "Examples:\n  homeward config example > homeward.toml")]
    Example,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Example => print!("{}", crate::settings::EXAMPLE),
    }
    Ok(ExitCode::SUCCESS)
}
