//! `homeward reconcile`: the two parties' lists side by side, file to file
//! (no database): one-to-one matches, records left over on each side, and
//! the fields on which matched records disagree.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use homeward_matching::{Conflict, DEFAULT_THRESHOLD, LinkConfig, MatchRecord, reconcile_with};

use super::link::{probability, read_list};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List A: a CSV file with the person-import columns.
    list_a: PathBuf,
    /// List B: a CSV file with the person-import columns.
    list_b: PathBuf,
    /// Also write matched.csv, unmatched_a.csv and unmatched_b.csv to this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Match records with at least this probability (0–1).
    #[arg(long, value_name = "P", default_value_t = DEFAULT_THRESHOLD, value_parser = probability)]
    threshold: f64,
}

fn conflicts_text(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("{}: {} ({} / {})", c.field.label(), c.level, c.a, c.b))
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_unmatched(path: &Path, list: &[MatchRecord], ids: &[String]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(["record_id", "family_name", "given_names", "patronymic", "birth_date", "service_number"])?;
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    for r in list.iter().filter(|r| wanted.contains(r.id.as_str())) {
        w.write_record([
            r.id.as_str(),
            &r.family_name,
            &r.given_names,
            r.patronymic.as_deref().unwrap_or(""),
            &r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            r.service_number.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let a: Vec<MatchRecord> = read_list(&args.list_a)?;
    let b: Vec<MatchRecord> = read_list(&args.list_b)?;
    let (name_a, name_b) = (args.list_a.display(), args.list_b.display());
    eprintln!("read {} records from {name_a} and {} from {name_b}; reconciling", a.len(), b.len());
    let config = LinkConfig { threshold: args.threshold, ..LinkConfig::default() };
    let rec = reconcile_with(&a, &b, &config);

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "matched ({}):", rec.matched.len())?;
    for m in &rec.matched {
        let p = &m.pair;
        writeln!(out, "  {} = {}  probability {:.4}", p.left_id, p.right_id, p.probability)?;
        if !m.conflicts.is_empty() {
            writeln!(out, "    conflicts: {}", conflicts_text(&m.conflicts))?;
        }
        writeln!(out, "    why: {}", p.explanation)?;
    }
    writeln!(out, "unmatched in {name_a} ({}):", rec.unmatched_a.len())?;
    for id in &rec.unmatched_a {
        writeln!(out, "  {id}")?;
    }
    writeln!(out, "unmatched in {name_b} ({}):", rec.unmatched_b.len())?;
    for id in &rec.unmatched_b {
        writeln!(out, "  {id}")?;
    }
    out.flush()?;

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("matched.csv");
        let file = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        w.write_record(["a_id", "b_id", "probability", "conflicts", "explanation"])?;
        for m in &rec.matched {
            let p = &m.pair;
            w.write_record([
                p.left_id.as_str(),
                p.right_id.as_str(),
                &format!("{:.4}", p.probability),
                &conflicts_text(&m.conflicts),
                &p.explanation.to_string(),
            ])?;
        }
        w.flush()?;
        write_unmatched(&dir.join("unmatched_a.csv"), &a, &rec.unmatched_a)?;
        write_unmatched(&dir.join("unmatched_b.csv"), &b, &rec.unmatched_b)?;
    }
    let with_conflicts = rec.matched.iter().filter(|m| !m.conflicts.is_empty()).count();
    eprintln!(
        "{} matched ({} with conflicting fields), {} unmatched in {name_a}, {} unmatched in {name_b}; {:.1} s{}",
        rec.matched.len(),
        with_conflicts,
        rec.unmatched_a.len(),
        rec.unmatched_b.len(),
        start.elapsed().as_secs_f64(),
        args.out.as_ref().map(|d| format!("; CSV files in {}", d.display())).unwrap_or_default()
    );
    eprintln!("every match is a candidate for a person to confirm, not a confirmed identification");
    Ok(ExitCode::SUCCESS)
}
