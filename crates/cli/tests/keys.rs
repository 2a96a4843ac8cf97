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

