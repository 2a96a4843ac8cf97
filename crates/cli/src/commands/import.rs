use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use homeward_domain::PartyCode;
use homeward_service::import::{self, ImportOptions, Progress, columns};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import persons from a CSV file: all rows land or none do.
    #[command(
        long_about = "Import persons from a CSV file (UTF-8, comma-separated, first line a header).\n\n\
            Columns (see docs/IMPORT.md): record_id, family_name, given_names, patronymic, mother_maiden_name, \
            birth_date, place_of_birth, rank, service_number, unit, power, category, person_to_inform, \
            correspondence_address, status, status_date, status_place, source. Required: record_id, family_name, \
            given_names, power, category; a new record also needs a status.\n\n\
            English, Ukrainian and Russian headers are recognised (Прізвище, Фамилия, Surname, ...). Other headers \
            are mapped with --map. Every row is checked; if any row is bad, every bad row is reported with its line \
            and field and nothing is written. Importing the same file again changes nothing: rows are matched by \
            (source, record_id); a changed row adds a new version of the identity and keeps the old one.",
        after_help = "Examples:\n  homeward import persons captured-may.csv --source A\n  \
            homeward import persons field-list.csv --source B --map \"ПІБ=family_name\" --map \"Примітки=ignore\"\n  \
            homeward import persons list.csv --source A --dry-run --report rejected.csv"
    )]
    Persons {
        /// The CSV file.
        file: PathBuf,
        /// The reporting party's code, for rows without a `source` column.
        #[arg(long)]
        source: PartyCode,
        /// Map a header to a column: HEADER=column, or HEADER=ignore. Repeatable.
        #[arg(long = "map", value_name = "HEADER=COLUMN")]
        map: Vec<String>,
        /// Check every row, then write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write the rejected rows (line, field, reason) to this CSV file.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
}

/// A progress bar over the file's bytes; indicatif hides it when stderr is not a terminal.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total_bytes: u64) {
        self.0.set_length(total_bytes);
    }
    fn advance(&self, bytes_read: u64) {
        self.0.set_position(bytes_read);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let Command::Persons { file, source, map, dry_run, report } = command;
    let mapping = columns::parse_mapping(&map).map_err(anyhow::Error::msg)?;
    let store = backend::open(settings).await?;
    let mut options = ImportOptions::new(source);
    options.mapping = mapping;
    options.dry_run = dry_run;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} importing {bar:30} {bytes}/{total_bytes} ({eta})")
            .expect("valid template"),
    );
    let result = import::import_persons_csv(store.as_ref(), &file, &options, &Bar(bar)).await?;
    let name = file.display();
    for r in &result.rejections {
        eprintln!("{name}:{}: {}: {}", r.line, r.field, r.reason);
    }
    if let Some(f) = &result.fatal {
        eprintln!("{name}:{}: {}", f.line, f.reason);
    }
    if let Some(path) = &report {
        let mut w = csv::Writer::from_writer(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        w.write_record(["line", "field", "reason"])?;
        if let Some(f) = &result.fatal {
            w.write_record([f.line.to_string().as_str(), "(file)", &f.reason])?;
        }
        for r in &result.rejections {
            w.write_record([r.line.to_string().as_str(), &r.field, &r.reason])?;
        }
        w.flush()?;
    }
    if result.committed {
        crate::commands::log::publish(store.as_ref(), settings).await?;
    }
    let c = result.counts;
    let mut out = std::io::stdout().lock();
    if result.committed {
        writeln!(
            out,
            "{name}: imported {} rows: {} new persons, {} amended, {} unchanged, {} status events",
            result.rows, c.created, c.amended, c.unchanged, c.status_events
        )?;
        Ok(ExitCode::SUCCESS)
    } else if dry_run && result.rejections.is_empty() && result.fatal.is_none() {
        writeln!(
            out,
            "{name}: {} rows checked, all valid ({} would be new); nothing written (--dry-run)",
            result.rows, c.created
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        let rows = result.rejections.iter().map(|r| r.line).collect::<std::collections::BTreeSet<_>>().len();
        eprintln!(
            "{name}: nothing imported: {} of {} rows rejected{}; fix them and import the file again",
            rows,
            result.rows,
            if result.fatal.is_some() { ", and the file could not be read to the end" } else { "" }
        );
        Ok(ExitCode::FAILURE)
    }
}
