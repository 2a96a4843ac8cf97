//! Encryption at rest of contact and health fields (status details): a
//! keyring of numbered XChaCha20-Poly1305 keys in a file readable only by
//! its owner, never in the database.
//!
//! A sealed value is `hw1:<key id>:<base64(nonce || ciphertext)>`, with a
//! fresh random 24-byte nonce per value and the column's name as associated
//! data, so a value cannot be moved to another column. The key id tells
//! `homeward keys rotate` which key sealed a value. Backends seal when they
//! bind a column and open when they read a row: everything above the row code
//! (the log's commitments, `log verify`, exports, the API) sees plaintext.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use homeward_domain::PersonIdentity;

use crate::StoreError;

/// The keyring's file name in the data folder.
pub const KEYRING_FILE: &str = "field-keys";

/// The fingerprint key's file name, beside the keyring.
pub const FINGERPRINT_KEY_FILE: &str = "fingerprint.key";

/// `identity_version.fingerprint_scheme`: SHA-256 of the canonical JSON,
/// unkeyed (written before migration 0006).
pub const FINGERPRINT_UNKEYED: i64 = 0;
/// `identity_version.fingerprint_scheme`: HMAC-SHA256 of the canonical JSON
/// under the fingerprint key.
pub const FINGERPRINT_HMAC: i64 = 1;

/// The columns that are sealed: their names are the associated data.
pub const SEALED_COLUMNS: [&str; 2] = ["person_to_inform", "correspondence_address"];

const PREFIX: &str = "hw1:";
const NONCE_LEN: usize = 24;

/// What can go wrong with the keyring or a sealed value. Never carries a
/// value or a key.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{path}: readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    Exposed { path: String, mode: u32 },
    #[error("{path}: line {line} is not `<key id> <base64 key>`")]
    Malformed { path: String, line: usize },
    #[error("{path}: no keys")]
    Empty { path: String },
    #[error("value is not sealed")]
    NotSealed,
    #[error("sealed value is malformed")]
    BadFormat,
    #[error("sealed with key {0}, which is not in the keyring")]
    UnknownKey(u32),
    #[error("sealed value does not decrypt (wrong key, wrong column or altered)")]
    Decrypt,
}

/// Numbered keys; new values are sealed with the highest-numbered one.
/// Beside them, the key of the identity fingerprint (its own file, never
/// rotated: every stored fingerprint is computed under it).
///
/// A keyring loaded from its file remembers the file: a value sealed with a
/// key id it does not hold, or a file changed since it was read (another
/// process ran `homeward keys rotate` while this one serves), makes it read
/// the file again and learn the new keys, so a running server opens values
/// the new key sealed and seals new ones with it.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, [u8; 32]>,
    fingerprint: [u8; 32],
    /// Derived from `fingerprint` once ([`Keyring::entry_key`]): every log
    /// append and every entry `log verify` checks uses it.
    entry: EntryKey,
    source: Option<Arc<Source>>,
}

impl PartialEq for Keyring {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys && self.fingerprint == other.fingerprint
    }
}
impl Eq for Keyring {}

/// The key of log entries' MACs ([`Keyring::entry_key`]).
#[derive(Clone)]
pub struct EntryKey([u8; 32]);

impl std::fmt::Debug for EntryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EntryKey(..)")
    }
}

impl EntryKey {
    /// HMAC-SHA256 of `message` under the key.
    pub fn mac(&self, message: &[u8]) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }
}

/// The entry key under a fingerprint key (see [`Keyring::entry_key`]).
fn derive_entry_key(fingerprint: &[u8; 32]) -> EntryKey {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(fingerprint).expect("HMAC takes any key length");
    mac.update(b"homeward/log-entry-key/v1");
    EntryKey(mac.finalize().into_bytes().into())
}

/// How often a keyring checks its file for keys added by another process
/// when it seals (a `stat`; the file is read only when it changed).
const RECHECK_MS: u64 = 1000;

/// The file a keyring was loaded from, and the keys learned from it since.
struct Source {
    path: std::path::PathBuf,
    learned: RwLock<BTreeMap<u32, [u8; 32]>>,
    /// The file's modification time when last read.
    modified: Mutex<Option<SystemTime>>,
    /// When the file was last checked, in ms since the Unix epoch.
    checked_ms: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Source {
    fn new(path: &Path) -> Self {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Self {
            path: path.to_path_buf(),
            learned: RwLock::new(BTreeMap::new()),
            modified: Mutex::new(modified),
            checked_ms: AtomicU64::new(now_ms()),
        }
    }

    fn learned(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, [u8; 32]>> {
        self.learned.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reads the file again if it changed since it was last read; learns the
    /// keys `own` does not hold. A file that cannot be read is skipped: the
    /// keys already known keep working.
    fn refresh(&self, own: &BTreeMap<u32, [u8; 32]>) {
        self.checked_ms.store(now_ms(), Ordering::Relaxed);
        let mut modified = self.modified.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        if now.is_none() || now == *modified {
            return;
        }
        if let Ok(Some(keys)) = read_keys(&self.path) {
            let mut learned = self.learned.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (id, key) in keys {
                if !own.contains_key(&id) {
                    learned.insert(id, key);
                }
            }
            *modified = now;
        }
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("key_ids", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::fill(&mut k);
    k
}

impl Keyring {
    /// A keyring with one fresh key (id 1) and a fresh fingerprint key, in memory.
    pub fn generate() -> Self {
        let fingerprint = random_key();
        Self {
            keys: BTreeMap::from([(1, random_key())]),
            entry: derive_entry_key(&fingerprint),
            fingerprint,
            source: None,
        }
    }

    /// The identity's fingerprint: HMAC-SHA256 of its canonical JSON under the
    /// fingerprint key. Tells an unchanged re-import from a changed one, and
    /// without the key a database copy confirms no guessed value.
    pub fn fingerprint(&self, identity: &PersonIdentity) -> [u8; 32] {
        self.fingerprint_canonical(&identity.canonical_json())
    }

    /// [`Keyring::fingerprint`] of an identity's canonical JSON.
    pub fn fingerprint_canonical(&self, canonical: &[u8]) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.fingerprint).expect("HMAC takes any key length");
        mac.update(canonical);
        mac.finalize().into_bytes().into()
    }

    /// The key that authenticates log entries (`log::entry_mac`): derived
    /// from the fingerprint key, so it lives in the same file outside the
    /// database and is never rotated. Whoever can write the database but not
    /// read this file cannot make an entry the sequencer accepts.
    pub fn entry_key(&self) -> &EntryKey {
        &self.entry
    }

    /// Whether a stored fingerprint, of `scheme`, is the one of `canonical`.
    pub fn fingerprint_matches(&self, stored: &[u8], scheme: i64, canonical: &[u8]) -> bool {
        use sha2::Digest;
        if scheme == FINGERPRINT_UNKEYED {
            stored == sha2::Sha256::digest(canonical).as_slice()
        } else {
            stored == self.fingerprint_canonical(canonical).as_slice()
        }
    }

    /// The key new values are sealed with: the highest id, counting keys
    /// learned from the file since it was loaded.
    pub fn current_id(&self) -> u32 {
        let own = self.keys.keys().next_back().copied().unwrap_or(0);
        let learned = self.source.as_ref().and_then(|s| s.learned().keys().next_back().copied()).unwrap_or(0);
        own.max(learned)
    }

    pub fn key_ids(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Adds a fresh key, which becomes the current one; returns its id.
    pub fn add_key(&mut self) -> u32 {
        let id = self.current_id() + 1;
        self.keys.insert(id, random_key());
        id
    }

    /// Removes a key (one that seals nothing any more).
    pub fn remove_key(&mut self, id: u32) -> bool {
        self.keys.len() > 1 && self.keys.remove(&id).is_some()
    }

    fn cipher(&self, id: u32) -> Result<XChaCha20Poly1305, SealError> {
        let key = match self.keys.get(&id) {
            Some(k) => *k,
            None => {
                // Another process may have added it: look in the file again.
                let source = self.source.as_ref().ok_or(SealError::UnknownKey(id))?;
                if !source.learned().contains_key(&id) {
                    source.refresh(&self.keys);
                }
                source.learned().get(&id).copied().ok_or(SealError::UnknownKey(id))?
            }
        };
        XChaCha20Poly1305::new_from_slice(&key).map_err(|_| SealError::BadFormat)
    }

    /// At most once a second, checks whether the file gained a key.
    fn recheck(&self) {
        if let Some(source) = &self.source
            && now_ms().saturating_sub(source.checked_ms.load(Ordering::Relaxed)) >= RECHECK_MS
        {
            source.refresh(&self.keys);
        }
    }

    /// Seals `plaintext` for `column` with the current key.
    pub fn seal(&self, column: &str, plaintext: &str) -> String {
        self.recheck();
        let id = self.current_id();
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = self
            .cipher(id)
            .and_then(|c| {
                c.encrypt(&XNonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: column.as_bytes() })
                    .map_err(|_| SealError::Decrypt)
            })
            // A keyring always holds its current key, and XChaCha20-Poly1305
            // fails only on messages of hundreds of gigabytes: never store a
            // value that could not be opened.
            .expect("a field value seals with the current key");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{id}:{}", STANDARD.encode(out))
    }

    pub fn seal_opt(&self, column: &str, plaintext: Option<&str>) -> Option<String> {
        plaintext.map(|p| self.seal(column, p))
    }

    /// Opens a value sealed for `column`.
    pub fn open(&self, column: &str, stored: &str) -> Result<String, SealError> {
        let id = key_id(stored)?;
        let body = stored.splitn(3, ':').nth(2).ok_or(SealError::BadFormat)?;
        let bytes = STANDARD.decode(body).map_err(|_| SealError::BadFormat)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SealError::BadFormat);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::BadFormat)?;
        let plain = self
            .cipher(id)?
            .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: column.as_bytes() })
            .map_err(|_| SealError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SealError::Decrypt)
    }

    pub fn open_opt(&self, column: &str, stored: Option<&str>) -> Result<Option<String>, SealError> {
        stored.map(|s| self.open(column, s)).transpose()
    }

    /// Re-seals a stored value with the current key. A value that is not
    /// sealed at all (written before encryption existed) is sealed as it is.
    /// `None` when it already uses the current key.
    pub fn reseal(&self, column: &str, stored: &str) -> Result<Option<String>, SealError> {
        match key_id(stored) {
            Ok(id) if id == self.current_id() => Ok(None),
            Ok(_) => Ok(Some(self.seal(column, &self.open(column, stored)?))),
            Err(SealError::NotSealed) => Ok(Some(self.seal(column, stored))),
            Err(e) => Err(e),
        }
    }

    /// Loads the keyring, refusing a file others can read. `None` if absent.
    pub fn load(path: &Path) -> Result<Option<Self>, SealError> {
        let Some(keys) = read_keys(path)? else {
            return Ok(None);
        };
        // A keyring file from before the keyed fingerprint has no key file
        // beside it: one is made now (`backend.rs` refuses when the database
        // already holds keyed fingerprints, which only the lost file matches).
        let fingerprint = match read_fingerprint_key(&fingerprint_path(path))? {
            Some(k) => k,
            None => {
                write_fingerprint_key(&fingerprint_path(path), &random_key())?;
                read_fingerprint_key(&fingerprint_path(path))?
                    .ok_or_else(|| SealError::Empty { path: fingerprint_path(path).display().to_string() })?
            }
        };
        Ok(Some(Self {
            keys,
            entry: derive_entry_key(&fingerprint),
            fingerprint,
            source: Some(Arc::new(Source::new(path))),
        }))
    }

    /// Writes the keyring (mode 0600), replacing the file atomically.
    pub fn save(&self, path: &Path) -> Result<(), SealError> {
        self.write(path, true)
    }

    /// Writes the keyring where there is none; if another process made one
    /// first, that one is kept and returned, so two first runs cannot end
    /// up sealing with different keys.
    pub fn save_new(self, path: &Path) -> Result<Self, SealError> {
        match self.write(path, false) {
            // Read back: a fingerprint key already on disk is kept, not ours.
            Ok(()) => Self::load(path)?.ok_or_else(|| SealError::Empty { path: path.display().to_string() }),
            Err(SealError::File { .. }) if path.exists() => {
                Self::load(path)?.ok_or_else(|| SealError::Empty { path: path.display().to_string() })
            }
            Err(e) => Err(e),
        }
    }

    fn write(&self, path: &Path, replace: bool) -> Result<(), SealError> {
        // The fingerprint key first, and never replaced: every stored
        // fingerprint was computed under the one already there.
        write_fingerprint_key(&fingerprint_path(path), &self.fingerprint)?;
        let shown = path.display().to_string();
        let io = |e: std::io::Error| SealError::File { path: shown.clone(), reason: e.kind().to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(io)?;
        }
        let mut nonce = [0u8; 6];
        rand::fill(&mut nonce);
        let tmp = path.with_extension(format!("new-{}", nonce.iter().map(|b| format!("{b:02x}")).collect::<String>()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(io)?;
        writeln!(file, "# homeward field keys: <id> <base64 key>. Losing this file loses every contact field.")
            .map_err(io)?;
        for (id, key) in &self.keys {
            writeln!(file, "{id} {}", STANDARD.encode(key)).map_err(io)?;
        }
        file.sync_all().map_err(io)?;
        let placed = if replace { std::fs::rename(&tmp, path) } else { std::fs::hard_link(&tmp, path) };
        let _ = std::fs::remove_file(&tmp);
        placed.map_err(io)
    }

    /// Loads the keyring, creating it with one key on first use.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), SealError> {
        if let Some(k) = Self::load(path)? {
            return Ok((k, false));
        }
        Ok((Self::generate().save_new(path)?, true))
    }
}

/// The numbered keys of a keyring file, refusing a file others can read. `None` if absent.
fn read_keys(path: &Path) -> Result<Option<BTreeMap<u32, [u8; 32]>>, SealError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SealError::File { path: shown, reason: e.kind().to_string() }),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| SealError::File { path: shown.clone(), reason: e.kind().to_string() })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(SealError::Exposed { path: shown, mode });
        }
    }
    let mut keys = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || SealError::Malformed { path: shown.clone(), line: n + 1 };
        let (id, key) = line.split_once(' ').ok_or_else(bad)?;
        let id: u32 = id.parse().map_err(|_| bad())?;
        let key: [u8; 32] = STANDARD.decode(key.trim()).ok().and_then(|k| k.try_into().ok()).ok_or_else(bad)?;
        if id == 0 || keys.insert(id, key).is_some() {
            return Err(bad());
        }
    }
    if keys.is_empty() {
        return Err(SealError::Empty { path: shown });
    }
    Ok(Some(keys))
}

/// The fingerprint key's file beside the keyring at `keyring`.
pub fn fingerprint_path(keyring: &Path) -> std::path::PathBuf {
    keyring.with_file_name(FINGERPRINT_KEY_FILE)
}

/// Checks that a key file is readable by its owner only (Unix).
fn check_private(path: &Path) -> Result<(), SealError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shown = path.display().to_string();
        let mode = std::fs::metadata(path)
            .map_err(|e| SealError::File { path: shown.clone(), reason: e.kind().to_string() })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(SealError::Exposed { path: shown, mode });
        }
    }
    let _ = path;
    Ok(())
}

fn read_fingerprint_key(path: &Path) -> Result<Option<[u8; 32]>, SealError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SealError::File { path: shown, reason: e.kind().to_string() }),
    };
    check_private(path)?;
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .ok_or(SealError::Empty { path: shown.clone() })?;
    STANDARD
        .decode(line.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .map(Some)
        .ok_or(SealError::Malformed { path: shown, line: n + 1 })
}

/// Creates a folder for key files (and the folders above it), owner only
/// (0700) whatever the umask, where it is missing; an existing folder is
/// left as it is (the data folder's own check refuses an open one).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

/// Writes the fingerprint key (mode 0600) where there is none; an existing
/// file is kept as it is.
fn write_fingerprint_key(path: &Path, key: &[u8; 32]) -> Result<(), SealError> {
    let shown = path.display().to_string();
    let io = |e: std::io::Error| SealError::File { path: shown.clone(), reason: e.kind().to_string() };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    writeln!(
        file,
        "# homeward identity-fingerprint key (HMAC-SHA256), base64. Losing it makes every unchanged re-imported row look changed."
    )
    .map_err(io)?;
    writeln!(file, "{}", STANDARD.encode(key)).map_err(io)?;
    file.sync_all().map_err(io)
}

/// An identity as read from a row, its contact fields still sealed: the
/// only way to the [`PersonIdentity`] is [`SealedIdentity::open`].
#[derive(Debug)]
#[must_use]
pub struct SealedIdentity(PersonIdentity);

impl SealedIdentity {
    /// Wraps an identity whose contact fields hold stored (sealed) values.
    pub fn from_row(stored: PersonIdentity) -> Self {
        Self(stored)
    }

    /// Opens the contact fields; an error names `record` and the column, never the value.
    pub fn open(self, keys: &Keyring, record: impl std::fmt::Display) -> Result<PersonIdentity, StoreError> {
        let mut i = self.0;
        let fail = |column: &'static str, reason| StoreError::Sealed { record: record.to_string(), column, reason };
        i.person_to_inform =
            keys.open_opt(SEALED_COLUMNS[0], i.person_to_inform.as_deref()).map_err(|e| fail(SEALED_COLUMNS[0], e))?;
        i.correspondence_address = keys
            .open_opt(SEALED_COLUMNS[1], i.correspondence_address.as_deref())
            .map_err(|e| fail(SEALED_COLUMNS[1], e))?;
        Ok(i)
    }
}

/// The contact fields of `i` sealed for storage: (person_to_inform, correspondence_address).
pub fn seal_contacts(keys: &Keyring, i: &PersonIdentity) -> (Option<String>, Option<String>) {
    (
        keys.seal_opt(SEALED_COLUMNS[0], i.person_to_inform.as_deref()),
        keys.seal_opt(SEALED_COLUMNS[1], i.correspondence_address.as_deref()),
    )
}

/// The sealed health column of a status event (`status_event.details`:
/// wounds, illness, cause of death); its name is the associated data.
pub const DETAILS_COLUMN: &str = "details";

/// A status event's details sealed for storage.
pub fn seal_details(keys: &Keyring, details: Option<&str>) -> Option<String> {
    keys.seal_opt(DETAILS_COLUMN, details)
}

/// Opens a stored `status_event.details` of `person`'s event `seq`. A value
/// without the `hw1:` prefix was written before details were sealed and is
/// returned as it is (`homeward keys rotate` seals it). An error names the
/// record and the column, never the value.
pub fn open_details(
    keys: &Keyring,
    person: homeward_domain::PersonId,
    seq: u32,
    stored: Option<String>,
) -> Result<Option<String>, StoreError> {
    match stored {
        Some(v) if v.starts_with(PREFIX) => keys.open(DETAILS_COLUMN, &v).map(Some).map_err(|reason| {
            StoreError::Sealed { record: crate::log::record::status_id(person, seq), column: DETAILS_COLUMN, reason }
        }),
        other => Ok(other),
    }
}

/// A logged status event read from its row, its details opened (the log
/// commits to the plaintext); any other record is returned as it is.
pub fn open_status_record(
    keys: &Keyring,
    mut record: crate::log::LoggedRecord,
) -> Result<crate::log::LoggedRecord, StoreError> {
    if let crate::log::LoggedRecord::StatusEvent { person_id, seq, event, .. } = &mut record {
        event.details = open_details(keys, *person_id, *seq, event.details.take())?;
    }
    Ok(record)
}

/// How a record is named in an error: `identity SOURCE/RECORD_ID version N`.
pub fn identity_name(source: &str, record_id: &str, version: u32) -> String {
    format!("identity {source}/{record_id} version {version}")
}

/// The id of the key that sealed a stored value.
pub fn key_id(stored: &str) -> Result<u32, SealError> {
    let rest = stored.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
    let (id, _) = rest.split_once(':').ok_or(SealError::BadFormat)?;
    id.parse().map_err(|_| SealError::BadFormat)
}

/// Usage of the keyring in a store: values per key id, and values not sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealUsage {
    pub by_key: BTreeMap<u32, u64>,
    pub unsealed: u64,
    pub malformed: u64,
    /// Identity versions whose fingerprint is keyed (HMAC) / still unkeyed.
    pub keyed_fingerprints: u64,
    pub unkeyed_fingerprints: u64,
}

impl SealUsage {
    pub fn count(&mut self, stored: &str) {
        match key_id(stored) {
            Ok(id) => *self.by_key.entry(id).or_default() += 1,
            Err(SealError::NotSealed) => self.unsealed += 1,
            Err(_) => self.malformed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_column_binding() {
        let k = Keyring::generate();
        let s = k.seal("person_to_inform", "Olena, +380 44 000 0000");
        assert!(s.starts_with("hw1:1:"));
        assert!(!s.contains("Olena"));
        assert_eq!(k.open("person_to_inform", &s).unwrap(), "Olena, +380 44 000 0000");
        assert!(matches!(k.open("correspondence_address", &s), Err(SealError::Decrypt)));
        assert_ne!(s, k.seal("person_to_inform", "Olena, +380 44 000 0000"), "fresh nonce per value");
        assert!(matches!(k.open("person_to_inform", "plain"), Err(SealError::NotSealed)));
    }

    #[test]
    fn rotation_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYRING_FILE);
        let (mut k, created) = Keyring::load_or_create(&path).unwrap();
        assert!(created);
        let old = k.seal("correspondence_address", "Kyiv");
        assert_eq!(k.add_key(), 2);
        k.save(&path).unwrap();
        let k = Keyring::load(&path).unwrap().unwrap();
        assert_eq!(k.key_ids(), vec![1, 2]);
        let other = Keyring::generate().save_new(&path).unwrap();
        assert_eq!(other.key_ids(), vec![1, 2], "an existing keyring is kept");
        assert_eq!(other.open("correspondence_address", &old).unwrap(), "Kyiv");
        let new = k.reseal("correspondence_address", &old).unwrap().unwrap();
        assert_eq!(key_id(&new).unwrap(), 2);
        assert_eq!(k.reseal("correspondence_address", &new).unwrap(), None);
        assert_eq!(k.open("correspondence_address", &new).unwrap(), "Kyiv");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(Keyring::load(&path), Err(SealError::Exposed { .. })));
        }
    }

    #[test]
    fn a_loaded_keyring_learns_keys_another_process_adds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEYRING_FILE);
        let (server, _) = Keyring::load_or_create(&path).unwrap();
        let old = server.seal("person_to_inform", "Olena");
        // Another process: a new key on disk, a value sealed with it.
        let mut other = Keyring::load(&path).unwrap().unwrap();
        assert_eq!(other.add_key(), 2);
        other.save(&path).unwrap();
        let new = other.seal("person_to_inform", "Petro");
        assert_eq!(key_id(&new).unwrap(), 2);
        assert_eq!(server.open("person_to_inform", &new).unwrap(), "Petro", "read the file again");
        assert_eq!(server.open("person_to_inform", &old).unwrap(), "Olena");
        assert_eq!(server.current_id(), 2, "seals with the new key from now on");
        assert!(server.seal("person_to_inform", "x").starts_with("hw1:2:"));
        let unknown = new.replacen("hw1:2:", "hw1:9:", 1);
        assert!(matches!(server.open("person_to_inform", &unknown), Err(SealError::UnknownKey(9))));
        // A keyring made in memory has no file to look in.
        assert!(matches!(Keyring::generate().open("person_to_inform", &new), Err(SealError::UnknownKey(2))));
    }
}

#[cfg(all(test, unix))]
mod private_dir_tests {
    use std::os::unix::fs::PermissionsExt;

    /// Key folders are made owner-only whatever the umask would allow: the
    /// folder above a key file is the data folder, which must be 0700.
    #[test]
    fn key_folders_are_made_owner_only() {
        let base = tempfile::tempdir().unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let dir = base.path().join("a").join("data");
        // The keyring written into a folder that does not exist yet.
        let keyring = dir.join(super::KEYRING_FILE);
        super::Keyring::generate().save_new(&keyring).unwrap();
        for d in [&dir, &base.path().join("a")] {
            assert_eq!(std::fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700, "{}", d.display());
        }
        assert_eq!(std::fs::metadata(&keyring).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
