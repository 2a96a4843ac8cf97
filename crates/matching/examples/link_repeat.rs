//! Runs one batch linkage several times in one process and prints each
//! run's wall and CPU time and the fastest: on a shared, noisy machine the
//! minimum of several runs of the same work is the figure to compare
//! between two versions of the code (reading the files is left out).
//!
//! `cargo run -p homeward-matching --release --example link_repeat -- REQUESTS.csv REGISTRY.csv [RUNS]`

use std::time::Instant;

use homeward_matching::{LinkConfig, link_owned, read_records};

// As in `homeward match` (crates/cli).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of the process so far, in seconds, from /proc (Linux); 0
/// elsewhere.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // utime and stime are the 14th and 15th fields, after the ")" that
    // ends the command name.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(requests), Some(registry)) = (args.first(), args.get(1)) else {
        eprintln!("usage: link_repeat REQUESTS.csv REGISTRY.csv [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let read = |path: &str| {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        read_records::<Box<homeward_matching::MatchRecord>, _>(file).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let (requests, registry) = (read(requests), read(registry));
    let config = LinkConfig::default();
    let mut best = (f64::INFINITY, f64::INFINITY);
    for run in 1..=runs {
        let (left, right) = (requests.clone(), registry.clone());
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let linkage = link_owned(left, right, &config);
        let (wall, used) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
        println!("run {run}: {wall:.3} s wall, {used:.2} s cpu, {} pairs", linkage.pairs.len());
        best = (best.0.min(wall), best.1.min(used));
    }
    println!("fastest: {:.3} s wall, {:.2} s cpu", best.0, best.1);
}
