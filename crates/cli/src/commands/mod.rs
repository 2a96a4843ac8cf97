//! One module per command; each parses its arguments, calls the service or
//! the store once, and prints.

pub mod config;
pub mod demo;
pub mod export;
pub mod import;
pub mod init;
pub mod keys;
pub mod link;
pub mod log;
pub mod person;
pub mod reconcile;
pub mod registry;
pub mod serve;
pub mod status;
pub mod users;
pub mod witness;

use std::process::ExitCode;

use crate::backend;
use crate::settings::Settings;

pub async fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Opening applies pending migrations on both backends.
    let store = backend::open(settings).await?;
    store.ping().await?;
    println!("migrations applied: {} is up to date", backend::describe(settings));
    Ok(ExitCode::SUCCESS)
}
