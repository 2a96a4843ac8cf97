//! Signed notes, checkpoints and cosignatures, including the known-good
//! vectors of Go's `golang.org/x/mod/sumdb/note` tests (the PeterNeumann and
//! EnochRoot keys) and the C2SP tlog-cosignature example.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use homeward_tlog::note::{MAX_SIGNATURES, key_id};
use homeward_tlog::{
    Checkpoint, CheckpointError, KeyType, MemoryStore, Note, NoteError, Signer, Verifier, cosign, leaf_hash,
    open_checkpoint, open_note, tree_hash,
};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str =
    "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter() -> Verifier {
    Verifier::parse(PETER_VKEY).unwrap()
}

fn enoch() -> Verifier {
    Verifier::parse(ENOCH_VKEY).unwrap()
}

#[test]
fn go_keys_parse_and_round_trip() {
    let v = peter();
    assert_eq!(v.name(), "PeterNeumann");
    assert_eq!(v.key_id(), 0xc74f_20a3);
    assert_eq!(v.key_type(), KeyType::Ed25519);
    assert_eq!(v.to_key_string(), PETER_VKEY);
    assert_eq!(key_id("PeterNeumann", KeyType::Ed25519, &v.public_key()), 0xc74f_20a3);

    let s = Signer::parse(PETER_SKEY).unwrap();
    assert_eq!(s.to_key_string(), PETER_SKEY);
    assert_eq!(s.verifier(), v);
    // Debug output must not leak the secret.
    assert!(!format!("{s:?}").contains("AYEKFALV"));
}

#[test]
fn mangled_keys_are_refused() {
    // As in Go's TestNewVerifier / TestNewSigner: every proper substring and
    // every single-character change must fail.
    for key in [PETER_VKEY, PETER_SKEY] {
        let parse = |k: &str| {
            if key == PETER_VKEY { Verifier::parse(k).is_ok() } else { Signer::parse(k).is_ok() }
        };
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i != 0 || j != b.len() {
                    let sub = std::str::from_utf8(&b[i..j]).unwrap();
                    assert!(!parse(sub), "substring {sub:?} accepted");
                }
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] += 1;
            let m = String::from_utf8(m).unwrap();
            assert!(!parse(&m), "mangled {m:?} accepted");
        }
    }
    // Wrong key length and unknown algorithm, each with a matching key hash.
    assert!(Verifier::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==").is_err());
    assert!(Verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
}

#[test]
fn signing_matches_go_output_byte_for_byte() {
    let signer = Signer::parse(PETER_SKEY).unwrap();
    let note = Note::sign(TEXT, &[&signer]).unwrap();
    assert_eq!(note.to_string(), format!("{TEXT}\n{PETER_SIG}"));

    // An existing signature by the same key is replaced.
    let mut again = Note::parse(&format!("{TEXT}\n{PETER_SIG}")).unwrap();
    again.add_signature(note.signature_by(&signer).unwrap());
    assert_eq!(again.signatures.len(), 1);

    assert_eq!(Note::sign("abc", &[&signer]), Err(NoteError::MalformedText));
    assert_eq!(Note::sign("a\tb\n", &[&signer]), Err(NoteError::MalformedText));
}

#[test]
fn open_keeps_unknown_signatures_unverified() {
    let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");

    let n = open_note(&msg, &[peter()]).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.verified[0].name, "PeterNeumann");
    assert_eq!(n.verified[0].key_id, 0xc74f_20a3);
    assert_eq!(n.unverified.len(), 1);
    assert_eq!(n.unverified[0].name, "EnochRoot");
    assert_eq!(n.unverified[0].key_id, 0xaf0c_fe78);

    let n = open_note(&msg, &[peter(), enoch()]).unwrap();
    assert_eq!(n.verified.len(), 2);
    assert!(n.unverified.is_empty());

    assert_eq!(open_note(&msg, &[]), Err(NoteError::NoVerifiedSignature));
}

#[test]
fn open_rejects_ambiguity_bad_signatures_and_bad_syntax() {
    let e = open_note(&format!("{TEXT}\n{ENOCH_SIG}"), &[enoch(), peter(), enoch()]);
    assert!(matches!(e, Err(NoteError::AmbiguousKey { .. })));
    // An unused duplicate is harmless.
    assert!(open_note(&format!("{TEXT}\n{PETER_SIG}"), &[enoch(), peter(), enoch()]).is_ok());

    let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_eq!(open_note(&too_many, &[peter()]), Err(NoteError::MalformedNote));

    // Corrupt Peter's signature bytes: a known key that fails rejects all.
    let (a, b) = PETER_SIG.split_at(60);
    let bad = format!("{TEXT}\n{a}ABCD{b}");
    assert!(matches!(open_note(&bad, &[peter()]), Err(NoteError::InvalidSignature { .. })));

    // Duplicates: one verified entry per key, identical unknowns collapse.
    let (c, d) = ENOCH_SIG.split_at(60);
    let msg = format!("{TEXT}\n{PETER_SIG}{PETER_SIG}{ENOCH_SIG}{ENOCH_SIG}{c}ABCD{d}");
    let n = open_note(&msg, &[peter()]).unwrap();
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 2);

    let bad_msgs = [
        TEXT.to_string(),
        format!("{TEXT}\n"),
        format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
        format!("\u{1}{TEXT}\n{PETER_SIG}"),
        format!(
            "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
        ),
        format!("{TEXT}\n{PETER_SIG}Unexpected line.\n"),
    ];
    for msg in bad_msgs {
        assert_eq!(open_note(&msg, &[peter()]), Err(NoteError::MalformedNote), "{msg:?}");
    }
}

#[test]
fn tampered_body_is_rejected() {
    let msg = format!("{TEXT}\n{PETER_SIG}");
    let tampered = msg.replacen("cryptography", "cryptographY", 1);
    assert!(matches!(open_note(&tampered, &[peter()]), Err(NoteError::InvalidSignature { .. })));
}

#[test]
fn generated_keys_round_trip() {
    let signer = Signer::generate("homeward.example/log", KeyType::Ed25519).unwrap();
    let again = Signer::parse(&signer.to_key_string()).unwrap();
    let verifier = Verifier::parse(&signer.verifier().to_key_string()).unwrap();
    assert_eq!(again.verifier(), verifier);

    let note = Note::sign("hello\n", &[&again]).unwrap().to_string();
    let opened = open_note(&note, &[verifier]).unwrap();
    assert_eq!(opened.text, "hello\n");
    assert!(Signer::generate("bad name", KeyType::Ed25519).is_err());
    assert!(Signer::generate("a+b", KeyType::Ed25519).is_err());
}

fn log_checkpoint(origin: &str, size: u64) -> Checkpoint {
    let mut store = MemoryStore::new();
    for i in 0..size {
        store.append(leaf_hash(&i.to_be_bytes())).unwrap();
    }
    Checkpoint::new(origin, size, tree_hash(size, &store).unwrap())
}

#[test]
fn checkpoint_sign_open_and_cosign() {
    let origin = "homeward.example/log";
    let log = Signer::from_seed(origin, KeyType::Ed25519, &[1; 32]).unwrap();
    let w1 = Signer::from_seed("party-a.example/witness", KeyType::CosignatureV1, &[2; 32]).unwrap();
    let w2 = Signer::from_seed("party-b.example/witness", KeyType::CosignatureV1, &[3; 32]).unwrap();
    // The same key under the cosignature type gets a different key ID.
    let same = Signer::from_seed(origin, KeyType::CosignatureV1, &[1; 32]).unwrap();
    assert_ne!(same.key_id(), log.key_id());

    let cp = log_checkpoint(origin, 10);
    let signed = cp.sign(&log).unwrap();
    let (opened, _) = open_checkpoint(&signed, origin, &[log.verifier()]).unwrap();
    assert_eq!(opened, cp);
    assert!(matches!(
        open_checkpoint(&signed, "other.example/log", &[log.verifier()]),
        Err(CheckpointError::WrongOrigin(_))
    ));

    // Witnesses cosign the log-signed note.
    let body = cp.to_body().unwrap();
    let mut note = Note::parse(&signed).unwrap();
    note.add_signature(cosign(&body, &w1, 1_700_000_000).unwrap());
    note.add_signature(cosign(&body, &w2, 1_700_000_005).unwrap());
    let cosigned = note.to_string();

    let verifiers = [log.verifier(), w1.verifier(), w2.verifier()];
    let (_, v) = open_checkpoint(&cosigned, origin, &verifiers).unwrap();
    assert_eq!(v.verified.len(), 3);
    assert_eq!(v.verified[0].timestamp, None);
    assert_eq!(v.verified[1].timestamp, Some(1_700_000_000));
    assert_eq!(v.verified[2].key_type, KeyType::CosignatureV1);
    assert_eq!(v.verified[2].timestamp, Some(1_700_000_005));

    // Cosignature verifiers parse from their key strings, type byte 0x04.
    let vkey = w1.verifier().to_key_string();
    let raw = STANDARD.decode(vkey.rsplit_once('+').unwrap().1).unwrap();
    assert_eq!(raw[0], 0x04);
    assert_eq!(Verifier::parse(&vkey).unwrap(), w1.verifier());

    // A witness that knows only itself still opens the note.
    let (_, v) = open_checkpoint(&cosigned, origin, &[w2.verifier()]).unwrap();
    assert_eq!(v.verified.len(), 1);
    assert_eq!(v.unverified.len(), 2);

    // Changing a cosignature's timestamp breaks it.
    let mut forged = Note::parse(&cosigned).unwrap();
    forged.signatures[1].signature[7] ^= 1;
    assert!(matches!(open_note(&forged.to_string(), &verifiers), Err(NoteError::InvalidSignature { .. })));

    // A tampered root breaks every signature.
    let other = log_checkpoint(origin, 11).root.to_base64();
    let tampered = cosigned.replacen(&cp.root.to_base64(), &other, 1);
    assert!(open_checkpoint(&tampered, origin, &[w1.verifier()]).is_err());

    // Wrong key types are refused.
    assert!(cosign(&body, &log, 1).is_err());
    assert_eq!(Note::sign(&body, &[&w1]), Err(NoteError::WrongKeyType(KeyType::CosignatureV1)));
    assert!(cosign("not a checkpoint\n", &w1, 1).is_err());
    assert!(cosign(&body, &w1, 1 << 63).is_err());
}

#[test]
fn cosignature_spec_example_has_the_v1_layout() {
    // From c2sp.org/tlog-cosignature: the line decodes to key ID, the
    // big-endian timestamp of its example message (1679315147), and 64 bytes.
    let msg = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
               \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
               \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
    let note = Note::parse(msg).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.size, 20_852_163);
    let cosig = &note.signatures[1];
    assert_eq!(cosig.signature.len(), 72);
    let ts = u64::from_be_bytes(cosig.signature[..8].try_into().unwrap());
    assert_eq!(ts, 1_679_315_147);
    assert_eq!(note.to_string(), msg);
}
