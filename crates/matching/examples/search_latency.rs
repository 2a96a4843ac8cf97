//! Single-search latency against a large in-memory index: builds an
//! [`Index`] of synthetic registry records (default one million), runs the
//! synthetic families' requests (default ten thousand) one at a time, and
//! prints the build time, the p50 / p99 / max search time and the peak
//! memory of the process.
//!
//! `cargo run -p homeward-matching --release --example search_latency [-- REGISTRY SEARCHES [SEED]]`

use std::time::Instant;

use homeward_matching::Index;
use homeward_matching::synth::{SynthConfig, generate};

/// Peak resident memory in MiB, from /proc (Linux); 0 elsewhere.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let registry = args.first().copied().unwrap_or(1_000_000) as usize;
    let searches = args.get(1).copied().unwrap_or(10_000) as usize;
    let seed = args.get(2).copied().unwrap_or(42);

    let t = Instant::now();
    let data = generate(&SynthConfig::new(searches, registry, seed));
    let gen_time = t.elapsed();
    let t = Instant::now();
    let index = Index::build(data.registry);
    let build_time = t.elapsed();
    let after_build = peak_rss_mib();

    let mut times: Vec<f64> = Vec::with_capacity(data.requests.len());
    let mut found = 0usize;
    for q in &data.requests {
        let t = Instant::now();
        let c = index.search(q, 10);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found += usize::from(!c.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times.get(((times.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    println!(
        "index of {} records: generated in {:.1} s, built in {:.1} s; peak memory {} MiB after build, {} MiB in all",
        index.len(),
        gen_time.as_secs_f64(),
        build_time.as_secs_f64(),
        after_build,
        peak_rss_mib()
    );
    println!(
        "{} single searches (top 10, one thread): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; {} with a candidate",
        times.len(),
        pct(0.5),
        pct(0.99),
        times.last().copied().unwrap_or(0.0),
        found
    );
}
