//! The matching commands as a user runs them: `match` and `reconcile` on
//! real CSV files, `registry search` and `registry duplicates` on a real
//! SQLite data folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use homeward_matching::synth::{SynthConfig, generate};
use homeward_matching::{MatchRecord, write_records};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .current_dir(self.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env("HOMEWARD_DATA_DIR", self.dir.path().join("data"))
            .env("HOMEWARD_LOG", "warn")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{args:?} failed: {stderr}");
        (String::from_utf8(out.stdout).unwrap(), stderr)
    }

    fn write_records(&self, name: &str, records: &[MatchRecord]) -> String {
        let p = self.path(name);
        write_records(std::fs::File::create(&p).unwrap(), records).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

fn read_csv(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path).unwrap().records().map(Result::unwrap).collect()
}

#[test]
fn matching_commands_have_help_with_examples() {
    let env = Env::new();
    for args in [
        &["match", "--help"][..],
        &["reconcile", "--help"],
        &["registry", "search", "--help"],
        &["registry", "duplicates", "--help"],
    ] {
        let (help, _) = env.ok(args);
        assert!(help.contains("Examples:"), "{args:?} has no examples:\n{help}");
    }
}

#[test]
fn match_links_synthetic_lists_with_explanations() {
    let env = Env::new();
    let data = generate(&SynthConfig::new(200, 600, 11));
    let requests = env.write_records("requests.csv", &data.requests);
    let registry = env.write_records("registry.csv", &data.registry);
    let out = env.path("pairs.csv");
    let (stdout, stderr) = env.ok(&["match", &requests, &registry, "--out", out.to_str().unwrap()]);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("200 requests") && stderr.contains("600 registry records"), "{stderr}");

    let mut rdr = csv::Reader::from_path(&out).unwrap();
    assert_eq!(rdr.headers().unwrap(), vec!["request_id", "registry_id", "probability", "explanation"]);
    let rows = read_csv(&out);
    let truth: std::collections::HashSet<(&str, &str)> =
        data.truth.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let found = rows.iter().filter(|r| truth.contains(&(&r[0], &r[1]))).count();
    // Most true pairs are found; the exact share is the accuracy
    // example's business.
    assert!(found * 10 >= truth.len() * 8, "{found} of {} true pairs", truth.len());
    for r in &rows {
        let p: f64 = r[2].parse().unwrap();
        assert!((0.5..=1.0).contains(&p), "{p}");
        assert!(r[3].contains("family name: "), "{}", &r[3]);
    }
    // A higher threshold reports fewer pairs, on standard output.
    let (stdout, _) = env.ok(&["match", &requests, &registry, "--threshold", "0.99"]);
    let strict = stdout.lines().count() - 1;
    assert!(strict <= rows.len(), "{strict} > {}", rows.len());
}

const HEADER: &str = "record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,service_number,unit\n";

#[test]
fn match_explains_across_scripts() {
    let env = Env::new();
    // 3 July against 7 March: day and month swapped.
    let requests = env.write("q.csv", &format!("{HEADER}q1,Kovalenko,Sasha,,,03.07.1990,,,,\n"));
    let registry = env.write(
        "r.csv",
        &format!("{HEADER}r1,Коваленко,Александр,Петрович,,1990-03-07,,,,\nr2,Шевченко,Дмитрий,,,1995-01-15,,,,\n"),
    );
    let (stdout, _) = env.ok(&["match", &requests, &registry]);
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(stdout.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert_eq!((&rows[0][0], &rows[0][1]), ("q1", "r1"));
    assert!(rows[0][3].contains("family name: same after transliteration"), "{stdout}");
    assert!(rows[0][3].contains("birth date: day and month swapped"), "{stdout}");
}

#[test]
fn reconcile_prints_matches_unmatched_and_conflicts() {
    let env = Env::new();
    let a = env.write(
        "a.csv",
        &format!(
            "{HEADER}a1,Коваленко,Олександр,Петрович,,1990-03-07,,,1234567,\n\
             a2,Шевченко,Дмитро,Сергійович,,1995-01-15,,,7654321,\n\
             a3,Бондаренко,Юрій,,,2001-12-30,,,,\n"
        ),
    );
    let b = env.write(
        "b.csv",
        &format!(
            "{HEADER}b1,Kovalenko,Oleksandr,Petrovych,,1990-03-07,,,1234567,\n\
             b2,Шевченко,Дмитрий,Сергеевич,,1995-01-15,,,7654321,\n\
             b9,Мельник,Олег,,,1999-09-09,,,,\n"
        ),
    );
    // b2 differs from a2 in the service number: a conflict to show.
    let b = {
        let text = std::fs::read_to_string(&b).unwrap().replace("7654321", "9999999");
        env.write("b.csv", &text)
    };
    let dir = env.path("out");
    let (stdout, stderr) = env.ok(&["reconcile", &a, &b, "--out", dir.to_str().unwrap()]);
    assert!(stdout.contains("matched (2):"), "{stdout}");
    assert!(stdout.contains("a1 = b1"), "{stdout}");
    assert!(stdout.contains("a2 = b2"), "{stdout}");
    assert!(stdout.contains("conflicts: service number: different (7654321 / 9999999)"), "{stdout}");
    assert!(stdout.contains("why: family name: "), "{stdout}");
    let unmatched_a = stdout.split("unmatched in").nth(1).unwrap();
    assert!(unmatched_a.contains("(1):") && unmatched_a.contains("  a3"), "{stdout}");
    let unmatched_b = stdout.split("unmatched in").nth(2).unwrap();
    assert!(unmatched_b.contains("(1):") && unmatched_b.contains("  b9"), "{stdout}");
    assert!(stderr.contains("2 matched (1 with conflicting fields)"), "{stderr}");

    let matched = read_csv(&dir.join("matched.csv"));
    assert_eq!(matched.len(), 2);
    let ua = read_csv(&dir.join("unmatched_a.csv"));
    assert_eq!(ua.iter().map(|r| r[0].to_owned()).collect::<Vec<_>>(), ["a3"]);
    let ub = read_csv(&dir.join("unmatched_b.csv"));
    assert_eq!(ub.iter().map(|r| r[0].to_owned()).collect::<Vec<_>>(), ["b9"]);
}

#[test]
fn malformed_input_names_file_line_and_field() {
    let env = Env::new();
    let good = env.write("good.csv", &format!("{HEADER}r1,Коваленко,Олександр,,,1990-03-07,,,,\n"));
    let bad = env
        .write("bad.csv", &format!("{HEADER}q1,Kovalenko,Sasha,,,07.03.1990,,,,\nq2,Secret,Person,,,31/12/1990,,,,\n"));
    for args in [&["match", &bad, &good][..], &["reconcile", &good, &bad]] {
        let out = env.run(args);
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(&format!("{bad}:3: birth_date: expected YYYY")), "{stderr}");
        assert!(!stderr.contains("31/12/1990") && !stderr.contains("Secret"), "value leaked: {stderr}");
    }
    let no_id = env.write("noid.csv", "family_name,given_names\nX,Y\n");
    let out = env.run(&["match", &no_id, &good]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&format!("{no_id}:1: record_id: missing column")), "{stderr}");
    let ragged = env.write("ragged.csv", &format!("{HEADER}q1,Kovalenko,Sasha\n"));
    let out = env.run(&["match", &ragged, &good]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&format!("{ragged}:2: ")), "{stderr}");
    let out = env.run(&["match", "missing.csv", &good]);
    assert!(String::from_utf8(out.stderr).unwrap().contains("cannot open missing.csv"));
}

/// A demo registry with a planted duplicate: a stored person written
/// again by the other party in Latin letters, with the date in another
/// format and the service number without its letters.
#[test]
fn registry_search_and_duplicates_find_a_person_written_in_another_script() {
    use homeward_matching::{BirthDate, Scheme, Script, detect_script, transliterate};

    let env = Env::new();
    env.ok(&["demo", "--no-serve", "--persons", "500"]);
    let export = env.path("persons.csv");
    env.ok(&["export", "persons", "--out", export.to_str().unwrap()]);
    let mut rdr = csv::Reader::from_path(&export).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let original = rows
        .iter()
        .find(|r| {
            detect_script(&r[col("family_name")]) == Script::Cyrillic
                && BirthDate::parse(&r[col("birth_date")]).is_ok_and(|d| d.is_full())
                && !r[col("patronymic")].is_empty()
                && r[col("service_number")].chars().filter(char::is_ascii_digit).count() >= 5
        })
        .expect("a Cyrillic record with a full birth date and a service number");
    let person_id = &original[col("person_id")];
    let latin = |field: &str| transliterate(&original[col(field)], Scheme::Ukrainian2010);
    let born = BirthDate::parse(&original[col("birth_date")]).unwrap();
    let digits: String = original[col("service_number")].chars().filter(char::is_ascii_digit).collect();
    let (family, given) = (latin("family_name"), latin("given_names"));
    let import = env.write(
        "planted.csv",
        &format!(
            "record_id,family_name,given_names,patronymic,birth_date,service_number,power,category,status\n\
             PLANTED-1,{family},{given},{},{:02}.{:02}.{},{digits},{},{},captured\n",
            latin("patronymic"),
            born.day.unwrap(),
            born.month.unwrap(),
            born.year,
            &original[col("power")],
            &original[col("category")],
        ),
    );
    let other = if &original[col("source")] == "A" { "B" } else { "A" };
    env.ok(&["import", "persons", &import, "--source", other]);

    let (stdout, stderr) = env.ok(&["registry", "duplicates"]);
    assert!(stderr.contains("indexed 501 source records"), "{stderr}");
    let pair = stdout
        .lines()
        .find(|l| l.contains(person_id) && l.contains(" = "))
        .unwrap_or_else(|| panic!("planted duplicate of {person_id} not found:\n{stdout}"));
    assert!(pair.contains("probability"), "{pair}");
    assert!(stdout.contains(&format!("[{other}:PLANTED-1]")), "{stdout}");
    assert!(stdout.contains("why: family name: same after transliteration"), "{stdout}");

    // The bureau searches with what a family would say: the Latin name,
    // no patronymic, the birth date.
    let date = born.to_string();
    let (stdout, _) =
        env.ok(&["registry", "search", "--family-name", &family, "--given-names", &given, "--birth-date", &date]);
    let first_two: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(' ')).take(2).collect();
    assert!(first_two.iter().any(|l| l.contains(person_id)), "{stdout}");
    assert!(stdout.contains("1. ") && stdout.contains("why: "), "{stdout}");
    let (stdout, _) = env.ok(&["registry", "search", "--family-name", &family, "--limit", "1"]);
    assert_eq!(stdout.lines().filter(|l| !l.starts_with(' ')).count(), 1, "{stdout}");
}
