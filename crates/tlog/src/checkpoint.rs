//! C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the note body that names
//! a log, a tree size and its root hash, signed by the log as a signed note.

use crate::hash::Hash;
use crate::note::{Note, NoteError, Signer, VerifiedNote, Verifier, open_note};

/// A log's tree head: origin, size and root, plus optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identifier of the log, such as `homeward.example/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 9162 root hash of the first `size` leaves.
    pub root: Hash,
    /// Opaque extension lines, each non-empty. The spec advises against them
    /// (monitors cannot audit them), and homeward writes none.
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The body is not a checkpoint.
    #[error("malformed checkpoint")]
    Malformed,
    /// The checkpoint's origin is not the one expected.
    #[error("checkpoint is for origin {0:?}")]
    WrongOrigin(String),
    /// The signed note around it failed.
    #[error(transparent)]
    Note(#[from] NoteError),
}

fn is_line(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    #[must_use]
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self { origin: origin.to_string(), size, root, extensions: Vec::new() }
    }

    /// The note body: `<origin>\n<size>\n<base64 root>\n` then one line per
    /// extension.
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] if the origin or an extension line is
    /// empty or holds a control character, which would change the line
    /// structure.
    pub fn to_body(&self) -> Result<String, CheckpointError> {
        if !is_line(&self.origin) || !self.extensions.iter().all(|e| is_line(e)) {
            return Err(CheckpointError::Malformed);
        }
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, self.root.to_base64());
        for ext in &self.extensions {
            body.push_str(ext);
            body.push('\n');
        }
        Ok(body)
    }

    /// Parses a checkpoint body (the note text, without signatures).
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] unless the body has a non-empty origin,
    /// a decimal size without leading zeros, a base64 32-byte root, non-empty
    /// extension lines, and ends in a newline.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let lines = body.strip_suffix('\n').ok_or(CheckpointError::Malformed)?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::Malformed);
        };
        let canonical_size =
            !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        if !is_line(origin) || !canonical_size {
            return Err(CheckpointError::Malformed);
        }
        let size = size.parse().map_err(|_| CheckpointError::Malformed)?;
        let root = Hash::from_base64(root).ok_or(CheckpointError::Malformed)?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if !extensions.iter().all(|e| is_line(e)) {
            return Err(CheckpointError::Malformed);
        }
        Ok(Self { origin: origin.to_string(), size, root, extensions })
    }

    /// The signed note of this checkpoint, signed by the log's Ed25519 key.
    /// The key name should be the origin.
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] or a signing error.
    pub fn sign(&self, signer: &Signer) -> Result<String, CheckpointError> {
        Ok(Note::sign(&self.to_body()?, &[signer])?.to_string())
    }
}

/// The signed checkpoint note for the tree of `size` leaves with `root` in
/// the log `origin`, signed by the log's Ed25519 `signer` (whose key name
/// should be the origin): the text a log publishes and sends to witnesses.
///
/// # Errors
/// [`CheckpointError::Malformed`] for an origin that is empty or holds a
/// control character; [`NoteError::WrongKeyType`] for a cosigner key.
pub fn sign_checkpoint(origin: &str, size: u64, root: Hash, signer: &Signer) -> Result<String, CheckpointError> {
    Checkpoint::new(origin, size, root).sign(signer)
}

/// Opens a signed checkpoint: checks the note against `verifiers` and that
/// its origin is `origin`, then parses the body.
///
/// # Errors
/// [`CheckpointError`] if the note does not verify, the origin differs or the
/// body is not a checkpoint.
pub fn open_checkpoint(
    msg: &str,
    origin: &str,
    verifiers: &[Verifier],
) -> Result<(Checkpoint, VerifiedNote), CheckpointError> {
    let note = open_note(msg, verifiers)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::WrongOrigin(checkpoint.origin));
    }
    Ok((checkpoint, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example() {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse(body).unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20_852_163);
        assert!(cp.extensions.is_empty());
        assert_eq!(cp.to_body().unwrap(), body);
    }

    #[test]
    fn extensions_round_trip() {
        let mut cp = Checkpoint::new("o", 0, crate::hash::empty_root());
        cp.extensions.push("ext one".into());
        let body = cp.to_body().unwrap();
        assert_eq!(Checkpoint::parse(&body).unwrap(), cp);
    }

    #[test]
    fn rejects_malformed_bodies() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        for body in [
            format!("o\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            "o\n1\nAAAA\n".to_string(),
            "o\n1\n".to_string(),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\n\n"),
        ] {
            assert_eq!(Checkpoint::parse(&body), Err(CheckpointError::Malformed), "{body:?}");
        }
        assert!(Checkpoint::parse(&format!("o\n0\n{root}\n")).is_ok());
        let bad = Checkpoint::new("two\nlines", 1, crate::hash::empty_root());
        assert_eq!(bad.to_body(), Err(CheckpointError::Malformed));
    }
}
