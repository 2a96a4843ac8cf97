//! The shared log as the store sees it: what a log entry is, how each kind of
//! record is serialised canonically for its commitment, and the operations a
//! backend offers to sequence, read and audit the log.
//!
//! Every state change appends a [`LogEntry`] in the same transaction as the
//! change, with a fresh salt and the commitment to the record's canonical
//! content (RFC 8785 JSON of [`LoggedRecord::content`]). Entries wait
//! without a leaf index until the sequencer integrates them into the tree in
//! batches; only then do they get their place (leaf index) and their stored
//! hashes (the layout of `homeward_tlog::tree`). Leaves carry the event type,
//! the actor and the commitment, never personal data and (since leaf version
//! 2) no record id: the record is named only inside the committed content.
//!
//! Each entry carries a MAC ([`entry_mac_message`]) under a key kept outside
//! the database ([`crate::seal::Keyring::entry_key`]); the sequencer
//! integrates no entry whose MAC fails, so someone who can write the
//! database but not read the key files cannot get an event into the log.

use async_trait::async_trait;
use homeward_domain::{ConflictSetup, PersonId, PersonIdentity, SourceRef, StatusEvent};
use homeward_tlog::{Hash, LeafRecord, LogLeaf};
use serde::Serialize;
use serde_json::{Value, json};

use crate::StoreError;

/// One appended change, as stored (salt included: it never leaves the database
/// except in a reveal bundle for someone entitled to the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Internal id, in append order; gaps are possible on PostgreSQL.
    pub id: i64,
    /// Place in the tree, once sequenced.
    pub leaf_index: Option<u64>,
    /// When the change was made.
    pub time_ms: i64,
    /// The leaf's time, once sequenced: never earlier than the leaf before
    /// (SQLite makes entry times increase as it appends, so this is
    /// `time_ms`; PostgreSQL, with concurrent writers, takes the later of
    /// the entry's time and the previous leaf's when it sequences).
    pub leaf_time_ms: Option<i64>,
    pub actor_role: String,
    pub actor_party: Option<String>,
    pub event_type: String,
    pub record_type: String,
    pub record_id: String,
    pub salt: [u8; 32],
    pub commitment: [u8; 32],
    /// HMAC-SHA256 of [`entry_mac_message`] under the entry key. `None` only
    /// for entries written before leaf version 2 (their leaves are version 1).
    pub mac: Option<[u8; 32]>,
}

impl LogEntry {
    /// The tree leaf of a sequenced entry: version 2 (no record id) for an
    /// entry with a MAC, version 1 for an entry written before.
    pub fn leaf(&self) -> Option<LogLeaf> {
        let record = match self.mac {
            Some(_) => None,
            None => Some(LeafRecord { record_type: self.record_type.clone(), record_id: self.record_id.clone() }),
        };
        Some(LogLeaf {
            seq: self.leaf_index?,
            time_ms: self.leaf_time_ms.unwrap_or(self.time_ms),
            actor_role: self.actor_role.clone(),
            actor_party: self.actor_party.clone(),
            event_type: self.event_type.clone(),
            record,
            commitment: self.commitment,
        })
    }

    /// The bytes this entry's MAC covers ([`entry_mac_message`]).
    pub fn mac_message(&self) -> Vec<u8> {
        entry_mac_message(
            self.time_ms,
            &Actor { role: self.actor_role.clone(), party: self.actor_party.clone() },
            &self.event_type,
            &self.record_type,
            &self.record_id,
            &self.commitment,
        )
    }

    /// Whether the entry's MAC is present and right under `key`.
    pub fn authentic(&self, key: &crate::seal::EntryKey) -> bool {
        self.mac.is_some_and(|tag| key.verify(&self.mac_message(), &tag))
    }
}

/// The sequencer's rule for one waiting entry, the same on both backends:
/// its MAC must be right under `key`. An entry without a MAC passes only
/// while `legacy_allowed` (the last leaf is version 1: entries an older
/// homeward wrote and left waiting); the first authenticated entry ends that.
///
/// # Errors
/// [`StoreError::UnauthenticatedEntry`] naming the entry.
pub fn check_to_sequence(
    entry: &LogEntry,
    key: &crate::seal::EntryKey,
    legacy_allowed: &mut bool,
) -> Result<(), StoreError> {
    match entry.mac {
        None if *legacy_allowed => Ok(()),
        None => Err(StoreError::UnauthenticatedEntry { id: entry.id, reason: "has no MAC" }),
        Some(_) if entry.authentic(key) => {
            *legacy_allowed = false;
            Ok(())
        }
        Some(_) => Err(StoreError::UnauthenticatedEntry { id: entry.id, reason: "has a MAC that does not verify" }),
    }
}

/// What an entry's MAC covers: every field of the entry but its id, salt
/// and place, as `"homeward/log-entry/v1\n" || time_ms (i64 BE) || role ||
/// party || event_type || record_type || record_id || commitment`, each
/// string as a u32 BE length and its bytes, the party as 0x00 or 0x01 and
/// the string. The salt needs no MAC: the commitment binds it.
pub fn entry_mac_message(
    time_ms: i64,
    actor: &Actor,
    event_type: &str,
    record_type: &str,
    record_id: &str,
    commitment: &[u8; 32],
) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"homeward/log-entry/v1\n");
    out.extend_from_slice(&time_ms.to_be_bytes());
    put(&mut out, &actor.role);
    match &actor.party {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            put(&mut out, p);
        }
    }
    put(&mut out, event_type);
    put(&mut out, record_type);
    put(&mut out, record_id);
    out.extend_from_slice(commitment);
    out
}

/// Who made a change. Until accounts exist, the store derives it from the
/// reporting party: a party's bureau (`party_officer`) or the mediator; the
/// conflict's setup is an `admin` change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub role: String,
    pub party: Option<String>,
}

impl Actor {
    /// Who acts for a reporting party, from the parties' kinds: the party's
    /// officer, or the mediator; with no party, the administrator (the
    /// conflict's setup). The one rule both backends use.
    pub fn for_party(
        kinds: &std::collections::HashMap<String, homeward_domain::PartyKind>,
        party: Option<&str>,
    ) -> Self {
        match party {
            Some(p) => Actor {
                role: if kinds.get(p) == Some(&homeward_domain::PartyKind::Mediator) {
                    "mediator"
                } else {
                    "party_officer"
                }
                .into(),
                party: Some(p.to_owned()),
            },
            None => Actor { role: "admin".into(), party: None },
        }
    }
}

/// A record as it was logged, rebuilt from its row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoggedRecord {
    Conflict {
        setup: ConflictSetup,
    },
    IdentityVersion {
        id: String,
        person_id: PersonId,
        source: SourceRef,
        version: u32,
        identity: Box<PersonIdentity>,
    },
    StatusEvent {
        person_id: PersonId,
        seq: u32,
        event: StatusEvent,
        reported_by: String,
    },
    /// A change to a tracing request (see `crate::requests`); `content` is
    /// the event's own content, contact opened.
    TracingEvent {
        request_id: homeward_domain::TracingRequestId,
        seq: u32,
        content: Value,
    },
}

/// A logged record, named: the one place record ids are made and parsed
/// (`identity/<uuid>`, `person/<uuid>/status/<seq>`, `tracing/<uuid>/<seq>`,
/// `conflict`). Backends look records up by key; a reveal parses the id the
/// user gives. A new logged kind adds a variant here and the compiler shows
/// every place that must learn it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKey {
    Conflict,
    /// An identity version, by its id (a UUID's text).
    Identity(String),
    Status {
        person: PersonId,
        seq: u32,
    },
    Tracing {
        request: homeward_domain::TracingRequestId,
        seq: u32,
    },
}

impl RecordKey {
    /// The record type (as in `log_entry.record_type`).
    pub fn record_type(&self) -> &'static str {
        match self {
            RecordKey::Conflict => record::CONFLICT,
            RecordKey::Identity(_) => record::IDENTITY_VERSION,
            RecordKey::Status { .. } => record::STATUS_EVENT,
            RecordKey::Tracing { .. } => record::TRACING_EVENT,
        }
    }

    /// The record id (as in `log_entry.record_id`).
    pub fn record_id(&self) -> String {
        match self {
            RecordKey::Conflict => record::conflict_id(),
            RecordKey::Identity(id) => record::identity_id(id),
            RecordKey::Status { person, seq } => record::status_id(*person, *seq),
            RecordKey::Tracing { request, seq } => record::tracing_id(*request, *seq),
        }
    }

    /// Parses a record id; `None` if it names no kind of logged record.
    pub fn parse(record_id: &str) -> Option<Self> {
        let parts: Vec<&str> = record_id.split('/').collect();
        match parts.as_slice() {
            ["conflict"] => Some(RecordKey::Conflict),
            ["identity", id] if !id.is_empty() => Some(RecordKey::Identity((*id).to_owned())),
            ["person", person, "status", seq] => {
                Some(RecordKey::Status { person: person.parse().ok()?, seq: seq.parse().ok()? })
            }
            ["tracing", request, seq] => {
                Some(RecordKey::Tracing { request: request.parse().ok()?, seq: seq.parse().ok()? })
            }
            _ => None,
        }
    }
}

/// Record types and ids as they appear in entries.
pub mod record {
    use homeward_domain::PersonId;

    pub const CONFLICT: &str = "conflict";
    pub const IDENTITY_VERSION: &str = "identity_version";
    pub const STATUS_EVENT: &str = "status_event";
    pub const TRACING_EVENT: &str = "tracing_event";

    pub fn conflict_id() -> String {
        "conflict".to_owned()
    }
    pub fn identity_id(id: &str) -> String {
        format!("identity/{id}")
    }
    pub fn status_id(person: PersonId, seq: u32) -> String {
        format!("person/{person}/status/{seq}")
    }
    pub fn tracing_id(request: homeward_domain::TracingRequestId, seq: u32) -> String {
        format!("tracing/{request}/{seq}")
    }
}

impl LoggedRecord {
    pub fn record_type(&self) -> &'static str {
        match self {
            LoggedRecord::Conflict { .. } => record::CONFLICT,
            LoggedRecord::IdentityVersion { .. } => record::IDENTITY_VERSION,
            LoggedRecord::StatusEvent { .. } => record::STATUS_EVENT,
            LoggedRecord::TracingEvent { .. } => record::TRACING_EVENT,
        }
    }

    pub fn record_id(&self) -> String {
        self.key().record_id()
    }

    /// The record's key.
    pub fn key(&self) -> RecordKey {
        match self {
            LoggedRecord::Conflict { .. } => RecordKey::Conflict,
            LoggedRecord::IdentityVersion { id, .. } => RecordKey::Identity(id.clone()),
            LoggedRecord::StatusEvent { person_id, seq, .. } => RecordKey::Status { person: *person_id, seq: *seq },
            LoggedRecord::TracingEvent { request_id, seq, .. } => {
                RecordKey::Tracing { request: *request_id, seq: *seq }
            }
        }
    }

    /// The content the commitment is made to: what the record says, without
    /// storage details (no recorded-at times: the leaf carries the time).
    /// Documented in docs/LOG.md so that an outside program can recompute it.
    pub fn content(&self) -> Value {
        match self {
            LoggedRecord::Conflict { setup } => {
                json!({ "type": record::CONFLICT, "setup": setup.clone().canonical() })
            }
            LoggedRecord::IdentityVersion { id, person_id, source, version, identity } => {
                identity_content(id, *person_id, source, *version, identity)
            }
            LoggedRecord::StatusEvent { person_id, seq, event, reported_by } => {
                status_content(*person_id, *seq, event, reported_by)
            }
            LoggedRecord::TracingEvent { request_id, seq, content } => tracing_content(*request_id, *seq, content),
        }
    }

    /// RFC 8785 bytes of [`content`](Self::content).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        homeward_tlog::canonical_json(&self.content()).expect("record content has no out-of-range numbers")
    }

    pub fn commitment(&self, salt: &[u8; 32]) -> [u8; 32] {
        homeward_tlog::commitment(salt, &self.canonical_bytes())
    }
}

/// The content of an identity version (see [`LoggedRecord::content`]).
pub fn identity_content(
    id: &str,
    person_id: PersonId,
    source: &SourceRef,
    version: u32,
    identity: &PersonIdentity,
) -> Value {
    json!({
        "type": record::IDENTITY_VERSION,
        "id": id,
        "person_id": person_id,
        "source": source.source,
        "record_id": source.record_id,
        "version": version,
        "identity": identity,
    })
}

/// The content of a status event (see [`LoggedRecord::content`]).
pub fn status_content(person_id: PersonId, seq: u32, event: &StatusEvent, reported_by: &str) -> Value {
    json!({
        "type": record::STATUS_EVENT,
        "person_id": person_id,
        "seq": seq,
        "status": event.status,
        "occurred_on": event.occurred_on,
        "place": event.place,
        "details": event.details,
        "reported_by": reported_by,
    })
}

/// The content of a tracing event: the event's own fields with the
/// record's type, request and sequence number.
pub fn tracing_content(request_id: homeward_domain::TracingRequestId, seq: u32, content: &Value) -> Value {
    let mut v = content.clone();
    if let Value::Object(m) = &mut v {
        m.insert("type".into(), json!(record::TRACING_EVENT));
        m.insert("request_id".into(), json!(request_id));
        m.insert("seq".into(), json!(seq));
    }
    v
}

/// A fresh salt and the commitment to `content` under it.
pub fn commit(content: &Value) -> ([u8; 32], [u8; 32]) {
    let salt = new_salt();
    let bytes = homeward_tlog::canonical_json(content).expect("record content has no out-of-range numbers");
    (salt, homeward_tlog::commitment(&salt, &bytes))
}

/// Event types in leaves. They are public: an event type must not tell an
/// outsider more than that such a change happened (docs/LOG.md).
pub mod event {
    pub const CONFLICT_SET: &str = "conflict.set";
    pub const PERSON_REGISTERED: &str = "person.registered";
    pub const IDENTITY_AMENDED: &str = "identity.amended";
    pub const STATUS_RECORDED: &str = "status.recorded";
    pub const TRACING_FILED: &str = "tracing.filed";
    /// Any staff change to a tracing request (assigned to a desk, a
    /// candidate confirmed or rejected): one public type, so that a leaf
    /// does not say that a request had a candidate.
    pub const TRACING_UPDATED: &str = "tracing.updated";
    /// Written by leaf version 1 only (kept to read old logs).
    pub const TRACING_ASSIGNED: &str = "tracing.assigned";
    pub const TRACING_CANDIDATE: &str = "tracing.candidate";
    pub const TRACING_CONFIRMED: &str = "tracing.confirmed";
    pub const TRACING_REJECTED: &str = "tracing.rejected";

    /// The record type an event type's content must have: `None` for an
    /// unknown event type.
    pub fn record_type(event_type: &str) -> Option<&'static str> {
        use super::record;
        Some(match event_type {
            CONFLICT_SET => record::CONFLICT,
            PERSON_REGISTERED | IDENTITY_AMENDED => record::IDENTITY_VERSION,
            STATUS_RECORDED => record::STATUS_EVENT,
            TRACING_FILED | TRACING_UPDATED | TRACING_ASSIGNED | TRACING_CANDIDATE | TRACING_CONFIRMED
            | TRACING_REJECTED => record::TRACING_EVENT,
            _ => return None,
        })
    }
}

/// The record id a logged content names (as [`LoggedRecord::record_id`]
/// gives it), read from the content alone: how a reveal of a version 2
/// leaf, which names no record, says which record it proves.
pub fn record_id_of_content(content: &Value) -> Option<String> {
    let text = |k: &str| content.get(k).and_then(Value::as_str);
    let seq = || content.get("seq").and_then(Value::as_u64);
    match text("type")? {
        record::CONFLICT => Some(record::conflict_id()),
        record::IDENTITY_VERSION => Some(record::identity_id(text("id")?)),
        record::STATUS_EVENT => Some(format!("person/{}/status/{}", text("person_id")?, seq()?)),
        record::TRACING_EVENT => Some(format!("tracing/{}/{}", text("request_id")?, seq()?)),
        _ => None,
    }
}

/// The tree as stored: its size and root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub size: u64,
    pub root: Hash,
}

/// A signed checkpoint as stored, with the cosignatures collected for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    /// The signed note (C2SP signed-note), cosignature lines included.
    pub note: String,
}

/// What an audit reads about records: each record row with the entry it
/// points to, then each entry whose record row is gone.
#[derive(Debug, Clone)]
pub enum AuditItem {
    /// A record row and its entry; `None` when the row points to no entry
    /// (inserted behind the log's back, or its entry was deleted).
    Record { record: Box<LoggedRecord>, entry: Option<LogEntry> },
    /// An entry whose record row no longer exists.
    Orphan { entry: LogEntry },
}

/// The log operations of a backend.
#[async_trait]
pub trait LogStore: Send + Sync {
    /// Integrates up to `max` waiting entries into the tree (leaf indexes and
    /// stored hashes, one transaction) and returns the new head.
    async fn sequence(&self, max: usize) -> Result<TreeHead, StoreError>;

    /// The current tree size and root.
    async fn tree_head(&self) -> Result<TreeHead, StoreError>;

    /// Stored hashes by index (see `homeward_tlog::stored_hash_index`).
    async fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError>;

    /// Sequenced entries with leaf index in `start..end`.
    async fn entries(&self, start: u64, end: u64) -> Result<Vec<LogEntry>, StoreError>;

    /// The entry for a record, with the record as it is now.
    async fn entry_for_record(&self, key: &RecordKey) -> Result<Option<(LogEntry, Option<LoggedRecord>)>, StoreError>;

    /// Stores a signed checkpoint (replacing the note of the same size, to add cosignatures).
    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<(), StoreError>;

    /// The checkpoint of the largest size.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;

    /// Every checkpoint, by size.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;

    /// Streams every record row with its entry, then every orphaned entry.
    async fn audit_records(&self, sink: tokio::sync::mpsc::Sender<AuditItem>) -> Result<(), StoreError>;

    /// Streams every entry, sequenced ones in leaf order first, then the
    /// waiting ones in append order.
    async fn audit_entries(&self, sink: tokio::sync::mpsc::Sender<LogEntry>) -> Result<(), StoreError>;

    /// Whether an entry's MAC is right under this store's entry key (the
    /// key is the store's; the rule is [`LogEntry::authentic`]).
    fn entry_authentic(&self, entry: &LogEntry) -> bool;

    /// Stored hashes with index in `start..end`, in order (for a full audit).
    async fn stored_hashes(&self, start: u64, end: u64) -> Result<Vec<Hash>, StoreError>;
}

/// A fresh salt for a commitment. From the thread-local CSPRNG (ChaCha,
/// seeded and periodically reseeded from the operating system) rather than a
/// system call per entry: an import makes two entries per row.
pub fn new_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    rand::fill(&mut salt);
    salt
}

/// Milliseconds since the Unix epoch, for an entry's time.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_round_trip_and_nothing_else_parses() {
        let person = PersonId::new();
        let request = homeward_domain::TracingRequestId::new();
        for key in [
            RecordKey::Conflict,
            RecordKey::Identity("0190c6e2-0000-7000-8000-000000000000".into()),
            RecordKey::Status { person, seq: 2 },
            RecordKey::Tracing { request, seq: 1 },
        ] {
            assert_eq!(RecordKey::parse(&key.record_id()), Some(key.clone()), "{}", key.record_id());
        }
        for bad in ["", "conflict/1", "identity/", "person/x/status/1", "person/{person}/status", "tracing/1/2", "x"] {
            assert_eq!(RecordKey::parse(bad), None, "{bad}");
        }
        assert_eq!(RecordKey::parse(&format!("person/{person}/status/x")), None);
    }
}
