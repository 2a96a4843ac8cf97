use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use homeward_service::export::{self, Format};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export every source record's latest identity with the person's status.
    /// The CSV has the import's columns, so it can be imported elsewhere.
    #[command(after_help = "Examples:\n  homeward export persons --format csv > persons.csv\n  \
                            homeward export persons --format json --out persons.json")]
    Persons {
        #[arg(long, value_enum, default_value = "csv")]
        format: FormatArg,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    match command {
        Command::Persons { format, out } => {
            let format = match format {
                FormatArg::Csv => Format::Csv,
                FormatArg::Json => Format::Json,
            };
            let sink: Box<dyn Write + Send> = match &out {
                Some(path) => {
                    Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?)
                }
                None => Box::new(std::io::stdout()),
            };
            let n = export::export_persons(store.as_ref(), format, sink).await?;
            if let Some(path) = out {
                eprintln!("exported {n} records to {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
