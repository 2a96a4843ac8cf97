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
