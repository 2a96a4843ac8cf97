use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use homeward_domain::ConflictSetup;

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A TOML file with the conflict's name, parties, mediator and handover
    /// points (see docs/examples/conflict.toml).
    #[arg(long, value_name = "FILE")]
    setup: Option<PathBuf>,
}

pub fn read_setup(path: &std::path::Path) -> anyhow::Result<ConflictSetup> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let setup: ConflictSetup =
        toml::from_str(&text).with_context(|| format!("{}: invalid conflict setup", path.display()))?;
    setup.validate().with_context(|| format!("{}: invalid conflict setup", path.display()))?;
    Ok(setup)
}

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let setup = args.setup.as_deref().map(read_setup).transpose()?;
    // Owner only (0700), whatever the backend: the keys are kept in it too.
    // Opening a SQLite store then refuses a folder others can read.
    backend::make_private_dir(&settings.data_dir)?;
    let store = backend::open(settings).await?;
    println!("database ready: {}", backend::describe(settings));
    println!(
        "field keys: {} (seals contact fields; back it up: without it they cannot be read)",
        backend::keyring_path(settings).display()
    );
    println!(
        "fingerprint key: {} (keys identity fingerprints; back it up with the field keys)",
        homeward_store::seal::fingerprint_path(&backend::keyring_path(settings)).display()
    );
    let signer = crate::commands::log::create_signer(store.as_ref(), settings).await?;
    println!(
        "log key: {} (public key: {})",
        homeward_service::log::keys::key_path(&settings.data_dir).display(),
        signer.verifier().to_key_string()
    );
    if let Some(setup) = setup {
        store.set_conflict(&setup).await?;
        println!("conflict set up: {} ({} parties and a mediator)", setup.name, setup.parties.len() - 1);
        crate::commands::log::publish(store.as_ref(), settings).await?;
    } else if store.conflict().await?.is_none() {
        println!("no conflict set up yet: run `homeward init --setup FILE` (see docs/examples/conflict.toml)");
    }
    Ok(ExitCode::SUCCESS)
}
