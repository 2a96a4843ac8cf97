use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use homeward_store::Store;

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (default from settings: 127.0.0.1:8080).
    #[arg(long, env = "HOMEWARD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// How often the sequencer integrates new entries and signs a checkpoint:
/// every accepted write is in a signed checkpoint within about this long.
const SEQUENCE_EVERY: Duration = Duration::from_millis(250);

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    let addr = args.listen.unwrap_or(settings.listen);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("homeward is serving {} at http://{local}/", backend::describe(settings));
    serve(store, settings, listener).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves HTTP and runs the log's sequencer until ctrl-c or SIGTERM.
pub async fn serve(
    store: Arc<dyn Store>,
    settings: &Settings,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let signer = crate::commands::log::signer(settings)?;
    let log_key = Some(signer.verifier());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let witnesses = crate::commands::log::witnesses(settings)?;
    let sequencer =
        tokio::spawn(homeward_service::log::run_sequencer(store.clone(), signer, witnesses, SEQUENCE_EVERY, stopped));
    let shutdown = async move {
        homeward_web::shutdown_signal().await;
        let _ = stop.send(true);
    };
    homeward_web::serve(listener, homeward_web::AppState { store, log_key }, shutdown).await?;
    sequencer.await.context("the sequencer failed")?;
    Ok(())
}
