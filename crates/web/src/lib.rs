//! homeward's HTTP server.
//!
//! The key decision: authorisation lives in the types. Every handler that
//! needs a caller takes a role extractor ([`auth::roles`]) as an argument;
//! the extractor resolves the session cookie or API token once and answers
//! 404 to a role that may not use the route. Every state-changing request
//! passes the CSRF layer ([`csrf`]); every error is a problem-details body
//! ([`error::AppError`]).
//!
//! Person data is reached only through the capability extractors
//! ([`auth::capabilities`]), which ask `homeward_service::registry` for the
//! caller's right: the roles table of DESIGN.md is written there, once.

pub mod api;
pub mod auth;
pub mod csrf;
pub mod error;
mod log;
pub mod pages;
pub mod ratelimit;
mod router;
pub mod ui;
pub mod v1;

use std::net::SocketAddr;
use std::sync::Arc;

use homeward_service::registry::Registry;
use homeward_store::{AccessLogStore, AccountStore, Store};

pub use auth::AuthSettings;
pub use router::router;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The log's verifier key, published for auditors and witnesses.
    pub log_key: Option<homeward_tlog::Verifier>,
    pub accounts: Arc<dyn AccountStore>,
    /// Where every read of a person's record is written.
    pub access: Arc<dyn AccessLogStore>,
    /// The registry's use cases with authorisation and access logging.
    pub registry: Registry,
    pub auth: Arc<AuthSettings>,
    /// Tokens and sessions resolved in the last second ([`auth::cache`]).
    pub credentials: Arc<auth::cache::CredentialCache>,
    /// Login attempts of any outcome, per address.
    pub login_attempts: Arc<ratelimit::RateLimiter<String>>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        accounts: Arc<dyn AccountStore>,
        access: Arc<dyn AccessLogStore>,
        auth: AuthSettings,
    ) -> Self {
        let login_attempts =
            ratelimit::RateLimiter::new(auth.login_attempts_per_minute, std::time::Duration::from_secs(60));
        // The dummy hash for unknown users is made now, not on the first login.
        homeward_auth::warm_up();
        let registry = Registry::new(store.clone(), access.clone());
        let credentials = Arc::new(auth::cache::CredentialCache::new(auth.credential_ttl));
        Self {
            credentials,
            store,
            accounts,
            access,
            registry,
            auth: Arc::new(auth),
            login_attempts: Arc::new(login_attempts),
            log_key: None,
        }
    }

    /// Publishes the log's verifier key at `/api/v1/log/public-key`.
    pub fn with_log_key(mut self, key: homeward_tlog::Verifier) -> Self {
        self.log_key = Some(key);
        self
    }
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, backend = state.store.backend(), "serving");
    // Connection info gives handlers the peer address, for per-address limits.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
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
