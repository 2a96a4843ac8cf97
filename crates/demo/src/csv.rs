//! The person-import CSV: a registry snapshot, one row per person.
//!
//! A CSV row can only open a record, so its status must be one a record may
//! start in ([`Status::INITIAL`]: missing, captured, held, hospitalised,
//! deceased). A row therefore carries the person's last status if it is one
//! of those, and otherwise the last such status in the history (a repatriated
//! person appears as last held, at the camp they left). Full histories, with
//! nominations, handovers and returns, are loaded through the API.
//!
//! Quoting follows RFC 4180: a field containing a comma, a double quote, CR
//! or LF is enclosed in double quotes, and its quotes are doubled. Records
//! end with LF, which RFC 4180 readers accept.

use std::io::{self, BufWriter, Write};

use homeward_domain::Status;

use crate::DemoPerson;

/// The header row, exactly as the importer expects it.
pub const CSV_HEADER: &str = "record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,service_number,unit,power,category,person_to_inform,correspondence_address,status,status_date,status_place";

/// Writes the person-import CSV: the header ([`CSV_HEADER`]) and one row per
/// person; returns the number of rows (without the header).
///
/// The CSV is a registry snapshot for import, not a history: each row's
/// `status` is the person's last status if a record may start in it
/// (missing, captured, held, hospitalised, deceased), otherwise the last such
/// status in the timeline ([`DemoPerson::snapshot`]), with its date and place.
/// Full histories are loaded through the API. Dates are ISO 8601 at their
/// known precision (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`). Rows from both sources
/// are mixed (record ids carry the source code, so they stay unique); filter
/// the iterator on `source` for one bureau's file. RFC 4180 quoting; LF line ends.
pub fn write_csv<W: Write>(persons: impl Iterator<Item = DemoPerson>, out: W) -> io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 16, out);
    w.write_all(CSV_HEADER.as_bytes())?;
    w.write_all(b"\n")?;
    let mut rows = 0;
    let mut date = String::with_capacity(10);
    for person in persons {
        let id = &person.identity;
        let snapshot = person.snapshot();
        date.clear();
        if let Some(d) = id.birth_date {
            date.push_str(&d.to_string());
        }
        let status_date = snapshot.and_then(|e| e.occurred_on).map(|d| d.to_string()).unwrap_or_default();
        let fields: [&str; 17] = [
            &person.source.record_id,
            &id.family_name,
            &id.given_names,
            opt(&id.patronymic),
            opt(&id.mother_maiden_name),
            &date,
            opt(&id.place_of_birth),
            opt(&id.rank),
            opt(&id.service_number),
            opt(&id.unit),
            id.power.as_str(),
            id.category.as_str(),
            opt(&id.person_to_inform),
            opt(&id.correspondence_address),
            snapshot.map_or("", |e| Status::as_str(e.status)),
            &status_date,
            snapshot.and_then(|e| e.place.as_deref()).unwrap_or(""),
        ];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write_field(&mut w, field)?;
        }
        w.write_all(b"\n")?;
        rows += 1;
    }
    w.flush()?;
    Ok(rows)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

fn write_field(w: &mut impl Write, field: &str) -> io::Result<()> {
    if !field.contains([',', '"', '\r', '\n']) {
        return w.write_all(field.as_bytes());
    }
    w.write_all(b"\"")?;
    let mut parts = field.split('"');
    if let Some(first) = parts.next() {
        w.write_all(first.as_bytes())?;
    }
    for part in parts {
        w.write_all(b"\"\"")?;
        w.write_all(part.as_bytes())?;
    }
    w.write_all(b"\"")
}
