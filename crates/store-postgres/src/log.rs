//! The shared log on PostgreSQL: appending entries inside a change's
//! transaction, sequencing them into the tree, and reading the log back.
//!
//! The tree functions of `homeward_tlog` read stored hashes through a
//! synchronous `HashReader`; here each computation runs against a map of the
//! hashes fetched so far, and when it asks for one that is missing, the
//! missing ones are fetched in one query and the computation runs again
//! (it asks for O(log n) hashes, so this converges in a round or two).

use std::collections::HashMap;

use futures_util::TryStreamExt;
use homeward_domain::PartyKind;
use homeward_store::log as hlog;
use homeward_store::seal::EntryKey;
use homeward_store::{Actor, Keyring, LogEntry, StoreError, StoredCheckpoint, TreeHead};
use homeward_tlog::{
    Hash, NotFetched, PrefetchedHashes, TreeError, stored_hash_count, stored_hashes_for_records, tree_hash,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

use crate::backend_error;
use crate::rows::get;

/// What every append in one transaction shares.
#[derive(Debug)]
pub(crate) struct Appender {
    pub(crate) time_ms: i64,
    kinds: HashMap<String, PartyKind>,
    key: EntryKey,
}

impl Appender {
    pub(crate) async fn new(c: &mut PgConnection, keys: &Keyring) -> Result<Self, StoreError> {
        let rows = sqlx::query("SELECT code, kind FROM party").fetch_all(&mut *c).await.map_err(backend_error)?;
        let mut kinds = HashMap::new();
        for r in &rows {
            if let Some(k) = PartyKind::parse(&get::<String>(r, 1)?) {
                kinds.insert(get::<String>(r, 0)?, k);
            }
        }
        Ok(Self { time_ms: hlog::now_ms(), kinds, key: keys.entry_key().clone() })
    }

    /// The MAC of an entry of this transaction.
    pub(crate) fn mac(
        &self,
        actor: &Actor,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        commitment: &[u8; 32],
    ) -> [u8; 32] {
        self.key.mac(&hlog::entry_mac_message(self.time_ms, actor, event_type, record_type, record_id, commitment))
    }

    /// Appends the entry for a record, given its content; returns the entry's id.
    pub(crate) async fn append(
        &self,
        c: &mut PgConnection,
        party: Option<&str>,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let actor = self.actor_of(party);
        self.append_as(c, &actor, event_type, record_type, record_id, content).await
    }

    /// Who an entry recorded for `party` names: its officer or the
    /// mediator; with no party, the administrator.
    pub(crate) fn actor_of(&self, party: Option<&str>) -> Actor {
        Actor::for_party(&self.kinds, party)
    }

    /// Appends an entry made by `actor` (tracing changes).
    pub(crate) async fn append_as(
        &self,
        c: &mut PgConnection,
        actor: &Actor,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let (salt, commitment) = hlog::commit(content);
        let mac = self.mac(actor, event_type, record_type, record_id, &commitment);
        sqlx::query_scalar(
            "INSERT INTO log_entry (time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(self.time_ms)
        .bind(&actor.role)
        .bind(&actor.party)
        .bind(event_type)
        .bind(record_type)
        .bind(record_id)
        .bind(salt.as_slice())
        .bind(commitment.as_slice())
        .bind(mac.as_slice())
        .fetch_one(&mut *c)
        .await
        .map_err(backend_error)
    }
}

fn hash(v: Vec<u8>) -> Result<Hash, StoreError> {
    Hash::from_slice(&v).ok_or_else(|| StoreError::Backend("stored hash has the wrong length".into()))
}

fn bytes32(v: Vec<u8>) -> Result<[u8; 32], StoreError> {
    v.try_into().map_err(|_| StoreError::Backend("stored salt or commitment has the wrong length".into()))
}

/// The entry columns, as a literal so that statements stay `&'static str`.
#[macro_export]
macro_rules! entry_columns {
    () => {
        "e.id, e.leaf_index, e.time_ms, e.actor_role, e.actor_party, e.event_type, e.record_type, e.record_id, e.salt, e.commitment, e.mac, e.leaf_time_ms"
    };
}

/// How many columns `entry_columns!` has.
pub(crate) const ENTRY_WIDTH: usize = 12;

pub(crate) fn entry(r: &PgRow, at: usize) -> Result<LogEntry, StoreError> {
    Ok(LogEntry {
        id: get(r, at)?,
        leaf_index: get::<Option<i64>>(r, at + 1)?.map(|i| i as u64),
        time_ms: get(r, at + 2)?,
        actor_role: get(r, at + 3)?,
        actor_party: get(r, at + 4)?,
        event_type: get(r, at + 5)?,
        record_type: get(r, at + 6)?,
        record_id: get(r, at + 7)?,
        salt: bytes32(get(r, at + 8)?)?,
        commitment: bytes32(get(r, at + 9)?)?,
        mac: get::<Option<Vec<u8>>>(r, at + 10)?.map(bytes32).transpose()?,
        leaf_time_ms: get(r, at + 11)?,
    })
}

/// Runs a tree computation inside the transaction, fetching the stored
/// hashes it asks for (see `homeward_tlog::PrefetchedHashes`).
async fn with_hashes<T>(
    c: &mut PgConnection,
    f: impl Fn(&PrefetchedHashes) -> Result<T, TreeError<NotFetched>>,
) -> Result<T, StoreError> {
    let mut reader = PrefetchedHashes::new();
    for _ in 0..64 {
        match f(&reader) {
            Ok(v) => return Ok(v),
            Err(TreeError::Reader(NotFetched)) => {
                let want = reader.take_missing();
                let got = read_hashes(&mut *c, &want).await?;
                reader.add(want.into_iter().zip(got));
            }
            Err(e) => return Err(StoreError::Backend(format!("log tree: {e}"))),
        }
    }
    Err(StoreError::Backend("log tree: too many rounds of hash reads".into()))
}

pub(crate) async fn read_hashes(c: &mut PgConnection, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
    let want: Vec<i64> = indexes.iter().map(|i| *i as i64).collect();
    let rows = sqlx::query("SELECT idx, hash FROM log_hash WHERE idx = ANY($1)")
        .bind(&want)
        .fetch_all(&mut *c)
        .await
        .map_err(backend_error)?;
    let mut by = HashMap::new();
    for r in &rows {
        by.insert(get::<i64>(r, 0)? as u64, hash(get(r, 1)?)?);
    }
    indexes
        .iter()
        .map(|i| by.get(i).copied().ok_or_else(|| StoreError::Backend(format!("stored hash {i} is missing"))))
        .collect()
}

pub(crate) async fn tree_head(c: &mut PgConnection, lock: bool) -> Result<TreeHead, StoreError> {
    let sql = if lock {
        "SELECT size, root FROM log_tree WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT size, root FROM log_tree WHERE id = 1"
    };
    let r = sqlx::query(sql).fetch_one(&mut *c).await.map_err(backend_error)?;
    Ok(TreeHead { size: get::<i64>(&r, 0)? as u64, root: hash(get(&r, 1)?)? })
}

/// Integrates up to `max` waiting entries; the tree row's lock makes
/// sequencers take turns. Each entry's MAC is checked as on SQLite
/// (`hlog::check_to_sequence`); each leaf's time is the later of its entry's
/// and the previous leaf's (concurrent transactions commit out of time order).
pub(crate) async fn sequence(pool: &PgPool, key: &EntryKey, max: usize) -> Result<TreeHead, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    let head = tree_head(&mut tx, true).await?;
    let last: Option<(bool, Option<i64>)> = if head.size == 0 {
        None
    } else {
        let r = sqlx::query("SELECT mac IS NULL, coalesce(leaf_time_ms, time_ms) FROM log_entry WHERE leaf_index = $1")
            .bind(head.size as i64 - 1)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend_error)?;
        r.map(|r| Ok::<_, StoreError>((get::<bool>(&r, 0)?, get::<Option<i64>>(&r, 1)?))).transpose()?
    };
    let mut legacy_allowed = last.is_some_and(|(legacy, _)| legacy);
    let mut leaf_time = last.and_then(|(_, t)| t).unwrap_or(i64::MIN);
    let rows = sqlx::query(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM log_entry e WHERE e.leaf_index IS NULL ORDER BY e.id LIMIT $1"
    ))
    .bind(max as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend_error)?;
    if rows.is_empty() {
        return Ok(head);
    }
    let mut entries = rows.iter().map(|r| entry(r, 0)).collect::<Result<Vec<_>, _>>()?;
    let mut leaf_hashes = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter_mut().enumerate() {
        hlog::check_to_sequence(e, key, &mut legacy_allowed)?;
        e.leaf_index = Some(head.size + i as u64);
        leaf_time = leaf_time.max(e.time_ms);
        e.leaf_time_ms = Some(leaf_time);
        let leaf = e.leaf().expect("has an index");
        leaf_hashes.push(leaf.leaf_hash().map_err(|err| StoreError::Backend(format!("log entry {}: {err}", e.id)))?);
    }
    let new_hashes = with_hashes(&mut tx, |r| stored_hashes_for_records(head.size, &leaf_hashes, r)).await?;
    let first = stored_hash_count(head.size) as i64;
    let idx: Vec<i64> = (0..new_hashes.len() as i64).map(|k| first + k).collect();
    let bytes: Vec<Vec<u8>> = new_hashes.iter().map(|h| h.0.to_vec()).collect();
    sqlx::query("INSERT INTO log_hash (idx, hash) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])")
        .bind(&idx)
        .bind(&bytes)
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let places: Vec<i64> = entries.iter().map(|e| e.leaf_index.unwrap_or_default() as i64).collect();
    let times: Vec<i64> = entries.iter().map(|e| e.leaf_time_ms.unwrap_or(e.time_ms)).collect();
    sqlx::query(
        "UPDATE log_entry SET leaf_index = u.place, leaf_time_ms = u.at
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, place, at)
         WHERE log_entry.id = u.id",
    )
    .bind(&ids)
    .bind(&places)
    .bind(&times)
    .execute(&mut *tx)
    .await
    .map_err(backend_error)?;
    let size = head.size + entries.len() as u64;
    let root = with_hashes(&mut tx, |r| tree_hash(size, r)).await?;
    sqlx::query("UPDATE log_tree SET size = $1, root = $2 WHERE id = 1")
        .bind(size as i64)
        .bind(root.0.as_slice())
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
    tx.commit().await.map_err(backend_error)?;
    Ok(TreeHead { size, root })
}

pub(crate) async fn entries(pool: &PgPool, start: u64, end: u64) -> Result<Vec<LogEntry>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM log_entry e WHERE e.leaf_index >= $1 AND e.leaf_index < $2 ORDER BY e.leaf_index"
    ))
    .bind(start as i64)
    .bind(end as i64)
    .fetch_all(pool)
    .await
    .map_err(backend_error)?;
    rows.iter().map(|r| entry(r, 0)).collect()
}

pub(crate) async fn entry_by_id(c: &mut PgConnection, id: i64) -> Result<Option<LogEntry>, StoreError> {
    let r = sqlx::query(concat!("SELECT ", entry_columns!(), " FROM log_entry e WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?;
    r.map(|r| entry(&r, 0)).transpose()
}

pub(crate) async fn save_checkpoint(pool: &PgPool, cp: &StoredCheckpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO log_checkpoint (size, note, created_at) VALUES ($1, $2, now())
         ON CONFLICT (size) DO UPDATE SET note = excluded.note",
    )
    .bind(cp.size as i64)
    .bind(&cp.note)
    .execute(pool)
    .await
    .map_err(backend_error)?;
    Ok(())
}

pub(crate) async fn checkpoints(pool: &PgPool, latest_only: bool) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let sql = if latest_only {
        "SELECT size, note FROM log_checkpoint ORDER BY size DESC LIMIT 1"
    } else {
        "SELECT size, note FROM log_checkpoint ORDER BY size"
    };
    let rows = sqlx::query(sql).fetch_all(pool).await.map_err(backend_error)?;
    rows.iter().map(|r| Ok(StoredCheckpoint { size: get::<i64>(r, 0)? as u64, note: get(r, 1)? })).collect()
}

pub(crate) async fn stored_hashes(pool: &PgPool, start: u64, end: u64) -> Result<Vec<Hash>, StoreError> {
    let rows = sqlx::query("SELECT hash FROM log_hash WHERE idx >= $1 AND idx < $2 ORDER BY idx")
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(pool)
        .await
        .map_err(backend_error)?;
    rows.iter().map(|r| hash(get(r, 0)?)).collect()
}

pub(crate) async fn audit_entries(pool: &PgPool, sink: tokio::sync::mpsc::Sender<LogEntry>) -> Result<(), StoreError> {
    for sql in [
        concat!("SELECT ", entry_columns!(), " FROM log_entry e WHERE e.leaf_index IS NOT NULL ORDER BY e.leaf_index"),
        concat!("SELECT ", entry_columns!(), " FROM log_entry e WHERE e.leaf_index IS NULL ORDER BY e.id"),
    ] {
        let mut rows = sqlx::query(sql).fetch(pool);
        while let Some(r) = rows.try_next().await.map_err(backend_error)? {
            if sink.send(entry(&r, 0)?).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}
