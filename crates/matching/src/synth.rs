//! Seeded synthetic cross-script data with known truth, for accuracy tests
//! and benchmarks.
//!
//! One population of soldiers is drawn (surnames built from Ukrainian
//! roots and suffixes, given names and fathers' names from the crate's
//! name data, birth dates, places, service numbers, units). The
//! **registry** is written by the detaining side: mostly Russian Cyrillic,
//! some Ukrainian, some transliterated under any of the standards, with
//! few errors. The **requests** are written by families: mostly Ukrainian
//! Cyrillic or its passport transliteration, with diminutives, typos,
//! missing patronymics, swapped day and month, a wrong digit in the
//! service number, a birth year only. Only some requests have their person
//! in the registry; the registry also holds namesakes of requested people
//! (same surname and given name, another person) as distractors.
//!
//! The generator knows only what a family or a clerk would know; it uses
//! the name data file for the names people carry, as any population would,
//! and the transliteration tables for the spellings clerks produce.

use crate::given_names::{DATA, russian_patronymics, ukrainian_patronymics};
use crate::link::{Accuracy, Pair, accuracy};
use crate::record::{BirthDate, MatchRecord};
use crate::rng::Rng;
use crate::translit::{Scheme, transliterate};

/// Sizes and rates of a synthetic set.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Records in the registry.
    pub registry: usize,
    /// Requests from families.
    pub requests: usize,
    /// Share of requests whose person is in the registry.
    pub match_share: f64,
    /// Share of requests with a namesake (another person, same surname and
    /// given name) in the registry.
    pub namesake_share: f64,
    /// Seed.
    pub seed: u64,
}

impl SynthConfig {
    /// `requests` × `registry` with 60 % of requests matched and 25 %
    /// with a namesake.
    #[must_use]
    pub fn new(requests: usize, registry: usize, seed: u64) -> Self {
        Self { registry, requests, match_share: 0.6, namesake_share: 0.25, seed }
    }
}

/// A synthetic set and its truth.
#[derive(Debug, Clone, Default)]
pub struct SynthData {
    /// The detaining side's records.
    pub registry: Vec<MatchRecord>,
    /// The families' requests.
    pub requests: Vec<MatchRecord>,
    /// (request id, registry id) of every true match.
    pub truth: Vec<(String, String)>,
}

impl SynthData {
    /// Precision, recall and F1 of linked pairs against the truth.
    #[must_use]
    pub fn evaluate(&self, pairs: &[Pair]) -> Accuracy {
        accuracy(
            pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())),
            self.truth.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        )
    }
}

/// Surname roots, in Ukrainian spelling.
const ROOTS: &[&str] = &[
    "Ковал",
    "Бондар",
    "Ткач",
    "Шевч",
    "Кравч",
    "Гончар",
    "Петр",
    "Іван",
    "Павл",
    "Марч",
    "Сидор",
    "Мороз",
    "Лис",
    "Руд",
    "Савч",
    "Клим",
    "Гнат",
    "Дорош",
    "Тарас",
    "Кузьм",
    "Остап",
    "Мирон",
    "Юрч",
    "Гордій",
    "Лук",
    "Мац",
    "Стец",
    "Федор",
    "Яковл",
    "Степан",
    "Грищ",
    "Овчар",
    "Пилип",
    "Бойч",
    "Кушнір",
    "Пономар",
    "Шаповал",
    "Різн",
    "Черн",
    "Білоус",
    "Мельнич",
    "Олійн",
    "Гаврил",
    "Данил",
    "Демч",
    "Жук",
    "Зінч",
    "Карп",
    "Кирил",
    "Костюч",
    "Лев",
    "Литвин",
    "Максим",
    "Назар",
    "Нестер",
    "Омел",
    "Поліщ",
    "Прокоп",
    "Роман",
    "Самійл",
    "Семен",
    "Сергі",
    "Тимош",
    "Трохим",
    "Фесь",
    "Харч",
    "Хом",
    "Цибул",
    "Чорн",
    "Шаш",
    "Щерб",
    "Юхим",
    "Ярем",
    "Бабич",
    "Вакул",
    "Герасим",
    "Гуц",
    "Дяч",
    "Єрем",
    "Журав",
    "Заїч",
    "Ігнат",
    "Калин",
    "Кондрат",
    "Корн",
    "Кривош",
    "Лазар",
    "Мазур",
    "Мисник",
    "Ничипор",
    "Осад",
    "Панас",
    "Радч",
    "Соловй",
    "Сущ",
    "Тесл",
    "Устим",
    "Филип",
    "Ходак",
    "Цимбал",
    "Чуприн",
    "Шульг",
    "Ющ",
    "Якимч",
    "Гребен",
    "Пащ",
    "Головат",
    "Деркач",
    "Бук",
];

/// Suffixes: Ukrainian form, Russian form.
const SUFFIXES: &[(&str, &str)] = &[
    ("енко", "енко"),
    ("ук", "ук"),
    ("чук", "чук"),
    ("ський", "ский"),
    ("ов", "ов"),
    ("як", "як"),
    ("ишин", "ишин"),
    ("ець", "ец"),
    ("ко", "ко"),
    ("ич", "ич"),
];

/// Places of birth: Ukrainian, Russian.
const PLACES: &[(&str, &str)] = &[
    ("Київ", "Киев"),
    ("Харків", "Харьков"),
    ("Одеса", "Одесса"),
    ("Дніпро", "Днепр"),
    ("Львів", "Львов"),
    ("Запоріжжя", "Запорожье"),
    ("Кривий Ріг", "Кривой Рог"),
    ("Миколаїв", "Николаев"),
    ("Вінниця", "Винница"),
    ("Херсон", "Херсон"),
    ("Полтава", "Полтава"),
    ("Чернігів", "Чернигов"),
    ("Черкаси", "Черкассы"),
    ("Житомир", "Житомир"),
    ("Суми", "Сумы"),
    ("Хмельницький", "Хмельницкий"),
    ("Рівне", "Ровно"),
    ("Кропивницький", "Кропивницкий"),
    ("Івано-Франківськ", "Ивано-Франковск"),
    ("Тернопіль", "Тернополь"),
    ("Луцьк", "Луцк"),
    ("Біла Церква", "Белая Церковь"),
    ("Краматорськ", "Краматорск"),
    ("Мелітополь", "Мелитополь"),
    ("Ужгород", "Ужгород"),
    ("Бердичів", "Бердичев"),
    ("Умань", "Умань"),
    ("Ніжин", "Нежин"),
    ("Конотоп", "Конотоп"),
    ("Павлоград", "Павлоград"),
];

/// One given-name class as the generator uses it.
#[derive(Debug, Clone)]
struct Name {
    male: bool,
    uk: String,
    ru: String,
    en: Option<String>,
    diminutives: Vec<String>,
    /// Regular patronymics can be generated (the data lists irregular ones).
    regular: bool,
}

fn names() -> Vec<Name> {
    let mut out = Vec::new();
    for row in DATA.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let [_, sex, uk, ru, en, _, dim, patr] = f[..] else {
            continue;
        };
        let first = |s: &str| s.split('|').next().unwrap_or("").to_owned();
        if uk.is_empty() || ru.is_empty() {
            continue;
        }
        out.push(Name {
            male: sex == "m",
            uk: first(uk),
            ru: first(ru),
            en: Some(first(en)).filter(|s| !s.is_empty()),
            diminutives: dim.split('|').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            regular: patr.is_empty(),
        });
    }
    out
}

/// A soldier, as the truth knows him.
#[derive(Debug, Clone)]
struct Person {
    male: bool,
    root: usize,
    suffix: usize,
    name: usize,
    father: usize,
    birth: BirthDate,
    place: usize,
    service: String,
    unit: String,
}

/// Chooses an index with Zipf-like weights 1 / (rank + 1)^s.
#[derive(Debug)]
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        let cum = (0..n)
            .map(|i| {
                acc += 1.0 / ((i + 1) as f64).powf(s);
                acc
            })
            .collect();
        Self(cum)
    }

    fn draw(&self, rng: &mut Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = rng.unit() * total;
        self.0.partition_point(|&c| c < x).min(self.0.len() - 1)
    }
}

#[derive(Debug)]
struct Generator {
    rng: Rng,
    names: Vec<Name>,
    male: Vec<usize>,
    female: Vec<usize>,
    fathers: Vec<usize>,
    male_zipf: Zipf,
    female_zipf: Zipf,
    father_zipf: Zipf,
    surname_zipf: Zipf,
    /// Surname (root, suffix) in popularity order.
    surnames: Vec<(usize, usize)>,
    next_service: u64,
}

/// How a record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writing {
    Ukrainian,
    Russian,
    Latin { ukrainian: bool, scheme: Scheme },
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let names = names();
        let male: Vec<usize> = (0..names.len()).filter(|&i| names[i].male).collect();
        let female: Vec<usize> = (0..names.len()).filter(|&i| !names[i].male).collect();
        let fathers: Vec<usize> = male.iter().copied().filter(|&i| names[i].regular).collect();
        let mut surnames: Vec<(usize, usize)> =
            (0..ROOTS.len()).flat_map(|r| (0..SUFFIXES.len()).map(move |s| (r, s))).collect();
        // Shuffle so popularity does not follow the order of the lists.
        for i in (1..surnames.len()).rev() {
            let j = rng.below(i + 1);
            surnames.swap(i, j);
        }
        Self {
            male_zipf: Zipf::new(male.len(), 1.0),
            female_zipf: Zipf::new(female.len(), 1.0),
            father_zipf: Zipf::new(fathers.len(), 1.0),
            // Flatter than given names, yet far more concentrated than
            // real surnames: here the ten commonest carry ~8 % of people,
            // in Ukraine ~1.5 %. Namesakes are commoner than in life.
            surname_zipf: Zipf::new(surnames.len(), 0.5),
            rng,
            names,
            male,
            female,
            fathers,
            surnames,
            next_service: 0,
        }
    }

    fn person(&mut self) -> Person {
        let male = self.rng.chance(0.92);
        let name = if male {
            self.male[self.male_zipf.draw(&mut self.rng)]
        } else {
            self.female[self.female_zipf.draw(&mut self.rng)]
        };
        let father = self.fathers[self.father_zipf.draw(&mut self.rng)];
        let (root, suffix) = self.surnames[self.surname_zipf.draw(&mut self.rng)];
        let year = 1965 + u16::try_from(self.rng.below(40)).unwrap_or(0);
        let month = 1 + u8::try_from(self.rng.below(12)).unwrap_or(0);
        let day = 1 + u8::try_from(self.rng.below(28)).unwrap_or(0);
        // Distinct numbers: a multiplicative walk over 8 digits.
        self.next_service += 1;
        let service =
            format!("{:08}", (self.next_service.wrapping_mul(48_271) + self.rng.next_u64() % 7) % 100_000_000);
        let unit = format!("{}", 1000 + self.rng.below(400));
        Person {
            male,
            root,
            suffix,
            name,
            father,
            birth: BirthDate::ymd(year, month, day),
            place: self.rng.below(PLACES.len()),
            service,
            unit,
        }
    }

    /// A namesake: another person with the same surname and given name.
    fn namesake(&mut self, of: &Person) -> Person {
        let mut p = self.person();
        p.male = of.male;
        p.name = of.name;
        p.root = of.root;
        p.suffix = of.suffix;
        if self.rng.chance(0.3) {
            p.birth.year = of.birth.year;
        }
        p
    }

    fn surname(&self, p: &Person, ukrainian: bool) -> String {
        let root = ROOTS[p.root];
        let (uk, ru) = SUFFIXES[p.suffix];
        if ukrainian {
            let suffix = match (p.male, uk) {
                (false, "ський") => "ська",
                (false, "ов") => "ова",
                (false, "ишин") => "ишина",
                _ => uk,
            };
            format!("{root}{suffix}")
        } else {
            let suffix = match (p.male, ru) {
                (false, "ский") => "ская",
                (false, "ов") => "ова",
                (false, "ишин") => "ишина",
                _ => ru,
            };
            format!("{}{suffix}", russify(root))
        }
    }

    fn patronymic(&self, p: &Person, ukrainian: bool) -> String {
        let father = &self.names[p.father];
        let forms = if ukrainian { ukrainian_patronymics(&father.uk) } else { russian_patronymics(&father.ru) };
        let form = if p.male { forms.first() } else { forms.get(1) };
        let form = form.cloned().unwrap_or_default();
        capitalise(&form)
    }

    fn writing(&mut self, ukrainian_side: bool) -> Writing {
        let x = self.rng.unit();
        if ukrainian_side {
            // Families: their own Cyrillic, or the passport spelling.
            if x < 0.55 {
                Writing::Ukrainian
            } else if x < 0.65 {
                Writing::Russian
            } else if x < 0.85 {
                Writing::Latin { ukrainian: true, scheme: Scheme::Ukrainian2010 }
            } else if x < 0.92 {
                Writing::Latin { ukrainian: true, scheme: Scheme::CommonEnglish }
            } else {
                Writing::Latin { ukrainian: false, scheme: Scheme::Icao9303 }
            }
        } else if x < 0.55 {
            Writing::Russian
        } else if x < 0.70 {
            Writing::Ukrainian
        } else {
            let scheme = *self.rng.pick(&Scheme::ALL);
            Writing::Latin { ukrainian: self.rng.chance(0.4), scheme }
        }
    }

    fn typo(&mut self, s: &str) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.len() < 4 {
            return s.to_owned();
        }
        // Not the first letter: people rarely get that wrong.
        let i = 1 + self.rng.below(chars.len() - 1);
        let latin = chars.iter().any(char::is_ascii_alphabetic);
        let alphabet: Vec<char> = if latin {
            "abcdefghiklmnoprstuvyz".chars().collect()
        } else {
            "абвгдеиклмнопрстуфхцчшя".chars().collect()
        };
        match self.rng.below(4) {
            0 => chars[i] = *self.rng.pick(&alphabet),
            1 => {
                chars.remove(i);
            }
            2 => chars.insert(i, *self.rng.pick(&alphabet)),
            _ => {
                if i + 1 < chars.len() {
                    chars.swap(i, i + 1);
                } else {
                    chars.swap(i - 1, i);
                }
            }
        }
        chars.into_iter().collect()
    }

    /// Writes a person as one side would.
    fn write(&mut self, p: &Person, id: String, family: bool) -> MatchRecord {
        let writing = self.writing(family);
        let ukrainian = match writing {
            Writing::Ukrainian => true,
            Writing::Russian => false,
            Writing::Latin { ukrainian, .. } => ukrainian,
        };
        let name = self.names[p.name].clone();
        let mut surname = self.surname(p, ukrainian);
        let mut given = if ukrainian { name.uk.clone() } else { name.ru.clone() };
        let mut latin_given = None;
        if family && self.rng.chance(0.2) && !name.diminutives.is_empty() {
            given = self.rng.pick(&name.diminutives).clone();
        } else if family && matches!(writing, Writing::Latin { .. }) && self.rng.chance(0.15) {
            latin_given = name.en.clone();
        }
        let mut patronymic = Some(self.patronymic(p, ukrainian));
        let mut place = Some(if ukrainian { PLACES[p.place].0 } else { PLACES[p.place].1 }.to_owned());
        let mut unit = Some(format!("в/ч А{}", p.unit));
        if let Writing::Latin { scheme, .. } = writing {
            let t = |s: &str| transliterate(s, scheme);
            surname = t(&surname);
            given = latin_given.unwrap_or_else(|| t(&given));
            patronymic = patronymic.map(|s| t(&s));
            place = place.map(|s| t(&s));
            unit = unit.map(|s| t(&s));
        }
        let mut birth = Some(p.birth);
        let mut service = Some(p.service.clone());
        let r = &mut self.rng;
        if family {
            if r.chance(0.10) {
                surname = self.typo(&surname);
            }
            let r = &mut self.rng;
            if r.chance(0.45) {
                patronymic = None;
            }
            let x = r.unit();
            birth = if x < 0.10 && p.birth.day != p.birth.month && p.birth.day.unwrap_or(13) <= 12 {
                Some(BirthDate { year: p.birth.year, month: p.birth.day, day: p.birth.month })
            } else if x < 0.17 {
                Some(one_digit(p.birth, r))
            } else if x < 0.32 {
                Some(BirthDate::year_only(p.birth.year))
            } else if x < 0.40 {
                None
            } else {
                Some(p.birth)
            };
            service = if r.chance(0.35) {
                service.map(|s| if r.chance(0.15) { wrong_digit(&s, r) } else { s })
            } else {
                None
            };
            if !r.chance(0.5) {
                place = None;
            }
            if r.chance(0.3) {
                if r.chance(0.2) {
                    unit = Some(format!("в/ч А{}", 1000 + r.below(400)));
                }
            } else {
                unit = None;
            }
        } else {
            if r.chance(0.03) {
                surname = self.typo(&surname);
            }
            let r = &mut self.rng;
            if r.chance(0.15) {
                patronymic = None;
            }
            let x = r.unit();
            birth = if x < 0.02 {
                Some(one_digit(p.birth, r))
            } else if x < 0.07 {
                Some(BirthDate::year_only(p.birth.year))
            } else if x < 0.12 {
                None
            } else {
                birth
            };
            if r.chance(0.3) {
                service = None;
            } else if r.chance(0.03) {
                service = service.map(|s| wrong_digit(&s, r));
            }
            if r.chance(0.4) {
                place = None;
            }
            if r.chance(0.5) {
                unit = None;
            }
        }
        MatchRecord {
            id,
            family_name: surname,
            given_names: given,
            patronymic,
            mother_maiden_name: None,
            birth_date: birth,
            place_of_birth: place,
            rank: None,
            service_number: service,
            unit,
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A Russian clerk's spelling of a Ukrainian surname root.
fn russify(root: &str) -> String {
    root.chars()
        .map(|c| match c {
            'і' | 'ї' => 'и',
            'І' | 'Ї' => 'И',
            'є' => 'е',
            'Є' => 'Е',
            'ґ' => 'г',
            other => other,
        })
        .collect()
}

/// The date with exactly one of its eight digits changed.
fn one_digit(d: BirthDate, r: &mut Rng) -> BirthDate {
    let mut out = d;
    match r.below(3) {
        0 => out.year = if d.year % 10 == 9 { d.year - 1 } else { d.year + 1 },
        1 => {
            out.month = d.month.map(|m| match m {
                1..=8 => m + 1,
                9 => 8,
                10 | 12 => 11,
                _ => 10,
            });
        }
        _ => out.day = d.day.map(|x| if x % 10 == 9 { x - 1 } else { x + 1 }),
    }
    out
}

fn wrong_digit(s: &str, r: &mut Rng) -> String {
    let mut b: Vec<u8> = s.bytes().collect();
    if b.is_empty() {
        return s.to_owned();
    }
    let i = r.below(b.len());
    let old = b[i];
    let mut new = b'0' + u8::try_from(r.below(10)).unwrap_or(0);
    if new == old {
        new = if old == b'9' { b'0' } else { old + 1 };
    }
    b[i] = new;
    String::from_utf8(b).unwrap_or_default()
}

/// Generates a synthetic set.
#[must_use]
pub fn generate(config: &SynthConfig) -> SynthData {
    let mut g = Generator::new(config.seed);
    let n_req = config.requests;
    let requested: Vec<Person> = (0..n_req).map(|_| g.person()).collect();
    let mut in_registry: Vec<(Person, Option<usize>)> = Vec::with_capacity(config.registry);
    for (i, p) in requested.iter().enumerate() {
        if in_registry.len() < config.registry && g.rng.chance(config.match_share) {
            in_registry.push((p.clone(), Some(i)));
        }
    }
    for p in &requested {
        if in_registry.len() < config.registry && g.rng.chance(config.namesake_share) {
            let n = g.namesake(p);
            in_registry.push((n, None));
        }
    }
    while in_registry.len() < config.registry {
        let p = g.person();
        in_registry.push((p, None));
    }
    // Shuffle so matches are not at the front of the registry.
    for i in (1..in_registry.len()).rev() {
        let j = g.rng.below(i + 1);
        in_registry.swap(i, j);
    }
    let mut data = SynthData::default();
    for (i, p) in requested.iter().enumerate() {
        let r = g.write(p, format!("Q{i:07}"), true);
        data.requests.push(r);
    }
    for (j, (p, request)) in in_registry.iter().enumerate() {
        let id = format!("R{j:07}");
        if let Some(i) = request {
            data.truth.push((format!("Q{i:07}"), id.clone()));
        }
        let r = g.write(p, id, false);
        data.registry.push(r);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_seeded_and_sized() {
        let a = generate(&SynthConfig::new(200, 500, 7));
        let b = generate(&SynthConfig::new(200, 500, 7));
        assert_eq!(a.registry, b.registry);
        assert_eq!(a.requests, b.requests);
        assert_eq!(a.registry.len(), 500);
        assert_eq!(a.requests.len(), 200);
        assert!((90..150).contains(&a.truth.len()), "{}", a.truth.len());
        let c = generate(&SynthConfig::new(200, 500, 8));
        assert_ne!(a.requests, c.requests);
    }

    #[test]
    fn writes_in_several_scripts() {
        let d = generate(&SynthConfig::new(300, 300, 1));
        let cyr = d
            .registry
            .iter()
            .filter(|r| r.family_name.chars().any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap_or(c))))
            .count();
        assert!(cyr > 150 && cyr < 280, "{cyr}");
        assert!(d.requests.iter().any(|r| r.patronymic.is_none()));
        assert!(d.requests.iter().any(|r| r.birth_date.is_some_and(|b| !b.is_full())));
    }
}
