//! Prints precision, recall and F1 of `link` on seeded synthetic
//! cross-script data, with timings.
//!
//! `cargo run -p homeward-matching --release --example accuracy [REQUESTS REGISTRY [SEED]] [--verbose]`
//! (default 10 000 × 50 000, seed 42). `--verbose` prints the estimated
//! weights and a few false positives and false negatives with their
//! explanations. `BLOCK_CAP=N` sets the block cap; `CALIBRATION=P` reports
//! pairs from probability P and prints, per tenth of probability, the
//! share of them that are true (a check of the probabilities, not a way to
//! choose the threshold).

use std::collections::HashSet;
use std::time::Instant;

use homeward_matching::synth::{SynthConfig, generate};
use homeward_matching::{Field, Index, LinkConfig, compare, link_with};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let requests = nums.first().copied().unwrap_or(10_000) as usize;
    let registry = nums.get(1).copied().unwrap_or(50_000) as usize;
    let seed = nums.get(2).copied().unwrap_or(42);

    let t = Instant::now();
    let data = generate(&SynthConfig::new(requests, registry, seed));
    let gen_time = t.elapsed();
    let t = Instant::now();
    let cap: Option<usize> = std::env::var("BLOCK_CAP").ok().and_then(|v| v.parse().ok());
    let threshold: Option<f64> = std::env::var("CALIBRATION").ok().and_then(|v| v.parse().ok());
    let config = LinkConfig {
        block_cap: cap.unwrap_or(homeward_matching::DEFAULT_BLOCK_CAP),
        threshold: threshold.unwrap_or(homeward_matching::DEFAULT_THRESHOLD),
        ..LinkConfig::default()
    };
    let linkage = link_with(&data.requests, &data.registry, &config);
    let link_time = t.elapsed();
    let acc = data.evaluate(&linkage.pairs);
    if threshold.is_some() {
        // Calibration: the share of true pairs among reported pairs, by
        // probability (a diagnosis; the default threshold is not chosen
        // from it).
        let truth: HashSet<(&str, &str)> = data.truth.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let mut bins = [(0usize, 0usize, 0.0f64); 10];
        for p in &linkage.pairs {
            let b = ((p.probability * 10.0) as usize).min(9);
            bins[b].0 += 1;
            bins[b].1 += usize::from(truth.contains(&(p.left_id.as_str(), p.right_id.as_str())));
            bins[b].2 += p.probability;
        }
        for (i, (n, t, sum)) in bins.iter().enumerate() {
            if *n > 0 {
                println!(
                    "p {:.1}-{:.1}: {n} pairs, mean p {:.3}, true {:.3}",
                    i as f64 / 10.0,
                    (i + 1) as f64 / 10.0,
                    sum / *n as f64,
                    *t as f64 / *n as f64
                );
            }
        }
        println!("match rate {:.3}", linkage.model.match_rate);
    }
    println!(
        "synthetic cross-script {requests} x {registry} (seed {seed}): precision {:.4} recall {:.4} F1 {:.4} (tp {}, fp {}, fn {})",
        acc.precision, acc.recall, acc.f1, acc.true_positives, acc.false_positives, acc.false_negatives
    );
    println!(
        "generate {:.2} s, link {:.2} s (prepare, block, estimate, score); {} candidate pairs, {} requests without candidates, skipped blocks {:?}",
        gen_time.as_secs_f64(),
        link_time.as_secs_f64(),
        linkage.stats.pairs,
        linkage.stats.without_candidates,
        linkage.stats.skipped
    );
    // Phases, for the performance note: building the index (preparing
    // every registry record) and single searches against it.
    let t = Instant::now();
    let mut index = Index::build(data.registry.iter().cloned());
    let build_time = t.elapsed();
    index.set_model(linkage.model.clone());
    let mut times: Vec<f64> = data
        .requests
        .iter()
        .take(2000)
        .map(|q| {
            let t = Instant::now();
            let found = index.search(q, 10);
            std::hint::black_box(found);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times.get(((times.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    println!(
        "index build {:.2} s; single search (top 10) p50 {:.3} ms, p99 {:.3} ms over {} searches",
        build_time.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        times.len()
    );
    if !verbose {
        return;
    }
    let m = &linkage.model;
    println!("match rate {:.3}", m.match_rate);
    for f in Field::ALL {
        let levels: Vec<String> = (0..f.levels().len())
            .map(|l| {
                let l = l as u8;
                format!("{} m={:.4} u={:.5} w={:+.1}", f.level_label(l), m.m(f, l), m.u(f, l), m.weight(f, l))
            })
            .collect();
        println!("{}: {}", f.label(), levels.join(" | "));
    }
    let truth: HashSet<(&str, &str)> = data.truth.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let by_id = |id: &str, v: &[homeward_matching::MatchRecord]| v.iter().find(|r| r.id == id).cloned();
    let mut shown = 0;
    for p in &linkage.pairs {
        if !truth.contains(&(p.left_id.as_str(), p.right_id.as_str())) && shown < 8 {
            shown += 1;
            println!("\nFP p={:.3}: {}", p.probability, p.explanation);
            println!("  Q {:?}", by_id(&p.left_id, &data.requests));
            println!("  R {:?}", by_id(&p.right_id, &data.registry));
        }
    }
    let found: HashSet<(&str, &str)> =
        linkage.pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())).collect();
    let mut shown = 0;
    for (q, r) in &data.truth {
        if !found.contains(&(q.as_str(), r.as_str())) && shown < 8 {
            shown += 1;
            let (Some(qr), Some(rr)) = (by_id(q, &data.requests), by_id(r, &data.registry)) else {
                continue;
            };
            let a = index.prepare(qr.clone());
            let b = index.prepare(rr.clone());
            let c = compare(&a, &b);
            let cands = index.search_prepared(&a, 50);
            let blocked = cands.iter().any(|c| &c.id == r);
            println!("\nFN blocked={blocked} w={:.1}: {}", m.total(&c), m.explain(&c, &a, &b, 0.0));
            println!("  Q {qr:?}");
            println!("  R {rr:?}");
        }
    }
}
