//! `homeward keys`: contact fields are sealed in the SQLite file, `keys
//! rotate` re-encrypts them with a new key, and the shared log still
//! verifies; the keyring file is guarded like the log key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

const CSV: &str = "record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,\
service_number,unit,power,category,person_to_inform,correspondence_address,status,status_date,status_place
K-1,Коваленко,Олександр,,,1998-03-07,,,,,B,military,\"Олена Коваленко, +380441234567\",\"вул. Хрещатик 1, Київ\",captured,2026-05-02,
K-2,Шевченко,Іван,,,1991,,,,,B,civilian,Марія Шевченко,\"Львів, пл. Ринок 5\",missing,2026-04,
";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .current_dir(self.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env("HOMEWARD_DATA_DIR", self.data())
            .env("HOMEWARD_LOG", "warn")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn err(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// The raw contact columns, read from the file as anyone with a copy of it could.
    fn raw_contacts(&self) -> Vec<(String, String)> {
        let db = rusqlite::Connection::open(self.data().join("homeward.db")).unwrap();
        let mut st = db
            .prepare("SELECT person_to_inform, correspondence_address FROM identity_version ORDER BY record_id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keys_rotate_reencrypts_contacts_and_the_log_still_verifies() {
    let env = Env::new();
    let out = env.ok(&["init", "--setup", repo_file("docs/examples/conflict.toml").to_str().unwrap()]);
    assert!(out.contains("field-keys"), "init names the keyring: {out}");
    let keyring = env.data().join("field-keys");
    assert_eq!(mode(&keyring), 0o600);
    let csv = env.dir.path().join("contacts.csv");
    std::fs::write(&csv, CSV).unwrap();
    env.ok(&["import", "persons", csv.to_str().unwrap(), "--source", "A"]);

    let before = env.raw_contacts();
    assert_eq!(before.len(), 2);
    for (a, b) in &before {
        assert!(a.starts_with("hw1:1:") && b.starts_with("hw1:1:"), "{a} {b}");
        assert!(!a.contains("Олена") && !b.contains("Хрещатик") && !a.contains("Марія"));
    }
    let exported = env.ok(&["export", "persons", "--format", "json"]);
    assert!(exported.contains("+380441234567") && exported.contains("Хрещатик"), "export gives plaintext");
    let status = env.ok(&["keys", "status"]);
    assert!(status.contains("  1  4  (current)"), "{status}");
    env.ok(&["log", "sequence"]);
    env.ok(&["log", "verify"]);

    let out = env.ok(&["keys", "rotate", "--batch", "1"]);
    assert!(out.contains("added key 2") && out.contains("re-encrypted 4 values with key 2"), "{out}");
    assert!(out.contains("  1  0") && out.contains("  2  4  (current)"), "{out}");
    assert_eq!(mode(&keyring), 0o600, "the rewritten keyring stays private");
    let after = env.raw_contacts();
    for ((a0, b0), (a1, b1)) in before.iter().zip(&after) {
        assert!(a1.starts_with("hw1:2:") && b1.starts_with("hw1:2:"));
        assert_ne!(a0, a1);
        assert_ne!(b0, b1);
    }
    let verified = env.ok(&["log", "verify"]);
    assert!(!verified.contains("DIFFERS"), "{verified}");
    assert_eq!(env.ok(&["export", "persons", "--format", "json"]), exported, "the same plaintext after rotation");

    // Retiring: key 1 seals nothing any more.
    let out = env.ok(&["keys", "rotate", "--retire-unused"]);
    assert!(out.contains("retired keys that seal nothing: [1, 2]"), "{out}");
    let status = env.ok(&["keys", "status"]);
    assert!(status.contains("  3  4  (current)") && !status.contains("  1  "), "{status}");
    env.ok(&["log", "verify"]);
}

#[test]
fn an_exposed_or_missing_keyring_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.ok(&["init", "--setup", repo_file("docs/examples/conflict.toml").to_str().unwrap()]);
    let csv = env.dir.path().join("contacts.csv");
    std::fs::write(&csv, CSV).unwrap();
    env.ok(&["import", "persons", csv.to_str().unwrap(), "--source", "A"]);
    let keyring = env.data().join("field-keys");

    std::fs::set_permissions(&keyring, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = env.err(&["person", "list"]);
    assert!(err.contains("readable by others"), "{err}");
    std::fs::set_permissions(&keyring, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Without the keyring the sealed values are lost: no new keyring is made over them.
    std::fs::rename(&keyring, env.dir.path().join("backup-keys")).unwrap();
    let err = env.err(&["person", "list"]);
    assert!(err.contains("is missing") && err.contains("4 sealed contact values"), "{err}");
    assert!(!keyring.exists());
}

/// The identity fingerprint is keyed: `fingerprint.key` beside the keyring
/// (0600, never in the database). Fingerprints an older homeward left
/// unkeyed are re-keyed when a command opens the database, and a re-import
/// still finds the rows unchanged; a lost key is refused, not replaced.
#[test]
fn fingerprints_are_keyed_with_a_file_beside_the_keyring() {
    let env = Env::new();
    env.ok(&["init", "--setup", repo_file("docs/examples/conflict.toml").to_str().unwrap()]);
    let key = env.data().join("fingerprint.key");
    assert_eq!(mode(&key), 0o600);
    let key_text = std::fs::read_to_string(&key).unwrap();
    let csv = env.dir.path().join("contacts.csv");
    std::fs::write(&csv, CSV).unwrap();
    let csv = csv.to_str().unwrap();
    env.ok(&["import", "persons", csv, "--source", "A"]);
    let raw = |sql: &str| -> Vec<(Vec<u8>, i64)> {
        let db = rusqlite::Connection::open(env.data().join("homeward.db")).unwrap();
        let mut st = db.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let keyed = raw("SELECT fingerprint, fingerprint_scheme FROM identity_version ORDER BY record_id");
    assert!(keyed.iter().all(|(fp, scheme)| fp.len() == 32 && *scheme == 1), "HMAC, scheme 1");
    let out = env.ok(&["import", "persons", csv, "--source", "A"]);
    assert!(out.contains("0 amended, 2 unchanged"), "{out}");

    // As an older homeward left them: unkeyed (here: unknown) hashes, scheme 0.
    let db = rusqlite::Connection::open(env.data().join("homeward.db")).unwrap();
    db.execute("UPDATE identity_version SET fingerprint = zeroblob(32), fingerprint_scheme = 0", []).unwrap();
    drop(db);
    env.ok(&["person", "list"]);
    let rekeyed = raw("SELECT fingerprint, fingerprint_scheme FROM identity_version ORDER BY record_id");
    assert_eq!(rekeyed, keyed, "re-keyed from the stored identity when the database was opened");
    let out = env.ok(&["import", "persons", csv, "--source", "A"]);
    assert!(out.contains("0 amended, 2 unchanged"), "{out}");

    // Rotation changes the field keys, never the fingerprint key.
    env.ok(&["keys", "rotate"]);
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);
    let out = env.ok(&["import", "persons", csv, "--source", "A"]);
    assert!(out.contains("0 amended, 2 unchanged"), "{out}");

    // A lost key is not silently replaced: every row would look changed.
    std::fs::rename(&key, env.dir.path().join("backup-fingerprint.key")).unwrap();
    let err = env.err(&["person", "list"]);
    assert!(err.contains("fingerprint key") && err.contains("is missing") && err.contains("2 keyed"), "{err}");
    assert!(!key.exists(), "no new key is left over the old fingerprints");
    std::fs::rename(env.dir.path().join("backup-fingerprint.key"), &key).unwrap();
    env.ok(&["person", "list"]);
}

/// A plain HTTP/1.0 request (no chunked answer) with a bearer token.
fn http(addr: &str, method: &str, path: &str, token: &str, json: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let body = json.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

/// Ends the server when the test ends, however it ends: our own child, by its handle.
struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server started before `homeward keys rotate` ran in another process
/// opens the values the new key sealed (it reads the keyring file again on
/// meeting an unknown key id) and seals new values with the new key (it
/// notices the file changed).
#[test]
fn a_running_server_follows_a_rotation_done_by_another_process() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let env = Env::new();
    env.ok(&["init", "--setup", repo_file("docs/examples/conflict.toml").to_str().unwrap()]);
    let csv = env.dir.path().join("contacts.csv");
    std::fs::write(&csv, CSV).unwrap();
    env.ok(&["import", "persons", csv.to_str().unwrap(), "--source", "A"]);
    let cmd = |args: &[&str]| {
        let mut c = Command::new(BIN);
        c.current_dir(env.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env("HOMEWARD_DATA_DIR", env.data())
            .env("HOMEWARD_LOG", "warn")
            .args(args);
        c
    };
    let mut add = cmd(&["user", "add", "officer-a", "--role", "party_officer", "--party", "A", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    assert!(add.wait().unwrap().success());
    let token = env.ok(&["user", "token", "officer-a", "--name", "rotation test"]).trim().to_owned();

    let mut child =
        cmd(&["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines.next().expect("the server prints its URL").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let (status, list) = http(&addr, "GET", "/api/v1/persons", &token, None);
    assert_eq!(status, 200, "{list}");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let ids: Vec<String> =
        list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 2);
    let contacts = |addr: &str| -> String {
        ids.iter()
            .map(|id| {
                let (status, body) = http(addr, "GET", &format!("/api/v1/persons/{id}"), &token, None);
                assert_eq!(status, 200, "the server opens every contact: {body}");
                body
            })
            .collect()
    };
    assert!(contacts(&addr).contains("+380441234567"));

    // Another process rotates: every value is now sealed with key 2 only.
    let out = env.ok(&["keys", "rotate", "--retire-unused"]);
    assert!(out.contains("re-encrypted 4 values with key 2"), "{out}");
    assert!(env.raw_contacts().iter().all(|(a, b)| a.starts_with("hw1:2:") && b.starts_with("hw1:2:")));
    let after = contacts(&addr);
    assert!(after.contains("+380441234567") && after.contains("Хрещатик"), "{after}");

    // New values: sealed with key 2 once the server has seen the file change.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new = r#"{"record_id": "K-3", "identity": {"family_name": "Мельник", "given_names": "Іван", "power": "B",
        "category": "military", "person_to_inform": "Ганна Мельник", "correspondence_address": "Полтава"},
        "status": {"status": "captured", "occurred_on": "2026-05"}}"#;
    let (status, body) = http(&addr, "POST", "/api/v1/persons", &token, Some(new));
    assert_eq!(status, 201, "{body}");
    let raw = env.raw_contacts();
    assert_eq!(raw.len(), 3);
    assert!(raw.iter().all(|(a, b)| a.starts_with("hw1:2:") && b.starts_with("hw1:2:")), "{raw:?}");
    let status = env.ok(&["keys", "status"]);
    assert!(status.contains("  2  6  (current)"), "{status}");
}
