//! Background matching is durable: a restart redoes unfinished work and
//! never doubles a candidate (SQLite always, PostgreSQL when
//! HOMEWARD_TEST_DATABASE_URL is set; CI=true requires it).

use std::sync::Arc;

use homeward_domain::{
    Category, ConflictSetup, Desk, PartialDate, Party, PartyCode, PartyKind, PersonId, PersonIdentity, RequestStatus,
    SoughtPerson, SourceRef, Status, StatusEvent, TracingRequestId,
};
use homeward_service::matching::LiveIndex;
use homeward_service::requests::matcher::{Matcher, PERSONS_JOB, REQUESTS_JOB};
use homeward_store::{AuditItem, LoggedRecord, NewPerson, NewTracingRequest, Store, UserId};
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

fn code(s: &str) -> PartyCode {
    PartyCode::parse(s).unwrap()
}

async fn person(store: &Arc<dyn Store>, id: &str, family: &str, given: &str, born: &str) -> PersonId {
    store
        .add_person(NewPerson {
            source: SourceRef { source: code("A"), record_id: id.into() },
            identity: PersonIdentity {
                family_name: family.into(),
                given_names: given.into(),
                patronymic: None,
                mother_maiden_name: None,
                birth_date: Some(PartialDate::parse(born).unwrap()),
                place_of_birth: None,
                rank: None,
                service_number: None,
                unit: None,
                power: code("B"),
                category: Category::Military,
                person_to_inform: None,
                correspondence_address: None,
            },
            first_status: StatusEvent::new(Status::Held),
        })
        .await
        .unwrap()
}

async fn request(store: &Arc<dyn Store>, family: &str, given: &str, born: &str) -> TracingRequestId {
    let id = TracingRequestId::new();
    store
        .file_tracing_request(NewTracingRequest {
            id,
            owner: UserId(uuid::Uuid::now_v7()),
            enquirer_name: "Enquirer".into(),
            relationship: "mother".into(),
            contact: "+380 00 000 00 00".into(),
            sought: SoughtPerson {
                family_name: family.into(),
                given_names: given.into(),
                birth_date: Some(born.into()),
                ..SoughtPerson::default()
            },
            desk: Desk::Mediator,
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    id
}

/// `tracing.candidate` log entries per request, from the audit stream.
/// The request's logged events that are not its filing.
async fn logged_after_filing(store: &Arc<dyn Store>, request: TracingRequestId) -> usize {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let s = store.clone();
    let audit = tokio::spawn(async move { s.audit_records(tx).await });
    let mut n = 0;
    while let Some(item) = rx.recv().await {
        if let AuditItem::Record { record, .. } = item
            && let LoggedRecord::TracingEvent { request_id, content, .. } = record.as_ref()
            && *request_id == request
            && content["kind"] != "filed"
        {
            n += 1;
        }
    }
    audit.await.unwrap().unwrap();
    n
}

async fn restart_redoes_unfinished_work_and_never_doubles(store: Arc<dyn Store>) {
    store
        .set_conflict(&ConflictSetup {
            name: "t".into(),
            parties: vec![
                Party { code: code("A"), name: "A".into(), kind: PartyKind::Party },
                Party { code: code("B"), name: "B".into(), kind: PartyKind::Party },
                Party { code: code("M"), name: "M".into(), kind: PartyKind::Mediator },
            ],
            handover_points: vec![],
        })
        .await
        .unwrap();
    let kovalenko = person(&store, "A-1", "Коваленко", "Олександр", "1998-03-07").await;
    person(&store, "A-2", "Шевченко", "Тарас", "1990-01-15").await;
    store.sequence(4096).await.unwrap();

    // A request filed while the server was down, and one with no match yet.
    let sought = request(&store, "Kovalenko", "Sasha", "07.03.1998").await;
    let later = request(&store, "Bondar", "Ivan", "1995-05-20").await;

    let index = LiveIndex::build(store.clone()).await.unwrap();
    let first = Matcher::new(store.clone(), index).round().await.unwrap();
    assert!(first.candidates_added >= 1, "{first:?}");
    let cands = store.candidates(sought).await.unwrap();
    assert_eq!(cands.iter().filter(|c| c.person == kovalenko).count(), 1, "{cands:?}");
    assert!(cands.iter().all(|c| c.probability >= homeward_matching::DEFAULT_THRESHOLD));
    assert_eq!(store.tracing_request(sought).await.unwrap().unwrap().status, RequestStatus::Candidates);
    assert_eq!(store.tracing_request(later).await.unwrap().unwrap().status, RequestStatus::Open);
    let before = store.candidates(sought).await.unwrap().len();

    // The process dies after storing candidates, before moving its
    // watermarks; meanwhile a matching person is registered.
    store.set_job_watermark(REQUESTS_JOB, 0).await.unwrap();
    store.set_job_watermark(PERSONS_JOB, 0).await.unwrap();
    let bondar = person(&store, "A-3", "Бондар", "Іван", "1995-05-20").await;
    store.sequence(4096).await.unwrap();

    // Restart: a new index and matcher redo the round.
    let index = LiveIndex::build(store.clone()).await.unwrap();
    let matcher = Matcher::new(store.clone(), index);
    matcher.round().await.unwrap();
    assert_eq!(store.candidates(sought).await.unwrap().len(), before, "nothing doubled");
    // Candidates are not logged: nothing public changes with whether the
    // registry holds someone like the person sought.
    assert_eq!(logged_after_filing(&store, sought).await, 0, "candidates are not logged events");
    let found = store.candidates(later).await.unwrap();
    assert_eq!(found.iter().map(|c| c.person).collect::<Vec<_>>(), vec![bondar], "nothing lost");
    assert_eq!(store.tracing_request(later).await.unwrap().unwrap().status, RequestStatus::Candidates);

    // A further round has nothing left to do.
    assert_eq!(matcher.round().await.unwrap().candidates_added, 0);
    assert!(store.job_watermark(PERSONS_JOB).await.unwrap() > 0);
    // Nothing was confirmed by the machine.
    assert!(store.candidates(sought).await.unwrap().iter().all(|c| c.decision.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_is_durable_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("homeward.db")).await.unwrap());
    restart_redoes_unfinished_work_and_never_doubles(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_is_durable_on_postgres() {
    let url = match std::env::var("HOMEWARD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HOMEWARD_TEST_DATABASE_URL is not set")
        }
        _ => return eprintln!("skipped: HOMEWARD_TEST_DATABASE_URL is not set"),
    };
    let schema = format!("hw_test_{}", uuid::Uuid::now_v7().simple());
    let pg = PgStore::connect_in_schema(&url, Some(&schema)).await.unwrap();
    let outcome = tokio::spawn(restart_redoes_unfinished_work_and_never_doubles(Arc::new(pg.clone()))).await;
    pg.pool().close().await;
    PgStore::drop_schema(&url, &schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
