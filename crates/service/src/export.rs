//! Exporting persons as CSV (the import's own columns, so an export can be
//! imported elsewhere) or as a JSON array, streamed row by row.

use std::io::Write;

use homeward_store::{ExportRow, Store, StoreError};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// Export columns: the import's columns plus homeward's own ids.
pub const EXPORT_COLUMNS: &[&str] = &[
    "source",
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
    "person_id",
    "version",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(String),
}

fn fields(r: &ExportRow) -> [String; 20] {
    let i = &r.identity;
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.source.source.to_string(),
        r.source.record_id.clone(),
        i.family_name.clone(),
        i.given_names.clone(),
        o(&i.patronymic),
        o(&i.mother_maiden_name),
        i.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        o(&i.place_of_birth),
        o(&i.rank),
        o(&i.service_number),
        o(&i.unit),
        i.power.to_string(),
        i.category.as_str().to_owned(),
        o(&i.person_to_inform),
        o(&i.correspondence_address),
        r.status.as_str().to_owned(),
        r.status_occurred_on.map(|d| d.to_string()).unwrap_or_default(),
        o(&r.status_place),
        r.person_id.to_string(),
        r.version.to_string(),
    ]
}

/// Streams every person to `out`; returns the number of rows.
pub async fn export_persons(store: &dyn Store, format: Format, out: Box<dyn Write + Send>) -> Result<u64, ExportError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ExportRow>(1024);
    // Writing is blocking I/O: keep it off the async threads.
    let wrx = std::iter::from_fn(move || rx.blocking_recv());
    let writer = std::thread::spawn(move || -> Result<(), String> {
        let mut out = std::io::BufWriter::new(out);
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(EXPORT_COLUMNS).map_err(|e| e.to_string())?;
                for r in wrx {
                    w.write_record(fields(&r)).map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            Format::Json => {
                out.write_all(b"[").map_err(|e| e.to_string())?;
                for (n, r) in wrx.enumerate() {
                    if n > 0 {
                        out.write_all(b",").map_err(|e| e.to_string())?;
                    }
                    out.write_all(b"\n").map_err(|e| e.to_string())?;
                    let obj: serde_json::Map<String, serde_json::Value> = EXPORT_COLUMNS
                        .iter()
                        .zip(fields(&r))
                        .map(|(k, v)| {
                            let v = if v.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(v) };
                            ((*k).to_owned(), v)
                        })
                        .collect();
                    serde_json::to_writer(&mut out, &obj).map_err(|e| e.to_string())?;
                }
                out.write_all(b"\n]\n").map_err(|e| e.to_string())?;
            }
        }
        out.flush().map_err(|e| e.to_string())
    });
    let n = store.export_persons(tx).await;
    writer.join().map_err(|_| ExportError::Write("writer thread failed".into()))?.map_err(ExportError::Write)?;
    Ok(n?)
}
