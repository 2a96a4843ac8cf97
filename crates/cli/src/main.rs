//! The `homeward` command: the server and every operation on the command
//! line. This is the only crate that names storage backends (see `backend`).

mod backend;
mod commands;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "homeward",
    version,
    about = "The registry of captured and missing persons, prisoner exchanges and family news",
    long_about = "homeward keeps the registry of captured and missing persons with every status change, \
                  for the parties' information bureaus, a neutral mediator and families.",
    after_help = "Examples:\n  homeward demo                      # demo data, then serve it\n  \
                  homeward init --setup conflict.toml\n  \
                  homeward import persons list.csv --source A\n  \
                  homeward person list --status held\n\n\
                  Data lives in ./data (homeward.db) unless --data-dir or --database-url says otherwise."
)]
struct Cli {
    /// Settings file (default: homeward.toml in the working directory, if present).
    #[arg(long, global = true, env = "HOMEWARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where homeward keeps its files (default: ./data).
    #[arg(long, global = true, env = "HOMEWARD_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the SQLite file in the data folder.
    #[arg(long, global = true, env = "HOMEWARD_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Log filter, e.g. info, debug (logs go to stderr and never hold personal data).
    #[arg(long, global = true, env = "HOMEWARD_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// Send Strict-Transport-Security with every answer (homeward is reached over HTTPS).
    #[arg(long, global = true, env = "HOMEWARD_HSTS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    hsts: Option<bool>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data folder and the database, and set up the conflict.
    #[command(after_help = "Examples:\n  homeward init\n  homeward init --setup docs/examples/conflict.toml")]
    Init(commands::init::Args),
    /// Run the HTTP server.
    #[command(after_help = "Examples:\n  homeward serve\n  homeward serve --listen 0.0.0.0:8080\n  \
                            homeward serve --secure-cookies    # behind an HTTPS proxy\n  \
                            HOMEWARD_DATABASE_URL=postgres://homeward@db/homeward homeward serve")]
    Serve(commands::serve::Args),
    /// Apply pending database migrations (serve and every command also do).
    #[command(
        after_help = "Examples:\n  homeward migrate\n  homeward migrate --database-url postgres://homeward@db/homeward"
    )]
    Migrate,
    /// Register, show and list persons.
    #[command(subcommand)]
    Person(commands::person::Command),
    /// Record status events.
    #[command(subcommand)]
    Status(commands::status::Command),
    /// Import records from files.
    #[command(subcommand)]
    Import(commands::import::Command),
    /// Export records.
    #[command(subcommand)]
    Export(commands::export::Command),
    /// The shared tamper-evident log: verify, keys, checkpoints, reveal bundles.
    #[command(subcommand)]
    Log(commands::log::Command),
    /// The field keys that encrypt contact and health fields at rest: status, rotate.
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Run a witness of the shared log, or make its key.
    #[command(subcommand)]
    Witness(commands::witness::Command),
    /// Load a demo conflict with a few thousand persons, then serve it.
    #[command(after_help = "Examples:\n  homeward demo\n  homeward demo --persons 10000 --listen 127.0.0.1:9000\n  \
                            homeward demo --no-serve --data-dir /tmp/hw-demo")]
    Demo(commands::demo::Args),
    /// Settings helpers.
    #[command(subcommand)]
    Config(commands::config::Command),
    /// User accounts and API tokens.
    #[command(subcommand)]
    User(commands::users::Command),
    /// Link requests against a registry list (CSV to CSV, no database): candidate pairs with why.
    #[command(after_help = "Examples:\n  homeward match requests.csv registry.csv --out pairs.csv\n  \
                            homeward match requests.csv registry.csv --threshold 0.9 > pairs.csv")]
    Match(commands::link::Args),
    /// Reconcile two lists (CSV, no database): matched pairs, unmatched on each side, conflicting fields.
    #[command(after_help = "Examples:\n  homeward reconcile list-a.csv list-b.csv\n  \
                            homeward reconcile list-a.csv list-b.csv --out reconciled/")]
    Reconcile(commands::reconcile::Args),
    /// Search the stored registry by description, and find likely duplicates in it.
    #[command(subcommand)]
    Registry(commands::registry::Command),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match resolve_settings(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn resolve_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = Settings::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        s.data_dir = d.clone();
    }
    if let Some(u) = &cli.database_url {
        s.database_url = Some(u.clone()).filter(|u| !u.is_empty());
    }
    if let Some(l) = &cli.log {
        s.log = l.clone();
    }
    if let Some(h) = cli.hsts {
        s.hsts = h;
    }
    Ok(s)
}

fn init_logging(filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Init(args) => commands::init::run(args, &settings).await,
        Command::Serve(args) => commands::serve::run(args, &settings).await,
        Command::Migrate => commands::migrate(&settings).await,
        Command::Person(c) => commands::person::run(c, &settings).await,
        Command::Status(c) => commands::status::run(c, &settings).await,
        Command::Import(c) => commands::import::run(c, &settings).await,
        Command::Export(c) => commands::export::run(c, &settings).await,
        Command::Demo(args) => commands::demo::run(args, &settings).await,
        Command::Log(c) => commands::log::run(c, &settings).await,
        Command::Keys(c) => commands::keys::run(c, &settings).await,
        Command::Witness(c) => commands::witness::run(c).await,
        Command::Config(c) => commands::config::run(c),
        Command::User(c) => commands::users::run(c, &settings).await,
        Command::Match(args) => commands::link::run(&args),
        Command::Reconcile(args) => commands::reconcile::run(&args),
        Command::Registry(c) => commands::registry::run(c, &settings).await,
    }
}
