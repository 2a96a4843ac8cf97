//! Cyrillic → Latin transliteration under the standards that appear in
//! documents, lists and family requests.
//!
//! Every scheme is a small table plus its context rules (word start, the
//! previous letter, the next letter), kept here as data with its source so
//! that a reviewer can hold it against the standard. Non-Cyrillic text
//! passes through unchanged, so mixed input ("Kовалenko") comes out Latin.
//!
//! Sources:
//! - Ukrainian 2010: Resolution of the Cabinet of Ministers of Ukraine
//!   No. 55 of 27 January 2010 "On streamlining the transliteration of the
//!   Ukrainian alphabet by means of the Latin alphabet" (table and examples).
//! - ICAO: Doc 9303 "Machine Readable Travel Documents", Part 3, section
//!   "Transliteration of Cyrillic characters" (8th ed., 2021); used in
//!   Russian passports since 2013 (FMS order No. 320 of 15 October 2012,
//!   later MVD order No. 889 of 2014).
//! - BGN/PCGN 1947 system for Russian (US Board on Geographic Names and the
//!   UK Permanent Committee on Geographical Names); the optional middle dot
//!   (t·s, sh·ch) is not written, as no personal document uses it.
//! - ISO 9:1995, identical to GOST 7.79-2000 system A (one Latin letter,
//!   with diacritics, per Cyrillic letter; language-independent).
//! - GOST 7.79-2000 system B (ASCII-only, for Russian and Ukrainian).
//! - "Common English": not a standard; the spellings people and the press
//!   use (Yevgeny, Dmitry, Andriy, Zelensky): y-forms everywhere, soft and
//!   hard signs dropped, final -ий/-ый as -y.

use crate::normalize::{CyrillicLanguage, guess_cyrillic_language, is_cyrillic_letter, is_letter};

/// A transliteration standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Ukrainian national system of 2010 (Ukrainian passports): Г → h, И → y,
    /// word-initial Є Ї Й Ю Я → Ye Yi Y Yu Ya, elsewhere ie i i iu ia, зг → zgh.
    Ukrainian2010,
    /// ICAO Doc 9303 (Russian passports since 2013, and any MRZ): Ц → ts,
    /// Ж → zh, Х → kh, Щ → shch, Ы → y, Ъ → ie, Ю → iu, Я → ia, Й → i,
    /// Ё → e; Ukrainian Є → ie, І Ї → i, Ґ → g.
    Icao9303,
    /// BGN/PCGN 1947 for Russian: Е → ye at word start and after a vowel,
    /// Й, Ъ or Ь; Ё → ë / yë; Й → y; Ъ → ”; Ь → ’.
    BgnPcgn,
    /// ISO 9:1995 = GOST 7.79-2000 system A: Ж → ž, Ш → š, Щ → ŝ, Ю → û, Я → â.
    Iso9,
    /// GOST 7.79-2000 system B: Щ → shh, Х → x, Ц → cz before e i y j and c
    /// elsewhere, Ы → y\`, Э → e\`; Ukrainian И → y\`, Ґ → g\`. The
    /// language is guessed from the whole input (Russian when unknown).
    Gost779B,
    /// Popular English spellings (Yevgeny, Dmitry, Andriy); Ukrainian
    /// Г → h and И → y when the input looks Ukrainian.
    CommonEnglish,
}

impl Scheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [Scheme; 6] = [
        Scheme::Ukrainian2010,
        Scheme::Icao9303,
        Scheme::BgnPcgn,
        Scheme::Iso9,
        Scheme::Gost779B,
        Scheme::CommonEnglish,
    ];
}

/// The surroundings of one letter inside its word, all in lower case.
/// Apostrophes belong to the word (Короп'є), hyphens and spaces do not.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    prev: Option<char>,
    next: Option<char>,
    after_next: Option<char>,
    ukrainian: bool,
}

impl Ctx {
    fn initial(self) -> bool {
        self.prev.is_none()
    }

    fn word_final_after_next(self) -> bool {
        self.next.is_some() && self.after_next.is_none()
    }
}

const APOSTROPHE: char = '\'';

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' | '\u{02BB}')
}

fn in_word(c: char) -> bool {
    is_letter(c) || is_apostrophe(c)
}

/// Transliterates the Cyrillic letters of `input` under `scheme`, keeping
/// case (ЩУКА → SHCHUKA, Щука → Shchuka) and leaving any other character
/// as it is.
#[must_use]
pub fn transliterate(input: &str, scheme: Scheme) -> String {
    let ukrainian = match scheme {
        Scheme::Gost779B | Scheme::CommonEnglish => guess_cyrillic_language(input) == CyrillicLanguage::Ukrainian,
        _ => false,
    };
    let chars: Vec<char> = input.chars().collect();
    let lower: Vec<char> = chars
        .iter()
        .map(|&c| {
            let c = c.to_lowercase().next().unwrap_or(c);
            if is_apostrophe(c) { APOSTROPHE } else { c }
        })
        .collect();
    let at = |i: usize| -> Option<char> {
        let c = *chars.get(i)?;
        in_word(c).then(|| lower.get(i).copied()).flatten()
    };
    let mut out = String::with_capacity(input.len() * 2);
    for (i, &c) in chars.iter().enumerate() {
        let lc = lower.get(i).copied().unwrap_or(c);
        let is_cyr = is_cyrillic_letter(c);
        let is_word_apostrophe = is_apostrophe(c)
            && i.checked_sub(1).and_then(at).is_some_and(is_cyrillic_letter)
            && at(i + 1).is_some_and(is_cyrillic_letter);
        if !is_cyr && !is_word_apostrophe {
            out.push(c);
            continue;
        }
        let ctx = Ctx {
            prev: i.checked_sub(1).and_then(at),
            next: at(i + 1),
            after_next: at(i + 1).and_then(|_| at(i + 2)),
            ukrainian,
        };
        let Some(latin) = map(scheme, lc, ctx) else {
            out.push(c);
            continue;
        };
        if latin.is_empty() {
            continue;
        }
        if c.is_uppercase() {
            let neighbour_upper = chars.get(i + 1).is_some_and(|n| n.is_uppercase())
                || (!chars.get(i + 1).copied().is_some_and(is_letter)
                    && i.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|p| p.is_uppercase()));
            let mut it = latin.chars();
            if let Some(first) = it.next() {
                out.extend(first.to_uppercase());
            }
            if neighbour_upper {
                out.extend(it.flat_map(char::to_uppercase));
            } else {
                out.push_str(it.as_str());
            }
        } else {
            out.push_str(latin);
        }
    }
    out
}

fn map(scheme: Scheme, c: char, ctx: Ctx) -> Option<&'static str> {
    match scheme {
        Scheme::Ukrainian2010 => ukrainian_2010(c, ctx),
        Scheme::Icao9303 => icao_9303(c),
        Scheme::BgnPcgn => bgn_pcgn(c, ctx),
        Scheme::Iso9 => iso_9(c),
        Scheme::Gost779B => gost_779_b(c, ctx),
        Scheme::CommonEnglish => common_english(c, ctx),
    }
}

/// Letters every scheme here writes the same way.
fn shared(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'д' => "d",
        'з' => "z",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'ў' => "u",
        _ => return None,
    })
}

/// Resolution No. 55 of 2010. Russian-only letters (ё ы э ъ) are not in
/// the table; they are written the way Ukrainian writes the same sounds.
fn ukrainian_2010(c: char, ctx: Ctx) -> Option<&'static str> {
    let initial = ctx.initial();
    Some(match c {
        'г' if ctx.prev == Some('з') => "gh",
        'г' => "h",
        'ґ' => "g",
        'е' | 'э' => "e",
        'є' if initial => "ye",
        'є' => "ie",
        'ж' => "zh",
        'и' | 'ы' => "y",
        'і' => "i",
        'ї' if initial => "yi",
        'ї' => "i",
        'й' if initial => "y",
        'й' => "i",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ь' | 'ъ' | APOSTROPHE => "",
        'ю' if initial => "yu",
        'ю' => "iu",
        'я' if initial => "ya",
        'я' => "ia",
        'ё' if initial => "yo",
        'ё' => "io",
        other => return shared(other),
    })
}

/// ICAO Doc 9303 Part 3 table; the apostrophe is not written.
fn icao_9303(c: char) -> Option<&'static str> {
    Some(match c {
        'г' | 'ґ' => "g",
        'е' | 'ё' | 'э' => "e",
        'є' | 'ъ' => "ie",
        'ж' => "zh",
        'и' | 'і' | 'ї' | 'й' => "i",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ы' => "y",
        'ь' | APOSTROPHE => "",
        'ю' => "iu",
        'я' => "ia",
        other => return shared(other),
    })
}

fn bgn_pcgn(c: char, ctx: Ctx) -> Option<&'static str> {
    let iotated = ctx.initial() || ctx.prev.is_some_and(|p| "аеёиоуыэюяіїєйъь".contains(p) || p == APOSTROPHE);
    Some(match c {
        'г' | 'ґ' => "g",
        'е' if iotated => "ye",
        'е' | 'э' => "e",
        'ё' if iotated => "yë",
        'ё' => "ë",
        'є' => "ye",
        'ж' => "zh",
        'и' | 'і' => "i",
        'ї' => "yi",
        'й' | 'ы' => "y",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "”",
        'ь' | APOSTROPHE => "’",
        'ю' => "yu",
        'я' => "ya",
        other => return shared(other),
    })
}

fn iso_9(c: char) -> Option<&'static str> {
    Some(match c {
        'г' => "g",
        'ґ' => "g\u{0300}",
        'е' => "e",
        'ё' => "ë",
        'є' => "ê",
        'ж' => "ž",
        'и' => "i",
        'і' => "ì",
        'ї' => "ï",
        'й' => "j",
        'х' => "h",
        'ц' => "c",
        'ч' => "č",
        'ш' => "š",
        'щ' => "ŝ",
        'ъ' => "\u{02BA}",
        'ы' => "y",
        'ь' => "\u{02B9}",
        'э' => "è",
        'ю' => "û",
        'я' => "â",
        APOSTROPHE => "’",
        other => return shared(other),
    })
}

fn gost_779_b(c: char, ctx: Ctx) -> Option<&'static str> {
    Some(match c {
        'г' => "g",
        'ґ' => "g`",
        'е' => "e",
        'ё' => "yo",
        'є' => "ye",
        'ж' => "zh",
        'и' if ctx.ukrainian => "y`",
        'и' | 'і' => "i",
        'ї' => "yi",
        'й' => "j",
        'х' => "x",
        // "cz" before the Latin letters i, e, y, j: the next letter's
        // transliteration decides, not the Cyrillic letter itself.
        'ц' if ctx.next.is_some_and(|n| {
            gost_779_b(n, Ctx { prev: Some(c), next: None, after_next: None, ..ctx })
                .and_then(|s| s.chars().next())
                .is_some_and(|f| matches!(f, 'i' | 'e' | 'y' | 'j'))
        }) =>
        {
            "cz"
        }
        'ц' => "c",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shh",
        'ъ' => "``",
        'ы' => "y`",
        'ь' => "`",
        'э' => "e`",
        'ю' => "yu",
        'я' => "ya",
        APOSTROPHE => "''",
        other => return shared(other),
    })
}

fn common_english(c: char, ctx: Ctx) -> Option<&'static str> {
    let iotated = ctx.initial() || ctx.prev.is_some_and(|p| "аеёиоуыэюяіїєйъь".contains(p) || p == APOSTROPHE);
    // Final -ий / -ый / -ій is written -y (Dmitry, Zelensky) in Russian,
    // but Ukrainian -ій keeps its i (Andriy, Serhiy).
    let before_final_i = ctx.next == Some('й') && ctx.word_final_after_next();
    Some(match c {
        'г' if ctx.ukrainian => "h",
        'г' | 'ґ' => "g",
        'е' if iotated && !ctx.ukrainian => "ye",
        'е' | 'э' => "e",
        'ё' => "yo",
        'є' => "ye",
        'ж' => "zh",
        'и' | 'ы' if before_final_i => "",
        'и' if ctx.ukrainian => "y",
        'и' | 'і' => "i",
        'ї' => "yi",
        'й' | 'ы' => "y",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' | APOSTROPHE => "",
        'ю' => "yu",
        'я' => "ya",
        other => return shared(other),
    })
}

/// The distinct lower-case Latin spellings of `input` under every scheme,
/// with diacritics kept (ISO 9); for input without Cyrillic letters, just
/// its normalised form.
#[must_use]
pub fn latin_variants(input: &str) -> Vec<String> {
    let normalized = crate::normalize::normalize(input);
    if !normalized.chars().any(is_cyrillic_letter) {
        return vec![normalized];
    }
    let mut out: Vec<String> = Scheme::ALL.iter().map(|&s| transliterate(&normalized, s)).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(scheme: Scheme, cases: &[(&str, &str)]) {
        for (cyr, lat) in cases {
            assert_eq!(transliterate(cyr, scheme), *lat, "{scheme:?}: {cyr}");
        }
    }

    /// Every example in the table of Resolution No. 55 of 2010.
    #[test]
    fn ukrainian_2010_examples_from_the_resolution() {
        check(
            Scheme::Ukrainian2010,
            &[
                ("Алушта", "Alushta"),
                ("Андрій", "Andrii"),
                ("Борщагівка", "Borshchahivka"),
                ("Борисенко", "Borysenko"),
                ("Вінниця", "Vinnytsia"),
                ("Володимир", "Volodymyr"),
                ("Гадяч", "Hadiach"),
                ("Богдан", "Bohdan"),
                ("Згурський", "Zghurskyi"),
                ("Ґалаґан", "Galagan"),
                ("Ґорґани", "Gorgany"),
                ("Донецьк", "Donetsk"),
                ("Дмитро", "Dmytro"),
                ("Рівне", "Rivne"),
                ("Олег", "Oleh"),
                ("Есмань", "Esman"),
                ("Єнакієве", "Yenakiieve"),
                ("Гаєвич", "Haievych"),
                ("Короп'є", "Koropie"),
                ("Житомир", "Zhytomyr"),
                ("Жанна", "Zhanna"),
                ("Жежелів", "Zhezheliv"),
                ("Закарпаття", "Zakarpattia"),
                ("Казимирчук", "Kazymyrchuk"),
                ("Медвин", "Medvyn"),
                ("Михайленко", "Mykhailenko"),
                ("Іванків", "Ivankiv"),
                ("Іващенко", "Ivashchenko"),
                ("Їжакевич", "Yizhakevych"),
                ("Кадиївка", "Kadyivka"),
                ("Мар'їне", "Marine"),
                ("Йосипівка", "Yosypivka"),
                ("Стрий", "Stryi"),
                ("Олексій", "Oleksii"),
                ("Київ", "Kyiv"),
                ("Лебедин", "Lebedyn"),
                ("Миколаїв", "Mykolaiv"),
                ("Маріуполь", "Mariupol"),
                ("Ніжин", "Nizhyn"),
                ("Наталія", "Nataliia"),
                ("Одеса", "Odesa"),
                ("Полтава", "Poltava"),
                ("Петро", "Petro"),
                ("Решетилівка", "Reshetylivka"),
                ("Рибчинський", "Rybchynskyi"),
                ("Суми", "Sumy"),
                ("Соломія", "Solomiia"),
                ("Тернопіль", "Ternopil"),
                ("Троць", "Trots"),
                ("Ужгород", "Uzhhorod"),
                ("Уляна", "Uliana"),
                ("Фастів", "Fastiv"),
                ("Філіпчук", "Filipchuk"),
                ("Харків", "Kharkiv"),
                ("Христина", "Khrystyna"),
                ("Біла Церква", "Bila Tserkva"),
                ("Стеценко", "Stetsenko"),
                ("Чернівці", "Chernivtsi"),
                ("Шевченко", "Shevchenko"),
                ("Шостка", "Shostka"),
                ("Кишеньки", "Kyshenky"),
                ("Щербухи", "Shcherbukhy"),
                ("Гоща", "Hoshcha"),
                ("Гаращенко", "Harashchenko"),
                ("Юрій", "Yurii"),
                ("Корюківка", "Koriukivka"),
                ("Яготин", "Yahotyn"),
                ("Ярошенко", "Yaroshenko"),
                ("Костянтин", "Kostiantyn"),
                ("Знам'янка", "Znamianka"),
                ("Феодосія", "Feodosiia"),
                ("Згорани", "Zghorany"),
                ("Розгон", "Rozghon"),
            ],
        );
    }

    #[test]
    fn ukrainian_2010_names_and_case() {
        check(
            Scheme::Ukrainian2010,
            &[
                ("Олександр Коваленко", "Oleksandr Kovalenko"),
                ("Мар’яна", "Mariana"),
                ("Мар\u{02BC}яна", "Mariana"),
                ("Євгенія", "Yevheniia"),
                ("Іванов-Ющенко", "Ivanov-Yushchenko"),
                ("ЩЕРБАК", "SHCHERBAK"),
                ("ЄВГЕН ЮРІЙОВИЧ", "YEVHEN YURIIOVYCH"),
                ("Kовалenko", "Kovalenko"),
            ],
        );
    }

    /// ICAO Doc 9303 table applied to names as Russian passports since
    /// 2013 print them.
    #[test]
    fn icao_9303_examples() {
        check(
            Scheme::Icao9303,
            &[
                ("Александр Коваленко", "Aleksandr Kovalenko"),
                ("Юлия Щеглова", "Iuliia Shcheglova"),
                ("Наталья", "Natalia"),
                ("Алексей", "Aleksei"),
                ("Андрей", "Andrei"),
                ("Юрий", "Iurii"),
                ("Фёдор", "Fedor"),
                ("Артём", "Artem"),
                ("Евгений", "Evgenii"),
                ("Дмитрий", "Dmitrii"),
                ("Ксения", "Kseniia"),
                ("Цой", "Tsoi"),
                ("Хабибуллин", "Khabibullin"),
                ("Жуков", "Zhukov"),
                ("Чернышёв", "Chernyshev"),
                ("Подъячев", "Podieiachev"),
                ("Эдуард", "Eduard"),
                ("Олексій Їжак", "Oleksii Izhak"),
                ("Євген Ґудзь", "Ievgen Gudz"),
            ],
        );
    }

    #[test]
    fn bgn_pcgn_examples() {
        check(
            Scheme::BgnPcgn,
            &[
                ("Юлия", "Yuliya"),
                ("Ёлкин", "Yëlkin"),
                ("Артём", "Artëm"),
                ("Фёдор", "Fëdor"),
                ("Евгений", "Yevgeniy"),
                ("Алексей", "Aleksey"),
                ("Наталья", "Natal’ya"),
                ("Юрий", "Yuriy"),
                ("Подъячев", "Pod”yachev"),
                ("Щербаков", "Shcherbakov"),
                ("Цой", "Tsoy"),
                ("Рыбаков", "Rybakov"),
            ],
        );
    }

    #[test]
    fn iso_9_examples() {
        check(
            Scheme::Iso9,
            &[
                ("Щукин", "Ŝukin"),
                ("Юрий", "Ûrij"),
                ("Ёлкин", "Ëlkin"),
                ("Шевченко", "Ševčenko"),
                ("Київ", "Kiïv"),
                ("Ґалаґан", "G\u{300}alag\u{300}an"),
                ("Євгенія", "Êvgenìâ"),
                ("Подъячев", "Podʺâčev"),
                ("Наталья", "Natalʹâ"),
                ("Мар'яна", "Mar’âna"),
                ("Хабибуллин", "Habibullin"),
                ("Эдуард", "Èduard"),
            ],
        );
    }

    #[test]
    fn gost_7_79_b_examples() {
        check(
            Scheme::Gost779B,
            &[
                ("Щукин", "Shhukin"),
                ("Цветков", "Cvetkov"),
                ("Циолковский", "Cziolkovskij"),
                ("Царёв", "Caryov"),
                ("Цыганов", "Czy`ganov"),
                ("Рыбаков", "Ry`bakov"),
                ("Эдуард", "E`duard"),
                ("Хабибуллин", "Xabibullin"),
                ("Подъячев", "Pod``yachev"),
                ("Наталья", "Natal`ya"),
            ],
        );
        // Ukrainian once a Ukrainian letter shows the language.
        check(
            Scheme::Gost779B,
            &[
                ("Микола Шевчук Іванович", "My`kola Shevchuk Ivanovy`ch"),
                ("Ґалаґан", "G`alag`an"),
                ("Мар'яна Євгенівна", "Mar''yana Yevgenivna"),
            ],
        );
    }

    #[test]
    fn common_english_examples() {
        check(
            Scheme::CommonEnglish,
            &[
                ("Евгений", "Yevgeny"),
                ("Дмитрий", "Dmitry"),
                ("Юрий", "Yury"),
                ("Сергей", "Sergey"),
                ("Фёдор", "Fyodor"),
                ("Наталья", "Natalya"),
                ("Белый", "Bely"),
                ("Андрій", "Andriy"),
                ("Сергій", "Serhiy"),
                ("Олексій Зеленський", "Oleksiy Zelensky"),
                // No Ukrainian letter: read as Russian.
                ("Олег Зеленський", "Oleg Zelensky"),
            ],
        );
    }

    #[test]
    fn variants_cover_the_schemes() {
        let v = latin_variants("Олександр");
        assert!(v.contains(&"oleksandr".to_owned()), "{v:?}");
        assert_eq!(latin_variants("Oleksandr"), vec!["oleksandr".to_owned()]);
        let v = latin_variants("Юрий");
        for s in ["iurii", "yuriy", "ûrij", "yury", "yurij"] {
            assert!(v.contains(&s.to_owned()), "{s} in {v:?}");
        }
    }
}
