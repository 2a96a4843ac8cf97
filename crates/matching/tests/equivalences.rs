//! The cross-script equivalences the matching layers above rely on, from
//! the design document: one soldier, six spellings.

use homeward_matching::{ClassId, given_name_classes, name_key, patronymic_class, surname_phonetic_codes};

fn oleksandr() -> ClassId {
    ClassId::from_label("oleksandr").expect("class in data")
}

#[test]
fn one_soldier_six_spellings() {
    let spellings = [
        ("Олександр", "Коваленко"),
        ("Александр", "Коваленко"),
        ("Oleksandr", "Kovalenko"),
        ("Aleksandr", "Kovalenko"),
        ("Alexander", "Kovalenko"),
        ("Sasha", "Kowalenko"),
        ("Саша", "KOVALENKO"),
        ("Alexandr", "Kovalenko"),
    ];
    let surname_key = name_key("Коваленко");
    let surname_codes = surname_phonetic_codes("Коваленко");
    for (given, surname) in spellings {
        assert!(given_name_classes(given).contains(&oleksandr()), "{given}");
        assert_eq!(name_key(surname), surname_key, "{surname}");
        let codes = surname_phonetic_codes(surname);
        assert!(codes.iter().any(|c| surname_codes.contains(c)), "{surname}");
    }
}

#[test]
fn patronymic_of_the_same_father_in_both_languages() {
    for p in ["Олександрович", "Александрович", "Oleksandrovych", "Aleksandrovich"] {
        assert_eq!(patronymic_class(p), vec![oleksandr()], "{p}");
    }
}

#[test]
fn ukrainian_h_and_russian_g_meet() {
    assert_eq!(name_key("Григоренко"), name_key("Hryhorenko"));
    assert_eq!(name_key("Григоренко"), name_key("Grigorenko"));
    assert_eq!(given_name_classes("Hryhorii"), given_name_classes("Grigory"));
}
