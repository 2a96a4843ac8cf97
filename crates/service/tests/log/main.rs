//! The shared log end to end on both backends: every change is logged,
//! sequenced and checkpointed; proofs verify; reveal bundles check; and
//! `verify` detects and names each kind of tampering done directly in the
//! database (SQLite always, PostgreSQL when HOMEWARD_TEST_DATABASE_URL is set).
//! This file holds the shared fixtures and the first cases; `protection.rs`
//! the cases of the protection review.

use std::str::FromStr;
use std::sync::Arc;

use homeward_domain::{
    Category, ConflictSetup, PartialDate, Party, PartyCode, PartyKind, PersonId, PersonIdentity, SourceRef, Status,
    StatusEvent,
};
use homeward_service::log::verify::{ProblemKind, VerifyOptions, VerifyReport, verify};
use homeward_service::log::{prove_consistency, prove_inclusion, reveal, root_at, sequence_and_sign};
use homeward_store::{Keyring, NewPerson, Store};
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;
use homeward_tlog::{KeyType, Signer, open_checkpoint, verify_consistency, verify_inclusion};

/// A store plus a way to run raw SQL on its database, as an intruder would.
struct Db {
    store: Arc<dyn Store>,
    keys: Keyring,
    raw: Raw,
    _dir: Option<tempfile::TempDir>,
}

enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Db {
    /// The same database opened with another field keyring.
    async fn reopen(&self, keys: Keyring) -> Arc<dyn Store> {
        match &self.raw {
            Raw::Sqlite(path) => Arc::new(SqliteStore::open_with(path, keys).await.unwrap()),
            Raw::Postgres { url, schema } => {
                Arc::new(PgStore::connect_in_schema_with(url, Some(schema), keys).await.unwrap())
            }
        }
    }

    async fn exec(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(path) => {
                let (path, sql) = (path.clone(), sql.to_owned());
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(path).unwrap();
                    c.execute_batch(&sql).unwrap();
                })
                .await
                .unwrap();
            }
            Raw::Postgres { url, schema } => {
                let options = sqlx::postgres::PgConnectOptions::from_str(url)
                    .unwrap()
                    .options([("search_path", schema.as_str())]);
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    /// SQL selecting the entry of leaf `i` (SQLite derives the leaf index from the dense id).
    fn leaf(&self, i: u64) -> String {
        match self.raw {
            Raw::Sqlite(_) => format!("id = {}", i + 1),
            Raw::Postgres { .. } => format!("leaf_index = {i}"),
        }
    }

    /// SQL for a person id literal.
    fn person(&self, id: PersonId) -> String {
        match self.raw {
            Raw::Sqlite(_) => format!("X'{}'", id.0.simple()),
            Raw::Postgres { .. } => format!("'{}'::uuid", id.0),
        }
    }
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("homeward.db");
    let keys = Keyring::generate();
    let store = SqliteStore::open_with(&path, keys.clone()).await.unwrap();
    Db { store: Arc::new(store), keys, raw: Raw::Sqlite(path), _dir: Some(dir) }
}

async fn postgres() -> Option<Db> {
    let url = match std::env::var("HOMEWARD_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HOMEWARD_TEST_DATABASE_URL is not set")
        }
        _ => return None,
    };
    let schema = format!("hw_log_{}", uuid::Uuid::now_v7().simple());
    let keys = Keyring::generate();
    let store = PgStore::connect_in_schema_with(&url, Some(&schema), keys.clone()).await.unwrap();
    Some(Db { store: Arc::new(store), keys, raw: Raw::Postgres { url, schema }, _dir: None })
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Raw::Postgres { url, schema } = &self.raw {
            let (url, schema) = (url.clone(), schema.clone());
            // Dropping the schema needs a runtime of its own: Drop is synchronous.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(PgStore::drop_schema(&url, &schema))
            })
            .join();
        }
    }
}

fn code(s: &str) -> PartyCode {
    PartyCode::parse(s).unwrap()
}

fn setup() -> ConflictSetup {
    ConflictSetup {
        name: "log test".into(),
        parties: vec![
            Party { code: code("A"), name: "A".into(), kind: PartyKind::Party },
            Party { code: code("B"), name: "B".into(), kind: PartyKind::Party },
            Party { code: code("M"), name: "M".into(), kind: PartyKind::Mediator },
        ],
        // Not in code order, as a setup file may list them.
        handover_points: vec![
            homeward_domain::HandoverPoint { code: "Z-POINT".into(), name: "Z".into(), country: "T".into() },
            homeward_domain::HandoverPoint { code: "A-POINT".into(), name: "A".into(), country: "T".into() },
        ],
    }
}

fn identity(n: usize) -> PersonIdentity {
    PersonIdentity {
        family_name: format!("Коваленко-{n}"),
        given_names: "Олександр".into(),
        patronymic: None,
        mother_maiden_name: None,
        birth_date: Some(PartialDate::parse("1998-03-07").unwrap()),
        place_of_birth: None,
        rank: None,
        service_number: None,
        unit: None,
        power: code("B"),
        category: Category::Military,
        person_to_inform: None,
        correspondence_address: None,
    }
}

/// A conflict, 4 persons with 2 statuses each: 1 + 4 * 3 = 13 entries, signed.
async fn populate(db: &Db, signer: &Signer) -> Vec<PersonId> {
    db.store.set_conflict(&setup()).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..4 {
        let id = db
            .store
            .add_person(NewPerson {
                source: SourceRef { source: code("A"), record_id: format!("A-{n}") },
                identity: identity(n),
                first_status: StatusEvent::new(Status::Captured),
            })
            .await
            .unwrap();
        db.store.add_status_event(id, StatusEvent::new(Status::Held), &code("A")).await.unwrap();
        ids.push(id);
    }
    let (head, signed) = sequence_and_sign(db.store.as_ref(), signer).await.unwrap();
    assert!(signed);
    assert_eq!(head.size, 13);
    ids
}

fn signer() -> Signer {
    Signer::generate("homeward.test/log", KeyType::Ed25519).unwrap()
}

async fn check(db: &Db, signer: &Signer, against: Option<&str>) -> VerifyReport {
    verify(db.store.clone(), &signer.verifier(), VerifyOptions { against, ..Default::default() }).await.unwrap()
}

fn first(report: &VerifyReport) -> (ProblemKind, String) {
    let p = report.problems.first().unwrap_or_else(|| panic!("expected a problem, got none: {report:?}"));
    (p.kind, p.message.clone())
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(crate::sqlite().await).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                match crate::postgres().await {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set"),
                }
            })*
        }
    };
}

on_both!(
    every_change_is_logged_and_proofs_verify,
    a_clean_log_verifies,
    an_edited_row_is_named,
    a_deleted_row_is_named,
    an_inserted_row_is_named,
    a_removed_leaf_is_named,
    reordered_leaves_are_named,
    a_truncated_log_is_named,
    a_rewritten_history_is_caught_against_a_saved_checkpoint,
    a_reveal_bundle_checks_and_a_changed_one_does_not,
    rotating_the_field_keys_leaves_the_log_verifying,
);

/// What the protection review (issue 20) found about the log, each kept
/// fixed: forged and backdated entries, nothing to vouch for the log,
/// truncation the witnesses catch, leaves that name no record.
mod protection;

/// Contact fields are sealed below the log: the log commits to plaintext, so
/// re-sealing them with a new key changes no commitment.
async fn rotating_the_field_keys_leaves_the_log_verifying(db: Db) {
    let signer = signer();
    populate(&db, &signer).await;
    let mut with_contacts = identity(9);
    with_contacts.person_to_inform = Some("Олена, +380 44 123 4567".into());
    with_contacts.correspondence_address = Some("вул. Хрещатик 1, Київ".into());
    let id = db
        .store
        .add_person(NewPerson {
            source: SourceRef { source: code("B"), record_id: "B-9".into() },
            identity: with_contacts.clone(),
            first_status: StatusEvent::new(Status::Missing),
        })
        .await
        .unwrap();
    sequence_and_sign(db.store.as_ref(), &signer).await.unwrap();
    assert!(check(&db, &signer, None).await.problems.is_empty());

    let mut rotated = db.keys.clone();
    rotated.add_key();
    let store = db.reopen(rotated).await;
    assert_eq!(store.reseal_contacts(100).await.unwrap(), 2);
    assert_eq!(store.person(id).await.unwrap().unwrap().identities[0].identity, with_contacts);
    let report = verify(store.clone(), &signer.verifier(), VerifyOptions::default()).await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    // The record's reveal bundle still checks: its content is the plaintext.
    let entries = store.entries(0, store.tree_head().await.unwrap().size).await.unwrap();
    let entry = entries.iter().find(|e| e.actor_party.as_deref() == Some("B")).unwrap();
    let bundle = reveal::reveal(store.as_ref(), &entry.record_id).await.unwrap();
    reveal::check(&bundle, &signer.verifier()).unwrap();
    assert!(format!("{bundle:?}").contains("Хрещатик"), "the bundle reveals the plaintext, not the sealed value");
}

async fn every_change_is_logged_and_proofs_verify(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let entries = db.store.entries(0, 13).await.unwrap();
    let kinds: Vec<&str> = entries.iter().take(4).map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["conflict.set", "person.registered", "status.recorded", "status.recorded"]);
    assert_eq!(entries[0].actor_role, "admin");
    assert_eq!(entries[1].actor_party.as_deref(), Some("A"));
    assert_eq!(entries[2].record_id, format!("person/{}/status/1", ids[0]));
    // Leaves carry no personal data.
    for e in &entries {
        let leaf = format!("{:?}", e.leaf().unwrap());
        assert!(!leaf.contains("Коваленко") && !leaf.contains("1998-03-07"), "{leaf}");
    }
    let cp = db.store.latest_checkpoint().await.unwrap().unwrap();
    let (checkpoint, _) = open_checkpoint(&cp.note, signer.name(), &[signer.verifier()]).unwrap();
    assert_eq!(checkpoint.size, 13);
    assert_eq!(checkpoint.root, db.store.tree_head().await.unwrap().root);
    for (i, e) in entries.iter().enumerate() {
        let proof = prove_inclusion(db.store.as_ref(), i as u64, 13).await.unwrap();
        verify_inclusion(&e.leaf().unwrap().leaf_hash().unwrap(), i as u64, 13, &proof, &checkpoint.root).unwrap();
    }
    // More changes; the new checkpoint is consistent with the old one.
    db.store.add_status_event(ids[1], StatusEvent::new(Status::Hospitalised), &code("A")).await.unwrap();
    let (head, _) = sequence_and_sign(db.store.as_ref(), &signer).await.unwrap();
    assert_eq!(head.size, 14);
    let proof = prove_consistency(db.store.as_ref(), 13, 14).await.unwrap();
    verify_consistency(13, 14, &checkpoint.root, &head.root, &proof).unwrap();
    assert_eq!(root_at(db.store.as_ref(), 13).await.unwrap(), checkpoint.root);
}

async fn a_clean_log_verifies(db: Db) {
    let signer = signer();
    populate(&db, &signer).await;
    let report = check(&db, &signer, None).await;
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.leaves, report.records, report.checkpoints), (13, 13, 1));
}

async fn an_edited_row_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let person = db.person(ids[2]);
    db.exec(&format!("UPDATE status_event SET place = 'elsewhere' WHERE person_id = {person} AND seq = 2")).await;
    let (kind, message) = first(&check(&db, &signer, None).await);
    assert_eq!(kind, ProblemKind::EditedRecord);
    assert!(message.contains(&format!("person/{}/status/2", ids[2])) && message.contains("edited"), "{message}");
}

async fn a_deleted_row_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let person = db.person(ids[1]);
    db.exec(&format!("DELETE FROM status_event WHERE person_id = {person} AND seq = 2")).await;
    let (kind, message) = first(&check(&db, &signer, None).await);
    assert_eq!(kind, ProblemKind::DeletedRecord);
    assert!(message.contains(&format!("person/{}/status/2", ids[1])) && message.contains("deleted"), "{message}");
}

async fn an_inserted_row_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let person = db.person(ids[3]);
    db.exec(&format!(
        "INSERT INTO status_event (person_id, seq, status, reported_by, recorded_at)
         VALUES ({person}, 3, 'deceased', 'A', '2026-01-01T00:00:00.000Z')"
    ))
    .await;
    let (kind, message) = first(&check(&db, &signer, None).await);
    assert_eq!(kind, ProblemKind::UnloggedRecord);
    assert!(message.contains(&format!("person/{}/status/3", ids[3])), "{message}");
}

async fn a_removed_leaf_is_named(db: Db) {
    let signer = signer();
    populate(&db, &signer).await;
    db.exec(&format!("DELETE FROM log_entry WHERE {}", db.leaf(5))).await;
    let report = check(&db, &signer, None).await;
    let (kind, message) = first(&report);
    assert_eq!(kind, ProblemKind::MissingLeaf);
    assert!(message.contains("leaf 5 is missing"), "{message}");
}

async fn reordered_leaves_are_named(db: Db) {
    let signer = signer();
    populate(&db, &signer).await;
    let column = match db.raw {
        Raw::Sqlite(_) => ("id", 1),
        Raw::Postgres { .. } => ("leaf_index", 0),
    };
    let (col, off) = column;
    db.exec(&format!(
        "UPDATE log_entry SET {col} = -1 WHERE {col} = {a};
         UPDATE log_entry SET {col} = {a} WHERE {col} = {b};
         UPDATE log_entry SET {col} = {b} WHERE {col} = -1;",
        a = 7 + off,
        b = 8 + off
    ))
    .await;
    let (kind, message) = first(&check(&db, &signer, None).await);
    assert_eq!(kind, ProblemKind::TreeMismatch);
    assert!(message.contains("leaf 7"), "{message}");
}

async fn a_truncated_log_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    // Remove the last person's last two changes, records and leaves alike, and
    // make the tree look whole: only the signed checkpoint remembers.
    let person = db.person(ids[3]);
    let from_leaf_11 = match db.raw {
        Raw::Sqlite(_) => "id >= 12",
        Raw::Postgres { .. } => "leaf_index >= 11",
    };
    db.exec(&format!(
        "DELETE FROM status_event WHERE person_id = {person};
         DELETE FROM log_entry WHERE {from_leaf_11};
         UPDATE log_tree SET size = 11 WHERE id = 1;
         UPDATE person SET status_seq = 0 WHERE id = {person};"
    ))
    .await;
    let report = check(&db, &signer, None).await;
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Truncated && p.message.contains("signed for 13 leaves but the log has 11")),
        "{:?}",
        report.problems
    );
}

async fn a_rewritten_history_is_caught_against_a_saved_checkpoint(db: Db) {
    let signer = signer();
    populate(&db, &signer).await;
    let saved = db.store.latest_checkpoint().await.unwrap().unwrap().note;
    // An intruder with the database and every key (the log key, and the
    // key files that authenticate entries) says party B made leaf 4's
    // change, then rebuilds every hash and re-signs: the database is
    // self-consistent.
    let mut entry = db.store.entries(4, 5).await.unwrap().remove(0);
    entry.actor_party = Some("B".into());
    let mac = db.keys.entry_key().mac(&entry.mac_message());
    let mac = mac.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (mac, reset) = match db.raw {
        Raw::Sqlite(_) => (format!("X'{mac}'"), ""),
        Raw::Postgres { .. } => (format!("'\\x{mac}'::bytea"), "UPDATE log_entry SET leaf_index = NULL;"),
    };
    db.exec(&format!(
        "UPDATE log_entry SET actor_party = 'B', mac = {mac} WHERE {};
         {reset}
         DELETE FROM log_hash; DELETE FROM log_checkpoint;
         UPDATE log_tree SET size = 0 WHERE id = 1;",
        db.leaf(4)
    ))
    .await;
    // Back to the empty root, then let the sequencer re-sign the forged history.
    let empty = homeward_tlog::empty_root().to_hex();
    match db.raw {
        Raw::Sqlite(_) => db.exec(&format!("UPDATE log_tree SET root = X'{empty}' WHERE id = 1")).await,
        Raw::Postgres { .. } => db.exec(&format!("UPDATE log_tree SET root = '\\x{empty}'::bytea WHERE id = 1")).await,
    }
    sequence_and_sign(db.store.as_ref(), &signer).await.unwrap();
    let alone = check(&db, &signer, None).await;
    assert!(alone.ok(), "the forgery is self-consistent: {:?}", alone.problems);
    let (kind, message) = first(&check(&db, &signer, Some(&saved)).await);
    assert_eq!(kind, ProblemKind::RewrittenHistory);
    assert!(message.contains("first 13 leaves have a different root"), "{message}");
}

async fn a_reveal_bundle_checks_and_a_changed_one_does_not(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let record = format!("person/{}/status/2", ids[0]);
    let bundle = reveal::reveal(db.store.as_ref(), &record).await.unwrap();
    let checked = reveal::check(&bundle, &signer.verifier()).unwrap();
    assert_eq!(checked.record_id, record);
    assert_eq!(checked.checkpoint_size, 13);
    assert_eq!(bundle.content["status"], "held");
    let mut forged = bundle.clone();
    forged.content["status"] = "released".into();
    assert_eq!(reveal::check(&forged, &signer.verifier()), Err(reveal::CheckError::Commitment));
    let mut forged = bundle.clone();
    forged.leaf.index += 1;
    assert_eq!(reveal::check(&forged, &signer.verifier()), Err(reveal::CheckError::Inclusion));
    let other = Signer::generate("homeward.test/log", KeyType::Ed25519).unwrap();
    assert!(matches!(reveal::check(&bundle, &other.verifier()), Err(reveal::CheckError::Checkpoint(_))));
    assert!(matches!(
        reveal::reveal(db.store.as_ref(), &format!("person/{}/status/9", ids[0])).await,
        Err(reveal::RevealError::NotFound(_))
    ));
}
