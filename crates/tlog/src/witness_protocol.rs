//! The wire protocol between a log and its witnesses (c2sp.org/tlog-witness):
//! the `add-checkpoint` request body (an old size line, up to 63 consistency
//! proof lines, an empty line, then the signed checkpoint note) and the
//! paths. Here, in the pure library, because both sides speak it: the log's
//! client (`homeward-service`) and the witness server (`homeward-witness`).

use crate::Hash;

/// Path of the submission endpoint, under the submission prefix.
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";

/// Path of the latest cosigned checkpoint of a log (`?origin=<origin>`):
/// homeward's own addition, so that a log's verifier can compare with what
/// each witness last cosigned.
pub const LATEST_CHECKPOINT_PATH: &str = "/latest-checkpoint";

/// Content type of the "409 Conflict" body carrying the latest cosigned size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Most consistency proof lines a client may send ("The client MUST NOT send
/// more than 63 consistency proof lines").
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed `add-checkpoint` request. [`AddCheckpointRequest::to_body`] is
/// what a log sends; [`AddCheckpointRequest::parse`] what a witness reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// Size of the latest checkpoint the client believes the witness cosigned
    /// (0 if none).
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, exactly as sent.
    pub checkpoint: String,
}

/// Why a request body was refused; all are "400 Bad Request".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No empty line ends the header.
    #[error("missing empty line before the checkpoint")]
    MissingSeparator,
    /// The first line is not `old <size>` with a canonical decimal.
    #[error("malformed old size line")]
    OldSize,
    /// A proof line is not the base64 of 32 bytes.
    #[error("malformed consistency proof line")]
    ProofLine,
    /// More than 63 proof lines.
    #[error("too many consistency proof lines")]
    TooManyProofLines,
    /// Nothing after the empty line.
    #[error("missing checkpoint")]
    MissingCheckpoint,
}

/// A decimal without sign or leading zeros (`0` itself is allowed), as the
/// spec requires for the old size.
fn canonical_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

impl AddCheckpointRequest {
    /// Parses a request body. The checkpoint itself is not checked here.
    ///
    /// # Errors
    /// [`RequestError`] for a body that breaks the spec's syntax.
    pub fn parse(body: &str) -> Result<Self, RequestError> {
        // The header ends at the first empty line; the note that follows has
        // its own empty line before its signatures.
        let split = body.find("\n\n").ok_or(RequestError::MissingSeparator)?;
        let (header, checkpoint) = (&body[..split], &body[split + 2..]);
        let mut lines = header.split('\n');
        let old_size = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(canonical_decimal)
            .ok_or(RequestError::OldSize)?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(RequestError::TooManyProofLines);
            }
            proof.push(Hash::from_base64(line).ok_or(RequestError::ProofLine)?);
        }
        if checkpoint.is_empty() {
            return Err(RequestError::MissingCheckpoint);
        }
        Ok(Self { old_size, proof, checkpoint: checkpoint.to_string() })
    }

    /// The request body.
    #[must_use]
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&hash.to_base64());
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n\
        20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
        \n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    #[test]
    fn parses_the_spec_example() {
        let req = AddCheckpointRequest::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(req.old_size, 20_852_014);
        assert_eq!(req.proof.len(), 4);
        assert_eq!(req.proof[0].to_base64(), "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=");
        assert!(req.checkpoint.starts_with("example.com/behind-the-sofa\n20852163\n"));
        assert!(req.checkpoint.ends_with("qbSzm9Q=\n"));
        assert_eq!(req.to_body(), SPEC_EXAMPLE);
    }

    #[test]
    fn parses_an_empty_proof() {
        let req = AddCheckpointRequest::parse("old 0\n\no\n0\nx\n\n\u{2014} o AAAA\n").unwrap();
        assert_eq!(req.old_size, 0);
        assert!(req.proof.is_empty());
        assert_eq!(req.checkpoint, "o\n0\nx\n\n\u{2014} o AAAA\n");
    }

    #[test]
    fn refuses_malformed_bodies() {
        let h = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
        let cases = [
            ("old 1\nno empty line", RequestError::MissingSeparator),
            ("", RequestError::MissingSeparator),
            ("old 01\n\ncp", RequestError::OldSize),
            ("old -1\n\ncp", RequestError::OldSize),
            ("old +1\n\ncp", RequestError::OldSize),
            ("old  1\n\ncp", RequestError::OldSize),
            ("Old 1\n\ncp", RequestError::OldSize),
            ("old 18446744073709551616\n\ncp", RequestError::OldSize),
            ("\nold 1\n\ncp", RequestError::OldSize),
            ("old 1\nAAAA\n\ncp", RequestError::ProofLine),
            ("old 1\n PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\ncp", RequestError::ProofLine),
            ("old 1\n\n", RequestError::MissingCheckpoint),
        ];
        for (body, want) in cases {
            assert_eq!(AddCheckpointRequest::parse(body), Err(want), "{body:?}");
        }
        let many = format!("old 1\n{}\ncp", format!("{h}\n").repeat(64));
        assert_eq!(AddCheckpointRequest::parse(&many), Err(RequestError::TooManyProofLines));
        let max = format!("old 1\n{}\ncp", format!("{h}\n").repeat(63));
        assert_eq!(AddCheckpointRequest::parse(&max).unwrap().proof.len(), 63);
    }
}
