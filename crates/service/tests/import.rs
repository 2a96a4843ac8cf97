//! The import against a real SQLite file: good files land whole and
//! idempotently; each kind of bad file is reported by line and field and
//! changes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use homeward_domain::{ConflictSetup, Party, PartyCode, PartyKind, Status};
use homeward_service::import::{self, ImportOptions, ImportReport, NoProgress, columns};
use homeward_store::{Page, PersonFilter, Store};
use homeward_store_sqlite::SqliteStore;

const HEADER: &str =
    "record_id,family_name,given_names,patronymic,birth_date,power,category,status,status_date,status_place";

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("homeward.db")).await.unwrap();
    let code = |c: &str| PartyCode::parse(c).unwrap();
    store
        .set_conflict(&ConflictSetup {
            name: "test".into(),
            parties: vec![
                Party { code: code("A"), name: "A".into(), kind: PartyKind::Party },
                Party { code: code("B"), name: "B".into(), kind: PartyKind::Party },
                Party { code: code("M"), name: "M".into(), kind: PartyKind::Mediator },
            ],
            handover_points: vec![],
        })
        .await
        .unwrap();
    Fixture { dir, store: Arc::new(store) }
}

impl Fixture {
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    async fn import(&self, path: &Path) -> ImportReport {
        self.import_with(path, ImportOptions::new(PartyCode::parse("A").unwrap())).await
    }

    async fn import_with(&self, path: &Path, options: ImportOptions) -> ImportReport {
        import::import_persons_csv(self.store.as_ref(), path, &options, &NoProgress).await.unwrap()
    }

    async fn count(&self) -> usize {
        self.store.list_persons(&PersonFilter::default(), &Page::first(1000)).await.unwrap().len()
    }
}

fn rejected(r: &ImportReport) -> Vec<(u64, &str)> {
    r.rejections.iter().map(|r| (r.line, r.field.as_str())).collect()
}

const GOOD: &str =
    "record_id,family_name,given_names,patronymic,birth_date,power,category,status,status_date,status_place
A-1,Коваленко,Олександр,Петрович,07.03.1998,B,military,captured,2026-05-02,Sector 4
A-2,Kovalenko,Oleksandr,,1998,B,military,held,2026-05,Camp 3
A-3,\"Сидоренко, мл.\",Іван,,,B,civilian,missing,,
";

#[tokio::test]
async fn a_good_file_lands_whole_and_reimporting_changes_nothing() {
    let f = fixture().await;
    let path = f.file("good.csv", GOOD.as_bytes());
    let r = f.import(&path).await;
    assert!(r.committed, "{:?}", r.rejections);
    assert_eq!((r.rows, r.counts.created, r.counts.status_events), (3, 3, 3));
    assert_eq!(f.count().await, 3);
    let again = f.import(&path).await;
    assert!(again.committed);
    assert_eq!((again.counts.created, again.counts.amended, again.counts.unchanged), (0, 0, 3));
    assert_eq!(f.count().await, 3);
    let list = f.store.list_persons(&PersonFilter::default(), &Page::first(10)).await.unwrap();
    assert!(list.iter().any(|p| p.family_name == "Сидоренко, мл."), "quoted commas survive");
}

#[tokio::test]
async fn an_amended_row_adds_a_version_and_a_status_event() {
    let f = fixture().await;
    f.import(&f.file("v1.csv", GOOD.as_bytes())).await;
    let v2 = GOOD.replace(
        "A-2,Kovalenko,Oleksandr,,1998,B,military,held,2026-05,Camp 3",
        "A-2,Kovalenko,Oleksandr,Petrovych,1998,B,military,hospitalised,2026-06,Hospital 1",
    );
    let r = f.import(&f.file("v2.csv", v2.as_bytes())).await;
    assert!(r.committed, "{:?}", r.rejections);
    assert_eq!((r.counts.amended, r.counts.unchanged, r.counts.status_events), (1, 2, 1));
    let held = f
        .store
        .list_persons(&PersonFilter { status: Some(Status::Hospitalised), ..Default::default() }, &Page::first(10))
        .await
        .unwrap();
    let p = f.store.person(held[0].id).await.unwrap().unwrap();
    assert_eq!(p.identities.len(), 2);
    assert_eq!(p.identities[0].identity.patronymic, None, "the first version is kept as written");
    assert_eq!(p.identities[1].identity.patronymic.as_deref(), Some("Petrovych"));
}

#[tokio::test]
async fn not_utf8_is_reported_by_line_and_field() {
    let f = fixture().await;
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend_from_slice(b"A-4,\xcf\xe5\xf2\xf0\xee\xe2,Ivan,,,B,military,held,,\n"); // cp1251 "Петров"
    let r = f.import(&f.file("cp1251.csv", &bytes)).await;
    assert!(!r.committed);
    assert_eq!(rejected(&r), [(5, "family_name")]);
    assert!(r.rejections[0].reason.contains("UTF-8"), "{}", r.rejections[0].reason);
    assert_eq!(f.count().await, 0, "nothing lands");
}

#[tokio::test]
async fn missing_required_columns_stop_at_the_header() {
    let f = fixture().await;
    let r = f.import(&f.file("cols.csv", "record_id,family_name,status\nA-1,X,held\n".as_bytes())).await;
    assert!(!r.committed);
    let fatal = r.fatal.expect("fatal");
    assert_eq!(fatal.line, 1);
    assert!(fatal.reason.contains("missing required column(s) given_names, power, category"), "{}", fatal.reason);
    assert_eq!(f.count().await, 0);
}

#[tokio::test]
async fn bad_dates_unknown_party_too_many_fields_and_illegal_transitions_are_all_reported() {
    let f = fixture().await;
    // Land one record first, so that a later file can try an illegal change to it.
    f.import(&f.file("first.csv", format!("{HEADER}\nA-9,Мельник,Андрій,,,B,military,deceased,2026-01,\n").as_bytes()))
        .await;
    let before = f.count().await;
    let bad = format!(
        "{HEADER}
A-1,Коваленко,Олександр,,31.02.1998,B,military,captured,,
A-2,Шевченко,Тарас,,,Q,military,held,,
A-3,Бондар,Іван,,,B,military,held,,,extra
A-4,Ткач,Петро,,,B,military,repatriated,,
A-9,Мельник,Андрій,,,B,military,held,,
A-5,Лисенко,Олег,,1990-13-01,B,sailor,held,yesterday,
A-6,Good,Row,,,B,military,held,,
"
    );
    let r = f.import(&f.file("bad.csv", bad.as_bytes())).await;
    assert!(!r.committed);
    assert_eq!(
        rejected(&r),
        [
            (2, "birth_date"),
            (3, "power"),
            (4, "(row)"),
            (5, "status"),
            (6, "status"),
            (7, "birth_date"),
            (7, "category"),
            (7, "status_date"),
        ]
    );
    let reason = |line: u64| r.rejections.iter().find(|x| x.line == line).unwrap().reason.clone();
    assert!(reason(2).contains("day does not exist"), "{}", reason(2));
    assert!(reason(3).contains("unknown party code Q"), "{}", reason(3));
    assert!(reason(4).contains("has 11 fields; the header has 10"), "{}", reason(4));
    assert!(reason(5).contains("must start as one of"), "{}", reason(5));
    assert!(reason(6).contains("`held` cannot follow `deceased`"), "{}", reason(6));
    for x in &r.rejections {
        for personal in ["Коваленко", "Шевченко", "1998", "Мельник"] {
            assert!(!x.reason.contains(personal), "line {}: {}", x.line, x.reason);
        }
    }
    assert_eq!(f.count().await, before, "nothing from the bad file lands, not even line 8");
}

#[tokio::test]
async fn an_empty_file_and_an_empty_header_are_refused() {
    let f = fixture().await;
    for (name, bytes) in [("empty.csv", &b""[..]), ("blank.csv", &b"\n\n"[..])] {
        let r = f.import(&f.file(name, bytes)).await;
        assert!(!r.committed);
        let fatal = r.fatal.unwrap_or_else(|| panic!("{name}: expected a fatal problem"));
        assert_eq!(fatal.line, 1, "{name}");
        assert!(fatal.reason.contains("empty"), "{name}: {}", fatal.reason);
    }
}

#[tokio::test]
async fn a_single_100_mb_line_is_refused_without_reading_it_whole() {
    let f = fixture().await;
    let path = f.dir.path().join("huge.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "{HEADER}").unwrap();
    writeln!(out, "A-1,Коваленко,Олександр,,,B,military,held,,").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        out.write_all(&chunk).unwrap();
    }
    writeln!(out).unwrap();
    drop(out);
    let r = f.import(&path).await;
    assert!(!r.committed);
    let fatal = r.fatal.expect("fatal");
    assert_eq!(fatal.line, 3);
    assert!(fatal.reason.contains("line 3 is longer than"), "{}", fatal.reason);
    assert_eq!(f.count().await, 0);
}

#[tokio::test]
async fn an_unclosed_quote_is_refused_when_the_record_grows_absurd() {
    let f = fixture().await;
    let mut text = format!("{HEADER}\nA-1,\"Коваленко,Олександр,,,B,military,held,,\n");
    let line = format!("{}\n", "y".repeat(1000));
    for _ in 0..6000 {
        text.push_str(&line);
    }
    let r = f.import(&f.file("quote.csv", text.as_bytes())).await;
    assert!(!r.committed);
    assert!(r.fatal.expect("fatal").reason.contains("unclosed quote"));
    assert_eq!(f.count().await, 0);
}

#[tokio::test]
async fn ukrainian_and_russian_headers_and_a_mapping_import() {
    let f = fixture().await;
    let ua = "\u{feff}Номер запису,Прізвище,Ім'я,По батькові,Дата народження,Держава,Категорія,Статус\nU-1,Коваленко,Олександр,Петрович,07.03.1998,B,військовий,held\n";
    let r = f.import(&f.file("ua.csv", ua.as_bytes())).await;
    assert!(r.committed, "{:?} {:?}", r.fatal, r.rejections);
    let ru = "Идентификатор;Фамилия\nR-1;Коваленко\n".replace(';', ",");
    let r = f.import(&f.file("ru-partial.csv", ru.as_bytes())).await;
    assert!(r.fatal.unwrap().reason.contains("missing required column(s) given_names, power, category"));
    let field = "ID,ПІБ,Ім'я,Сторона,Тип,Стан,Примітки\nF-1,Шевченко,Тарас,B,civilian,missing,notes here\n";
    let path = f.file("field.csv", field.as_bytes());
    let r = f.import(&path).await;
    let fatal = r.fatal.unwrap().reason;
    assert!(fatal.contains("\"ПІБ\"") && fatal.contains("\"Примітки\""), "{fatal}");
    let mut options = ImportOptions::new(PartyCode::parse("A").unwrap());
    options.mapping = columns::parse_mapping(&["ПІБ=family_name".into(), "Примітки=ignore".into()]).unwrap();
    let r = f.import_with(&path, options).await;
    assert!(r.committed, "{:?} {:?}", r.fatal, r.rejections);
    assert_eq!(f.count().await, 2);
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let f = fixture().await;
    let mut options = ImportOptions::new(PartyCode::parse("A").unwrap());
    options.dry_run = true;
    let r = f.import_with(&f.file("good.csv", GOOD.as_bytes()), options).await;
    assert!(!r.committed);
    assert!(r.rejections.is_empty() && r.fatal.is_none());
    assert_eq!(r.counts.created, 3);
    assert_eq!(f.count().await, 0);
}

#[tokio::test]
async fn export_round_trips_through_import() {
    let f = fixture().await;
    f.import(&f.file("good.csv", GOOD.as_bytes())).await;
    let out = f.dir.path().join("export.csv");
    let n = homeward_service::export::export_persons(
        f.store.as_ref(),
        homeward_service::export::Format::Csv,
        Box::new(std::fs::File::create(&out).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(n, 3);
    let g = fixture().await;
    let r = g.import(&out).await;
    assert!(r.committed, "{:?} {:?}", r.fatal, r.rejections);
    assert_eq!(r.counts.created, 3);
    let out2 = g.dir.path().join("export2.csv");
    homeward_service::export::export_persons(
        g.store.as_ref(),
        homeward_service::export::Format::Csv,
        Box::new(std::fs::File::create(&out2).unwrap()),
    )
    .await
    .unwrap();
    // Same content apart from homeward's own person ids.
    let strip = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p).unwrap().lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_owned()).collect()
    };
    assert_eq!(strip(&out), strip(&out2));
    let json = f.dir.path().join("export.json");
    homeward_service::export::export_persons(
        f.store.as_ref(),
        homeward_service::export::Format::Json,
        Box::new(std::fs::File::create(&json).unwrap()),
    )
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["source"], "A");
    assert_eq!(v[2]["patronymic"], serde_json::Value::Null);
}
