//! Contact fields at rest: sealed in the database, plaintext through the
//! store, re-sealed by rotation, and a value that does not open is an error
//! naming the record. The test harness gives raw SQL on the backend's
//! database, as an intruder (or a backup thief) would have.

use async_trait::async_trait;
use homeward_domain::{SourceRef, Status, StatusEvent};
use homeward_store::seal::key_id;
use homeward_store::{ImportRow, Keyring, NewPerson, StoreError};

use crate::{DynStore, code, identity, ready};

/// Raw access to one backend's database.
#[async_trait]
pub trait RawDb: Send + Sync {
    /// Opens (or reopens) the store on the same database with `keys`.
    async fn open(&self, keys: Keyring) -> DynStore;
    /// (record_id, person_to_inform, correspondence_address) of every identity version, by record id.
    async fn contacts(&self) -> Vec<(String, Option<String>, Option<String>)>;
    /// Runs a statement.
    async fn exec(&self, sql: &str);
    /// (record_id, version, fingerprint, fingerprint_scheme) of every identity version, by record id and version.
    async fn fingerprints(&self) -> Vec<(String, i64, Vec<u8>, i64)>;
    /// Overwrites one identity version's fingerprint and scheme, as an older homeward wrote them.
    async fn set_fingerprint(&self, record_id: &str, fingerprint: &[u8], scheme: i64);
    /// The stored `status_event.details` that are not NULL, by person and seq.
    async fn details(&self) -> Vec<String>;
}

const INFORM: &str = "Олена Коваленко, +380 44 123 4567";
const ADDRESS: &str = "вул. Хрещатик 1, Київ";

fn with_contacts(family: &str) -> homeward_domain::PersonIdentity {
    let mut i = identity(family, "Олександр");
    i.person_to_inform = Some(INFORM.into());
    i.correspondence_address = Some(ADDRESS.into());
    i
}

fn assert_sealed(raw: &[(String, Option<String>, Option<String>)], key: u32) {
    for (record, a, b) in raw {
        for v in [a, b] {
            let v = v.as_deref().unwrap_or_else(|| panic!("{record}: contact missing"));
            assert_eq!(key_id(v).unwrap(), key, "{record}: sealed with key {key}");
            assert!(
                !v.contains("Олена") && !v.contains("Хрещатик") && !v.contains("+380 44"),
                "{record}: plaintext at rest"
            );
        }
    }
}

pub async fn contact_fields_are_sealed_at_rest_and_rotate(db: Box<dyn RawDb>) {
    let keys = Keyring::generate();
    let store = db.open(keys.clone()).await;
    ready(&store).await;
    let id = store
        .add_person(NewPerson {
            source: SourceRef { source: code("A"), record_id: "a1".into() },
            identity: with_contacts("Коваленко"),
            first_status: StatusEvent::new(Status::Captured),
        })
        .await
        .unwrap();
    // Enough rows for a backend's chunked import path, and a short tail.
    let rows = (0..70)
        .map(|n| {
            let source = SourceRef { source: code("B"), record_id: format!("b{n:02}") };
            ImportRow::new(n + 2, source, with_contacts("Шевченко"), Some(StatusEvent::new(Status::Held)))
        })
        .collect();
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows).await.unwrap().is_empty());
    imp.finish(true).await.unwrap();

    // A tracing request: its contact is sealed in the request and in its filing event.
    let request = homeward_domain::TracingRequestId::new();
    store
        .file_tracing_request(homeward_store::NewTracingRequest {
            id: request,
            owner: homeward_store::UserId(uuid::Uuid::now_v7()),
            enquirer_name: "Enquirer".into(),
            relationship: "mother".into(),
            contact: INFORM.into(),
            sought: homeward_domain::SoughtPerson { family_name: "Коваленко".into(), ..Default::default() },
            desk: homeward_domain::Desk::Mediator,
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();

    let before = db.contacts().await;
    assert_eq!(before.len(), 71);
    assert_sealed(&before, 1);
    let person = store.person(id).await.unwrap().unwrap();
    assert_eq!(person.identities[0].identity, with_contacts("Коваленко"), "the store gives plaintext back");
    let (tx, mut rx) = tokio::sync::mpsc::channel(100);
    let exporting = tokio::spawn({
        let store = store.clone();
        async move { store.export_persons(tx).await }
    });
    let mut exported = 0;
    while let Some(row) = rx.recv().await {
        assert_eq!(row.identity.person_to_inform.as_deref(), Some(INFORM));
        assert_eq!(row.identity.correspondence_address.as_deref(), Some(ADDRESS));
        exported += 1;
    }
    assert_eq!(exporting.await.unwrap().unwrap(), 71);
    assert_eq!(exported, 71);
    assert_eq!(store.seal_usage().await.unwrap().by_key.into_iter().collect::<Vec<_>>(), vec![(1, 144)]);

    // Rotate: a new key, every value re-sealed with it, a few rows per transaction.
    let mut rotated = keys.clone();
    assert_eq!(rotated.add_key(), 2);
    let store = db.open(rotated.clone()).await;
    assert_eq!(store.reseal_contacts(16).await.unwrap(), 144);
    assert_eq!(store.reseal_contacts(16).await.unwrap(), 0, "nothing left to re-seal");
    let after = db.contacts().await;
    assert_sealed(&after, 2);
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.0, new.0);
        assert_ne!(old.1, new.1, "{}: the stored value changed", old.0);
        assert_ne!(old.2, new.2, "{}: the stored value changed", old.0);
    }
    assert_eq!(store.person(id).await.unwrap().unwrap().identities[0].identity, with_contacts("Коваленко"));
    assert_eq!(store.seal_usage().await.unwrap().by_key.into_iter().collect::<Vec<_>>(), vec![(2, 144)]);
    assert_eq!(store.tracing_request(request).await.unwrap().unwrap().contact, INFORM);

    // The old keyring alone no longer opens them: an error naming the record, not the value.
    let stale = db.open(keys).await;
    let err = stale.person(id).await.unwrap_err();
    assert!(matches!(err, StoreError::Sealed { .. }), "{err:?}");
    let traced = stale.tracing_request(request).await.unwrap_err();
    assert!(matches!(traced, StoreError::Sealed { .. }) && !traced.to_string().contains(INFORM), "{traced:?}");
    let msg = err.to_string();
    assert!(msg.contains("identity A/a1 version 1") && !msg.contains("Олена"), "{msg}");

    // A value moved to the other column (or altered) does not open.
    db.exec(
        "UPDATE identity_version SET person_to_inform = correspondence_address \
         WHERE source = 'A' AND record_id = 'a1'",
    )
    .await;
    let err = store.person(id).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(&err, StoreError::Sealed { column: "person_to_inform", .. })
            && msg.contains("identity A/a1 version 1"),
        "{msg}"
    );
    assert!(!msg.contains("Хрещатик") && !msg.contains("hw1:"), "{msg}");
}

/// Identity fingerprints are HMAC-SHA256 under the keyring's fingerprint key
/// (scheme 1), so a database copy confirms no guessed value; fingerprints an
/// older homeward wrote unkeyed (scheme 0) still recognise unchanged rows on
/// re-import, and `rekey_fingerprints` keys them.
pub async fn fingerprints_are_keyed_and_old_ones_still_match(db: Box<dyn RawDb>) {
    use homeward_store::seal::{FINGERPRINT_HMAC, FINGERPRINT_UNKEYED};
    let keys = Keyring::generate();
    let store = db.open(keys.clone()).await;
    ready(&store).await;
    let row = |n: u64, unit: &str| {
        let mut i = with_contacts("Коваленко");
        i.unit = Some(unit.into());
        ImportRow::new(
            n + 2,
            SourceRef { source: code("A"), record_id: format!("r{n}") },
            i,
            Some(StatusEvent::new(Status::Held)),
        )
    };
    let import = |rows: Vec<ImportRow>| {
        let store = store.clone();
        async move {
            let mut imp = store.begin_import().await.unwrap();
            assert!(imp.write_batch(rows).await.unwrap().is_empty());
            imp.finish(true).await.unwrap()
        }
    };
    import((0..3).map(|n| row(n, "unit 1")).collect()).await;
    let identity_of = |unit: &str| {
        let mut i = with_contacts("Коваленко");
        i.unit = Some(unit.into());
        i
    };
    let stored = db.fingerprints().await;
    assert_eq!(stored.len(), 3);
    for (record, _, fp, scheme) in &stored {
        assert_eq!(*scheme, FINGERPRINT_HMAC, "{record}");
        assert_eq!(
            fp.as_slice(),
            keys.fingerprint(&identity_of("unit 1")).as_slice(),
            "{record}: HMAC of the identity"
        );
        assert_ne!(
            fp.as_slice(),
            identity_of("unit 1").unkeyed_fingerprint().as_slice(),
            "{record}: not the bare hash"
        );
        assert_ne!(fp.as_slice(), Keyring::generate().fingerprint(&identity_of("unit 1")).as_slice(), "keyed");
    }

    // An older database: r0 and r1 hold the unkeyed hash, scheme 0.
    let unkeyed = identity_of("unit 1").unkeyed_fingerprint();
    db.set_fingerprint("r0", &unkeyed, FINGERPRINT_UNKEYED).await;
    db.set_fingerprint("r1", &unkeyed, FINGERPRINT_UNKEYED).await;
    let usage = store.seal_usage().await.unwrap();
    assert_eq!((usage.keyed_fingerprints, usage.unkeyed_fingerprints), (1, 2));
    // The same file again: every row unchanged, old scheme or new.
    let counts = import((0..3).map(|n| row(n, "unit 1")).collect()).await;
    assert_eq!((counts.unchanged, counts.amended), (3, 0), "{counts:?}");
    // A changed row under the old scheme is a new version (keyed).
    let counts = import(vec![row(1, "unit 2")]).await;
    assert_eq!((counts.unchanged, counts.amended), (0, 1), "{counts:?}");

    // Re-keying: the one left unkeyed (r0) gets its HMAC; nothing is left.
    assert_eq!(store.rekey_fingerprints(1).await.unwrap(), 2, "r0 and r1 version 1");
    assert_eq!(store.rekey_fingerprints(100).await.unwrap(), 0);
    for (record, version, fp, scheme) in db.fingerprints().await {
        assert_eq!(scheme, FINGERPRINT_HMAC, "{record} v{version}");
        let unit = if record == "r1" && version == 2 { "unit 2" } else { "unit 1" };
        assert_eq!(fp.as_slice(), keys.fingerprint(&identity_of(unit)).as_slice(), "{record} v{version}");
    }
    let usage = store.seal_usage().await.unwrap();
    assert_eq!((usage.keyed_fingerprints, usage.unkeyed_fingerprints), (4, 0));
    let counts = import(vec![row(0, "unit 1"), row(1, "unit 2"), row(2, "unit 1")]).await;
    assert_eq!((counts.unchanged, counts.amended), (3, 0), "{counts:?}");
}

const WOUND: &str = "shrapnel wound, left leg";

fn with_details(status: Status, details: &str) -> StatusEvent {
    let mut e = StatusEvent::new(status);
    e.details = Some(details.into());
    e
}

/// Health details (`status_event.details`: wounds, illness, cause of death)
/// are sealed at rest like the contact fields, read back in plaintext, and
/// the log still commits to the plaintext. A value written before details
/// were sealed (plaintext, no `hw1:` prefix) is read as it is, and rotation
/// seals it.
pub async fn health_details_are_sealed_at_rest_and_rotate(db: Box<dyn RawDb>) {
    use homeward_store::log::record;
    let keys = Keyring::generate();
    let store = db.open(keys.clone()).await;
    ready(&store).await;
    let id = store
        .add_person(NewPerson {
            source: SourceRef { source: code("A"), record_id: "a1".into() },
            identity: identity("Коваленко", "Олександр"),
            first_status: with_details(Status::Captured, WOUND),
        })
        .await
        .unwrap();
    let added = store.add_status_event(id, with_details(Status::Hospitalised, WOUND), &code("A")).await.unwrap();
    assert_eq!(added.event.details.as_deref(), Some(WOUND));
    // Enough rows for a backend's chunked import path, and a short tail.
    let rows = |status: Status| {
        (0..70)
            .map(|n| {
                let source = SourceRef { source: code("B"), record_id: format!("b{n:02}") };
                ImportRow::new(n + 2, source, identity("Шевченко", "Петро"), Some(with_details(status, WOUND)))
            })
            .collect::<Vec<_>>()
    };
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows(Status::Held)).await.unwrap().is_empty());
    imp.finish(true).await.unwrap();
    // Re-imported unchanged (compared with the stored, opened, event), then a new status.
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows(Status::Held)).await.unwrap().is_empty());
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.unchanged, counts.status_events), (70, 0), "{counts:?}");
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows(Status::Hospitalised)).await.unwrap().is_empty());
    assert_eq!(imp.finish(true).await.unwrap().status_events, 70);

    let raw = db.details().await;
    assert_eq!(raw.len(), 142);
    for v in &raw {
        // Whole words only: base64 holds short words such as "leg" by chance.
        assert!(v.starts_with("hw1:1:") && !v.contains(WOUND) && !v.contains("shrapnel"), "plaintext at rest: {v}");
    }
    let person = store.person(id).await.unwrap().unwrap();
    assert_eq!(person.timeline.len(), 2);
    for r in &person.timeline {
        assert_eq!(r.event.details.as_deref(), Some(WOUND), "the store gives plaintext back");
    }
    let status = store.person_status(id).await.unwrap().unwrap();
    assert_eq!(status.last.event.details.as_deref(), Some(WOUND));

    // The log commits to the plaintext: every record's commitment still matches.
    let (entry, rec) =
        store.entry_for_record(&homeward_store::RecordKey::Status { person: id, seq: 2 }).await.unwrap().unwrap();
    let rec = rec.unwrap();
    assert_eq!(rec.commitment(&entry.salt), entry.commitment, "the log commits to the plaintext");
    let audited = audit_status_records(&store).await;
    assert_eq!(audited, 142);

    // A value written before details were sealed is read as it is; rotation seals it.
    db.exec("UPDATE status_event SET details = 'typhus' WHERE seq = 2 AND reported_by = 'A'").await;
    let person = store.person(id).await.unwrap().unwrap();
    assert_eq!(person.timeline[1].event.details.as_deref(), Some("typhus"));
    let usage = store.seal_usage().await.unwrap();
    assert_eq!((usage.by_key.get(&1).copied(), usage.unsealed), (Some(141), 1), "{usage:?}");

    let mut rotated = keys.clone();
    assert_eq!(rotated.add_key(), 2);
    let store = db.open(rotated.clone()).await;
    assert_eq!(store.reseal_contacts(16).await.unwrap(), 142);
    assert_eq!(store.reseal_contacts(16).await.unwrap(), 0, "nothing left to re-seal");
    let after = db.details().await;
    assert_eq!(after.len(), 142);
    for v in &after {
        assert!(v.starts_with("hw1:2:") && !v.contains("typhus"), "not re-sealed: {v}");
    }
    assert_eq!(store.seal_usage().await.unwrap().by_key.into_iter().collect::<Vec<_>>(), vec![(2, 142)]);
    let person = store.person(id).await.unwrap().unwrap();
    assert_eq!(person.timeline[0].event.details.as_deref(), Some(WOUND));
    assert_eq!(person.timeline[1].event.details.as_deref(), Some("typhus"));
    // The re-sealed values still match their log entries, except the one altered behind the log's back.
    let (entry, rec) =
        store.entry_for_record(&homeward_store::RecordKey::Status { person: id, seq: 1 }).await.unwrap().unwrap();
    assert_eq!(rec.unwrap().commitment(&entry.salt), entry.commitment);

    // The old keyring alone no longer opens them: an error naming the record and column, not the value.
    let stale = db.open(keys).await;
    let err = stale.person(id).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Sealed { column: "details", .. }), "{err:?}");
    assert!(msg.contains(&record::status_id(id, 1)) && !msg.contains("shrapnel"), "{msg}");
}

/// Audits every status record: its commitment matches its entry's, for the
/// ones whose details were not altered. Returns how many were audited.
async fn audit_status_records(store: &DynStore) -> usize {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let auditing = tokio::spawn({
        let store = store.clone();
        async move { store.audit_records(tx).await }
    });
    let mut n = 0;
    while let Some(item) = rx.recv().await {
        if let homeward_store::AuditItem::Record { record, entry: Some(entry) } = item
            && let homeward_store::LoggedRecord::StatusEvent { event, .. } = record.as_ref()
        {
            assert_eq!(event.details.as_deref(), Some(WOUND));
            assert_eq!(record.commitment(&entry.salt), entry.commitment, "the log commits to the plaintext");
            n += 1;
        }
    }
    auditing.await.unwrap().unwrap();
    n
}
