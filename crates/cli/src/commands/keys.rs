//! `homeward keys`: the field keys that seal contact and health fields at rest.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use homeward_store::{Keyring, SealUsage};

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the keyring's key ids and how many stored values each seals.
    #[command(after_help = "Examples:\n  homeward keys status")]
    Status,
    /// Add a new key and re-encrypt every sealed contact and health value with it.
    /// The shared log is untouched (it commits to the plaintext), so
    /// `homeward log verify` still passes. A running server need not stop:
    /// it reads the keyring file again when it meets a key id it does not
    /// know, and seals with the new key once it sees the file changed.
    #[command(after_help = "Examples:\n  homeward keys rotate\n  homeward keys rotate --retire-unused")]
    Rotate {
        /// Rows re-encrypted per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Afterwards, remove from the keyring the old keys that seal nothing.
        #[arg(long)]
        retire_unused: bool,
    },
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let path = backend::keyring_path(settings);
    let mut keys = Keyring::load(&path)?
        .with_context(|| format!("no field keyring at {}: run `homeward init` first", path.display()))?;
    match command {
        Command::Status => {
            let (store, _, _) = backend::open_with_keys(settings, keys.clone()).await?;
            print_usage(&keys, &store.seal_usage().await?);
        }
        Command::Rotate { batch, retire_unused } => {
            // The new key is on disk before anything is sealed with it.
            let new = keys.add_key();
            keys.save(&path)?;
            println!("added key {new} to {}", path.display());
            let (store, _, _) = backend::open_with_keys(settings, keys.clone()).await?;
            let resealed = store.reseal_contacts(batch).await?;
            println!("re-encrypted {resealed} values with key {new}");
            let usage = store.seal_usage().await?;
            if retire_unused {
                let unused: Vec<u32> =
                    keys.key_ids().into_iter().filter(|id| *id != new && !usage.by_key.contains_key(id)).collect();
                for id in &unused {
                    keys.remove_key(*id);
                }
                keys.save(&path)?;
                println!("retired keys that seal nothing: {unused:?}");
            }
            print_usage(&keys, &usage);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_usage(keys: &Keyring, usage: &SealUsage) {
    println!("key  values");
    for id in keys.key_ids() {
        let current = if id == keys.current_id() { "  (current)" } else { "" };
        println!("{id:>3}  {}{current}", usage.by_key.get(&id).copied().unwrap_or(0));
    }
    for (id, n) in usage.by_key.iter().filter(|(id, _)| !keys.key_ids().contains(id)) {
        println!("{id:>3}  {n}  (not in the keyring: these values cannot be read)");
    }
    if usage.unsealed > 0 {
        println!("unsealed values: {} (run `homeward keys rotate` to seal them)", usage.unsealed);
    }
    if usage.malformed > 0 {
        println!("malformed sealed values: {}", usage.malformed);
    }
}
