//! Runs the sealing case against SQLite (always) and PostgreSQL (when
//! HOMEWARD_TEST_DATABASE_URL is set; with CI=true a missing URL fails), with
//! raw SQL on each database: rusqlite on the SQLite file, sqlx in the test's
//! PostgreSQL schema.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use homeward_store::Keyring;
use homeward_store_conformance::DynStore;
use homeward_store_conformance::seal::{
    RawDb, contact_fields_are_sealed_at_rest_and_rotate, fingerprints_are_keyed_and_old_ones_still_match,
    health_details_are_sealed_at_rest_and_rotate,
};
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;
use sqlx::Row;

type Contacts = Vec<(String, Option<String>, Option<String>)>;
type Fingerprints = Vec<(String, i64, Vec<u8>, i64)>;

const FINGERPRINTS: &str =
    "SELECT record_id, version, fingerprint, fingerprint_scheme FROM identity_version ORDER BY record_id, version";

const DETAILS: &str = "SELECT details FROM status_event WHERE details IS NOT NULL ORDER BY person_id, seq";

const SELECT: &str =
    "SELECT record_id, person_to_inform, correspondence_address FROM identity_version ORDER BY record_id";

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

#[async_trait]
impl RawDb for Sqlite {
    async fn open(&self, keys: Keyring) -> DynStore {
        Arc::new(SqliteStore::open_with(&self.path, keys).await.unwrap())
    }

    async fn contacts(&self) -> Contacts {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(path).unwrap();
            let mut st = c.prepare(SELECT).unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
        })
        .await
        .unwrap()
    }

    async fn exec(&self, sql: &str) {
        let (path, sql) = (self.path.clone(), sql.to_owned());
        tokio::task::spawn_blocking(move || rusqlite::Connection::open(path).unwrap().execute_batch(&sql).unwrap())
            .await
            .unwrap();
    }

    async fn fingerprints(&self) -> Fingerprints {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(path).unwrap();
            let mut st = c.prepare(FINGERPRINTS).unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        })
        .await
        .unwrap()
    }

    async fn details(&self) -> Vec<String> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open(path).unwrap();
            let mut st = c.prepare(DETAILS).unwrap();
            st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
        })
        .await
        .unwrap()
    }

    async fn set_fingerprint(&self, record_id: &str, fingerprint: &[u8], scheme: i64) {
        let (path, record_id, fingerprint) = (self.path.clone(), record_id.to_owned(), fingerprint.to_vec());
        tokio::task::spawn_blocking(move || {
            rusqlite::Connection::open(path)
                .unwrap()
                .execute(
                    "UPDATE identity_version SET fingerprint = ?1, fingerprint_scheme = ?2 WHERE record_id = ?3",
                    rusqlite::params![fingerprint, scheme, record_id],
                )
                .unwrap()
        })
        .await
        .unwrap();
    }
}

struct Postgres {
    url: String,
    schema: String,
    stores: std::sync::Mutex<Vec<PgStore>>,
}

impl Postgres {
    async fn pool(&self) -> sqlx::PgPool {
        let options = sqlx::postgres::PgConnectOptions::from_str(&self.url)
            .unwrap()
            .options([("search_path", self.schema.as_str())]);
        sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(options).await.unwrap()
    }
}

#[async_trait]
impl RawDb for Postgres {
    async fn open(&self, keys: Keyring) -> DynStore {
        let store = PgStore::connect_in_schema_with(&self.url, Some(&self.schema), keys).await.unwrap();
        self.stores.lock().unwrap().push(store.clone());
        Arc::new(store)
    }

    async fn contacts(&self) -> Contacts {
        let pool = self.pool().await;
        let rows = sqlx::query(SELECT).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
    }

    async fn exec(&self, sql: &str) {
        let pool = self.pool().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
        pool.close().await;
    }

    async fn fingerprints(&self) -> Fingerprints {
        let pool = self.pool().await;
        let rows = sqlx::query(
            "SELECT record_id, version::bigint, fingerprint, fingerprint_scheme::bigint FROM identity_version
             ORDER BY record_id, version",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect()
    }

    async fn details(&self) -> Vec<String> {
        let pool = self.pool().await;
        let rows = sqlx::query(DETAILS).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows.iter().map(|r| r.get(0)).collect()
    }

    async fn set_fingerprint(&self, record_id: &str, fingerprint: &[u8], scheme: i64) {
        let pool = self.pool().await;
        sqlx::query("UPDATE identity_version SET fingerprint = $1, fingerprint_scheme = $2 WHERE record_id = $3")
            .bind(fingerprint)
            .bind(scheme as i32)
            .bind(record_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

type Case = fn(Box<dyn RawDb>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

async fn on_sqlite(case: Case) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("homeward.db");
    case(Box::new(Sqlite { _dir: dir, path })).await;
}

async fn on_postgres(case: Case) {
    let url = match std::env::var("HOMEWARD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HOMEWARD_TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI")
        }
        _ => {
            eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set");
            return;
        }
    };
    let schema = format!("hw_seal_{}", uuid::Uuid::now_v7().simple());
    let db = Arc::new(Postgres { url: url.clone(), schema: schema.clone(), stores: Default::default() });
    let outcome = tokio::spawn(case(Box::new(ArcDb(db.clone())))).await;
    let stores = std::mem::take(&mut *db.stores.lock().unwrap());
    for s in stores {
        s.pool().close().await;
    }
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn sealing(db: Box<dyn RawDb>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(contact_fields_are_sealed_at_rest_and_rotate(db))
}

fn fingerprints(db: Box<dyn RawDb>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(fingerprints_are_keyed_and_old_ones_still_match(db))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_contact_fields_are_sealed_at_rest_and_rotate() {
    on_sqlite(sealing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_contact_fields_are_sealed_at_rest_and_rotate() {
    on_postgres(sealing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_fingerprints_are_keyed_and_old_ones_still_match() {
    on_sqlite(fingerprints).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_fingerprints_are_keyed_and_old_ones_still_match() {
    on_postgres(fingerprints).await;
}

/// Lets the test keep the database to drop its schema after the case.
struct ArcDb(Arc<Postgres>);

#[async_trait]
impl RawDb for ArcDb {
    async fn open(&self, keys: Keyring) -> DynStore {
        self.0.open(keys).await
    }
    async fn contacts(&self) -> Contacts {
        self.0.contacts().await
    }
    async fn exec(&self, sql: &str) {
        self.0.exec(sql).await
    }
    async fn fingerprints(&self) -> Fingerprints {
        self.0.fingerprints().await
    }
    async fn set_fingerprint(&self, record_id: &str, fingerprint: &[u8], scheme: i64) {
        self.0.set_fingerprint(record_id, fingerprint, scheme).await
    }
    async fn details(&self) -> Vec<String> {
        self.0.details().await
    }
}

fn health(db: Box<dyn RawDb>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(health_details_are_sealed_at_rest_and_rotate(db))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_health_details_are_sealed_at_rest_and_rotate() {
    on_sqlite(health).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_health_details_are_sealed_at_rest_and_rotate() {
    on_postgres(health).await;
}
