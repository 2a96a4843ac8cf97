//! Runs every conformance case against SQLite (always) and PostgreSQL (when
//! HOMEWARD_TEST_DATABASE_URL is set; with CI=true a missing URL fails).
//! Each test gets its own database: a temporary SQLite file (a real file, so
//! WAL and locking are real), or a fresh PostgreSQL schema dropped afterwards.

use std::sync::Arc;

use homeward_store_conformance as suite;
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

use homeward_store_conformance::postgres_url;

async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(suite::DynStore) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("homeward.db")).await.unwrap();
    let outcome = tokio::spawn(case(Arc::new(store))).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(suite::DynStore) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(url) = postgres_url() else {
        eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!("hw_test_{}", uuid::Uuid::now_v7().simple());
    let store = PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap();
    let outcome = tokio::spawn(case(Arc::new(store.clone()))).await;
    store.pool().close().await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::on_sqlite(homeward_store_conformance::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::on_postgres(homeward_store_conformance::$case).await;
                }
            )*
        }
    };
}

suite::for_each_case!(backend_tests);
