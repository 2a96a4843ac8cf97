//! Reads (and, for tests and benchmarks, writes) match records in the
//! person-import CSV layout
//! (`record_id,family_name,given_names,patronymic,mother_maiden_name,
//! birth_date,place_of_birth,rank,service_number,unit,…`). Columns are
//! found by header name, in any order; columns the matcher does not use
//! (power, category, status, …) are ignored. Header aliases in other
//! languages are the import's business (crates/service), not this one's.

use std::io::{Read, Write};

use crate::record::{BirthDate, MatchRecord};

/// A CSV problem, with the line (1-based, the header is line 1) and the
/// column. Never carries a field's value: it may be personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// The file could not be read or is not CSV.
    #[error("line {line}: {message}")]
    Malformed {
        /// Line number.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// A required column is absent from the header.
    #[error("line 1: missing column {column}")]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// A field has a value the matcher cannot use.
    #[error("line {line}, field {field}: {message}")]
    Field {
        /// Line number.
        line: u64,
        /// Column name.
        field: &'static str,
        /// What is wrong.
        message: &'static str,
    },
}

const COLUMNS: [&str; 10] = [
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
];

/// Reads every record of a CSV file in the person-import layout.
/// `record_id` and `family_name` are required columns; every record needs
/// a `record_id` and a family or given name.
///
/// # Errors
/// The first problem met, with its line and field.
pub fn read_records<R: Read>(reader: R) -> Result<Vec<MatchRecord>, CsvError> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(reader);
    let headers = csv.headers().map_err(|e| CsvError::Malformed { line: 1, message: e.to_string() })?.clone();
    let position =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(name));
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| position(c)).collect();
    for required in ["record_id", "family_name"] {
        let i = COLUMNS.iter().position(|c| *c == required).unwrap_or(0);
        if cols.get(i).copied().flatten().is_none() {
            return Err(CsvError::MissingColumn { column: required });
        }
    }
    let mut out = Vec::new();
    for row in csv.records() {
        let row = row.map_err(|e| CsvError::Malformed {
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let get = |name: &str| -> Option<String> {
            let i = COLUMNS.iter().position(|c| *c == name)?;
            let v = row.get((*cols.get(i)?)?)?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        let id = get("record_id").ok_or(CsvError::Field { line, field: "record_id", message: "empty" })?;
        let family_name = get("family_name").unwrap_or_default();
        let given_names = get("given_names").unwrap_or_default();
        if family_name.is_empty() && given_names.is_empty() {
            return Err(CsvError::Field { line, field: "family_name", message: "no family name and no given name" });
        }
        let birth_date = get("birth_date")
            .map(|d| BirthDate::parse(&d))
            .transpose()
            .map_err(|message| CsvError::Field { line, field: "birth_date", message })?;
        out.push(MatchRecord {
            id,
            family_name,
            given_names,
            patronymic: get("patronymic"),
            mother_maiden_name: get("mother_maiden_name"),
            birth_date,
            place_of_birth: get("place_of_birth"),
            rank: get("rank"),
            service_number: get("service_number"),
            unit: get("unit"),
        });
    }
    Ok(out)
}

/// Writes records in the person-import layout (the ten columns the
/// matcher reads), so that [`read_records`] reads them back unchanged.
///
/// # Errors
/// The writer's error.
pub fn write_records<'a, W: Write>(
    writer: W,
    records: impl IntoIterator<Item = &'a MatchRecord>,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(writer);
    w.write_record(COLUMNS)?;
    for r in records {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        w.write_record([
            r.id.clone(),
            r.family_name.clone(),
            r.given_names.clone(),
            o(&r.patronymic),
            o(&r.mother_maiden_name),
            r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            o(&r.place_of_birth),
            o(&r.rank),
            o(&r.service_number),
            o(&r.unit),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,service_number,unit,power,category,status
a1,Коваленко,Олександр,Петрович,,07.03.1990,Київ,солдат,1234567,в/ч А1234,UA,pow,captured
a2,Shevchenko,Dmytro,,,1995,,,,,UA,pow,
a3,Бондар,Юрій,,,1990-05,,,,,UA,pow,
";

    #[test]
    fn reads_the_import_layout() {
        let records = read_records(SAMPLE.as_bytes()).expect("valid");
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].id, "a1");
        assert_eq!(records[0].birth_date, Some(BirthDate::ymd(1990, 3, 7)));
        assert_eq!(records[0].unit.as_deref(), Some("в/ч А1234"));
        assert_eq!(records[1].patronymic, None);
        assert_eq!(records[1].birth_date, Some(BirthDate::year_only(1995)));
        assert_eq!(records[2].birth_date.and_then(|d| d.month), Some(5));
    }

    #[test]
    fn writes_what_it_reads() {
        let records = read_records(SAMPLE.as_bytes()).expect("valid");
        let mut buf = Vec::new();
        write_records(&mut buf, &records).expect("written");
        assert_eq!(read_records(buf.as_slice()).expect("read back"), records);
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = "record_id,family_name,given_names,birth_date\na,X,Y,1990\nb,X,Y,31/12/1990\n";
        let err = read_records(bad.as_bytes()).expect_err("bad date");
        assert_eq!(
            err.to_string(),
            "line 3, field birth_date: expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY"
        );
        let no_id = "family_name,given_names\nX,Y\n";
        assert_eq!(read_records(no_id.as_bytes()), Err(CsvError::MissingColumn { column: "record_id" }));
        let empty_id = "record_id,family_name\n,X\n";
        assert!(
            read_records(empty_id.as_bytes()).expect_err("no id").to_string().starts_with("line 2, field record_id")
        );
    }
}
