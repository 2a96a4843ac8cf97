//! The person-import columns, and the headers recognised for each in English,
//! Ukrainian and Russian, so that spreadsheets from the field load without
//! editing. Anything else must be mapped explicitly (`--map HEADER=column` or
//! `--map HEADER=ignore`): an unknown column is never dropped silently.

use std::collections::HashMap;

/// Every column the import understands, in the documented order.
pub const COLUMNS: &[&str] = &[
    "record_id",
    "family_name",
    "given_names",
    "patronymic",
    "mother_maiden_name",
    "birth_date",
    "place_of_birth",
    "rank",
    "service_number",
    "unit",
    "power",
    "category",
    "person_to_inform",
    "correspondence_address",
    "status",
    "status_date",
    "status_place",
    "source",
];

/// Columns a file must have.
pub const REQUIRED: &[&str] = &["record_id", "family_name", "given_names", "power", "category"];

/// Columns homeward writes on export that the import reads past: they are
/// homeward's own bookkeeping, not the source's data.
pub const EXPORT_ONLY: &[&str] = &["person_id", "version"];

/// What a header means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Column(&'static str),
    Ignore,
}

/// Recognised header spellings per column (compared after [`normalise_header`]).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "record_id",
        &["id", "record id", "record", "source id", "номер запису", "ідентифікатор", "номер записи", "идентификатор"],
    ),
    ("family_name", &["surname", "last name", "lastname", "family name", "прізвище", "фамилия"]),
    ("given_names", &["given name", "first name", "firstname", "first names", "forename", "name", "ім'я", "имя"]),
    ("patronymic", &["father's name", "fathers name", "middle name", "по батькові", "отчество"]),
    (
        "mother_maiden_name",
        &["mother's maiden name", "mothers maiden name", "дівоче прізвище матері", "девичья фамилия матери"],
    ),
    ("birth_date", &["date of birth", "dob", "birthdate", "born", "дата народження", "дата рождения"]),
    ("place_of_birth", &["birthplace", "birth place", "місце народження", "место рождения"]),
    ("rank", &["military rank", "звання", "військове звання", "звание", "воинское звание"]),
    (
        "service_number",
        &[
            "personal number",
            "serial number",
            "service no",
            "army number",
            "особистий номер",
            "номер жетона",
            "личный номер",
            "номер жетона",
        ],
    ),
    (
        "unit",
        &["military unit", "військова частина", "частина", "подразділення", "воинская часть", "часть", "подразделение"],
    ),
    (
        "power",
        &[
            "power depended on",
            "power on which the person depends",
            "party",
            "nationality",
            "держава",
            "сторона",
            "государство",
            "сторона конфликта",
        ],
    ),
    ("category", &["type", "тип", "категорія", "категория"]),
    (
        "person_to_inform",
        &[
            "next of kin",
            "person to be informed",
            "contact person",
            "кого повідомити",
            "контактна особа",
            "кого уведомить",
            "контактное лицо",
        ],
    ),
    (
        "correspondence_address",
        &[
            "address",
            "address for correspondence",
            "postal address",
            "адреса",
            "адреса для листування",
            "адрес",
            "адрес для переписки",
        ],
    ),
    ("status", &["state", "статус", "стан", "состояние"]),
    (
        "status_date",
        &["date", "status date", "event date", "дата статусу", "дата події", "дата статуса", "дата события"],
    ),
    ("status_place", &["place", "location", "camp", "місце", "місце утримання", "место", "место содержания"]),
    ("source", &["reported by", "джерело", "источник"]),
];

/// Trims, drops a byte-order mark, case-folds, and treats `_`, `-`, `.` and
/// runs of spaces alike; unifies the apostrophes of Ukrainian spelling.
pub fn normalise_header(raw: &str) -> String {
    let s = raw.trim_start_matches('\u{feff}').trim().to_lowercase();
    let s: String = s
        .chars()
        .map(|c| match c {
            '_' | '-' | '.' => ' ',
            '\u{2019}' | '\u{02bc}' | '`' | '\u{2018}' => '\'',
            c => c,
        })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `--map` options: `HEADER=column` or `HEADER=ignore`.
pub fn parse_mapping(specs: &[String]) -> Result<HashMap<String, Target>, String> {
    let mut map = HashMap::new();
    for spec in specs {
        let (header, target) =
            spec.rsplit_once('=').ok_or_else(|| format!("--map {spec:?}: expected HEADER=column or HEADER=ignore"))?;
        let target = target.trim();
        let target = if target == "ignore" {
            Target::Ignore
        } else {
            Target::Column(COLUMNS.iter().find(|c| **c == target).copied().ok_or_else(|| {
                format!("--map {spec:?}: unknown column {target:?}; columns are {}", COLUMNS.join(", "))
            })?)
        };
        map.insert(normalise_header(header), target);
    }
    Ok(map)
}

/// What each header of a file means, by position.
pub fn resolve(headers: &[String], mapping: &HashMap<String, Target>) -> Result<Vec<Target>, String> {
    let mut targets = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    for h in headers {
        let n = normalise_header(h);
        let t = mapping.get(&n).copied().or_else(|| {
            if EXPORT_ONLY.contains(&n.replace(' ', "_").as_str()) {
                return Some(Target::Ignore);
            }
            COLUMNS
                .iter()
                .find(|c| c.replace('_', " ") == n)
                .map(|c| Target::Column(c))
                .or_else(|| ALIASES.iter().find(|(_, a)| a.contains(&n.as_str())).map(|(c, _)| Target::Column(c)))
        });
        match t {
            Some(t) => targets.push(t),
            None => {
                unknown.push(h.trim().to_owned());
                targets.push(Target::Ignore);
            }
        }
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(format!(
            "unknown column(s) {}; map them with --map 'HEADER=column' or drop them with --map 'HEADER=ignore'",
            unknown.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", ")
        ));
    }
    for c in COLUMNS {
        let n = targets.iter().filter(|t| **t == Target::Column(c)).count();
        if n > 1 {
            problems.push(format!("column {c} appears {n} times"));
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().filter(|c| !targets.contains(&Target::Column(c))).copied().collect();
    if !missing.is_empty() {
        problems.push(format!("missing required column(s) {}", missing.join(", ")));
    }
    if problems.is_empty() { Ok(targets) } else { Err(problems.join("; ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_ukrainian_russian_and_english_headers() {
        let m = HashMap::new();
        for set in [
            &["Record ID", "Surname", "First name", "Power", "Category"][..],
            &["\u{feff}номер запису", "Прізвище", "Ім’я", "Держава", "Категорія"],
            &["идентификатор", "Фамилия", "Имя", "Государство", "категория"],
            &["record_id", "family_name", "given_names", "power", "category"],
        ] {
            let t = resolve(&headers(set), &m).unwrap();
            assert_eq!(
                t,
                ["record_id", "family_name", "given_names", "power", "category"].map(Target::Column).to_vec(),
                "{set:?}"
            );
        }
    }

    #[test]
    fn unknown_duplicate_and_missing_columns_are_all_reported() {
        let err = resolve(&headers(&["id", "Прізвище", "Фамилия", "Notes"]), &HashMap::new()).unwrap_err();
        assert!(err.contains("\"Notes\""), "{err}");
        assert!(err.contains("family_name appears 2 times"), "{err}");
        assert!(err.contains("missing required column(s) given_names, power, category"), "{err}");
    }

    #[test]
    fn mapping_overrides_and_ignores() {
        let m = parse_mapping(&["ПІБ=family_name".into(), "Notes=ignore".into(), "Who=given_names".into()]).unwrap();
        let t = resolve(&headers(&["id", "ПІБ", "Who", "Notes", "power", "category"]), &m).unwrap();
        assert_eq!(t[1], Target::Column("family_name"));
        assert_eq!(t[3], Target::Ignore);
        assert!(parse_mapping(&["x=nonsense".into()]).unwrap_err().contains("unknown column"));
        assert!(parse_mapping(&["nothing".into()]).is_err());
    }
}
