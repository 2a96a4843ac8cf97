//! Durable appends: homeward's write paths (each change with its log entry
//! in one transaction) against plain inserts of the same rows in the same
//! transactions, round after round, then the sequencer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use homeward_domain::{PartyCode, PersonId, StatusEvent};
use homeward_store::{ImportRow, Store};
use homeward_store_postgres::PgStore;
use homeward_store_sqlite::SqliteStore;

use crate::data::{self, PlainEntry, PlainEvent, PlainPerson, Workload};
use crate::plain::Baseline;
use crate::{median, min_max};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the SQLite files (a real disk, not tmpfs).
    #[arg(long, default_value = "/tmp/homeward-bench")]
    dir: PathBuf,
    /// Run on PostgreSQL instead (a fresh schema, dropped at the end).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Single changes per method per round.
    #[arg(long, default_value_t = 1000)]
    single: usize,
    /// Import batches per method per round.
    #[arg(long, default_value_t = 100)]
    batches: usize,
    /// Rows (new persons) per batch; each row appends two log entries.
    #[arg(long, default_value_t = 256)]
    batch_rows: usize,
    /// Rounds (each runs every method once, the order rotated).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Methods take turns in slices this long (single changes; batches get a
    /// tenth), so that all see the same disk and CPU weather.
    #[arg(long, default_value_t = 100)]
    slice: usize,
    /// Concurrent writers for the concurrent single-change figure.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Entries per sequencing transaction.
    #[arg(long, default_value_t = 4096)]
    sequence_batch: usize,
}

/// One measurement: `ops` transactions carrying `entries` log entries (or
/// the plain rows standing for them).
#[derive(Debug, Clone, Copy)]
struct Run {
    ops: usize,
    entries: usize,
    time: Duration,
}

impl Run {
    fn add(&self, other: &Run) -> Run {
        Run { ops: self.ops + other.ops, entries: self.entries + other.entries, time: self.time + other.time }
    }
    fn tx_per_s(&self) -> f64 {
        self.ops as f64 / self.time.as_secs_f64()
    }
    fn entries_per_s(&self) -> f64 {
        self.entries as f64 / self.time.as_secs_f64()
    }
}

const SINGLE: [&str; 5] =
    ["plain event", "plain event + entry", "schema event + entry", "homeward add_status_event", "homeward concurrent"];
const SINGLE_HW: usize = 3;
const BATCH: [&str; 5] =
    ["plain rows", "plain rows + entries", "schema rows", "schema rows + entries", "homeward import batch"];
const BATCH_HW: usize = 4;
/// Methods that write into a file with homeward's schema (SQLite only).
const SCHEMA_SINGLE: [usize; 1] = [2];
const SCHEMA_BATCH: [usize; 2] = [2, 3];

pub async fn run(a: Args) -> anyhow::Result<()> {
    #[expect(clippy::type_complexity, reason = "one tuple per backend, used once")]
    let (store, mut baseline, mut floor, backend, schema): (
        Arc<dyn Store>,
        Baseline,
        Option<Baseline>,
        String,
        Option<(String, String)>,
    ) = match &a.postgres {
        Some(url) => {
            let schema = format!("bench_log_{}", std::process::id());
            let pg = PgStore::connect_in_schema(url, Some(&schema)).await?;
            let baseline = Baseline::postgres(pg.pool().clone()).await?;
            (Arc::new(pg), baseline, None, "postgres".into(), Some((url.clone(), schema)))
        }
        None => {
            std::fs::create_dir_all(&a.dir)?;
            let hw = a.dir.join("homeward.db");
            crate::remove_db(&hw);
            let store = SqliteStore::open(&hw).await?;
            let baseline = Baseline::sqlite(&a.dir.join("plain.db"))?;
            let floor = Baseline::sqlite_schema(&a.dir.join("schema.db")).await?;
            (Arc::new(store), baseline, Some(floor), format!("sqlite in {}", a.dir.display()), None)
        }
    };
    let result = measure(&a, store.clone(), &mut baseline, floor.as_mut(), &backend).await;
    drop(baseline);
    drop(floor);
    drop(store);
    if let Some((url, schema)) = schema {
        PgStore::drop_schema(&url, &schema).await?;
    }
    result
}

async fn measure(
    a: &Args,
    store: Arc<dyn Store>,
    baseline: &mut Baseline,
    mut floor: Option<&mut Baseline>,
    backend: &str,
) -> anyhow::Result<()> {
    store.set_conflict(&homeward_demo::demo_setup()).await?;
    let mut work = Workload::new(20_260_619);

    // Persons the single changes go to: registered once, untimed.
    let mut targets: Vec<(PersonId, PartyCode, u32)> = Vec::new();
    for _ in 0..64 {
        let p = work.held_person();
        let by = p.source.source.clone();
        targets.push((store.add_person(p).await?, by, 1));
    }
    let mut expected_entries = 1 + 2 * targets.len();
    let mut next_plain_id = 1_000_000i64;

    println!("backend: {backend}; {} rounds", a.rounds);
    println!(
        "{:<5} {:<28} {:>8} {:>9} {:>9} {:>10} {:>12}",
        "round", "method", "tx", "entries", "secs", "tx/s", "entries/s"
    );
    let mut single: Vec<Vec<Run>> = vec![Vec::new(); SINGLE.len()];
    let mut batch: Vec<Vec<Run>> = vec![Vec::new(); BATCH.len()];
    for round in 0..a.rounds {
        // One change per transaction, the methods taking turns slice by slice.
        let mut acc: Vec<Option<Run>> = vec![None; SINGLE.len()];
        let n = a.slice.min(a.single).max(1);
        for (slice, k) in (0..a.single.div_ceil(n)).flat_map(|s| (0..SINGLE.len()).map(move |k| (s, k))) {
            let m = (k + round + slice) % SINGLE.len();
            if SCHEMA_SINGLE.contains(&m) && floor.is_none() {
                continue;
            }
            let events: Vec<StatusEvent> = (0..n).map(data::transfer).collect();
            let run = match m {
                0..SINGLE_HW => {
                    let rows = plain_events(&mut work, &mut targets, &events, &mut next_plain_id);
                    let into = match (m, floor.as_deref_mut()) {
                        (2, Some(f)) => f,
                        _ => &mut *baseline,
                    };
                    let t = Instant::now();
                    into.single(&rows, m >= 1).await?;
                    Run { ops: rows.len(), entries: rows.len(), time: t.elapsed() }
                }
                SINGLE_HW => {
                    let t = Instant::now();
                    for (i, e) in events.into_iter().enumerate() {
                        let (id, by, _) = &targets[i % targets.len()];
                        store.add_status_event(*id, e, by).await?;
                    }
                    Run { ops: n, entries: n, time: t.elapsed() }
                }
                _ => {
                    let t = Instant::now();
                    let per = n.div_ceil(a.writers);
                    let mut tasks = Vec::new();
                    for (w, chunk) in events.chunks(per).enumerate() {
                        let (store, chunk, targets) = (store.clone(), chunk.to_vec(), targets.clone());
                        tasks.push(tokio::spawn(async move {
                            for (i, e) in chunk.into_iter().enumerate() {
                                let (id, by, _) = &targets[(w + i * 7) % targets.len()];
                                store.add_status_event(*id, e, by).await?;
                            }
                            anyhow::Ok(())
                        }));
                    }
                    for t in tasks {
                        t.await??;
                    }
                    Run { ops: n, entries: n, time: t.elapsed() }
                }
            };
            if m >= SINGLE_HW {
                expected_entries += run.entries;
            }
            acc[m] = Some(acc[m].map_or(run, |r| r.add(&run)));
        }
        for (m, run) in acc.into_iter().enumerate() {
            if let Some(run) = run {
                print_run(round, SINGLE[m], &run);
                single[m].push(run);
            }
        }
        // Batches through the import path, taking turns likewise.
        let mut acc: Vec<Option<Run>> = vec![None; BATCH.len()];
        let nb = (a.slice / 10).clamp(1, a.batches.max(1));
        for (slice, k) in (0..a.batches.div_ceil(nb)).flat_map(|s| (0..BATCH.len()).map(move |k| (s, k))) {
            let m = (k + round + slice) % BATCH.len();
            if SCHEMA_BATCH.contains(&m) && floor.is_none() {
                continue;
            }
            let batches: Vec<Vec<ImportRow>> = (0..nb).map(|_| work.import_rows(a.batch_rows)).collect();
            let rows = nb * a.batch_rows;
            let run = if m < BATCH_HW {
                let plain: Vec<Vec<PlainPerson>> = batches
                    .iter()
                    .map(|b| {
                        b.iter()
                            .map(|r| {
                                // Entry ids next + 1 and next + 2: unique in homeward's schema too.
                                next_plain_id += 2;
                                data::plain_person(&mut work.rng, next_plain_id - 1, r)
                            })
                            .collect()
                    })
                    .collect();
                let into = match (m, floor.as_deref_mut()) {
                    (2 | 3, Some(f)) => f,
                    _ => &mut *baseline,
                };
                let t = Instant::now();
                for b in &plain {
                    into.batch(b, m == 1 || m == 3).await?;
                }
                Run { ops: nb, entries: 2 * rows, time: t.elapsed() }
            } else {
                let t = Instant::now();
                for b in batches {
                    let n = b.len();
                    let mut import = store.begin_import().await?;
                    let rejected = import.write_batch(b).await?;
                    ensure!(rejected.is_empty(), "the import rejected {} rows", rejected.len());
                    let counts = import.finish(true).await?;
                    ensure!(counts.created as usize == n, "created {} of {n}", counts.created);
                }
                expected_entries += 2 * rows;
                Run { ops: nb, entries: 2 * rows, time: t.elapsed() }
            };
            acc[m] = Some(acc[m].map_or(run, |r| r.add(&run)));
        }
        for (m, run) in acc.into_iter().enumerate() {
            if let Some(run) = run {
                print_run(round, BATCH[m], &run);
                batch[m].push(run);
            }
        }
    }

    // The sequencer over everything appended.
    let before = store.tree_head().await?;
    let mut calls = Vec::new();
    let t = Instant::now();
    let mut size = before.size;
    loop {
        let c = Instant::now();
        let head = store.sequence(a.sequence_batch).await?;
        if head.size == size {
            break;
        }
        calls.push(((head.size - size) as usize, c.elapsed()));
        size = head.size;
    }
    let seq_time = t.elapsed();
    ensure!(
        size as usize == expected_entries,
        "the tree has {size} leaves but {expected_entries} entries were appended"
    );
    let integrated = (size - before.size) as usize;

    println!();
    println!("Summary ({backend}; median of {} rounds, [min-max])", a.rounds);
    println!("{:<48} {:>22} {:>22} {:>20}", "method", "tx/s", "log entries/s", "homeward slower by");
    let fmt = |v: &[f64]| {
        let (lo, hi) = min_max(v);
        format!("{:.0} [{:.0}-{:.0}]", median(v), lo, hi)
    };
    let ratio = |base: &[Run], hw: &[Run]| {
        let r: Vec<f64> = base.iter().zip(hw).map(|(b, h)| h.time.as_secs_f64() / b.time.as_secs_f64()).collect();
        let (lo, hi) = min_max(&r);
        format!("{:.2}x [{:.2}-{:.2}]", median(&r), lo, hi)
    };
    for (m, name) in SINGLE.iter().enumerate() {
        if single[m].is_empty() {
            continue;
        }
        let label = format!("(a) 1/tx: {name}");
        let tx: Vec<f64> = single[m].iter().map(Run::tx_per_s).collect();
        let vs = if m < SINGLE_HW { ratio(&single[m], &single[SINGLE_HW]) } else { String::new() };
        let en = if m >= SINGLE_HW {
            fmt(&single[m].iter().map(Run::entries_per_s).collect::<Vec<_>>())
        } else {
            "-".into()
        };
        println!("{label:<48} {:>22} {en:>22} {vs:>20}", fmt(&tx));
    }
    for (m, name) in BATCH.iter().enumerate() {
        if batch[m].is_empty() {
            continue;
        }
        let label = format!("(b) {} rows/tx: {name}", a.batch_rows);
        let tx: Vec<f64> = batch[m].iter().map(Run::tx_per_s).collect();
        let en: Vec<f64> = batch[m].iter().map(Run::entries_per_s).collect();
        let vs = if m < BATCH_HW { ratio(&batch[m], &batch[BATCH_HW]) } else { String::new() };
        println!("{label:<48} {:>22} {:>22} {vs:>20}", fmt(&tx), fmt(&en));
    }
    let mut per_call: Vec<f64> = calls.iter().map(|(n, d)| *n as f64 / d.as_secs_f64()).collect();
    per_call.sort_by(f64::total_cmp);
    println!(
        "{:<48} {:>22} {:>22}",
        format!("(c) sequence({}) x{}", a.sequence_batch, calls.len()),
        format!("{:.1} calls/s", calls.len() as f64 / seq_time.as_secs_f64()),
        format!(
            "{:.0} [{:.0}-{:.0}]",
            integrated as f64 / seq_time.as_secs_f64(),
            per_call.first().copied().unwrap_or(0.0),
            per_call.last().copied().unwrap_or(0.0)
        ),
    );
    println!(
        "(\"homeward slower by\": homeward's time / that baseline's time for the same rows, per round; \
         baselines' entries/s count the entries homeward would have appended for the same rows; log size {size} leaves checked)"
    );
    Ok(())
}

fn print_run(round: usize, name: &str, r: &Run) {
    println!(
        "{:<5} {:<28} {:>8} {:>9} {:>9.3} {:>10.0} {:>12.0}",
        round,
        name,
        r.ops,
        r.entries,
        r.time.as_secs_f64(),
        r.tx_per_s(),
        r.entries_per_s()
    );
}

/// The plain twins of the events the homeward method appends.
fn plain_events(
    work: &mut Workload,
    targets: &mut [(PersonId, PartyCode, u32)],
    events: &[StatusEvent],
    next_id: &mut i64,
) -> Vec<(PlainEvent, PlainEntry)> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let k = i % targets.len();
            let (id, by, seq) = &mut targets[k];
            *seq += 1;
            *next_id += 1;
            data::plain_event(&mut work.rng, *next_id, *id, *seq, e, by)
        })
        .collect()
}
