//! Reads (and, for tests and benchmarks, writes) match records in the
//! person-import CSV layout
//! (`record_id,family_name,given_names,patronymic,mother_maiden_name,
//! birth_date,place_of_birth,rank,service_number,unit,…`). Columns are
//! found by header name, in any order; columns the matcher does not use
//! (power, category, status, …) are ignored. Header aliases in other
//! languages are the import's business (crates/service), not this one's.

use std::io::{Read, Write};

use rayon::prelude::*;

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

/// Positions in [`COLUMNS`] of the columns read by name.
const RECORD_ID: usize = 0;
const FAMILY_NAME: usize = 1;
const GIVEN_NAMES: usize = 2;
const PATRONYMIC: usize = 3;
const MOTHER_MAIDEN_NAME: usize = 4;
const BIRTH_DATE: usize = 5;
const PLACE_OF_BIRTH: usize = 6;
const RANK: usize = 7;
const SERVICE_NUMBER: usize = 8;
const UNIT: usize = 9;

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
/// The file is read whole, then cut into runs of records, several per
/// core, parsed on every core (a registry of 500,000 records took a
/// second on one core). A file with no quote character is cut
/// after line breaks; otherwise the cuts are found by a first, sequential
/// pass of the CSV parser, so a quoted field with a line break or a comma
/// is never cut. The result and the error reported are those of reading
/// from the start.
///
/// Records come as `T`: `MatchRecord`, or `Box<MatchRecord>` for a batch
/// (`link_owned`), which keeps each record in the box it was read into
/// instead of copying it into one of its own (a quarter of a kilobyte of
/// fresh memory per record).
///
/// # Errors
/// The first problem met, with its line and field.
pub fn read_records<T: From<MatchRecord> + Send, R: Read>(mut reader: R) -> Result<Vec<T>, CsvError> {
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        return Err(CsvError::Malformed { line, message: e.to_string() });
    }
    // Several runs per core, taken in turn: a core that falls behind (a
    // busy machine) does not hold up the rest.
    let runs = (bytes.len() / MIN_PARALLEL_BYTES).clamp(1, 8 * rayon::current_num_threads());
    read_records_from(&bytes, runs)
}

/// Bytes per run at least: files below this size are parsed on one thread.
const MIN_PARALLEL_BYTES: usize = 1 << 20;

/// A run of records: where it starts and ends in the file.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
}

/// The line (1-based) of the record that starts at byte `at`. Counted
/// here, not taken from the CSV parser, whose count is one short on every
/// line after a CRLF line end (the LF is read as the start of the next
/// record); only an error needs it.
fn line_at(bytes: &[u8], at: usize) -> u64 {
    let at = at.min(bytes.len());
    let ends = bytes.get(at..).map_or(0, |b| b.iter().take_while(|&&c| c == b'\r' || c == b'\n').count());
    1 + bytes.get(..at + ends).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64)
}

/// A parser error, at its record's line.
fn malformed(bytes: &[u8], offset: usize, e: &csv::Error) -> CsvError {
    let line = e.position().map_or(0, |p| line_at(bytes, offset + usize::try_from(p.byte()).unwrap_or(0)));
    CsvError::Malformed { line, message: e.to_string() }
}

fn read_records_from<T: From<MatchRecord> + Send>(bytes: &[u8], threads: usize) -> Result<Vec<T>, CsvError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = csv.headers().map_err(|e| malformed(bytes, 0, &e))?.clone();
    let position =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').trim().eq_ignore_ascii_case(name));
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| position(c)).collect();
    for required in ["record_id", "family_name"] {
        let i = COLUMNS.iter().position(|c| *c == required).unwrap_or(RECORD_ID);
        if cols.get(i).copied().flatten().is_none() {
            return Err(CsvError::MissingColumn { column: required });
        }
    }
    let body = usize::try_from(csv.position().byte()).unwrap_or(bytes.len()).min(bytes.len());
    let runs = if bytes.get(body..).is_some_and(|b| !b.contains(&b'"')) {
        cut_at_lines(bytes, body, threads)
    } else {
        cut(&mut csv, body, bytes.len(), threads)
    };
    let layout = Layout { cols: &cols, width: headers.len() };
    // The records are parsed straight into their places in one list
    // (gathering each run's list into one afterwards was a tenth of a
    // second of one core at 500,000 records, and as much memory again):
    // each run gets room for one record per line end in it, a bound no
    // run can pass; runs with fewer records (quoted line breaks, blank
    // lines) leave gaps that are closed afterwards.
    let room: Vec<usize> =
        runs.par_iter().map(|run| record_room(bytes.get(run.start..run.end).unwrap_or(&[]))).collect();
    let mut out: Vec<Option<T>> = Vec::new();
    out.par_extend((0..room.iter().sum()).into_par_iter().map(|_| None));
    let mut places = Vec::with_capacity(runs.len());
    let mut rest = out.as_mut_slice();
    for &n in &room {
        let (place, after) = rest.split_at_mut(n.min(rest.len()));
        places.push(place);
        rest = after;
    }
    let parse = |(run, place): (&Run, &mut [Option<T>])| parse_run(bytes, *run, &layout, place);
    let parsed: Vec<Result<usize, CsvError>> = if runs.len() == 1 {
        runs.iter().zip(places).map(parse).collect()
    } else {
        runs.par_iter().zip(places).map(parse).collect()
    };
    // The first run's error is the first in the file: each run stops at
    // its own first.
    let counts = parsed.into_iter().collect::<Result<Vec<usize>, CsvError>>()?;
    close_gaps(&mut out, &room, &counts);
    // In place (an option of a record or of a box is the size of either):
    // the standard library reuses the list for `filter_map`, not for
    // `flatten`, which would copy every record into a new one.
    #[expect(clippy::filter_map_identity, reason = "collected in place, unlike flatten")]
    let records = out.into_iter().filter_map(|r| r).collect();
    Ok(records)
}

/// Room for the records of a run of CSV: one per line end (the parser
/// ends a record at `\n`, `\r\n` or a lone `\r`), and one for a last
/// record without a line end.
fn record_room(text: &[u8]) -> usize {
    let newlines = text.iter().filter(|&&b| b == b'\n').count();
    let lone_returns = if text.contains(&b'\r') {
        text.iter().enumerate().filter(|&(i, &b)| b == b'\r' && text.get(i + 1) != Some(&b'\n')).count()
    } else {
        0
    };
    let unended = usize::from(text.last().is_some_and(|&b| b != b'\n' && b != b'\r'));
    newlines + lone_returns + unended
}

/// Moves each run's `counts` records down to follow the previous run's,
/// over the room (`room`) it did not use, and drops what is left over.
fn close_gaps<T>(out: &mut Vec<T>, room: &[usize], counts: &[usize]) {
    let (mut to, mut from) = (0, 0);
    for (&n, &k) in room.iter().zip(counts) {
        if to != from {
            for i in 0..k {
                out.swap(to + i, from + i);
            }
        }
        to += k;
        from += n;
    }
    out.truncate(to);
}

/// Cuts the body (from byte `body`) into `threads` runs of about equal
/// size at record starts, by parsing it once. A parse error ends the
/// cutting: the run it falls in reports it.
fn cut(csv: &mut csv::Reader<&[u8]>, body: usize, len: usize, threads: usize) -> Vec<Run> {
    let mut runs = vec![Run { start: body, end: len }];
    if threads <= 1 {
        return runs;
    }
    let step = (len - body) / threads;
    let mut next = body + step;
    let mut record = csv::ByteRecord::new();
    while runs.len() < threads {
        let at = usize::try_from(csv.position().byte()).unwrap_or(len);
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        if at >= next {
            if let Some(last) = runs.last_mut() {
                last.end = at;
            }
            runs.push(Run { start: at, end: len });
            next = at + step;
        }
    }
    runs
}

/// [`cut`] for a body with no quote character, where every line break
/// ends a record: runs cut after the line break that follows each share,
/// with no parsing (a second at 500,000 records was a tenth of it).
fn cut_at_lines(bytes: &[u8], body: usize, threads: usize) -> Vec<Run> {
    let len = bytes.len();
    let mut runs = vec![Run { start: body, end: len }];
    let step = (len - body) / threads.max(1);
    let mut from = body;
    for k in 1..threads {
        let target = body + k * step;
        let Some(at) = bytes.get(target.max(from)..).and_then(|b| b.iter().position(|&c| c == b'\n')) else {
            break;
        };
        let start = target.max(from) + at + 1;
        if start >= len {
            break;
        }
        if let Some(last) = runs.last_mut() {
            last.end = start;
        }
        runs.push(Run { start, end: len });
        from = start;
    }
    runs
}

/// Where the matcher's columns are, and how many columns a row has.
struct Layout<'a> {
    cols: &'a [Option<usize>],
    width: usize,
}

/// Parses one run of records into `place`, which has room for all of
/// them ([`record_room`]), and says how many there were.
fn parse_run<T: From<MatchRecord>>(
    bytes: &[u8],
    run: Run,
    layout: &Layout<'_>,
    place: &mut [Option<T>],
) -> Result<usize, CsvError> {
    let text = bytes.get(run.start..run.end).unwrap_or(&[]);
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut row = csv::ByteRecord::new();
    let mut count = 0;
    loop {
        match csv.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            // Reading bytes from memory, the parser has no error to
            // give; kept for its contract.
            Err(e) => return Err(malformed(bytes, run.start, &e)),
        }
        let at = run.start + row.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
        if row.len() != layout.width {
            let message = format!("found a record with {} fields, but the header has {}", row.len(), layout.width);
            return Err(CsvError::Malformed { line: line_at(bytes, at), message });
        }
        let record = to_record(&row, layout.cols).map_err(|(field, message)| CsvError::Field {
            line: line_at(bytes, at),
            field,
            message,
        })?;
        let Some(slot) = place.get_mut(count) else {
            // Cannot happen: every record but a run's last ends at a line
            // end, and the room counts one for that last.
            let message = "more records than line ends".to_owned();
            return Err(CsvError::Malformed { line: line_at(bytes, at), message });
        };
        *slot = Some(T::from(record));
        count += 1;
    }
    Ok(count)
}

/// A wrong field of a row, and what is wrong with it.
type FieldError = (&'static str, &'static str);

/// One row as a match record, or the field that is wrong and why (the
/// caller knows the line). Only the columns the matcher reads are decoded
/// (and must be UTF-8).
fn to_record(row: &csv::ByteRecord, cols: &[Option<usize>]) -> Result<MatchRecord, FieldError> {
    let field = |column: usize| COLUMNS.get(column).copied().unwrap_or("?");
    let text = |column: usize| -> Result<Option<&str>, FieldError> {
        let Some(at) = cols.get(column).copied().flatten() else {
            return Ok(None);
        };
        let v = std::str::from_utf8(row.get(at).unwrap_or_default())
            .map_err(|_| (field(column), "not valid UTF-8"))?
            .trim();
        Ok((!v.is_empty()).then_some(v))
    };
    let get = |column: usize| -> Result<Option<String>, FieldError> { Ok(text(column)?.map(str::to_owned)) };
    let id = get(RECORD_ID)?.ok_or((field(RECORD_ID), "empty"))?;
    let family_name = get(FAMILY_NAME)?.unwrap_or_default();
    let given_names = get(GIVEN_NAMES)?.unwrap_or_default();
    if family_name.is_empty() && given_names.is_empty() {
        return Err((field(FAMILY_NAME), "no family name and no given name"));
    }
    let birth_date =
        text(BIRTH_DATE)?.map(BirthDate::parse).transpose().map_err(|message| (field(BIRTH_DATE), message))?;
    Ok(MatchRecord {
        id,
        family_name,
        given_names,
        patronymic: get(PATRONYMIC)?,
        mother_maiden_name: get(MOTHER_MAIDEN_NAME)?,
        birth_date,
        place_of_birth: get(PLACE_OF_BIRTH)?,
        rank: get(RANK)?,
        service_number: get(SERVICE_NUMBER)?,
        unit: get(UNIT)?,
    })
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

    // The tests read plain records; `boxes_hold_what_records_do` checks
    // that boxes hold the same.
    fn read_records(reader: impl Read) -> Result<Vec<MatchRecord>, CsvError> {
        super::read_records(reader)
    }

    fn read_records_from(bytes: &[u8], threads: usize) -> Result<Vec<MatchRecord>, CsvError> {
        super::read_records_from(bytes, threads)
    }

    #[test]
    fn boxes_hold_what_records_do() {
        let file = quoted_file(20_000);
        for runs in [1, 3] {
            let records = read_records_from(file.as_bytes(), runs).expect("valid");
            let boxes: Vec<Box<MatchRecord>> = super::read_records_from(file.as_bytes(), runs).expect("valid");
            assert_eq!(boxes.len(), 20_000);
            assert!(boxes.iter().map(|b| &**b).eq(records.iter()), "{runs} runs");
        }
    }

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

    /// A file of `n` records whose places are quoted and hold commas and
    /// line breaks, so that a cut at a line break would split a record.
    fn quoted_file(n: usize) -> String {
        let mut s = String::from("record_id,family_name,given_names,birth_date,place_of_birth,unit\n");
        for i in 0..n {
            s.push_str(&format!(
                "q{i},Коваленко{i},\"Олександр\",1990-03-{:02},\"Київ,\nвул. \"\"Шевченка\"\"\r\n{i}\",в/ч А{i}\n",
                i % 28 + 1
            ));
        }
        s
    }

    #[test]
    fn runs_read_what_one_pass_reads() {
        let file = quoted_file(20_000);
        let one = read_records_from(file.as_bytes(), 1).expect("valid");
        assert_eq!(one.len(), 20_000);
        assert_eq!(one[7].place_of_birth.as_deref(), Some("Київ,\nвул. \"Шевченка\"\r\n7"));
        for threads in [2, 3, 7] {
            assert_eq!(read_records_from(file.as_bytes(), threads).expect("valid"), one, "{threads} runs");
        }
        assert_eq!(read_records(file.as_bytes()).expect("valid"), one);
    }

    #[test]
    fn unquoted_files_are_cut_at_line_breaks() {
        let mut file = String::from("record_id,family_name,given_names,birth_date\r\n");
        for i in 0..50_000 {
            file.push_str(&format!("q{i},Коваленко{i},Олександр,1990-03-{:02}\r\n", i % 28 + 1));
        }
        let one = read_records_from(file.as_bytes(), 1).expect("valid");
        assert_eq!(one.len(), 50_000);
        for threads in [2, 3, 8] {
            assert_eq!(read_records_from(file.as_bytes(), threads).expect("valid"), one, "{threads} runs");
        }
        let bad = file.find("q40000,").expect("record");
        file.replace_range(bad..bad + 7, "q40000,X,Y,31/12/1990\nq40000b,");
        for threads in [1, 2, 3] {
            let err = read_records_from(file.as_bytes(), threads).expect_err("bad date");
            assert!(err.to_string().starts_with("line 40002, field birth_date"), "{threads} runs: {err}");
        }
        // CRLF line ends count one line each (the CSV parser's own count
        // falls one short after the first).
        let crlf = "record_id,family_name,birth_date\r\na,X,1990\r\n\r\nb,Y,1991\r\nc,Z,31/12/1990\r\n";
        assert_eq!(read_records(crlf.as_bytes()).expect_err("bad date").to_string().split(',').next(), Some("line 5"));
    }

    /// Records are parsed into room counted from line ends: lone CR line
    /// ends, blank lines and a last line without an end all read as in
    /// one pass, in any number of runs.
    #[test]
    fn every_line_end_reads_as_one_pass_does() {
        let mut file = String::from("record_id,family_name,given_names,birth_date\r");
        for i in 0..30_000 {
            let end = ["\n", "\r", "\r\n", "\n\n", "\r\n\r\n"][i % 5];
            file.push_str(&format!("q{i},\"Коваленко\r{i}\",Олександр,1990-03-{:02}{end}", i % 28 + 1));
        }
        file.push_str("last,Шевченко,Тарас,1814");
        let one = read_records_from(file.as_bytes(), 1).expect("valid");
        assert_eq!(one.len(), 30_001);
        assert_eq!(one[3].family_name, "Коваленко\r3");
        assert_eq!(one.last().map(|r| r.id.as_str()), Some("last"));
        for threads in [2, 3, 8] {
            assert_eq!(read_records_from(file.as_bytes(), threads).expect("valid"), one, "{threads} runs");
        }
        assert_eq!(record_room(b"a\nb\r\nc\rd"), 4);
        assert_eq!(record_room(b"a\r\n\r\n"), 2);
        assert_eq!(record_room(b""), 0);
    }

    #[test]
    fn runs_report_the_first_error_at_its_line() {
        // Each record takes three lines; record k (0-based) starts on line
        // 2 + 3k.
        let mut file = quoted_file(20_000);
        let bad = file.find("q15000,").expect("record");
        file.replace_range(bad..bad + 7, "q15000,X,Y,31/12/1990,,\nq15000b,");
        let at_15000 = 2 + 3 * 15_000;
        for threads in [1, 2, 5] {
            let err = read_records_from(file.as_bytes(), threads).expect_err("bad date");
            assert_eq!(
                err.to_string(),
                format!("line {at_15000}, field birth_date: expected YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY or MM.YYYY"),
                "{threads} runs"
            );
        }
        let mut short = quoted_file(20_000);
        let at = short.find("q19000,").expect("record");
        short.insert_str(at, "q0,X\n");
        let err = read_records_from(short.as_bytes(), 4).expect_err("short row");
        assert_eq!(
            err.to_string(),
            format!("line {}: found a record with 2 fields, but the header has 6", 2 + 3 * 19_000)
        );
        let mut latin1 = quoted_file(20_000).into_bytes();
        let at = latin1.windows(7).position(|w| w == b"q12345,").expect("record") + 7;
        latin1[at] = 0xff;
        let err = read_records_from(&latin1, 2).expect_err("not UTF-8");
        assert_eq!(err.to_string(), format!("line {}, field family_name: not valid UTF-8", 2 + 3 * 12_345));
    }

    /// Only the columns the matcher reads must be UTF-8: Latin-1 bytes in
    /// another column (an export's free notes) leave the record whole,
    /// next to records in plain ASCII and in Cyrillic; in a column it reads
    /// they are an error naming that column.
    #[test]
    fn only_the_columns_read_must_be_utf8() {
        let mut file = b"record_id,family_name,notes,given_names\n".to_vec();
        file.extend_from_slice(b"a1,Kovalenko,ok,Oleksandr\n");
        file.extend_from_slice(b"a2,Petrenko,caf\xe9,Ivan\n");
        file.extend_from_slice("a3,Бондар,прим.,Юрій\n".as_bytes());
        let records = read_records(&file[..]).expect("the notes are not read");
        let names: Vec<(&str, &str)> = records.iter().map(|r| (r.id.as_str(), r.family_name.as_str())).collect();
        assert_eq!(names, [("a1", "Kovalenko"), ("a2", "Petrenko"), ("a3", "Бондар")]);
        assert_eq!(records[2].given_names, "Юрій");
        file.extend_from_slice(b"a4,Caf\xe9,,Ivan\n");
        let err = read_records(&file[..]).expect_err("a family name in Latin-1");
        assert_eq!(err.to_string(), "line 5, field family_name: not valid UTF-8");
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
