//! The record the matcher compares, and its prepared form with every
//! derived key computed once.
//!
//! The matcher keeps its own small record type rather than the domain's
//! person: it must load from a CSV or a synthetic generator without a
//! store, and a request from a family is not a person record.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::given_names::{ClassId, given_name_classes, is_patronymic, patronymic_class};
use crate::key::name_key;
use crate::normalize::{is_cyrillic_letter, is_letter};
use crate::phonetic::surname_phonetic_codes;
use crate::translit::{Scheme, transliterate};

/// A birth date known to the year, the month or the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate {
    /// Four-digit year.
    pub year: u16,
    /// 1–12, when known.
    pub month: Option<u8>,
    /// 1–31, when known (only with a month).
    pub day: Option<u8>,
}

impl BirthDate {
    /// A date known to the day.
    #[must_use]
    pub fn ymd(year: u16, month: u8, day: u8) -> Self {
        Self { year, month: Some(month), day: Some(day) }
    }

    /// A date known to the year only.
    #[must_use]
    pub fn year_only(year: u16) -> Self {
        Self { year, month: None, day: None }
    }

    /// Whether day and month are both known.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.month.is_some() && self.day.is_some()
    }

    /// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY` or `MM.YYYY`.
    /// Only the shape and ranges are checked (1–12, 1–31): a 31 April is a
    /// typo worth matching on, not a reason to drop the record.
    ///
    /// # Errors
    /// A message saying what is wrong; it never repeats the input.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        let num = |part: &str, len: std::ops::RangeInclusive<usize>| -> Result<u16, &'static str> {
            if !len.contains(&part.len()) || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err("expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY");
            }
            part.parse().map_err(|_| "expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY")
        };
        let (y, m, d) = if s.contains('.') {
            match s.split('.').collect::<Vec<_>>().as_slice() {
                [d, m, y] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), Some(num(d, 1..=2)?)),
                [m, y] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), None),
                _ => return Err("expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY"),
            }
        } else {
            match s.split('-').collect::<Vec<_>>().as_slice() {
                [y] => (num(y, 4..=4)?, None, None),
                [y, m] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), None),
                [y, m, d] => (num(y, 4..=4)?, Some(num(m, 1..=2)?), Some(num(d, 1..=2)?)),
                _ => return Err("expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY"),
            }
        };
        if !(1800..=2200).contains(&y) {
            return Err("year out of range");
        }
        let month = m
            .map(|m| u8::try_from(m).ok().filter(|m| (1..=12).contains(m)))
            .map(|m| m.ok_or("month out of range 1-12"))
            .transpose()?;
        let day = d
            .map(|d| u8::try_from(d).ok().filter(|d| (1..=31).contains(d)))
            .map(|d| d.ok_or("day out of range 1-31"))
            .transpose()?;
        Ok(Self { year: y, month, day })
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

/// One description of a person, as a registry holds it or a family gives
/// it. Names in any script or transliteration; empty strings count as
/// missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchRecord {
    /// The caller's identifier, returned in results.
    pub id: String,
    /// Surname.
    pub family_name: String,
    /// Given name(s); a patronymic written here is recognised when the
    /// patronymic field is empty ("Олександр Петрович").
    pub given_names: String,
    /// Patronymic.
    pub patronymic: Option<String>,
    /// Mother's maiden name.
    pub mother_maiden_name: Option<String>,
    /// Date of birth, as precise as known.
    pub birth_date: Option<BirthDate>,
    /// Place of birth.
    pub place_of_birth: Option<String>,
    /// Military rank (kept for display, not compared: it changes).
    pub rank: Option<String>,
    /// Service number or military ID.
    pub service_number: Option<String>,
    /// Military unit.
    pub unit: Option<String>,
}

/// A matching key with hashes of the whole key and of its numbers, so
/// that comparing two records, done tens of millions of times in a batch,
/// tells unequal keys apart without comparing strings. The text is shared:
/// the records of one spelling share its key (a batch prepares a million
/// records from a few thousand spellings).
#[derive(Debug, Clone, Default)]
pub(crate) struct Key {
    text: Arc<str>,
    pub(crate) hash: u64,
    pub(crate) numbers: u64,
}

fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The words of a key that start with a digit.
fn numbers(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
}

impl Key {
    pub(crate) fn new(text: String) -> Self {
        let hash = fnv(text.bytes());
        // The words that start with a digit, space-separated.
        let numbers = fnv(numbers(&text).flat_map(|w| w.bytes().chain(std::iter::once(b' '))));
        Self { text: text.into(), hash, numbers }
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

/// A record with its derived keys, computed once when it enters an index
/// or a batch. What is derived from a name or text is shared by every
/// record with that spelling (`Spelled`): a pointer each, so a prepared
/// record is a tenth of a kilobyte (a batch moves its prepared records
/// into locality order and writes them to fresh memory).
#[derive(Debug, Clone)]
pub struct PreparedRecord {
    /// Boxed: read only to explain a pair.
    pub(crate) record: Box<MatchRecord>,
    /// Surname key and Daitch-Mokotoff codes.
    pub(crate) family: Arc<Spelled<u32>>,
    /// First given name's key and classes.
    pub(crate) given: Arc<Spelled<ClassId>>,
    /// Patronymic's key and class.
    pub(crate) patronymic: Arc<Spelled<ClassId>>,
    /// Mother's maiden name (no codes).
    pub(crate) maiden: Arc<Spelled<u32>>,
    /// Place of birth: loose key and Daitch-Mokotoff codes.
    pub(crate) place: Arc<Spelled<u32>>,
    /// Unit (no codes).
    pub(crate) unit: Arc<Spelled<u32>>,
    pub(crate) birth: Option<BirthDate>,
    /// The service number's digits, kept inline (reading them from an
    /// allocation of their own was a cache miss per record when the
    /// index keys a batch); more than fit are read from the record
    /// ([`PreparedRecord::service`]).
    pub(crate) service: Inline,
}

const _: () = assert!(std::mem::size_of::<PreparedRecord>() <= 88);

/// What preparing derives from one spelling of a name or a text: its
/// matching key and its codes (Daitch-Mokotoff codes of surnames and
/// places, classes of given names and patronymics; none for units and
/// maiden names). Empty for an absent field.
#[derive(Debug)]
pub(crate) struct Spelled<C> {
    pub(crate) key: Key,
    pub(crate) codes: Box<[C]>,
}

impl<C> Default for Spelled<C> {
    fn default() -> Self {
        Self { key: Key::default(), codes: Box::default() }
    }
}

/// A key's text kept inline when short, so that comparing names reads no
/// memory outside the [`Hot`] block.
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct Inline {
    /// Length, or [`Inline::LONG`] when the text did not fit.
    len: u8,
    bytes: [u8; 23],
}

impl Inline {
    const LONG: u8 = u8::MAX;

    fn new(s: &str) -> Self {
        let mut bytes = [0; 23];
        match bytes.get_mut(..s.len()) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                Self { len: u8::try_from(s.len()).unwrap_or(Self::LONG), bytes }
            }
            None => Self { len: Self::LONG, bytes },
        }
    }

    /// The ASCII digits of `s`, or [`Inline::LONG`] when there are more
    /// than fit.
    fn digits(s: Option<&str>) -> Self {
        let mut out = Self { len: 0, bytes: [0; 23] };
        for b in s.unwrap_or("").bytes().filter(u8::is_ascii_digit) {
            match out.bytes.get_mut(usize::from(out.len)) {
                Some(slot) => {
                    *slot = b;
                    out.len += 1;
                }
                None => return Self { len: Self::LONG, bytes: [0; 23] },
            }
        }
        out
    }

    /// The text's bytes (UTF-8: they were copied from a `str`), or `None`
    /// when it is only in the record.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        self.bytes.get(..usize::from(self.len))
    }

    /// The text, or `None` when it is only in the record.
    pub(crate) fn get(&self) -> Option<&str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
}

/// The fields of a prepared record that [`crate::compare()`] reads, in one
/// small block that an [`crate::Index`] keeps in a vector of its own: a
/// batch compares tens of millions of pairs, and reading each record's
/// keys from a dozen places on the heap made comparing wait on memory for
/// most of its time. Keys are their 64-bit hashes (0 when empty); a
/// collision of two different keys is a chance of 2^-64 per pair. Lists
/// that do not fit are read from the record. Ordered by use: the names
/// and dates first.
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C, align(64))]
pub(crate) struct Hot {
    pub(crate) family: u64,
    /// One bit per Daitch-Mokotoff code: disjoint signatures mean no
    /// shared code.
    pub(crate) family_dm: u64,
    pub(crate) given: u64,
    pub(crate) patronymic: u64,
    /// Service number digits, four bits each (up to 16 digits).
    pub(crate) service: u64,
    pub(crate) given_classes: [u16; 4],
    pub(crate) birth: PackedBirth,
    /// Digits in the service number (0: none; more than 16: read the record).
    pub(crate) service_len: u8,
    /// Number of classes; more than four are read from the record.
    pub(crate) given_count: u8,
    pub(crate) patronymic_count: u8,
    /// Number of Daitch-Mokotoff codes; more than four are read from the record.
    pub(crate) family_dm_count: u8,
    /// Plain data has no hidden padding: the rest of the first line.
    _unused: [u8; 7],
    pub(crate) place: u64,
    pub(crate) place_numbers: u64,
    pub(crate) place_dm: u64,
    pub(crate) unit: u64,
    pub(crate) unit_numbers: u64,
    pub(crate) maiden: u64,
    pub(crate) maiden_numbers: u64,
    pub(crate) patronymic_classes: [u16; 4],
    pub(crate) family_codes: [u32; 4],
    pub(crate) family_text: Inline,
    pub(crate) given_text: Inline,
}

// [`Hot::prefetch`] names one field per cache line: these must start the
// second and third lines.
const _: () = assert!(std::mem::offset_of!(Hot, place) == 64 && std::mem::offset_of!(Hot, family_codes) == 128);

/// A hint to load the cache line that holds `t`.
#[cfg(target_arch = "x86_64")]
pub(crate) fn prefetch<T>(t: &T) {
    safe_arch::prefetch_t0(t);
}

/// A hint to load the cache line that holds `t` (none on this target).
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn prefetch<T>(_: &T) {}

/// Hash of a key for [`Hot`]: 0 only for the empty key.
fn hot_hash(k: &Key) -> u64 {
    if k.is_empty() { 0 } else { k.hash.max(1) }
}

/// A signature with one bit per code.
pub(crate) fn code_signature(codes: &[u32]) -> u64 {
    codes.iter().fold(0, |s, &c| s | 1 << (u64::from(c).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58))
}

fn classes4(classes: &[ClassId]) -> ([u16; 4], u8) {
    let mut out = [0; 4];
    for (o, c) in out.iter_mut().zip(classes) {
        *o = c.raw();
    }
    (out, u8::try_from(classes.len()).unwrap_or(u8::MAX))
}

/// A birth date as plain bytes (a [`Hot`] block is plain data): whether
/// there is one, and which parts are known; the year; the month; the day.
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub(crate) struct PackedBirth([u8; 5]);

impl PackedBirth {
    const KNOWN: u8 = 1;
    const MONTH: u8 = 2;
    const DAY: u8 = 4;

    pub(crate) fn new(date: Option<BirthDate>) -> Self {
        let Some(d) = date else { return Self([0; 5]) };
        let [lo, hi] = d.year.to_le_bytes();
        let flags =
            Self::KNOWN | if d.month.is_some() { Self::MONTH } else { 0 } | if d.day.is_some() { Self::DAY } else { 0 };
        Self([flags, lo, hi, d.month.unwrap_or(0), d.day.unwrap_or(0)])
    }

    pub(crate) fn get(self) -> Option<BirthDate> {
        let [flags, lo, hi, month, day] = self.0;
        (flags & Self::KNOWN != 0).then(|| BirthDate {
            year: u16::from_le_bytes([lo, hi]),
            month: (flags & Self::MONTH != 0).then_some(month),
            day: (flags & Self::DAY != 0).then_some(day),
        })
    }
}

impl Hot {
    /// Asks the CPU to start loading the block's three cache lines (the
    /// first two every comparison reads; the third, surname codes and
    /// name texts, most), without waiting for them: a batch compares each
    /// request with a few hundred candidates whose blocks are mostly not
    /// in the cache, and loads issued ahead overlap with the comparing.
    pub(crate) fn prefetch(&self) {
        prefetch(self);
        prefetch(&self.place);
        prefetch(&self.family_codes);
    }

    pub(crate) fn new(p: &PreparedRecord) -> Self {
        let (given_classes, given_count) = classes4(&p.given.codes);
        let (patronymic_classes, patronymic_count) = classes4(&p.patronymic.codes);
        let service = p.service();
        let digits = service.as_bytes();
        let (service, service_len) = if digits.len() <= 16 {
            (digits.iter().fold(0, |n, d| n << 4 | u64::from(d - b'0')), u8::try_from(digits.len()).unwrap_or(0))
        } else {
            (0, u8::MAX)
        };
        let mut family_codes = [0; 4];
        for (o, c) in family_codes.iter_mut().zip(p.family.codes.iter()) {
            *o = *c;
        }
        Self {
            family: hot_hash(&p.family.key),
            family_dm: code_signature(&p.family.codes),
            family_dm_count: u8::try_from(p.family.codes.len()).unwrap_or(u8::MAX),
            family_codes,
            family_text: Inline::new(&p.family.key),
            given: hot_hash(&p.given.key),
            patronymic: hot_hash(&p.patronymic.key),
            place: hot_hash(&p.place.key),
            place_numbers: p.place.key.numbers,
            place_dm: code_signature(&p.place.codes),
            unit: hot_hash(&p.unit.key),
            unit_numbers: p.unit.key.numbers,
            maiden: hot_hash(&p.maiden.key),
            maiden_numbers: p.maiden.key.numbers,
            service,
            given_classes,
            patronymic_classes,
            birth: PackedBirth::new(p.birth),
            _unused: [0; 7],
            service_len,
            given_count,
            patronymic_count,
            given_text: Inline::new(&p.given.key),
        }
    }
}

impl PreparedRecord {
    /// Prepares one record. For many records use [`prepare_all`], which
    /// caches the keys of names that repeat.
    #[must_use]
    pub fn new(record: MatchRecord) -> Self {
        Preparer::default().prepare(record)
    }

    /// The original record.
    #[must_use]
    pub fn record(&self) -> &MatchRecord {
        &self.record
    }

    /// The service number's digits.
    pub(crate) fn service(&self) -> Cow<'_, str> {
        match self.service.get() {
            Some(digits) => Cow::Borrowed(digits),
            None => {
                let number = self.record.service_number.as_deref().unwrap_or("");
                Cow::Owned(number.chars().filter(char::is_ascii_digit).collect())
            }
        }
    }

    /// The matching key of the surname ([`name_key`]).
    #[must_use]
    pub fn family_key(&self) -> &str {
        &self.family.key
    }

    /// The given-name classes of the first given name.
    #[must_use]
    pub fn given_classes(&self) -> &[ClassId] {
        &self.given.codes
    }
}

/// Prepares many records, caching per distinct spelling: surnames and
/// given names repeat, and their phonetic codes cost a transliteration
/// under five schemes each.
pub fn prepare_all(records: impl IntoIterator<Item = MatchRecord>) -> Vec<PreparedRecord> {
    let mut p = Preparer::default();
    records.into_iter().map(|r| p.prepare(r)).collect()
}

/// Records per thread below which one thread prepares them all.
const MIN_PREPARE_PER_THREAD: usize = 5_000;

/// [`prepare_all`] on every core, in input order: preparing (five
/// transliterations and their phonetic codes per new spelling) is a fifth
/// of a large batch's work. One contiguous run per core, each with its own
/// memo of spellings, backed by `spellings`, which the cores share: a
/// spelling is worked out once per batch, not once per core and list
/// (smaller pieces, each starting with an empty memo of its own, were
/// slower); the records are written straight to their place in the result.
pub(crate) fn prepare_parallel<R: Into<Box<MatchRecord>> + Send>(
    records: Vec<R>,
    spellings: &Arc<Spellings>,
) -> Vec<PreparedRecord> {
    prepare_in_pieces(records, spellings, usize::MAX)
}

/// [`prepare_parallel`] in pieces of at most `piece` records, which the
/// cores take in turn: for work beside a step that keeps one core busy,
/// so that the other takes on what the busy one has not started.
pub(crate) fn prepare_in_pieces<R: Into<Box<MatchRecord>> + Send>(
    records: Vec<R>,
    spellings: &Arc<Spellings>,
    piece: usize,
) -> Vec<PreparedRecord> {
    let threads = rayon::current_num_threads().min(records.len() / MIN_PREPARE_PER_THREAD).max(1);
    if threads == 1 {
        let mut p = Preparer::sharing(spellings);
        return records.into_iter().map(|r| p.prepare(r)).collect();
    }
    let per_piece = records.len().div_ceil(threads).min(piece.max(MIN_PREPARE_PER_THREAD));
    records
        .into_par_iter()
        .with_min_len(per_piece)
        .map_init(|| Preparer::sharing(spellings), |p, r| p.prepare(r))
        .collect()
}

/// The memo of one kind of spelling. foldhash, not the standard SipHash:
/// a batch looks up millions of short names, and nothing outside the
/// program chooses them to collide (they are the caller's own lists).
type Memo<T> = HashMap<String, T, foldhash::fast::RandomState>;

impl<C: Clone> Spelled<C> {
    /// A copy that shares no allocation with the original. The threads
    /// of a batch each keep their own copy of a spelling: the records
    /// they prepare share it (a reference count each), and two cores
    /// counting on one allocation would pass its cache line back and
    /// forth.
    fn unshared(&self) -> Arc<Self> {
        let key = Key { text: Arc::from(&*self.key.text), hash: self.key.hash, numbers: self.key.numbers };
        Arc::new(Self { key, codes: self.codes.clone() })
    }
}

/// The memoised spelling: looked up by the text as it is (no
/// allocation), else taken from the batch's shared memo (a copy of its
/// own), else computed and put in both; the record shares it.
fn memo<C: Clone>(
    memo: &mut Memo<Arc<Spelled<C>>>,
    shared: Option<&Mutex<Memo<Arc<Spelled<C>>>>>,
    text: &str,
    compute: impl FnOnce(&str) -> Spelled<C>,
) -> Arc<Spelled<C>> {
    if let Some(v) = memo.get(text) {
        return Arc::clone(v);
    }
    let known = shared.and_then(|m| Some(m.lock().ok()?.get(text)?.unshared()));
    let v = known.unwrap_or_else(|| {
        let v = Arc::new(compute(text));
        if let Some(Ok(mut m)) = shared.map(Mutex::lock) {
            m.entry(text.to_owned()).or_insert_with(|| v.unshared());
        }
        v
    });
    memo.insert(text.to_owned(), Arc::clone(&v));
    v
}

/// The spellings a batch has worked out, shared by the threads that
/// prepare its records (each thread first asks its own memo; this one is
/// asked, under a lock, only for spellings new to the thread).
#[derive(Debug, Default)]
pub(crate) struct Spellings {
    family: Mutex<Memo<Arc<Spelled<u32>>>>,
    given: Mutex<Memo<Arc<Spelled<ClassId>>>>,
    patronymic: Mutex<Memo<Arc<Spelled<ClassId>>>>,
    text: Mutex<Memo<Arc<Spelled<u32>>>>,
    place: Mutex<Memo<Arc<Spelled<u32>>>>,
}

#[derive(Debug, Default)]
pub(crate) struct Preparer {
    family: Memo<Arc<Spelled<u32>>>,
    given: Memo<Arc<Spelled<ClassId>>>,
    patronymic: Memo<Arc<Spelled<ClassId>>>,
    text: Memo<Arc<Spelled<u32>>>,
    place: Memo<Arc<Spelled<u32>>>,
    /// What absent fields share.
    none: (Arc<Spelled<u32>>, Arc<Spelled<ClassId>>),
    /// The batch's memo behind this one, if any.
    shared: Option<Arc<Spellings>>,
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Preparer {
    /// A preparer backed by a batch's shared memo.
    pub(crate) fn sharing(spellings: &Arc<Spellings>) -> Self {
        Self { shared: Some(Arc::clone(spellings)), ..Self::default() }
    }

    pub(crate) fn prepare(&mut self, record: impl Into<Box<MatchRecord>>) -> PreparedRecord {
        let record: Box<MatchRecord> = record.into();
        let shared = self.shared.as_deref();
        let family = memo(&mut self.family, shared.map(|s| &s.family), &record.family_name, |s| Spelled {
            key: Key::new(name_key(s)),
            codes: dm_codes(s).into(),
        });

        // The first given name is the one compared. A patronymic typed
        // after the given names counts when the patronymic field is empty.
        let mut words = record.given_names.split_whitespace();
        let first = words.next().unwrap_or("");
        let patronymic =
            nonempty(record.patronymic.as_deref()).or_else(|| words.next_back().filter(|w| is_patronymic(w)));
        let given = memo(&mut self.given, shared.map(|s| &s.given), first, |s| Spelled {
            key: Key::new(name_key(s)),
            codes: given_name_classes(s).into(),
        });
        let patronymic = match patronymic {
            Some(p) => memo(&mut self.patronymic, shared.map(|s| &s.patronymic), p, |s| Spelled {
                key: Key::new(name_key(s)),
                codes: patronymic_class(s).into(),
            }),
            None => Arc::clone(&self.none.1),
        };
        let mut text = |s: Option<&str>| match nonempty(s) {
            Some(s) => memo(&mut self.text, shared.map(|s| &s.text), s, |s| Spelled {
                key: Key::new(loose_key(s)),
                codes: Box::default(),
            }),
            None => Arc::clone(&self.none.0),
        };
        let maiden = text(record.mother_maiden_name.as_deref());
        let unit = text(record.unit.as_deref());
        let place = match nonempty(record.place_of_birth.as_deref()) {
            Some(s) => memo(&mut self.place, shared.map(|s| &s.place), s, |s| Spelled {
                key: Key::new(loose_key(s)),
                codes: dm_codes(s).into(),
            }),
            None => Arc::clone(&self.none.0),
        };
        let service = Inline::digits(record.service_number.as_deref());
        PreparedRecord { family, given, patronymic, maiden, place, unit, birth: record.birth_date, service, record }
    }
}

/// Daitch-Mokotoff codes as numbers (they are six digits).
fn dm_codes(surname: &str) -> Vec<u32> {
    let mut codes: Vec<u32> = surname_phonetic_codes(surname).iter().filter_map(|c| c.parse().ok()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// A key for free text that mixes words and numbers (places, units,
/// "в/ч А1234"): letter runs through [`name_key`], digit runs kept, so
/// "в/ч А1234" and "v/ch A1234" meet.
pub(crate) fn loose_key(s: &str) -> String {
    let latin = if s.chars().any(is_cyrillic_letter) {
        transliterate(&s.to_lowercase(), Scheme::Icao9303)
    } else {
        s.to_owned()
    };
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let piece = if run.starts_with(|c: char| c.is_ascii_digit()) {
            std::mem::take(run)
        } else {
            let k = name_key(run);
            run.clear();
            k
        };
        if !piece.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&piece);
        }
    };
    let mut digits = false;
    for c in latin.chars() {
        if c.is_ascii_digit() {
            if !digits {
                flush(&mut run, &mut out);
            }
            digits = true;
            run.push(c);
        } else if is_letter(c) || c == '\'' {
            if digits {
                flush(&mut run, &mut out);
            }
            digits = false;
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            digits = false;
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_pack_and_unpack() {
        for date in [
            None,
            Some(BirthDate::year_only(1990)),
            Some(BirthDate { year: 1990, month: Some(3), day: None }),
            Some(BirthDate::ymd(2001, 12, 31)),
            Some(BirthDate { year: 0, month: Some(0), day: Some(0) }),
            Some(BirthDate { year: u16::MAX, month: None, day: Some(7) }),
        ] {
            assert_eq!(PackedBirth::new(date).get(), date);
        }
    }

    #[test]
    fn parses_dates() {
        assert_eq!(BirthDate::parse("1998"), Ok(BirthDate::year_only(1998)));
        assert_eq!(BirthDate::parse("1998-03-07"), Ok(BirthDate::ymd(1998, 3, 7)));
        assert_eq!(BirthDate::parse("07.03.1998"), Ok(BirthDate::ymd(1998, 3, 7)));
        assert_eq!(BirthDate::parse("7.3.1998"), Ok(BirthDate::ymd(1998, 3, 7)));
        assert_eq!(BirthDate::parse("1998-03"), Ok(BirthDate { year: 1998, month: Some(3), day: None }));
        assert!(BirthDate::parse("1998-13-01").is_err());
        assert!(BirthDate::parse("98").is_err());
        assert!(BirthDate::parse("1998/03/07").is_err());
        assert_eq!(BirthDate::ymd(1998, 3, 7).to_string(), "1998-03-07");
    }

    /// Two lists prepared with one shared memo, on several threads, get
    /// the keys each record gets alone; and a thread's copy of a shared
    /// spelling shares no allocation with the memo's.
    #[test]
    fn a_shared_memo_changes_no_key() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(6_000, 12_000, 5));
        let view = |p: &PreparedRecord| {
            let keys = [&p.family.key, &p.given.key, &p.patronymic.key, &p.maiden.key, &p.place.key, &p.unit.key];
            let keys: Vec<(String, u64, u64)> = keys.iter().map(|k| (k.to_string(), k.hash, k.numbers)).collect();
            (keys, p.family.codes.to_vec(), p.given.codes.to_vec(), p.patronymic.codes.to_vec(), p.place.codes.to_vec())
        };
        let spellings = Arc::new(Spellings::default());
        let registry = prepare_parallel(data.registry.clone(), &spellings);
        let requests = prepare_parallel(data.requests.clone(), &spellings);
        // In pieces (of 5,000, the least), the cores taking them in turn.
        let pieces = prepare_in_pieces(data.registry.clone(), &spellings, 1);
        assert_eq!(
            pieces.iter().map(|p| &p.record.id).collect::<Vec<_>>(),
            data.registry.iter().map(|r| &r.id).collect::<Vec<_>>()
        );
        assert!(pieces.iter().zip(&registry).all(|(a, b)| view(a) == view(b)));
        for (prepared, records) in [(&registry, &data.registry), (&requests, &data.requests)] {
            assert_eq!(prepared.len(), records.len());
            for (p, r) in prepared.iter().zip(records) {
                assert_eq!(view(p), view(&PreparedRecord::new(r.clone())), "{}", r.id);
            }
        }
        let family = spellings.family.lock().unwrap();
        assert!(family.len() > 1_000, "{} surnames", family.len());
        let first = &registry[0];
        let spelled = &family[&first.record.family_name];
        assert_eq!(*spelled.key, *first.family.key);
        assert_eq!(spelled.codes, first.family.codes);
        assert!(!Arc::ptr_eq(spelled, &first.family) && !Arc::ptr_eq(&spelled.key.text, &first.family.key.text));
        // Records of one spelling, prepared by one thread, share it.
        let twins = prepare_all([data.registry[0].clone(), data.registry[0].clone()]);
        assert!(Arc::ptr_eq(&twins[0].family, &twins[1].family) && Arc::ptr_eq(&twins[0].given, &twins[1].given));
    }

    #[test]
    fn prepares_keys() {
        let p = PreparedRecord::new(MatchRecord {
            id: "1".into(),
            family_name: "Коваленко".into(),
            given_names: "Олександр Петрович".into(),
            service_number: Some("АА 123-456".into()),
            unit: Some("в/ч А1234".into()),
            ..MatchRecord::default()
        });
        assert_eq!(p.family_key(), "kovalenko");
        assert_eq!(&*p.given.key, "oleksandr");
        assert!(!p.patronymic.codes.is_empty());
        assert_eq!(p.service(), "123456");
        let long =
            MatchRecord { service_number: Some("1234-5678-9012-3456-7890-1234".into()), ..MatchRecord::default() };
        assert_eq!(PreparedRecord::new(long).service(), "123456789012345678901234");
        assert_eq!(&*p.unit.key, loose_key("v/ch A1234"));
        assert_eq!(&*p.unit.key, "v ch a 1234");
        assert!(!p.family.codes.is_empty());
    }
}
