//! `homeward match`: batch linkage of families' requests against a
//! registry list, file to file (no database).

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use homeward_matching::{CsvError, DEFAULT_THRESHOLD, LinkConfig, MatchRecord, Pair, link_owned, prof, read_records};
use rayon::prelude::*;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Requests from families: a CSV file with the person-import columns.
    requests: PathBuf,
    /// The registry (or any list to search in): a CSV file with the person-import columns.
    registry: PathBuf,
    /// Write the pairs to this CSV file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Report pairs with at least this match probability (0–1).
    #[arg(long, value_name = "P", default_value_t = DEFAULT_THRESHOLD, value_parser = probability)]
    threshold: f64,
}

/// Parses a probability argument.
pub fn probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| "expected a number between 0 and 1".to_owned())?;
    if (0.0..=1.0).contains(&p) { Ok(p) } else { Err("expected a number between 0 and 1".to_owned()) }
}

/// Reads a CSV in the person-import layout. Errors read `FILE:LINE: FIELD:
/// what is wrong` like the import's, and never carry a value.
pub fn read_list<T: From<MatchRecord> + Send>(path: &Path) -> anyhow::Result<Vec<T>> {
    let name = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {name}"))?;
    read_records(std::io::BufReader::with_capacity(1 << 20, file)).map_err(|e| match e {
        CsvError::Malformed { line, message } => anyhow::anyhow!("{name}:{line}: {message}"),
        CsvError::MissingColumn { column } => anyhow::anyhow!("{name}:1: {column}: missing column"),
        CsvError::Field { line, field, message } => anyhow::anyhow!("{name}:{line}: {field}: {message}"),
    })
}

/// Pairs a core puts into CSV at a time.
const ROWS_PER_PIECE: usize = 4096;

/// Pairs as CSV rows, in order.
fn csv_rows(pairs: &[Pair]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let (mut probability, mut explanation) = (String::new(), String::new());
    for p in pairs {
        probability.clear();
        explanation.clear();
        write!(probability, "{:.4}", p.probability)?;
        write!(explanation, "{}", p.explanation)?;
        w.write_record([p.left_id.as_str(), p.right_id.as_str(), &probability, &explanation])?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    // Both files at once, on two threads: reading a CSV is one core's work.
    let (requests, registry) = std::thread::scope(|scope| {
        let requests = scope.spawn(|| read_list(&args.requests));
        let registry = read_list(&args.registry);
        (requests.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), registry)
    });
    // Boxed: linking keeps each record in the box it was read into.
    let (requests, registry): (Vec<Box<MatchRecord>>, Vec<Box<MatchRecord>>) = (requests?, registry?);
    prof("read", start);
    eprintln!(
        "read {} requests from {} and {} registry records from {} in {:.1} s; linking",
        requests.len(),
        args.requests.display(),
        registry.len(),
        args.registry.display(),
        start.elapsed().as_secs_f64()
    );
    let config = LinkConfig { threshold: args.threshold, ..LinkConfig::default() };
    let request_count = requests.len();
    let linkage = link_owned(requests, registry, &config);
    prof("linked (from the start)", start);
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(sink);
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(["request_id", "registry_id", "probability", "explanation"])?;
    out.write_all(&header.into_inner().map_err(|e| e.into_error())?)?;
    // The rows are put in words and CSV on every core, a piece each (a
    // tenth of a second for 50,000 pairs on one), then written in order.
    let pieces: Vec<Vec<u8>> = linkage.pairs.par_chunks(ROWS_PER_PIECE).map(csv_rows).collect::<Result<_, _>>()?;
    prof("rows in CSV", start);
    for piece in &pieces {
        out.write_all(piece)?;
    }
    out.flush()?;
    prof("written", start);
    let mut with_candidate = 0;
    let mut last = None;
    for p in &linkage.pairs {
        if last != Some(p.left) {
            with_candidate += 1;
            last = Some(p.left);
        }
    }
    eprintln!(
        "{} pairs at probability >= {}: {} of {} requests have a candidate; {:.1} s in all{}",
        linkage.pairs.len(),
        args.threshold,
        with_candidate,
        request_count,
        start.elapsed().as_secs_f64(),
        args.out.as_ref().map(|p| format!("; written to {}", p.display())).unwrap_or_default()
    );
    eprintln!("every pair is a candidate for a person to confirm, not a confirmed identification");
    Ok(ExitCode::SUCCESS)
}
