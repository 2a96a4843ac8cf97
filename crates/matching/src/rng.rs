//! A small seeded generator (SplitMix64) for sampling random pairs and for
//! the synthetic data: reproducible across platforms and releases, which a
//! `rand` generator does not promise, and no dependency.

/// SplitMix64 (Steele, Lea and Flood 2014): passes BigCrush, one `u64` of
/// state.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); Lemire's multiply-shift, whose bias is
    /// below 2^-32 for the sizes used here.
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let r = ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64;
        usize::try_from(r).unwrap_or(0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        let x = (self.next_u64() >> 11) as f64;
        x / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
