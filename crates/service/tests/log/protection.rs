//! The log's protections found missing by the outside review (issue 20),
//! each case run on both backends, tampering done directly in the database.

use std::sync::Arc;

use homeward_domain::{PersonId, Status, StatusEvent};
use homeward_service::log::verify::{ProblemKind, VerifyOptions, verify};
use homeward_service::log::{reveal, root_at, sequence_and_sign};
use homeward_store::{Keyring, Store};
use homeward_tlog::{KeyType, Signer};

use crate::{Db, Raw, check, code, first, populate, signer};

on_both!(
    a_forged_entry_is_never_sequenced_and_is_named,
    leaf_times_never_go_backwards,
    nothing_to_vouch_for_the_log_fails_and_a_misplaced_checkpoint_is_named,
    witnesses_catch_leaves_deleted_with_their_checkpoints,
    leaves_name_no_records_and_old_leaves_still_verify,
);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Db {
    /// A blob literal.
    fn blob(&self, bytes: &[u8]) -> String {
        match self.raw {
            Raw::Sqlite(_) => format!("X'{}'", hex(bytes)),
            Raw::Postgres { .. } => format!("'\\x{}'::bytea", hex(bytes)),
        }
    }

    /// An insider's status event and its entry, well formed (the commitment
    /// matches the record), dated `time_ms`, with the MAC `mac` says.
    async fn forge_status(&self, person: PersonId, seq: u32, mac: Forged<'_>, time_ms: i64) {
        let event = StatusEvent::new(Status::Deceased);
        let content = homeward_store::log::status_content(person, seq, &event, "A");
        let (salt, commitment) = homeward_store::log::commit(&content);
        let record_id = format!("person/{person}/status/{seq}");
        let mac = match mac {
            Forged::NoMac => "NULL".to_owned(),
            Forged::WrongMac => self.blob(&[7u8; 32]),
            Forged::WithKeys(keys) => {
                let actor = homeward_store::Actor { role: "party_officer".into(), party: Some("A".into()) };
                let message = homeward_store::log::entry_mac_message(
                    time_ms,
                    &actor,
                    "status.recorded",
                    "status_event",
                    &record_id,
                    &commitment,
                );
                self.blob(&keys.entry_key().mac(&message))
            }
        };
        let id = match self.raw {
            Raw::Sqlite(_) => "(SELECT max(id) + 1 FROM log_entry)",
            Raw::Postgres { .. } => "nextval('log_entry_id_seq')",
        };
        self.exec(&format!(
            "INSERT INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)
             VALUES ({id}, {time_ms}, 'party_officer', 'A', 'status.recorded', 'status_event', '{record_id}', {}, {}, {mac});
             INSERT INTO status_event (person_id, seq, status, reported_by, recorded_at, log_id)
             VALUES ({}, {seq}, 'deceased', 'A', '2026-01-01T00:00:00.000Z', (SELECT max(id) FROM log_entry));",
            self.blob(&salt),
            self.blob(&commitment),
            self.person(person),
        ))
        .await;
    }
}

/// The MAC of a forged entry: none, a wrong one, or a right one made with
/// the key files (an insider who has them).
enum Forged<'a> {
    NoMac,
    WrongMac,
    WithKeys(&'a Keyring),
}

/// Issue 20, finding 5: someone who can write the database but not read the
/// key files appends a "deceased" event with a well-formed entry. Before,
/// the sequencer signed it into the next checkpoint and verify found
/// nothing. Now the sequencer refuses it (publication stops there, loudly)
/// and verify names it; with no MAC at all, the same.
async fn a_forged_entry_is_never_sequenced_and_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    for mac in [Forged::WrongMac, Forged::NoMac] {
        db.forge_status(ids[0], 3, mac, homeward_store::log::now_ms()).await;
        let err = sequence_and_sign(db.store.as_ref(), &signer).await.unwrap_err();
        assert!(err.to_string().contains("was not written by homeward"), "{err}");
        assert_eq!(db.store.tree_head().await.unwrap().size, 13, "nothing was sequenced");
        let report = check(&db, &signer, None).await;
        let (kind, message) = first(&report);
        assert_eq!(kind, ProblemKind::ForgedEntry, "{report:?}");
        assert!(message.contains("waiting entry") && message.contains("not written by homeward"), "{message}");
        db.exec(&format!(
            "DELETE FROM status_event WHERE person_id = {} AND seq = 3;
             DELETE FROM log_entry WHERE id = (SELECT max(id) FROM log_entry);",
            db.person(ids[0])
        ))
        .await;
        assert!(check(&db, &signer, None).await.ok());
    }
    // The store's own writes go on being sequenced.
    db.store.add_status_event(ids[0], StatusEvent::new(Status::Hospitalised), &code("A")).await.unwrap();
    assert_eq!(sequence_and_sign(db.store.as_ref(), &signer).await.unwrap().0.size, 14);
}

/// Finding 5, backdating: an entry dated a day before the leaf ahead of it.
/// With the entry key (the only way to get it past the sequencer), SQLite
/// would give the leaf that time, and verify names it; PostgreSQL, whose
/// concurrent writers commit out of time order, dates the leaf no earlier
/// than the one before.
async fn leaf_times_never_go_backwards(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let day_ago = homeward_store::log::now_ms() - 86_400_000;
    db.forge_status(ids[1], 3, Forged::WithKeys(&db.keys), day_ago).await;
    sequence_and_sign(db.store.as_ref(), &signer).await.unwrap();
    let leaves = db.store.entries(0, 14).await.unwrap();
    let (last, before) = (leaves[13].leaf().unwrap(), leaves[12].leaf().unwrap());
    let report = check(&db, &signer, None).await;
    match db.raw {
        Raw::Sqlite(_) => {
            assert_eq!(last.time_ms, day_ago);
            let (kind, message) = first(&report);
            assert_eq!(kind, ProblemKind::Backdated, "{report:?}");
            assert!(message.contains("leaf 13 is dated") && message.contains("backdated"), "{message}");
        }
        Raw::Postgres { .. } => {
            assert!(last.time_ms >= before.time_ms, "{} < {}", last.time_ms, before.time_ms);
            assert!(report.ok(), "{report:?}");
        }
    }
}

/// Finding 6: with every checkpoint deleted, verify had reported "0
/// checkpoints checked" and passed; a checkpoint row holding another size's
/// note was not reported.
async fn nothing_to_vouch_for_the_log_fails_and_a_misplaced_checkpoint_is_named(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let note13 = db.store.latest_checkpoint().await.unwrap().unwrap().note;
    db.store.add_status_event(ids[0], StatusEvent::new(Status::Hospitalised), &code("A")).await.unwrap();
    sequence_and_sign(db.store.as_ref(), &signer).await.unwrap();
    // The row of size 14 now holds the note of 13 (the server would serve it).
    db.exec(&format!("UPDATE log_checkpoint SET note = '{note13}' WHERE size = 14")).await;
    let report = check(&db, &signer, None).await;
    assert!(
        report.problems.iter().any(|p| p.kind == ProblemKind::BadCheckpoint
            && p.message.contains("checkpoint 14: the row holds the signed checkpoint of 13 leaves")),
        "{report:?}"
    );
    db.exec("DELETE FROM log_checkpoint").await;
    let report = check(&db, &signer, None).await;
    let (kind, message) = first(&report);
    assert_eq!(kind, ProblemKind::Unvouched, "{report:?}");
    assert!(message.contains("no signed checkpoint") && message.contains("14 leaves"), "{message}");
}

/// Finding 6: deleting the latest leaves together with the checkpoints above
/// them passed verify. The witnesses keep what they cosigned: verify asks
/// them. Finding 7: verification can require their cosignatures.
async fn witnesses_catch_leaves_deleted_with_their_checkpoints(db: Db) {
    use homeward_service::log::witnesses::{WitnessTarget, Witnesses};
    let signer = signer();
    let ids = populate(&db, &signer).await;
    let dir = tempfile::tempdir().unwrap();
    let wkey = Signer::generate("witness.party-a.test", KeyType::CosignatureV1).unwrap();
    let witness = homeward_witness::Witness::open(homeward_witness::WitnessConfig {
        signer: wkey.clone(),
        logs: vec![homeward_witness::LogConfig {
            origin: signer.name().to_owned(),
            verifiers: vec![signer.verifier()],
        }],
        state_path: dir.path().join("w.json"),
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = homeward_witness::router(Arc::new(witness));
    let server = tokio::spawn(async move { axum_serve(listener, app).await });
    let witnesses = Witnesses::new(&[WitnessTarget {
        name: "party-a".into(),
        url: format!("http://{addr}"),
        key: wkey.verifier().to_key_string(),
        required: true,
    }])
    .unwrap();
    let options = |require| VerifyOptions { witnesses: Some(&witnesses), require_cosignatures: require, against: None };
    // Checkpoint 13 was signed before the witness existed: it is not cosigned.
    let report = verify(db.store.clone(), &signer.verifier(), options(true)).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.kind == ProblemKind::MissingCosignature
            && p.message.contains("checkpoint 13 has no valid cosignature of the required witness party-a")),
        "{report:?}"
    );
    db.store.add_status_event(ids[0], StatusEvent::new(Status::Hospitalised), &code("A")).await.unwrap();
    let (head, signed) =
        homeward_service::log::sequence_and_publish(db.store.as_ref(), &signer, Some(&witnesses)).await.unwrap();
    assert!(signed && head.size == 14);
    let report = verify(db.store.clone(), &signer.verifier(), options(true)).await.unwrap();
    assert!(report.ok() && report.witnesses == 1, "{report:?}");

    // The last change, its leaf and the checkpoint above it go; the tree is
    // made to look whole. The database alone vouches for 13 leaves.
    let last_leaf = match db.raw {
        Raw::Sqlite(_) => "id = 14",
        Raw::Postgres { .. } => "leaf_index = 13",
    };
    db.exec(&format!(
        "DELETE FROM status_event WHERE person_id = {} AND seq = 3;
         UPDATE person SET status_seq = 2 WHERE id = {};
         DELETE FROM log_entry WHERE {last_leaf};
         DELETE FROM log_checkpoint WHERE size = 14;",
        db.person(ids[0]),
        db.person(ids[0]),
    ))
    .await;
    let root13 = root_at(db.store.as_ref(), 13).await.unwrap();
    let root = db.blob(root13.as_bytes());
    db.exec(&format!("UPDATE log_tree SET size = 13, root = {root} WHERE id = 1")).await;
    let alone = check(&db, &signer, None).await;
    assert!(alone.ok(), "the database alone cannot tell: {alone:?}");
    let report = verify(db.store.clone(), &signer.verifier(), options(false)).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.kind == ProblemKind::Truncated
            && p.message.contains("witness party-a cosigned")
            && p.message.contains("signed for 14 leaves but the log has 13")),
        "{report:?}"
    );
    // A witness that cannot be asked leaves the log unvouched.
    server.abort();
    let _ = server.await;
    let report = verify(db.store.clone(), &signer.verifier(), options(false)).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.kind == ProblemKind::Unvouched && p.message.contains("witness party-a")),
        "{report:?}"
    );
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) {
    axum::serve(listener, app).await.unwrap();
}

/// Finding 1: a status leaf named the person (`person/<uuid>/status/<n>`),
/// so anyone could follow one person's changes. Leaves written now (version
/// 2) name no record; leaves of an older log (version 1) keep verifying,
/// and a reveal bundle of either still proves its record.
async fn leaves_name_no_records_and_old_leaves_still_verify(db: Db) {
    let signer = signer();
    let ids = populate(&db, &signer).await;
    for e in db.store.entries(0, 13).await.unwrap() {
        let leaf = e.leaf().unwrap();
        assert_eq!(leaf.version(), 2);
        let bytes = leaf.to_bytes().unwrap();
        for id in &ids {
            let needle = id.to_string();
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "leaf {} names a person", e.id);
        }
        assert!(!bytes.windows(9).any(|w| w == b"identity/"), "leaf {} names an identity version", e.id);
    }
    let record = format!("person/{}/status/2", ids[2]);
    let bundle = reveal::reveal(db.store.as_ref(), &record).await.unwrap();
    assert_eq!((bundle.leaf.version, bundle.leaf.record_id.as_ref()), (2, None));
    assert_eq!(reveal::check(&bundle, &signer.verifier()).unwrap().record_id, record);
    // A v2 bundle whose content is of another kind than its event type logs.
    let mut wrong = bundle.clone();
    wrong.leaf.event_type = "tracing.filed".into();
    assert_eq!(reveal::check(&wrong, &signer.verifier()), Err(reveal::CheckError::WrongRecord));

    // An older homeward's log: every entry without a MAC (version 1 leaves),
    // its tree and checkpoint rebuilt as that homeward made them.
    let reset = match db.raw {
        Raw::Sqlite(_) => "",
        Raw::Postgres { .. } => "UPDATE log_entry SET leaf_index = NULL, leaf_time_ms = NULL;",
    };
    let empty = db.blob(homeward_tlog::empty_root().as_bytes());
    db.exec(&format!(
        "UPDATE log_entry SET mac = NULL; {reset}
         DELETE FROM log_hash; DELETE FROM log_checkpoint;
         UPDATE log_tree SET size = 0, root = {empty} WHERE id = 1;"
    ))
    .await;
    // The sequencer takes MAC-less entries only after a version 1 leaf: the
    // first must be integrated as an older homeward did. Integrate it by hand.
    let first_only = legacy_sequence(&db, &signer).await;
    assert_eq!(first_only, 13);
    let report = check(&db, &signer, None).await;
    assert!(report.ok(), "a version 1 log verifies: {report:?}");
    let old = reveal::reveal(db.store.as_ref(), &record).await.unwrap();
    assert_eq!((old.leaf.version, old.leaf.record_id.as_deref()), (1, Some(record.as_str())));
    assert_eq!(reveal::check(&old, &signer.verifier()).unwrap().record_id, record);
    // New writes after it get version 2 leaves, and the log still verifies.
    db.store.add_status_event(ids[2], StatusEvent::new(Status::Hospitalised), &code("A")).await.unwrap();
    assert_eq!(sequence_and_sign(db.store.as_ref(), &signer).await.unwrap().0.size, 14);
    let last = db.store.entries(13, 14).await.unwrap().remove(0).leaf().unwrap();
    assert_eq!(last.version(), 2);
    let report = check(&db, &signer, None).await;
    assert!(report.ok(), "{report:?}");
    // A MAC-less entry after version 2 leaves is refused and named.
    db.forge_status(ids[3], 3, Forged::NoMac, homeward_store::log::now_ms()).await;
    assert!(sequence_and_sign(db.store.as_ref(), &signer).await.is_err());
}

/// Sequences the MAC-less entries of a database as homeward before leaf
/// version 2 did: the first leaf by hand (the sequencer of today refuses a
/// MAC-less entry on an empty log), then the sequencer, which accepts them
/// after a version 1 leaf. Returns the tree size.
async fn legacy_sequence(db: &Db, signer: &Signer) -> u64 {
    let first = db.store.audit_entries_first().await;
    let leaf = homeward_tlog::LogLeaf {
        seq: 0,
        time_ms: first.time_ms,
        actor_role: first.actor_role.clone(),
        actor_party: first.actor_party.clone(),
        event_type: first.event_type.clone(),
        record: Some(homeward_tlog::LeafRecord {
            record_type: first.record_type.clone(),
            record_id: first.record_id.clone(),
        }),
        commitment: first.commitment,
    };
    let hash = db.blob(leaf.leaf_hash().unwrap().as_bytes());
    let place = match db.raw {
        Raw::Sqlite(_) => String::new(),
        Raw::Postgres { .. } => {
            format!("UPDATE log_entry SET leaf_index = 0, leaf_time_ms = time_ms WHERE id = {};", first.id)
        }
    };
    db.exec(&format!("INSERT INTO log_hash (idx, hash) VALUES (0, {hash}); UPDATE log_tree SET size = 1, root = {hash} WHERE id = 1; {place}"))
        .await;
    sequence_and_sign(db.store.as_ref(), signer).await.unwrap().0.size
}

trait FirstEntry {
    async fn audit_entries_first(&self) -> homeward_store::LogEntry;
}

impl FirstEntry for Arc<dyn Store> {
    async fn audit_entries_first(&self) -> homeward_store::LogEntry {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let s = self.clone();
        let reader = tokio::spawn(async move { s.audit_entries(tx).await });
        let first = rx.recv().await.unwrap();
        drop(rx);
        let _ = reader.await;
        first
    }
}
