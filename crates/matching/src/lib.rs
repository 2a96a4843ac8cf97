//! Name knowledge for matching people across Ukrainian, Russian and Latin
//! spellings: normalisation, transliteration, a cross-scheme matching key,
//! given-name equivalence and surname phonetic codes.
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
//! What this crate does not do: no I/O, no storage, no scoring, blocking or
//! ranking yet (those come on top of these keys); it never decides that two
//! records are the same person. Name data is compiled by hand and needs a
//! native speaker's review before it is relied on.

pub mod compare;
pub mod csv_input;
pub mod given_names;
pub mod index;
pub mod key;
pub mod link;
pub mod model;
pub mod normalize;
pub mod phonetic;
pub mod record;
pub mod rng;
pub mod synth;
pub mod translit;

pub use compare::{Comparison, FIELD_COUNT, Field, MISSING, compare};
pub use csv_input::{CsvError, read_records};
pub use given_names::{ClassId, Sex, given_name_classes, is_patronymic, patronymic_class};
pub use index::{BlockingStats, Candidate, DEFAULT_BLOCK_CAP, Index, KeyKind};
pub use key::name_key;
pub use link::{
    Accuracy, Conflict, DEFAULT_DUPLICATE_RATE, DEFAULT_THRESHOLD, LinkConfig, Linkage, Matched,
    Pair, Reconciliation, accuracy, duplicate_config, duplicates, duplicates_with, link, link_with,
    reconcile, reconcile_with,
};
pub use model::{Evidence, Explanation, Model};
pub use normalize::{
    CyrillicLanguage, Script, detect_script, guess_cyrillic_language, normalize,
    strip_latin_diacritics,
};
pub use phonetic::surname_phonetic_codes;
pub use record::{BirthDate, MatchRecord, PreparedRecord, prepare_all};
pub use translit::{Scheme, latin_variants, transliterate};
