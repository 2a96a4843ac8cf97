//! The `homeward` binary as a user runs it: real files, a real SQLite
//! database, a real server on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env_remove("HOMEWARD_HSTS")
            .env("HOMEWARD_DATA_DIR", self.dir.path().join("data"))
            .env("HOMEWARD_LOG", "info");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn init(&self) {
        let setup = repo_file("docs/examples/conflict.toml");
        self.ok(&["init", "--setup", setup.to_str().unwrap()]);
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

#[test]
fn every_command_has_help_with_examples() {
    let env = Env::new();
    for args in [
        &["--help"][..],
        &["init", "--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["person", "add", "--help"],
        &["person", "show", "--help"],
        &["person", "list", "--help"],
        &["status", "add", "--help"],
        &["import", "persons", "--help"],
        &["export", "persons", "--help"],
        &["demo", "--help"],
        &["config", "example", "--help"],
        &["log", "verify", "--help"],
        &["keys", "status", "--help"],
        &["keys", "rotate", "--help"],
        &["log", "public-key", "--help"],
        &["log", "sequence", "--help"],
        &["log", "checkpoint", "--help"],
        &["log", "reveal", "--help"],
        &["log", "check-reveal", "--help"],
        &["witness", "serve", "--help"],
        &["witness", "key", "--help"],
    ] {
        let help = env.ok(args);
        assert!(help.contains("Examples:"), "{args:?} has no examples:\n{help}");
    }
}

#[test]
fn init_import_list_show_status_and_export() {
    let env = Env::new();
    env.init();
    assert!(env.dir.path().join("data/homeward.db").exists());
    let example = repo_file("docs/examples/persons.csv");
    let out = env.ok(&["import", "persons", example.to_str().unwrap(), "--source", "A"]);
    assert!(out.contains("3 new persons"), "{out}");
    let out = env.ok(&["import", "persons", example.to_str().unwrap(), "--source", "A"]);
    assert!(out.contains("0 new persons, 0 amended, 3 unchanged"), "{out}");

    let list = env.ok(&["person", "list", "--status", "held"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 1, "{list}");
    assert!(lines[0].contains("Kovalenko Aleksandr"), "{list}");
    let id = lines[0].split_whitespace().next().unwrap().to_owned();

    // Nominated needs held first: allowed. Then repatriated: refused, with the reason.
    env.ok(&["status", "add", &id, "nominated", "--reported-by", "A"]);
    let refused = env.run(&["status", "add", &id, "repatriated", "--reported-by", "A"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("`repatriated` cannot follow `nominated`"), "{err}");
    assert!(err.contains("repatriation follows a handover"), "{err}");

    let show = env.ok(&["person", "show", &id]);
    assert!(show.contains("identity from A record A-0002 (version 1"), "{show}");
    assert!(show.contains("nominated"), "{show}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["person", "show", &id, "--json"])).unwrap();
    assert_eq!(json["timeline"].as_array().unwrap().len(), 2);

    let unknown = env.run(&["person", "show", "0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f"]);
    assert!(!unknown.status.success());

    let csv = env.ok(&["export", "persons", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("source,record_id,family_name"), "{csv}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["export", "persons", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
}

/// Finding 10e of the review (issue 20): the command line refuses what the
/// API and the import refuse, a date in the future and control characters.
#[test]
fn the_command_line_refuses_future_dates_and_control_characters() {
    let env = Env::new();
    env.init();
    let id = env
        .ok(&[
            "person",
            "add",
            "--family-name",
            "Мельник",
            "--given-names",
            "Іван",
            "--power",
            "A",
            "--category",
            "military",
            "--status",
            "held",
            "--source",
            "A",
        ])
        .trim()
        .to_owned();
    for (args, flag) in [
        (vec!["status", "add", &id, "held", "--reported-by", "A", "--date", "2090-01-01"], "--date: in the future"),
        (
            vec!["status", "add", &id, "held", "--reported-by", "A", "--place", "Camp\u{1}3"],
            "--place: contains control",
        ),
        (
            vec![
                "person",
                "add",
                "--family-name",
                "Мельник",
                "--given-names",
                "Іван",
                "--power",
                "A",
                "--category",
                "military",
                "--status",
                "held",
                "--source",
                "A",
                "--status-date",
                "2090",
            ],
            "--status-date: in the future",
        ),
        (
            vec![
                "person",
                "add",
                "--family-name",
                "Мельник",
                "--given-names",
                "Іван",
                "--power",
                "A",
                "--category",
                "military",
                "--status",
                "held",
                "--source",
                "A",
                "--birth-date",
                "2091-02",
            ],
            "--birth-date: in the future",
        ),
    ] {
        let out = env.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(flag), "{args:?}: {err}");
    }
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["person", "show", &id, "--json"])).unwrap();
    assert_eq!(json["timeline"].as_array().unwrap().len(), 1, "nothing recorded");
    assert_eq!(env.ok(&["person", "list"]).lines().count(), 1, "nothing registered");
}

#[test]
fn a_bad_file_names_file_line_and_field_and_changes_nothing() {
    let env = Env::new();
    env.init();
    let path = env.write(
        "bad.csv",
        "record_id,family_name,given_names,birth_date,power,category,status\n\
         A-1,Коваленко,Олександр,31.02.1998,B,military,held\n\
         A-2,Шевченко,Тарас,,ZZ,military,held\n\
         A-3,Бондар,Іван,,B,military,repatriated\n\
         A-4,Good,Row,,B,military,held\n",
    );
    let report = env.dir.path().join("rejected.csv");
    let out = env.run(&["import", "persons", &path, "--source", "A", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{path}:2: birth_date: day does not exist")), "{err}");
    assert!(err.contains(&format!("{path}:3: power: unknown party code ZZ")), "{err}");
    assert!(err.contains(&format!("{path}:4: status:")), "{err}");
    assert!(err.contains("nothing imported: 3 of 4 rows rejected"), "{err}");
    assert!(!err.contains("Коваленко") && !err.contains("31.02.1998"), "personal values leaked: {err}");
    let report = std::fs::read_to_string(report).unwrap();
    assert_eq!(report.lines().count(), 4, "{report}");
    assert_eq!(env.ok(&["person", "list"]), "", "nothing landed");
}

#[test]
fn settings_file_and_bad_settings() {
    let env = Env::new();
    let example = env.ok(&["config", "example"]);
    assert!(example.contains("data_dir = \"data\""));
    env.write("homeward.toml", "data_directory = \"x\"\n");
    let out = env.cmd().env_remove("HOMEWARD_DATA_DIR").args(["migrate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("homeward.toml: invalid settings"));
    env.write("homeward.toml", "data_dir = \"elsewhere\"\n");
    let out = env.cmd().env_remove("HOMEWARD_DATA_DIR").args(["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.dir.path().join("elsewhere/homeward.db").exists());
}

/// `homeward ARGS` as `env.cmd()` runs it, under `umask 000`: a mode that
/// comes out private was set by homeward, not granted by the umask.
#[cfg(unix)]
fn with_umask_000(env: &Env) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "umask 000 && exec \"$0\" \"$@\"", BIN])
        .current_dir(env.dir.path())
        .env_remove("HOMEWARD_DATABASE_URL")
        .env_remove("HOMEWARD_CONFIG")
        .env_remove("HOMEWARD_HSTS")
        .env("HOMEWARD_DATA_DIR", env.dir.path().join("data"))
        .env("HOMEWARD_LOG", "info");
    c
}

/// Every folder and file under `dir` with its mode, folders first.
#[cfg(unix)]
fn modes(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        out.push((entry.path(), meta.is_dir(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            out.extend(modes(&entry.path()));
        }
    }
    out
}

/// Finding 4 of the review (issue 20): homeward.db, homeward-access.db and
/// their -wal/-shm files were created 0644. The data folder is made 0700
/// and every file in it 0600, whatever the umask, and a folder others can
/// read is refused with the command that fixes it.
#[cfg(unix)]
#[test]
fn the_data_folder_and_its_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let data = env.dir.path().join("data");
    let run = |args: &[&str]| {
        let out = with_umask_000(&env).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["init", "--setup", repo_file("docs/examples/conflict.toml").to_str().unwrap()]);
    run(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let mut add = with_umask_000(&env)
        .args(["user", "add", "officer-a", "--role", "party_officer", "--party", "A", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    assert!(add.wait().unwrap().success());
    let out = with_umask_000(&env).args(["user", "token", "officer-a", "--name", "modes"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // A running server, with its WAL files open, and an upload spooled.
    let (server, addr) = start_cmd(with_umask_000(&env), &["serve", "--listen", "127.0.0.1:0"]);
    let csv = "record_id,family_name,given_names,power,category,status\nM-1,Мельник,Іван,A,military,held\n";
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/v1/imports/persons HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{csv}",
        csv.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let found = modes(&data);
    drop(server);
    let names: Vec<String> =
        found.iter().map(|(p, _, _)| p.strip_prefix(&data).unwrap().display().to_string()).collect();
    for f in [
        "homeward.db",
        "homeward.db-wal",
        "homeward.db-shm",
        "homeward-access.db",
        "homeward-access.db-wal",
        "field-keys",
        "imports",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} is in the data folder: {names:?}");
    }
    let loose: Vec<String> = found
        .iter()
        .filter(|(_, dir, mode)| *mode != if *dir { 0o700 } else { 0o600 })
        .map(|(p, dir, mode)| format!("{} ({}) {mode:o}", p.display(), if *dir { "folder" } else { "file" }))
        .collect();
    assert!(loose.is_empty(), "readable by others: {loose:?}");
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);

    // A data folder others can read is refused, with the fix.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [&["person", "list"][..], &["serve", "--listen", "127.0.0.1:0"]] {
        let mut child = env.cmd().args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert!(status.is_some_and(|s| !s.success()), "{args:?} runs on an open folder: {err}");
        assert!(err.contains(&format!("run `chmod 700 {}`", data.display())), "{args:?}: {err}");
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    env.ok(&["person", "list"]);
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(env: &Env, args: &[&str]) -> (Server, String) {
    start_cmd(env.cmd(), args)
}

fn start_cmd(mut cmd: Command, args: &[&str]) -> (Server, String) {
    let mut child = cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split('/').next().unwrap().to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (server, addr);
        }
    }
    panic!("the server printed no URL");
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// The head of a GET's answer, lower-cased.
fn head(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n").map_or(resp.as_str(), |(h, _)| h).to_lowercase()
}

/// Finding 10f of the review (issue 20): a deployment behind TLS could not
/// send HSTS. `hsts = true` (homeward.toml), `HOMEWARD_HSTS` or `--hsts`
/// adds it to every answer; off by default; a variable wins over the file.
#[test]
fn hsts_is_a_setting_off_by_default() {
    let env = Env::new();
    env.init();
    let hsts = "strict-transport-security: max-age=31536000";
    assert!(env.ok(&["config", "example"]).contains("\nhsts = false\n"), "documented with its default");
    let (server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!head(&addr, "/healthz").contains("strict-transport-security"), "off by default");
    drop(server);
    let (server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0", "--hsts"]);
    for path in ["/healthz", "/login", "/api/v1/persons", "/no/such/page"] {
        assert!(head(&addr, path).contains(hsts), "--hsts: {path}");
    }
    drop(server);
    let config = env.write("hsts.toml", "hsts = true\n");
    let (server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0", "--config", &config]);
    assert!(head(&addr, "/healthz").contains(hsts), "hsts = true in the file");
    drop(server);
    let mut cmd = env.cmd();
    cmd.env("HOMEWARD_HSTS", "false");
    let (_server, addr) = start_cmd(cmd, &["serve", "--listen", "127.0.0.1:0", "--config", &config]);
    assert!(!head(&addr, "/healthz").contains("strict-transport-security"), "the variable wins over the file");
    let mut cmd = env.cmd();
    cmd.env("HOMEWARD_HSTS", "true");
    let (_server, addr) = start_cmd(cmd, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(head(&addr, "/healthz").contains(hsts), "HOMEWARD_HSTS=true");
}

#[test]
fn serve_answers_health_readiness_version_and_counts() {
    let env = Env::new();
    env.init();
    env.ok(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let (_server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(get(&addr, "/healthz"), (200, "ok".into()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready".into()));
    let (status, body) = get(&addr, "/version");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["storage"], "sqlite");
    let (status, body) = get(&addr, "/api/v1/stats");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["persons"], 3);
    assert_eq!(v["by_status"]["held"], 1);
    assert!(!body.contains("Коваленко"));
    assert_eq!(get(&addr, "/nothing-here").0, 404);
}

#[test]
fn demo_loads_histories_with_the_june_19_exchange_and_serves() {
    let env = Env::new();
    let (_server, addr) = start(&env, &["demo", "--persons", "400", "--listen", "127.0.0.1:0"]);
    let (status, body) = get(&addr, "/api/v1/stats");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["persons"], 400, "{body}");
    assert!(
        v["by_status"]["repatriated"].as_u64().unwrap_or(0) + v["by_status"]["family_contacted"].as_u64().unwrap_or(0)
            > 0,
        "{body}"
    );
    drop(_server);
    let list = env.ok(&["person", "list", "--status", "repatriated", "--limit", "1000"]);
    let id = list.lines().next().expect("some repatriated").split_whitespace().next().unwrap().to_owned();
    let show = env.ok(&["person", "show", &id]);
    assert!(show.contains("handed_over"), "{show}");
    let exported = env.ok(&["export", "persons", "--format", "json"]);
    assert!(exported.contains("2026-06-19"), "the June 19 exchange is in the data");
    let verified = env.ok(&["log", "verify"]);
    assert!(verified.starts_with("log verified: "), "every demo change is in the log: {verified}");
    // The demo family member has two tracing requests, for the pages to show.
    let db = rusqlite::Connection::open(env.dir.path().join("data/homeward.db")).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM tracing_request", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
}

fn get_bytes(addr: &str, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = resp[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[test]
fn the_log_verifies_reveals_and_names_an_edited_row() {
    let env = Env::new();
    env.init();
    env.ok(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let out = env.ok(&["log", "verify"]);
    assert!(out.contains("log verified: 7 leaves, 0 waiting, 7 records, 2 checkpoints"), "{out}");
    let key = env.ok(&["log", "public-key"]);
    assert!(key.starts_with("homeward.log/"), "{key}");
    let checkpoint = env.ok(&["log", "checkpoint"]);
    assert!(checkpoint.contains("\n7\n"), "{checkpoint}");
    let saved = env.write("checkpoint.txt", &checkpoint);

    // Reveal a status event and check it with only the public key.
    let list = env.ok(&["person", "list", "--status", "held"]);
    let id = list.split_whitespace().next().unwrap().to_owned();
    let bundle = env.dir.path().join("reveal.json");
    env.ok(&["log", "reveal", &format!("person/{id}/status/1"), "--out", bundle.to_str().unwrap()]);
    let other = Env::new();
    let ok = other.ok(&["log", "check-reveal", bundle.to_str().unwrap(), "--key", key.trim()]);
    assert!(ok.starts_with("valid: record person/"), "{ok}");
    let text = std::fs::read_to_string(&bundle).unwrap().replace("\"held\"", "\"released\"");
    let forged = other.write("forged.json", &text);
    let out = other.run(&["log", "check-reveal", &forged, "--key", key.trim()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the content was changed"));

    // Someone edits the database directly.
    let db = rusqlite::Connection::open(env.dir.path().join("data/homeward.db")).unwrap();
    db.execute("UPDATE identity_version SET birth_date = '1999' WHERE record_id = 'A-0003'", []).unwrap();
    drop(db);
    let out = env.run(&["log", "verify", "--against", &saved]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("DIFFERS: record identity/") && stdout.contains("it was edited"), "{stdout}");
    assert!(stdout.contains("LOG DOES NOT VERIFY"), "{stdout}");
    assert!(!stdout.contains("Сидоренко"), "no personal data in the report: {stdout}");
}

#[test]
fn the_server_publishes_checkpoints_tiles_and_proofs() {
    use base64::Engine as _;
    let env = Env::new();
    env.init();
    env.ok(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let key = homeward_tlog::Verifier::parse(env.ok(&["log", "public-key"]).trim()).unwrap();
    let (_server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0"]);
    let (status, note) = get(&addr, "/log/checkpoint");
    assert_eq!(status, 200);
    let (cp, _) = homeward_tlog::open_checkpoint(&note, key.name(), std::slice::from_ref(&key)).unwrap();
    assert_eq!(cp.size, 7);
    // The level-0 partial tile: 7 leaf hashes; the entry bundle: 7 leaves.
    let (status, tile) = get_bytes(&addr, "/log/tile/0/000.p/7");
    assert_eq!(status, 200);
    let hashes: Vec<homeward_tlog::Hash> =
        tile.chunks(32).map(|c| homeward_tlog::Hash::from_slice(c).unwrap()).collect();
    assert_eq!(hashes.len(), 7);
    assert_eq!(homeward_tlog::root_from_leaf_hashes(&hashes), cp.root, "the tile's leaves give the signed root");
    let (status, bundle) = get_bytes(&addr, "/log/tile/entries/000.p/7");
    assert_eq!(status, 200);
    let leaves = homeward_tlog::decode_entry_bundle(&bundle).unwrap();
    assert_eq!(leaves.len(), 7);
    for (leaf, hash) in leaves.iter().zip(&hashes) {
        assert_eq!(homeward_tlog::leaf_hash(leaf), *hash);
        assert!(!String::from_utf8_lossy(leaf).contains("Коваленко"), "leaves hold no names");
    }
    assert_eq!(get_bytes(&addr, "/log/tile/0/000.p/8").0, 404, "nothing beyond the published tree");
    assert_eq!(get_bytes(&addr, "/log/tile/0/000").0, 404);
    assert_eq!(get_bytes(&addr, "/log/tile/0/0").0, 404, "only canonical paths");
    // JSON proofs.
    let (status, body) = get(&addr, "/api/v1/log/proof/inclusion?index=3&size=7");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let proof: Vec<homeward_tlog::Hash> = v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            homeward_tlog::Hash::from_slice(
                &base64::engine::general_purpose::STANDARD.decode(h.as_str().unwrap()).unwrap(),
            )
            .unwrap()
        })
        .collect();
    homeward_tlog::verify_inclusion(&hashes[3], 3, 7, &proof, &cp.root).unwrap();
    let (status, body) = get(&addr, "/api/v1/log/proof/consistency?old=4&new=7");
    assert_eq!(status, 200);
    assert!(body.contains("\"proof\""), "{body}");
    assert_eq!(get(&addr, "/api/v1/log/proof/inclusion?index=9&size=7").0, 400);
    assert_eq!(get(&addr, "/api/v1/log/proof/inclusion?index=x").0, 400);
    let (status, body) = get(&addr, "/api/v1/log/public-key");
    assert_eq!((status, body.trim()), (200, key.to_key_string().as_str()));
}

#[test]
fn witnesses_cosign_and_a_required_one_gates_publication() {
    let env = Env::new();
    env.init();
    let log_key = env.ok(&["log", "public-key"]).trim().to_owned();
    let mut witnesses = Vec::new();
    for name in ["witness.party-a.test", "witness.party-b.test"] {
        let key_file = env.dir.path().join(format!("{name}.wkey"));
        let vkey = env.ok(&["witness", "key", "--name", name, "--out", key_file.to_str().unwrap()]).trim().to_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let state = env.dir.path().join(format!("{name}.state.json"));
        let (server, addr) = start(
            &env,
            &[
                "witness",
                "serve",
                "--key",
                key_file.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
                "--log-key",
                &log_key,
                "--listen",
                "127.0.0.1:0",
            ],
        );
        witnesses.push((name, vkey, server, addr, state));
    }
    let mut toml = String::new();
    for (name, vkey, _, addr, _) in &witnesses {
        toml.push_str(&format!(
            "[[witnesses]]\nname = \"{name}\"\nurl = \"http://{addr}\"\nkey = \"{vkey}\"\nrequired = true\n\n"
        ));
    }
    env.write("homeward.toml", &toml);

    env.ok(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let note = env.ok(&["log", "checkpoint"]);
    let verifiers: Vec<homeward_tlog::Verifier> =
        witnesses.iter().map(|w| homeward_tlog::Verifier::parse(&w.1).unwrap()).collect();
    let opened = homeward_tlog::open_note(&note, &verifiers).unwrap();
    assert_eq!(opened.verified.len(), 2, "both witnesses cosigned: {note}");
    assert!(note.contains("\n7\n"));
    // The witnesses remember what they cosigned.
    for w in &witnesses {
        assert!(
            std::fs::read_to_string(&w.4).unwrap().contains("\"size\": 7")
                || std::fs::read_to_string(&w.4).unwrap().contains("\"size\":7")
        );
    }

    // Party B's witness goes away: new changes are sequenced but not published.
    let (_, _, server_b, _, _) = witnesses.pop().unwrap();
    drop(server_b);
    let list = env.ok(&["person", "list", "--status", "held"]);
    let id = list.split_whitespace().next().unwrap().to_owned();
    env.ok(&["status", "add", &id, "hospitalised", "--reported-by", "A"]);
    let note = env.ok(&["log", "checkpoint"]);
    assert!(note.contains("\n7\n"), "still the checkpoint both witnesses signed: {note}");
    // Verification asks every witness what it cosigned: with B gone, nothing
    // proves that B's copy of the history matches, and verify says so.
    let out = env.run(&["log", "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("witness witness.party-b.test could not be asked"), "{text}");
    // Without asking, the database alone verifies; the stored checkpoint
    // carries both required cosignatures.
    let out = env.ok(&["log", "verify", "--no-witnesses"]);
    assert!(out.contains("log verified: 8 leaves") && out.contains("0 witnesses asked"), "{out}");

    // Issue 20, finding 7: a server whose required witness does not cosign
    // keeps the writes but is not ready, and says why (before: a warning
    // on stderr, and ready).
    let (_server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = get(&addr, "/readyz");
    while last.0 == 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        last = get(&addr, "/readyz");
    }
    assert_eq!(last.0, 503, "{last:?}");
    assert!(
        last.1.contains("log not published")
            && last.1.contains("witness.party-b.test")
            && last.1.contains("did not cosign the checkpoint of 8 leaves"),
        "{last:?}"
    );
    assert_eq!(get(&addr, "/healthz").0, 200, "alive, not ready");
}

/// Issue 20, finding 8: `log verify` (or any command but `init`/`demo`)
/// made a new log key when the file was missing, then called every
/// checkpoint unverifiable. Now it refuses, and makes nothing.
#[test]
fn no_command_but_init_makes_a_log_key() {
    let env = Env::new();
    env.init();
    let key = env.dir.path().join("data").join("log-signing.key");
    std::fs::remove_file(&key).unwrap();
    for args in
        [&["log", "verify"][..], &["log", "public-key"], &["log", "checkpoint"], &["serve", "--listen", "127.0.0.1:0"]]
    {
        let out = env.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains("there is no log signing key") && err.contains("restore the file from your backup"),
            "{err}"
        );
        assert!(!key.exists(), "{args:?} made a key");
    }
    // Nor does `init`, over a log whose checkpoints the lost key signed.
    let out = env.run(&["init"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("holds checkpoints signed with one"), "{err}");
    assert!(!key.exists());
}
