//! What goes into the log: [`LogLeaf`], its binary encoding, the salted
//! [`commitment`] to a record's content, and RFC 8785 [`canonical_json`].
//!
//! A leaf never holds content. It holds identifiers and a commitment
//! `SHA-256(tag || salt || canonical content)`. The log can be published to
//! both parties and the mediator; revealing one record's canonical content
//! and salt later proves that exactly that content was logged at that
//! position, and the random salt stops anyone from confirming a guess about
//! an unrevealed record (a name, a date of birth) by hashing candidates.

use sha2::{Digest as _, Sha256};

use crate::hash::{Hash, leaf_hash};

/// First bytes of a version 1 leaf (written until 2026-12; see [`LogLeaf`]).
pub const LEAF_MAGIC: &[u8; 16] = b"homeward/leaf/v1";

/// First bytes of a version 2 leaf: the format written now.
pub const LEAF_MAGIC_V2: &[u8; 16] = b"homeward/leaf/v2";

/// Domain-separation tag that starts every commitment preimage.
pub const COMMITMENT_TAG: &[u8; 23] = b"homeward/commitment/v1\n";

/// Longest identifier accepted in a leaf field, in bytes.
pub const MAX_FIELD_LEN: usize = 128;

/// The record a version 1 leaf names. Version 2 leaves name none: a
/// person's id in every status leaf let anyone follow that person's changes
/// and their times, and a tracing request's id (which the family holds) let
/// anyone see what happened to that request. The record's id is inside the
/// committed content, so a reveal still proves which record was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRecord {
    /// Kind of record changed (for example `status_event`).
    pub record_type: String,
    /// The record's id (for example `person/<uuid>/status/2`).
    pub record_id: String,
}

/// One log entry. Every field is an identifier or a hash, never free text.
///
/// Encoding ([`LogLeaf::to_bytes`]), all integers big-endian:
///
/// ```text
/// version 2 (written now)                 version 1 (legacy, still read)
/// "homeward/leaf/v2"  16 bytes            "homeward/leaf/v1"  16 bytes
/// seq                 u64                 seq                 u64
/// time_ms             i64                 time_ms             i64
/// actor_role          str                 actor_role          str
/// actor_party         0x00 | 0x01 str     actor_party         0x00 | 0x01 str
/// event_type          str                 event_type          str
/// commitment          32 bytes            record_type         str
///                                         record_id           str
///                                         commitment          32 bytes
/// where str = u16 length || that many bytes
/// ```
///
/// Every string field must be 1 to [`MAX_FIELD_LEN`] bytes of
/// `A-Z a-z 0-9 . _ : / -`. That rules out spaces and so names, addresses or
/// notes typed by a person: personal data cannot enter a leaf by mistake.
/// The encoding is injective (a distinct magic per version, fixed widths and
/// length prefixes) and [`LogLeaf::from_bytes`] accepts only what
/// [`LogLeaf::to_bytes`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLeaf {
    /// Position in the log, 0-based; equals the leaf index in the tree.
    pub seq: u64,
    /// When the change was logged, Unix milliseconds UTC; never earlier
    /// than the leaf before it (version 2).
    pub time_ms: i64,
    /// Role of the actor (for example `party_officer`, `mediator`).
    pub actor_role: String,
    /// Party the actor belongs to, if any (the mediator has none).
    pub actor_party: Option<String>,
    /// What happened (for example `status.recorded`).
    pub event_type: String,
    /// `Some` for a version 1 leaf, which named its record; `None` for
    /// version 2.
    pub record: Option<LeafRecord>,
    /// [`commitment`] to the canonical content of the record after the change.
    pub commitment: [u8; 32],
}

/// Why a leaf cannot be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    /// A string field is empty, too long, or has a character outside the
    /// identifier set.
    #[error("leaf field {0} is not an identifier of 1 to 128 characters A-Z a-z 0-9 . _ : / -")]
    BadField(&'static str),
    /// The bytes are not a version 1 or 2 leaf encoding.
    #[error("malformed leaf encoding")]
    Malformed,
}

fn check_field(name: &'static str, value: &str) -> Result<(), LeafError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_FIELD_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'));
    if ok { Ok(()) } else { Err(LeafError::BadField(name)) }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Checked fields are at most MAX_FIELD_LEN bytes, so this never saturates.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl LogLeaf {
    /// The encoding version: 1 if the leaf names its record, else 2.
    #[must_use]
    pub fn version(&self) -> u8 {
        if self.record.is_some() { 1 } else { 2 }
    }

    /// Checks that every string field is an identifier (see the type docs).
    ///
    /// # Errors
    /// [`LeafError::BadField`] naming the first bad field.
    pub fn validate(&self) -> Result<(), LeafError> {
        check_field("actor_role", &self.actor_role)?;
        if let Some(party) = &self.actor_party {
            check_field("actor_party", party)?;
        }
        check_field("event_type", &self.event_type)?;
        if let Some(record) = &self.record {
            check_field("record_type", &record.record_type)?;
            check_field("record_id", &record.record_id)?;
        }
        Ok(())
    }

    /// The encoding described on [`LogLeaf`], in the leaf's version.
    ///
    /// # Errors
    /// [`LeafError::BadField`] if the leaf does not [`validate`](Self::validate).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LeafError> {
        self.validate()?;
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(if self.record.is_some() { LEAF_MAGIC } else { LEAF_MAGIC_V2 });
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        put_str(&mut out, &self.actor_role);
        match &self.actor_party {
            None => out.push(0x00),
            Some(party) => {
                out.push(0x01);
                put_str(&mut out, party);
            }
        }
        put_str(&mut out, &self.event_type);
        if let Some(record) = &self.record {
            put_str(&mut out, &record.record_type);
            put_str(&mut out, &record.record_id);
        }
        out.extend_from_slice(&self.commitment);
        Ok(out)
    }

    /// The RFC 9162 leaf hash of [`to_bytes`](Self::to_bytes): what goes
    /// into the tree.
    ///
    /// # Errors
    /// As [`to_bytes`](Self::to_bytes).
    pub fn leaf_hash(&self) -> Result<Hash, LeafError> {
        Ok(leaf_hash(&self.to_bytes()?))
    }

    /// Decodes a version 1 or 2 leaf, rejecting anything
    /// [`to_bytes`](Self::to_bytes) would not produce (trailing bytes, bad
    /// fields, bad tags).
    ///
    /// # Errors
    /// [`LeafError`] if the bytes are not a valid leaf.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LeafError> {
        let mut r = Reader(bytes);
        let magic = r.take(LEAF_MAGIC.len())?;
        let names_record = if magic == LEAF_MAGIC {
            true
        } else if magic == LEAF_MAGIC_V2 {
            false
        } else {
            return Err(LeafError::Malformed);
        };
        let seq = u64::from_be_bytes(r.array()?);
        let time_ms = i64::from_be_bytes(r.array()?);
        let actor_role = r.string()?;
        let actor_party = match r.take(1)? {
            [0x00] => None,
            [0x01] => Some(r.string()?),
            _ => return Err(LeafError::Malformed),
        };
        let event_type = r.string()?;
        let record =
            if names_record { Some(LeafRecord { record_type: r.string()?, record_id: r.string()? }) } else { None };
        let leaf = Self { seq, time_ms, actor_role, actor_party, event_type, record, commitment: r.array()? };
        if !r.0.is_empty() {
            return Err(LeafError::Malformed);
        }
        leaf.validate()?;
        Ok(leaf)
    }
}

/// A cursor over the bytes being decoded.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LeafError> {
        if self.0.len() < n {
            return Err(LeafError::Malformed);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LeafError> {
        self.take(N)?.try_into().map_err(|_| LeafError::Malformed)
    }

    fn string(&mut self) -> Result<String, LeafError> {
        let len = u16::from_be_bytes(self.array()?);
        let bytes = self.take(usize::from(len))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| LeafError::Malformed)
    }
}

/// The commitment to a record's content:
/// `SHA-256(COMMITMENT_TAG || salt || canonical_content)`, where
/// `COMMITMENT_TAG` is the 23 bytes `"homeward/commitment/v1\n"`, `salt` is
/// 32 random bytes kept with the record (never in the log), and
/// `canonical_content` is the record's [`canonical_json`].
///
/// Tag and salt have fixed lengths, so the preimage splits in one way only.
#[must_use]
pub fn commitment(salt: &[u8; 32], canonical_content: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(COMMITMENT_TAG);
    h.update(salt);
    h.update(canonical_content);
    h.finalize().into()
}

/// 32 fresh random bytes from the operating system, for a [`commitment`].
///
/// # Errors
/// If the operating system's random source fails.
pub fn generate_salt() -> Result<[u8; 32], getrandom::Error> {
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt)?;
    Ok(salt)
}

/// Largest integer that an IEEE 754 double, and so RFC 8785, holds exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a JSON value has no reliable canonical form.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalJsonError {
    /// An integer beyond +-(2^53 - 1): RFC 8785 formats numbers as doubles, so
    /// it would be silently rounded and two different records could get the
    /// same canonical bytes. Store such numbers as strings.
    #[error("integer {0} is outside the range RFC 8785 represents exactly; use a string")]
    UnsafeInteger(String),
    /// The canonicalizer failed.
    #[error("canonicalization failed")]
    Serialize(#[from] serde_json::Error),
}

fn check_numbers(value: &serde_json::Value) -> Result<(), CanonicalJsonError> {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            let safe = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u <= MAX_SAFE_INTEGER,
                (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                // A float is formatted exactly as the double it already is.
                (None, None) => true,
            };
            if safe { Ok(()) } else { Err(CanonicalJsonError::UnsafeInteger(n.to_string())) }
        }
        Value::Array(items) => items.iter().try_for_each(check_numbers),
        Value::Object(map) => map.values().try_for_each(check_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// RFC 8785 (JCS) canonical JSON bytes of `value`: keys sorted by UTF-16 code
/// units, no whitespace, ECMAScript number formatting, minimal string escapes.
///
/// Uses the `serde_json_canonicalizer` crate, which follows the RFC and runs
/// its reference test data. Returns a `Result` rather than bare bytes because
/// integers beyond 2^53 would be rounded by the RFC's number format; such
/// values are refused instead of silently changing the committed content.
///
/// # Errors
/// [`CanonicalJsonError::UnsafeInteger`] for integers beyond +-(2^53 - 1).
pub fn canonical_json(value: &serde_json::Value) -> Result<Vec<u8>, CanonicalJsonError> {
    check_numbers(value)?;
    if has_float(value) {
        return Ok(serde_json_canonicalizer::to_vec(value)?);
    }
    // Records hold strings, integers, booleans, nulls, arrays and objects:
    // for those RFC 8785 is short, and writing it directly is several times
    // faster than the general canonicalizer (an import commits to two records
    // per row). Property-tested against the canonicalizer below.
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn has_float(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Number(n) => !(n.is_u64() || n.is_i64()),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

/// RFC 8785 for float-free values: integers in decimal, strings with JSON's
/// minimal escapes (serde_json escapes exactly what RFC 8785 asks: `"`, `\`
/// and control characters, with the short forms where they exist), object
/// members sorted by the UTF-16 code units of their names.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), CanonicalJsonError> {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => serde_json::to_writer(&mut *out, s)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> LogLeaf {
        LogLeaf {
            seq: 7,
            time_ms: 1_700_000_000_123,
            actor_role: "registrar".into(),
            actor_party: Some("party-a".into()),
            event_type: "record.created".into(),
            record: Some(LeafRecord {
                record_type: "person".into(),
                record_id: "0190f3a2-7c1e-7d3a-9b1e-3f2a1c0d9e8f".into(),
            }),
            commitment: [0xab; 32],
        }
    }

    #[test]
    fn leaf_round_trips_and_is_exact() {
        let leaf = sample();
        let bytes = leaf.to_bytes().unwrap();
        assert_eq!(LogLeaf::from_bytes(&bytes).unwrap(), leaf);
        assert_eq!(&bytes[..16], LEAF_MAGIC);
        assert_eq!(&bytes[16..24], &7u64.to_be_bytes());
        assert_eq!(&bytes[bytes.len() - 32..], &[0xab; 32]);

        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(LogLeaf::from_bytes(&trailing), Err(LeafError::Malformed));
        assert_eq!(LogLeaf::from_bytes(&bytes[..bytes.len() - 1]), Err(LeafError::Malformed));

        let none = LogLeaf { actor_party: None, ..leaf.clone() };
        let none_bytes = none.to_bytes().unwrap();
        assert_eq!(LogLeaf::from_bytes(&none_bytes).unwrap(), none);
        assert_ne!(none.leaf_hash().unwrap(), leaf.leaf_hash().unwrap());
    }

    #[test]
    fn leaf_encoding_is_pinned() {
        // Pins the exact bytes: any change here breaks every published log.
        let leaf = LogLeaf {
            seq: 1,
            time_ms: 2,
            actor_role: "r".into(),
            actor_party: None,
            event_type: "e".into(),
            record: Some(LeafRecord { record_type: "t".into(), record_id: "i".into() }),
            commitment: [0; 32],
        };
        let mut want = b"homeward/leaf/v1".to_vec();
        want.extend([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
        want.extend([0, 1, b'r', 0, 0, 1, b'e', 0, 1, b't', 0, 1, b'i']);
        want.extend([0; 32]);
        assert_eq!(leaf.to_bytes().unwrap(), want);

        // Version 2: no record type or id.
        let v2 = LogLeaf { record: None, ..leaf };
        let mut want = b"homeward/leaf/v2".to_vec();
        want.extend([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
        want.extend([0, 1, b'r', 0, 0, 1, b'e']);
        want.extend([0; 32]);
        assert_eq!(v2.to_bytes().unwrap(), want);
        assert_eq!(LogLeaf::from_bytes(&want).unwrap(), v2);
        assert_eq!(v2.version(), 2);
    }

    #[test]
    fn versions_never_collide() {
        // The same fields as v1 and v2 give different bytes and hashes, and a
        // v1 body under the v2 magic does not decode.
        let v1 = sample();
        let v2 = LogLeaf { record: None, ..v1.clone() };
        assert_ne!(v1.leaf_hash().unwrap(), v2.leaf_hash().unwrap());
        let mut forged = v1.to_bytes().unwrap();
        forged[..16].copy_from_slice(LEAF_MAGIC_V2);
        assert_eq!(LogLeaf::from_bytes(&forged), Err(LeafError::Malformed));
        let mut forged = v2.to_bytes().unwrap();
        forged[..16].copy_from_slice(LEAF_MAGIC);
        assert!(LogLeaf::from_bytes(&forged).is_err());
    }

    #[test]
    fn free_text_is_refused() {
        for bad in ["", "Jane Doe", "name\n", "é", &"x".repeat(129)] {
            let leaf = LogLeaf {
                record: Some(LeafRecord { record_type: "t".into(), record_id: bad.to_string() }),
                ..sample()
            };
            assert_eq!(leaf.to_bytes(), Err(LeafError::BadField("record_id")));
        }
        let leaf = LogLeaf { actor_party: Some("a b".into()), ..sample() };
        assert_eq!(leaf.validate(), Err(LeafError::BadField("actor_party")));
    }

    #[test]
    fn commitment_is_tag_salt_content() {
        let salt = [7u8; 32];
        let mut pre = b"homeward/commitment/v1\n".to_vec();
        pre.extend(salt);
        pre.extend(b"{\"a\":1}");
        let want: [u8; 32] = Sha256::digest(&pre).into();
        assert_eq!(commitment(&salt, b"{\"a\":1}"), want);
        assert_ne!(commitment(&[8u8; 32], b"{\"a\":1}"), want);
    }

    #[test]
    fn salts_differ() {
        assert_ne!(generate_salt().unwrap(), generate_salt().unwrap());
    }

    #[test]
    fn canonical_json_follows_rfc_8785() {
        // RFC 8785 section 3.2.3 sorting example (UTF-16 code unit order).
        let v: serde_json::Value = serde_json::from_str(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let got = String::from_utf8(canonical_json(&v).unwrap()).unwrap();
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                    \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
                    \"\u{1f600}\":\"Emoji: Grinning Face\",\
                    \"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(got, want);

        // RFC 8785 section 3.2.2 number and literal examples.
        // Parsed from text, as the RFC gives it, so the literals keep their
        // written precision.
        let v: serde_json::Value = serde_json::from_str(
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                "literals": [null, true, false], "b": "\u000f"}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
            r#"{"b":"\u000f","literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}"#
        );
    }

    #[test]
    fn canonical_json_refuses_unsafe_integers() {
        assert!(canonical_json(&json!({"n": 9_007_199_254_740_991u64})).is_ok());
        assert!(canonical_json(&json!({"n": -9_007_199_254_740_991i64})).is_ok());
        assert!(matches!(
            canonical_json(&json!({"n": [9_007_199_254_740_993u64]})),
            Err(CanonicalJsonError::UnsafeInteger(_))
        ));
        assert!(canonical_json(&json!({"n": i64::MIN})).is_err());
    }
}
