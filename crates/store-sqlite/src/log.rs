//! The shared log on SQLite: appending entries inside a change's
//! transaction, sequencing them into the tree, and reading the log back.

use std::collections::HashMap;

use homeward_domain::PartyKind;
use homeward_store::log as hlog;
use homeward_store::seal::EntryKey;
use homeward_store::{Actor, Keyring, LogEntry, StoreError, StoredCheckpoint, TreeHead};
use homeward_tlog::{Hash, HashReader, stored_hash_count, stored_hashes_for_records, tree_hash};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend_error;

pub(crate) fn party_kinds(c: &Connection) -> Result<HashMap<String, PartyKind>, StoreError> {
    let mut st = c.prepare_cached("SELECT code, kind FROM party").map_err(backend_error)?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?;
    Ok(rows.into_iter().filter_map(|(c, k)| PartyKind::parse(&k).map(|k| (c, k))).collect())
}

/// The id the next entry gets. Only the writer connection appends, so the
/// maximum plus one is stable until its transaction ends.
pub(crate) fn next_id(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT coalesce(max(id), 0) + 1 FROM log_entry")
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(backend_error)
}

/// The time of the last entry appended (0 for none).
fn last_time(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT coalesce((SELECT time_ms FROM log_entry ORDER BY id DESC LIMIT 1), 0)")
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(backend_error)
}

/// What every append in one transaction shares: the next entry id, the
/// time, the parties' kinds (for the actor) and the key of the entries' MACs.
#[derive(Debug)]
pub(crate) struct Appender {
    next_id: i64,
    pub(crate) time_ms: i64,
    kinds: HashMap<String, PartyKind>,
    key: EntryKey,
}

impl Appender {
    /// For a transaction on the writer connection. The time is never
    /// earlier than the last entry's (a clock set back, another process's
    /// write): entries are sequenced in id order, so leaf times then never
    /// go backwards, and `log verify` can report any leaf that does.
    pub(crate) fn new(c: &Connection, keys: &Keyring) -> Result<Self, StoreError> {
        Ok(Self {
            next_id: next_id(c)?,
            time_ms: hlog::now_ms().max(last_time(c)?),
            kinds: party_kinds(c)?,
            key: keys.entry_key().clone(),
        })
    }

    /// Appends the entry for a record, given its content; returns the entry's id.
    pub(crate) fn append(
        &mut self,
        c: &Connection,
        party: Option<&str>,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let e = self.prepare(party, event_type, record_type, record_id, content);
        insert_entry(c, &e)?;
        Ok(e.id)
    }

    /// Appends an entry made by `actor` (tracing changes: a family, a
    /// caseworker, the matcher), given the record's content.
    pub(crate) fn append_as(
        &mut self,
        c: &Connection,
        actor: &Actor,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> Result<i64, StoreError> {
        let e = self.prepare_as(actor.clone(), event_type, record_type, record_id, content);
        insert_entry(c, &e)?;
        Ok(e.id)
    }

    /// The next entry, salted and committed, for the caller to insert (the
    /// import inserts a chunk of them in one statement).
    pub(crate) fn prepare(
        &mut self,
        party: Option<&str>,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> PreparedEntry {
        let actor = Actor::for_party(&self.kinds, party);
        self.prepare_as(actor, event_type, record_type, record_id, content)
    }

    fn prepare_as(
        &mut self,
        actor: Actor,
        event_type: &str,
        record_type: &str,
        record_id: &str,
        content: &serde_json::Value,
    ) -> PreparedEntry {
        let id = self.next_id;
        self.next_id += 1;
        let (salt, commitment) = hlog::commit(content);
        let mac = self.key.mac(&hlog::entry_mac_message(
            self.time_ms,
            &actor,
            event_type,
            record_type,
            record_id,
            &commitment,
        ));
        PreparedEntry {
            id,
            time_ms: self.time_ms,
            actor,
            event_type: event_type.to_owned(),
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            salt,
            commitment,
            mac,
        }
    }
}

/// An entry ready to insert.
#[derive(Debug)]
pub(crate) struct PreparedEntry {
    pub(crate) id: i64,
    pub(crate) time_ms: i64,
    pub(crate) actor: Actor,
    pub(crate) event_type: String,
    pub(crate) record_type: String,
    pub(crate) record_id: String,
    pub(crate) salt: [u8; 32],
    pub(crate) commitment: [u8; 32],
    pub(crate) mac: [u8; 32],
}

fn insert_entry(c: &Connection, e: &PreparedEntry) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut st| {
        st.execute(params![
            e.id,
            e.time_ms,
            e.actor.role,
            e.actor.party,
            e.event_type,
            e.record_type,
            e.record_id,
            e.salt.as_slice(),
            e.commitment.as_slice(),
            e.mac.as_slice()
        ])
    })
    .map_err(backend_error)?;
    Ok(())
}

fn hash(v: Vec<u8>) -> rusqlite::Result<Hash> {
    Hash::from_slice(&v)
        .ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "invalid hash".into()))
}

fn bytes32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "expected 32 bytes".into())
    })
}

/// The entry columns; the leaf index is `id - 1` for entries the tree has
/// reached (see migrations/0002_log.sql).
/// The columns count: [`ENTRY_WIDTH`].
pub(crate) const ENTRY_COLUMNS: &str = "e.id, CASE WHEN e.id <= (SELECT size FROM log_tree WHERE id = 1) THEN e.id - 1 END, e.time_ms, e.actor_role, e.actor_party, e.event_type, e.record_type, e.record_id, e.salt, e.commitment, e.mac";

/// How many columns [`ENTRY_COLUMNS`] has.
pub(crate) const ENTRY_WIDTH: usize = 11;

pub(crate) fn entry_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<LogEntry> {
    let leaf_index = r.get::<_, Option<i64>>(at + 1)?.map(|i| i as u64);
    let time_ms = r.get(at + 2)?;
    Ok(LogEntry {
        id: r.get(at)?,
        leaf_index,
        time_ms,
        // Entry times increase as SQLite appends (Appender::new): the leaf's is the entry's.
        leaf_time_ms: leaf_index.map(|_| time_ms),
        actor_role: r.get(at + 3)?,
        actor_party: r.get(at + 4)?,
        event_type: r.get(at + 5)?,
        record_type: r.get(at + 6)?,
        record_id: r.get(at + 7)?,
        salt: bytes32(r.get(at + 8)?)?,
        commitment: bytes32(r.get(at + 9)?)?,
        mac: r.get::<_, Option<Vec<u8>>>(at + 10)?.map(bytes32).transpose()?,
    })
}

/// Reads stored hashes through a connection (inside the sequencing transaction).
struct Reader<'a>(&'a Connection);

impl HashReader for Reader<'_> {
    type Error = StoreError;
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        read_hashes(self.0, indexes)
    }
}

pub(crate) fn read_hashes(c: &Connection, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
    let mut st = c.prepare_cached("SELECT hash FROM log_hash WHERE idx = ?1").map_err(backend_error)?;
    indexes
        .iter()
        .map(|i| {
            st.query_row(params![*i as i64], |r| hash(r.get(0)?))
                .optional()
                .map_err(backend_error)?
                .ok_or_else(|| StoreError::Backend(format!("stored hash {i} is missing")))
        })
        .collect()
}

pub(crate) fn tree_head(c: &Connection) -> Result<TreeHead, StoreError> {
    c.prepare_cached("SELECT size, root FROM log_tree WHERE id = 1")
        .and_then(|mut st| {
            st.query_row([], |r| Ok(TreeHead { size: r.get::<_, i64>(0)? as u64, root: hash(r.get(1)?)? }))
        })
        .map_err(backend_error)
}

/// Integrates up to `max` waiting entries, in append order, in one
/// transaction. Refuses (and integrates nothing from there on) an entry
/// whose MAC is missing or wrong: it was written by someone who could write
/// the database but not read the key files. An entry without a MAC is
/// accepted only while the last leaf is a version 1 leaf: entries written
/// by an older homeward and still waiting when it was upgraded.
pub(crate) fn sequence(c: &mut Connection, keys: &EntryKey, max: usize) -> Result<TreeHead, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let head = tree_head(&tx)?;
    let mut legacy_allowed = head.size > 0
        && tx
            .query_row("SELECT mac IS NULL FROM log_entry WHERE id = ?1", params![head.size as i64], |r| r.get(0))
            .optional()
            .map_err(backend_error)?
            .unwrap_or(false);
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM log_entry e WHERE e.id > ?1 ORDER BY e.id LIMIT ?2");
    let mut entries = tx
        .prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map(params![head.size as i64, max as i64], |r| entry_from_row(r, 0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend_error)?;
    if entries.is_empty() {
        return Ok(head);
    }
    let mut leaf_hashes = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter_mut().enumerate() {
        let index = head.size + i as u64;
        // Ids are dense: a gap means an entry was deleted behind the store's back.
        if e.id != index as i64 + 1 {
            return Err(StoreError::Backend(format!(
                "log entries are not contiguous at leaf {index}; run `homeward log verify`"
            )));
        }
        hlog::check_to_sequence(e, keys, &mut legacy_allowed)?;
        e.leaf_index = Some(index);
        e.leaf_time_ms = Some(e.time_ms);
        let leaf = e.leaf().expect("has an index");
        leaf_hashes.push(leaf.leaf_hash().map_err(|err| StoreError::Backend(format!("log entry {}: {err}", e.id)))?);
    }
    let new_hashes = stored_hashes_for_records(head.size, &leaf_hashes, &Reader(&tx)).map_err(tree_error)?;
    {
        let mut put = tx.prepare_cached("INSERT INTO log_hash (idx, hash) VALUES (?1, ?2)").map_err(backend_error)?;
        let first = stored_hash_count(head.size);
        for (k, h) in new_hashes.iter().enumerate() {
            put.execute(params![(first + k as u64) as i64, h.0.as_slice()]).map_err(backend_error)?;
        }
    }
    let size = head.size + entries.len() as u64;
    let root = tree_hash(size, &Reader(&tx)).map_err(tree_error)?;
    tx.execute("UPDATE log_tree SET size = ?1, root = ?2 WHERE id = 1", params![size as i64, root.0.as_slice()])
        .map_err(backend_error)?;
    tx.commit().map_err(backend_error)?;
    Ok(TreeHead { size, root })
}

fn tree_error(e: homeward_tlog::TreeError<StoreError>) -> StoreError {
    StoreError::Backend(format!("log tree: {e}"))
}

pub(crate) fn entries(c: &Connection, start: u64, end: u64) -> Result<Vec<LogEntry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM log_entry e
         WHERE e.id > ?1 AND e.id <= ?2 AND e.id <= (SELECT size FROM log_tree WHERE id = 1) ORDER BY e.id"
    );
    c.prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map(params![start as i64, end as i64], |r| entry_from_row(r, 0))?.collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend_error)
}

pub(crate) fn entry_by_id(c: &Connection, id: i64) -> Result<Option<LogEntry>, StoreError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM log_entry e WHERE e.id = ?1");
    c.prepare_cached(&sql)
        .and_then(|mut st| st.query_row(params![id], |r| entry_from_row(r, 0)).optional())
        .map_err(backend_error)
}

pub(crate) fn save_checkpoint(c: &Connection, cp: &StoredCheckpoint) -> Result<(), StoreError> {
    let (_, now) = crate::write::now();
    c.execute(
        "INSERT INTO log_checkpoint (size, note, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (size) DO UPDATE SET note = excluded.note",
        params![cp.size as i64, cp.note, now],
    )
    .map_err(backend_error)?;
    Ok(())
}

pub(crate) fn checkpoints(c: &Connection, latest_only: bool) -> Result<Vec<StoredCheckpoint>, StoreError> {
    let sql = if latest_only {
        "SELECT size, note FROM log_checkpoint ORDER BY size DESC LIMIT 1"
    } else {
        "SELECT size, note FROM log_checkpoint ORDER BY size"
    };
    c.prepare_cached(sql)
        .and_then(|mut st| {
            st.query_map([], |r| Ok(StoredCheckpoint { size: r.get::<_, i64>(0)? as u64, note: r.get(1)? }))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend_error)
}

pub(crate) fn stored_hashes(c: &Connection, start: u64, end: u64) -> Result<Vec<Hash>, StoreError> {
    c.prepare_cached("SELECT hash FROM log_hash WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")
        .and_then(|mut st| {
            st.query_map(params![start as i64, end as i64], |r| hash(r.get(0)?))?.collect::<Result<Vec<_>, _>>()
        })
        .map_err(backend_error)
}

pub(crate) fn audit_entries(c: &Connection, sink: &tokio::sync::mpsc::Sender<LogEntry>) -> Result<(), StoreError> {
    // Ids are in leaf order: sequenced entries come first, then the waiting ones.
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM log_entry e ORDER BY e.id");
    let mut st = c.prepare(&sql).map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        if sink.blocking_send(entry_from_row(r, 0).map_err(backend_error)?).is_err() {
            return Ok(());
        }
    }
    Ok(())
}
