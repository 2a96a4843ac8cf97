use std::process::ExitCode;

use clap::Subcommand;
use homeward_domain::{PartialDate, PartyCode, PersonId, Status, StatusEvent};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Append a status event; refused with the reason if the lifecycle does not allow it.
    #[command(
        after_help = "Examples:\n  homeward status add PERSON_ID held --reported-by A --place \"Camp 3\" --date 2026-05-10\n  \
                            homeward status add PERSON_ID deceased --reported-by A --date 2026-06 --details \"cause as reported\""
    )]
    Add {
        /// The person's id.
        person: PersonId,
        /// The new status.
        status: Status,
        /// The party reporting it.
        #[arg(long)]
        reported_by: PartyCode,
        /// When it happened (YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY).
        #[arg(long)]
        date: Option<PartialDate>,
        /// Camp, hospital, handover point, place of death.
        #[arg(long)]
        place: Option<String>,
        /// Circumstances; the cause of death.
        #[arg(long)]
        details: Option<String>,
    },
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    match command {
        Command::Add { person, status, reported_by, date, place, details } => {
            let event = StatusEvent { status, occurred_on: date, place, details };
            // The rules the API and the import apply: no date in the future, the free-text rule.
            if let Err(errors) = event.check(time::OffsetDateTime::now_utc().date()) {
                for e in errors {
                    let flag = if e.field == "occurred_on" { "date" } else { e.field.as_str() };
                    eprintln!("error: --{flag}: {}", e.reason);
                }
                return Ok(ExitCode::from(2));
            }
            let rec = store.add_status_event(person, event, &reported_by).await?;
            crate::commands::log::publish(store.as_ref(), settings).await?;
            println!("status {} recorded as event {} of person {person}", rec.event.status, rec.seq);
        }
    }
    Ok(ExitCode::SUCCESS)
}
