//! The harness every conformance test file shares: each case runs on its
//! own database, a temporary SQLite file (a real file, so WAL and locking
//! are real) and, when HOMEWARD_TEST_DATABASE_URL is set, a fresh
//! PostgreSQL schema dropped afterwards (with CI=true a missing URL fails).
//! A case's panic is re-raised after the cleanup.

use std::future::Future;
use std::sync::Arc;

use homeward_store_conformance::postgres_url;
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

/// Runs `case` on a fresh SQLite file.
pub async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Arc<SqliteStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("homeward.db")).await.unwrap());
    let outcome = tokio::spawn(case(store)).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs `case` in a fresh PostgreSQL schema, then drops it.
pub async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(Arc<PgStore>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = postgres_url() else {
        eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!("hw_test_{}", uuid::Uuid::now_v7().simple());
    let store = Arc::new(PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap());
    let outcome = tokio::spawn(case(store.clone())).await;
    store.pool().close().await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// One test per case and backend, in modules `sqlite` and `postgres`:
/// `on_both_backends!(PATH, |s| (ARGS); CASE, ...)` calls `PATH::CASE(ARGS)`
/// with `s` the store (an
/// `Arc` of the backend, which each argument coerces to the trait object
/// the case takes). Naming both backends' stores also makes the build fail
/// if either stops implementing a trait the cases use.
#[macro_export]
macro_rules! on_both_backends {
    ($($module:ident)::+, |$s:ident| $args:tt; $($case:ident),* $(,)?) => {
        mod sqlite {
            use $($module)::+ as cases;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::common::on_sqlite(|$s| cases::$case $args).await;
                }
            )*
        }
        mod postgres {
            use $($module)::+ as cases;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::common::on_postgres(|$s| cases::$case $args).await;
                }
            )*
        }
    };
}
