//! The witness's memory: per log origin, the latest cosigned size, root and
//! checkpoint, kept in one JSON file written atomically and readable only by
//! its owner.
//!
//! Losing or resetting this file would let the witness be shown a rewritten
//! history and cosign it, so a file that exists but does not parse is an
//! error, never a fresh start.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use homeward_tlog::Hash;
use serde::{Deserialize, Serialize};

/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

/// What the witness last cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogState {
    /// Tree size of the latest cosigned checkpoint.
    pub size: u64,
    /// Its root hash.
    #[serde(with = "base64_hash")]
    pub root: Hash,
    /// The checkpoint note as submitted, with this witness's cosignature
    /// added: verifiable on its own with the log's and the witness's keys.
    pub checkpoint: String,
}

/// The state file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// Format version, [`STATE_VERSION`].
    pub version: u32,
    /// Per log origin.
    pub logs: BTreeMap<String, LogState>,
}

impl Default for WitnessState {
    fn default() -> Self {
        Self { version: STATE_VERSION, logs: BTreeMap::new() }
    }
}

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not a state file of a known version.
    #[error("state file {path} is corrupt or of an unknown version: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl WitnessState {
    /// Reads the state file; a missing file is an empty state (a new
    /// witness).
    ///
    /// # Errors
    /// [`StateError`] if the file cannot be read or does not parse.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(StateError::Io { path: path.to_path_buf(), source });
            }
        };
        let state: Self = serde_json::from_slice(&bytes)
            .map_err(|e| StateError::Corrupt { path: path.to_path_buf(), reason: e.to_string() })?;
        if state.version != STATE_VERSION {
            return Err(StateError::Corrupt { path: path.to_path_buf(), reason: format!("version {}", state.version) });
        }
        Ok(state)
    }

    /// Writes the state file atomically with owner-only permissions.
    ///
    /// # Errors
    /// [`StateError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let mut json = serde_json::to_vec_pretty(self)
            .map_err(|e| StateError::Io { path: path.to_path_buf(), source: io::Error::other(e) })?;
        json.push(b'\n');
        write_private_atomic(path, &json).map_err(|source| StateError::Io { path: path.to_path_buf(), source })
    }

    /// The state of log `origin`, if it was ever cosigned.
    #[must_use]
    pub fn log(&self, origin: &str) -> Option<&LogState> {
        self.logs.get(origin)
    }
}

/// Writes `bytes` to `path` so that a reader sees either the old file or the
/// whole new one, even across a crash: a temporary file in the same
/// directory (created mode 0600 on Unix), fsync, rename over `path`, then
/// fsync of the directory so the rename itself is durable.
///
/// # Errors
/// Any I/O error; `path` is then unchanged.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    #[cfg(unix)]
    {
        // tempfile already creates 0600 files; set it explicitly so the
        // guarantee does not rest on a library default.
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for fsync on other platforms; the rename
    // is as durable as the file system makes it.
    Ok(())
}

/// Creates `dir` (and parents) if missing, owner-only on Unix.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Serde for a [`Hash`] as standard base64, the form checkpoints use.
mod base64_hash {
    use homeward_tlog::Hash;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hash.to_base64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_base64(&s).ok_or_else(|| serde::de::Error::custom("not a base64 SHA-256 hash"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness.json");
        assert_eq!(WitnessState::load(&path).unwrap(), WitnessState::default());
        let mut state = WitnessState::default();
        state.logs.insert(
            "example.com/log".into(),
            LogState { size: 5, root: homeward_tlog::leaf_hash(b"x"), checkpoint: "note\n".into() },
        );
        state.save(&path).unwrap();
        assert_eq!(WitnessState::load(&path).unwrap(), state);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the state file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("witness.json");
        std::fs::write(&path, b"{").unwrap();
        assert!(matches!(WitnessState::load(&path), Err(StateError::Corrupt { .. })));
        std::fs::write(&path, br#"{"version":2,"logs":{}}"#).unwrap();
        assert!(matches!(WitnessState::load(&path), Err(StateError::Corrupt { .. })));
        std::fs::write(&path, br#"{"version":1,"logs":{"o":{"size":1,"root":"AAAA","checkpoint":""}}}"#).unwrap();
        assert!(matches!(WitnessState::load(&path), Err(StateError::Corrupt { .. })));
    }
}
