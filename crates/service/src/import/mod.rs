//! Importing persons from CSV: the documented header (see `columns::COLUMNS`
//! and docs/IMPORT.md), or field spreadsheets with English, Ukrainian or
//! Russian headers, or any headers with `--map`.
//!
//! Guarantees: every row is validated (fields, dates, party codes, status
//! transitions); every bad row is reported with its line, field and reason
//! (never the value, which is personal data); the file lands whole or not at
//! all; re-importing the same file changes nothing (rows are keyed by the
//! source's record id); memory does not grow with the file.

pub mod columns;
pub mod reader;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use homeward_domain::{PartialDate, PartyCode, RawIdentity, SourceRef, Status, StatusEvent};
use homeward_store::{ImportCounts, ImportRow, RowRejection, Store, StoreError};
use serde::Serialize;
use time::OffsetDateTime;

use columns::Target;
use reader::{Counters, LimitedReader, TooLong};

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The reporting organisation, for rows without a `source` column.
    pub source: PartyCode,
    /// Header overrides from `--map`.
    pub mapping: HashMap<String, Target>,
    /// Rows per store batch.
    pub batch_rows: usize,
    /// Validate everything, then roll back.
    pub dry_run: bool,
    /// Refuse rows whose `source` column names another party: a party
    /// officer imports as its own party only.
    pub only_own_source: bool,
}

impl ImportOptions {
    pub fn new(source: PartyCode) -> Self {
        Self { source, mapping: HashMap::new(), batch_rows: 2000, dry_run: false, only_own_source: false }
    }
}

/// Told how far the import has read; the command line draws a bar with it,
/// the server keeps it for the job's page. Called after each batch is written.
pub trait Progress: Send + Sync {
    fn start(&self, _total_bytes: u64) {}
    fn advance(&self, _bytes_read: u64) {}
    /// Data rows read so far (the header is not counted).
    fn rows(&self, _rows_read: u64) {}
    fn finish(&self) {}
}

/// No progress display.
#[derive(Debug)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// A problem that stopped reading the file (no header, an absurd line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    pub line: u64,
    pub reason: String,
}

/// What an import did. Nothing was written unless `committed`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Data rows read (the header is line 1 and not counted).
    pub rows: u64,
    pub counts: ImportCounts,
    /// Every rejected row, in file order.
    pub rejections: Vec<RowRejection>,
    /// Set when the file could not be read to the end.
    pub fatal: Option<FileProblem>,
    pub committed: bool,
}

/// Failures that are not about the file's content.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot open: {reason}")]
    Open { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Message {
    Batch { rows: Vec<ImportRow>, rejections: Vec<RowRejection>, bytes_read: u64, read: u64 },
    Fatal(FileProblem),
}

/// Imports a CSV file of persons into `store`.
pub async fn import_persons_csv(
    store: &dyn Store,
    path: &Path,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let file = std::fs::File::open(path)
        .map_err(|e| ImportError::Open { path: path.display().to_string(), reason: e.kind().to_string() })?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    import_persons_from(store, file, total, options, progress).await
}

/// Imports CSV from any reader (a file, a request body) of `total` bytes.
pub async fn import_persons_from<R: std::io::Read + Send + 'static>(
    store: &dyn Store,
    input: R,
    total: u64,
    options: &ImportOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    progress.start(total);

    // Parse on a thread of its own; two batches in flight keep both cores busy.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(2);
    let opts = options.clone();
    let parser = std::thread::Builder::new()
        .name("import-parse".into())
        .spawn(move || parse_file(input, &opts, &tx))
        .map_err(|e| ImportError::Open { path: "(input)".to_owned(), reason: e.to_string() })?;

    let mut import = store.begin_import().await?;
    let mut report = ImportReport {
        rows: 0,
        counts: ImportCounts::default(),
        rejections: Vec::new(),
        fatal: None,
        committed: false,
    };
    while let Some(msg) = rx.recv().await {
        match msg {
            Message::Batch { rows, mut rejections, bytes_read, read } => {
                report.rows = read;
                let mut from_store = import.write_batch(rows).await?;
                rejections.append(&mut from_store);
                rejections.sort_by_key(|r| r.line);
                report.rejections.extend(rejections);
                progress.rows(read);
                progress.advance(bytes_read);
            }
            Message::Fatal(problem) => report.fatal = Some(problem),
        }
    }
    let _ = parser.join();
    let commit = !options.dry_run && report.rejections.is_empty() && report.fatal.is_none();
    report.counts = import.finish(commit).await?;
    report.committed = commit;
    progress.finish();
    Ok(report)
}

/// Reads, validates and batches the file; runs on the parser thread.
fn parse_file(file: impl std::io::Read, options: &ImportOptions, tx: &tokio::sync::mpsc::Sender<Message>) {
    let counters = Arc::new(Counters::default());
    let limited = LimitedReader::new(std::io::BufReader::with_capacity(1 << 16, file), counters.clone());
    let mut csv =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(1 << 16).from_reader(limited);
    let fatal = |line: u64, reason: String| {
        let _ = tx.blocking_send(Message::Fatal(FileProblem { line, reason }));
    };

    let mut header = csv::ByteRecord::new();
    match csv.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => {
            return fatal(
                1,
                format!("the file is empty: expected a header line with the columns {}", columns::REQUIRED.join(", ")),
            );
        }
        Err(e) => {
            let (line, reason) = read_error(&e);
            return fatal(line.max(1), reason);
        }
    }
    let headers: Result<Vec<String>, usize> =
        header.iter().enumerate().map(|(i, h)| std::str::from_utf8(h).map(str::to_owned).map_err(|_| i + 1)).collect();
    let headers = match headers {
        Ok(h) => h,
        Err(col) => {
            return fatal(1, format!("header column {col} is not valid UTF-8: save the file as UTF-8 (CSV UTF-8)"));
        }
    };
    if headers.iter().all(|h| h.trim().is_empty()) {
        return fatal(1, format!("the header line is empty: expected the columns {}", columns::REQUIRED.join(", ")));
    }
    let targets = match columns::resolve(&headers, &options.mapping) {
        Ok(t) => t,
        Err(reason) => return fatal(1, reason),
    };
    counters.since_record.store(0, Ordering::Relaxed);

    let mut record = csv::ByteRecord::new();
    let mut rows = Vec::with_capacity(options.batch_rows);
    let mut rejections = Vec::new();
    let mut read = 0u64;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let (line, reason) = read_error(&e);
                fatal(line, reason);
                break;
            }
        }
        counters.since_record.store(0, Ordering::Relaxed);
        let line = record.position().map_or(0, |p| p.line());
        // A blank line in the middle of a file is not a person.
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        read += 1;
        match parse_row(&record, line, &targets, options) {
            Ok(row) => rows.push(row),
            Err(mut errs) => rejections.append(&mut errs),
        }
        if rows.len() + rejections.len() >= options.batch_rows {
            let msg = Message::Batch {
                rows: std::mem::replace(&mut rows, Vec::with_capacity(options.batch_rows)),
                rejections: std::mem::take(&mut rejections),
                bytes_read: counters.total.load(Ordering::Relaxed),
                read,
            };
            if tx.blocking_send(msg).is_err() {
                return;
            }
        }
    }
    let _ =
        tx.blocking_send(Message::Batch { rows, rejections, bytes_read: counters.total.load(Ordering::Relaxed), read });
}

/// The line and the reason reading stopped.
fn read_error(e: &csv::Error) -> (u64, String) {
    let line = e.position().map_or(0, |p| p.line());
    if let csv::ErrorKind::Io(io) = e.kind() {
        if let Some(too_long) = io.get_ref().and_then(|inner| inner.downcast_ref::<TooLong>()) {
            let line = match too_long {
                TooLong::Line(l) | TooLong::Record(l) => *l,
            };
            return (line, too_long.to_string());
        }
        return (line, format!("cannot read the file: {}", io.kind()));
    }
    (line, "the file is not valid CSV here".to_owned())
}

/// Validates one row; reports every problem of the row.
fn parse_row(
    record: &csv::ByteRecord,
    line: u64,
    targets: &[Target],
    options: &ImportOptions,
) -> Result<ImportRow, Vec<RowRejection>> {
    let reject = |field: &str, reason: String| RowRejection { line, field: field.to_owned(), reason };
    if record.len() != targets.len() {
        return Err(vec![reject(
            "(row)",
            format!(
                "has {} fields; the header has {} (a missing or extra separator, or an unquoted comma)",
                record.len(),
                targets.len()
            ),
        )]);
    }
    let mut errors = Vec::new();
    // Fields already reported as not UTF-8 are not reported again as empty.
    let mut unreadable: Vec<&'static str> = Vec::new();
    let mut raw = RawIdentity::default();
    let (mut record_id, mut status, mut status_date, mut status_place, mut source) = (None, None, None, None, None);
    for (value, target) in record.iter().zip(targets) {
        let Target::Column(column) = *target else {
            continue;
        };
        let value = match std::str::from_utf8(value) {
            Ok(v) => v,
            Err(_) => {
                errors.push(reject(column, "not valid UTF-8: save the file as UTF-8 (CSV UTF-8)".into()));
                unreadable.push(column);
                continue;
            }
        };
        if value.trim().is_empty() {
            continue;
        }
        let v = Some(value.to_owned());
        match column {
            "record_id" => record_id = Some(value),
            "family_name" => raw.family_name = v,
            "given_names" => raw.given_names = v,
            "patronymic" => raw.patronymic = v,
            "mother_maiden_name" => raw.mother_maiden_name = v,
            "birth_date" => raw.birth_date = v,
            "place_of_birth" => raw.place_of_birth = v,
            "rank" => raw.rank = v,
            "service_number" => raw.service_number = v,
            "unit" => raw.unit = v,
            "power" => raw.power = v,
            "category" => raw.category = v,
            "person_to_inform" => raw.person_to_inform = v,
            "correspondence_address" => raw.correspondence_address = v,
            "status" => status = Some(value),
            "status_date" => status_date = Some(value),
            "status_place" => status_place = Some(value),
            "source" => source = Some(value),
            _ => unreachable!("columns::COLUMNS lists every column"),
        }
    }
    let source = match source.map(PartyCode::parse).transpose() {
        Ok(Some(s)) if options.only_own_source && s != options.source => {
            errors.push(reject("source", format!("must be {}: you import as your own party only", options.source)));
            options.source.clone()
        }
        Ok(s) => s.unwrap_or_else(|| options.source.clone()),
        Err(e) => {
            errors.push(reject("source", e.to_string()));
            options.source.clone()
        }
    };
    let source_ref =
        SourceRef::parse(source, record_id.unwrap_or("")).map_err(|e| errors.push(reject(&e.field, e.reason))).ok();
    let identity = raw
        .parse()
        .map_err(|errs| {
            errors.extend(
                errs.into_iter()
                    .filter(|e| !unreadable.contains(&e.field.as_str()))
                    .map(|e| reject(&e.field, e.reason)),
            )
        })
        .ok()
        .filter(|i: &homeward_domain::PersonIdentity| {
            // A birth in the future, as in every other door (Registry::register).
            i.check_dates(OffsetDateTime::now_utc().date()).map_err(|e| errors.push(reject(&e.field, e.reason))).is_ok()
        });
    let event = parse_status(status, status_date, status_place).map_err(|e| errors.push(reject(e.0, e.1))).ok();
    match (source_ref, identity, event) {
        (Some(source), Some(identity), Some(status)) if errors.is_empty() => {
            Ok(ImportRow::new(line, source, identity, status))
        }
        _ => {
            // Field order, as the columns are documented, reads best.
            errors.sort_by_key(|e| columns::COLUMNS.iter().position(|c| *c == e.field).unwrap_or(usize::MAX));
            Err(errors)
        }
    }
}

fn parse_status(
    status: Option<&str>,
    date: Option<&str>,
    place: Option<&str>,
) -> Result<Option<StatusEvent>, (&'static str, String)> {
    let Some(status) = status else {
        if date.is_some() || place.is_some() {
            return Err(("status", "empty, but status_date or status_place is given".into()));
        }
        return Ok(None);
    };
    let status: Status =
        status.parse().map_err(|e: homeward_domain::status::UnknownStatus| ("status", e.to_string()))?;
    let occurred_on = date.map(PartialDate::parse).transpose().map_err(|e| ("status_date", e.to_string()))?;
    homeward_domain::date::check_not_future("status_date", occurred_on, OffsetDateTime::now_utc().date())
        .map_err(|e| ("status_date", e.reason))?;
    // The free-text rule every input shares (`homeward_domain::text`).
    let mut errors = Vec::new();
    let place = homeward_domain::text::free_text("status_place", place, 500, &mut errors);
    if let Some(e) = errors.pop() {
        return Err(("status_place", e.reason));
    }
    Ok(Some(StatusEvent { status, occurred_on, place, details: None }))
}
