//! The baseline: plain inserts of the same rows into plain tables (no
//! indexes, no constraints, no log), one prepared single-row statement per
//! row, in the same transactions as the measured path. SQLite gets a fresh
//! file with the store's settings (WAL, synchronous=FULL, same cache);
//! PostgreSQL gets plain tables beside the store's, on its pool.

use std::path::Path;

use anyhow::Context;
use rusqlite::{Connection, params};
use sqlx::PgPool;

use crate::data::{PlainEntry, PlainEvent, PlainPerson};

const SQLITE_SCHEMA: &str = "
CREATE TABLE plain_person (id BLOB, status TEXT, status_seq INTEGER, primary_source TEXT,
    primary_record_id TEXT, created_at TEXT);
CREATE TABLE plain_identity (source TEXT, record_id TEXT, version INTEGER, person_id BLOB,
    recorded_at TEXT, fingerprint BLOB, family_name TEXT, given_names TEXT, patronymic TEXT,
    mother_maiden_name TEXT, birth_date TEXT, place_of_birth TEXT, rank TEXT, service_number TEXT,
    unit TEXT, power TEXT, category TEXT, person_to_inform TEXT, correspondence_address TEXT,
    id TEXT, log_id INTEGER);
CREATE TABLE plain_event (person_id BLOB, seq INTEGER, status TEXT, occurred_on TEXT, place TEXT,
    details TEXT, reported_by TEXT, recorded_at TEXT, log_id INTEGER);
CREATE TABLE plain_entry (id INTEGER, time_ms INTEGER, actor_role TEXT, actor_party TEXT,
    event_type TEXT, record_type TEXT, record_id TEXT, salt BLOB, commitment BLOB);
";

const PG_SCHEMA: &str = "
CREATE TABLE plain_person (id BYTEA, status TEXT, status_seq BIGINT, primary_source TEXT,
    primary_record_id TEXT, created_at TEXT);
CREATE TABLE plain_identity (source TEXT, record_id TEXT, version BIGINT, person_id BYTEA,
    recorded_at TEXT, fingerprint BYTEA, family_name TEXT, given_names TEXT, patronymic TEXT,
    mother_maiden_name TEXT, birth_date TEXT, place_of_birth TEXT, rank TEXT, service_number TEXT,
    unit TEXT, power TEXT, category TEXT, person_to_inform TEXT, correspondence_address TEXT,
    id TEXT, log_id BIGINT);
CREATE TABLE plain_event (person_id BYTEA, seq BIGINT, status TEXT, occurred_on TEXT, place TEXT,
    details TEXT, reported_by TEXT, recorded_at TEXT, log_id BIGINT);
CREATE TABLE plain_entry (id BIGINT, time_ms BIGINT, actor_role TEXT, actor_party TEXT,
    event_type TEXT, record_type TEXT, record_id TEXT, salt BYTEA, commitment BYTEA);
";

/// The four inserts, into the plain tables or into homeward's own tables
/// (whose columns are in the same order).
#[derive(Debug)]
pub struct SqliteSql {
    person: String,
    identity: String,
    event: String,
    entry: String,
}

impl SqliteSql {
    fn new(person: &str, identity: &str, event: &str, entry: &str) -> Self {
        let values = |n: usize| (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        Self {
            person: format!("INSERT INTO {person} VALUES ({})", values(6)),
            identity: format!("INSERT INTO {identity} VALUES ({})", values(21)),
            event: format!("INSERT INTO {event} VALUES ({})", values(9)),
            entry: format!("INSERT INTO {entry} VALUES ({})", values(9)),
        }
    }
}

const INSERT_PERSON_PG: &str = "INSERT INTO plain_person VALUES ($1, $2, $3, $4, $5, $6)";
const INSERT_IDENTITY_PG: &str = "INSERT INTO plain_identity VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
    $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)";
const INSERT_EVENT_PG: &str = "INSERT INTO plain_event VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const INSERT_ENTRY_PG: &str = "INSERT INTO plain_entry VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

#[derive(Debug)]
pub enum Baseline {
    Sqlite(Connection, SqliteSql),
    Pg(PgPool),
}

impl Baseline {
    /// A fresh SQLite file with the store's settings.
    pub fn sqlite(path: &Path) -> anyhow::Result<Self> {
        crate::remove_db(path);
        let c = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA cache_size = -32768;",
        )?;
        let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        anyhow::ensure!(mode == "wal", "the baseline file is not in WAL mode");
        c.execute_batch(SQLITE_SCHEMA)?;
        Ok(Self::Sqlite(c, SqliteSql::new("plain_person", "plain_identity", "plain_event", "plain_entry")))
    }

    /// A fresh SQLite file with homeward's schema (its migrations, so its
    /// keys and indexes), written with the same plain inserts: what the
    /// schema alone costs, without homeward's code. Foreign-key checks are
    /// off, as in homeward's import.
    pub async fn sqlite_schema(path: &Path) -> anyhow::Result<Self> {
        crate::remove_db(path);
        homeward_store_sqlite::SqliteStore::migrate(path).await?;
        let c = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;
             PRAGMA cache_size = -32768;",
        )?;
        Ok(Self::Sqlite(c, SqliteSql::new("person", "identity_version", "status_event", "log_entry")))
    }

    /// Plain tables in the store's schema (its pool sets the search path).
    pub async fn postgres(pool: PgPool) -> anyhow::Result<Self> {
        sqlx::raw_sql(PG_SCHEMA).execute(&pool).await?;
        Ok(Self::Pg(pool))
    }

    /// One status event per transaction (and its entry row with `with_entry`).
    pub async fn single(&mut self, rows: &[(PlainEvent, PlainEntry)], with_entry: bool) -> anyhow::Result<()> {
        match self {
            Baseline::Sqlite(c, sql) => {
                for (ev, en) in rows {
                    let tx = c.transaction()?;
                    sqlite_event(&tx, &sql.event, ev)?;
                    if with_entry {
                        sqlite_entry(&tx, &sql.entry, en)?;
                    }
                    tx.commit()?;
                }
            }
            Baseline::Pg(pool) => {
                for (ev, en) in rows {
                    let mut tx = pool.begin().await?;
                    pg_event(&mut tx, ev).await?;
                    if with_entry {
                        pg_entry(&mut tx, en).await?;
                    }
                    tx.commit().await?;
                }
            }
        }
        Ok(())
    }

    /// A batch of new persons in one transaction: person, identity and
    /// event rows (and their two entry rows with `with_entry`).
    pub async fn batch(&mut self, rows: &[PlainPerson], with_entry: bool) -> anyhow::Result<()> {
        match self {
            Baseline::Sqlite(c, sql) => {
                let tx = c.transaction()?;
                for p in rows {
                    tx.prepare_cached(&sql.person)?.execute(params![
                        p.id.as_slice(),
                        p.status,
                        1,
                        p.source,
                        p.record_id,
                        crate::data::RECORDED_AT
                    ])?;
                    let i = &p.identity;
                    tx.prepare_cached(&sql.identity)?.execute(params![
                        p.source,
                        p.record_id,
                        1,
                        p.id.as_slice(),
                        crate::data::RECORDED_AT,
                        p.fingerprint.as_slice(),
                        i[0],
                        i[1],
                        i[2],
                        i[3],
                        i[4],
                        i[5],
                        i[6],
                        i[7],
                        i[8],
                        i[9],
                        i[10],
                        i[11],
                        i[12],
                        p.identity_id,
                        p.entries[0].id
                    ])?;
                    sqlite_event(&tx, &sql.event, &p.event)?;
                    if with_entry {
                        for e in &p.entries {
                            sqlite_entry(&tx, &sql.entry, e)?;
                        }
                    }
                }
                tx.commit()?;
            }
            Baseline::Pg(pool) => {
                let mut tx = pool.begin().await?;
                for p in rows {
                    sqlx::query(INSERT_PERSON_PG)
                        .bind(p.id.as_slice())
                        .bind(p.status)
                        .bind(1i64)
                        .bind(p.source.as_str())
                        .bind(p.record_id.as_str())
                        .bind(crate::data::RECORDED_AT)
                        .execute(&mut *tx)
                        .await?;
                    let mut q = sqlx::query(INSERT_IDENTITY_PG)
                        .bind(p.source.as_str())
                        .bind(p.record_id.as_str())
                        .bind(1i64)
                        .bind(p.id.as_slice())
                        .bind(crate::data::RECORDED_AT)
                        .bind(p.fingerprint.as_slice());
                    for v in &p.identity {
                        q = q.bind(v.as_deref());
                    }
                    q.bind(p.identity_id.as_str()).bind(p.entries[0].id).execute(&mut *tx).await?;
                    pg_event(&mut tx, &p.event).await?;
                    if with_entry {
                        for e in &p.entries {
                            pg_entry(&mut tx, e).await?;
                        }
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

fn sqlite_event(c: &Connection, sql: &str, e: &PlainEvent) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute(params![
        e.person_id.as_slice(),
        e.seq,
        e.status,
        e.occurred_on,
        e.place,
        e.details,
        e.reported_by,
        e.recorded_at,
        e.log_id
    ])?;
    Ok(())
}

fn sqlite_entry(c: &Connection, sql: &str, e: &PlainEntry) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute(params![
        e.id,
        e.time_ms,
        e.actor_role,
        e.actor_party,
        e.event_type,
        e.record_type,
        e.record_id,
        e.salt.as_slice(),
        e.commitment.as_slice()
    ])?;
    Ok(())
}

async fn pg_event(tx: &mut sqlx::PgConnection, e: &PlainEvent) -> sqlx::Result<()> {
    sqlx::query(INSERT_EVENT_PG)
        .bind(e.person_id.as_slice())
        .bind(e.seq)
        .bind(e.status)
        .bind(e.occurred_on.as_deref())
        .bind(e.place.as_deref())
        .bind(e.details.as_deref())
        .bind(e.reported_by.as_str())
        .bind(e.recorded_at)
        .bind(e.log_id)
        .execute(tx)
        .await?;
    Ok(())
}

async fn pg_entry(tx: &mut sqlx::PgConnection, e: &PlainEntry) -> sqlx::Result<()> {
    sqlx::query(INSERT_ENTRY_PG)
        .bind(e.id)
        .bind(e.time_ms)
        .bind(e.actor_role)
        .bind(e.actor_party.as_deref())
        .bind(e.event_type)
        .bind(e.record_type)
        .bind(e.record_id.as_str())
        .bind(e.salt.as_slice())
        .bind(e.commitment.as_slice())
        .execute(tx)
        .await?;
    Ok(())
}
