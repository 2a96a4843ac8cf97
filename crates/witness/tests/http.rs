//! The witness over real HTTP on 127.0.0.1: a log grows from 0 to 5 to 12
//! leaves and is cosigned each time; stale old sizes, forks, bad proofs,
//! unknown logs and bad signatures get the statuses c2sp.org/tlog-witness
//! prescribes; forks leave evidence; the state survives a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use homeward_tlog::{
    Hash, KeyType, MemoryStore, Signer, Verifier, consistency_proof, leaf_hash, open_note, sign_checkpoint, tree_hash,
};
use homeward_witness::{AddCheckpointRequest, Evidence, EvidenceKind, LogConfig, Witness, WitnessConfig, router};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const ORIGIN: &str = "homeward.example/log";

/// A log: stored hashes in memory and the log's signing key.
struct Log {
    store: MemoryStore,
    signer: Signer,
    tag: &'static str,
}

impl Log {
    fn new(signer: &Signer, tag: &'static str) -> Self {
        Self { store: MemoryStore::new(), signer: signer.clone(), tag }
    }

    fn grow_to(&mut self, size: u64) {
        while self.store.size() < size {
            let n = self.store.size();
            self.store.append(leaf_hash(format!("{} {n}", self.tag).as_bytes())).unwrap();
        }
    }

    fn root(&self) -> Hash {
        tree_hash(self.store.size(), &self.store).unwrap()
    }

    fn checkpoint(&self) -> String {
        sign_checkpoint(ORIGIN, self.store.size(), self.root(), &self.signer).unwrap()
    }

    fn request(&self, old: u64) -> String {
        AddCheckpointRequest {
            old_size: old,
            proof: consistency_proof(old, self.store.size(), &self.store).unwrap(),
            checkpoint: self.checkpoint(),
        }
        .to_body()
    }
}

struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn keys() -> (Signer, Signer) {
    let log = Signer::from_seed(ORIGIN, KeyType::Ed25519, &[1; 32]).unwrap();
    let witness = Signer::from_seed("witness.example/w1", KeyType::CosignatureV1, &[2; 32]).unwrap();
    (log, witness)
}

async fn start(state_path: &Path) -> Server {
    let (log, witness) = keys();
    let witness = Witness::open(WitnessConfig {
        signer: witness,
        logs: vec![LogConfig { origin: ORIGIN.into(), verifiers: vec![log.verifier()] }],
        state_path: state_path.to_path_buf(),
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Arc::new(witness));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { addr, task }
}

struct Reply {
    status: u16,
    content_type: Option<String>,
    body: String,
}

/// One HTTP/1.1 request on a fresh connection, read to the end.
async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut content_type = None;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(": ").unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_string()),
            "content-length" => length = Some(value.parse::<usize>().unwrap()),
            "transfer-encoding" => panic!("unexpected chunked response"),
            _ => {}
        }
    }
    assert_eq!(length, Some(body.len()));
    Reply { status, content_type, body: body.to_string() }
}

async fn add(addr: SocketAddr, body: &str) -> Reply {
    http(addr, "POST", "/add-checkpoint", body.as_bytes()).await
}

/// Checks a 200 reply: cosignature lines that verify on the checkpoint with
/// the witness's key, as the spec's client does (concatenate and open).
fn assert_cosigned(reply: &Reply, checkpoint: &str, witness: &Verifier) -> u64 {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.starts_with('\u{2014}') && reply.body.ends_with('\n'));
    let opened = open_note(&format!("{checkpoint}{}", reply.body), std::slice::from_ref(witness)).unwrap();
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].key_type, KeyType::CosignatureV1);
    let ts = opened.verified[0].timestamp.unwrap();
    assert!(ts > 1_600_000_000, "timestamp {ts}");
    ts
}

fn evidence_files(state: &Path) -> Vec<PathBuf> {
    let dir = state.parent().unwrap().join("evidence");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[tokio::test]
async fn witness_follows_a_growing_log_and_refuses_everything_else() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("witness.json");
    let (log_key, witness_key) = keys();
    let wv = witness_key.verifier();
    let server = start(&state).await;
    let addr = server.addr;
    let mut log = Log::new(&log_key, "leaf");

    // 0 -> 5 -> 12, each cosigned.
    assert_cosigned(&add(addr, &log.request(0)).await, &log.checkpoint(), &wv);
    log.grow_to(5);
    assert_cosigned(&add(addr, &log.request(0)).await, &log.checkpoint(), &wv);
    log.grow_to(12);
    let reply = add(addr, &log.request(5)).await;
    assert_cosigned(&reply, &log.checkpoint(), &wv);

    // Stale old size: 409, text/x.tlog.size, the latest size.
    let stale = add(addr, &log.request(5)).await;
    assert_eq!(stale.status, 409);
    assert_eq!(stale.content_type.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(stale.body, "12\n");
    // A client that knows nothing asks with old 0 and learns the size.
    let fresh = add(addr, &log.request(0)).await;
    assert_eq!((fresh.status, fresh.body.as_str()), (409, "12\n"));

    // The same checkpoint again is cosigned again.
    assert_cosigned(&add(addr, &log.request(12)).await, &log.checkpoint(), &wv);

    // Old size above the checkpoint size: 400.
    let mut small = Log::new(&log_key, "leaf");
    small.grow_to(3);
    let body = AddCheckpointRequest { old_size: 12, proof: vec![], checkpoint: small.checkpoint() }.to_body();
    assert_eq!(add(addr, &body).await.status, 400);

    // A fork: same size, other leaves, signed by the log. 409 and evidence.
    assert!(evidence_files(&state).is_empty());
    let mut fork = Log::new(&log_key, "forged");
    fork.grow_to(12);
    let refused = add(addr, &fork.request(12)).await;
    assert_eq!(refused.status, 409);
    assert_ne!(refused.content_type.as_deref(), Some("text/x.tlog.size"));
    let files = evidence_files(&state);
    assert_eq!(files.len(), 1, "{files:?}");
    let evidence: Evidence = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(evidence.kind, EvidenceKind::SameSizeDifferentRoot);
    assert_eq!(evidence.origin, ORIGIN);
    assert_eq!(evidence.submitted_checkpoint, fork.checkpoint());
    // The kept cosigned checkpoint verifies with both keys: it is evidence
    // anyone can check.
    let kept = open_note(&evidence.cosigned_checkpoint, &[log_key.verifier(), wv.clone()]).unwrap();
    assert_eq!(kept.verified.len(), 2);
    assert!(kept.text.contains(&log.root().to_base64()));
    open_note(&evidence.submitted_checkpoint, &[log_key.verifier()]).unwrap();
    // The same fork shown again is the same incident: still one file.
    assert_eq!(add(addr, &fork.request(12)).await.status, 409);
    assert_eq!(evidence_files(&state).len(), 1);
    // With a stale old size the answer is the spec's 409 with the size, but
    // the fork is still recognised (and is still the same incident).
    let stale_fork = add(addr, &fork.request(0)).await;
    assert_eq!((stale_fork.status, stale_fork.body.as_str()), (409, "12\n"));
    assert_eq!(evidence_files(&state).len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A forked log grown bigger: its own proof does not connect to the
    // cosigned root. 422 and evidence.
    fork.grow_to(20);
    assert_eq!(add(addr, &fork.request(12)).await.status, 422);
    let files = evidence_files(&state);
    assert_eq!(files.len(), 2);
    let kinds: Vec<EvidenceKind> =
        files.iter().map(|f| serde_json::from_slice::<Evidence>(&std::fs::read(f).unwrap()).unwrap().kind).collect();
    assert!(kinds.contains(&EvidenceKind::InconsistentProof));

    // The honest log with a corrupted proof: 422.
    log.grow_to(20);
    let mut request = AddCheckpointRequest::parse(&log.request(12)).unwrap();
    request.proof[0] = leaf_hash(b"garbage");
    assert_eq!(add(addr, &request.to_body()).await.status, 422);
    // A truncated proof: 422.
    request.proof = consistency_proof(12, 20, &log.store).unwrap();
    request.proof.pop();
    assert_eq!(add(addr, &request.to_body()).await.status, 422);

    // Unknown origin: 404.
    let other = Signer::from_seed("other.example/log", KeyType::Ed25519, &[3; 32]).unwrap();
    let unknown = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: sign_checkpoint("other.example/log", 1, leaf_hash(b"x"), &other).unwrap(),
    };
    assert_eq!(add(addr, &unknown.to_body()).await.status, 404);

    // Right origin, signed by a key the witness does not trust: 403.
    let impostor = Signer::from_seed(ORIGIN, KeyType::Ed25519, &[4; 32]).unwrap();
    let forged = AddCheckpointRequest {
        old_size: 12,
        proof: consistency_proof(12, 20, &log.store).unwrap(),
        checkpoint: sign_checkpoint(ORIGIN, 20, log.root(), &impostor).unwrap(),
    };
    assert_eq!(add(addr, &forged.to_body()).await.status, 403);

    // The trusted key's signature line over a changed body: 403.
    let genuine = log.checkpoint();
    let tampered = genuine.replacen("\n20\n", "\n21\n", 1);
    let bad_sig = AddCheckpointRequest { old_size: 12, proof: vec![], checkpoint: tampered };
    assert_eq!(add(addr, &bad_sig.to_body()).await.status, 403);

    // Malformed bodies: 400; wrong method: 405.
    assert_eq!(add(addr, "not a request").await.status, 400);
    assert_eq!(add(addr, "old 12\n\nnot a note\n").await.status, 400);
    assert_eq!(http(addr, "POST", "/add-checkpoint", &[0xff, 0xfe]).await.status, 400);
    assert_eq!(http(addr, "GET", "/add-checkpoint", b"").await.status, 405);
    let huge = format!("old 12\n\n{}", "x".repeat(70_000));
    assert_eq!(add(addr, &huge).await.status, 413);

    // None of that moved the witness: 12 -> 20 with the honest proof works.
    let reply = add(addr, &log.request(12)).await;
    assert_cosigned(&reply, &log.checkpoint(), &wv);

    // The state file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("witness.json");
    let (log_key, witness_key) = keys();
    let wv = witness_key.verifier();
    let mut log = Log::new(&log_key, "leaf");
    log.grow_to(5);
    {
        let server = start(&state).await;
        assert_cosigned(&add(server.addr, &log.request(0)).await, &log.checkpoint(), &wv);
    }

    let server = start(&state).await;
    // The new server remembers size 5 ...
    let reply = add(server.addr, &log.request(0)).await;
    assert_eq!((reply.status, reply.body.as_str()), (409, "5\n"));
    // ... and its root: a fork of size 5 is refused.
    let mut fork = Log::new(&log_key, "forged");
    fork.grow_to(5);
    assert_eq!(add(server.addr, &fork.request(5)).await.status, 409);
    // It continues from 5.
    log.grow_to(12);
    assert_cosigned(&add(server.addr, &log.request(5)).await, &log.checkpoint(), &wv);
    drop(server);

    let state_now: homeward_witness::WitnessState = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let entry = state_now.log(ORIGIN).unwrap();
    assert_eq!(entry.size, 12);
    assert_eq!(entry.root, log.root());
    // The stored checkpoint carries the log's signature and the cosignature.
    let opened = open_note(&entry.checkpoint, &[log_key.verifier(), wv]).unwrap();
    assert_eq!(opened.verified.len(), 2);
}

#[tokio::test]
async fn concurrent_requests_cannot_roll_the_witness_back() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("witness.json");
    let (log_key, _) = keys();
    let server = start(&state).await;
    let mut log = Log::new(&log_key, "leaf");
    log.grow_to(4);
    assert_eq!(add(server.addr, &log.request(0)).await.status, 200);
    log.grow_to(10);
    let to_10 = log.request(4);
    log.grow_to(30);
    let to_30 = log.request(4);
    let (a, b) = tokio::join!(add(server.addr, &to_10), add(server.addr, &to_30));
    // Exactly one wins; the other is told the new size.
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let latest = if a.status == 200 { 10 } else { 30 };
    let loser = if a.status == 409 { &a } else { &b };
    assert_eq!(loser.body, format!("{latest}\n"));
}

#[tokio::test]
async fn a_new_witness_checks_first_checkpoints_too() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("witness.json");
    let (log_key, _) = keys();
    let server = start(&state).await;
    let mut log = Log::new(&log_key, "leaf");
    log.grow_to(5);
    // "The proof MUST be empty if the old size is zero."
    let mut request = AddCheckpointRequest::parse(&log.request(0)).unwrap();
    request.proof.push(leaf_hash(b"extra"));
    assert_eq!(add(server.addr, &request.to_body()).await.status, 422);
    // A size-0 checkpoint must carry the empty tree's root.
    let empty = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: sign_checkpoint(ORIGIN, 0, leaf_hash(b"not empty"), &log_key).unwrap(),
    };
    assert_eq!(add(server.addr, &empty.to_body()).await.status, 422);
    // Nothing was cosigned, so nothing was written and no evidence kept.
    assert!(!state.exists());
    assert!(evidence_files(&state).is_empty());
}

#[test]
fn open_refuses_bad_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let (log_key, witness_key) = keys();
    let config = |signer: &Signer, logs: Vec<LogConfig>| WitnessConfig {
        signer: signer.clone(),
        logs,
        state_path: dir.path().join("w.json"),
    };
    let log = |verifiers: Vec<Verifier>| LogConfig { origin: ORIGIN.into(), verifiers };
    // A log key cannot cosign.
    assert!(Witness::open(config(&log_key, vec![log(vec![log_key.verifier()])])).is_err());
    // A cosigner key is not a log key.
    assert!(Witness::open(config(&witness_key, vec![log(vec![witness_key.verifier()])])).is_err());
    // No keys, duplicate keys, duplicate origins.
    assert!(Witness::open(config(&witness_key, vec![log(vec![])])).is_err());
    assert!(Witness::open(config(&witness_key, vec![log(vec![log_key.verifier(), log_key.verifier()])])).is_err());
    assert!(
        Witness::open(config(&witness_key, vec![log(vec![log_key.verifier()]), log(vec![log_key.verifier()])]))
            .is_err()
    );
    // A corrupt state file stops the witness instead of resetting it.
    std::fs::write(dir.path().join("w.json"), b"garbage").unwrap();
    assert!(Witness::open(config(&witness_key, vec![log(vec![log_key.verifier()])])).is_err());
}
