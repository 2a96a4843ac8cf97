//! The Latin spellings a bureau or a passport office would produce.
//!
//! Four schemes, because real lists mix them: the Ukrainian national system
//! of 2010 (Ukrainian passports: Oleksandr, Serhii), the Russian passport
//! scheme following ICAO Doc 9303 (Aleksandr, Sergei, Iurii), BGN/PCGN
//! (Sergey, Yuriy, Igor') and a conventional "English" spelling (Sergeyev,
//! Solovyev, Vysotsky). Only what names in the tables need is implemented;
//! these are data generators, not reference transliterators.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Ukrainian national transliteration (Cabinet resolution 55, 2010), from Ukrainian Cyrillic.
    Ukrainian2010,
    /// Russian international passports (ICAO Doc 9303), from Russian Cyrillic.
    RussianIcao,
    /// BGN/PCGN 1947, from Russian Cyrillic.
    RussianBgn,
    /// Conventional English spelling, from Russian Cyrillic.
    English,
}

fn is_vowel(c: char) -> bool {
    "аеєиіїоуюяыэё".contains(c)
}

/// Transliterates `text` under `scheme`, keeping capitalisation of each word's first letter.
pub(crate) fn translit(text: &str, scheme: Scheme) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &orig) in chars.iter().enumerate() {
        let c = orig.to_lowercase().next().unwrap_or(orig);
        let prev = i.checked_sub(1).map(|j| chars[j].to_lowercase().next().unwrap_or(chars[j]));
        let next = chars.get(i + 1).map(|n| n.to_lowercase().next().unwrap_or(*n));
        // A word starts after a space or a hyphen; an apostrophe inside a word does not start one.
        let initial = prev.is_none_or(|p| p == ' ' || p == '-');
        let after_vowel_or_sign = initial || prev.is_some_and(|p| is_vowel(p) || "йьъ".contains(p));
        let word_end = next.is_none_or(|n| !n.is_alphabetic());
        let mapped: &str = match scheme {
            Scheme::Ukrainian2010 => match c {
                'а' => "a",
                'б' => "b",
                'в' => "v",
                // "зг" is written zgh so that it is not read as "zh".
                'г' if prev == Some('з') => "gh",
                'г' => "h",
                'ґ' => "g",
                'д' => "d",
                'е' => "e",
                'є' if initial => "ye",
                'є' => "ie",
                'ж' => "zh",
                'з' => "z",
                'и' => "y",
                'і' => "i",
                'ї' if initial => "yi",
                'ї' => "i",
                'й' if initial => "y",
                'й' => "i",
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
                'х' => "kh",
                'ц' => "ts",
                'ч' => "ch",
                'ш' => "sh",
                'щ' => "shch",
                'ь' | '\'' | '’' => "",
                'ю' if initial => "yu",
                'ю' => "iu",
                'я' if initial => "ya",
                'я' => "ia",
                _ => "",
            },
            Scheme::RussianIcao => match c {
                'е' | 'ё' | 'э' => "e",
                'й' | 'и' => "i",
                'ъ' => "ie",
                'ь' => "",
                'ю' => "iu",
                'я' => "ia",
                _ => russian_common(c),
            },
            Scheme::RussianBgn => match c {
                'е' if after_vowel_or_sign => "ye",
                'е' | 'э' => "e",
                'ё' if after_vowel_or_sign => "yë",
                'ё' => "ë",
                'и' => "i",
                'й' => "y",
                'ъ' => "\"",
                'ь' => "'",
                'ю' => "yu",
                'я' => "ya",
                _ => russian_common(c),
            },
            Scheme::English => match c {
                'е' if after_vowel_or_sign => "ye",
                'е' | 'э' => "e",
                'ё' if after_vowel_or_sign => "yo",
                'ё' => "o",
                // A soft sign before a vowel is heard as y: Ильин, Ilyin.
                'и' if prev == Some('ь') => "yi",
                // -ий and -ый at the end of a word: Vysotsky, Dmitry.
                'и' | 'ы' if word_end || (next == Some('й') && is_last_letter(&chars, i + 1)) => "y",
                'й' if prev.is_some_and(|p| p == 'и' || p == 'ы') && word_end => "",
                'и' => "i",
                'й' => "y",
                'ъ' | 'ь' => "",
                'ю' => "yu",
                'я' => "ya",
                _ => russian_common(c),
            },
        };
        let mapped = if mapped.is_empty() && !c.is_alphabetic() && c != '\'' && c != '’' {
            // Spaces, hyphens, digits and Latin letters pass through.
            out.push(orig);
            continue;
        } else {
            mapped
        };
        if orig.is_uppercase() {
            let mut it = mapped.chars();
            if let Some(first) = it.next() {
                out.extend(first.to_uppercase());
                out.push_str(it.as_str());
            }
        } else {
            out.push_str(mapped);
        }
    }
    out
}

/// Whether the letter at `i` is the last of its word.
fn is_last_letter(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_none_or(|n| !n.is_alphabetic())
}

/// The letters every Russian scheme spells alike.
fn russian_common(c: char) -> &'static str {
    match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'ж' => "zh",
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
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ы' => "y",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ukrainian_national_2010() {
        for (cyr, lat) in [
            ("Олександр", "Oleksandr"),
            ("Сергій", "Serhii"),
            ("Юрій", "Yurii"),
            ("Євген", "Yevhen"),
            ("В'ячеслав", "Viacheslav"),
            ("Йосип", "Yosyp"),
            ("Київ", "Kyiv"),
            ("Коваленко", "Kovalenko"),
            ("Івано-Франківськ", "Ivano-Frankivsk"),
            ("Згурський", "Zghurskyi"),
            ("Олександрович", "Oleksandrovych"),
            ("Біла Церква", "Bila Tserkva"),
        ] {
            assert_eq!(translit(cyr, Scheme::Ukrainian2010), lat);
        }
    }

    #[test]
    fn russian_schemes() {
        for (cyr, icao, bgn, en) in [
            ("Александр", "Aleksandr", "Aleksandr", "Aleksandr"),
            ("Дмитрий", "Dmitrii", "Dmitriy", "Dmitry"),
            ("Сергей", "Sergei", "Sergey", "Sergey"),
            ("Юрий", "Iurii", "Yuriy", "Yury"),
            ("Игорь", "Igor", "Igor'", "Igor"),
            ("Евгений", "Evgenii", "Yevgeniy", "Yevgeny"),
            ("Соловьев", "Solovev", "Solov'yev", "Solovyev"),
            ("Ильин", "Ilin", "Il'in", "Ilyin"),
            ("Высоцкий", "Vysotskii", "Vysotskiy", "Vysotsky"),
            ("Андреевич", "Andreevich", "Andreyevich", "Andreyevich"),
            ("Ростов-на-Дону", "Rostov-na-Donu", "Rostov-na-Donu", "Rostov-na-Donu"),
        ] {
            assert_eq!(translit(cyr, Scheme::RussianIcao), icao, "{cyr}");
            assert_eq!(translit(cyr, Scheme::RussianBgn), bgn, "{cyr}");
            assert_eq!(translit(cyr, Scheme::English), en, "{cyr}");
        }
    }
}
