//! The tracing cases: a request is filed with its contact sealed and its
//! filing logged; candidates are recorded once per pair; a decision is
//! taken once; desks filter; job watermarks persist; every tracing event
//! audits against its commitment.

use std::sync::Arc;

use homeward_domain::{Decision, Desk, Disclosure, PersonId, RequestStatus, SoughtPerson, Status, TracingRequestId};
use homeward_store::{
    Actor, AuditItem, LoggedRecord, NewCandidate, NewTracingRequest, RequestFilter, StoreError, TracingStore, UserId,
};
use time::OffsetDateTime;

use crate::{DynStore, add, code, ready};

pub type DynTracing = Arc<dyn TracingStore>;

#[macro_export]
macro_rules! for_each_tracing_case {
    ($m:ident) => {
        $m!(requests_are_filed_matched_decided_and_logged);
    };
}

fn new_request(owner: UserId, desk: Desk) -> NewTracingRequest {
    NewTracingRequest {
        id: TracingRequestId::new(),
        owner,
        enquirer_name: "Марія Коваленко".into(),
        relationship: "mother".into(),
        contact: "+380 50 000 00 00".into(),
        sought: SoughtPerson {
            family_name: "Коваленко".into(),
            given_names: "Саша".into(),
            birth_date: Some("1998".into()),
            ..SoughtPerson::default()
        },
        desk,
        at: OffsetDateTime::now_utc(),
    }
}

pub async fn requests_are_filed_matched_decided_and_logged(store: DynStore, tracing: DynTracing) {
    ready(&store).await;
    let (family, other) = (UserId(uuid::Uuid::now_v7()), UserId(uuid::Uuid::now_v7()));
    let first = new_request(family, Desk::Mediator);
    tracing.file_tracing_request(first.clone()).await.unwrap();
    let mut second = new_request(other, Desk::Bureau(code("A")));
    second.at = first.at + time::Duration::milliseconds(5);
    tracing.file_tracing_request(second.clone()).await.unwrap();

    let got = tracing.tracing_request(first.id).await.unwrap().unwrap();
    assert_eq!((got.status, got.desk.clone(), got.owner), (RequestStatus::Open, Desk::Mediator, family));
    assert_eq!(got.contact, "+380 50 000 00 00", "the contact opens");
    assert_eq!(got.sought, first.sought);
    assert!(tracing.tracing_request(TracingRequestId::new()).await.unwrap().is_none());

    let mine = tracing.tracing_requests(&RequestFilter { owner: Some(family), ..Default::default() }).await.unwrap();
    assert_eq!(mine.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first.id]);
    let desk_a = RequestFilter { desk: Some(Desk::Bureau(code("A"))), ..Default::default() };
    assert_eq!(tracing.tracing_requests(&desk_a).await.unwrap().len(), 1);
    // Filed since an instant: at or after it, to the millisecond.
    let since = |at: OffsetDateTime| RequestFilter { filed_since: Some(at), ..Default::default() };
    let ids = |rs: Vec<homeward_store::TracingRequest>| rs.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(tracing.tracing_requests(&since(second.at)).await.unwrap()), vec![second.id]);
    let after_both = second.at + time::Duration::milliseconds(1);
    assert!(tracing.tracing_requests(&since(after_both)).await.unwrap().is_empty());
    let before_both = first.at - time::Duration::milliseconds(1);
    assert_eq!(ids(tracing.tracing_requests(&since(before_both)).await.unwrap()), vec![first.id, second.id]);

    // Reassigned by the mediator.
    let mediator = Actor { role: "mediator".into(), party: Some("M".into()) };
    assert!(tracing.assign_tracing_request(second.id, &Desk::Mediator, &mediator).await.unwrap());
    assert!(tracing.tracing_requests(&desk_a).await.unwrap().is_empty());
    assert!(!tracing.assign_tracing_request(TracingRequestId::new(), &Desk::Mediator, &mediator).await.unwrap());

    // Candidates: each pair once, whatever the repetition.
    let (p1, p2) = (add(&store, "A", "a1", Status::Held).await, add(&store, "A", "a2", Status::Missing).await);
    let cand = |person: PersonId, p: f64| NewCandidate {
        person,
        probability: p,
        explanation: serde_json::json!([{"field": "family name", "level": "same", "weight": 9.5}]),
    };
    assert_eq!(tracing.add_candidates(first.id, vec![cand(p1, 0.97), cand(p2, 0.6)]).await.unwrap(), 2);
    assert_eq!(tracing.add_candidates(first.id, vec![cand(p1, 0.99)]).await.unwrap(), 0, "never doubled");
    assert_eq!(tracing.tracing_request(first.id).await.unwrap().unwrap().status, RequestStatus::Candidates);
    let cands = tracing.candidates(first.id).await.unwrap();
    assert_eq!(cands.iter().map(|c| (c.person, c.decision)).collect::<Vec<_>>(), vec![(p1, None), (p2, None)]);
    assert!((cands[0].probability - 0.97).abs() < 1e-9);

    // Decisions: once each; confirming links and closes the search.
    let caseworker = Actor { role: "caseworker".into(), party: None };
    tracing.decide_candidate(first.id, p2, Decision::Rejected, None, &caseworker).await.unwrap();
    let again = tracing.decide_candidate(first.id, p2, Decision::Confirmed, None, &caseworker).await;
    assert!(matches!(again, Err(StoreError::Refused(homeward_store::Refusal::NoUndecidedCandidate))), "{again:?}");
    let unknown = tracing.decide_candidate(first.id, PersonId::new(), Decision::Confirmed, None, &caseworker).await;
    assert!(matches!(unknown, Err(StoreError::Refused(homeward_store::Refusal::NoUndecidedCandidate))), "{unknown:?}");
    tracing.decide_candidate(first.id, p1, Decision::Confirmed, Some(Disclosure::Fate), &caseworker).await.unwrap();
    let done = tracing.tracing_request(first.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.linked_person, done.disclosure),
        (RequestStatus::Confirmed, Some(p1), Some(Disclosure::Fate))
    );
    assert_eq!(tracing.add_candidates(first.id, vec![cand(p2, 0.9)]).await.unwrap(), 0, "no longer searched");
    let searching = tracing.tracing_requests(&RequestFilter { searching: true, ..Default::default() }).await.unwrap();
    assert_eq!(searching.iter().map(|r| r.id).collect::<Vec<_>>(), vec![second.id]);

    // Job watermarks persist.
    assert_eq!(tracing.job_watermark("matching.persons").await.unwrap(), 0);
    tracing.set_job_watermark("matching.persons", 42).await.unwrap();
    tracing.set_job_watermark("matching.persons", 43).await.unwrap();
    assert_eq!(tracing.job_watermark("matching.persons").await.unwrap(), 43);

    // Every tracing event is logged and audits against its commitment, the
    // contact included (the row holds it sealed).
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let audit = {
        let store = store.clone();
        tokio::spawn(async move { store.audit_records(tx).await })
    };
    let mut events = Vec::new();
    while let Some(item) = rx.recv().await {
        match item {
            AuditItem::Record { record, entry } => {
                if let LoggedRecord::TracingEvent { content, .. } = record.as_ref() {
                    let entry = entry.expect("logged");
                    assert_eq!(record.commitment(&entry.salt), entry.commitment, "{}", record.record_id());
                    assert!(!entry.record_id.contains("Коваленко") && entry.event_type.starts_with("tracing."));
                    events.push((entry.event_type.clone(), content.clone()));
                    let leaf = format!("{:?}", entry.leaf());
                    assert!(!leaf.contains("tracing/"), "a leaf names no request: {leaf}");
                }
            }
            AuditItem::Orphan { entry } => panic!("orphan {}", entry.record_id),
        }
    }
    audit.await.unwrap().unwrap();
    // Public event types say only "filed" or "updated by staff": no leaf
    // tells an outsider that a request had a candidate, or what was decided.
    let types: std::collections::BTreeSet<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(types, ["tracing.filed", "tracing.updated"].into(), "{events:?}");
    let kinds: Vec<&str> = events.iter().filter_map(|(_, c)| c["kind"].as_str()).collect();
    for k in ["filed", "assigned", "rejected", "confirmed"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(!kinds.contains(&"candidate"), "candidates are not logged events: {kinds:?}");
    // A decision commits to the candidate as the caseworker saw it.
    let decided = events.iter().find(|(_, c)| c["kind"] == "confirmed").unwrap();
    assert!(decided.1["probability"].as_str().is_some_and(|p| p.starts_with("0.")), "{:?}", decided.1);
    assert!(decided.1["explanation"].is_array(), "{:?}", decided.1);
    let filed = events.iter().find(|(k, _)| k == "tracing.filed").unwrap();
    assert_eq!(filed.1["contact"], "+380 50 000 00 00");
}
