//! Runs every access-log case against SQLite (always) and PostgreSQL (when
//! HOMEWARD_TEST_DATABASE_URL is set; with CI=true a missing URL fails).

use std::sync::Arc;

use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

use homeward_store_conformance::postgres_url;

macro_rules! access_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = std::sync::Arc::new(
                        homeward_store_sqlite::SqliteStore::open(dir.path().join("homeward.db")).await.unwrap(),
                    );
                    homeward_store_conformance::access::$case(store.clone(), store.clone(), store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(url) = super::postgres_url() else {
                        eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set");
                        return;
                    };
                    let schema = format!("hw_test_{}", uuid::Uuid::now_v7().simple());
                    let store = std::sync::Arc::new(
                        homeward_store_postgres::PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap(),
                    );
                    let outcome = tokio::spawn(
                        homeward_store_conformance::access::$case(store.clone(), store.clone(), store.clone()),
                    )
                    .await;
                    store.pool().close().await;
                    homeward_store_postgres::PgStore::drop_schema(&url, &schema).await.unwrap();
                    if let Err(e) = outcome {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            )*
        }
    };
}

// Both backends are named here so that the build fails if either stops implementing the trait.
#[expect(dead_code, reason = "type checks only")]
fn both_implement(s: Arc<SqliteStore>, p: Arc<PgStore>) -> [Arc<dyn homeward_store::AccessLogStore>; 2] {
    [s, p]
}

homeward_store_conformance::for_each_access_case!(access_tests);
