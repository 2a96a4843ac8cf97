//! Writes a seeded synthetic cross-script set as CSV files, for
//! `homeward match` and for other linkers on the same data
//! (bench/matching.sh).
//!
//! `cargo run -p homeward-matching --release --example synth_csv -- REQUESTS REGISTRY SEED OUTDIR`
//!
//! OUTDIR gets `requests.csv` and `registry.csv` (person-import columns,
//! names as generated: Ukrainian and Russian Cyrillic and Latin under
//! several standards), `truth.csv` (`request_id,registry_id` of every true
//! pair), and `requests_latin.csv` and `registry_latin.csv`: the same
//! records with every Cyrillic field transliterated to Latin the way a
//! careful analyst would before giving them to a Latin-only linker, by the
//! passport standard of the record's language (Ukrainian national 2010 for
//! Ukrainian text, ICAO 9303 for Russian); text with no letter only one of
//! the two languages has is taken as the language of its side, as an
//! analyst knowing the sources would: Ukrainian for the families'
//! requests, Russian for the detaining side's registry.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use homeward_matching::synth::{SynthConfig, generate};
use homeward_matching::{
    CyrillicLanguage, MatchRecord, Scheme, Script, detect_script, guess_cyrillic_language, transliterate, write_records,
};

/// The record with its Cyrillic fields in Latin letters. The language is
/// guessed from all the record's names together: one word rarely has a
/// letter only Ukrainian or only Russian has.
fn latin(r: &MatchRecord, undecided: Scheme) -> MatchRecord {
    let all = [
        r.family_name.as_str(),
        r.given_names.as_str(),
        r.patronymic.as_deref().unwrap_or(""),
        r.place_of_birth.as_deref().unwrap_or(""),
    ]
    .join(" ");
    let scheme = match guess_cyrillic_language(&all) {
        CyrillicLanguage::Ukrainian => Scheme::Ukrainian2010,
        CyrillicLanguage::Russian => Scheme::Icao9303,
        CyrillicLanguage::Unknown => undecided,
    };
    let t = |s: &str| if detect_script(s) == Script::Latin { s.to_owned() } else { transliterate(s, scheme) };
    let o = |s: &Option<String>| s.as_deref().map(t);
    MatchRecord {
        id: r.id.clone(),
        family_name: t(&r.family_name),
        given_names: t(&r.given_names),
        patronymic: o(&r.patronymic),
        mother_maiden_name: o(&r.mother_maiden_name),
        birth_date: r.birth_date,
        place_of_birth: o(&r.place_of_birth),
        rank: o(&r.rank),
        service_number: r.service_number.clone(),
        unit: o(&r.unit),
    }
}

fn write(dir: &Path, name: &str, records: &[MatchRecord]) {
    let path = dir.join(name);
    let file = File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    write_records(BufWriter::new(file), records).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (requests, registry, seed) = (num(0, 10_000) as usize, num(1, 50_000) as usize, num(2, 42));
    let dir = Path::new(args.get(3).map_or(".", String::as_str));
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let data = generate(&SynthConfig::new(requests, registry, seed));
    write(dir, "requests.csv", &data.requests);
    write(dir, "registry.csv", &data.registry);
    let requests_latin: Vec<MatchRecord> = data.requests.iter().map(|r| latin(r, Scheme::Ukrainian2010)).collect();
    let registry_latin: Vec<MatchRecord> = data.registry.iter().map(|r| latin(r, Scheme::Icao9303)).collect();
    write(dir, "requests_latin.csv", &requests_latin);
    write(dir, "registry_latin.csv", &registry_latin);
    let path = dir.join("truth.csv");
    let mut truth = BufWriter::new(File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let mut text = String::from("request_id,registry_id\n");
    for (q, r) in &data.truth {
        text.push_str(&format!("{q},{r}\n"));
    }
    truth.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!(
        "{} requests, {} registry records, {} true pairs (seed {seed}) in {}",
        data.requests.len(),
        data.registry.len(),
        data.truth.len(),
        dir.display()
    );
}
