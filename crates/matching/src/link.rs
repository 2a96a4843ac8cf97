//! The uses of the engine: batch linkage of requests against a registry,
//! reconciliation of two lists, duplicates within a registry. All three
//! block through an [`Index`], compare, estimate the model from the data
//! and score; [`Index::search`] is the fourth use.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::compare::{Comparison, Field, MISSING, TextMemo, compare_with};
use crate::index::{BlockingStats, DEFAULT_BLOCK_CAP, Index, KeyKind};
use crate::model::{Explanation, Model, Patterns, Weigher};
use crate::record::{Hot, MatchRecord, PreparedRecord, Spellings, prepare_in_pieces, prepare_parallel};
use crate::rng::Rng;

/// Default probability above which a pair is reported.
///
/// One half: a pair is reported when it is more likely the same person
/// than not. Every reported pair goes to a person who confirms it, and a
/// missed match (a family never told) costs more than a pair a reviewer
/// rejects, so there is no reason to ask for more; and for calibrated
/// probabilities the threshold that maximises F1 is half the F1 reached
/// (Lipton, Elkan and Naryanaswamy 2014), i.e. just under one half for a
/// good linkage.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Settings of a batch run.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Report pairs with at least this probability.
    pub threshold: f64,
    /// Skip blocks with more records than this.
    pub block_cap: usize,
    /// Estimate the model from the data (else use `model` as it is).
    pub estimate: bool,
    /// Starting model, and the prior of the estimation.
    pub model: Model,
    /// Random pairs drawn to estimate `u`.
    pub random_pairs: usize,
    /// Seed of the random pairs.
    pub seed: u64,
    /// Left records the model is estimated from ([`ESTIMATION_SAMPLE`]).
    pub estimation_sample: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            block_cap: DEFAULT_BLOCK_CAP,
            estimate: true,
            model: Model::default(),
            random_pairs: 200_000,
            seed: 0x686f_6d65_7761_7264,
            estimation_sample: ESTIMATION_SAMPLE,
        }
    }
}

/// Two records judged likely to describe one person.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// Id of the record on the left (request, list A, or the first of two
    /// duplicates).
    pub left_id: String,
    /// Id of the record on the right (registry, list B, second duplicate).
    pub right_id: String,
    /// Position of the left record in its input.
    pub left: usize,
    /// Position of the right record in its input.
    pub right: usize,
    /// Match probability.
    pub probability: f64,
    /// Sum of field weights (log2 Bayes factor).
    pub weight: f64,
    /// Per-field explanation.
    pub explanation: Explanation,
}

/// Result of a batch run.
#[derive(Debug, Clone)]
pub struct Linkage {
    /// Pairs above the threshold: by left record in input order, best
    /// first within each.
    pub pairs: Vec<Pair>,
    /// The model used (estimated unless told otherwise).
    pub model: Model,
    /// What blocking did.
    pub stats: BlockingStats,
}

/// Training sessions for the estimation: pairs that share a key of these
/// kinds, and the fields such a key holds fixed (left out of that
/// session's EM). See [`Model::estimate`].
const SESSIONS: &[(&[KeyKind], &[Field])] = &[
    (&[KeyKind::BirthDate], &[Field::BirthDate]),
    (&[KeyKind::SurnameCodeGiven, KeyKind::SurnamePrefixGiven], &[Field::FamilyName, Field::GivenName]),
    (&[KeyKind::ServiceNumber, KeyKind::ServiceNumberDeletion], &[Field::ServiceNumber]),
];

/// A compared pair above the threshold, before it is turned into a
/// [`Pair`].
#[derive(Debug, Clone, Copy)]
struct Scored {
    left: u32,
    right: u32,
    cmp: Comparison,
    weight: f64,
    /// log2 prior odds, given the left record's other candidates.
    prior: f64,
}

/// A blocked and compared pair of the estimation sample, kept until the
/// model is known: 16 bytes.
#[derive(Debug, Clone, Copy)]
struct Blocked {
    left: u32,
    right: u32,
    cmp: Comparison,
}

/// A compared pair with its weight, kept when the weight could reach the
/// threshold.
#[derive(Debug, Clone, Copy)]
struct Weighed {
    left: u32,
    right: u32,
    cmp: Comparison,
    weight: f64,
}

/// What one thread blocked and compared of the estimation sample.
#[derive(Debug, Default)]
struct Sampled {
    pairs: Vec<Blocked>,
    sessions: Vec<Patterns>,
    stats: BlockingStats,
}

/// What one thread blocked, compared and weighed once the model was known.
#[derive(Debug, Default)]
struct Scoring {
    /// Per left record with candidates, in the order searched: the sum
    /// of its candidates' Bayes factors (2^weight; a weight is a sum of a
    /// few field weights of a few dozen at most, far inside f64's range).
    sums: Vec<(u32, f64)>,
    /// Pairs whose weight could reach the threshold.
    passable: Vec<Weighed>,
    stats: BlockingStats,
}

/// Left records searched as one piece of work: the cores take chunks in
/// turn (work stealing), so that one slowed by a cluster of common
/// surnames, or by another process, does not leave the other idle at the
/// end. Big enough that each chunk's own sums and lists cost little to
/// merge, and the results, kept by chunk, do not depend on the number of
/// threads.
const CHUNK: usize = 1_024;

/// Left records whose blocked pairs the model is estimated from. The
/// estimation needs every pair of the records it looks at, kept until the
/// model is known (16 bytes each: 1.6 GB at 200k x 1M), and counts their
/// comparison patterns per training session; a sample of this many,
/// spread over the whole batch, gives the m probabilities of the few
/// dozen comparison levels from millions of pairs. The other records are
/// compared once the model is known, and only pairs that could reach the
/// threshold are kept. Smaller batches are estimated from every record.
/// With 100k requests against 500k records, estimating from this sample
/// instead of all of them changed F1 by 0.00003.
pub const ESTIMATION_SAMPLE: usize = 25_000;

/// The left records of a batch, with their packed blocks ([`Hot`]).
struct Left<'a> {
    records: &'a [PreparedRecord],
    blocks: LeftBlocks<'a>,
}

/// Where the left records' packed blocks are.
enum LeftBlocks<'a> {
    /// Made once per batch: random pairs read them in random order, and
    /// making one reads several allocations of its record.
    Own(Vec<Hot>),
    /// The left records are the index's own (duplicates).
    Index(&'a Index),
}

impl<'a> Left<'a> {
    fn new(records: &'a [PreparedRecord], index: &'a Index, dedup: bool) -> Self {
        let blocks =
            if dedup { LeftBlocks::Index(index) } else { LeftBlocks::Own(records.par_iter().map(Hot::new).collect()) };
        Self { records, blocks }
    }

    fn get(&self, i: usize) -> Option<(&PreparedRecord, &Hot)> {
        match &self.blocks {
            LeftBlocks::Index(index) => index.get_hot(i),
            LeftBlocks::Own(own) => Some((self.records.get(i)?, own.get(i)?)),
        }
    }

    /// Starts loading a record's packed block.
    fn prefetch(&self, i: usize) {
        match &self.blocks {
            LeftBlocks::Index(index) => index.prefetch(i),
            LeftBlocks::Own(own) => {
                if let Some(h) = own.get(i) {
                    h.prefetch();
                }
            }
        }
    }
}

/// Blocks the left records at the positions `order` lists, in that order,
/// and hands every candidate pair (left position, right slot, the key
/// kinds they share if `with_kinds`, their comparison) to `visit`.
fn each_pair(
    left: &Left<'_>,
    order: &[u32],
    index: &Index,
    (dedup, with_kinds): (bool, bool),
    (stats, memo): (&mut BlockingStats, &mut TextMemo),
    mut visit: impl FnMut(u32, u32, u16, Comparison),
) {
    let (mut keys, mut slots) = (Vec::new(), Vec::new());
    for &i32 in order {
        let Some((p, hp)) = left.get(i32 as usize) else {
            continue;
        };
        let mut own = BlockingStats::default();
        index.candidates(p, &mut keys, &mut own, &mut slots, with_kinds);
        if dedup {
            slots.retain(|&(s, _)| s > i32);
            own.pairs = slots.len() as u64;
        }
        stats.merge(&own);
        // Start loading candidates some places ahead: comparing waits on
        // memory, and these loads overlap with the comparisons before
        // them (eight ahead: four hid less of the wait, sixteen no more).
        for &(s, _) in slots.iter().take(PREFETCH_AHEAD) {
            index.prefetch(s as usize);
        }
        for (k, &(s, kinds)) in slots.iter().enumerate() {
            if let Some(&(ahead, _)) = slots.get(k + PREFETCH_AHEAD) {
                index.prefetch(ahead as usize);
            }
            let Some((r, hr)) = index.get_hot(s as usize) else {
                continue;
            };
            visit(i32, s, kinds, compare_with(p, hp, r, hr, Some(memo)));
        }
    }
}

/// How many candidates ahead of the one compared [`each_pair`] starts
/// loading.
const PREFETCH_AHEAD: usize = 8;

/// Blocks and compares the estimation sample, keeping every pair and
/// counting the comparison patterns of each training session when
/// `estimate`.
fn block_and_compare(
    left: &Left<'_>,
    order: &[u32],
    index: &Index,
    memo: &mut TextMemo,
    estimate: bool,
    dedup: bool,
) -> Sampled {
    let session_bits: Vec<u16> = SESSIONS.iter().map(|(kinds, _)| kinds.iter().fold(0, |b, k| b | k.bit())).collect();
    let mut part = Sampled {
        sessions: vec![Patterns::default(); SESSIONS.len()],
        // Room for more pairs than records have on average (under two
        // hundred at 100k x 500k): room never written costs no memory,
        // growing the list copies it.
        pairs: Vec::with_capacity(order.len() * PAIRS_ROOM),
        ..Sampled::default()
    };
    let Sampled { pairs, sessions, stats } = &mut part;
    each_pair(left, order, index, (dedup, estimate), (stats, memo), |l, r, kinds, cmp| {
        if estimate {
            for (patterns, bits) in sessions.iter_mut().zip(&session_bits) {
                if kinds & bits != 0 {
                    *patterns.entry(cmp).or_default() += 1;
                }
            }
        }
        pairs.push(Blocked { left: l, right: r, cmp });
    });
    part
}

/// Candidate pairs per record [`block_and_compare`] makes room for at
/// first.
const PAIRS_ROOM: usize = 512;

/// Adds a weighed pair to a thread's sums (pairs come grouped by left
/// record), keeping it when its weight is at least `floor`.
fn weigh(out: &mut Scoring, weigher: &mut Weigher<'_>, left: u32, right: u32, cmp: Comparison, floor: f64) {
    // Summed as Bayes factors, not as logs: no log per pair (a twentieth
    // of a batch's time), and the factor comes with the weight.
    let (weight, factor) = weigher.weigh(&cmp);
    match out.sums.last_mut() {
        Some((l, sum)) if *l == left => *sum += factor,
        _ => out.sums.push((left, factor)),
    }
    if weight >= floor {
        out.passable.push(Weighed { left, right, cmp, weight });
    }
}

/// Blocks, compares and weighs with a known model.
fn block_and_weigh(
    left: &Left<'_>,
    order: &[u32],
    index: &Index,
    (memo, weigher): &mut (TextMemo, Weigher<'_>),
    floor: f64,
    dedup: bool,
) -> Scoring {
    let mut out = Scoring::default();
    let mut stats = BlockingStats::default();
    each_pair(left, order, index, (dedup, false), (&mut stats, memo), |l, r, _, cmp| {
        weigh(&mut out, weigher, l, r, cmp, floor)
    });
    out.stats = stats;
    out
}

/// Cuts `order` into [`CHUNK`]s and runs `f` on each, on every core, with
/// a state of `init` per thread (memos: they make the work faster, never
/// different); results in chunk order.
fn in_chunks<S, R: Send>(
    order: &[u32],
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &[u32]) -> R + Sync + Send,
) -> Vec<R> {
    if order.len() <= CHUNK {
        // One chunk: no hand-over to the pool.
        return order.chunks(CHUNK).map(|chunk| f(&mut init(), chunk)).collect();
    }
    order.par_chunks(CHUNK).map_init(init, f).collect()
}

/// Blocks, compares, estimates, and keeps the pairs at or above the
/// threshold: the common part of every batch use. With `dedup`, `left` is
/// the index's own records and only pairs with `left < right` are kept.
///
/// Two passes, each on every core: the estimation sample
/// ([`ESTIMATION_SAMPLE`] records spread over the batch) is blocked and
/// compared and the model estimated from its pairs; then the other records
/// are blocked, compared and weighed with that model, and only pairs whose
/// weight could reach the threshold are kept. Records go in
/// [`locality_order`]; the result does not depend on the number of
/// threads.
fn score(
    left: &[PreparedRecord],
    index: &Index,
    config: &LinkConfig,
    dedup: bool,
) -> (Vec<Scored>, Model, BlockingStats) {
    let t0 = std::time::Instant::now();
    let order = locality_order(left);
    let blocks = Left::new(left, index, dedup);
    let step = order.len().div_ceil(config.estimation_sample.max(1)).max(1);
    // Every step-th record in locality order: spread over all surnames.
    let (mut sample, mut rest) = (Vec::new(), Vec::new());
    for (k, i) in order.into_iter().enumerate() {
        if k % step == 0 { sample.push(i) } else { rest.push(i) }
    }
    let sampled = in_chunks(&sample, TextMemo::new, |memo, chunk| {
        block_and_compare(&blocks, chunk, index, memo, config.estimate, dedup)
    });
    prof("  block+compare sample", t0);
    let mut stats = BlockingStats::default();
    let mut sessions: Vec<(Patterns, Vec<Field>)> =
        SESSIONS.iter().map(|(_, fixed)| (Patterns::default(), fixed.to_vec())).collect();
    for part in &sampled {
        stats.merge(&part.stats);
        for ((total, _), own) in sessions.iter_mut().zip(&part.sessions) {
            for (cmp, n) in own {
                *total.entry(*cmp).or_default() += n;
            }
        }
    }
    // In a registry of n records, a record has n - 1 others.
    let others = if dedup { index.len().saturating_sub(1) } else { index.len() };
    let mut model = if config.estimate {
        let random = random_patterns(&blocks, index, config, dedup);
        prof("  random", t0);
        let m = config.model.estimate(&sessions, &random);
        prof("  em", t0);
        m
    } else {
        config.model.clone()
    };
    let floor = model.passable_weight(others, config.threshold);
    let mut scorings: Vec<Scoring> = sampled
        .par_iter()
        .map_init(
            || model.weigher(),
            |weigher, part| {
                let mut out = Scoring::default();
                for p in &part.pairs {
                    weigh(&mut out, weigher, p.left, p.right, p.cmp, floor);
                }
                out
            },
        )
        .collect();
    drop(sampled);
    prof("  weigh sample", t0);
    scorings.extend(in_chunks(
        &rest,
        || (TextMemo::new(), model.weigher()),
        |state, chunk| block_and_weigh(&blocks, chunk, index, state, floor, dedup),
    ));
    prof("  block+compare+weigh rest", t0);
    let mut sums = vec![f64::NEG_INFINITY; left.len()];
    for scoring in &scorings {
        stats.merge(&scoring.stats);
        for &(l, sum) in &scoring.sums {
            if let Some(s) = sums.get_mut(l as usize) {
                *s = sum.log2();
            }
        }
    }
    if config.estimate {
        let evidence: Vec<f64> = sums.iter().copied().filter(|s| s.is_finite()).collect();
        model = model.with_estimated_match_rate(&evidence, left.len(), others);
    }
    prof("  rate", t0);
    let kept = scorings
        .iter()
        .flat_map(|s| &s.passable)
        .filter_map(|p| {
            let sum = sums.get(p.left as usize).copied().unwrap_or(f64::NEG_INFINITY);
            let prior = model.pair_prior(others, sum, p.weight);
            (Model::probability(prior, p.weight) >= config.threshold).then_some(Scored {
                left: p.left,
                right: p.right,
                cmp: p.cmp,
                weight: p.weight,
                prior,
            })
        })
        .collect();
    prof("  kept", t0);
    (kept, model, stats)
}

/// log2 of the sum of 2^w over weights, as a batch run sums a record's
/// candidates (minus infinity for none).
pub(crate) fn log2_sum(weights: impl IntoIterator<Item = f64>) -> f64 {
    weights.into_iter().map(f64::exp2).sum::<f64>().log2()
}

/// The order in which a batch goes through its left records: by surname
/// code, then given-name class, then birth year, so that records searched
/// one after another share most of their candidates. A registry's packed
/// blocks are far larger than the cache, and in input order nearly every
/// candidate is a miss; grouped, a surname's few hundred candidates stay
/// in the cache for all the records that share it. Ties keep input order,
/// so the result does not depend on it beyond that.
fn locality_order(left: &[PreparedRecord]) -> Vec<u32> {
    let mut keyed: Vec<((u32, u16, u16), u32)> = left
        .par_iter()
        .enumerate()
        .map(|(i, p)| (locality_key(p), u32::try_from(i).expect("fewer than 2^32 records")))
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn locality_key(p: &PreparedRecord) -> (u32, u16, u16) {
    let family = p.family.codes.first().copied().unwrap_or(u32::MAX);
    let given = p.given.codes.first().map_or(u16::MAX, |c| c.raw());
    let year = p.birth.map_or(u16::MAX, |b| b.year);
    (family, given, year)
}

/// A batch's registry, prepared, in [`locality_order`], with each
/// record's position in the input by slot: the records of one surname
/// then lie together in the index, so the candidates of the records
/// searched together are near each other in memory as well as few (fewer
/// cache and TLB misses).
fn in_locality_order(mut records: Vec<PreparedRecord>) -> (Vec<PreparedRecord>, Vec<u32>) {
    let order = locality_order(&records);
    permute(&mut records, &order);
    (records, order)
}

/// Puts `items[order[k]]` at `k`, in place, cycle by cycle: each item is
/// swapped once into its place. (Moving them into a new vector wrote
/// twice their size to fresh memory, a fifth of a second at 500,000
/// records, one core.)
fn permute<T>(items: &mut [T], order: &[u32]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        let mut k = start;
        while !placed.get(k).copied().unwrap_or(true) {
            if let Some(p) = placed.get_mut(k) {
                *p = true;
            }
            let Some(&next) = order.get(k) else { break };
            let next = next as usize;
            if next == start {
                break;
            }
            // items[k] takes the item from `next`; the one carried along
            // the cycle (the start's) moves on to `next`.
            items.swap(k, next);
            k = next;
        }
    }
}

/// Random pairs are drawn in runs of this many, each run from a generator
/// of its own (seeded by the run's number), on every core; the counts do
/// not depend on the number of threads.
const RANDOM_RUN: u64 = 25_000;

fn random_patterns(left: &Left<'_>, index: &Index, config: &LinkConfig, dedup: bool) -> Patterns {
    let mut random = Patterns::default();
    let left_len = left.records.len();
    if left_len == 0 || index.is_empty() || (dedup && index.len() < 2) {
        return random;
    }
    let possible = (left_len as u64).saturating_mul(index.len() as u64);
    let n = (config.random_pairs as u64).min(possible);
    let runs: Vec<(u64, u64)> = (0..n.div_ceil(RANDOM_RUN)).map(|k| (k, RANDOM_RUN.min(n - k * RANDOM_RUN))).collect();
    let counted: Vec<Patterns> = runs
        .par_iter()
        .map_init(TextMemo::new, |memo, &(k, draws)| {
            let mut rng = Rng::new(config.seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut pairs = Vec::with_capacity(usize::try_from(draws).unwrap_or(0));
            while (pairs.len() as u64) < draws {
                let (i, j) = (rng.below(left_len), rng.below(index.len()));
                if !(dedup && i == j) {
                    pairs.push((i, j));
                }
            }
            // Drawn first, then compared with both blocks loaded some pairs
            // ahead: every pair is two cache misses.
            let mut random = Patterns::default();
            for (n, &(i, j)) in pairs.iter().enumerate() {
                if let Some(&(left_ahead, ahead)) = pairs.get(n + PREFETCH_AHEAD) {
                    left.prefetch(left_ahead);
                    index.prefetch(ahead);
                }
                if let (Some((a, ha)), Some((b, hb))) = (left.get(i), index.get_hot(j)) {
                    *random.entry(compare_with(a, ha, b, hb, Some(memo))).or_default() += 1;
                }
            }
            random
        })
        .collect();
    for own in counted {
        for (cmp, c) in own {
            *random.entry(cmp).or_default() += c;
        }
    }
    random
}

/// Frees a batch's records and index on a thread of its own: a million
/// records are millions of small allocations, seconds to free, and the
/// caller has its pairs already.
fn drop_later<T: Send + 'static>(t: T) {
    if std::thread::Builder::new().name("free".into()).spawn(move || drop(t)).is_err() {
        // No thread to be had: freed here, when the caller drops it.
    }
}

/// Where a right record was in its input: its slot, unless the index was
/// built in another order (`positions`, by slot).
fn input_position(slot: u32, positions: Option<&[u32]>) -> usize {
    positions.and_then(|p| p.get(slot as usize)).map_or(slot as usize, |&i| i as usize)
}

fn to_pair(
    s: &Scored,
    left: &[PreparedRecord],
    index: &Index,
    model: &Model,
    positions: Option<&[u32]>,
) -> Option<Pair> {
    let prior = s.prior;
    let a = left.get(s.left as usize)?;
    let b = index.get(s.right as usize)?;
    Some(Pair {
        left_id: a.record.id.clone(),
        right_id: b.record.id.clone(),
        left: s.left as usize,
        right: input_position(s.right, positions),
        probability: Model::probability(prior, s.weight),
        weight: s.weight,
        explanation: model.explain(&s.cmp, a, b, prior),
    })
}

fn ranked(
    mut scored: Vec<Scored>,
    left: &[PreparedRecord],
    index: &Index,
    model: &Model,
    positions: Option<&[u32]>,
) -> Vec<Pair> {
    let at = |slot| input_position(slot, positions);
    scored.par_sort_by(|a, b| {
        a.left.cmp(&b.left).then(b.weight.total_cmp(&a.weight)).then(at(a.right).cmp(&at(b.right)))
    });
    // Explaining a pair copies its texts: tens of thousands of pairs, on
    // every core, in order.
    scored.par_iter().filter_map(|s| to_pair(s, left, index, model, positions)).collect()
}

/// With `HOMEWARD_PROFILE` set, prints the wall time since `t` and the
/// process's CPU time (Linux) after each phase of a batch run on standard
/// error, to see where a benchmark's time goes. Timings only, never data.
pub fn prof(what: &str, t: std::time::Instant) {
    if std::env::var_os("HOMEWARD_PROFILE").is_some() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let f: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let g = |i: usize| f.get(i).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
        let cpu = g(11) + g(12);
        eprintln!("{:>8.3} s wall {cpu:>7.2} s cpu {what}", t.elapsed().as_secs_f64());
    }
}

/// Links requests (from families) against a registry: every pair above
/// the default threshold, ranked by probability within each request.
/// One request may have several candidates.
#[must_use]
pub fn link(requests: &[MatchRecord], registry: &[MatchRecord]) -> Vec<Pair> {
    link_with(requests, registry, &LinkConfig::default()).pairs
}

/// [`link`] with settings, returning the model and blocking statistics.
#[must_use]
pub fn link_with(requests: &[MatchRecord], registry: &[MatchRecord], config: &LinkConfig) -> Linkage {
    link_owned(requests.to_vec(), registry.to_vec(), config)
}

/// [`link_with`] taking the records, for callers that have no further use
/// for them (a million records are not copied): records, or records in
/// boxes (as [`crate::read_records`] gives them), which are kept as they
/// are.
#[must_use]
pub fn link_owned<R: Into<Box<MatchRecord>> + Send>(
    requests: Vec<R>,
    registry: Vec<R>,
    config: &LinkConfig,
) -> Linkage {
    let t = std::time::Instant::now();
    let mut index = Index::new();
    index.set_block_cap(config.block_cap);
    // Both lists are prepared with one memo of spellings: most of the
    // requests' names are in the registry.
    let spellings = Arc::new(Spellings::default());
    let prepared = prepare_parallel(registry, &spellings);
    prof("prepare registry", t);
    // Putting the registry in locality order is one core's work (moving
    // records in place); the other prepares the requests meanwhile.
    let ((prepared, positions), left) =
        rayon::join(|| in_locality_order(prepared), || prepare_in_pieces(requests, &spellings, PREPARE_PIECE));
    prof("prepare registry and requests", t);
    drop_later(spellings);
    index.extend_prepared(prepared);
    prof("index", t);
    let (scored, model, stats) = score(&left, &index, config, false);
    prof("score", t);
    let pairs = ranked(scored, &left, &index, &model, Some(&positions));
    prof("ranked", t);
    drop_later((left, index));
    Linkage { pairs, model, stats }
}

/// Requests a piece of the work [`link_owned`] does beside putting the
/// registry in order: small enough that the core which finishes that
/// takes a share of the requests, large enough that each piece's own memo
/// of spellings costs little.
const PREPARE_PIECE: usize = 12_500;

/// Prior share of records with a duplicate in a registry, before the data
/// says otherwise: duplicates are the exception, unlike a family's
/// request, which has even odds of being in the registry.
pub const DEFAULT_DUPLICATE_RATE: f64 = 0.05;

/// Likely duplicates within an index, each pair once (left before right
/// in slot order), ranked by left slot then probability. The model is
/// estimated from the index's own pairs, starting from the index's model
/// with a match rate of [`DEFAULT_DUPLICATE_RATE`].
#[must_use]
pub fn duplicates(index: &Index) -> Vec<Pair> {
    duplicates_with(index, &duplicate_config(index)).pairs
}

/// The default settings of [`duplicates`] for an index.
#[must_use]
pub fn duplicate_config(index: &Index) -> LinkConfig {
    let mut model = index.model().clone();
    model.match_rate = DEFAULT_DUPLICATE_RATE;
    LinkConfig { block_cap: index.block_cap(), model, ..LinkConfig::default() }
}

/// [`duplicates`] with settings (the index's own block cap applies).
#[must_use]
pub fn duplicates_with(index: &Index, config: &LinkConfig) -> Linkage {
    let left = index.records();
    let (scored, model, stats) = score(left, index, config, true);
    let pairs = ranked(scored, left, index, &model, None);
    Linkage { pairs, model, stats }
}

/// A field on which two matched records disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The field.
    pub field: Field,
    /// How they disagree ("different", "day and month swapped", …).
    pub level: &'static str,
    /// The value in list A.
    pub a: String,
    /// The value in list B.
    pub b: String,
}

/// One record of list A matched to one of list B.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The pair, with probability and explanation.
    pub pair: Pair,
    /// Fields whose agreement level counts against the match.
    pub conflicts: Vec<Conflict>,
}

/// Result of reconciling two lists.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    /// One-to-one matches, best first.
    pub matched: Vec<Matched>,
    /// Ids in list A with no match, in input order.
    pub unmatched_a: Vec<String>,
    /// Ids in list B with no match, in input order.
    pub unmatched_b: Vec<String>,
    /// The model used.
    pub model: Model,
    /// What blocking did.
    pub stats: BlockingStats,
}

/// Reconciles two lists (the two parties' lists of the same people):
/// one-to-one matches chosen greedily by probability, the records left
/// over on each side, and the fields on which matched records disagree.
#[must_use]
pub fn reconcile(list_a: &[MatchRecord], list_b: &[MatchRecord]) -> Reconciliation {
    reconcile_with(list_a, list_b, &LinkConfig::default())
}

/// [`reconcile`] with settings.
#[must_use]
pub fn reconcile_with(list_a: &[MatchRecord], list_b: &[MatchRecord], config: &LinkConfig) -> Reconciliation {
    let mut index = Index::new();
    index.set_block_cap(config.block_cap);
    let spellings = Arc::new(Spellings::default());
    index.extend_prepared(prepare_parallel(list_b.to_vec(), &spellings));
    let left = prepare_parallel(list_a.to_vec(), &spellings);
    let (mut scored, model, stats) = score(&left, &index, config, false);
    scored.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.left.cmp(&b.left)).then(a.right.cmp(&b.right)));
    let mut used_a = vec![false; left.len()];
    let mut used_b = vec![false; index.len()];
    let mut matched = Vec::new();
    for s in &scored {
        let (i, j) = (s.left as usize, s.right as usize);
        if used_a.get(i).copied().unwrap_or(true) || used_b.get(j).copied().unwrap_or(true) {
            continue;
        }
        used_a[i] = true;
        used_b[j] = true;
        let (Some(pair), Some(a), Some(b)) = (to_pair(s, &left, &index, &model, None), left.get(i), index.get(j))
        else {
            continue;
        };
        let conflicts = Field::ALL
            .iter()
            .filter(|&&f| {
                let l = s.cmp[f.index()];
                l != MISSING && model.weight(f, l) < 0.0
            })
            .map(|&f| Conflict { field: f, level: f.level_label(s.cmp[f.index()]), a: f.value(a), b: f.value(b) })
            .collect();
        matched.push(Matched { pair, conflicts });
    }
    let unmatched = |used: &[bool], ids: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        ids.zip(used).filter(|(_, u)| !**u).map(|(id, _)| id.clone()).collect()
    };
    let unmatched_a = unmatched(&used_a, &mut list_a.iter().map(|r| &r.id));
    let unmatched_b = unmatched(&used_b, &mut list_b.iter().map(|r| &r.id));
    Reconciliation { matched, unmatched_a, unmatched_b, model, stats }
}

/// Precision, recall and F1 of a set of pairs against the true pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    /// Reported pairs that are true.
    pub true_positives: usize,
    /// Reported pairs that are not.
    pub false_positives: usize,
    /// True pairs not reported.
    pub false_negatives: usize,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// Scores reported (left id, right id) pairs against the truth. Repeats
/// count once.
#[must_use]
pub fn accuracy<'a>(
    reported: impl IntoIterator<Item = (&'a str, &'a str)>,
    truth: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Accuracy {
    let truth: HashMap<(&str, &str), ()> = truth.into_iter().map(|p| (p, ())).collect();
    let reported: HashMap<(&str, &str), ()> = reported.into_iter().map(|p| (p, ())).collect();
    let tp = reported.keys().filter(|p| truth.contains_key(p)).count();
    let fp = reported.len() - tp;
    let fn_ = truth.len() - tp;
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Accuracy { true_positives: tp, false_positives: fp, false_negatives: fn_, precision, recall, f1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BirthDate;

    fn rec(id: &str, family: &str, given: &str, patronymic: &str, birth: &str) -> MatchRecord {
        MatchRecord {
            id: id.into(),
            family_name: family.into(),
            given_names: given.into(),
            patronymic: Some(patronymic.into()).filter(|s: &String| !s.is_empty()),
            birth_date: BirthDate::parse(birth).ok(),
            ..MatchRecord::default()
        }
    }

    fn registry() -> Vec<MatchRecord> {
        vec![
            rec("r1", "Коваленко", "Александр", "Петрович", "1990-03-07"),
            rec("r2", "Коваленко", "Александр", "Иванович", "1985-11-20"),
            rec("r3", "Шевченко", "Дмитрий", "Сергеевич", "1995-01-15"),
            rec("r4", "Гончаренко", "Николай", "", "1979-06-02"),
            rec("r5", "Бондаренко", "Юрий", "Андреевич", "2001-12-30"),
        ]
    }

    #[test]
    fn links_across_scripts_and_explains() {
        let requests = vec![
            rec("q1", "Kovalenko", "Sasha", "", "07.03.1990"),
            rec("q2", "Шевченко", "Дмитро", "Сергійович", "1995-01-15"),
            rec("q3", "Honcharenko", "Mykola", "", "1979-02-06"),
            rec("q4", "Петренко", "Іван", "", "1970"),
        ];
        let config = LinkConfig { estimate: false, ..LinkConfig::default() };
        let linkage = link_with(&requests, &registry(), &config);
        // Best candidate per request; in a registry of five the namesake
        // r2 may pass the threshold too, but ranks below.
        let mut best: Vec<(&str, &str)> =
            linkage.pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())).collect();
        best.dedup_by_key(|p| p.0);
        assert_eq!(best, vec![("q1", "r1"), ("q2", "r3"), ("q3", "r4")]);
        let q3 = linkage.pairs.iter().find(|p| p.left_id == "q3").expect("q3 linked");
        let text = q3.explanation.to_string();
        assert!(text.contains("family name: same after transliteration (+"), "{text}");
        assert!(text.contains("birth date: day and month swapped (+"), "{text}");
        assert!(text.contains("given name: same name in another language"), "{text}");
        let text = linkage.pairs[0].explanation.to_string();
        assert!(text.contains("patronymic: missing (0.0)"), "{text}");
    }

    #[test]
    fn reconciles_one_to_one() {
        let a = registry();
        let mut b = vec![
            rec("b1", "Kovalenko", "Oleksandr", "Petrovych", "1990-03-07"),
            rec("b3", "Shevchenko", "Dmytro", "Serhiiovych", "1995-01-16"),
            rec("b9", "Мельник", "Олег", "", "1999-09-09"),
        ];
        b[1].service_number = None;
        let config = LinkConfig { estimate: false, ..LinkConfig::default() };
        let rec = reconcile_with(&a, &b, &config);
        let pairs: Vec<(&str, &str)> =
            rec.matched.iter().map(|m| (m.pair.left_id.as_str(), m.pair.right_id.as_str())).collect();
        assert!(pairs.contains(&("r1", "b1")) && pairs.contains(&("r3", "b3")), "{pairs:?}");
        assert_eq!(pairs.len(), 2);
        assert_eq!(rec.unmatched_a, vec!["r2", "r4", "r5"]);
        assert_eq!(rec.unmatched_b, vec!["b9"]);
        let m3 = rec.matched.iter().find(|m| m.pair.left_id == "r3");
        assert!(m3.is_some_and(|m| m.conflicts.is_empty()), "one digit off is not a conflict");
    }

    #[test]
    fn finds_duplicates() {
        let mut records = registry();
        records.push(rec("r6", "Kovalenko", "Oleksandr", "Petrovych", "1990-07-03"));
        let index = Index::build(records);
        let config = LinkConfig { estimate: false, ..duplicate_config(&index) };
        let d = duplicates_with(&index, &config);
        let got: Vec<(&str, &str)> = d.pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())).collect();
        assert_eq!(got, vec![("r1", "r6")]);
        assert_eq!(duplicates(&Index::new()), Vec::new());
    }

    fn ids(linkage: &Linkage) -> Vec<(String, String, u64)> {
        linkage.pairs.iter().map(|p| (p.left_id.clone(), p.right_id.clone(), p.probability.to_bits())).collect()
    }

    /// Past the estimation sample, pairs are weighed as they are compared
    /// and only those that could pass are kept: with a fixed model this
    /// must report exactly what keeping every pair reports, and with the
    /// model estimated from the sample, nearly as well as from every
    /// record.
    #[test]
    fn a_search_gives_the_probability_a_batch_run_gives() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(200, 2_000, 11));
        let index = Index::build(data.registry.iter().cloned());
        let config = LinkConfig {
            estimate: false,
            threshold: 0.0,
            model: index.model().clone(),
            block_cap: index.block_cap(),
            ..LinkConfig::default()
        };
        let batch = link_with(&data.requests, &data.registry, &config);
        let mut compared = 0;
        for (left, request) in data.requests.iter().enumerate() {
            let mut from_batch: Vec<(&str, f64)> =
                batch.pairs.iter().filter(|p| p.left == left).map(|p| (p.right_id.as_str(), p.probability)).collect();
            from_batch.sort_by(|a, b| a.0.cmp(b.0));
            let found = index.search(request, usize::MAX);
            let mut from_search: Vec<(&str, f64)> = found.iter().map(|c| (c.id.as_str(), c.probability)).collect();
            from_search.sort_by(|a, b| a.0.cmp(b.0));
            assert_eq!(from_batch.len(), from_search.len(), "request {}", request.id);
            for (b, s) in from_batch.iter().zip(&from_search) {
                assert_eq!(b.0, s.0);
                assert!((b.1 - s.1).abs() < 1e-9, "{}: batch {} search {}", b.0, b.1, s.1);
                compared += 1;
            }
        }
        assert!(compared > 200, "{compared} pairs compared");
    }

    #[test]
    fn two_passes_report_what_one_does() {
        let data = crate::synth::generate(&crate::synth::SynthConfig::new(3_000, 6_000, 7));
        let truth: Vec<(&str, &str)> = data.truth.iter().map(|(q, r)| (q.as_str(), r.as_str())).collect();
        let all = LinkConfig { estimation_sample: usize::MAX, ..LinkConfig::default() };
        let sampled = LinkConfig { estimation_sample: 500, ..LinkConfig::default() };
        for estimate in [false, true] {
            let one = link_with(&data.requests, &data.registry, &LinkConfig { estimate, ..all.clone() });
            let two = link_with(&data.requests, &data.registry, &LinkConfig { estimate, ..sampled.clone() });
            assert_eq!(one.stats, two.stats, "the same pairs are compared");
            // The index holds the registry in another order; positions are
            // the input's.
            for p in &two.pairs {
                assert_eq!(data.registry[p.right].id, p.right_id);
                assert_eq!(data.requests[p.left].id, p.left_id);
            }
            let f1 = |l: &Linkage| {
                accuracy(l.pairs.iter().map(|p| (p.left_id.as_str(), p.right_id.as_str())), truth.iter().copied()).f1
            };
            if estimate {
                assert!(f1(&one) > 0.85, "F1 {}", f1(&one));
                assert!((f1(&one) - f1(&two)).abs() < 0.01, "F1 {} from all, {} from the sample", f1(&one), f1(&two));
            } else {
                assert!(!one.pairs.is_empty());
                assert_eq!(ids(&one), ids(&two));
            }
        }
        // Even a threshold of zero keeps every pair.
        let zero = |estimation_sample| LinkConfig { estimate: false, threshold: 0.0, estimation_sample, ..all.clone() };
        let one = link_with(&data.requests, &data.registry, &zero(usize::MAX));
        let two = link_with(&data.requests, &data.registry, &zero(500));
        assert_eq!(one.pairs.len() as u64, one.stats.pairs);
        assert_eq!(ids(&one), ids(&two));
    }

    #[test]
    fn permuting_in_place_puts_each_item_where_the_order_says() {
        for n in [0usize, 1, 2, 7, 1000] {
            let mut rng = Rng::new(n as u64);
            let mut order: Vec<u32> = (0..u32::try_from(n).unwrap()).collect();
            for i in (1..n).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
            let mut permuted = items.clone();
            permute(&mut permuted, &order);
            let expected: Vec<String> = order.iter().map(|&i| items[i as usize].clone()).collect();
            assert_eq!(permuted, expected, "{n} items");
        }
    }

    #[test]
    fn accuracy_counts() {
        let a = accuracy([("a", "1"), ("b", "2"), ("c", "9")], [("a", "1"), ("b", "2"), ("d", "4")]);
        assert_eq!((a.true_positives, a.false_positives, a.false_negatives), (2, 1, 1));
        assert!((a.f1 - 2.0 / 3.0).abs() < 1e-12);
    }
}
