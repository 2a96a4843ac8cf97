//! Encryption at rest of contact fields: a keyring of numbered
//! XChaCha20-Poly1305 keys in a file readable only by its owner, never in the
//! database.
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

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use homeward_domain::PersonIdentity;

use crate::StoreError;

/// The keyring's file name in the data folder.
pub const KEYRING_FILE: &str = "field-keys";

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
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    keys: BTreeMap<u32, [u8; 32]>,
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
    /// A keyring with one fresh key (id 1), in memory.
    pub fn generate() -> Self {
        Self { keys: BTreeMap::from([(1, random_key())]) }
    }

    /// The key new values are sealed with.
    pub fn current_id(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(0)
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
        let key = self.keys.get(&id).ok_or(SealError::UnknownKey(id))?;
        XChaCha20Poly1305::new_from_slice(key).map_err(|_| SealError::BadFormat)
    }

    /// Seals `plaintext` for `column` with the current key.
    pub fn seal(&self, column: &str, plaintext: &str) -> String {
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
        Ok(Some(Self { keys }))
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
            Ok(()) => Ok(self),
            Err(SealError::File { .. }) if path.exists() => {
                Self::load(path)?.ok_or_else(|| SealError::Empty { path: path.display().to_string() })
            }
            Err(e) => Err(e),
        }
    }

    fn write(&self, path: &Path, replace: bool) -> Result<(), SealError> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| SealError::File { path: shown.clone(), reason: e.kind().to_string() };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
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
}
