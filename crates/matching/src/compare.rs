//! Field comparisons: each field of a pair of records falls into one of a
//! few agreement levels, from strongest to weakest, plus "missing".
//!
//! Levels are checked in order and the first that holds is taken, so a
//! surname that is equal after transliteration is never also counted as
//! "similar". The weight of each level is not decided here but by the
//! model ([`crate::model`]), from the data.

use strsim::jaro_winkler;

use crate::given_names::ClassId;
use crate::record::{BirthDate, Hot, Inline, Key, PreparedRecord};

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

    /// The field's text in a record as given (`None` for the birth date,
    /// which is not kept as text, and for an absent field).
    fn text(self, p: &PreparedRecord) -> Option<&str> {
        let r = &p.record;
        match self {
            Field::FamilyName => Some(&r.family_name),
            Field::GivenName => Some(&r.given_names),
            Field::Patronymic => r.patronymic.as_deref(),
            Field::BirthDate => None,
            Field::ServiceNumber => r.service_number.as_deref(),
            Field::PlaceOfBirth => r.place_of_birth.as_deref(),
            Field::Unit => r.unit.as_deref(),
            Field::MotherMaidenName => r.mother_maiden_name.as_deref(),
        }
    }

    /// Whether a record leaves the field empty (or blank), as
    /// [`Field::value`] would show it, without copying the value: every
    /// reported pair asks this of each missing field.
    #[must_use]
    pub fn is_blank(self, p: &PreparedRecord) -> bool {
        match self {
            Field::BirthDate => p.record.birth_date.is_none(),
            _ => self.text(p).is_none_or(|s| s.trim().is_empty()),
        }
    }

    /// The field's value in a record, for display.
    #[must_use]
    pub fn value(self, p: &PreparedRecord) -> String {
        match self {
            Field::BirthDate => p.record.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            _ => self.text(p).unwrap_or_default().to_owned(),
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
    compare_with(a, &Hot::new(a), b, &Hot::new(b), None)
}

/// Remembers the levels of free-text fields (places, units, mothers'
/// maiden names) and the similarity of names, by the pair of keys: they
/// come from a small vocabulary, and telling "similar" from "different"
/// needs both texts from the heap and a Jaro-Winkler. Direct-mapped, so it
/// never grows; names and free texts in tables of their own, so that the
/// many pairs of surnames do not push out the few of places (a place's
/// text is read from the candidate's record, a cache miss, when the memo
/// has lost it).
#[derive(Debug)]
pub(crate) struct TextMemo {
    /// Per entry, the pair's key with the level in its two low bits: eight
    /// bytes, so that both tables fit a core's cache beside the blocks
    /// being compared.
    texts: Vec<u64>,
    names: Vec<u64>,
}

/// Where a level goes in a [`TextMemo`]: table, place, key.
type MemoSlot = (bool, usize, u64);

impl TextMemo {
    const BITS: u32 = 14;
    const LEVEL: u64 = 3;
    /// Tags from this one up are names.
    const FIRST_NAME_TAG: u64 = 4;

    pub(crate) fn new() -> Self {
        Self { texts: vec![0; 1 << Self::BITS], names: vec![0; 1 << Self::BITS] }
    }

    /// The level memoised for a pair of keys, or where to put it.
    fn get(&self, tag: u64, a: u64, b: u64) -> Result<u8, MemoSlot> {
        let key = (a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(tag).wrapping_mul(0xC2B2_AE3D_27D4_EB4F))
            .wrapping_mul(0x1656_67B1_9E37_79F9);
        // Two low bits for the level (0 to 2); the third set, so that no
        // key is an empty entry.
        let key = key & !Self::LEVEL | 4;
        let i = usize::try_from(key >> (64 - Self::BITS)).unwrap_or(0);
        let name = tag >= Self::FIRST_NAME_TAG;
        let table = if name { &self.names } else { &self.texts };
        match table.get(i) {
            Some(&slot) if slot & !Self::LEVEL == key => Ok(u8::try_from(slot & Self::LEVEL).unwrap_or(0)),
            _ => Err((name, i, key)),
        }
    }

    fn put(&mut self, (name, i, key): MemoSlot, level: u8) {
        let table = if name { &mut self.names } else { &mut self.texts };
        if let Some(slot) = table.get_mut(i) {
            *slot = key | u64::from(level) & Self::LEVEL;
        }
    }
}

/// Whether two names are similar, by their keys' hashes from the memo when
/// it knows them, else by `slow` (a Jaro-Winkler), remembered: the same
/// pairs of surnames and given names come back record after record, and
/// millions of pairs reach this.
fn remembered(memo: Option<&mut TextMemo>, tag: u64, xh: u64, yh: u64, slow: impl FnOnce() -> bool) -> bool {
    match memo {
        Some(m) => match m.get(tag, xh, yh) {
            Ok(level) => level == 1,
            Err(at) => {
                let similar = slow();
                m.put(at, u8::from(similar));
                similar
            }
        },
        None => slow(),
    }
}

// The slow paths of [`compare_with`], out of line: texts that are not in the
// packed blocks are read only here, so the compiler cannot start loading
// them (a cache miss on the candidate's record) on the common path, where
// the memo answers.

#[cold]
#[inline(never)]
fn texts_similar(a: &PreparedRecord, b: &PreparedRecord, text: fn(&PreparedRecord) -> &Key) -> bool {
    similar(text(a), text(b), TEXT_JW)
}

/// Whether two names are similar, from their texts in the hot blocks
/// (`inline`) when both fit there: a third of the surname pairs that reach
/// this are new to the memo (names of records found by their birth date
/// or service number), and reading the candidate's record for its text was
/// a cache miss each, a twelfth of a batch's time.
#[inline(never)]
fn names_similar(
    a: &PreparedRecord,
    x: &Hot,
    b: &PreparedRecord,
    y: &Hot,
    inline: fn(&Hot) -> &Inline,
    key: fn(&PreparedRecord) -> &Key,
) -> bool {
    match (inline(x).bytes(), inline(y).bytes()) {
        (Some(p), Some(q)) => similar_bytes(p, q, NAME_JW),
        (p, q) => long_names_similar(p, q, a, b, key),
    }
}

/// [`names_similar`] when a name did not fit its block (`None`): read from
/// the record, out of line, so that the common path never loads it.
#[cold]
#[inline(never)]
fn long_names_similar(
    p: Option<&[u8]>,
    q: Option<&[u8]>,
    a: &PreparedRecord,
    b: &PreparedRecord,
    key: fn(&PreparedRecord) -> &Key,
) -> bool {
    similar_bytes(p.unwrap_or_else(|| key(a).as_bytes()), q.unwrap_or_else(|| key(b).as_bytes()), NAME_JW)
}

#[cold]
#[inline(never)]
fn patronymic_similar(a: &PreparedRecord, b: &PreparedRecord) -> bool {
    similar(&a.patronymic.key, &b.patronymic.key, NAME_JW)
}

/// [`compare`], reading only the records' [`Hot`] blocks unless a field
/// needs more, with a memo of free-text levels.
pub(crate) fn compare_with(
    a: &PreparedRecord,
    x: &Hot,
    b: &PreparedRecord,
    y: &Hot,
    mut memo: Option<&mut TextMemo>,
) -> Comparison {
    let family_level = family(a, x, b, y, memo.as_deref_mut());
    let given_level = given(a, x, b, y, memo.as_deref_mut());
    let patronymic_level = patronymic(a, x, b, y, memo.as_deref_mut());
    // Texts are read from the heap, and their similarity computed, only
    // when the keys differ but their numbers agree; the memo keeps that
    // similarity by the pair of keys.
    let mut text_level = |tag: u64, xh: u64, xn: u64, yh: u64, yn: u64, text: fn(&PreparedRecord) -> &Key| {
        if xh == 0 || yh == 0 {
            MISSING
        } else if xh == yh {
            0
        } else if xn != yn {
            // Unit 1273 and unit 1304 are different units however alike
            // their names look.
            2
        } else {
            // The texts are read only when the memo does not know the
            // pair: they live outside the packed block, and reading them
            // is a cache miss on most pairs.
            let slow = || if texts_similar(a, b, text) { 1 } else { 2 };
            match memo.as_deref_mut() {
                Some(m) => match m.get(tag, xh, yh) {
                    Ok(level) => level,
                    Err(at) => {
                        let level = slow();
                        m.put(at, level);
                        level
                    }
                },
                None => slow(),
            }
        }
    };
    let place = match text_level(1, x.place, x.place_numbers, y.place, y.place_numbers, |p| &p.place.key) {
        // Київ / Киев, Харків / Харьков: the Ukrainian and Russian names
        // of a place differ in vowels, which Daitch-Mokotoff ignores.
        2 if x.place_dm & y.place_dm != 0 && sorted_intersect(&a.place.codes, &b.place.codes) => 1,
        level => level,
    };
    let unit = text_level(2, x.unit, x.unit_numbers, y.unit, y.unit_numbers, |p| &p.unit.key);
    let maiden = text_level(3, x.maiden, x.maiden_numbers, y.maiden, y.maiden_numbers, |p| &p.maiden.key);
    [
        family_level,
        given_level,
        patronymic_level,
        birth(x.birth.get(), y.birth.get()),
        service(a, x, b, y),
        place,
        unit,
        maiden,
    ]
}

/// Whether the Jaro-Winkler similarity of two keys reaches `threshold`.
/// Most compared names are far apart, so an upper bound that needs no
/// allocation is tried first: each Jaro match pairs equal letters, so
/// there are at most as many matches as letters of one key that occur in
/// the other; Jaro is then at most (m/|a| + m/|b| + 1) / 3, and the
/// Winkler bonus for the common prefix (up to four letters) is added as if
/// it applied.
fn similar(a: &str, b: &str, threshold: f64) -> bool {
    similar_bytes(a.as_bytes(), b.as_bytes(), threshold)
}

/// [`similar`] of texts as bytes (from the packed blocks): the bound needs
/// no text, and most pairs end there, so the bytes are checked to be text
/// only for the few that go on to Jaro-Winkler (checking every pair's
/// first was about a hundredth of a batch's time).
fn similar_bytes(x: &[u8], y: &[u8], threshold: f64) -> bool {
    if x.is_ascii() && y.is_ascii() {
        let set = |s: &[u8]| s.iter().fold(0u128, |m, &c| m | 1 << (c & 127));
        let (sx, sy) = (set(x), set(y));
        let mx = x.iter().filter(|&&c| sy >> (c & 127) & 1 == 1).count();
        let my = y.iter().filter(|&&c| sx >> (c & 127) & 1 == 1).count();
        let m = mx.min(my) as f64;
        if m == 0.0 {
            return false;
        }
        let jaro = (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0;
        let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count() as f64;
        if jaro + 0.1 * prefix * (1.0 - jaro) + 1e-9 < threshold {
            return false;
        }
    }
    match (std::str::from_utf8(x), std::str::from_utf8(y)) {
        (Ok(a), Ok(b)) => jaro_winkler(a, b) >= threshold,
        _ => false,
    }
}

fn family(a: &PreparedRecord, x: &Hot, b: &PreparedRecord, y: &Hot, memo: Option<&mut TextMemo>) -> u8 {
    if x.family == 0 || y.family == 0 {
        MISSING
    } else if x.family == y.family {
        0
    } else if x.family_dm & y.family_dm != 0 && {
        let codes = |h: &Hot, p: &'_ PreparedRecord| -> Vec<u32> {
            h.family_codes
                .get(..usize::from(h.family_dm_count))
                .map_or_else(|| p.family.codes.to_vec(), <[u32]>::to_vec)
        };
        match (
            x.family_codes.get(..usize::from(x.family_dm_count)),
            y.family_codes.get(..usize::from(y.family_dm_count)),
        ) {
            (Some(p), Some(q)) => sorted_intersect(p, q),
            _ => sorted_intersect(&codes(x, a), &codes(y, b)),
        }
    } {
        1
    } else if remembered(memo, 4, x.family, y.family, || {
        names_similar(a, x, b, y, |h| &h.family_text, |p| &p.family.key)
    }) {
        2
    } else {
        3
    }
}

/// The classes of a record's given name or patronymic, from the hot block
/// when they fit, else read from the record.
fn classes<'a>(
    inline: &'a [u16; 4],
    count: u8,
    p: &'a PreparedRecord,
    all: fn(&PreparedRecord) -> &[ClassId],
) -> Classes<'a> {
    match inline.get(..usize::from(count)) {
        Some(c) => Classes::Inline(c),
        None => Classes::Record(from_record(p, all)),
    }
}

/// Reads a field of a record, out of line: a candidate's record is a
/// cache miss, and inlined, the compiler may load it before the test
/// that makes it needed (the hot block almost always has what is
/// needed).
#[cold]
#[inline(never)]
fn from_record<T: ?Sized>(p: &PreparedRecord, field: fn(&PreparedRecord) -> &T) -> &T {
    field(p)
}

enum Classes<'a> {
    Inline(&'a [u16]),
    Record(&'a [ClassId]),
}

impl Classes<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Classes::Inline(c) => c.is_empty(),
            Classes::Record(c) => c.is_empty(),
        }
    }

    fn intersects(&self, other: &Classes<'_>) -> bool {
        let raw = |c: &Classes<'_>| -> Vec<u16> {
            match c {
                Classes::Inline(c) => c.to_vec(),
                Classes::Record(c) => c.iter().map(|c| c.raw()).collect(),
            }
        };
        match (self, other) {
            (Classes::Inline(a), Classes::Inline(b)) => intersects(a, b),
            _ => intersects(&raw(self), &raw(other)),
        }
    }
}

fn given(a: &PreparedRecord, x: &Hot, b: &PreparedRecord, y: &Hot, memo: Option<&mut TextMemo>) -> u8 {
    let (ca, cb) = (
        classes(&x.given_classes, x.given_count, a, |p| &p.given.codes),
        classes(&y.given_classes, y.given_count, b, |p| &p.given.codes),
    );
    if x.given == 0 || y.given == 0 {
        MISSING
    } else if x.given == y.given {
        0
    } else if ca.intersects(&cb) {
        1
    } else if !ca.is_empty() && !cb.is_empty() {
        // Two known names of different classes are different names,
        // however alike (Oleksandr, Oleksandra).
        3
    } else if remembered(memo, 5, x.given, y.given, || names_similar(a, x, b, y, |h| &h.given_text, |p| &p.given.key)) {
        2
    } else {
        3
    }
}

fn patronymic(a: &PreparedRecord, x: &Hot, b: &PreparedRecord, y: &Hot, memo: Option<&mut TextMemo>) -> u8 {
    let (ca, cb) = (
        classes(&x.patronymic_classes, x.patronymic_count, a, |p| &p.patronymic.codes),
        classes(&y.patronymic_classes, y.patronymic_count, b, |p| &p.patronymic.codes),
    );
    if x.patronymic == 0 || y.patronymic == 0 {
        MISSING
    } else if x.patronymic == y.patronymic || ca.intersects(&cb) {
        0
    } else if !ca.is_empty() && !cb.is_empty() {
        2
    } else if remembered(memo, 6, x.patronymic, y.patronymic, || patronymic_similar(a, b)) {
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

fn service(a: &PreparedRecord, x: &Hot, b: &PreparedRecord, y: &Hot) -> u8 {
    if x.service_len == 0 || y.service_len == 0 {
        return MISSING;
    }
    if x.service_len <= 16 && y.service_len <= 16 {
        if x.service_len == y.service_len {
            return packed_service_level(x.service, y.service);
        }
        if x.service_len.abs_diff(y.service_len) > 1 {
            return 2;
        }
        let unpack = |n: u64, len: u8| {
            let mut d = [0u8; 16];
            for (i, v) in d.iter_mut().take(usize::from(len)).enumerate() {
                *v = u8::try_from(n >> (4 * (usize::from(len) - 1 - i)) & 0xf).unwrap_or(0);
            }
            d
        };
        let (da, db) = (unpack(x.service, x.service_len), unpack(y.service, y.service_len));
        let (sa, sb) = (&da[..usize::from(x.service_len)], &db[..usize::from(y.service_len)]);
        return if within_one_edit(sa, sb) { 1 } else { 2 };
    }
    service_str(&a.service(), &b.service())
}

/// The level of two service numbers of the same length, on their packed
/// digits (four bits each): equal, one digit different or two neighbours
/// swapped, else different. Most compared numbers differ in most digits,
/// and unpacking them cost more than the rest of the comparison.
fn packed_service_level(a: u64, b: u64) -> u8 {
    let x = a ^ b;
    if x == 0 {
        return 0;
    }
    // One bit per differing digit, at the digit's lowest bit.
    let differing = (x | x >> 1 | x >> 2 | x >> 3) & 0x1111_1111_1111_1111;
    match differing.count_ones() {
        1 => 1,
        2 => {
            let low = differing.trailing_zeros();
            let high = 63 - differing.leading_zeros();
            let digit = |n: u64, at: u32| n >> at & 0xf;
            // Neighbours, each where the other belongs.
            if high - low == 4 && digit(a, low) == digit(b, high) && digit(a, high) == digit(b, low) { 1 } else { 2 }
        }
        _ => 2,
    }
}

fn service_str(a: &str, b: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        MISSING
    } else if a == b {
        0
    } else if within_one_edit(a.as_bytes(), b.as_bytes()) {
        1
    } else {
        2
    }
}

/// Whether two strings are at most one optimal-string-alignment edit apart
/// (a substitution, an insertion, a deletion or a swap of neighbours):
/// `osa_distance(a, b) <= 1` without its matrix and allocation.
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let prefix = long.iter().zip(short).take_while(|(p, q)| p == q).count();
    match long.len() - short.len() {
        0 => {
            if prefix == long.len() {
                return true;
            }
            let rest = |skip: usize| long.get(prefix + skip..) == short.get(prefix + skip..);
            // One substitution, or two neighbours swapped.
            rest(1)
                || (long.get(prefix) == short.get(prefix + 1) && long.get(prefix + 1) == short.get(prefix) && rest(2))
        }
        1 => long.get(prefix + 1..) == short.get(prefix..),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::MatchRecord;

    /// A field is blank exactly when its displayed value is empty or
    /// white space, for every field of records filled, blank and empty.
    #[test]
    fn blank_is_what_shows_empty() {
        let text = |s: &str| Some(s.to_owned());
        let records = [
            MatchRecord {
                family_name: "Коваленко".into(),
                given_names: "Олександр".into(),
                patronymic: text("Петрович"),
                mother_maiden_name: text("Шевченко"),
                birth_date: BirthDate::parse("1990-02-03").ok(),
                place_of_birth: text("Київ"),
                service_number: text("AB 123"),
                unit: text("в/ч А1234"),
                ..MatchRecord::default()
            },
            MatchRecord {
                family_name: "  ".into(),
                given_names: " \t".into(),
                patronymic: text(" "),
                mother_maiden_name: text(""),
                place_of_birth: text("\n"),
                service_number: text("  "),
                unit: text(" "),
                ..MatchRecord::default()
            },
            MatchRecord::default(),
        ];
        let mut blanks = 0;
        for r in records {
            let p = PreparedRecord::new(r);
            for f in Field::ALL {
                assert_eq!(f.is_blank(&p), f.value(&p).trim().is_empty(), "{f:?}");
                blanks += usize::from(f.is_blank(&p));
            }
        }
        assert_eq!(blanks, 2 * Field::ALL.len());
    }

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
        let s = |n: &str| PreparedRecord::new(MatchRecord { service_number: Some(n.into()), ..MatchRecord::default() });
        for (a, b) in [
            ("1234567", "1234567"),
            ("1234567", "1234587"),
            ("1234567", "1243567"),
            ("1234567", "7654321"),
            ("1234567", "123567"),
            ("1234567", "12345678"),
            ("1234567", "2134567"),
            ("1234567", "1234576"),
            ("1234567", "1324576"),
            ("", "7654321"),
            ("12345678901234567890", "12345678901234567899"),
            ("12345678901234567890", "1234567890123456789"),
        ] {
            // The packed comparison agrees with the strings' and with
            // strsim's optimal string alignment distance.
            let expected = if a.is_empty() {
                MISSING
            } else {
                match strsim::osa_distance(a, b) {
                    0 => 0,
                    1 => 1,
                    _ => 2,
                }
            };
            assert_eq!(service(&s(a), &Hot::new(&s(a)), &s(b), &Hot::new(&s(b))), expected, "{a} {b}");
            assert_eq!(service_str(a, b), expected, "{a} {b}");
        }
        // Random numbers and their one- and two-edit neighbours, repeated
        // digits included (a swap of two equal digits changes nothing).
        let mut rng = crate::rng::Rng::new(99);
        for _ in 0..20_000 {
            let len = 5 + rng.below(12);
            // A few distinct digits, so that repeats are common.
            let digits = 3 + rng.below(8);
            let a: Vec<u8> = (0..len).map(|_| b'0' + u8::try_from(rng.below(digits)).unwrap_or(0)).collect();
            let mut b = a.clone();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(b.len());
                match rng.below(4) {
                    0 => b[at] = b'0' + u8::try_from(rng.below(10)).unwrap_or(0),
                    1 if at + 1 < b.len() => b.swap(at, at + 1),
                    2 if b.len() > 1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, b'0' + u8::try_from(rng.below(10)).unwrap_or(0)),
                }
            }
            let (a, b) = (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
            let expected = match strsim::osa_distance(&a, &b) {
                0 => 0,
                1 => 1,
                _ => 2,
            };
            assert_eq!(service(&s(&a), &Hot::new(&s(&a)), &s(&b), &Hot::new(&s(&b))), expected, "{a} {b}");
        }
    }

    #[test]
    fn shortcuts_agree_with_the_full_comparison() {
        // The Jaro-Winkler bound never rejects a pair that reaches the
        // threshold, and the memo returns what comparing afresh would.
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(300, 600, 7));
        let records: Vec<PreparedRecord> = crate::record::prepare_all(data.registry.into_iter().chain(data.requests));
        let mut memo = TextMemo::new();
        let mut similar_pairs = 0;
        for (i, a) in records.iter().enumerate() {
            for b in records.iter().skip(i % 7).step_by(7) {
                for (x, y) in
                    [(&a.family.key, &b.family.key), (&a.given.key, &b.given.key), (&a.place.key, &b.place.key)]
                {
                    if x.is_empty() || y.is_empty() {
                        continue;
                    }
                    for t in [NAME_JW, TEXT_JW] {
                        let full = jaro_winkler(x, y) >= t;
                        similar_pairs += usize::from(full);
                        assert_eq!(similar(x, y, t), full, "{} {} {t}", &**x, &**y);
                    }
                }
                let (ha, hb) = (Hot::new(a), Hot::new(b));
                assert_eq!(compare_with(a, &ha, b, &hb, Some(&mut memo)), compare(a, b));
            }
        }
        assert!(similar_pairs > 100, "{similar_pairs}");
    }
}
