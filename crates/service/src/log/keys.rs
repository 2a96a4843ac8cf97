//! The log's signing key: a C2SP signed-note key in a file readable only by
//! its owner, in the data folder, never in the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use homeward_tlog::{KeyType, Signer, Verifier};

pub const KEY_FILE: &str = "log-signing.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{path}: not a signed-note private key (PRIVATE+KEY+...)")]
    Malformed { path: String },
    #[error("{path}: readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    Exposed { path: String, mode: u32 },
    #[error("log origin {0:?} is not a valid key name (no spaces or '+')")]
    BadOrigin(String),
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Loads the log key, refusing a key file others can read.
pub fn load(data_dir: &Path) -> Result<Option<Signer>, KeyError> {
    let path = key_path(data_dir);
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(KeyError::File { path: shown, reason: e.kind().to_string() }),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .map_err(|e| KeyError::File { path: shown.clone(), reason: e.kind().to_string() })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed { path: shown, mode });
        }
    }
    Signer::parse(text.trim()).map(Some).map_err(|_| KeyError::Malformed { path: shown })
}

/// Loads the log key, creating it (mode 0600) on first use.
pub fn load_or_create(data_dir: &Path, origin: &str) -> Result<(Signer, bool), KeyError> {
    if let Some(s) = load(data_dir)? {
        return Ok((s, false));
    }
    let signer = Signer::generate(origin, KeyType::Ed25519).map_err(|_| KeyError::BadOrigin(origin.to_owned()))?;
    let path = key_path(data_dir);
    let shown = path.display().to_string();
    let io = |e: std::io::Error| KeyError::File { path: shown.clone(), reason: e.kind().to_string() };
    homeward_store::seal::create_private_dir(data_dir).map_err(io)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(io)?;
    writeln!(file, "{}", signer.to_key_string()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok((signer, true))
}

/// A fresh origin for a new deployment: unique, stable once the key exists.
pub fn new_origin() -> String {
    let mut b = [0u8; 6];
    rand::fill(&mut b);
    format!("homeward.log/{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

pub fn verifier(signer: &Signer) -> Verifier {
    signer.verifier()
}
