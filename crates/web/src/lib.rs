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
pub mod jobs;
mod log;
pub mod pages;
pub mod ratelimit;
mod router;
pub mod ui;
pub mod v1;

use std::net::SocketAddr;
use std::sync::Arc;

use homeward_service::matching::LiveIndex;
use homeward_service::registry::Registry;
use homeward_store::{AccessLogStore, AccountStore, Store};

pub use auth::AuthSettings;
pub use router::router;

/// What every handler can reach: one shared [`Shared`], whose fields it
/// dereferences to. axum clones the state for every request (and again
/// for each `State` extractor), so a clone is one reference count, not one
/// per field.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Debug, Clone)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// The log's verifier key, published for auditors and witnesses.
    pub log_key: Option<homeward_tlog::Verifier>,
    pub accounts: Arc<dyn AccountStore>,
    /// Where every read of a person's record is written.
    pub access: Arc<dyn AccessLogStore>,
    /// The registry's use cases with authorisation and access logging.
    pub registry: Registry,
    pub auth: Arc<AuthSettings>,
    /// The matcher's index over the registry, kept up to date by
    /// [`AppState::follow_registry`].
    pub index: Arc<LiveIndex>,
    /// Tokens and sessions resolved in the last second ([`auth::cache`]).
    pub credentials: Arc<auth::cache::CredentialCache>,
    /// Login attempts of any outcome, per address.
    pub login_attempts: Arc<ratelimit::RateLimiter<String>>,
    /// CSV imports running in the background, and where uploads are spooled.
    pub import_jobs: Arc<jobs::ImportJobs>,
    /// Family-facing searches, keyed `account:ID` and `address:IP`.
    pub family_searches: Arc<ratelimit::RateLimiter<String>>,
    /// Wakes background matching (a request was filed).
    pub matcher_nudge: Arc<tokio::sync::Notify>,
    /// Tracing requests with authorisation.
    pub requests: homeward_service::requests::Requests,
    /// Whether the log's checkpoints are being published (the sequencer
    /// tells it): readiness fails and the mediator's page says why when not.
    pub publication: Arc<homeward_service::log::Publication>,
    /// Send `Strict-Transport-Security` with every answer (the deployment is
    /// reached over HTTPS only).
    pub hsts: bool,
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
        let family_searches =
            ratelimit::RateLimiter::new(auth.family_searches_per_hour, std::time::Duration::from_secs(3600));
        let requests = homeward_service::requests::Requests::new(store.clone());
        // Empty, from leaf 0: following the log indexes the whole registry.
        // A server loads it from the export instead ([`AppState::with_index`]).
        let index = LiveIndex::empty(store.clone());
        let credentials = Arc::new(auth::cache::CredentialCache::new(auth.credential_ttl));
        Self(Arc::new(Shared {
            index,
            credentials,
            store,
            accounts,
            access,
            registry,
            auth: Arc::new(auth),
            login_attempts: Arc::new(login_attempts),
            family_searches: Arc::new(family_searches),
            requests,
            matcher_nudge: Arc::new(tokio::sync::Notify::new()),
            log_key: None,
            publication: Arc::default(),
            hsts: false,
            import_jobs: Arc::new(jobs::ImportJobs::new(std::env::temp_dir().join("homeward-imports"))),
        }))
    }

    /// The fields, to change while the state is being built (cloned first
    /// if the state was already shared).
    fn fields(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    /// Reads the log's publication state from `publication` (the one the
    /// sequencer updates).
    pub fn with_publication(mut self, publication: Arc<homeward_service::log::Publication>) -> Self {
        self.fields().publication = publication;
        self
    }

    /// Spools uploads in `dir` (the server uses `imports/` in the data folder).
    pub fn with_import_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.fields().import_jobs = Arc::new(jobs::ImportJobs::new(dir));
        self
    }

    /// Uses this index: one built already (`LiveIndex::build`, faster than
    /// following the whole log) or one still loading (`LiveIndex::loading`:
    /// searches answer 503 until it is loaded).
    pub fn with_index(mut self, index: Arc<LiveIndex>) -> Self {
        self.fields().index = index;
        self
    }

    /// Keeps the registry index up to date until `shutdown` changes: every
    /// second, and at once when the index is nudged.
    pub fn follow_registry(&self, shutdown: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.index.clone().follow(homeward_service::matching::FOLLOW_EVERY, shutdown))
    }

    /// Runs background matching (tracing requests against the registry)
    /// until `shutdown` changes: every second, and at once after a filing.
    pub fn run_matcher(&self, shutdown: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let matcher = homeward_service::requests::matcher::Matcher::new(self.store.clone(), self.index.clone());
        tokio::spawn(matcher.run(std::time::Duration::from_secs(1), self.matcher_nudge.clone(), shutdown))
    }

    /// Sends `Strict-Transport-Security: max-age=31536000` with every answer.
    /// Only for a deployment reached over HTTPS: browsers ignore it over
    /// plain HTTP, and once they have it they refuse HTTP for a year.
    pub fn with_hsts(mut self, on: bool) -> Self {
        self.fields().hsts = on;
        self
    }

    /// Publishes the log's verifier key at `/api/v1/log/public-key`.
    pub fn with_log_key(mut self, key: homeward_tlog::Verifier) -> Self {
        self.fields().log_key = Some(key);
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
