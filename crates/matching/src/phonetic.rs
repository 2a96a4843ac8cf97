//! Surname phonetic codes: Daitch-Mokotoff soundex, designed for Slavic and
//! Yiddish surnames written in the spelling habits of several languages
//! (Shevchenko, Schewtschenko, Szewczenko, Chevtchenko).

use std::sync::LazyLock;

use rphonetic::DaitchMokotoffSoundex;
use unicode_normalization::UnicodeNormalization;

use crate::normalize::is_cyrillic_letter;
use crate::translit::{Scheme, transliterate};

static DM: LazyLock<DaitchMokotoffSoundex> = LazyLock::new(DaitchMokotoffSoundex::default);

/// The Daitch-Mokotoff codes of a surname, sorted and without repeats.
///
/// Cyrillic is transliterated under every scheme but GOST 7.79 B (whose x
/// for х would read as ks) and the codes of all spellings are pooled, so
/// Ukrainian h and Russian g for Г both count. Latin háček letters are
/// spelled out first (š → sh, č → ch, ž → zh), because Daitch-Mokotoff
/// reads a bare s or c differently: Ševčenko then codes like Shevchenko.
/// Each word of a double surname is coded separately.
#[must_use]
pub fn surname_phonetic_codes(surname: &str) -> Vec<String> {
    // Plain ASCII, a Latin spelling's usual form, is its own NFKC form.
    let lower: String = if surname.is_ascii() {
        surname.to_ascii_lowercase()
    } else {
        surname.nfkc().flat_map(char::to_lowercase).collect()
    };
    let spellings: Vec<String> = if lower.chars().any(is_cyrillic_letter) {
        Scheme::ALL.iter().filter(|&&s| s != Scheme::Gost779B).map(|&s| transliterate(&lower, s)).collect()
    } else {
        vec![lower]
    };
    // The schemes agree on most letters, so most words come back several
    // times; each distinct one is coded once.
    let mut words: Vec<String> = spellings
        .iter()
        .flat_map(|spelling| spelling.split(|c: char| c.is_whitespace() || c == '-').map(ascii_spelling))
        .filter(|w| !w.is_empty())
        .collect();
    words.sort_unstable();
    words.dedup();
    let mut codes = Vec::new();
    for word in words {
        codes.extend(DM.inner_soundex(&word, true));
    }
    codes.sort();
    codes.dedup();
    codes
}

fn ascii_spelling(word: &str) -> String {
    // A transliterated word is most often ASCII already: its letters are
    // kept as they are, with no normalising (a fifth of coding a new
    // surname went to normalising letters that needed none).
    if word.is_ascii() {
        return word.chars().filter(char::is_ascii_alphabetic).collect();
    }
    let mut out = String::with_capacity(word.len());
    for c in word.nfc() {
        match c {
            'š' | 'ś' => out.push_str("sh"),
            'č' | 'ć' => out.push_str("ch"),
            'ž' | 'ż' | 'ź' => out.push_str("zh"),
            'ŝ' => out.push_str("shch"),
            'ł' => out.push('l'),
            'ß' => out.push_str("ss"),
            _ => {
                if let Some(base) = c.nfd().next().filter(char::is_ascii_alphabetic) {
                    out.push(base);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share_a_code(names: &[&str]) {
        let first = surname_phonetic_codes(names[0]);
        for n in names {
            let codes = surname_phonetic_codes(n);
            assert!(codes.iter().any(|c| first.contains(c)), "{n} {codes:?} vs {} {first:?}", names[0]);
        }
    }

    #[test]
    fn shevchenko_in_five_languages() {
        let names = ["Шевченко", "Shevchenko", "Schewtschenko", "Szewczenko", "Chevtchenko", "Ševčenko"];
        for n in names {
            assert!(surname_phonetic_codes(n).contains(&"474650".to_owned()), "{n}: {:?}", surname_phonetic_codes(n));
        }
    }

    #[test]
    fn kovalenko_and_others_meet() {
        share_a_code(&["Коваленко", "Kovalenko", "Kowalenko", "Kovalenco"]);
        share_a_code(&["Гончаренко", "Honcharenko", "Goncharenko", "Gontscharenko", "Hontscharenko"]);
        share_a_code(&["Хмельницький", "Khmelnytskyi", "Chmielnicki", "Khmelnitsky"]);
        share_a_code(&["Ющенко", "Yushchenko", "Juschtschenko", "Iouchtchenko"]);
        share_a_code(&["Кравчук", "Kravchuk", "Krawczuk", "Krawtschuk"]);
        assert!(surname_phonetic_codes("").is_empty());
    }

    /// The shortcuts for ASCII spell a word as the general way does.
    #[test]
    fn ascii_words_are_spelled_as_any_other() {
        let general =
            |w: &str| -> String { w.nfc().filter_map(|c| c.nfd().next().filter(char::is_ascii_alphabetic)).collect() };
        for w in ["kovalenko", "o'neil", "Smith-Jones", "x1y2", "", "  ", "MacDonald", "d'Artagnan"] {
            assert_eq!(ascii_spelling(w), general(w), "{w}");
            let lower: String = w.nfkc().flat_map(char::to_lowercase).collect();
            assert_eq!(w.to_ascii_lowercase(), lower, "{w}");
        }
        assert_eq!(ascii_spelling("ševčenko"), "shevchenko");
    }
}
