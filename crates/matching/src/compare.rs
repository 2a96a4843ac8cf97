//! Field comparisons: each field of a pair of records falls into one of a
//! few agreement levels, from strongest to weakest, plus "missing".
//!
//! Levels are checked in order and the first that holds is taken, so a
//! surname that is equal after transliteration is never also counted as
//! "similar". The weight of each level is not decided here but by the
//! model ([`crate::model`]), from the data.

use strsim::{jaro_winkler, osa_distance};

use crate::record::{BirthDate, Key, PreparedRecord};

/// A compared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// Surname.
    FamilyName,
    /// First given name.
    GivenName,
    /// Patronymic.
    Patronymic,
    /// Date of birth.
    BirthDate,
    /// Service number.
    ServiceNumber,
    /// Place of birth.
    PlaceOfBirth,
    /// Military unit.
    Unit,
    /// Mother's maiden name.
    MotherMaidenName,
}

/// Number of compared fields.
pub const FIELD_COUNT: usize = 8;

/// The level every field takes when either side lacks it; it weighs 0.
pub const MISSING: u8 = u8::MAX;

/// One agreement level per field, for a pair of records.
pub type Comparison = [u8; FIELD_COUNT];

impl Field {
    /// Every field, in comparison order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::FamilyName,
        Field::GivenName,
        Field::Patronymic,
        Field::BirthDate,
        Field::ServiceNumber,
        Field::PlaceOfBirth,
        Field::Unit,
        Field::MotherMaidenName,
    ];

    /// Position in [`Field::ALL`] and in a [`Comparison`].
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }

    /// Name used in explanations.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Field::FamilyName => "family name",
            Field::GivenName => "given name",
            Field::Patronymic => "patronymic",
            Field::BirthDate => "birth date",
            Field::ServiceNumber => "service number",
            Field::PlaceOfBirth => "place of birth",
            Field::Unit => "unit",
            Field::MotherMaidenName => "mother's maiden name",
        }
    }

    /// The agreement levels of this field, strongest first ("missing" is
    /// not among them).
    #[must_use]
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::FamilyName => {
                &["same after transliteration", "same Daitch-Mokotoff code", "similar spelling", "different"]
            }
            Field::GivenName => &[
                "same after transliteration",
                "same name in another language or a diminutive",
                "similar spelling",
                "different",
            ],
            Field::Patronymic => &["same father's name", "similar spelling", "different"],
            Field::BirthDate => &[
                "same",
                "day and month swapped",
                "one digit different",
                "agrees as far as known",
                "year one digit different, rest unknown",
                "same year, day or month different",
                "different",
            ],
            Field::ServiceNumber => &["same", "one digit different", "different"],
            Field::PlaceOfBirth | Field::Unit | Field::MotherMaidenName => &["same", "similar spelling", "different"],
        }
    }

    /// Label of one level, or "missing".
    #[must_use]
    pub fn level_label(self, level: u8) -> &'static str {
        self.levels().get(usize::from(level)).copied().unwrap_or("missing")
    }

    /// The index of the "different" level (always the last).
    #[must_use]
    pub fn different(self) -> u8 {
        u8::try_from(self.levels().len() - 1).unwrap_or(0)
    }

    /// The field's value in a record, for display.
    #[must_use]
    pub fn value(self, p: &PreparedRecord) -> String {
        let r = &p.record;
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        match self {
            Field::FamilyName => r.family_name.clone(),
            Field::GivenName => r.given_names.clone(),
            Field::Patronymic => opt(&r.patronymic),
            Field::BirthDate => r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            Field::ServiceNumber => opt(&r.service_number),
            Field::PlaceOfBirth => opt(&r.place_of_birth),
            Field::Unit => opt(&r.unit),
            Field::MotherMaidenName => opt(&r.mother_maiden_name),
        }
    }
}

/// Threshold of Jaro-Winkler similarity on matching keys for "similar
/// spelling" of names: one typo in a name of six letters or more.
const NAME_JW: f64 = 0.9;
/// Places and units are longer and vary more (Київ / Киев: kiiv / kiev).
const TEXT_JW: f64 = 0.85;

fn intersects<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Whether two sorted lists share an element, in one merge pass: surname
/// and place codes run to a dozen each (several codes per spelling, five
/// spellings).
fn sorted_intersect(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    false
}

/// Compares two prepared records field by field.
#[must_use]
pub fn compare(a: &PreparedRecord, b: &PreparedRecord) -> Comparison {
    [
        family(a, b),
        given(a, b),
        patronymic(a, b),
        birth(a.birth, b.birth),
        service(&a.service, &b.service),
        place(a, b),
        text(&a.unit_key, &b.unit_key),
        text(&a.maiden_key, &b.maiden_key),
    ]
}

fn family(a: &PreparedRecord, b: &PreparedRecord) -> u8 {
    if a.family_key.is_empty() || b.family_key.is_empty() {
        MISSING
    } else if a.family_key.same(&b.family_key) {
        0
    } else if sorted_intersect(&a.family_dm, &b.family_dm) {
        1
    } else if jaro_winkler(&a.family_key, &b.family_key) >= NAME_JW {
        2
    } else {
        3
    }
}

fn given(a: &PreparedRecord, b: &PreparedRecord) -> u8 {
    if a.given_key.is_empty() || b.given_key.is_empty() {
        MISSING
    } else if a.given_key.same(&b.given_key) {
        0
    } else if intersects(&a.given_classes, &b.given_classes) {
        1
    } else if !a.given_classes.is_empty() && !b.given_classes.is_empty() {
        // Two known names of different classes are different names,
        // however alike (Oleksandr, Oleksandra).
        3
    } else if jaro_winkler(&a.given_key, &b.given_key) >= NAME_JW {
        2
    } else {
        3
    }
}

fn patronymic(a: &PreparedRecord, b: &PreparedRecord) -> u8 {
    if a.patronymic_key.is_empty() || b.patronymic_key.is_empty() {
        MISSING
    } else if a.patronymic_key.same(&b.patronymic_key) || intersects(&a.patronymic_classes, &b.patronymic_classes) {
        0
    } else if !a.patronymic_classes.is_empty() && !b.patronymic_classes.is_empty() {
        2
    } else if jaro_winkler(&a.patronymic_key, &b.patronymic_key) >= NAME_JW {
        1
    } else {
        2
    }
}

/// Digits of a full date, YYYYMMDD.
fn digits(d: BirthDate) -> [u8; 8] {
    let (m, dd) = (d.month.unwrap_or(0), d.day.unwrap_or(0));
    let y = d.year;
    let [y0, y1, y2, y3] = [y / 1000 % 10, y / 100 % 10, y / 10 % 10, y % 10].map(|v| u8::try_from(v).unwrap_or(0));
    [y0, y1, y2, y3, m / 10, m % 10, dd / 10, dd % 10]
}

fn birth(a: Option<BirthDate>, b: Option<BirthDate>) -> u8 {
    let (Some(a), Some(b)) = (a, b) else {
        return MISSING;
    };
    if a.is_full() && b.is_full() {
        if a == b {
            return 0;
        }
        if a.year == b.year && a.month == b.day && a.day == b.month {
            return 1;
        }
        let diff = digits(a).iter().zip(digits(b).iter()).filter(|(x, y)| x != y).count();
        if diff == 1 {
            return 2;
        }
        return if a.year == b.year { 5 } else { 6 };
    }
    let agree = |x: Option<u8>, y: Option<u8>| x.is_none() || y.is_none() || x == y;
    let consistent = agree(a.month, b.month) && agree(a.day, b.day);
    if a.year != b.year {
        let year_digits = digits(a).iter().zip(digits(b).iter()).take(4).filter(|(x, y)| x != y).count();
        return if year_digits == 1 && consistent { 4 } else { 6 };
    }
    if consistent {
        3
    } else if a.month.is_some() && a.month == b.day && (a.day.is_none() || a.day == b.month) {
        // Year and month on one side, the month written where the other
        // side has the day: a swap as far as can be told.
        1
    } else {
        5
    }
}

fn service(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a == b {
        0
    } else if osa_distance(a, b) <= 1 {
        1
    } else {
        2
    }
}

fn place(a: &PreparedRecord, b: &PreparedRecord) -> u8 {
    match text(&a.place_key, &b.place_key) {
        // Київ / Киев, Харків / Харьков: the Ukrainian and Russian names
        // of a place differ in vowels, which Daitch-Mokotoff ignores.
        2 if sorted_intersect(&a.place_dm, &b.place_dm) => 1,
        level => level,
    }
}

fn text(a: &Key, b: &Key) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a.same(b) {
        0
    } else if !a.same_numbers(b) {
        // Unit 1273 and unit 1304 are different units however alike
        // their names look.
        2
    } else if jaro_winkler(a, b) >= TEXT_JW {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MatchRecord;

    fn rec(family: &str, given: &str, patronymic: &str, birth: &str) -> PreparedRecord {
        PreparedRecord::new(MatchRecord {
            id: String::new(),
            family_name: family.into(),
            given_names: given.into(),
            patronymic: Some(patronymic.into()),
            birth_date: BirthDate::parse(birth).ok(),
            ..MatchRecord::default()
        })
    }

    #[test]
    fn names_across_scripts() {
        let a = rec("Коваленко", "Олександр", "Петрович", "1990-03-07");
        let b = rec("Kovalenko", "Sasha", "", "07.03.1990");
        let c = compare(&a, &b);
        assert_eq!(c[Field::FamilyName.index()], 0);
        assert_eq!(c[Field::GivenName.index()], 1);
        assert_eq!(c[Field::Patronymic.index()], MISSING);
        assert_eq!(c[Field::BirthDate.index()], 0);
        let d = rec("Kovalenco", "Олександер", "Петрович", "1990");
        let c = compare(&a, &d);
        assert_eq!(c[Field::FamilyName.index()], 1, "c for k keeps the code");
        assert_eq!(c[Field::BirthDate.index()], 3);
        let e = rec("Kovalneko", "Aleksandr", "Petrovich", "");
        let c = compare(&a, &e);
        assert!(c[Field::FamilyName.index()] <= 2);
        assert_eq!(c[Field::Patronymic.index()], 0);
    }

    #[test]
    fn dates() {
        let d = |s: &str| BirthDate::parse(s).ok();
        assert_eq!(birth(d("1990-03-07"), d("1990-07-03")), 1);
        assert_eq!(birth(d("1990-03-07"), d("1991-03-07")), 2);
        assert_eq!(birth(d("1990-03-07"), d("1990-03-17")), 2);
        assert_eq!(birth(d("1990-03-07"), d("1990-05-21")), 5);
        assert_eq!(birth(d("1990-03-07"), d("1990-03")), 3);
        assert_eq!(birth(d("1990-03-07"), d("1985")), 6);
        assert_eq!(birth(d("1990-03-07"), d("1991")), 4);
        assert_eq!(birth(d("1990-03-07"), None), MISSING);
    }

    #[test]
    fn service_numbers() {
        assert_eq!(service("1234567", "1234567"), 0);
        assert_eq!(service("1234567", "1234587"), 1);
        assert_eq!(service("1234567", "1243567"), 1);
        assert_eq!(service("1234567", "7654321"), 2);
        assert_eq!(service("", "7654321"), MISSING);
    }
}
