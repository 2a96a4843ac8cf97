//! Matching people across Ukrainian, Russian and Latin spellings: name
//! knowledge (normalisation, transliteration, a cross-scheme matching key,
//! given-name equivalence, surname phonetic codes) and a linkage engine on
//! top of it (blocking, field comparisons, Fellegi-Sunter weights
//! estimated from the data, explanations).
//!
//! Key design decision: **every comparison happens on Latin keys built from
//! sound classes, and every name is compared through all the standards at
//! once rather than guessing which one a clerk used.** A Cyrillic name is
//! transliterated, then folded into a skeleton ([`name_key`]) on which
//! every standard's spelling of it lands (Коваленко = Kovalenko =
//! Kowalenko; ю = iu = yu = û). Given names differ across languages in
//! more than spelling (Олександр / Александр / Alexander / Саша), so they
//! meet through equivalence classes in a data file, not through the key.
//!
//! The transliteration standards are kept here as small tables with their
//! source, not taken from a crate: the `translit` crate's GOST 7.79 system B
//! always writes ц as c (the standard writes cz before e, i, y, j) and has
//! no Ukrainian apostrophe rule, and `iuliia` covers Russian only (no
//! Ukrainian 2010, no Ukrainian letters in its ICAO table). `iuliia` is used
//! in tests to cross-check our Russian ICAO and BGN/PCGN tables.
//!
//! ```
//! use homeward_matching::{given_name_classes, name_key, patronymic_class, surname_phonetic_codes};
//!
//! assert_eq!(name_key("Коваленко"), name_key("Kowalenko"));
//! assert_eq!(given_name_classes("Sasha"), given_name_classes("Саша"));
//! assert!(given_name_classes("Aleksandr").iter().any(|c| c.label() == "oleksandr"));
//! assert_eq!(patronymic_class("Oleksandrovych"), patronymic_class("Александрович"));
//! assert!(surname_phonetic_codes("Szewczenko").contains(&"474650".to_owned()));
//! ```
//!
//! On these keys sits the linkage engine:
//! - [`MatchRecord`] is the matcher's own record; [`PreparedRecord`]
//!   holds every derived key, computed once ([`read_records`] loads them
//!   from the person-import CSV layout);
//! - [`index`]: blocking on several keys (surname phonetic code, surname
//!   prefix, birth date with day and month in either order, birth year
//!   with given-name class, service number and its one-deletion
//!   neighbourhood, and combinations), so that no single error hides a
//!   match; blocks over a cap are skipped and counted, their finer
//!   combinations still search; the surname alone is searched only for a
//!   record with neither given name nor birth year, the birth year with
//!   the given name only when no surname key finds anyone. [`Index`] is the
//!   in-memory index a search uses without rescanning the registry;
//! - [`compare()`]: each field falls into an agreement level, reading a
//!   small packed block per record (key hashes, codes, short keys) so that
//!   tens of millions of comparisons do not wait on memory;
//! - [`model`]: Fellegi-Sunter weights, `u` from random pairs and `m` by
//!   EM on the counts of comparison patterns of blocked pairs, in sessions
//!   per blocking key; a match probability from the summed log2 Bayes
//!   factors and a prior under "at most one match per request", in which a
//!   candidate competes with the request's other candidates (batch uses;
//!   [`Index::search`] scores one candidate at a time against the rate
//!   over the index size), and a per-field [`Explanation`];
//! - [`mod@link`]: batch linkage ([`link()`]), reconciliation of two lists
//!   ([`reconcile`]), duplicates ([`duplicates`]); [`Index::search`] is
//!   the single search. Pairs are reported from [`DEFAULT_THRESHOLD`]
//!   (probability one half; see there why). A batch runs in two passes:
//!   the model is estimated from the pairs of a sample of
//!   [`link::ESTIMATION_SAMPLE`] records spread over the batch, then the
//!   other records are compared and weighed at once, keeping only pairs
//!   whose weight could reach the threshold ([`Model::passable_weight`]);
//!   records go in an order that groups surnames, so that records
//!   searched together share their candidates in the cache;
//! - [`synth`]: seeded synthetic cross-script data with known truth, for
//!   tests and benchmarks (`cargo run -p homeward-matching --release
//!   --example accuracy`).
//!
//! ```
//! use homeward_matching::{BirthDate, MatchRecord, link};
//!
//! let person = |id: &str, family: &str, given: &str, born: BirthDate| MatchRecord {
//!     id: id.into(),
//!     family_name: family.into(),
//!     given_names: given.into(),
//!     birth_date: Some(born),
//!     ..MatchRecord::default()
//! };
//! let registry = [
//!     person("r1", "Коваленко", "Александр", BirthDate::ymd(1990, 3, 7)),
//!     person("r2", "Шевченко", "Дмитрий", BirthDate::ymd(1995, 1, 15)),
//! ];
//! let requests = [person("q1", "Kovalenko", "Sasha", BirthDate::ymd(1990, 7, 3))];
//! let pairs = link(&requests, &registry);
//! assert_eq!(pairs[0].right_id, "r1");
//! assert!(pairs[0].explanation.to_string().contains("day and month swapped"));
//! ```
//!
//! What this crate does not do: no storage, no network, no threads of its
//! own beyond the scoped ones a batch run uses for blocking and comparing
//! on every core (the result does not depend on their number) and the one
//! that frees a finished batch's records; the only
//! I/O is reading (or writing) a CSV through a reader (writer) the
//! caller opens. It never decides that two records are the same person:
//! it ranks and explains, and a person confirms. Name data is compiled
//! by hand and needs a native speaker's review before it is relied on.

#[cfg(test)]
mod blocking_study;
pub mod compare;
pub mod csv_input;
pub mod given_names;
mod hot_blocks;
pub mod index;
pub mod key;
pub mod link;
pub mod model;
pub mod normalize;
pub mod phonetic;
mod postings;
pub mod record;
pub mod rng;
pub mod synth;
pub mod translit;

pub use compare::{Comparison, FIELD_COUNT, Field, MISSING, compare};
pub use csv_input::{CsvError, read_records, write_records};
pub use given_names::{ClassId, Sex, given_name_classes, is_patronymic, patronymic_class};
pub use index::{BlockingStats, Candidate, DEFAULT_BLOCK_CAP, Index, KeyKind};
pub use key::name_key;
pub use link::{
    Accuracy, Conflict, DEFAULT_DUPLICATE_RATE, DEFAULT_THRESHOLD, LinkConfig, Linkage, Matched, Pair, Reconciliation,
    accuracy, duplicate_config, duplicates, duplicates_with, link, link_owned, link_with, prof, reconcile,
    reconcile_with,
};
pub use model::{Evidence, Explanation, Model};
pub use normalize::{
    CyrillicLanguage, Script, detect_script, guess_cyrillic_language, normalize, strip_latin_diacritics,
};
pub use phonetic::surname_phonetic_codes;
pub use record::{BirthDate, MatchRecord, PreparedRecord, prepare_all};
pub use translit::{Scheme, latin_variants, transliterate};
