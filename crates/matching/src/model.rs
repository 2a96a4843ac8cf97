//! Fellegi-Sunter weights: for each field and agreement level, `m` (how
//! often a true match shows that level) and `u` (how often two different
//! people do). A pair's evidence is the sum of log2(m/u) over its fields;
//! with the prior odds of a match it gives a probability.
//!
//! Estimation follows the usual split: `u` from random pairs (almost all
//! of which are different people), `m` and the share of matches by EM on
//! the blocked pairs (a two-class mixture with conditionally independent
//! fields). Both are smoothed towards the defaults with pseudo-counts and
//! clamped to [`FLOOR`], so a level never seen in the data, or data with
//! no matches at all, gives a bounded weight instead of an infinite one.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::compare::{Comparison, FIELD_COUNT, Field, MISSING};
use crate::record::PreparedRecord;

/// No probability in the model goes below this: a weight is at most
/// log2(1 / 1e-5) ≈ 16.6 bits in either direction.
pub const FLOOR: f64 = 1e-5;

/// Pseudo-pairs of prior belief in the default `m` when estimating it.
const M_PSEUDO: f64 = 50.0;
/// The highest match rate the probabilities use: at 1, "no match on the
/// other side" would have no weight at all.
const MAX_RATE: f64 = 0.999;
/// Pseudo-pairs of prior belief in the default `u`.
const U_PSEUDO: f64 = 100.0;

/// Default `m` and `u` per field and level, strongest level first. The
/// `u` are frequencies among random pairs of soldiers: about 1 in 1000
/// share a surname, 1 in 40 a given name, 1 in 15 000 a birth date;
/// the `m` assume a family gets a name right most of the time.
fn defaults(field: Field) -> (&'static [f64], &'static [f64]) {
    match field {
        Field::FamilyName => (&[0.80, 0.10, 0.06, 0.04], &[0.002, 0.01, 0.005, 0.983]),
        Field::GivenName => (&[0.70, 0.20, 0.04, 0.06], &[0.02, 0.02, 0.01, 0.95]),
        Field::Patronymic => (&[0.90, 0.04, 0.06], &[0.03, 0.01, 0.96]),
        Field::BirthDate => {
            (&[0.75, 0.05, 0.04, 0.12, 0.01, 0.01, 0.02], &[0.00007, 0.00007, 0.001, 0.01, 0.01, 0.02, 0.959])
        }
        Field::ServiceNumber => (&[0.88, 0.08, 0.04], &[FLOOR, FLOOR, 0.99998]),
        Field::PlaceOfBirth => (&[0.70, 0.15, 0.15], &[0.02, 0.03, 0.95]),
        Field::Unit => (&[0.60, 0.10, 0.30], &[0.005, 0.02, 0.975]),
        Field::MotherMaidenName => (&[0.80, 0.10, 0.10], &[0.002, 0.01, 0.988]),
    }
}

/// The weights of the Fellegi-Sunter model and the expected number of true
/// matches per searched record.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    m: [Vec<f64>; FIELD_COUNT],
    u: [Vec<f64>; FIELD_COUNT],
    weights: [Vec<f64>; FIELD_COUNT],
    /// Expected number of true matches of one searched record on the
    /// other side (for a family's request: the chance the person is in
    /// the registry at all). The prior probability of a pair is this over
    /// the size of the other side.
    pub match_rate: f64,
}

impl Default for Model {
    /// The defaults, with a match rate of one half: nothing is known about
    /// whether a searched person is on the other side.
    fn default() -> Self {
        let m = Field::ALL.map(|f| defaults(f).0.to_vec());
        let u = Field::ALL.map(|f| defaults(f).1.to_vec());
        Self::from_parts(m, u, 0.5)
    }
}

/// One field's contribution to a pair's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The field.
    pub field: Field,
    /// Its agreement level, in words.
    pub level: &'static str,
    /// log2(m/u): positive for evidence of a match.
    pub weight: f64,
}

/// Why a pair scored what it did: the prior and each field's weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// log2 of the prior odds of a match.
    pub prior: f64,
    /// Fields present on at least one side, in comparison order.
    pub evidence: Vec<Evidence>,
}

impl Explanation {
    /// Sum of the field weights (log2 of the Bayes factor).
    #[must_use]
    pub fn weight(&self) -> f64 {
        self.evidence.iter().map(|e| e.weight).sum()
    }
}

impl fmt::Display for Explanation {
    /// `family name: same after transliteration (+9.6); patronymic:
    /// missing (0.0); …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.evidence.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let sign = if e.weight > 0.05 { "+" } else { "" };
            // "-0.0" reads as evidence against; it is none.
            let w = if e.weight.abs() < 0.05 { 0.0 } else { e.weight };
            write!(f, "{}: {} ({sign}{w:.1})", e.field.label(), e.level)?;
        }
        Ok(())
    }
}

/// Counts of comparison patterns, for estimation.
/// Counts of comparison patterns. Hashed by the pattern's eight bytes
/// read as one word: a batch counts millions of pairs into these, and
/// SipHash cost more than the count.
pub type Patterns = HashMap<Comparison, u64, BuildHasherDefault<PatternHasher>>;

/// The hasher of [`Patterns`].
#[derive(Debug, Default, Clone, Copy)]
pub struct PatternHasher(u64);

impl Hasher for PatternHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        for chunk in bytes.chunks(8) {
            word.fill(0);
            word.get_mut(..chunk.len()).unwrap_or_default().copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(29) ^ u64::from_le_bytes(word)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // The length prefix of an array: the same for every pattern.
        self.0 ^= n as u64;
    }
}

impl Model {
    fn from_parts(m: [Vec<f64>; FIELD_COUNT], u: [Vec<f64>; FIELD_COUNT], match_rate: f64) -> Self {
        let clamp = |v: &Vec<f64>| v.iter().map(|p| p.clamp(FLOOR, 1.0)).collect::<Vec<_>>();
        let m = m.each_ref().map(clamp);
        let u = u.each_ref().map(clamp);
        let weights = std::array::from_fn(|f| m[f].iter().zip(&u[f]).map(|(m, u)| (m / u).log2()).collect());
        Self { m, u, weights, match_rate: match_rate.clamp(1e-4, 1.0) }
    }

    /// `m` of a level (probability among true matches).
    #[must_use]
    pub fn m(&self, field: Field, level: u8) -> f64 {
        self.m[field.index()].get(usize::from(level)).copied().unwrap_or(1.0)
    }

    /// `u` of a level (probability among different people).
    #[must_use]
    pub fn u(&self, field: Field, level: u8) -> f64 {
        self.u[field.index()].get(usize::from(level)).copied().unwrap_or(1.0)
    }

    /// log2(m/u) of a level; 0 for "missing".
    #[must_use]
    pub fn weight(&self, field: Field, level: u8) -> f64 {
        self.weights[field.index()].get(usize::from(level)).copied().unwrap_or(0.0)
    }

    /// Sum of the field weights of a comparison.
    #[must_use]
    pub fn total(&self, c: &Comparison) -> f64 {
        c.iter().zip(&self.weights).map(|(&l, w)| w.get(usize::from(l)).copied().unwrap_or(0.0)).sum()
    }

    /// A per-thread memo of [`Model::total`] and its Bayes factor.
    #[must_use]
    pub(crate) fn weigher(&self) -> Weigher<'_> {
        // Every slot starts as the all-missing pattern, with its true values.
        let all_missing = [MISSING; FIELD_COUNT];
        let weight = self.total(&all_missing);
        Weigher {
            model: self,
            slots: vec![(u64::from_le_bytes(all_missing), weight, weight.exp2()); 1 << Weigher::BITS],
        }
    }

    /// log2 prior odds that a given pair is a match, when one record is
    /// searched among `others` records.
    #[must_use]
    pub fn prior(&self, others: usize) -> f64 {
        let lambda = (self.match_rate / (others.max(1) as f64)).clamp(1e-15, 0.5);
        (lambda / (1.0 - lambda)).log2()
    }

    /// Match probability from a prior (log2 odds) and a weight.
    #[must_use]
    pub fn probability(prior: f64, weight: f64) -> f64 {
        1.0 / (1.0 + (-(prior + weight)).exp2())
    }

    /// The per-field explanation of a comparison.
    #[must_use]
    pub fn explain(&self, c: &Comparison, a: &PreparedRecord, b: &PreparedRecord, prior: f64) -> Explanation {
        let evidence = Field::ALL
            .iter()
            .filter(|&&f| c[f.index()] != MISSING || !f.is_blank(a) || !f.is_blank(b))
            .map(|&f| Evidence { field: f, level: f.level_label(c[f.index()]), weight: self.weight(f, c[f.index()]) })
            .collect();
        Explanation { prior, evidence }
    }

    /// Estimates `m` and `u` from the data; the match rate is kept (see
    /// [`Model::with_estimated_match_rate`]).
    ///
    /// - `sessions`: comparison patterns of blocked pairs that share one
    ///   kind of blocking key, with the fields that key holds fixed;
    /// - `random`: patterns of random pairs (for `u`).
    ///
    /// Why sessions: EM on all blocked pairs at once finds the wrong two
    /// classes. Pairs blocked on the given name and birth year all agree
    /// on both, so "same given name and year" looks like a class of its
    /// own. Within pairs sharing a birth date, the birth date says nothing
    /// and is left out; the other fields then separate matches from the
    /// random people born the same day. Each field's `m` is taken from
    /// the sessions that did not block on it (as Splink does).
    ///
    /// `self` gives the starting point and the prior of the smoothing.
    #[must_use]
    pub fn estimate(&self, sessions: &[(Patterns, Vec<Field>)], random: &Patterns) -> Model {
        let u = self.estimate_u(random);
        let mut sum: [Vec<f64>; FIELD_COUNT] = std::array::from_fn(|f| vec![0.0; self.m[f].len()]);
        let mut evidence = [0.0; FIELD_COUNT];
        for (patterns, fixed) in sessions {
            if patterns.is_empty() {
                continue;
            }
            let (m, matches) = self.em(patterns, fixed);
            for f in Field::ALL {
                if fixed.contains(&f) {
                    continue;
                }
                let i = f.index();
                for (s, v) in sum[i].iter_mut().zip(&m[i]) {
                    *s += matches[i] * v;
                }
                evidence[i] += matches[i];
            }
        }
        let m: [Vec<f64>; FIELD_COUNT] = std::array::from_fn(|f| {
            if evidence[f] > 0.0 { sum[f].iter().map(|s| s / evidence[f]).collect() } else { self.m[f].clone() }
        });
        Self::from_parts(m, u, self.match_rate)
    }

    /// The model with its match rate estimated from the evidence of each
    /// searched record that had candidates (`evidence`: log2 of the sum of
    /// its candidates' Bayes factors) among `searched` records, each
    /// searched among `others`.
    ///
    /// The EM estimate of the share of searched records whose match is on
    /// the other side, under "at most one match per record, any of the
    /// `others` a priori": the rate is the mean chance that a record's
    /// match is among its candidates ([`Model::chance_of_a_match`]).
    /// Summing the candidates' evidence, not taking the best one's alone,
    /// keeps the estimate from sinking as the other side grows: with ten
    /// times the records, a weakly described match's own probability
    /// falls, but the chance that it is one of the candidates does not.
    #[must_use]
    pub fn with_estimated_match_rate(&self, evidence: &[f64], searched: usize, others: usize) -> Model {
        if evidence.is_empty() || searched == 0 {
            return self.clone();
        }
        let mut model = self.clone();
        for _ in 0..100 {
            let matches: f64 = evidence.iter().map(|&s| model.chance_of_a_match(others, s)).sum();
            let rate = (matches / searched as f64).clamp(1e-4, 1.0);
            let done = (rate - model.match_rate).abs() < 1e-6;
            model.match_rate = rate;
            if done {
                break;
            }
        }
        model
    }

    /// The chance that a record's match is among its candidates, from
    /// log2 of the sum of their Bayes factors: with rate r and n others,
    /// odds (r/n)·sum / (1 − r).
    #[must_use]
    pub fn chance_of_a_match(&self, others: usize, log2_sum: f64) -> f64 {
        let r = self.match_rate.min(MAX_RATE);
        let odds = (r / others.max(1) as f64).log2() + log2_sum - (1.0 - r).log2();
        Self::probability(odds, 0.0)
    }

    /// The least weight with which a pair could reach probability
    /// `threshold` when its record is searched among `others`: with the
    /// highest match rate there is and no rival candidate
    /// ([`Model::pair_prior`]). A lighter pair can never be reported, so a
    /// batch need not keep it. Minus infinity when every pair could
    /// (a threshold of zero or less, or one no probability reaches short
    /// of rounding).
    #[must_use]
    pub fn passable_weight(&self, others: usize, threshold: f64) -> f64 {
        if !(threshold > 0.0 && threshold < 1.0) {
            return f64::NEG_INFINITY;
        }
        let r = MAX_RATE;
        let best_prior = (r / others.max(1) as f64).log2() - (1.0 - r).log2();
        let logit = (threshold / (1.0 - threshold)).log2();
        // Rounding in the probability must not drop a pair on the line.
        logit - best_prior - 1e-6
    }

    /// log2 prior odds that a candidate is the match of its record, given
    /// the record's other candidates (`log2_sum`: log2 of the sum of the
    /// Bayes factors of all its candidates, this one's `weight` included).
    /// Under "at most one match per record", the candidate competes with
    /// the others and with "no match on this side": odds
    /// (r/n)·BF / ((1 − r) + (r/n)·(sum − BF)). A lone candidate's prior
    /// is [`Model::prior`] less log2(1 − r); a namesake's falls with the
    /// evidence for its rivals.
    #[must_use]
    pub fn pair_prior(&self, others: usize, log2_sum: f64, weight: f64) -> f64 {
        let r = self.match_rate.min(MAX_RATE);
        let lambda = r / others.max(1) as f64;
        // sum - BF, as BF · (2^(log2_sum - weight) - 1), never below 0.
        let rest = if log2_sum > weight { weight.exp2() * ((log2_sum - weight).exp2() - 1.0) } else { 0.0 };
        lambda.log2() - ((1.0 - r) + lambda * rest).log2()
    }

    /// `u` from level frequencies among random pairs, smoothed towards
    /// the current `u`.
    fn estimate_u(&self, random: &Patterns) -> [Vec<f64>; FIELD_COUNT] {
        std::array::from_fn(|f| {
            let prior = &self.u[f];
            let mut counts = vec![0.0; prior.len()];
            for (c, &n) in random {
                if let Some(x) = counts.get_mut(usize::from(c[f])) {
                    *x += n as f64;
                }
            }
            let total: f64 = counts.iter().sum();
            counts.iter().zip(prior).map(|(c, p)| (c + U_PSEUDO * p) / (total + U_PSEUDO)).collect()
        })
    }

    /// EM for the two-class mixture on one session's pairs, leaving out
    /// the `fixed` fields. Returns `m` and, per field, the expected number
    /// of matches that had the field on both sides (the evidence behind
    /// that field's `m`). The `u` of blocked pairs is estimated alongside
    /// but not returned: blocking makes non-matches agree far more often
    /// than random pairs do.
    fn em(&self, blocked: &Patterns, fixed: &[Field]) -> ([Vec<f64>; FIELD_COUNT], [f64; FIELD_COUNT]) {
        let used: Vec<usize> = Field::ALL.iter().filter(|f| !fixed.contains(f)).map(|f| f.index()).collect();
        let patterns: Vec<(Comparison, f64)> = blocked.iter().map(|(c, &n)| (*c, n as f64)).collect();
        let total: f64 = patterns.iter().map(|(_, n)| n).sum();
        let mut m = self.m.clone();
        // Start u at the level frequencies of all pairs of the session:
        // most of them are non-matches.
        let mut u: [Vec<f64>; FIELD_COUNT] = std::array::from_fn(|f| {
            let mut counts = vec![1.0; self.u[f].len()];
            for (c, n) in &patterns {
                if let Some(x) = counts.get_mut(usize::from(c[f])) {
                    *x += n;
                }
            }
            let s: f64 = counts.iter().sum();
            counts.iter().map(|c| c / s).collect()
        });
        let mut lambda: f64 = 0.1;
        let mut m_counts: [Vec<f64>; FIELD_COUNT] = std::array::from_fn(|f| vec![0.0; m[f].len()]);
        for _ in 0..200 {
            m_counts = std::array::from_fn(|f| vec![0.0; m[f].len()]);
            let mut u_counts = m_counts.clone();
            let mut matches = 0.0;
            for (c, n) in &patterns {
                let (mut lm, mut lu) = (lambda.ln(), (1.0 - lambda).ln());
                for &f in &used {
                    let l = usize::from(c[f]);
                    if let (Some(pm), Some(pu)) = (m[f].get(l), u[f].get(l)) {
                        lm += pm.max(FLOOR).ln();
                        lu += pu.max(FLOOR).ln();
                    }
                }
                let g = 1.0 / (1.0 + (lu - lm).exp());
                matches += g * n;
                for &f in &used {
                    let l = usize::from(c[f]);
                    if let Some(x) = m_counts[f].get_mut(l) {
                        *x += g * n;
                    }
                    if let Some(x) = u_counts[f].get_mut(l) {
                        *x += (1.0 - g) * n;
                    }
                }
            }
            let new_lambda = (matches / total).clamp(1e-9, 0.999);
            let mut change = (new_lambda - lambda).abs();
            for &f in &used {
                let s: f64 = m_counts[f].iter().sum();
                let new: Vec<f64> =
                    m_counts[f].iter().zip(&self.m[f]).map(|(c, p)| (c + M_PSEUDO * p) / (s + M_PSEUDO)).collect();
                for (a, b) in new.iter().zip(&m[f]) {
                    change = change.max((a - b).abs());
                }
                m[f] = new;
                let s: f64 = u_counts[f].iter().sum();
                let k = u_counts[f].len() as f64;
                u[f] = u_counts[f].iter().map(|c| (c + 1.0) / (s + k)).collect();
            }
            lambda = new_lambda;
            if change < 1e-7 {
                break;
            }
        }
        let evidence = std::array::from_fn(|f| m_counts[f].iter().sum());
        (m, evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memo gives what the model does, for every pattern of a few
    /// fields' levels (more patterns than it has slots, so they collide and
    /// replace one another), asked twice.
    #[test]
    fn the_weigher_gives_the_models_weights() {
        let model = Model::default();
        let mut weigher = model.weigher();
        let levels = |f: Field| (0..=f.different()).chain([MISSING]);
        let mut patterns = Vec::new();
        for a in levels(Field::FamilyName) {
            for b in levels(Field::GivenName) {
                for d in levels(Field::BirthDate) {
                    for s in levels(Field::ServiceNumber) {
                        for p in levels(Field::PlaceOfBirth) {
                            for u in levels(Field::Unit) {
                                patterns.push([a, b, 0, d, s, p, u, MISSING]);
                            }
                        }
                    }
                }
            }
        }
        assert!(patterns.len() > 1 << Weigher::BITS);
        for _ in 0..2 {
            for c in &patterns {
                let (weight, factor) = weigher.weigh(c);
                assert_eq!(weight.to_bits(), model.total(c).to_bits(), "{c:?}");
                assert_eq!(factor.to_bits(), model.total(c).exp2().to_bits(), "{c:?}");
            }
        }
        assert_eq!(weigher.weigh(&[MISSING; FIELD_COUNT]), (0.0, 1.0));
    }

    /// Just above the passable weight a lone candidate reaches the
    /// threshold at the highest match rate; just below, at no rate.
    #[test]
    fn passable_weight_is_the_line() {
        let mut model = Model::default();
        for (others, threshold) in [(10, 0.5), (500_000, 0.5), (1_000_000, 0.9), (3, 0.01)] {
            let floor = model.passable_weight(others, threshold);
            for rate in [1e-4, 0.3, 0.9, 1.0] {
                model.match_rate = rate;
                let below = floor - 0.01;
                assert!(Model::probability(model.pair_prior(others, below, below), below) < threshold);
            }
            model.match_rate = 1.0;
            let above = floor + 0.01;
            assert!(Model::probability(model.pair_prior(others, above, above), above) >= threshold);
        }
        assert_eq!(model.passable_weight(10, 0.0), f64::NEG_INFINITY);
        assert_eq!(model.passable_weight(10, 1.0), f64::NEG_INFINITY);
    }

    #[test]
    fn defaults_are_sane() {
        let model = Model::default();
        for f in Field::ALL {
            let levels = f.levels().len();
            assert!(model.weight(f, 0) > 0.0, "{f:?}");
            assert!(model.weight(f, f.different()) < 0.0, "{f:?}");
            assert_eq!(model.weight(f, MISSING), 0.0);
            assert_eq!(model.m[f.index()].len(), levels);
            assert_eq!(model.u[f.index()].len(), levels);
            for l in 0..levels {
                let w = model.weight(f, u8::try_from(l).unwrap_or(0));
                assert!(w.is_finite() && w.abs() <= (1.0 / FLOOR).log2() + 1e-9);
            }
        }
    }

    #[test]
    fn degenerate_data_gives_finite_weights() {
        let model = Model::default();
        let mut blocked = Patterns::default();
        blocked.insert([0; FIELD_COUNT], 1000);
        let random = Patterns::default();
        let est = model.estimate(&[(blocked, vec![Field::BirthDate])], &random).with_estimated_match_rate(
            &[100.0; 10],
            10,
            10,
        );
        for f in Field::ALL {
            for l in 0..f.levels().len() {
                let w = est.weight(f, u8::try_from(l).unwrap_or(0));
                assert!(w.is_finite(), "{f:?} {l}: {w}");
            }
        }
        assert!(est.match_rate.is_finite());
        let empty = model.estimate(&[], &Patterns::default()).with_estimated_match_rate(&[], 0, 0);
        assert!(empty.prior(100).is_finite());
    }

    #[test]
    fn probability_from_weights() {
        assert!((Model::probability(0.0, 0.0) - 0.5).abs() < 1e-12);
        assert!(Model::probability(-20.0, 30.0) > 0.99);
        assert!(Model::probability(-20.0, 10.0) < 0.01);
    }

    #[test]
    fn one_match_per_record() {
        let model = Model { match_rate: 0.6, ..Model::default() };
        let n = 100_000;
        // A lone candidate: its probability is the chance that the record
        // has its match among its candidates.
        let lone = Model::probability(model.pair_prior(n, 20.0, 20.0), 20.0);
        assert!((lone - model.chance_of_a_match(n, 20.0)).abs() < 1e-12);
        // Two equal rivals share that chance, each less likely than alone.
        let sum = log2_sum_of(&[20.0, 20.0]);
        let each = Model::probability(model.pair_prior(n, sum, 20.0), 20.0);
        assert!(each < lone && 2.0 * each <= model.chance_of_a_match(n, sum) + 1e-12, "{each} {lone}");
        // The rate is recovered from the evidence: 600 of 1000 records
        // with a match (2^20), 400 with a chance look-alike (2^10).
        let evidence: Vec<f64> = (0..1000).map(|i| if i < 600 { 20.0 } else { 10.0 }).collect();
        let start = Model { match_rate: 0.2, ..Model::default() };
        let est = start.with_estimated_match_rate(&evidence, 1000, n);
        assert!((est.match_rate - 0.6).abs() < 0.05, "{}", est.match_rate);
    }

    fn log2_sum_of(w: &[f64]) -> f64 {
        w.iter().map(|w| w.exp2()).sum::<f64>().log2()
    }
}

/// The weight of a comparison and its Bayes factor (2^weight), remembered
/// by the comparison's eight bytes: a batch weighs tens of millions of
/// pairs that fall into a few thousand patterns, and summing eight table
/// entries and an exp2 per pair cost a tenth of the batch. Direct-mapped,
/// so it never grows; a value is the one [`Model::total`] gives.
#[derive(Debug)]
pub(crate) struct Weigher<'a> {
    model: &'a Model,
    slots: Vec<(u64, f64, f64)>,
}

impl Weigher<'_> {
    const BITS: u32 = 12;

    /// [`Model::total`] of `c` and 2^total.
    pub(crate) fn weigh(&mut self, c: &Comparison) -> (f64, f64) {
        let key = u64::from_le_bytes(*c);
        let i = usize::try_from(key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::BITS)).unwrap_or(0);
        if let Some(&(k, weight, factor)) = self.slots.get(i)
            && k == key
        {
            return (weight, factor);
        }
        let weight = self.model.total(c);
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = (key, weight, weight.exp2());
        }
        (weight, weight.exp2())
    }
}
