use std::collections::{BTreeMap, HashMap, HashSet};

use homeward_domain::{Category, PartialDate, Status};

use super::*;

const SEED: u64 = 19_062_026;

fn persons(n: usize) -> Vec<DemoPerson> {
    demo_persons(SEED, n).collect()
}

fn csv_text(persons: impl Iterator<Item = DemoPerson>) -> String {
    let mut out = Vec::new();
    write_csv(persons, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A strict RFC 4180 reader, independent of the writer, for round trips.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(matches!(chars.peek(), None | Some(',' | '\n')), "text after a closing quote");
                }
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => {
                    assert!(field.is_empty(), "quote inside an unquoted field");
                    quoted = true;
                }
                ',' => row.push(std::mem::take(&mut field)),
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\r' => panic!("bare CR outside quotes"),
                _ => field.push(c),
            }
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(field.is_empty() && row.is_empty(), "last record lacks its LF");
    rows
}

#[test]
fn setup_is_valid_and_neutral() {
    let setup = demo_setup();
    setup.validate().unwrap();
    assert_eq!(setup.parties.len(), 3);
    assert!(setup.handover_points.iter().any(|h| h.code == BORDER_BY && h.country == "Belarus"));
    for ex in EXCHANGES {
        assert!(setup.handover_points.iter().any(|h| h.code == ex.handover_point));
        assert!(ex.date() <= as_of());
    }
    assert_eq!(EXCHANGES.last(), Some(&JUNE_19));
    assert_eq!(JUNE_19.date().to_string(), "2026-06-19");
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = persons(2000);
    assert_eq!(a, persons(2000));
    assert_eq!(csv_text(demo_persons(SEED, 2000)), csv_text(demo_persons(SEED, 2000)));
    let other: Vec<DemoPerson> = demo_persons(SEED + 1, 2000).collect();
    assert_ne!(a, other);
    let differing = a.iter().zip(&other).filter(|(x, y)| x.identity != y.identity).count();
    assert!(differing > 1900, "{differing}");
    // A shorter run is a prefix of a longer one.
    assert_eq!(&a[..500], &persons(500)[..]);
    assert_eq!(demo_persons(SEED, 123).len(), 123);
}

#[test]
fn every_timeline_passes_the_state_machine_in_order() {
    let first = calendar::full(calendar::day(2022, 1, 1));
    let last = as_of();
    for p in demo_persons(SEED, 20_000) {
        assert!(!p.timeline.is_empty(), "{}", p.source.record_id);
        let mut previous: Option<Status> = None;
        let mut previous_date: Option<PartialDate> = None;
        for (event, _) in &p.timeline {
            if let Err(e) = Status::check_transition(previous, event.status) {
                panic!("{}: {e}\n{:#?}", p.source.record_id, p.timeline);
            }
            let date = event.occurred_on.expect("every event is dated");
            assert!(date >= first && date <= last, "{date}");
            if let Some(before) = previous_date {
                assert!(date >= before, "{}: {before} then {date}", p.source.record_id);
            }
            previous = Some(event.status);
            previous_date = Some(date);
        }
    }
}

#[test]
fn reporters_and_sources_follow_the_roles() {
    let m = PartyCode::parse("M").unwrap();
    for p in demo_persons(SEED, 10_000) {
        let power = &p.identity.power;
        let first = p.timeline[0].0.status;
        // The power registers its own missing; the detaining side its captures.
        if first == Status::Missing {
            assert_eq!(&p.source.source, power);
        } else {
            assert_ne!(&p.source.source, power);
            assert_ne!(p.source.source, m);
        }
        for (event, by) in &p.timeline {
            match event.status {
                Status::HandedOver | Status::RefusedRepatriation | Status::RemainsReturned => {
                    assert_eq!(by, &m)
                }
                Status::FamilyContacted | Status::Repatriated | Status::Missing => {
                    assert_eq!(by, power)
                }
                Status::Captured | Status::Hospitalised | Status::Nominated | Status::Released | Status::Escaped => {
                    assert!(by != power && by != &m, "{:?} by {by}", event.status)
                }
                // Held again after a missed handover is the mediator's report.
                Status::Held => assert_ne!(by, power),
                Status::Deceased => assert_ne!(by, &m),
            }
        }
    }
}

#[test]
fn identities_are_valid_and_survive_the_import_parser() {
    for p in demo_persons(SEED, 5_000) {
        let parsed = p.identity.to_raw().parse().unwrap_or_else(|errors| {
            panic!("{}: {errors:?}", p.source.record_id);
        });
        assert_eq!(parsed, p.identity);
        if p.identity.category == Category::Civilian {
            assert!(p.identity.rank.is_none() && p.identity.service_number.is_none());
        }
        for text in [&p.identity.person_to_inform, &p.identity.correspondence_address].into_iter().flatten() {
            if let Some(at) = text.find('+') {
                let phone = &text[at..];
                assert!(phone.starts_with("+380 00 000 ") || phone.starts_with("+7 000 000-"), "{phone}");
            }
        }
    }
}

#[test]
fn the_june_19_exchange_tells_the_story() {
    let list = format!("Exchange list: {JUNE_19_EXCHANGE}");
    let day = JUNE_19.date();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut powers: HashMap<String, usize> = HashMap::new();
    let mut two_years = 0;
    let mut wounded = 0;
    let mut young = 0;
    let mut nominated = 0;
    for p in demo_persons(SEED, 5_000) {
        let Some(at) = p.timeline.iter().position(|(e, _)| e.details.as_deref() == Some(list.as_str())) else {
            continue;
        };
        nominated += 1;
        *powers.entry(p.identity.power.to_string()).or_default() += 1;
        let (nomination, _) = &p.timeline[at];
        assert_eq!(nomination.status, Status::Nominated);
        let (next, _) = &p.timeline[at + 1];
        let outcome = match next.status {
            Status::HandedOver => {
                assert_eq!(next.occurred_on, Some(day));
                assert!(next.place.as_deref().unwrap().contains(BORDER_BY));
                let rest: Vec<Status> = p.timeline[at + 2..].iter().map(|(e, _)| e.status).collect();
                assert!(
                    rest == [Status::FamilyContacted, Status::Repatriated]
                        || rest == [Status::Repatriated, Status::FamilyContacted],
                    "{rest:?}"
                );
                "handed_over"
            }
            Status::Held => {
                assert_eq!(next.occurred_on, Some(day));
                assert!(next.details.as_deref().unwrap().contains("did not appear"));
                "did_not_appear"
            }
            Status::RefusedRepatriation => {
                assert_eq!(next.occurred_on, Some(day));
                assert!(next.details.as_deref().unwrap().contains("interview with the mediator"));
                "refused"
            }
            Status::Deceased => {
                assert!(next.occurred_on.unwrap() < day);
                "deceased_before"
            }
            other => panic!("unexpected outcome {other:?}"),
        };
        *outcomes.entry(outcome).or_default() += 1;
        let captured = p.timeline[0].0.occurred_on.unwrap();
        if captured.year() == 2024 && captured.month().is_some_and(|m| (5..=7).contains(&m)) {
            two_years += 1;
        }
        if p.timeline[at - 1].0.status == Status::Hospitalised {
            wounded += 1;
        }
        if p.identity.birth_date.unwrap().year() >= 2002 {
            young += 1;
        }
    }
    assert!((250..=400).contains(&nominated), "{nominated}");
    for o in ["handed_over", "did_not_appear", "refused", "deceased_before"] {
        assert!(outcomes.get(o).copied().unwrap_or(0) >= 3, "{o}: {outcomes:?}");
    }
    assert!(outcomes["handed_over"] > nominated * 8 / 10, "{outcomes:?}");
    assert!(powers["A"].abs_diff(powers["B"]) <= 1, "{powers:?}");
    assert!(two_years >= nominated / 5, "{two_years}");
    assert!(wounded >= nominated / 6, "{wounded}");
    assert!(young >= nominated / 6, "{young}");
}

#[test]
fn every_scenario_occurs() {
    let mut last: HashMap<Status, usize> = HashMap::new();
    let mut seen: HashSet<Status> = HashSet::new();
    let mut power_a = 0;
    for p in demo_persons(SEED, 5_000) {
        *last.entry(p.status().unwrap()).or_default() += 1;
        seen.extend(p.timeline.iter().map(|(e, _)| e.status));
        power_a += usize::from(p.identity.power.as_str() == "A");
    }
    for s in Status::ALL {
        assert!(seen.contains(&s), "{s} never occurs");
    }
    assert!(last[&Status::Held] > 1500, "{last:?}");
    assert!((2300..2700).contains(&power_a), "{power_a}");
}

#[test]
fn the_same_name_appears_in_several_spellings() {
    let people = persons(5_000);
    let given: HashSet<&str> = people.iter().map(|p| p.identity.given_names.as_str()).collect();
    let family: HashSet<&str> = people.iter().map(|p| p.identity.family_name.as_str()).collect();
    let spellings = |set: &HashSet<&str>, forms: &[&str]| forms.iter().filter(|f| set.contains(*f)).count();
    let oleksandr = ["Олександр", "Александр", "Oleksandr", "Aleksandr", "Alexander"];
    assert!(spellings(&given, &oleksandr) >= 3, "{oleksandr:?}");
    let dmytro = ["Дмитро", "Дмитрий", "Dmytro", "Dmitrii", "Dmitriy", "Dmitry"];
    assert!(spellings(&given, &dmytro) >= 3);
    let serhii = ["Сергій", "Сергей", "Serhii", "Sergei", "Sergey"];
    assert!(spellings(&given, &serhii) >= 3);
    let ivanov = ["Іванов", "Иванов", "Ivanov"];
    assert!(spellings(&family, &ivanov) >= 3);
    // Г is h in Ukrainian and g in Russian.
    let honcharenko = ["Гончаренко", "Honcharenko", "Goncharenko"];
    assert!(spellings(&family, &honcharenko) >= 2);
    assert!(given.len() > 150, "{}", given.len());
}

#[test]
fn record_ids_and_service_numbers_are_unique() {
    let mut ids = HashSet::new();
    let mut numbers = HashSet::new();
    for p in demo_persons(SEED, 20_000) {
        assert!(p.source.record_id.starts_with(&format!("{}-", p.source.source)));
        assert!(ids.insert(p.source.record_id.clone()), "{}", p.source.record_id);
        if let Some(n) = p.identity.service_number {
            let digits = n.rsplit('-').next().unwrap().to_owned();
            assert!(numbers.insert(digits), "{n}");
        }
    }
}

#[test]
fn csv_has_the_header_and_one_snapshot_row_per_person() {
    let people = persons(3_000);
    let mut out = Vec::new();
    let rows = write_csv(people.clone().into_iter(), &mut out).unwrap();
    assert_eq!(rows, 3_000);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with(&format!("{CSV_HEADER}\n")));
    let table = parse_csv(&text);
    assert_eq!(table.len(), 3_001);
    assert_eq!(table[0].join(","), CSV_HEADER);
    let mut quoted = 0;
    for (row, p) in table[1..].iter().zip(&people) {
        assert_eq!(row.len(), 17);
        assert_eq!(row[0], p.source.record_id);
        assert_eq!(row[1], p.identity.family_name);
        assert_eq!(row[12], p.identity.person_to_inform.clone().unwrap_or_default());
        let status: Status = row[14].parse().unwrap();
        assert!(Status::INITIAL.contains(&status), "{status}");
        let snapshot = p.snapshot().unwrap();
        assert_eq!(status, snapshot.status);
        if Status::INITIAL.contains(&p.status().unwrap()) {
            assert_eq!(Some(snapshot), p.timeline.last().map(|(e, _)| e));
        }
        PartialDate::parse(&row[15]).unwrap();
        if !row[5].is_empty() {
            assert_eq!(PartialDate::parse(&row[5]).unwrap().to_string(), row[5]);
        }
        quoted += usize::from(row.iter().any(|f| f.contains(',')));
    }
    assert!(quoted > 100, "commas in fields exercise the quoting: {quoted}");
}

#[test]
fn csv_quotes_commas_quotes_and_line_breaks() {
    let mut p = persons(1).remove(0);
    p.identity.family_name = "O\"Brien, Jr".to_owned();
    p.identity.unit = Some("line\nbreak".to_owned());
    p.identity.rank = Some("plain".to_owned());
    let text = csv_text(std::iter::once(p.clone()));
    let line = text.lines().nth(1).unwrap();
    assert!(line.contains(",\"O\"\"Brien, Jr\","), "family name quoted with the quote doubled: {line}");
    assert!(text.contains(",plain,"));
    assert!(text.contains("\"line\nbreak\""));
    let table = parse_csv(&text);
    assert_eq!(table.len(), 2);
    assert_eq!(table[1].len(), 17);
    assert_eq!(table[1][1], "O\"Brien, Jr");
    assert_eq!(table[1][9], "line\nbreak");
}

/// `cargo test -p homeward-demo --release -- --ignored --nocapture`
#[test]
#[ignore = "a throughput measurement, meaningful only in release builds"]
fn generates_at_least_half_a_million_persons_a_second() {
    let n = 1_000_000;
    let start = std::time::Instant::now();
    let rows = write_csv(demo_persons(SEED, n), std::io::sink()).unwrap();
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("{rows} rows, {rate:.0} persons/s with CSV");
    let start = std::time::Instant::now();
    let events: usize = demo_persons(SEED, n).map(|p| p.timeline.len()).sum();
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("{events} events, {rate:.0} persons/s generated");
    assert!(rate >= 500_000.0, "{rate:.0} persons/s");
}
