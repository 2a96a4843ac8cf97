//! `homeward-bench`: measures the shared log against plain inserts of the
//! same rows, in the same run (see `bench/log.sh`, which runs everything).
//!
//! - `appends`: durable appends per second on SQLite (or PostgreSQL with
//!   `--postgres URL`): one change per transaction through
//!   `Store::add_status_event`, and batches through the import path, each
//!   against plain inserts of equivalent rows in a plain table with the same
//!   settings; then the sequencer's throughput.
//! - `build-log`: a log of N leaves in a fresh SQLite file, fast: synthetic
//!   entries inserted straight into `log_entry`, then integrated by the real
//!   sequencer (`LogStore::sequence`), which computes every hash.
//! - `proofs`: inclusion and consistency proofs through
//!   `homeward_service::log`, each verified, with p50/p99.
//!
//! The machine is shared and noisy: each measured path runs beside its
//! baseline in every round, and the summary quotes the median ratio and its
//! spread over rounds.

mod appends;
mod data;
mod plain;
mod proofs;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "homeward-bench", about = "Benchmarks of homeward's shared log")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Durable appends: single changes and import batches against plain inserts, then sequencing.
    Appends(appends::Args),
    /// Builds a log of N leaves in a fresh SQLite file (synthetic entries, real sequencer).
    BuildLog(proofs::BuildArgs),
    /// Times inclusion and consistency proofs over an existing SQLite database.
    Proofs(proofs::ProofArgs),
    /// CPU cost of the log's per-row work alone (record content, RFC 8785, salt, SHA-256), no database.
    CommitCost {
        #[arg(long, default_value_t = 102_400)]
        rows: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        match cli.command {
            Command::Appends(a) => appends::run(a).await,
            Command::BuildLog(a) => proofs::build(a).await,
            Command::Proofs(a) => proofs::run(a).await,
            Command::CommitCost { rows } => commit_cost(rows),
        }
    })
}

/// What the import does for the log per new person, minus the database:
/// the two records' contents, their canonical JSON, two salts, two SHA-256.
fn commit_cost(rows: usize) -> anyhow::Result<()> {
    use homeward_store::log::{commit, identity_content, status_content};
    let data = data::Workload::new(20_260_619).import_rows(rows);
    let ids: Vec<(homeward_domain::PersonId, String)> =
        data.iter().map(|_| (homeward_domain::PersonId::new(), homeward_domain::PersonId::new().to_string())).collect();
    for round in 0..3 {
        let t = std::time::Instant::now();
        let mut x = 0u8;
        for (row, (person, version_id)) in data.iter().zip(&ids) {
            let e = row.status.as_ref().expect("a first status");
            let (_, c1) = commit(&identity_content(version_id, *person, &row.source, 1, row.identity()));
            let (_, c2) = commit(&status_content(*person, 1, e, row.source.source.as_str()));
            x ^= c1[0] ^ c2[0];
        }
        let d = t.elapsed();
        println!(
            "commit cost round {round}: {rows} rows, {} entries in {:.3} s: {:.2} us per entry ({:.0} entries/s on one core) [{x}]",
            2 * rows,
            d.as_secs_f64(),
            d.as_secs_f64() * 1e6 / (2 * rows) as f64,
            (2 * rows) as f64 / d.as_secs_f64()
        );
    }
    Ok(())
}

/// A small deterministic generator (splitmix64): random leaves and sizes,
/// synthetic salts and commitments.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (hi > lo); the modulo bias is irrelevant here.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo)
    }

    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

/// The `p`th percentile (0-100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The median of a few figures, and their range.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

/// Removes a SQLite file with its WAL and shared-memory files.
pub fn remove_db(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}
