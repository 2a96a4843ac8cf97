//! Passwords and random secrets, shared by the web server and the command line.
//!
//! The key decisions:
//! - Passwords are hashed with Argon2id at the OWASP parameters (19 MiB, two
//!   passes, one lane), kept as PHC strings so that stronger parameters can
//!   be introduced later and old hashes still verify.
//! - Checking the password of a user who does not exist costs the same as
//!   checking a wrong one: [`verify_password`] with no hash verifies against
//!   a dummy hash made with the same parameters, so the time of an answer
//!   does not tell whether a username exists.
//! - Session and API token secrets are 32 random bytes from the operating
//!   system, handed to the client once and stored only as their SHA-256
//!   ([`SecretHash`]). A slow hash is not needed for them: they are random,
//!   not chosen by people, so they cannot be guessed from a dictionary.
//!
//! Everything here is blocking and CPU-bound; the web server calls the
//! password functions in `spawn_blocking`. Nothing here does I/O.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use homeward_domain::SecretHash;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub use secrecy;

/// The shortest password a person may choose. Long passphrases beat
/// composition rules (NIST SP 800-63B); there is no other rule.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer input is refused before hashing, so a huge body cannot buy CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password cannot be used or hashed. Never holds the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("password hashing failed")]
    Hashing,
    #[error("the system's random number generator failed")]
    Random,
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Checks the rules a chosen password must meet.
pub fn check_new_password(password: &SecretString) -> Result<(), PasswordError> {
    let p = password.expose_secret();
    if p.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

/// Hashes a password to an Argon2id PHC string with a fresh random salt.
/// Blocking: tens of milliseconds by design.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    let p = password.expose_secret();
    if p.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| PasswordError::Random)?;
    let hash: PasswordHash =
        argon2().hash_password_with_salt(p.as_bytes(), &salt).map_err(|_| PasswordError::Hashing)?;
    Ok(hash.to_string())
}

/// A hash of a password nobody knows, made with the same parameters as real
/// ones, so that checking an unknown user costs what checking a known one does.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut random = [0u8; 32];
    // If the generator failed, a fixed input still gives the right cost; the
    // result is never accepted anyway (see verify_password).
    let _ = getrandom::fill(&mut random);
    let password = SecretString::from(URL_SAFE_NO_PAD.encode(random));
    hash_password(&password).unwrap_or_default()
});

/// Computes the dummy hash now, so the first unknown-user login does not pay for it.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Whether `password` matches `phc`. With `None` (no such user, or no usable
/// hash) it spends the same time on a dummy hash and returns false.
/// Blocking: tens of milliseconds by design.
pub fn verify_password(password: &SecretString, phc: Option<&str>) -> bool {
    let p = password.expose_secret();
    let (hash, real) = match phc.map(PasswordHash::new) {
        Some(Ok(h)) => (h, true),
        _ => match PasswordHash::new(&DUMMY_HASH) {
            Ok(h) => (h, false),
            Err(_) => return false,
        },
    };
    // Over-long input is compared anyway (truncated) so that its answer takes as long.
    let input = &p.as_bytes()[..p.len().min(MAX_PASSWORD_BYTES)];
    let ok = argon2().verify_password(input, &hash).is_ok();
    ok && real && p.len() <= MAX_PASSWORD_BYTES
}

/// What a secret is for; its prefix makes a leaked one recognisable (secret
/// scanners, logs) and tells which lookup to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A web session cookie.
    Session,
    /// An API token for programs.
    ApiToken,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::Session => "hws_",
            SecretKind::ApiToken => "hwt_",
        }
    }
}

/// A fresh secret: the value for the client (shown or sent once) and the hash to store.
pub fn new_secret(kind: SecretKind) -> Result<(SecretString, SecretHash), PasswordError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| PasswordError::Random)?;
    let value = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_secret(&value);
    Ok((SecretString::from(value), hash))
}

/// The stored form of a secret the client presents.
pub fn hash_secret(value: &str) -> SecretHash {
    SecretHash(Sha256::digest(value.as_bytes()).into())
}

/// Whether a presented value has the shape of a secret of `kind` (43
/// base64url characters after the prefix): anything else is refused
/// without a database lookup.
pub fn looks_like(kind: SecretKind, value: &str) -> bool {
    value.strip_prefix(kind.prefix()).is_some_and(|rest| {
        rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A throttling key: the SHA-256 of a labelled value, so that what was typed
/// into a login form (possibly a password in the wrong field) is not stored.
pub fn throttle_key(label: &str, value: &str) -> SecretHash {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    SecretHash(h.finalize().into())
}

/// A random password for demo accounts: 20 base64url characters (120 bits).
pub fn random_password() -> Result<SecretString, PasswordError> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes).map_err(|_| PasswordError::Random)?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password(&secret("correct horse battery staple")).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&secret("correct horse battery staple"), Some(&hash)));
        assert!(!verify_password(&secret("correct horse battery stapler"), Some(&hash)));
        assert_ne!(hash, hash_password(&secret("correct horse battery staple")).unwrap(), "salted");
    }

    #[test]
    fn no_hash_or_a_broken_hash_never_verifies() {
        assert!(!verify_password(&secret("anything at all"), None));
        assert!(!verify_password(&secret("anything at all"), Some("not a phc string")));
    }

    #[test]
    fn an_unknown_user_costs_about_what_a_known_one_does() {
        warm_up();
        let hash = hash_password(&secret("correct horse battery staple")).unwrap();
        let time = |phc: Option<&str>| {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                verify_password(&secret("wrong password here"), phc);
            }
            start.elapsed()
        };
        let (known, unknown) = (time(Some(&hash)), time(None));
        let ratio = known.as_secs_f64() / unknown.as_secs_f64();
        assert!((0.2..5.0).contains(&ratio), "known {known:?} vs unknown {unknown:?}");
    }

    #[test]
    fn new_passwords_need_length_only() {
        assert_eq!(check_new_password(&secret("short")), Err(PasswordError::TooShort));
        assert_eq!(check_new_password(&secret("twelve chars")), Ok(()));
        assert_eq!(check_new_password(&secret(&"x".repeat(MAX_PASSWORD_BYTES + 1))), Err(PasswordError::TooLong));
    }

    #[test]
    fn secrets_are_random_prefixed_and_stored_as_their_hash() {
        let (a, ha) = new_secret(SecretKind::ApiToken).unwrap();
        let (b, hb) = new_secret(SecretKind::ApiToken).unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_ne!(ha, hb);
        assert_eq!(hash_secret(a.expose_secret()), ha);
        assert!(looks_like(SecretKind::ApiToken, a.expose_secret()));
        assert!(!looks_like(SecretKind::Session, a.expose_secret()));
        assert!(!looks_like(SecretKind::ApiToken, "hwt_short"));
        let (s, _) = new_secret(SecretKind::Session).unwrap();
        assert!(looks_like(SecretKind::Session, s.expose_secret()));
    }

    #[test]
    fn throttle_keys_separate_labels() {
        assert_ne!(throttle_key("account", "a"), throttle_key("address", "a"));
        assert_eq!(throttle_key("account", "a"), throttle_key("account", "a"));
    }
}
