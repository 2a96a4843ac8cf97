use std::process::ExitCode;

use clap::Subcommand;
use homeward_domain::{PartialDate, PartyCode, PersonId, RawIdentity, SourceRef, Status, StatusEvent};
use homeward_store::{NewPerson, Page, PersonFilter, PersonRecord};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register a person with their first status.
    #[command(
        after_help = "Examples:\n  homeward person add --source A --record-id A-17 --family-name Коваленко \\\n    \
                            --given-names Олександр --patronymic Петрович --birth-date 07.03.1998 \\\n    \
                            --power B --category military --status captured --status-date 2026-05-02"
    )]
    Add(Box<AddArgs>),
    /// Show a person: every source's version of the identity, and the status timeline.
    #[command(
        after_help = "Examples:\n  homeward person show 0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f\n  homeward person show ID --json"
    )]
    Show {
        /// The person's id (from `person list` or `person add`).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List persons, filtered, a page at a time.
    #[command(
        after_help = "Examples:\n  homeward person list\n  homeward person list --status held --power B --limit 100\n  \
                            homeward person list --after LAST_ID_OF_PREVIOUS_PAGE"
    )]
    List {
        #[arg(long)]
        status: Option<Status>,
        /// Only persons depending on this party.
        #[arg(long)]
        power: Option<PartyCode>,
        /// Only persons first registered by this party.
        #[arg(long)]
        source: Option<PartyCode>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Start after this person id (the last id of the previous page).
        #[arg(long)]
        after: Option<PersonId>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The reporting organisation's party code.
    #[arg(long)]
    source: PartyCode,
    /// The source's own id for this record (default: homeward makes one).
    #[arg(long)]
    record_id: Option<String>,
    #[arg(long)]
    family_name: String,
    #[arg(long)]
    given_names: String,
    #[arg(long)]
    patronymic: Option<String>,
    #[arg(long)]
    mother_maiden_name: Option<String>,
    /// YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY or MM.YYYY.
    #[arg(long)]
    birth_date: Option<String>,
    #[arg(long)]
    place_of_birth: Option<String>,
    #[arg(long)]
    rank: Option<String>,
    #[arg(long)]
    service_number: Option<String>,
    #[arg(long)]
    unit: Option<String>,
    /// The party on which the person depends.
    #[arg(long)]
    power: String,
    /// military or civilian.
    #[arg(long)]
    category: String,
    #[arg(long)]
    person_to_inform: Option<String>,
    #[arg(long)]
    correspondence_address: Option<String>,
    /// The first status: missing, captured, held, hospitalised or deceased.
    #[arg(long)]
    status: Status,
    #[arg(long)]
    status_date: Option<PartialDate>,
    #[arg(long)]
    status_place: Option<String>,
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    match command {
        Command::Add(a) => {
            let raw = RawIdentity {
                family_name: Some(a.family_name),
                given_names: Some(a.given_names),
                patronymic: a.patronymic,
                mother_maiden_name: a.mother_maiden_name,
                birth_date: a.birth_date,
                place_of_birth: a.place_of_birth,
                rank: a.rank,
                service_number: a.service_number,
                unit: a.unit,
                power: Some(a.power),
                category: Some(a.category),
                person_to_inform: a.person_to_inform,
                correspondence_address: a.correspondence_address,
            };
            let identity = match raw.parse() {
                Ok(i) => i,
                Err(errors) => {
                    for e in errors {
                        eprintln!("error: --{}: {}", e.field.replace('_', "-"), e.reason);
                    }
                    return Ok(ExitCode::from(2));
                }
            };
            let record_id = a.record_id.unwrap_or_else(|| PersonId::new().to_string());
            let source =
                SourceRef::parse(a.source, &record_id).map_err(|e| anyhow::anyhow!("--record-id: {}", e.reason))?;
            let first_status =
                StatusEvent { status: a.status, occurred_on: a.status_date, place: a.status_place, details: None };
            // The rules the API and the import apply: no date in the future, the free-text rule.
            let today = time::OffsetDateTime::now_utc().date();
            let mut errors = identity.check_dates(today).err().into_iter().collect::<Vec<_>>();
            errors.extend(first_status.check(today).err().into_iter().flatten().map(|mut e| {
                e.field = if e.field == "occurred_on" { "status_date".into() } else { format!("status_{}", e.field) };
                e
            }));
            if !errors.is_empty() {
                for e in errors {
                    eprintln!("error: --{}: {}", e.field.replace('_', "-"), e.reason);
                }
                return Ok(ExitCode::from(2));
            }
            let id = store.add_person(NewPerson { source, identity, first_status }).await?;
            crate::commands::log::publish(store.as_ref(), settings).await?;
            println!("{id}");
        }
        Command::Show { id, json } => {
            let id: PersonId = id.parse()?;
            let Some(p) = store.person(id).await? else {
                anyhow::bail!("no person with id {id}");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                print_person(&p);
            }
        }
        Command::List { status, power, source, limit, after, json } => {
            let filter = PersonFilter { status, power, source };
            let page = Page { after, limit: limit.clamp(1, Page::MAX_LIMIT) };
            let persons = store.list_persons(&filter, &page).await?;
            for p in &persons {
                if json {
                    println!("{}", serde_json::to_string(p)?);
                } else {
                    println!(
                        "{}  {:<20} {} {}  {}  power {}  {}:{}",
                        p.id,
                        p.status.as_str(),
                        p.family_name,
                        p.given_names,
                        p.birth_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                        p.power,
                        p.source.source,
                        p.source.record_id
                    );
                }
            }
            if !json
                && persons.len() as u32 == page.limit
                && let Some(last) = persons.last()
            {
                eprintln!("more: homeward person list --after {}", last.id);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_person(p: &PersonRecord) {
    println!("person {}", p.id);
    println!("status: {}", p.status);
    for v in &p.identities {
        let i = &v.identity;
        println!(
            "\nidentity from {} record {} (version {}, recorded {})",
            v.source.source, v.source.record_id, v.version, v.recorded_at
        );
        let o = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
        println!("  family name:            {}", i.family_name);
        println!("  given names:            {}", i.given_names);
        println!("  patronymic:             {}", o(&i.patronymic));
        println!("  mother's maiden name:   {}", o(&i.mother_maiden_name));
        println!("  date of birth:          {}", i.birth_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()));
        println!("  place of birth:         {}", o(&i.place_of_birth));
        println!("  rank:                   {}", o(&i.rank));
        println!("  service number:         {}", o(&i.service_number));
        println!("  unit:                   {}", o(&i.unit));
        println!("  power depended on:      {}", i.power);
        println!("  category:               {}", i.category.as_str());
        println!("  person to be informed:  {}", o(&i.person_to_inform));
        println!("  address:                {}", o(&i.correspondence_address));
    }
    println!("\ntimeline:");
    for e in &p.timeline {
        println!(
            "  {:>3}. {:<20} {:<10} {}  reported by {}{}",
            e.seq,
            e.event.status.as_str(),
            e.event.occurred_on.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            e.event.place.as_deref().unwrap_or(""),
            e.reported_by,
            e.event.details.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
        );
    }
}
