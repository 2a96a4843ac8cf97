use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use homeward_service::matching::LiveIndex;

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (default from settings: 127.0.0.1:8080).
    #[arg(long, env = "HOMEWARD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// homeward is reached over HTTPS (directly or behind a TLS proxy): mark
    /// the session cookie Secure and name it __Host-homeward.
    #[arg(long, env = "HOMEWARD_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

/// How often the sequencer integrates new entries and signs a checkpoint:
/// every accepted write is in a signed checkpoint within about this long.
const SEQUENCE_EVERY: Duration = Duration::from_millis(250);

/// Where uploaded CSV files wait for their import job, in the data folder.
pub const IMPORTS_DIR: &str = "imports";

pub async fn run(args: Args, settings: &Settings) -> anyhow::Result<ExitCode> {
    let (store, accounts, access) = backend::open_for_server(settings).await?;
    let addr = args.listen.unwrap_or(settings.listen);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    println!("homeward is serving {} at http://{local}/", backend::describe(settings));
    let auth = homeward_web::AuthSettings { secure_cookies: args.secure_cookies, ..Default::default() };
    serve(homeward_web::AppState::new(store, accounts, access, auth), settings, listener).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves HTTP and runs the log's sequencer until ctrl-c or SIGTERM.
pub async fn serve(
    state: homeward_web::AppState,
    settings: &Settings,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let signer = crate::commands::log::signer(settings)?;
    // The server answers at once; searches answer 503 and background
    // matching waits until the index is loaded (seconds for a million persons).
    let index = homeward_service::matching::LiveIndex::loading(state.store.clone());
    let publication = Arc::new(homeward_service::log::Publication::default());
    let state = state
        .with_log_key(signer.verifier())
        .with_index(index)
        .with_import_dir(settings.data_dir.join(IMPORTS_DIR))
        .with_publication(publication.clone())
        .with_hsts(settings.hsts);
    // Jobs a stopped server left running stored nothing: say so, drop their files.
    state.import_jobs.recover(state.store.as_ref()).await.context("cannot recover import jobs")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let witnesses = crate::commands::log::witnesses(settings)?;
    let loader = tokio::spawn(load_index(state.index.clone(), stopped.clone()));
    let follower = state.follow_registry(stopped.clone());
    let matcher = state.run_matcher(stopped.clone());
    let sequencer = tokio::spawn(homeward_service::log::run_sequencer_publishing(
        state.store.clone(),
        signer,
        witnesses,
        SEQUENCE_EVERY,
        stopped,
        Some(state.index.nudger()),
        publication,
    ));
    let shutdown = async move {
        homeward_web::shutdown_signal().await;
        let _ = stop.send(true);
    };
    homeward_web::serve(listener, state.clone(), shutdown).await?;
    // The reads answered last are in the access log before the server exits.
    state.registry.flush_access_log().await.context("cannot write the last reads to the access log")?;
    sequencer.await.context("the sequencer failed")?;
    loader.await.context("loading the registry index failed")?;
    follower.await.context("the registry index follower failed")?;
    matcher.await.context("background matching failed")?;
    Ok(())
}

/// How long to wait before loading the registry index again after a failure.
const RETRY_LOAD_AFTER: Duration = Duration::from_secs(5);

/// Loads the registry index, retrying on failure, until it is loaded or
/// `shutdown` changes.
async fn load_index(index: Arc<LiveIndex>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let started = std::time::Instant::now();
        tokio::select! {
            loaded = index.load() => match loaded {
                Ok(slots) => {
                    tracing::info!(records = slots, seconds = started.elapsed().as_secs_f64(), "registry index loaded");
                    return;
                }
                Err(e) => tracing::error!(error = %e, "cannot load the registry index; searches wait; retrying"),
            },
            _ = shutdown.changed() => return,
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_LOAD_AFTER) => {}
            _ = shutdown.changed() => return,
        }
    }
}
