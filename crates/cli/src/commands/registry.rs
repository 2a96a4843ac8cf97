//! `homeward registry`: matching over the stored registry, for bureaus and
//! the mediator: one description against every stored record, and likely
//! duplicates within the registry.
//!
//! Both build the matcher's in-memory index from the store's export
//! stream when they start (`homeward_service::matching::load_index`, which
//! the server shares); one search then looks at the
//! few records sharing a blocking key, never at the whole registry.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use homeward_matching::{BirthDate, DEFAULT_THRESHOLD, LinkConfig, MatchRecord, duplicate_config, duplicates_with};
use homeward_service::matching::{RegistryIndex, load_index};

use super::link::probability;
use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find the stored persons most likely to be the one described, in any script or transliteration.
    #[command(after_help = "Examples:\n  homeward registry search --family-name Kovalenko --given-names Sasha\n  \
                            homeward registry search --family-name Коваленко --given-names Олександр \\\n    \
                            --birth-date 07.03.1990 --limit 5\n  \
                            homeward registry search --family-name Kowalenko --given-names Aleksandr --service-number 1234567")]
    Search(Box<SearchArgs>),
    /// List pairs of stored persons that are likely the same person, with why.
    #[command(after_help = "Examples:\n  homeward registry duplicates\n  \
                            homeward registry duplicates --threshold 0.9 --limit 100")]
    Duplicates {
        /// Report pairs with at least this match probability (0–1).
        #[arg(long, value_name = "P", default_value_t = DEFAULT_THRESHOLD, value_parser = probability)]
        threshold: f64,
        /// Print at most this many pairs, most likely first.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Surname, in any script.
    #[arg(long)]
    family_name: String,
    /// Given name(s), full or diminutive, in any script.
    #[arg(long, default_value = "")]
    given_names: String,
    #[arg(long)]
    patronymic: Option<String>,
    /// YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY or MM.YYYY.
    #[arg(long)]
    birth_date: Option<String>,
    #[arg(long)]
    place_of_birth: Option<String>,
    #[arg(long)]
    service_number: Option<String>,
    #[arg(long)]
    unit: Option<String>,
    #[arg(long)]
    mother_maiden_name: Option<String>,
    /// How many candidates to print.
    #[arg(long, default_value_t = 10)]
    limit: usize,
}

/// A short description of an indexed record, for a reader to judge.
fn who(reg: &RegistryIndex, slot: usize) -> String {
    let Some(r) = reg.index.get(slot).map(|p| p.record()) else {
        return String::new();
    };
    let mut s = [r.family_name.as_str(), r.given_names.as_str(), r.patronymic.as_deref().unwrap_or("")]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(d) = r.birth_date {
        s.push_str(&format!(", born {d}"));
    }
    if let Some(n) = &r.service_number {
        s.push_str(&format!(", service number {n}"));
    }
    if let Some(src) = reg.sources.get(slot) {
        s.push_str(&format!(" [{src}]"));
    }
    s
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let store = backend::open(settings).await?;
    let start = Instant::now();
    let reg = load_index(store.as_ref()).await.context("cannot read the registry")?;
    eprintln!("indexed {} source records in {:.1} s", reg.index.len(), start.elapsed().as_secs_f64());
    match command {
        Command::Search(args) => search(&reg, &args),
        Command::Duplicates { threshold, limit } => duplicates(&reg, threshold, limit),
    }
}

fn search(reg: &RegistryIndex, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let birth_date = args
        .birth_date
        .as_deref()
        .map(BirthDate::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--birth-date: {e}"))?;
    let query = MatchRecord {
        id: String::new(),
        family_name: args.family_name.clone(),
        given_names: args.given_names.clone(),
        patronymic: args.patronymic.clone(),
        mother_maiden_name: args.mother_maiden_name.clone(),
        birth_date,
        place_of_birth: args.place_of_birth.clone(),
        rank: None,
        service_number: args.service_number.clone(),
        unit: args.unit.clone(),
    };
    let t = Instant::now();
    // A person reported by both parties is indexed twice: ask for more and
    // keep each person's best record.
    let found = reg.index.search(&query, args.limit.saturating_mul(4).max(args.limit));
    let elapsed = t.elapsed();
    let mut seen = HashMap::new();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0;
    for c in &found {
        if n >= args.limit || seen.insert(c.id.as_str(), ()).is_some() {
            continue;
        }
        n += 1;
        writeln!(out, "{n}. {}  probability {:.4}  {}", c.id, c.probability, who(reg, c.slot))?;
        writeln!(out, "   why: {}", c.explanation)?;
    }
    out.flush()?;
    eprintln!(
        "{n} candidates in {:.2} ms; candidates are for a person to confirm, never an identification",
        elapsed.as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}

fn duplicates(reg: &RegistryIndex, threshold: f64, limit: Option<usize>) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let config = LinkConfig { threshold, ..duplicate_config(&reg.index) };
    let linkage = duplicates_with(&reg.index, &config);
    // Two records of one person (both parties reported them) are already
    // linked; two records of a pair of persons count once, at their best.
    let mut best: HashMap<(&str, &str), &homeward_matching::Pair> = HashMap::new();
    for p in linkage.pairs.iter().filter(|p| p.left_id != p.right_id) {
        let key = if p.left_id < p.right_id {
            (p.left_id.as_str(), p.right_id.as_str())
        } else {
            (p.right_id.as_str(), p.left_id.as_str())
        };
        let kept = best.entry(key).or_insert(p);
        if p.weight > kept.weight {
            *kept = p;
        }
    }
    let mut pairs: Vec<&homeward_matching::Pair> = best.into_values().collect();
    pairs.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.left.cmp(&b.left)).then(a.right.cmp(&b.right)));
    let total = pairs.len();
    pairs.truncate(limit.unwrap_or(usize::MAX));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for p in &pairs {
        writeln!(out, "{} = {}  probability {:.4}", p.left_id, p.right_id, p.probability)?;
        writeln!(out, "   {}", who(reg, p.left))?;
        writeln!(out, "   {}", who(reg, p.right))?;
        writeln!(out, "   why: {}", p.explanation)?;
    }
    out.flush()?;
    eprintln!(
        "{total} likely duplicate pairs at probability >= {threshold}{} in {:.1} s; each is for a person to \
         confirm before records are merged",
        if pairs.len() < total { format!(" ({} shown)", pairs.len()) } else { String::new() },
        t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
