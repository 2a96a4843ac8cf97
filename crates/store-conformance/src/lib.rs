//! The storage suite: every case is an async function over `Arc<dyn Store>`,
//! and `tests/backends.rs` runs each against every backend, so a failure
//! reads `sqlite::case` or `postgres::case`. A backend is correct when it
//! passes all of them; no case knows which backend it runs on.

pub mod access;
pub mod accounts;
pub mod jobs;
pub mod seal;
pub mod tracing;

use std::sync::Arc;

use homeward_domain::{
    Category, ConflictSetup, HandoverPoint, PartialDate, Party, PartyCode, PartyKind, PersonId, PersonIdentity,
    SourceRef, Status, StatusEvent,
};
use homeward_store::{ImportRow, NewPerson, Page, PersonFilter, PersonStatus, Store, StoreError};

pub type DynStore = Arc<dyn Store>;

pub fn code(s: &str) -> PartyCode {
    PartyCode::parse(s).expect("valid code")
}

/// Two parties named without any hint of who is who, and a mediator.
pub fn setup() -> ConflictSetup {
    ConflictSetup {
        name: "Conformance conflict".into(),
        parties: vec![
            Party { code: code("A"), name: "Party A".into(), kind: PartyKind::Party },
            Party { code: code("B"), name: "Party B".into(), kind: PartyKind::Party },
            Party { code: code("M"), name: "Mediator".into(), kind: PartyKind::Mediator },
        ],
        handover_points: vec![HandoverPoint {
            code: "BORDER-1".into(),
            name: "Border crossing".into(),
            country: "Third".into(),
        }],
    }
}

pub fn identity(family: &str, given: &str) -> PersonIdentity {
    PersonIdentity {
        family_name: family.into(),
        given_names: given.into(),
        patronymic: Some("Петрович".into()),
        mother_maiden_name: None,
        birth_date: Some(PartialDate::parse("1998-03-07").unwrap()),
        place_of_birth: Some("Полтава".into()),
        rank: Some("sergeant".into()),
        service_number: Some("AB-123456".into()),
        unit: Some("unit 1".into()),
        power: code("A"),
        category: Category::Military,
        person_to_inform: None,
        correspondence_address: None,
    }
}

fn source(party: &str, id: &str) -> SourceRef {
    SourceRef { source: code(party), record_id: id.into() }
}

fn event(status: Status) -> StatusEvent {
    StatusEvent::new(status)
}

pub(crate) async fn ready(store: &DynStore) {
    store.set_conflict(&setup()).await.expect("set up");
}

pub(crate) async fn add(store: &DynStore, party: &str, id: &str, first: Status) -> PersonId {
    store
        .add_person(NewPerson {
            source: source(party, id),
            identity: identity("Коваленко", "Олександр"),
            first_status: event(first),
        })
        .await
        .expect("add person")
}

fn row(line: u64, id: &str, family: &str, status: Option<Status>) -> ImportRow {
    ImportRow::new(line, source("B", id), identity(family, "Дмитро"), status.map(event))
}

pub async fn conflict_setup_round_trips_and_is_idempotent(store: DynStore) {
    assert_eq!(store.conflict().await.unwrap(), None);
    ready(&store).await;
    ready(&store).await;
    assert_eq!(store.conflict().await.unwrap(), Some(setup().canonical()));
    // The same conflict given in another order is the same conflict.
    let mut reordered = setup();
    reordered.parties.reverse();
    reordered.handover_points.reverse();
    store.set_conflict(&reordered).await.unwrap();
}

pub async fn conflict_setup_cannot_change_once_records_exist(store: DynStore) {
    ready(&store).await;
    let mut other = setup();
    other.name = "Renamed".into();
    store.set_conflict(&other).await.expect("no records yet: replace");
    add(&store, "A", "1", Status::Held).await;
    let err = store.set_conflict(&setup()).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(homeward_store::Refusal::SetupHasRecords)), "{err}");
    assert_eq!(store.conflict().await.unwrap().unwrap().name, "Renamed");
}

pub async fn person_is_stored_with_identity_and_first_status(store: DynStore) {
    ready(&store).await;
    let id = add(&store, "A", "rec-1", Status::Captured).await;
    let p = store.person(id).await.unwrap().expect("stored");
    assert_eq!(p.id, id);
    assert_eq!(p.status, Status::Captured);
    assert_eq!(p.identities.len(), 1);
    assert_eq!(p.identities[0].identity, identity("Коваленко", "Олександр"));
    assert_eq!(p.identities[0].source, source("A", "rec-1"));
    assert_eq!(p.identities[0].version, 1);
    assert_eq!(p.timeline.len(), 1);
    assert_eq!(p.timeline[0].event.status, Status::Captured);
    assert_eq!(p.timeline[0].reported_by, code("A"));
    assert!(store.person(PersonId::new()).await.unwrap().is_none());
}

pub async fn person_status_agrees_with_the_record(store: DynStore) {
    ready(&store).await;
    let id = add(&store, "A", "s-1", Status::Captured).await;
    let camp = |place: &str, on: &str| StatusEvent {
        status: Status::Held,
        occurred_on: Some(PartialDate::parse(on).unwrap()),
        place: Some(place.into()),
        details: Some("transfer".into()),
    };
    store.add_status_event(id, camp("camp 1", "2024-03"), &code("A")).await.unwrap();
    store.add_status_event(id, camp("camp 2", "2024-05-02"), &code("M")).await.unwrap();
    let s = store.person_status(id).await.unwrap().expect("stored");
    let p = store.person(id).await.unwrap().unwrap();
    assert_eq!((s.id, s.status), (id, Status::Held));
    assert_eq!(&s.last, p.timeline.last().unwrap(), "the latest event, as the timeline has it");
    assert_eq!(s.last.reported_by, code("M"));
    // Held since the first of the two held events: a transfer does not restart it.
    assert_eq!(s.since.seq, 2);
    assert_eq!(s.since.occurred_on, Some(PartialDate::parse("2024-03").unwrap()));
    assert_eq!(s.since.recorded_at, p.timeline[1].recorded_at);
    assert_eq!((s.source.clone(), s.power.clone()), (code("A"), code("A")));
    // A person with one event is in its status since that event.
    let other = add(&store, "B", "s-2", Status::Missing).await;
    let s = store.person_status(other).await.unwrap().unwrap();
    assert_eq!((s.status, s.since.seq, s.last.seq, s.source), (Status::Missing, 1, 1, code("B")));
    assert!(store.person_status(PersonId::new()).await.unwrap().is_none());

    // The power is the primary identity's at its latest version.
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b1", "Шевченко", Some(Status::Captured))]).await.unwrap();
    imp.finish(true).await.unwrap();
    let mut amended = identity("Шевченко", "Дмитро");
    amended.power = code("B");
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![ImportRow::new(2, source("B", "b1"), amended, Some(event(Status::Held)))]).await.unwrap();
    imp.finish(true).await.unwrap();
    let by_b = PersonFilter { source: Some(code("B")), ..Default::default() };
    let list = store.list_persons(&by_b, &Page::first(10)).await.unwrap();
    let b1 = list.into_iter().find(|p| p.source.record_id == "b1").unwrap();
    let s = store.person_status(b1.id).await.unwrap().unwrap();
    assert_eq!((s.power, s.source, s.status), (code("B"), code("B"), Status::Held));
    assert_eq!((s.since.seq, s.last.seq), (2, 2));
}

pub async fn adding_needs_a_conflict_and_known_parties(store: DynStore) {
    let new = NewPerson { source: source("A", "1"), identity: identity("X", "Y"), first_status: event(Status::Held) };
    assert!(matches!(store.add_person(new.clone()).await, Err(StoreError::NoConflict)));
    ready(&store).await;
    let mut bad = new.clone();
    bad.source = source("Z", "1");
    assert!(matches!(store.add_person(bad).await, Err(StoreError::UnknownParty { field: "source", .. })));
    let mut bad = new.clone();
    bad.identity.power = code("Q");
    assert!(matches!(store.add_person(bad).await, Err(StoreError::UnknownParty { field: "power", .. })));
    let mut bad = new;
    bad.first_status = event(Status::Repatriated);
    assert!(matches!(store.add_person(bad).await, Err(StoreError::Transition(_))));
    assert!(store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap().is_empty());
}

pub async fn a_source_record_id_is_registered_once(store: DynStore) {
    ready(&store).await;
    add(&store, "A", "dup", Status::Held).await;
    let again = NewPerson {
        source: source("A", "dup"),
        identity: identity("Інший", "Іван"),
        first_status: event(Status::Held),
    };
    assert!(matches!(
        store.add_person(again).await,
        Err(StoreError::Refused(homeward_store::Refusal::DuplicateSourceRecord { .. }))
    ));
    // The same id from another source is another record.
    add(&store, "B", "dup", Status::Held).await;
    assert_eq!(store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap().len(), 2);
}

pub async fn status_events_follow_the_state_machine(store: DynStore) {
    ready(&store).await;
    let id = add(&store, "A", "1", Status::Captured).await;
    let rec = store.add_status_event(id, event(Status::Held), &code("A")).await.unwrap();
    assert_eq!(rec.seq, 2);
    let err = store.add_status_event(id, event(Status::Repatriated), &code("A")).await.unwrap_err();
    match err {
        StoreError::Transition(t) => {
            assert_eq!(t.from, Some(Status::Held));
            assert_eq!(t.to, Status::Repatriated);
        }
        other => panic!("expected a transition error, got {other}"),
    }
    let mut death = event(Status::Deceased);
    death.occurred_on = Some(PartialDate::parse("2025-01").unwrap());
    death.place = Some("camp 3".into());
    death.details = Some("wounds".into());
    store.add_status_event(id, death.clone(), &code("M")).await.unwrap();
    let p = store.person(id).await.unwrap().unwrap();
    assert_eq!(p.status, Status::Deceased);
    let statuses: Vec<Status> = p.timeline.iter().map(|e| e.event.status).collect();
    assert_eq!(statuses, [Status::Captured, Status::Held, Status::Deceased]);
    assert_eq!(p.timeline[2].event, death);
    assert_eq!(p.timeline[2].reported_by, code("M"));
    assert!(matches!(
        store.add_status_event(PersonId::new(), event(Status::Held), &code("A")).await,
        Err(StoreError::NotFound("person"))
    ));
    assert!(matches!(
        store.add_status_event(id, event(Status::RemainsReturned), &code("X")).await,
        Err(StoreError::UnknownParty { .. })
    ));
}

pub async fn concurrent_reports_cannot_both_pass_the_state_machine(store: DynStore) {
    ready(&store).await;
    let id = add(&store, "A", "1", Status::Held).await;
    let mut tasks = Vec::new();
    for party in ["A", "B", "M", "A", "B", "M"] {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { store.add_status_event(id, event(Status::Nominated), &code(party)).await },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one nomination from held may pass");
    let p = store.person(id).await.unwrap().unwrap();
    assert_eq!(p.timeline.len(), 2);
}

pub async fn listing_filters_and_pages(store: DynStore) {
    ready(&store).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let first = if i % 2 == 0 { Status::Held } else { Status::Missing };
        ids.push(add(&store, if i < 5 { "A" } else { "B" }, &format!("r{i}"), first).await);
    }
    let all = store.list_persons(&PersonFilter::default(), &Page::first(100)).await.unwrap();
    assert_eq!(all.len(), 7);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(all.iter().map(|p| p.id).collect::<Vec<_>>(), sorted);
    let held = PersonFilter { status: Some(Status::Held), ..Default::default() };
    assert_eq!(store.list_persons(&held, &Page::first(100)).await.unwrap().len(), 4);
    let from_b = PersonFilter { source: Some(code("B")), ..Default::default() };
    assert_eq!(store.list_persons(&from_b, &Page::first(100)).await.unwrap().len(), 2);
    let power_b = PersonFilter { power: Some(code("B")), ..Default::default() };
    assert!(store.list_persons(&power_b, &Page::first(100)).await.unwrap().is_empty());
    // Pages of 3: 3 + 3 + 1, no overlap, nothing missed.
    let mut seen = Vec::new();
    let mut page = Page::first(3);
    loop {
        let got = store.list_persons(&PersonFilter::default(), &page).await.unwrap();
        if got.is_empty() {
            break;
        }
        page.after = got.last().map(|p| p.id);
        seen.extend(got.into_iter().map(|p| p.id));
    }
    assert_eq!(seen, sorted);
    let counts = store.status_counts().await.unwrap();
    assert_eq!(counts, vec![(Status::Missing, 3), (Status::Held, 4)]);
}

pub async fn import_lands_whole_and_is_idempotent(store: DynStore) {
    ready(&store).await;
    let rows = || vec![row(2, "b1", "Шевченко", Some(Status::Held)), row(3, "b2", "Бондаренко", Some(Status::Missing))];
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows()).await.unwrap().is_empty());
    assert!(imp.write_batch(vec![row(4, "b3", "Ткаченко", Some(Status::Captured))]).await.unwrap().is_empty());
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.created, counts.amended, counts.unchanged, counts.status_events), (3, 0, 0, 3));
    // Again: nothing new.
    let mut imp = store.begin_import().await.unwrap();
    assert!(imp.write_batch(rows()).await.unwrap().is_empty());
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.created, counts.amended, counts.unchanged, counts.status_events), (0, 0, 2, 0));
    assert_eq!(store.list_persons(&PersonFilter::default(), &Page::first(100)).await.unwrap().len(), 3);
}

pub async fn import_amends_by_adding_a_version_and_appends_status(store: DynStore) {
    ready(&store).await;
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b1", "Шевченко", Some(Status::Captured))]).await.unwrap();
    imp.finish(true).await.unwrap();
    let mut imp = store.begin_import().await.unwrap();
    let rejected = imp.write_batch(vec![row(2, "b1", "Шевчэнко", Some(Status::Held))]).await.unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.amended, counts.status_events), (1, 1));
    let list = store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap();
    let p = store.person(list[0].id).await.unwrap().unwrap();
    assert_eq!(p.identities.len(), 2, "the first version is kept");
    assert_eq!(p.identities[0].identity.family_name, "Шевченко");
    assert_eq!(p.identities[1].identity.family_name, "Шевчэнко");
    assert_eq!(p.identities[1].version, 2);
    assert_eq!(p.status, Status::Held);
    assert_eq!(list[0].family_name, "Шевчэнко", "listings show the latest version");
}

pub async fn import_rejects_rows_and_rolls_back_everything(store: DynStore) {
    ready(&store).await;
    let mut imp = store.begin_import().await.unwrap();
    let rejected = imp
        .write_batch(vec![
            row(2, "b1", "Шевченко", Some(Status::Deceased)),
            row(3, "b1", "Шевченко", Some(Status::Held)),
            row(4, "b2", "Бондаренко", Some(Status::HandedOver)),
            row(5, "b3", "Ткаченко", None),
        ])
        .await
        .unwrap();
    let mut other_power = identity("Мельник", "Дмитро");
    other_power.power = code("ZZ");
    let bad_party = ImportRow::new(6, source("B", "b4"), other_power, Some(event(Status::Held)));
    let more = imp.write_batch(vec![bad_party]).await.unwrap();
    let all: Vec<(u64, &str)> = rejected.iter().chain(&more).map(|r| (r.line, r.field.as_str())).collect();
    assert_eq!(all, [(3, "status"), (4, "status"), (5, "status"), (6, "power")]);
    assert!(rejected[0].reason.contains("deceased"), "{}", rejected[0].reason);
    assert!(!more[0].reason.contains("Мельник"));
    imp.finish(false).await.unwrap();
    assert!(store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap().is_empty());
    // Dropping an import without finishing also lands nothing, and frees the writer.
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b9", "Коваль", Some(Status::Held))]).await.unwrap();
    drop(imp);
    assert!(store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap().is_empty());
    add(&store, "A", "after", Status::Held).await;
}

pub async fn a_large_import_sees_its_own_earlier_rows(store: DynStore) {
    ready(&store).await;
    // Enough rows for backends that write new records in chunks; some rows
    // restate a record written a few rows (or a chunk) earlier.
    let mut rows = Vec::new();
    for i in 0..300u64 {
        rows.push(row(i + 2, &format!("r{i}"), "Ткаченко", Some(Status::Held)));
        if i % 50 == 7 {
            rows.push(row(1000 + i, &format!("r{i}"), "Ткаченко", Some(Status::Hospitalised)));
        }
        if i % 97 == 3 {
            rows.push(row(2000 + i, &format!("r{}", i - 3), "Ткаченко-Ліщук", Some(Status::Held)));
        }
    }
    let mut imp = store.begin_import().await.unwrap();
    let rejected = imp.write_batch(rows).await.unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.created, counts.amended, counts.status_events), (300, 4, 306));
    let held = PersonFilter { status: Some(Status::Hospitalised), ..Default::default() };
    assert_eq!(store.list_persons(&held, &Page::first(1000)).await.unwrap().len(), 6);
    let all = store.list_persons(&PersonFilter::default(), &Page::first(1000)).await.unwrap();
    assert_eq!(all.len(), 300);
    assert_eq!(all.iter().filter(|p| p.family_name == "Ткаченко-Ліщук").count(), 4);
}

pub async fn import_records_who_reported_each_status(store: DynStore) {
    ready(&store).await;
    let mut handed = row(3, "b1", "Шевченко", Some(Status::Nominated));
    handed.reported_by = Some(code("B"));
    let mut over = row(4, "b1", "Шевченко", Some(Status::HandedOver));
    over.reported_by = Some(code("M"));
    let mut unknown = row(5, "b1", "Шевченко", Some(Status::Repatriated));
    unknown.reported_by = Some(code("NOPE"));
    let mut imp = store.begin_import().await.unwrap();
    let rejected =
        imp.write_batch(vec![row(2, "b1", "Шевченко", Some(Status::Held)), handed, over, unknown]).await.unwrap();
    assert_eq!(rejected.iter().map(|r| (r.line, r.field.as_str())).collect::<Vec<_>>(), [(5, "reported_by")]);
    imp.finish(true).await.unwrap();
    let list = store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap();
    let p = store.person(list[0].id).await.unwrap().unwrap();
    let by: Vec<(Status, String)> = p.timeline.iter().map(|e| (e.event.status, e.reported_by.to_string())).collect();
    assert_eq!(by, [(Status::Held, "B".into()), (Status::Nominated, "B".into()), (Status::HandedOver, "M".into())]);
}

pub async fn export_streams_latest_versions_in_order(store: DynStore) {
    ready(&store).await;
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![
        row(2, "b2", "Бондаренко", Some(Status::Missing)),
        row(3, "b1", "Шевченко", Some(Status::Held)),
    ])
    .await
    .unwrap();
    imp.finish(true).await.unwrap();
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b1", "Шевчэнко", Some(Status::Held))]).await.unwrap();
    imp.finish(true).await.unwrap();
    add(&store, "A", "a1", Status::Captured).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let export = {
        let store = store.clone();
        tokio::spawn(async move { store.export_persons(tx).await })
    };
    let mut got = Vec::new();
    while let Some(r) = rx.recv().await {
        got.push(r);
    }
    assert_eq!(export.await.unwrap().unwrap(), 3);
    let keys: Vec<(String, &str, u32, &str, Status)> = got
        .iter()
        .map(|r| {
            (
                r.source.source.to_string(),
                r.source.record_id.as_str(),
                r.version,
                r.identity.family_name.as_str(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("A".into(), "a1", 1, "Коваленко", Status::Captured),
            ("B".into(), "b1", 2, "Шевчэнко", Status::Held),
            ("B".into(), "b2", 1, "Бондаренко", Status::Missing),
        ]
    );
}

pub async fn identities_follow_the_sequenced_log(store: DynStore) {
    ready(&store).await;
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b1", "Шевченко", Some(Status::Captured))]).await.unwrap();
    imp.finish(true).await.unwrap();
    let first = store.sequence(4096).await.unwrap();
    let rows = store.identities_in_leaves(0, first.size).await.unwrap();
    assert_eq!(rows.len(), 1, "one identity version among the conflict, identity and status leaves");
    assert_eq!((rows[0].identity.family_name.as_str(), rows[0].version), ("Шевченко", 1));
    assert_eq!(rows[0].status, Status::Captured);

    // An amendment: only the new leaves hold the new version.
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![row(2, "b1", "Шевчэнко", Some(Status::Held))]).await.unwrap();
    imp.finish(true).await.unwrap();
    assert!(store.identities_in_leaves(first.size, first.size).await.unwrap().is_empty());
    let second = store.sequence(4096).await.unwrap();
    assert!(second.size > first.size);
    let rows = store.identities_in_leaves(first.size, second.size).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].identity.family_name.as_str(), rows[0].version), ("Шевчэнко", 2));
    assert_eq!(rows[0].person_id, store.identities_in_leaves(0, first.size).await.unwrap()[0].person_id);
    assert_eq!(store.identities_in_leaves(0, second.size).await.unwrap().len(), 2);
}

/// One batch that registers records, amends one of them two rows later and
/// registers another: every row lands, and the log holds them in the
/// file's order (a backend may write new records together).
pub async fn a_batch_lands_in_file_order_with_a_record_twice(store: DynStore) {
    ready(&store).await;
    let mut imp = store.begin_import().await.unwrap();
    let rejected = imp
        .write_batch(vec![
            row(2, "b1", "Шевченко", Some(Status::Captured)),
            row(3, "b2", "Коваленко", Some(Status::Captured)),
            row(4, "b1", "Шевчэнко", Some(Status::Held)),
            row(5, "b3", "Бондар", None),
            row(6, "b4", "Бондаренко", Some(Status::Missing)),
        ])
        .await
        .unwrap();
    assert_eq!(rejected.iter().map(|r| (r.line, r.field.as_str())).collect::<Vec<_>>(), vec![(5, "status")]);
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.created, counts.amended, counts.status_events), (3, 1, 4));
    let head = store.sequence(4096).await.unwrap();
    let order: Vec<(String, u32)> = store
        .identities_in_leaves(0, head.size)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.source.record_id, r.version))
        .collect();
    let expected = [("b1", 1), ("b2", 1), ("b1", 2), ("b4", 1)].map(|(id, v)| (id.to_owned(), v));
    assert_eq!(order, expected);
    let list = store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap();
    assert_eq!(list.len(), 3);
    let b1 = list.iter().find(|p| p.family_name == "Шевчэнко").expect("b1 lists its latest version");
    let b1 = store.person(b1.id).await.unwrap().unwrap();
    assert_eq!((b1.identities.len(), b1.status, b1.timeline.len()), (2, Status::Held, 2));

    // The list again, one status changed: only that row writes.
    let mut imp = store.begin_import().await.unwrap();
    let rejected = imp
        .write_batch(vec![
            row(2, "b1", "Шевчэнко", Some(Status::Held)),
            row(3, "b2", "Коваленко", Some(Status::Held)),
            row(4, "b4", "Бондаренко", Some(Status::Missing)),
            row(5, "b4", "Бондаренко", None),
        ])
        .await
        .unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    let counts = imp.finish(true).await.unwrap();
    assert_eq!((counts.created, counts.amended, counts.unchanged, counts.status_events), (0, 0, 3, 1));
    let b2 = list.iter().find(|p| p.family_name == "Коваленко").unwrap();
    assert_eq!(store.person(b2.id).await.unwrap().unwrap().status, Status::Held);
}

/// Every case, by name, for the backend test macro.
/// A status read sees a write made through the same handle at once, and a
/// write made through another handle on the same database (another
/// process: `homeward import` beside the server) within moments, for the
/// status itself and for the power that decides who may see the person. A
/// backend that keeps statuses in memory (SQLite's `status_cache.rs`) must
/// notice both. The reading handle writes nothing while it waits for the
/// other's write, so only the other's commit can make it see the change.
pub async fn status_reads_see_writes_of_this_handle_at_once_and_of_another_soon(store: DynStore, other: DynStore) {
    ready(&store).await;
    let id = add(&store, "A", "fresh-1", Status::Captured).await;
    let status = |s: &DynStore| {
        let s = s.clone();
        async move { s.person_status(id).await.unwrap().expect("stored") }
    };
    // Twice: the second read may come from memory.
    assert_eq!(status(&store).await.status, Status::Captured);
    assert_eq!(status(&store).await.status, Status::Captured);
    let held = StatusEvent { details: Some("wounded, in the camp's infirmary".into()), ..event(Status::Held) };
    store.add_status_event(id, held.clone(), &code("A")).await.unwrap();
    assert_eq!(status(&store).await.status, Status::Held, "this handle's report, at once");
    // Sealed details are opened for every answer, from memory too.
    assert_eq!(status(&store).await.last.event, held);

    // This handle's import (a new power, then a status) at once.
    let mut moved = identity("Коваленко", "Олександр");
    moved.power = code("B");
    let mut imp = store.begin_import().await.unwrap();
    imp.write_batch(vec![ImportRow::new(1, source("A", "fresh-1"), moved, None)]).await.unwrap();
    imp.finish(true).await.unwrap();
    assert_eq!(status(&store).await.power, code("B"), "this handle's import, at once");

    // Another handle's report and import: seen within a second (SQLite
    // promises a millisecond; the margin is for a loaded machine).
    let eventually = |what: &'static str, done: fn(&PersonStatus) -> bool| {
        let store = store.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            loop {
                let s = store.person_status(id).await.unwrap().expect("stored");
                if done(&s) {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "another handle's {what} is not seen: {s:?}");
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    };
    other.add_status_event(id, event(Status::Hospitalised), &code("A")).await.unwrap();
    eventually("report", |s| s.status == Status::Hospitalised).await;
    let mut imp = other.begin_import().await.unwrap();
    imp.write_batch(vec![ImportRow::new(1, source("A", "fresh-1"), identity("Коваленко", "Олександр"), None)])
        .await
        .unwrap();
    imp.finish(true).await.unwrap();
    eventually("import", |s| s.power == code("A")).await;
    // And a person another handle registered is there for the first.
    let theirs = add(&other, "B", "fresh-2", Status::Missing).await;
    assert_eq!(store.person_status(theirs).await.unwrap().map(|s| s.status), Some(Status::Missing));
}

#[macro_export]
macro_rules! for_each_case {
    ($m:ident) => {
        $m!(
            conflict_setup_round_trips_and_is_idempotent,
            conflict_setup_cannot_change_once_records_exist,
            person_is_stored_with_identity_and_first_status,
            person_status_agrees_with_the_record,
            adding_needs_a_conflict_and_known_parties,
            a_source_record_id_is_registered_once,
            status_events_follow_the_state_machine,
            concurrent_reports_cannot_both_pass_the_state_machine,
            listing_filters_and_pages,
            import_lands_whole_and_is_idempotent,
            import_amends_by_adding_a_version_and_appends_status,
            import_rejects_rows_and_rolls_back_everything,
            import_records_who_reported_each_status,
            a_large_import_sees_its_own_earlier_rows,
            export_streams_latest_versions_in_order,
            identities_follow_the_sequenced_log,
            a_batch_lands_in_file_order_with_a_record_twice
        );
    };
}

/// The PostgreSQL URL the suite runs against (`HOMEWARD_TEST_DATABASE_URL`);
/// `None` skips the PostgreSQL half, except with `CI=true`, where a missing
/// URL fails: CI must run both backends.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HOMEWARD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but HOMEWARD_TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI")
        }
        _ => None,
    }
}
