//! A small in-memory rate limiter: a fixed number of requests per key per
//! window (GCRA, the algorithm `governor` uses), answering how long to wait.
//!
//! Why our own rather than `tower_governor`: limits here are keyed by what
//! a handler knows (the account after authentication, the username typed
//! into the login form), not only by what a layer sees; the answer must be
//! our problem-details 429 with Retry-After; and it is sixty lines with no
//! dependency. It complements the durable login throttle in the store
//! (failed logins per account and per address, which survives restarts and
//! is shared by every server on one PostgreSQL): this one caps the rate of
//! all attempts, so that even well-formed ones cannot buy unbounded Argon2
//! work.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `burst` requests at once, refilled evenly over `per`.
#[derive(Debug)]
pub struct RateLimiter<K> {
    interval: Duration,
    burst: u32,
    /// Per key, the theoretical arrival time of the next request (GCRA).
    tat: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(burst: u32, per: Duration) -> Self {
        let burst = burst.max(1);
        Self { interval: per / burst, burst, tat: Mutex::new(HashMap::new()) }
    }

    /// Takes one request for `key`: `Ok` if allowed, `Err(wait)` if not.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut tat = self.tat.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Forget keys that are back to a full burst, so the map stays small.
        if tat.len() > 10_000 {
            tat.retain(|_, t| *t > now);
        }
        let tolerance = self.interval * (self.burst - 1);
        let current = tat.get(key).copied().unwrap_or(now).max(now);
        let allowed_from = current.checked_sub(tolerance).unwrap_or(now);
        if allowed_from > now {
            return Err(allowed_from - now);
        }
        tat.insert(key.clone(), current + self.interval);
        Ok(())
    }
}

/// Whole seconds to wait, rounded up and at least one, for Retry-After.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_per_key() {
        let limiter = RateLimiter::new(3, Duration::from_secs(30));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(&"a", t0), Ok(()));
        }
        let wait = limiter.check_at(&"a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        assert_eq!(limiter.check_at(&"b", t0), Ok(()), "keys are separate");
        assert!(limiter.check_at(&"a", t0 + Duration::from_secs(9)).is_err());
        assert_eq!(limiter.check_at(&"a", t0 + Duration::from_secs(10)), Ok(()));
        assert!(limiter.check_at(&"a", t0 + Duration::from_secs(10)).is_err());
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
    }
}
