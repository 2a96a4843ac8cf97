//! SplitMix64, written out here rather than taken from a crate: the demo data
//! must stay byte-identical for a seed across releases and platforms (tests,
//! benchmarks and screenshots depend on it), and a ten-line generator whose
//! output can never change with a dependency upgrade is the cheapest way to
//! promise that. Statistical quality is ample for demo data; it is not for
//! anything secret.

/// The SplitMix64 finaliser: a bijective mix of 64 bits.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// An independent stream per person: person `i` does not depend on the
    /// draws made for persons before it, so changing one scenario's logic
    /// does not reshuffle every later person.
    pub(crate) fn for_person(seed: u64, index: u64) -> Self {
        Rng(mix64(mix64(seed) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Favours the head of a list (density falling linearly to zero at the
    /// tail): popular names first, so namesakes are common.
    pub(crate) fn skewed(&mut self, len: usize) -> usize {
        self.index(len).min(self.index(len))
    }

    /// Favours the head more strongly (density falling quadratically): for
    /// given names and ranks, where a few values dominate real lists.
    pub(crate) fn very_skewed(&mut self, len: usize) -> usize {
        self.skewed(len).min(self.index(len))
    }

    pub(crate) fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    /// Uniform in `lo..=hi`; `lo` when the range is empty.
    pub(crate) fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i32
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}
