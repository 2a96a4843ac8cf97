//! Unicode clean-up, script detection and a guess of the Cyrillic language.
//!
//! Cyrillic letters keep their diacritics here (й, ё, ї are letters of their
//! own, and ё or ї is exactly what tells Russian from Ukrainian); diacritics
//! are only stripped from Latin letters, i.e. after transliteration.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The writing system a name is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// Only Latin letters.
    Latin,
    /// Only Cyrillic letters.
    Cyrillic,
    /// Both Latin and Cyrillic letters, often a Cyrillic look-alike typed on
    /// the wrong keyboard layout ("Kовалenko").
    Mixed,
    /// Letters of neither script, or no letters at all.
    Other,
}

/// Which language a Cyrillic name is most likely written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CyrillicLanguage {
    /// Contains і, ї, є or ґ (or a Ukrainian apostrophe inside the word).
    Ukrainian,
    /// Contains ы, э, ъ or ё.
    Russian,
    /// No telling letter, or telling letters of both languages.
    Unknown,
}

/// Apostrophe look-alikes: Ukrainian spelling uses U+02BC officially, but
/// people type ', ’, ‘, ` or ´ for it, and ISO 9 uses ’.
const APOSTROPHES: &[char] =
    &['\'', '\u{2019}', '\u{2018}', '\u{02BC}', '\u{02B9}', '`', '\u{00B4}', '\u{2032}', '\u{02BB}'];

/// Dash look-alikes found in double surnames.
const DASHES: &[char] = &['\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{00AD}'];

/// Canonical form of a name for comparison, in its own script.
///
/// NFKC, lower case (full case mapping, plus ß → ss), diacritics stripped
/// from Latin letters only (Ševčenko → sevcenko), every apostrophe variant
/// turned into `'`, every dash into `-` (with no space around it), any
/// run of white space into one space, trimmed. Cyrillic letters are kept
/// as they are, so `normalize("Мар’яна")` is `"мар'яна"`.
///
/// Idempotent: `normalize(&normalize(s)) == normalize(s)`.
#[must_use]
pub fn normalize(input: &str) -> String {
    // Apostrophes first: NFKC turns ´ into a space and a combining accent.
    let folded: String = input
        .chars()
        .map(|c| if APOSTROPHES.contains(&c) { '\'' } else { c })
        .collect::<String>()
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace('ß', "ss");
    // NFD splits letters from their marks; marks are kept only on Cyrillic
    // letters (and re-composed at the end) so that й, ё, ї survive.
    let mut out = String::with_capacity(folded.len());
    let mut base_is_cyrillic = false;
    let mut pending_space = false;
    for c in folded.nfd() {
        if is_combining_mark(c) {
            if base_is_cyrillic {
                out.push(c);
            }
            continue;
        }
        base_is_cyrillic = is_cyrillic_letter(c);
        if c.is_whitespace() || c == '_' {
            pending_space = !out.is_empty();
            continue;
        }
        let c = if APOSTROPHES.contains(&c) {
            '\''
        } else if DASHES.contains(&c) {
            '-'
        } else {
            fold_latin_letter(c)
        };
        if c == '-' {
            // "Римский - Корсаков" and "Римский-Корсаков" are one name.
            while out.ends_with(' ') {
                out.pop();
            }
        } else if pending_space && !out.ends_with('-') {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out.nfc().collect()
}

/// Latin letters without a decomposition that still carry a mark.
fn fold_latin_letter(c: char) -> char {
    match c {
        'ł' => 'l',
        'ø' => 'o',
        'đ' | 'ð' => 'd',
        'ı' => 'i',
        'ħ' => 'h',
        other => other,
    }
}

/// Strips every combining mark from Latin letters (Ševčenko → Sevcenko) and
/// leaves everything else as it is.
#[must_use]
pub fn strip_latin_diacritics(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut base_is_latin = false;
    for c in input.nfd() {
        if is_combining_mark(c) {
            if !base_is_latin {
                out.push(c);
            }
            continue;
        }
        base_is_latin = is_latin_letter(c);
        out.push(fold_latin_letter(c));
    }
    out.nfc().collect()
}

/// Characters below this have their `Alphabetic` property in [`LETTERS`].
const TABLED: usize = 0x530;

/// `char::is_alphabetic` of every character below U+0530 (Latin, Greek,
/// Cyrillic): for a character outside ASCII the standard library searches
/// the Unicode tables, and transliterating a Cyrillic name asks it of each
/// letter and its neighbours a dozen times (a tenth of preparing a new
/// surname).
static LETTERS: std::sync::LazyLock<[bool; TABLED]> = std::sync::LazyLock::new(|| {
    std::array::from_fn(|i| u32::try_from(i).ok().and_then(char::from_u32).is_some_and(char::is_alphabetic))
});

/// `char::is_alphabetic`, from [`LETTERS`] where it can.
pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    match LETTERS.get(c as usize) {
        Some(&letter) => letter,
        None => c.is_alphabetic(),
    }
}

pub(crate) fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && is_letter(c))
}

pub(crate) fn is_cyrillic_letter(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}' | '\u{0500}'..='\u{052F}') && is_letter(c)
}

/// Which script the letters of `input` belong to; non-letters are ignored.
#[must_use]
pub fn detect_script(input: &str) -> Script {
    let (mut latin, mut cyrillic, mut other) = (false, false, false);
    for c in input.chars().filter(|&c| is_letter(c)) {
        if is_latin_letter(c) {
            latin = true;
        } else if is_cyrillic_letter(c) {
            cyrillic = true;
        } else if !APOSTROPHES.contains(&c) {
            other = true;
        }
    }
    match (latin, cyrillic) {
        (true, true) => Script::Mixed,
        (true, false) if !other => Script::Latin,
        (false, true) if !other => Script::Cyrillic,
        _ => Script::Other,
    }
}

/// Guesses Ukrainian or Russian from letters only one of them has.
///
/// A word-internal apostrophe (Мар'яна, В'ячеслав) also counts as
/// Ukrainian: Russian spells the same sound with ъ or ь.
#[must_use]
pub fn guess_cyrillic_language(input: &str) -> CyrillicLanguage {
    let lower = normalize(input);
    let ukrainian = lower.chars().any(|c| matches!(c, 'і' | 'ї' | 'є' | 'ґ'))
        || lower.char_indices().filter(|&(_, c)| c == '\'').any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + 1..].chars().next();
            before.is_some_and(is_cyrillic_letter) && after.is_some_and(is_cyrillic_letter)
        });
    let russian = lower.chars().any(|c| matches!(c, 'ы' | 'э' | 'ъ' | 'ё'));
    match (ukrainian, russian) {
        (true, false) => CyrillicLanguage::Ukrainian,
        (false, true) => CyrillicLanguage::Russian,
        _ => CyrillicLanguage::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_table_agrees_with_the_standard_library() {
        let mut checked = 0;
        for c in (0..0x3000).filter_map(char::from_u32) {
            assert_eq!(is_letter(c), c.is_alphabetic(), "U+{:04X}", c as u32);
            checked += 1;
        }
        assert!(checked > TABLED);
        // A Cyrillic letter, a combining titlo and a thousands sign.
        assert!(is_letter('ї') && !is_letter('\u{0483}') && !is_letter('\u{0482}'));
    }

    #[test]
    fn normalizes_case_space_apostrophes_and_dashes() {
        let cases = [
            ("  ОЛЕКСАНДР   Коваленко ", "олександр коваленко"),
            ("Мар’яна", "мар'яна"),
            ("Мар\u{02BC}яна", "мар'яна"),
            ("Мар`яна", "мар'яна"),
            ("Римский – Корсаков", "римский-корсаков"),
            ("Ševčenko", "sevcenko"),
            ("Łukasz Wałęsa", "lukasz walesa"),
            ("Straße", "strasse"),
            ("Фёдор Йосипович Їжак", "фёдор йосипович їжак"),
            ("ＫＯＶＡＬＥＮＫＯ", "kovalenko"),
            ("ﬁlip", "filip"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "{input}");
        }
    }

    #[test]
    fn keeps_cyrillic_marks_even_when_decomposed() {
        // й typed as и + combining breve must not lose its breve.
        assert_eq!(normalize("И\u{0306}осип"), "йосип");
        assert_eq!(normalize("Фе\u{0308}дор"), "фёдор");
        assert_eq!(normalize("Ки\u{0457}в"), "київ");
    }

    #[test]
    fn strips_latin_diacritics_only() {
        assert_eq!(strip_latin_diacritics("Ševčenko Ŝukin"), "Sevcenko Sukin");
        assert_eq!(strip_latin_diacritics("Їжак"), "Їжак");
    }

    #[test]
    fn detects_script() {
        assert_eq!(detect_script("Kovalenko"), Script::Latin);
        assert_eq!(detect_script("Ševčenko"), Script::Latin);
        assert_eq!(detect_script("Коваленко"), Script::Cyrillic);
        assert_eq!(detect_script("Мар'яна"), Script::Cyrillic);
        assert_eq!(detect_script("Kовалenko"), Script::Mixed);
        assert_eq!(detect_script("Κωβαλένκο"), Script::Other);
        assert_eq!(detect_script("123"), Script::Other);
    }

    #[test]
    fn guesses_language() {
        use CyrillicLanguage::{Russian, Ukrainian, Unknown};
        let cases = [
            ("Олексій", Ukrainian),
            ("Євген", Ukrainian),
            ("Ґалаґан", Ukrainian),
            ("Мар'яна", Ukrainian),
            ("Фёдор", Russian),
            ("Эдуард", Russian),
            ("Подъячев", Russian),
            ("Рыбаков", Russian),
            ("Коваленко", Unknown),
            ("Їжак Рыбаков", Unknown),
        ];
        for (input, expected) in cases {
            assert_eq!(guess_cyrillic_language(input), expected, "{input}");
        }
    }
}
