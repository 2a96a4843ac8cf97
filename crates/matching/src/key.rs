//! The matching key: one Latin skeleton shared by every transliteration of
//! a Cyrillic name, and by the common spelling habits of other languages.
//!
//! The key is built from sound classes rather than letters:
//! - г ґ х → `h`: Ukrainian 2010 writes Г as h, ICAO as g, ISO 9 writes Х
//!   as h and ICAO as kh, so g, h, kh and gh are one class;
//! - й и і ї ы and the i / y / j that mark iotation are one class `i`
//!   (я = ia = ya = â, ю = iu = yu = û); it disappears before e, because
//!   ICAO writes е and є alike as e / ie while BGN/PCGN writes ye
//!   (Евгений = Evgenii = Yevgeniy), and i+o turns into e (ё = e = yo = ë);
//! - ц = ts = c = cz, ч = ch = č, ш = sh = š, щ = shch = shh = ŝ,
//!   ж = zh = ž; w = v, q = k, x = ks;
//! - soft and hard signs, apostrophes and every other mark are dropped;
//! - a letter repeated is written once (Анна = Ana).
//!
//! Known collisions that no Latin-only key can avoid, because the standards
//! themselves write them alike: ISO 9 с+х, з+х, к+х, ц+х versus ш, ж, х, ч;
//! Ukrainian 2010 с+г, к+г, ш+г versus ш, х, щ; ICAO ъ+я versus є+я;
//! ISO 9 т+ш, т+щ versus ICAO ц+х…; ISO 9 ц+з versus GOST 7.79 B ц;
//! GOST 7.79 B x (for х) versus ks. Those are rare inside names, and the
//! property tests exclude exactly these pairs.
//!
//! Given-name equivalence (Олександр = Alexander) is *not* the key's job:
//! see [`crate::given_names`].

use unicode_normalization::UnicodeNormalization;

use crate::normalize::is_cyrillic_letter;
use crate::translit::{Scheme, transliterate};

/// Sound classes of the skeleton, rendered as ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Letter(char),
    Sh,
    Ch,
    Zh,
    Shch,
}

const I: Tok = Tok::Letter('i');
const E: Tok = Tok::Letter('e');

impl Tok {
    fn render(self, out: &mut String) {
        match self {
            Tok::Letter(c) => out.push(c),
            Tok::Sh => out.push_str("sh"),
            Tok::Ch => out.push_str("ch"),
            Tok::Zh => out.push_str("zh"),
            Tok::Shch => out.push_str("shch"),
        }
    }

    fn is_vowel_after_iotation(self) -> bool {
        matches!(self, Tok::Letter('e'))
    }
}

/// One unit before tokenising: a háček letter keeps its identity (š is not
/// s), anything else is reduced to its ASCII base letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Ascii(char),
    Tok(Tok),
}

/// The matching key of a name, in lower-case ASCII, words separated by
/// one space (hyphens and apostrophes count as inside a double name's
/// words: "Римский-Корсаков" → `rimski korsakov`).
///
/// `name_key("Коваленко") == name_key("Kovalenko") == name_key("Kowalenko")`,
/// and the key of any transliteration of a Cyrillic name (all of
/// [`Scheme::ALL`] except GOST 7.79 B for х) equals the key of the name.
#[must_use]
pub fn name_key(input: &str) -> String {
    let lower: String = input.nfkc().flat_map(char::to_lowercase).collect();
    let latin = if lower.chars().any(is_cyrillic_letter) { transliterate(&lower, Scheme::Icao9303) } else { lower };
    let mut out = String::with_capacity(latin.len());
    for word in latin.split(|c: char| c.is_whitespace() || c == '-' || c == '\u{2010}') {
        let toks = tokens(&units(word));
        if toks.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        for t in toks {
            t.render(&mut out);
        }
    }
    out
}

fn units(word: &str) -> Vec<Unit> {
    let mut out = Vec::with_capacity(word.len());
    for c in word.nfc() {
        let unit = match c {
            'š' => Unit::Tok(Tok::Sh),
            'č' | 'ć' => Unit::Tok(Tok::Ch),
            'ž' => Unit::Tok(Tok::Zh),
            'ŝ' => Unit::Tok(Tok::Shch),
            // ISO 9 writes я ю є as one letter; the others as i/y + vowel.
            'â' | 'û' | 'ê' => {
                out.push(Unit::Ascii('j'));
                match c {
                    'â' => Unit::Ascii('a'),
                    'û' => Unit::Ascii('u'),
                    _ => Unit::Ascii('e'),
                }
            }
            'ß' => Unit::Ascii('s'),
            'ł' => Unit::Ascii('l'),
            'ø' => Unit::Ascii('o'),
            _ => match c.nfd().next() {
                Some(base) if base.is_ascii_alphabetic() => Unit::Ascii(base.to_ascii_lowercase()),
                _ => continue,
            },
        };
        out.push(unit);
    }
    out
}

fn tokens(units: &[Unit]) -> Vec<Tok> {
    let ascii = |i: usize| match units.get(i) {
        Some(Unit::Ascii(c)) => Some(*c),
        _ => None,
    };
    let mut raw = Vec::with_capacity(units.len());
    let mut i = 0;
    while let Some(unit) = units.get(i) {
        let c = match *unit {
            Unit::Tok(t) => {
                raw.push(t);
                i += 1;
                continue;
            }
            Unit::Ascii(c) => c,
        };
        let (n1, n2, n3) = (ascii(i + 1), ascii(i + 2), ascii(i + 3));
        let (tok, len): (&[Tok], usize) = match (c, n1, n2, n3) {
            ('s', Some('h'), Some('c'), Some('h')) => (&[Tok::Shch], 4),
            ('s', Some('h'), Some('h'), _) => (&[Tok::Shch], 3),
            ('s', Some('h'), _, _) => (&[Tok::Sh], 2),
            ('c', Some('h'), _, _) => (&[Tok::Ch], 2),
            ('z', Some('h'), _, _) => (&[Tok::Zh], 2),
            ('k' | 'g', Some('h'), _, _) => (&[Tok::Letter('h')], 2),
            // GOST 7.79 B writes ц as cz only before e, i, y, j.
            ('t', Some('s'), _, _) | ('c', Some('z'), Some('e' | 'i' | 'y' | 'j'), _) => (&[Tok::Letter('c')], 2),
            ('g' | 'h', _, _, _) => (&[Tok::Letter('h')], 1),
            ('i' | 'y' | 'j', _, _, _) => (&[I], 1),
            ('w', _, _, _) => (&[Tok::Letter('v')], 1),
            ('q', _, _, _) => (&[Tok::Letter('k')], 1),
            ('x', _, _, _) => (&[Tok::Letter('k'), Tok::Letter('s')], 1),
            _ => {
                raw.push(Tok::Letter(c));
                i += 1;
                continue;
            }
        };
        raw.extend_from_slice(tok);
        i += len;
    }
    fold_iotation(&raw)
}

/// Drops the i that only marks iotation before e, turns i+o into e, and
/// writes any repeated class once.
fn fold_iotation(raw: &[Tok]) -> Vec<Tok> {
    let mut collapsed: Vec<Tok> = Vec::with_capacity(raw.len());
    for &t in raw {
        if t == I && collapsed.last() == Some(&I) {
            continue;
        }
        // ш+ч is spelled shch like щ in most schemes; ISO 9 šč must agree.
        if t == Tok::Ch && collapsed.last() == Some(&Tok::Sh) {
            collapsed.pop();
            collapsed.push(Tok::Shch);
            continue;
        }
        collapsed.push(t);
    }
    let mut out: Vec<Tok> = Vec::with_capacity(collapsed.len());
    let mut iter = collapsed.iter().copied().peekable();
    while let Some(t) = iter.next() {
        let t = if t == I {
            match iter.peek().copied() {
                Some(Tok::Letter('o')) => {
                    iter.next();
                    E
                }
                Some(next) if next.is_vowel_after_iotation() => continue,
                _ => I,
            }
        } else {
            t
        };
        if out.last() != Some(&t) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(names: &[&str]) {
        let first = name_key(names[0]);
        for n in names {
            assert_eq!(name_key(n), first, "{n} vs {}", names[0]);
        }
    }

    #[test]
    fn surnames_meet() {
        same(&["Коваленко", "Kovalenko", "Kowalenko", "KOVALENKO", "Коваленко"]);
        same(&["Шевченко", "Shevchenko", "Ševčenko", "Ševčenko"]);
        same(&["Щербак", "Shcherbak", "Ŝerbak", "Shherbak"]);
        same(&["Гончаренко", "Honcharenko", "Goncharenko"]);
        same(&["Хоменко", "Khomenko", "Homenko"]);
        same(&["Чорновол", "Chornovol", "Čornovol"]);
        same(&["Зленко", "Zlenko"]);
        same(&["Яковенко", "Iakovenko", "Yakovenko", "Âkovenko", "Jakovenko"]);
        same(&["Юрченко", "Iurchenko", "Yurchenko", "Ûrčenko", "Jurchenko"]);
        same(&["Соловьёв", "Solovev", "Solovyov", "Solov'ev", "Solovʹëv", "Solovjov"]);
        same(&["Ткаченко", "Tkachenko"]);
        same(&["Бондар", "Bondar"]);
    }

    #[test]
    fn given_names_meet_on_transliteration_only() {
        same(&["Олександр", "Oleksandr", "Olexandr"]);
        same(&["Александр", "Aleksandr", "Alexandr"]);
        same(&["Наталья", "Наталия", "Natalia", "Nataliia", "Natalya", "Natal'ya"]);
        same(&["Сергей", "Sergei", "Sergey", "Sergej"]);
        same(&["Фёдор", "Fedor", "Fyodor", "Fëdor", "Fjodor"]);
        same(&["Євген", "Yevhen", "Ievgen", "Evgen"]);
        same(&["Мар'яна", "Mariana", "Maryana", "Mar'iana", "Marjana", "Марьяна"]);
        same(&["Анна", "Anna", "Ana"]);
        same(&["Яна", "Yana", "Iana", "Jana", "Âna"]);
        assert_ne!(name_key("Яна"), name_key("Анна"));
        assert_ne!(name_key("Юля"), name_key("Уля"));
        assert_ne!(name_key("Олександр"), name_key("Александр"));
        assert_ne!(name_key("Oleksandr"), name_key("Alexander"));
    }

    #[test]
    fn words_and_marks() {
        assert_eq!(name_key("Римский-Корсаков"), "rimski korsakov");
        assert_eq!(name_key("  Коваленко   Олександр "), "kovalenko oleksandr");
        assert_eq!(name_key("Коваленко"), "kovalenko");
        assert_eq!(name_key("Ткаченко"), "tkachenko");
        assert_eq!(name_key(""), "");
        assert_eq!(name_key("'"), "");
    }
}
