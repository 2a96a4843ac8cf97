//! homeward's HTTP server.
//!
//! For now it answers the operational endpoints (liveness, readiness,
//! version) and one public page of counts: nothing in it can show a person.
//! Accounts, roles, the `/api/v1` registry and the web UI come with issue 5;
//! until then the registry is reached through the `homeward` command line.

mod log;
mod router;

use std::net::SocketAddr;
use std::sync::Arc;

use homeward_store::Store;

pub use router::router;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The log's verifier key, published for auditors and witnesses.
    pub log_key: Option<homeward_tlog::Verifier>,
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, backend = state.store.backend(), "serving");
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
