use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use homeward_store::{ImportRow, Page, PersonFilter, Store};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many persons to create.
    #[arg(long, default_value_t = 3000)]
    persons: usize,
    /// Seed for the generator: the same seed gives the same people.
    #[arg(long, default_value_t = 19_06_2026)]
    seed: u64,
    /// Address to listen on; if it is taken, a free port is used.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Load the data and exit without serving.
    #[arg(long)]
    no_serve: bool,
    /// Only write the demo persons as an import CSV to FILE (for benchmarks
    /// and trials); no database is touched.
    #[arg(long, value_name = "FILE")]
    write_csv: Option<std::path::PathBuf>,
}

/// Loads the demo conflict and its persons, each with a full status
/// history, in one import transaction.
pub async fn load(store: &dyn Store, persons: usize, seed: u64) -> anyhow::Result<u64> {
    store.set_conflict(&homeward_demo::demo_setup()).await.context("cannot set up the demo conflict")?;
    let mut import = store.begin_import().await?;
    let mut batch = Vec::with_capacity(2048);
    let mut line = 0u64;
    let mut rejected = Vec::new();
    for p in homeward_demo::demo_persons(seed, persons) {
        for (event, reported_by) in p.timeline {
            line += 1;
            batch
                .push(ImportRow::new(line, p.source.clone(), p.identity.clone(), Some(event)).reported_by(reported_by));
        }
        if batch.len() >= 2000 {
            rejected.extend(import.write_batch(std::mem::take(&mut batch)).await?);
        }
    }
    rejected.extend(import.write_batch(batch).await?);
    if let Some(r) = rejected.first() {
        import.finish(false).await?;
        anyhow::bail!(
            "demo data rejected ({} events), first: event {}: {}: {}",
            rejected.len(),
            r.line,
            r.field,
            r.reason
        );
    }
    Ok(import.finish(true).await?.created)
}

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.write_csv {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let out = std::io::BufWriter::with_capacity(1 << 20, file);
        let n = homeward_demo::write_csv(homeward_demo::demo_persons(args.seed, args.persons), out)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {n} persons to {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (store, accounts, access) = backend::open_for_server(settings).await?;
    crate::commands::log::create_signer(store.as_ref(), settings).await?;
    let existing = store.list_persons(&PersonFilter::default(), &Page::first(1)).await?;
    if existing.is_empty() {
        eprintln!("loading the demo conflict with {} persons into {} ...", args.persons, backend::describe(settings));
        let created = load(store.as_ref(), args.persons, args.seed).await?;
        crate::commands::log::publish(store.as_ref(), settings).await?;
        eprintln!("created {created} persons with their status histories");
    } else {
        eprintln!("{} already holds data: serving it as it is", backend::describe(settings));
    }
    let logins = super::users::demo_logins(accounts.as_ref(), &homeward_demo::demo_setup(), &settings.data_dir).await?;
    if existing.is_empty() {
        let filed = demo_requests(store.as_ref(), accounts.as_ref(), args.persons, args.seed).await?;
        crate::commands::log::publish(store.as_ref(), settings).await?;
        eprintln!("filed {filed} tracing requests for the demo family member");
    }
    let counts = store.status_counts().await?;
    let example = store
        .list_persons(
            &PersonFilter { status: Some(homeward_domain::Status::Repatriated), ..Default::default() },
            &Page::first(1),
        )
        .await?;
    if args.no_serve {
        print_logins(&logins);
        print_summary(None, &counts, example.first().map(|p| p.id.to_string()), settings);
        return Ok(ExitCode::SUCCESS);
    }
    let addr = args.listen.unwrap_or(settings.listen);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(_) => {
            let fallback = SocketAddr::new(addr.ip(), 0);
            eprintln!("{addr} is taken; using a free port");
            tokio::net::TcpListener::bind(fallback).await.with_context(|| format!("cannot listen on {fallback}"))?
        }
    };
    let local = listener.local_addr()?;
    print_logins(&logins);
    print_summary(Some(local), &counts, example.first().map(|p| p.id.to_string()), settings);
    let state = homeward_web::AppState::new(store, accounts, access, homeward_web::AuthSettings::default());
    crate::commands::serve::serve(state, settings, listener).await?;
    Ok(ExitCode::SUCCESS)
}

/// Two tracing requests of the demo family member: one for the first demo
/// person, written from memory in Latin with the birth year only (the
/// server's background matching proposes the record), and one for someone
/// the registry does not hold. Same content for the same seed.
async fn demo_requests(
    store: &dyn Store,
    accounts: &dyn homeward_store::AccountStore,
    persons: usize,
    seed: u64,
) -> anyhow::Result<usize> {
    use homeward_domain::{Desk, Role, SoughtPerson, TracingRequestId};
    use homeward_matching::{Scheme, transliterate};
    let Some(family) = accounts.list_users().await?.into_iter().find(|u| u.role == Role::Family) else {
        return Ok(0);
    };
    let mut sought = Vec::new();
    if let Some(p) = homeward_demo::demo_persons(seed, persons).next() {
        let i = &p.identity;
        sought.push(SoughtPerson {
            family_name: transliterate(&i.family_name, Scheme::Ukrainian2010),
            given_names: transliterate(&i.given_names, Scheme::Ukrainian2010),
            birth_date: i.birth_date.map(|d| d.year().to_string()),
            ..SoughtPerson::default()
        });
    }
    sought.push(SoughtPerson {
        family_name: "Мирошниченко".into(),
        given_names: "Степан".into(),
        birth_date: Some("1989".into()),
        ..SoughtPerson::default()
    });
    let n = sought.len();
    for s in sought {
        store
            .file_tracing_request(homeward_store::NewTracingRequest {
                id: TracingRequestId::new(),
                owner: family.id,
                enquirer_name: "Demo Enquirer".into(),
                relationship: "mother".into(),
                contact: "+000 00 000 0000".into(),
                sought: s,
                desk: Desk::Mediator,
                at: time::OffsetDateTime::now_utc(),
            })
            .await?;
    }
    Ok(n)
}

fn print_summary(
    addr: Option<SocketAddr>,
    counts: &[(homeward_domain::Status, u64)],
    example: Option<String>,
    settings: &Settings,
) {
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    println!();
    println!("homeward demo: {total} persons in {}", backend::describe(settings));
    for (s, n) in counts {
        println!("  {:<22}{n}", s.as_str());
    }
    if let Some(addr) = addr {
        println!();
        println!("Open  http://{addr}/               what the server offers");
        println!("      http://{addr}/api/v1/stats   persons per status (public: counts only)");
        println!("      http://{addr}/readyz         readiness");
        println!("      http://{addr}/login          log in with one of the logins above");
    }
    println!();
    println!("On the command line:");
    let dir = if settings.data_dir.as_os_str() == "data" {
        String::new()
    } else {
        format!(" --data-dir {}", settings.data_dir.display())
    };
    println!("  homeward person list --status repatriated{dir}");
    if let Some(id) = example {
        println!("  homeward person show {id}{dir}     (one of the June 19 exchange)");
    }
    println!("  homeward export persons --format csv{dir} > persons.csv");
    if addr.is_some() {
        println!();
        println!("Stop with Ctrl-C.");
    }
}

/// Demo passwords are random per data folder and kept in its demo-logins.txt.
fn print_logins(logins: &[super::users::DemoLogin]) {
    use homeward_auth::secrecy::ExposeSecret;
    println!();
    println!("Logins (demo accounts, one per role; passwords are random, kept in demo-logins.txt in the data folder):");
    for l in logins {
        let password = l.password.as_ref().map_or("(not on file)", |p| p.expose_secret());
        println!("  {:<14} {:<20} {password}", l.username, l.role);
    }
}
