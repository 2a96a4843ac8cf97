//! Cases that take two handles on one database, as two processes would
//! have: two `SqliteStore`s on one file, two `PgStore` pools on one schema.

use std::sync::Arc;

use homeward_store_conformance::postgres_url;
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_see_writes_of_this_handle_at_once_and_of_another_soon_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("homeward.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let other = Arc::new(SqliteStore::open(&path).await.unwrap());
    homeward_store_conformance::status_reads_see_writes_of_this_handle_at_once_and_of_another_soon(store, other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_see_writes_of_this_handle_at_once_and_of_another_soon_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!("hw_test_{}", uuid::Uuid::now_v7().simple());
    let store = Arc::new(PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap());
    let other = Arc::new(PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap());
    let outcome =
        tokio::spawn(homeward_store_conformance::status_reads_see_writes_of_this_handle_at_once_and_of_another_soon(
            store.clone(),
            other.clone(),
        ))
        .await;
    store.pool().close().await;
    other.pool().close().await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
