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
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            if dir == settings.data_dir {
                private_data_dir(dir)?;
            } else {
                // A `sqlite://` file elsewhere: its folder is the operator's;
                // the files are still made readable by their owner only.
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            private_sqlite_files(&path)?;
            let store = Arc::new(
                SqliteStore::open_with(&path, keys).await.with_context(|| format!("cannot open {}", path.display()))?,
            );
            Ok((store.clone(), store.clone(), store))
        }
    }
}

/// Makes the data folder if it is missing, readable by its owner only
/// (0700, whatever the umask), and refuses one that its group or others may
/// read or enter: the registry, the access log and the keys are in it. The
/// message gives the command that fixes it, as the keyring's does.
pub fn private_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    make_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .with_context(|| format!("cannot read the data folder {}", dir.display()))?
            .permissions()
            .mode()
            & 0o777;
        anyhow::ensure!(
            mode & 0o077 == 0,
            "the data folder {shown} can be read by other users (mode {mode:o}); it holds the registry, the \
             access log and the keys: run `chmod 700 {shown}`",
            shown = dir.display()
        );
    }
    Ok(())
}

/// Makes the data folder, owner only (0700), if it is missing; an existing
/// folder is left as it is.
pub fn make_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    // The mode given is filtered by the umask, which may make it stricter
    // than 0700 but never looser; set it exactly all the same.
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .with_context(|| format!("cannot make {} private", dir.display()))?;
    Ok(())
}

/// Creates the registry's SQLite file and its access-log file readable and
/// writable by their owner only (0600) before SQLite opens them, and makes
/// existing ones (and their `-wal` and `-shm` files) so. SQLite gives the
/// `-wal` and `-shm` files it creates the mode of their database file.
fn private_sqlite_files(main: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        for db in [main.to_path_buf(), homeward_store_sqlite::access_path_for(main)] {
            let mut sidecars = [db.clone(), db.clone(), db.clone()];
            sidecars[1].as_mut_os_string().push("-wal");
            sidecars[2].as_mut_os_string().push("-shm");
            // An empty file is a new database to SQLite.
            match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&db) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", db.display())),
            }
            for file in &sidecars {
                match std::fs::metadata(file) {
                    Ok(m) if m.permissions().mode() & 0o777 != 0o600 => {
                        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                            .with_context(|| format!("cannot make {} private", file.display()))?;
                    }
                    _ => {}
                }
            }
        }
    }
    let _ = main;
    Ok(())
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
