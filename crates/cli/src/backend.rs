//! The one place that picks a storage backend: PostgreSQL for a
//! `postgres://` URL, otherwise the SQLite file in the data folder.

use std::sync::Arc;

use anyhow::Context;
use homeward_store::seal::KEYRING_FILE;
use homeward_store::{AccessLogStore, AccountStore, Keyring, Store};
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

use crate::settings::Settings;

pub enum Target<'a> {
    Postgres(&'a str),
    Sqlite(std::path::PathBuf),
}

pub fn target(settings: &Settings) -> anyhow::Result<Target<'_>> {
    match settings.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(Target::Postgres(url)),
        Some(url) if url.starts_with("sqlite://") => Ok(Target::Sqlite(url.trim_start_matches("sqlite://").into())),
        Some(_) => anyhow::bail!("database_url must start with postgres://, postgresql:// or sqlite://"),
        None => Ok(Target::Sqlite(settings.sqlite_path())),
    }
}

/// The field keyring's file: `field-keys` in the data folder.
pub fn keyring_path(settings: &Settings) -> std::path::PathBuf {
    settings.data_dir.join(KEYRING_FILE)
}

/// Opens the store and applies pending migrations. Creates the data folder
/// and the SQLite file when they do not exist yet.
pub async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    Ok(open_with_accounts(settings).await?.0)
}

/// Opens the store as both the registry and the account store: one pool or
/// one SQLite writer serves both.
pub async fn open_with_accounts(settings: &Settings) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn AccountStore>)> {
    let (store, accounts, _) = open_for_server(settings).await?;
    Ok((store, accounts))
}

/// The three faces of one database the server needs: the registry, the
/// accounts and the access log, on one pool or one SQLite writer.
pub async fn open_for_server(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn AccountStore>, Arc<dyn AccessLogStore>)> {
    let fingerprint_key = homeward_store::seal::fingerprint_path(&keyring_path(settings));
    let had_fingerprint_key = fingerprint_key.exists();
    let opened = open_keyring(settings).await?;
    if !had_fingerprint_key {
        // Made just now: refuse it if the database holds fingerprints keyed
        // under a lost one (every unchanged row would look changed).
        let usage = opened.0.seal_usage().await?;
        if usage.keyed_fingerprints > 0 {
            let _ = std::fs::remove_file(&fingerprint_key);
            anyhow::bail!(
                "the fingerprint key {} is missing, and the database holds {} keyed identity fingerprints: \
                 restore the file from your backup",
                fingerprint_key.display(),
                usage.keyed_fingerprints
            );
        }
    }
    // Rows written before migration 0006 hold unkeyed fingerprints: key them
    // now that the key is at hand (indexed; nothing to do on later opens).
    let rekeyed = opened.0.rekey_fingerprints(1000).await?;
    if rekeyed > 0 {
        tracing::info!(rows = rekeyed, "re-keyed unkeyed identity fingerprints");
    }
    Ok(opened)
}

/// Loads (or on first use creates) the field keyring, then opens the store.
async fn open_keyring(
    settings: &Settings,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn AccountStore>, Arc<dyn AccessLogStore>)> {
    let path = keyring_path(settings);
    match Keyring::load(&path)? {
        Some(keys) => open_with_keys(settings, keys).await,
        None => {
            // First use (or `init`): a new keyring, unless the database
            // already holds sealed values, which only the lost file opens.
            let keys = Keyring::generate();
            let opened = open_with_keys(settings, keys.clone()).await?;
            let usage = opened.0.seal_usage().await?;
            if !usage.by_key.is_empty() {
                anyhow::bail!(
                    "the field keyring {} is missing, and the database holds {} sealed contact values: \
                     restore the file from your backup",
                    path.display(),
                    usage.by_key.values().sum::<u64>()
                );
            }
            let kept = keys.clone().save_new(&path)?;
            if kept != keys {
                // Another process made the keyring first: use that one.
                return open_with_keys(settings, kept).await;
            }
            tracing::info!(path = %path.display(), "created the field keyring");
            Ok(opened)
        }
    }
}

/// Opens the store with a given field keyring.
pub async fn open_with_keys(
    settings: &Settings,
    keys: Keyring,
) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn AccountStore>, Arc<dyn AccessLogStore>)> {
    match target(settings)? {
        Target::Postgres(url) => {
            let store =
                Arc::new(PgStore::connect_with(url, keys).await.context("cannot open the PostgreSQL database")?);
            Ok((store.clone(), store.clone(), store))
        }
        Target::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
            }
            let store = Arc::new(
                SqliteStore::open_with(&path, keys).await.with_context(|| format!("cannot open {}", path.display()))?,
            );
            Ok((store.clone(), store.clone(), store))
        }
    }
}

/// A description of where the data is, for messages (never the password).
pub fn describe(settings: &Settings) -> String {
    match target(settings) {
        Ok(Target::Sqlite(path)) => format!("SQLite file {}", path.display()),
        Ok(Target::Postgres(url)) => {
            let host = url.split('@').next_back().unwrap_or("");
            format!("PostgreSQL at {host}")
        }
        Err(_) => "an invalid database_url".into(),
    }
}
