//! Every name and place in the tables, spelled once in each script a source
//! may use, computed once per process: generating a person then only picks
//! and clones, which keeps the generator far above 500,000 persons a second.

use std::sync::OnceLock;

use crate::tables;
use crate::translit::{Scheme, translit};

/// The scripts a bureau writes identities in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    UkrainianCyrillic,
    RussianCyrillic,
    /// Ukrainian national transliteration (2010).
    UkrainianLatin,
    /// Russian passport transliteration (ICAO Doc 9303).
    RussianIcao,
    /// BGN/PCGN.
    RussianBgn,
    /// Conventional English spellings (Alexander, Peter).
    English,
}

impl Script {
    fn slot(self) -> usize {
        self as usize
    }

    /// The language of the free text (ranks, units, relations) a source writes
    /// alongside names in this script.
    pub(crate) fn lang(self) -> Lang {
        match self {
            Script::UkrainianCyrillic => Lang::Uk,
            Script::RussianCyrillic => Lang::Ru,
            _ => Lang::En,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Uk,
    Ru,
    En,
}

impl Lang {
    /// Picks the text for this language from a (Ukrainian, Russian, English) triple.
    pub(crate) fn of<'a>(self, uk: &'a str, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Uk => uk,
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

/// One name in every script.
#[derive(Debug, Clone)]
pub(crate) struct Forms([String; 6]);

impl Forms {
    /// `english`: a hand-written conventional spelling; otherwise the Latin
    /// spelling of the language the name belongs to (`uk_origin`).
    fn new(uk: &str, ru: &str, english: Option<&str>, uk_origin: bool) -> Self {
        let english = match english {
            Some(e) => e.to_owned(),
            None if uk_origin => translit(uk, Scheme::Ukrainian2010),
            None => translit(ru, Scheme::English),
        };
        Forms([
            uk.to_owned(),
            ru.to_owned(),
            translit(uk, Scheme::Ukrainian2010),
            translit(ru, Scheme::RussianIcao),
            translit(ru, Scheme::RussianBgn),
            english,
        ])
    }

    pub(crate) fn get(&self, script: Script) -> &str {
        &self.0[script.slot()]
    }

    #[cfg(test)]
    pub(crate) fn all(&self) -> &[String; 6] {
        &self.0
    }
}

/// A surname in both genders (Іванов, Іванова).
#[derive(Debug, Clone)]
pub(crate) struct Surname {
    pub(crate) male: Forms,
    pub(crate) female: Forms,
}

#[derive(Debug)]
pub(crate) struct Names {
    pub(crate) male: Vec<Forms>,
    pub(crate) patronymic_male: Vec<Forms>,
    pub(crate) patronymic_female: Vec<Forms>,
    pub(crate) female: Vec<Forms>,
    pub(crate) surnames_uk: Vec<Surname>,
    pub(crate) surnames_ru: Vec<Surname>,
    /// Towns of party A's territory (Ukrainian-speaking), then party B's.
    pub(crate) towns_a: Vec<Forms>,
    pub(crate) towns_b: Vec<Forms>,
    pub(crate) streets_a: Vec<Forms>,
    pub(crate) streets_b: Vec<Forms>,
}

pub(crate) fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(build)
}

fn build() -> Names {
    let surnames = |list: &[(&str, &str)], uk_origin: bool| -> Vec<Surname> {
        list.iter()
            .map(|&(uk, ru)| Surname {
                male: Forms::new(uk, ru, None, uk_origin),
                female: Forms::new(&feminine_surname_uk(uk), &feminine_surname_ru(ru), None, uk_origin),
            })
            .collect()
    };
    let towns = |a: bool| -> Vec<Forms> {
        tables::TOWNS
            .iter()
            .filter(|t| t.2 == a)
            .map(|&(uk, ru, uk_origin)| Forms::new(uk, ru, None, uk_origin))
            .collect()
    };
    let streets = |uk_origin: bool| -> Vec<Forms> {
        tables::STREETS.iter().map(|&(uk, ru)| Forms::new(uk, ru, None, uk_origin)).collect()
    };
    Names {
        male: tables::MALE.iter().map(|&(uk, ru, en, _, _)| Forms::new(uk, ru, Some(en), true)).collect(),
        patronymic_male: tables::MALE.iter().map(|&(_, _, _, uk, ru)| Forms::new(uk, ru, None, false)).collect(),
        patronymic_female: tables::MALE
            .iter()
            .map(|&(_, _, _, uk, ru)| Forms::new(&feminine_patronymic_uk(uk), &feminine_patronymic_ru(ru), None, false))
            .collect(),
        female: tables::FEMALE.iter().map(|&(uk, ru, en)| Forms::new(uk, ru, Some(en), true)).collect(),
        surnames_uk: surnames(tables::SURNAMES_UK, true),
        surnames_ru: surnames(tables::SURNAMES_RU, false),
        towns_a: towns(true),
        towns_b: towns(false),
        streets_a: streets(true),
        streets_b: streets(false),
    }
}

/// Іванов → Іванова, Ковальський → Ковальська, Осадчий → Осадча; Коваленко stays.
fn feminine_surname_uk(m: &str) -> String {
    if let Some(stem) = m.strip_suffix("ий").or_else(|| m.strip_suffix("ой")) {
        return format!("{stem}а");
    }
    if ["ов", "ев", "єв", "ин", "ін", "їн"].iter().any(|s| m.ends_with(s)) {
        return format!("{m}а");
    }
    m.to_owned()
}

/// Иванов → Иванова, Ковальский → Ковальская, Толстой → Толстая.
fn feminine_surname_ru(m: &str) -> String {
    if let Some(stem) = m.strip_suffix("ий").or_else(|| m.strip_suffix("ой")) {
        return format!("{stem}ая");
    }
    if ["ов", "ев", "ин", "ын"].iter().any(|s| m.ends_with(s)) {
        return format!("{m}а");
    }
    m.to_owned()
}

/// Андрійович → Андріївна, Васильович → Василівна, Ілліч → Іллівна.
fn feminine_patronymic_uk(m: &str) -> String {
    if let Some(stem) = m.strip_suffix("йович") {
        return format!("{stem}ївна");
    }
    if let Some(stem) = m.strip_suffix("ьович") {
        return format!("{stem}івна");
    }
    if let Some(stem) = m.strip_suffix("ович") {
        return format!("{stem}івна");
    }
    if let Some(stem) = m.strip_suffix("іч").or_else(|| m.strip_suffix("ич")) {
        return format!("{stem}івна");
    }
    m.to_owned()
}

/// Александрович → Александровна, Сергеевич → Сергеевна, Ильич → Ильинична.
fn feminine_patronymic_ru(m: &str) -> String {
    if let Some(stem) = m.strip_suffix("ович") {
        return format!("{stem}овна");
    }
    if let Some(stem) = m.strip_suffix("евич") {
        return format!("{stem}евна");
    }
    if m == "Никитич" {
        return "Никитична".to_owned();
    }
    if let Some(stem) = m.strip_suffix("ич") {
        return format!("{stem}инична");
    }
    m.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feminine_forms() {
        assert_eq!(feminine_surname_uk("Іванов"), "Іванова");
        assert_eq!(feminine_surname_uk("Ковальський"), "Ковальська");
        assert_eq!(feminine_surname_uk("Коваленко"), "Коваленко");
        assert_eq!(feminine_surname_uk("Ільїн"), "Ільїна");
        assert_eq!(feminine_surname_ru("Высоцкий"), "Высоцкая");
        assert_eq!(feminine_surname_ru("Толстой"), "Толстая");
        assert_eq!(feminine_surname_ru("Соловьев"), "Соловьева");
        assert_eq!(feminine_patronymic_uk("Андрійович"), "Андріївна");
        assert_eq!(feminine_patronymic_uk("Миколайович"), "Миколаївна");
        assert_eq!(feminine_patronymic_uk("Васильович"), "Василівна");
        assert_eq!(feminine_patronymic_uk("Олександрович"), "Олександрівна");
        assert_eq!(feminine_patronymic_uk("Ілліч"), "Іллівна");
        assert_eq!(feminine_patronymic_ru("Сергеевич"), "Сергеевна");
        assert_eq!(feminine_patronymic_ru("Ильич"), "Ильинична");
        assert_eq!(feminine_patronymic_ru("Никитич"), "Никитична");
    }

    #[test]
    fn the_same_name_in_every_script() {
        let n = names();
        assert_eq!(n.male[0].all(), &["Олександр", "Александр", "Oleksandr", "Aleksandr", "Aleksandr", "Alexander"]);
        assert_eq!(n.patronymic_male[0].get(Script::UkrainianLatin), "Oleksandrovych");
        assert_eq!(n.patronymic_male[0].get(Script::RussianIcao), "Aleksandrovich");
        assert_eq!(n.surnames_uk[0].male.get(Script::English), "Kovalenko");
        assert_eq!(n.surnames_ru[0].female.get(Script::UkrainianCyrillic), "Іванова");
        assert!(n.male.len() >= 80 && n.female.len() >= 20);
        assert!(n.surnames_uk.len() + n.surnames_ru.len() >= 150);
    }
}
