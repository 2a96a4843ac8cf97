//! Resolved credentials kept for a moment, so that a program polling the API
//! with one token does not cost a database lookup per request.
//!
//! Keyed by the SHA-256 of the secret ([`SecretHash`]), never the secret
//! itself. Only credentials that resolved to a live user are kept: an
//! unknown or revoked secret is looked up every time, so nobody can fill the
//! cache with junk. An entry lives [`AuthSettings::credential_ttl`] (1 s by
//! default), which bounds how long a token revoked, a session ended or a
//! user disabled by *another process* (the command line, a second server)
//! keeps working here. What this server itself ends (logout) it removes at
//! once ([`CredentialCache::forget`], [`CredentialCache::forget_user`]).
//!
//! A `Mutex<HashMap>` rather than a cache crate: entries live a second and
//! their number is the number of credentials in use, so there is no eviction
//! policy to get right; expired entries are swept when the map grows.
//!
//! [`AuthSettings::credential_ttl`]: super::AuthSettings::credential_ttl

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use homeward_store::{SecretHash, UserId};

use super::CurrentUser;

/// Above this many entries, an insert first sweeps the expired ones.
const SWEEP_ABOVE: usize = 4096;
/// Never more than this many: past it, an insert empties the map.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<SecretHash, (Instant, CurrentUser)>>,
}

impl CredentialCache {
    /// A zero `ttl` keeps nothing: every request is looked up.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::default() }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<SecretHash, (Instant, CurrentUser)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The caller resolved from `hash` less than the TTL ago.
    pub fn get(&self, hash: &SecretHash) -> Option<CurrentUser> {
        let map = self.map();
        let (until, user) = map.get(hash)?;
        (Instant::now() < *until).then(|| user.clone())
    }

    /// Keeps `user` for `hash` for the TTL, or until `ends_in` if sooner
    /// (a session's absolute end).
    pub fn insert(&self, hash: SecretHash, user: CurrentUser, ends_in: Option<Duration>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let until = now + ends_in.map_or(self.ttl, |e| e.min(self.ttl));
        let mut map = self.map();
        if map.len() >= SWEEP_ABOVE {
            map.retain(|_, (u, _)| *u > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(hash, (until, user));
    }

    /// Forgets one credential (a session ended here).
    pub fn forget(&self, hash: &SecretHash) {
        self.map().remove(hash);
    }

    /// Forgets every credential of a user (disabled here).
    pub fn forget_user(&self, user: UserId) {
        self.map().retain(|_, (_, u)| u.user.id != user);
    }
}

#[cfg(test)]
mod tests {
    use homeward_domain::{Role, Username};
    use time::OffsetDateTime;

    use super::*;
    use crate::auth::Credential;

    fn user(id: UserId) -> CurrentUser {
        CurrentUser {
            user: homeward_store::User {
                id,
                username: Username::parse("someone").unwrap(),
                role: Role::Auditor,
                disabled: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            role: Role::Auditor,
            credential: Credential::Session,
        }
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        // Any two distinct ids (the domain's UUID v7 maker).
        let (one, two) = (UserId(homeward_domain::PersonId::new().0), UserId(homeward_domain::PersonId::new().0));
        let cache = CredentialCache::new(Duration::from_millis(50));
        let (a, b, c) = (SecretHash([1; 32]), SecretHash([2; 32]), SecretHash([3; 32]));
        cache.insert(a, user(one), None);
        cache.insert(b, user(one), None);
        cache.insert(c, user(two), Some(Duration::ZERO));
        assert!(cache.get(&a).is_some());
        assert!(cache.get(&c).is_none(), "a session that ends now is not kept");
        cache.forget(&a);
        assert!(cache.get(&a).is_none());
        assert!(cache.get(&b).is_some());
        cache.forget_user(one);
        assert!(cache.get(&b).is_none());
        cache.insert(a, user(one), None);
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(&a).is_none(), "expired");
        let off = CredentialCache::new(Duration::ZERO);
        off.insert(a, user(one), None);
        assert!(off.get(&a).is_none());
    }
}
