//! Logs of millions of leaves, and proofs over them.
//!
//! `build-log` is the fast honest way to a big log: entries are inserted
//! straight into `log_entry` (the columns an append writes, with synthetic
//! record ids, salts and commitments), and the store's own sequencer then
//! integrates them, computing and storing every hash as it does in
//! production. Such a log has no records behind its entries, so it serves
//! proofs, not `log verify` (the script builds the 1M log for that through
//! the import).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use homeward_service::log::{prove_consistency, prove_inclusion, root_at};
use homeward_store::{LogStore, Store};
use homeward_store_sqlite::SqliteStore;
use homeward_tlog::{verify_consistency, verify_inclusion};
use rusqlite::{Connection, params};

use crate::{Rng, percentile};

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The SQLite file to create (replaced if it exists).
    #[arg(long)]
    db: PathBuf,
    /// Leaves in the log.
    #[arg(long)]
    leaves: u64,
    /// Entries per sequencing transaction.
    #[arg(long, default_value_t = 4096)]
    sequence_batch: usize,
}

#[derive(Debug, clap::Args)]
pub struct ProofArgs {
    /// The SQLite file of a sequenced log.
    #[arg(long)]
    db: PathBuf,
    /// Proofs of each kind.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

pub async fn build(a: BuildArgs) -> anyhow::Result<()> {
    crate::remove_db(&a.db);
    // The entries get MACs under this keyring's entry key, as the store's
    // own appends do: the sequencer refuses entries without one.
    let keys = homeward_store::Keyring::generate();
    let store = SqliteStore::open_with(&a.db, keys.clone()).await?;
    store.set_conflict(&homeward_demo::demo_setup()).await?;
    let want = a.leaves.saturating_sub(1);

    // Entries, straight into the table, 100,000 per transaction.
    let t = Instant::now();
    let db = a.db.clone();
    let key = keys.entry_key().clone();
    tokio::task::spawn_blocking(move || insert_entries(&db, &key, want)).await??;
    let insert_time = t.elapsed();
    println!(
        "inserted {want} synthetic entries in {:.1} s ({:.0}/s)",
        insert_time.as_secs_f64(),
        want as f64 / insert_time.as_secs_f64()
    );

    // The real sequencer.
    let t = Instant::now();
    let mut mark = Instant::now();
    let mut size = store.tree_head().await?.size;
    let mut last_report = size;
    loop {
        let head = store.sequence(a.sequence_batch).await?;
        if head.size == size {
            break;
        }
        size = head.size;
        if size - last_report >= 1_000_000 {
            let rate = (size - last_report) as f64 / mark.elapsed().as_secs_f64();
            println!("  sequenced {size} leaves ({rate:.0} entries/s over the last {})", size - last_report);
            last_report = size;
            mark = Instant::now();
        }
    }
    let seq = t.elapsed();
    ensure!(size == a.leaves, "the log has {size} leaves, expected {}", a.leaves);
    println!(
        "sequenced {size} leaves in {:.1} s: {:.0} entries/s with sequence({})",
        seq.as_secs_f64(),
        size as f64 / seq.as_secs_f64(),
        a.sequence_batch
    );
    Ok(())
}

fn insert_entries(db: &std::path::Path, key: &homeward_store::seal::EntryKey, n: u64) -> anyhow::Result<()> {
    let mut c = Connection::open(db)?;
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;")?;
    let first: i64 = c.query_row("SELECT coalesce(max(id), 0) + 1 FROM log_entry", [], |r| r.get(0))?;
    let mut rng = Rng::new(0x5eed);
    let mut done = 0u64;
    while done < n {
        let tx = c.transaction()?;
        {
            let mut st = tx.prepare(
                "INSERT INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment, mac)
                 VALUES (?1, ?2, 'party_officer', ?3, 'status.recorded', 'status_event', ?4, ?5, ?6, ?7)",
            )?;
            let end = (done + 100_000).min(n);
            for k in done..end {
                let id = first + k as i64;
                let r = rng.next_u64();
                // A UUID-shaped person id, as real record ids have.
                let record_id = format!(
                    "person/0190{:04x}-{:04x}-7{:03x}-8{:03x}-{:012x}/status/{}",
                    (k >> 16) & 0xffff,
                    k & 0xffff,
                    r & 0xfff,
                    (r >> 12) & 0xfff,
                    (r >> 24) & 0xffff_ffff_ffff,
                    1 + k % 5
                );
                let (time_ms, party) = (1_781_870_400_000i64 + (k / 100) as i64, if k % 2 == 0 { "A" } else { "B" });
                let (salt, commitment) = (rng.bytes32(), rng.bytes32());
                let actor = homeward_store::Actor { role: "party_officer".into(), party: Some(party.into()) };
                let mac = key.mac(&homeward_store::log::entry_mac_message(
                    time_ms,
                    &actor,
                    "status.recorded",
                    "status_event",
                    &record_id,
                    &commitment,
                ));
                st.execute(params![
                    id,
                    time_ms,
                    party,
                    record_id,
                    salt.as_slice(),
                    commitment.as_slice(),
                    mac.as_slice()
                ])?;
            }
            done = end;
        }
        tx.commit()?;
    }
    Ok(())
}

pub async fn run(a: ProofArgs) -> anyhow::Result<()> {
    let store = SqliteStore::open(&a.db).await.with_context(|| format!("cannot open {}", a.db.display()))?;
    let s: &dyn Store = &store;
    let head = s.tree_head().await?;
    ensure!(head.size > 2, "the log at {} has {} leaves", a.db.display(), head.size);
    let mut rng = Rng::new(a.seed);

    // Inclusion: random leaves against the latest size.
    let mut cold = None;
    let mut times = Vec::with_capacity(a.samples);
    let mut lengths = 0usize;
    for k in 0..a.samples + 20 {
        let index = rng.range(0, head.size);
        let t = Instant::now();
        let proof = prove_inclusion(s, index, head.size).await?;
        let d = t.elapsed();
        let entry = s.entries(index, index + 1).await?.pop().context("no entry at the leaf")?;
        let leaf = entry.leaf().context("unsequenced")?.leaf_hash()?;
        verify_inclusion(&leaf, index, head.size, &proof, &head.root)
            .map_err(|e| anyhow::anyhow!("inclusion proof of leaf {index} does not verify: {e}"))?;
        if k == 0 {
            cold = Some(d);
        }
        // The first 20 warm the statement caches; the first one is reported apart.
        if k >= 20 {
            times.push(d);
            lengths += proof.len();
        }
    }
    report("inclusion", head.size, cold, &mut times, lengths);

    // Consistency: between random sizes (the new one the latest half the time).
    let mut cold = None;
    let mut times = Vec::with_capacity(a.samples);
    let mut lengths = 0usize;
    for k in 0..a.samples + 20 {
        let new = if k % 2 == 0 { head.size } else { rng.range(2, head.size + 1) };
        let old = rng.range(1, new);
        let t = Instant::now();
        let proof = prove_consistency(s, old, new).await?;
        let d = t.elapsed();
        let old_root = root_at(s, old).await?;
        let new_root = if new == head.size { head.root } else { root_at(s, new).await? };
        verify_consistency(old, new, &old_root, &new_root, &proof)
            .map_err(|e| anyhow::anyhow!("consistency proof {old} -> {new} does not verify: {e}"))?;
        if k == 0 {
            cold = Some(d);
        }
        if k >= 20 {
            times.push(d);
            lengths += proof.len();
        }
    }
    report("consistency", head.size, cold, &mut times, lengths);
    Ok(())
}

fn report(kind: &str, size: u64, cold: Option<Duration>, times: &mut [Duration], lengths: usize) {
    times.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = times.iter().map(|d| us(*d)).sum::<f64>() / times.len() as f64;
    println!(
        "{kind:<12} size {size:>9}: n={} p50 {:.0} us, p99 {:.0} us, max {:.0} us, mean {:.0} us, first {:.0} us; {:.1} hashes/proof; all verified",
        times.len(),
        us(percentile(times, 50.0)),
        us(percentile(times, 99.0)),
        us(times.last().copied().unwrap_or_default()),
        mean,
        us(cold.unwrap_or_default()),
        lengths as f64 / times.len() as f64
    );
}
