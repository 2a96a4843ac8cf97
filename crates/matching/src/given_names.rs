//! Given-name equivalence classes and patronymics, from
//! `data/given_names.csv` (its header names the sources).
//!
//! Every form in the file, and every regular patronymic generated from its
//! Ukrainian and Russian forms, is indexed by its [`name_key`]; a query is
//! keyed the same way, so any script or transliteration of a listed form
//! finds its class ("Oleksandr", "Aleksandr", "Alexandr", "Саша", "Sasha").

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::key::name_key;

pub(crate) const DATA: &str = include_str!("../data/given_names.csv");

/// Identifies one given name across languages (Олександр = Александр =
/// Alexander = Саша). Only meaningful within one build of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(u16);

/// Whose name it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// A man's name.
    Male,
    /// A woman's name.
    Female,
}

#[derive(Debug)]
struct Class {
    label: &'static str,
    sex: Sex,
}

#[derive(Debug, Default)]
struct Index {
    classes: Vec<Class>,
    names: HashMap<String, Vec<ClassId>>,
    patronymics: HashMap<String, Vec<ClassId>>,
}

impl ClassId {
    /// The class's number (its place in the data file).
    pub(crate) fn raw(self) -> u16 {
        self.0
    }

    /// A stable, readable label for the class, from the data file
    /// (`oleksandr`, `mariia`).
    #[must_use]
    pub fn label(self) -> &'static str {
        INDEX.classes.get(usize::from(self.0)).map_or("", |c| c.label)
    }

    /// Whether the name is a man's or a woman's.
    #[must_use]
    pub fn sex(self) -> Sex {
        INDEX.classes.get(usize::from(self.0)).map_or(Sex::Male, |c| c.sex)
    }

    /// The class with this label, if the data has it.
    #[must_use]
    pub fn from_label(label: &str) -> Option<ClassId> {
        INDEX.classes.iter().position(|c| c.label == label).and_then(|i| u16::try_from(i).ok()).map(ClassId)
    }
}

static INDEX: LazyLock<Index> = LazyLock::new(|| parse(DATA));

fn add(map: &mut HashMap<String, Vec<ClassId>>, form: &str, id: ClassId) {
    let key = name_key(form);
    if key.is_empty() {
        return;
    }
    let ids = map.entry(key).or_default();
    if !ids.contains(&id) {
        ids.push(id);
        ids.sort();
    }
}

/// Parses the data file. The file is part of the crate and checked by the
/// tests, so a malformed line is a build defect: it is skipped rather than
/// turned into a run-time error nobody can act on.
fn parse(data: &'static str) -> Index {
    let mut index = Index::default();
    let rows = data.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).skip(1);
    for row in rows {
        let fields: Vec<&'static str> = row.split(',').collect();
        let [label, sex, uk, ru, en, other, diminutives, patronymics] = fields[..] else {
            continue;
        };
        let sex = if sex == "f" { Sex::Female } else { Sex::Male };
        let Ok(n) = u16::try_from(index.classes.len()) else {
            break;
        };
        let id = ClassId(n);
        index.classes.push(Class { label, sex });
        let values = |field: &'static str| field.split('|').filter(|v| !v.is_empty());
        for form in [uk, ru, en, other, diminutives].into_iter().flat_map(values) {
            add(&mut index.names, form, id);
        }
        for form in values(patronymics) {
            add(&mut index.patronymics, form, id);
        }
        if sex == Sex::Male {
            for form in values(uk) {
                for p in ukrainian_patronymics(form) {
                    add(&mut index.patronymics, &p, id);
                }
            }
            for form in values(ru) {
                for p in russian_patronymics(form) {
                    add(&mut index.patronymics, &p, id);
                }
            }
        }
    }
    index
}

/// Regular Ukrainian patronymics (male, female): Олександр → Олександрович,
/// Олександрівна; Петро → Петрович, Петрівна; Сергій → Сергійович,
/// Сергіївна; Василь → Васильович, Василівна; Микита → Микитович,
/// Микитівна. Irregular ones (Ілліч, Якович) are listed in the data.
pub(crate) fn ukrainian_patronymics(name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let stem = |n: usize| -> String {
        let count = lower.chars().count();
        lower.chars().take(count.saturating_sub(n)).collect()
    };
    let last = lower.chars().next_back();
    match last {
        Some('й') => vec![format!("{lower}ович"), format!("{}ївна", stem(1))],
        Some('ь') => vec![format!("{lower}ович"), format!("{}івна", stem(1))],
        Some('о' | 'а' | 'я') => vec![format!("{}ович", stem(1)), format!("{}івна", stem(1))],
        Some(_) => vec![format!("{lower}ович"), format!("{lower}івна")],
        None => Vec::new(),
    }
}

/// Regular Russian patronymics (male, female): Иван → Иванович, Ивановна;
/// Сергей → Сергеевич, Сергеевна; Юрий → Юрьевич and Юриевич; Игорь →
/// Игоревич; Никита → Никитич, Никитична. Irregular ones (Павлович,
/// Львович, Ильич) are listed in the data.
pub(crate) fn russian_patronymics(name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    let stem = |n: usize| -> String {
        let count = lower.chars().count();
        lower.chars().take(count.saturating_sub(n)).collect()
    };
    if lower.ends_with("ий") {
        let s = stem(2);
        return vec![format!("{s}ьевич"), format!("{s}ьевна"), format!("{s}иевич"), format!("{s}иевна")];
    }
    match lower.chars().next_back() {
        Some('й' | 'ь') => vec![format!("{}евич", stem(1)), format!("{}евна", stem(1))],
        Some('а' | 'я') => vec![format!("{}ич", stem(1)), format!("{}ична", stem(1))],
        Some(_) => vec![format!("{lower}ович"), format!("{lower}овна")],
        None => Vec::new(),
    }
}

/// The classes a given name belongs to, in any script or transliteration,
/// full form or diminutive. Usually one; several for a diminutive shared
/// by names (Саша: Олександр and Олександра; Слава: Вячеслав, Ярослав…);
/// empty for a name the data does not know.
#[must_use]
pub fn given_name_classes(name: &str) -> Vec<ClassId> {
    INDEX.names.get(&name_key(name)).cloned().unwrap_or_default()
}

/// The class of the father's given name behind a patronymic
/// (Олександрович, Oleksandrovych, Aleksandrovna → the class of Олександр);
/// empty if `patronymic` is not a patronymic of a known name.
#[must_use]
pub fn patronymic_class(patronymic: &str) -> Vec<ClassId> {
    INDEX.patronymics.get(&name_key(patronymic)).cloned().unwrap_or_default()
}

/// Whether a word has the shape of an East Slavic patronymic (‑ович,
/// ‑евич, ‑ич, ‑івна, ‑овна, ‑ична, or their transliterations). Surnames
/// can have the same shape (Петрович, Абрамович): use it on a field known
/// to hold a patronymic or a middle name, not to sort words of a full name.
#[must_use]
pub fn is_patronymic(word: &str) -> bool {
    let key = name_key(word);
    key.chars().count() > 4 && ["vich", "vna", "ich", "ichna", "vic"].iter().any(|s| key.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(label: &str) -> ClassId {
        ClassId::from_label(label).unwrap_or_else(|| panic!("no class {label}"))
    }

    #[test]
    fn every_data_row_parses() {
        let rows = DATA.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).skip(1).count();
        assert_eq!(INDEX.classes.len(), rows);
        assert!(rows >= 150, "{rows}");
        for line in DATA.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line.split(',').count(), 8, "{line}");
        }
        let mut labels: Vec<_> = INDEX.classes.iter().map(|c| c.label).collect();
        labels.sort_unstable();
        let before = labels.len();
        labels.dedup();
        assert_eq!(before, labels.len(), "duplicate labels");
    }

    #[test]
    fn forms_in_every_script_find_their_class() {
        let cases: &[(&str, &[&str])] = &[
            (
                "oleksandr",
                &[
                    "Олександр",
                    "Александр",
                    "Oleksandr",
                    "Aleksandr",
                    "Alexandr",
                    "Alexander",
                    "Sasha",
                    "Саша",
                    "Сашко",
                    "Шура",
                    "OLEKSANDR",
                ],
            ),
            ("dmytro", &["Дмитро", "Дмитрий", "Dmytro", "Dmitrii", "Dmitry", "Dima", "Дима", "Митя"]),
            ("mykola", &["Микола", "Николай", "Mykola", "Nikolai", "Nicholas", "Коля", "Kolya"]),
            ("oleksii", &["Олексій", "Алексей", "Oleksii", "Aleksei", "Alexey", "Лёша", "Lyosha", "Алёша"]),
            ("yurii", &["Юрій", "Юрий", "Yurii", "Iurii", "Yuri", "Юра"]),
            ("yevhen", &["Євген", "Евгений", "Yevhen", "Evgenii", "Eugene", "Женя"]),
            ("serhii", &["Сергій", "Сергей", "Serhii", "Sergei", "Sergey", "Серёжа", "Serezha"]),
            ("andrii", &["Андрій", "Андрей", "Andrii", "Andriy", "Andrei", "Andrew"]),
            ("ivan", &["Іван", "Иван", "Ivan", "John", "Ваня", "Vanya"]),
            ("heorhii", &["Георгій", "Георгий", "Heorhii", "George", "Жора"]),
            ("mariia", &["Марія", "Мария", "Mariia", "Maria", "Mary", "Маша"]),
            ("olha", &["Ольга", "Olha", "Olga", "Оля"]),
            ("nataliia", &["Наталія", "Наталья", "Natalia", "Nataliya", "Наташа"]),
        ];
        for (label, forms) in cases {
            for form in *forms {
                assert!(
                    given_name_classes(form).contains(&class(label)),
                    "{form} → {label}: {:?}",
                    given_name_classes(form)
                );
            }
        }
    }

    #[test]
    fn shared_diminutives_give_every_class() {
        let sasha = given_name_classes("Саша");
        assert!(sasha.contains(&class("oleksandr")) && sasha.contains(&class("oleksandra")));
        let zhenya = given_name_classes("Zhenya");
        assert!(zhenya.contains(&class("yevhen")) && zhenya.contains(&class("yevheniia")));
        assert!(given_name_classes("Слава").len() >= 4);
        assert!(given_name_classes("Qwxyz").is_empty());
        assert_eq!(class("oleksandr").sex(), Sex::Male);
        assert_eq!(class("oleksandra").sex(), Sex::Female);
        assert_eq!(class("oleksandr").label(), "oleksandr");
    }

    #[test]
    fn patronymics_lead_to_the_fathers_name() {
        let cases = [
            ("Олександрович", "oleksandr"),
            ("Олександрівна", "oleksandr"),
            ("Александрович", "oleksandr"),
            ("Александровна", "oleksandr"),
            ("Oleksandrovych", "oleksandr"),
            ("Aleksandrovich", "oleksandr"),
            ("Alexandrovich", "oleksandr"),
            ("Сергійович", "serhii"),
            ("Сергіївна", "serhii"),
            ("Сергеевич", "serhii"),
            ("Sergeyevich", "serhii"),
            ("Serhiiovych", "serhii"),
            ("Миколайович", "mykola"),
            ("Миколаївна", "mykola"),
            ("Николаевич", "mykola"),
            ("Петрович", "petro"),
            ("Петрівна", "petro"),
            ("Дмитриевич", "dmytro"),
            ("Дмитрович", "dmytro"),
            ("Юрьевич", "yurii"),
            ("Юрійович", "yurii"),
            ("Васильович", "vasyl"),
            ("Василівна", "vasyl"),
            ("Васильевна", "vasyl"),
            ("Игоревич", "ihor"),
            ("Ігорович", "ihor"),
            ("Павлович", "pavlo"),
            ("Михайлович", "mykhailo"),
            ("Львович", "lev"),
            ("Ильич", "illia"),
            ("Ilyinichna", "illia"),
            ("Никитич", "mykyta"),
            ("Микитович", "mykyta"),
            ("Яковлевич", "yakiv"),
            ("Федорович", "fedir"),
            ("Fyodorovich", "fedir"),
        ];
        for (patronymic, label) in cases {
            assert!(
                patronymic_class(patronymic).contains(&class(label)),
                "{patronymic} → {label}: {:?}",
                patronymic_class(patronymic)
            );
        }
        assert!(patronymic_class("Коваленко").is_empty());
    }

    #[test]
    fn recognises_patronymic_shapes() {
        for p in ["Олександрович", "Oleksandrivna", "Сергеевна", "Ильич", "Ilyinichna", "Ivanovych", "Petrovna"]
        {
            assert!(is_patronymic(p), "{p}");
        }
        for n in ["Коваленко", "Shevchenko", "Олександр", "Ivan"] {
            assert!(!is_patronymic(n), "{n}");
        }
    }
}
